"""Account routes: signing in and out, who am I, API tokens, users and self-registration."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_login import login_user, logout_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.paging import PageArgs, page, page_schema
from voucher_app.domain.actors import Role
from voucher_app.domain.policy import Action, Scope
from voucher_app.domain.users import MAX_PASSWORD, SCOPES, UserStatus
from voucher_app.http.auth import SessionUser, signed_in
from voucher_app.http.policy import requires, scope_by
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import access, users
from voucher_app.services.users import NewUser, TokenView, UserView
from voucher_app.wiring import current

auth = Blueprint("auth", __name__, description="Signing in, and API tokens")
people = Blueprint("users", __name__, description="Users and self-registration")

PERSON_ROLES = [role.value for role in Role if role is not Role.SYSTEM]


class LoginRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD))


class UserSchema(Schema):
    id = fields.UUID(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": PERSON_ROLES})
    status = fields.String(required=True, metadata={"enum": [s.value for s in UserStatus]})
    center = fields.String(allow_none=True)
    sme = fields.String(allow_none=True)
    provider = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)


class NewUserRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD))
    role = fields.String(required=True, validate=validate.OneOf(PERSON_ROLES))
    center = fields.String(load_default=None, validate=validate.Length(min=1, max=12))
    sme = fields.String(load_default=None, validate=validate.Length(min=1, max=18))
    provider = fields.UUID(load_default=None)


class RegisterRequest(NewUserRequest):
    role = fields.String(required=True, validate=validate.OneOf(["sme", "provider"]))


class UsersArgs(PageArgs):
    after = fields.String(  # type: ignore[assignment]
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "a user name: the `next` of the page before"},
    )


class StatusRequest(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf([s.value for s in UserStatus if s != "pending"])
    )


class TokenRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(
        fields.String(validate=validate.OneOf(sorted(SCOPES))), load_default=sorted(SCOPES)
    )
    days = fields.Integer(load_default=90, strict=True, validate=validate.Range(min=1, max=365))


class TokenSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(required=True, metadata={"description": "shown once: keep it safe"})


def _spec(body: dict[str, Any]) -> NewUser:
    return NewUser(
        body["username"],
        body["password"],
        Role(body["role"]),
        center=body["center"],
        sme=body["sme"],
        provider=body["provider"],
    )


def _me() -> UserView:
    return users.get_user(current().uow(), signed_in().user_id)


@auth.route("/login")
class Login(MethodView):
    @auth.arguments(LoginRequest)
    @auth.response(200, UserSchema)
    @requires(Action.READ_PUBLIC)
    def post(self, body: dict[str, str]) -> UserView:
        """Sign in with a password: sets the session cookie. Five failures lock the user name
        for 15 minutes; an unknown name is answered alike."""
        parts = current()
        principal = users.log_in(
            parts.uow(), body["username"], body["password"], parts.hasher, request.remote_addr
        )
        login_user(SessionUser(principal))
        return users.get_user(parts.uow(), principal.user_id)


@auth.route("/logout")
class Logout(MethodView):
    @auth.response(204)
    @requires(Action.MANAGE_OWN_ACCOUNT)
    def post(self) -> Response:
        logout_user()
        return Response(status=204)


@auth.route("/me")
class Me(MethodView):
    @auth.response(200, UserSchema)
    @requires(Action.READ_OWN_ACCOUNT)
    def get(self) -> UserView:
        """The signed-in user."""
        return _me()


@auth.route("/tokens")
class Tokens(MethodView):
    @auth.response(200, TokenSchema(many=True))
    @requires(Action.READ_OWN_ACCOUNT)
    def get(self) -> list[TokenView]:
        """Your API tokens (never their secrets)."""
        principal = signed_in()
        return users.list_tokens(current().uow(), principal)

    @auth.arguments(TokenRequest)
    @auth.response(201, NewTokenSchema)
    @requires(Action.MANAGE_OWN_ACCOUNT)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new token for your account; its secret is in this answer and nowhere else."""
        principal = signed_in()
        secret, token = users.issue_token(
            current().uow(),
            principal,
            body["name"],
            scopes=frozenset(body["scopes"]),
            days=body["days"],
        )
        return {**dataclasses.asdict(token), "token": secret}


@auth.route("/tokens/<uuid:token_id>")
class Token(MethodView):
    @auth.response(200, TokenSchema)
    @requires(Action.MANAGE_OWN_ACCOUNT)
    def delete(self, token_id: uuid.UUID) -> TokenView:
        """Revoke one of your tokens (an admin may revoke anyone's)."""
        principal = signed_in()
        return users.revoke_token(current().uow(), principal, token_id)


def _target_center(uow: UnitOfWork, values: dict[str, Any]) -> Scope:
    """A new user of a center belongs to that center; any other is the admins' to make."""
    center = values.get("center")
    return access.center_scope(uow, center) if center else Scope()


@people.route("/users")
class Users(MethodView):
    @people.arguments(UsersArgs, location="query")
    @people.response(200, page_schema(UserSchema))
    @requires(Action.ADMINISTER)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every user, by user name, a page at a time (admins)."""
        found = users.list_users(current().uow(), after=args["after"], limit=args["limit"] + 1)
        return page(found, args["limit"], lambda user: user.username)

    @people.arguments(NewUserRequest)
    @people.response(201, UserSchema)
    @requires(Action.ADMINISTER, scope=_target_center)
    def post(self, body: dict[str, Any]) -> UserView:
        """Create an active account: admins for anyone, center admins for their centers."""
        principal = signed_in()
        parts = current()
        return users.create_user(parts.uow(), _spec(body), parts.hasher, principal.actor)


@people.route("/users/<uuid:user_id>/status")
class UserStatusRoute(MethodView):
    @people.arguments(StatusRequest)
    @people.response(200, UserSchema)
    @requires(Action.REVIEW, scope=scope_by(access.user_scope, "user_id"))
    def post(self, body: dict[str, str], user_id: uuid.UUID) -> UserView:
        """Approve a registration (active) or disable an account: staff of the user's center
        (an SME's home center, a provider's center) or above."""
        principal = signed_in()
        return users.set_status(
            current().uow(), user_id, UserStatus(body["status"]), principal.actor
        )


@people.route("/register")
class Register(MethodView):
    @people.arguments(RegisterRequest)
    @people.response(201, UserSchema)
    @requires(Action.READ_PUBLIC)
    def post(self, body: dict[str, Any]) -> UserView:
        """An SME or provider registers an account; it waits for its center's approval."""
        parts = current()
        return users.register(parts.uow(), _spec(body), parts.hasher)
