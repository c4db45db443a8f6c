"""Accounts for end-to-end tests: a user of a given role (who signs in with `PASSWORD`), and
the bearer header of a token of theirs."""

from __future__ import annotations

import uuid

from flask import Flask

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.users import Principal
from voucher_app.services import users
from voucher_app.services.users import NewUser
from voucher_app.wiring import current

PASSWORD = "correct horse battery staple"
ADMIN = Actor("test-admin", Role.ADMIN)


def account(
    app: Flask,
    role: Role,
    *,
    center: str | None = None,
    sme: str | None = None,
    provider: uuid.UUID | None = None,
) -> Principal:
    """Create an active user of `role` bound as given, whose password is `PASSWORD`."""
    name = f"{role.value}-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        parts = current()
        uow = parts.uow()
        spec = NewUser(name, PASSWORD, role, center=center, sme=sme, provider=provider)
        view = users.create_user(uow, spec, parts.hasher, ADMIN)
        principal = users.principal_for_session(uow, view.id)
    assert principal is not None
    return principal


def bearer(
    app: Flask,
    role: Role,
    *,
    center: str | None = None,
    sme: str | None = None,
    provider: uuid.UUID | None = None,
    scopes: frozenset[str] = frozenset({"read", "write"}),
) -> dict[str, str]:
    """Create a user of `role` bound as given, and return the header of a new token of theirs."""
    principal = account(app, role, center=center, sme=sme, provider=provider)
    with app.app_context():
        secret, _ = users.issue_token(current().uow(), principal, "tests", scopes=scopes)
    return {"Authorization": f"Bearer {secret}"}
