"""Signing in and out on the pages: the same accounts, password rules and lockout as the API
(`services.users.log_in`), kept in the Flask-Login session."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from voucher_app.domain.errors import NotAuthenticated
from voucher_app.domain.policy import Action
from voucher_app.domain.users import MAX_PASSWORD, Principal
from voucher_app.http.auth import SessionUser
from voucher_app.services import users
from voucher_app.web.guard import home_of, on_this_site, page
from voucher_app.web.messages import explain
from voucher_app.wiring import current

blp = Blueprint("session", __name__)


class SignInForm(FlaskForm):  # type: ignore[misc]
    username = StringField(lazy_gettext("User name"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(
        lazy_gettext("Password"), validators=[InputRequired(), Length(max=MAX_PASSWORD)]
    )


def _safe_next(principal: Principal) -> str:
    """Where the sign-in asked to go back to (on this site only), else the account's home."""
    return on_this_site(request.args.get("next", ""), home_of(principal))


@blp.route("/sign-in", methods=["GET", "POST"])
@page(Action.READ_PUBLIC)
def sign_in() -> str | Response:
    form = SignInForm()
    if form.validate_on_submit():
        parts = current()
        try:
            principal = users.log_in(
                parts.uow(),
                form.username.data or "",
                form.password.data or "",
                parts.hasher,
                request.remote_addr,
            )
        except NotAuthenticated as refused:
            form.password.errors = [explain(refused)]
        else:
            login_user(SessionUser(principal))
            return redirect(_safe_next(principal))
    return render_template("web/sign_in.html", form=form)


@blp.post("/sign-out")
@page(Action.MANAGE_OWN_ACCOUNT)
def sign_out() -> Response:
    logout_user()
    return redirect(url_for("public.home"))
