"""Accounts: users bound by role, self-registration waiting for approval, sign-in with lockout,
API tokens that expire and can be revoked, and a security log of all of it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from tests import factories
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Role
from voucher_app.domain.errors import (
    AccountInactive,
    AccountLocked,
    InvalidCredentials,
    InvalidInput,
    UnknownCenter,
    UnknownToken,
    UserExists,
    WeakPassword,
)
from voucher_app.domain.users import (
    FAILURES_KEPT_FOR,
    LOCK_AFTER_FAILURES,
    LOCK_FOR,
    UserStatus,
)
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import LoginFailure, SecurityEvent, User
from voucher_app.persistence.uow import read_only
from voucher_app.services import users
from voucher_app.services.users import NewUser

ADMIN = factories.ADMIN
HASHER = users.password_hasher(memory_kib=8, time_cost=1)  # cheap: tests make many
PASSWORD = "correct horse battery staple"
STAFF = NewUser("reviewer.shenzhen", PASSWORD, Role.CENTER_STAFF, center="440300")


@pytest.fixture
def centers(uow: UnitOfWork) -> UnitOfWork:
    factories.guangdong(uow)
    return uow


@read_only
def _events(uow: UnitOfWork, username: str) -> list[str]:
    return list(
        uow.session.scalars(
            select(SecurityEvent.kind)
            .where(SecurityEvent.username == username)
            .order_by(SecurityEvent.id)
        )
    )


@read_only
def _users(uow: UnitOfWork) -> int:
    return uow.session.scalar(select(func.count()).select_from(User)) or 0


def test_a_user_is_bound_to_what_their_role_needs(centers: UnitOfWork) -> None:
    uow = centers
    staff = users.create_user(uow, STAFF, HASHER, ADMIN)
    assert (staff.role, staff.status, staff.center) == (Role.CENTER_STAFF, "active", "440300")
    sme = factories.sme(uow, 1)
    clerk = users.create_user(
        uow, NewUser("clerk", PASSWORD, Role.SME, sme=sme.uscc), HASHER, ADMIN
    )
    assert (clerk.sme, clerk.center) == (sme.uscc, None)
    provider = factories.provider(uow, 1)
    desk = users.create_user(
        uow, NewUser("desk", PASSWORD, Role.PROVIDER, provider=provider.id), HASHER, ADMIN
    )
    assert desk.provider == provider.id
    assert _events(uow, "desk") == ["user_created"]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (dataclasses.replace(STAFF, center=None), InvalidInput),
        (dataclasses.replace(STAFF, center="449999"), UnknownCenter),
        (dataclasses.replace(STAFF, password="short"), WeakPassword),
        (dataclasses.replace(STAFF, username="x"), InvalidInput),
        (dataclasses.replace(STAFF, role=Role.ADMIN), InvalidInput),  # an admin has no center
    ],
)
def test_a_bad_account_is_refused_and_nothing_is_stored(
    centers: UnitOfWork, spec: NewUser, error: type[Exception]
) -> None:
    with pytest.raises(error):
        users.create_user(centers, spec, HASHER, ADMIN)
    assert _users(centers) == 0


def test_a_user_name_is_taken_once(centers: UnitOfWork) -> None:
    users.create_user(centers, STAFF, HASHER, ADMIN)
    with pytest.raises(UserExists):
        users.create_user(
            centers, dataclasses.replace(STAFF, username="Reviewer.Shenzhen"), HASHER, ADMIN
        )
    assert _users(centers) == 1


def test_the_password_is_stored_only_as_an_argon2id_hash(centers: UnitOfWork) -> None:
    users.create_user(centers, STAFF, HASHER, ADMIN)

    @read_only
    def stored(uow: UnitOfWork) -> str:
        return uow.session.scalars(select(User.password_hash)).one()

    assert stored(centers).startswith("$argon2id$")
    assert PASSWORD not in stored(centers)


def test_a_self_registered_sme_signs_in_once_a_center_approves_it(centers: UnitOfWork) -> None:
    uow = centers
    sme = factories.sme(uow, 1)
    pending = users.register(uow, NewUser("yunfan", PASSWORD, Role.SME, sme=sme.uscc), HASHER)
    assert pending.status == UserStatus.PENDING
    with pytest.raises(AccountInactive):
        users.log_in(uow, "yunfan", PASSWORD, HASHER)
    users.set_status(uow, pending.id, UserStatus.ACTIVE, ADMIN)
    principal = users.log_in(uow, "yunfan", PASSWORD, HASHER, "203.0.113.9")
    assert (principal.role, principal.actor.id) == (Role.SME, "yunfan")
    assert _events(uow, "yunfan") == ["user_created", "login_inactive", "user_active", "login"]
    with pytest.raises(InvalidInput, match="only SMEs and providers"):
        users.register(uow, STAFF, HASHER)


def test_repeated_failures_lock_the_account_for_a_while(
    centers: UnitOfWork, clock: FrozenClock
) -> None:
    uow = centers
    users.create_user(uow, STAFF, HASHER, ADMIN)
    name = STAFF.username
    for _ in range(LOCK_AFTER_FAILURES):
        with pytest.raises(InvalidCredentials):
            users.log_in(uow, name, "wrong password, again", HASHER)
    with pytest.raises(AccountLocked):
        users.log_in(uow, name, PASSWORD, HASHER)  # even the right password waits
    assert _events(uow, name)[-3:] == ["login_failed", "lockout", "login_locked"]
    clock.advance(LOCK_FOR + timedelta(seconds=1))
    assert users.log_in(uow, name, PASSWORD, HASHER).username == name


def _refusal(uow: UnitOfWork, name: str, password: str) -> tuple[str, str, list[str]]:
    """What a refused sign-in says: its code, its message, and what its details name."""
    with pytest.raises((InvalidCredentials, AccountLocked)) as refused:
        users.log_in(uow, name, password, HASHER)
    return refused.value.code, refused.value.message, sorted(refused.value.details)


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(
    centers: UnitOfWork, clock: FrozenClock
) -> None:
    """Before the lock, at it and after it: an unknown name is counted and locked like a real
    one, so no answer tells whether a name has an account."""
    users.create_user(centers, STAFF, HASHER, ADMIN)
    for _ in range(LOCK_AFTER_FAILURES):
        unknown = _refusal(centers, "Nobody ", PASSWORD)  # the same name as typed differently
        wrong = _refusal(centers, STAFF.username, "not the password!")
        assert unknown == wrong == ("invalid_credentials", "wrong user name or password", [])
    unknown = _refusal(centers, "nobody", PASSWORD)
    locked = _refusal(centers, STAFF.username, PASSWORD)  # even the right password waits
    assert unknown == locked == ("account_locked", unknown[1], ["until"])
    assert _events(centers, "nobody") == [
        *["login_failed"] * LOCK_AFTER_FAILURES,
        "lockout",
        "login_locked",
    ]
    assert _events(centers, "nobody")[-3:] == _events(centers, STAFF.username)[-3:]
    clock.advance(LOCK_FOR + timedelta(seconds=1))
    assert _refusal(centers, "nobody", PASSWORD)[0] == "invalid_credentials"
    assert users.log_in(centers, STAFF.username, PASSWORD, HASHER).username == STAFF.username


@read_only
def _counted_names(uow: UnitOfWork) -> list[str]:
    return list(uow.session.scalars(select(LoginFailure.username).order_by("username")))


def test_failures_are_forgotten_after_a_while_and_their_rows_deleted(
    centers: UnitOfWork, clock: FrozenClock
) -> None:
    """What the lockout keeps is bounded: a name's failures are forgotten FAILURES_KEPT_FOR
    after the last one, and later failed sign-ins delete the forgotten rows."""
    users.create_user(centers, STAFF, HASHER, ADMIN)
    for name in ("ghost-1", "ghost-2", STAFF.username):
        for _ in range(LOCK_AFTER_FAILURES - 1):
            _refusal(centers, name, "not the password!")
    assert _counted_names(centers) == ["ghost-1", "ghost-2", STAFF.username]
    clock.advance(FAILURES_KEPT_FOR + timedelta(seconds=1))
    # Forgotten: one more failure does not lock, for a real name or an unknown one.
    assert _refusal(centers, "ghost-1", "x")[0] == "invalid_credentials"
    assert _refusal(centers, STAFF.username, "x")[0] == "invalid_credentials"
    assert _counted_names(centers) == ["ghost-1", STAFF.username]  # ghost-2 is gone
    # The right password starts the count again, and keeps nothing.
    users.log_in(centers, STAFF.username, PASSWORD, HASHER)
    assert _counted_names(centers) == ["ghost-1"]


def test_a_disabled_account_and_its_tokens_stop_working(centers: UnitOfWork) -> None:
    uow = centers
    staff = users.create_user(uow, STAFF, HASHER, ADMIN)
    principal = users.log_in(uow, STAFF.username, PASSWORD, HASHER)
    secret, _ = users.issue_token(uow, principal, "scanner")
    users.set_status(uow, staff.id, UserStatus.DISABLED, ADMIN)
    with pytest.raises(InvalidCredentials):
        users.principal_for_token(uow, secret)
    assert users.principal_for_session(uow, staff.id) is None


def test_a_token_stands_for_its_user_until_it_expires_or_is_revoked(
    centers: UnitOfWork, clock: FrozenClock
) -> None:
    uow = centers
    users.create_user(uow, STAFF, HASHER, ADMIN)
    principal = users.log_in(uow, STAFF.username, PASSWORD, HASHER)
    secret, token = users.issue_token(uow, principal, "report reader", scopes=frozenset({"read"}))
    assert secret.startswith("gdv_") and len(secret) > 40
    found = users.principal_for_token(uow, secret)
    assert (found.username, found.scopes) == (STAFF.username, frozenset({"read"}))
    with pytest.raises(InvalidCredentials):
        users.principal_for_token(uow, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    users.revoke_token(uow, principal, token.id)
    with pytest.raises(InvalidCredentials):
        users.principal_for_token(uow, secret)
    short, _ = users.issue_token(uow, principal, "a day", days=1)
    clock.advance(timedelta(days=1))
    with pytest.raises(InvalidCredentials):
        users.principal_for_token(uow, short)
    assert [t.name for t in users.list_tokens(uow, principal)] == ["report reader", "a day"]
    assert _events(uow, STAFF.username).count("token_created") == 2
    assert "token_revoked" in _events(uow, STAFF.username)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scopes": frozenset({"admin"})}, "scopes"),
        ({"scopes": frozenset()}, "scopes"),
        ({"days": 0}, "days"),
        ({"days": 400}, "days"),
    ],
)
def test_a_bad_token_request_is_refused(
    centers: UnitOfWork, changes: dict[str, object], field: str
) -> None:
    users.create_user(centers, STAFF, HASHER, ADMIN)
    principal = users.log_in(centers, STAFF.username, PASSWORD, HASHER)
    with pytest.raises(InvalidInput) as refused:
        users.issue_token(centers, principal, "t", **changes)  # type: ignore[arg-type]
    assert refused.value.details["field"] == field
    assert users.list_tokens(centers, principal) == []


def test_a_read_only_token_cannot_make_a_writing_one(centers: UnitOfWork) -> None:
    users.create_user(centers, STAFF, HASHER, ADMIN)
    principal = users.log_in(centers, STAFF.username, PASSWORD, HASHER)
    secret, _ = users.issue_token(centers, principal, "reader", scopes=frozenset({"read"}))
    reader = users.principal_for_token(centers, secret)
    with pytest.raises(InvalidInput, match="scopes its maker lacks"):
        users.issue_token(centers, reader, "writer")


def test_nobody_revokes_someone_elses_token_but_an_admin(centers: UnitOfWork) -> None:
    uow = centers
    users.create_user(uow, STAFF, HASHER, ADMIN)
    other = dataclasses.replace(STAFF, username="reviewer.guangzhou", center="440100")
    users.create_user(uow, other, HASHER, ADMIN)
    owner = users.log_in(uow, STAFF.username, PASSWORD, HASHER)
    intruder = users.log_in(uow, other.username, PASSWORD, HASHER)
    _, token = users.issue_token(uow, owner, "mine")
    with pytest.raises(UnknownToken):
        users.revoke_token(uow, intruder, token.id)
    admin = dataclasses.replace(intruder, role=Role.ADMIN)
    assert users.revoke_token(uow, admin, token.id).revoked_at is not None


def test_the_security_log_cannot_be_edited(centers: UnitOfWork, database: Database) -> None:
    users.create_user(centers, STAFF, HASHER, ADMIN)
    for statement in ("UPDATE security_events SET kind = 'x'", "DELETE FROM security_events"):
        with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as db:
            db.execute(text(statement))
    assert _events(centers, STAFF.username) == ["user_created"]
