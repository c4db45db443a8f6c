"""Accounts: creating users, signing in with a password, API tokens, and the security log.

A signed-in user is a `Principal`: who they are, their role, and what they are bound to. The
access policy (`voucher_app.policy`) reads it; services take the `Actor` it names, so every
ledger entry records who acted. Passwords are hashed with Argon2id (argon2-cffi); a token is
random, shown once, and only its SHA-256 is stored. Failed logins count towards a lockout;
sign-ins, failures, lockouts, tokens made and revoked and refused requests go to
`security_events`, which nothing updates or deletes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION
from sqlalchemy import bindparam, delete, select

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import (
    AccountInactive,
    AccountLocked,
    ConcurrentRequest,
    InvalidCredentials,
    InvalidInput,
    UnknownToken,
    UserExists,
)
from voucher_app.domain.users import (
    FAILURES_KEPT_FOR,
    LOCK_AFTER_FAILURES,
    LOCK_FOR,
    SCOPES,
    SELF_REGISTERED,
    Binding,
    Principal,
    UserStatus,
    check_binding,
    check_password,
    check_username,
)
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import insert_ignoring_duplicates, table_of
from voucher_app.persistence.models import (
    ApiToken,
    Center,
    LoginFailure,
    Provider,
    SecurityEvent,
    Sme,
    User,
)
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.transient import labelled, loaded
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services.smes import sme_by_uscc

TOKEN_PREFIX = "gdv_"  # noqa: S105 - marks a token in logs and secret scanners; not a secret
MAX_TOKEN_DAYS = 365


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    password: str
    role: Role
    center: str | None = None  # a center's code
    sme: str | None = None  # an SME's unified social credit code
    provider: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class UserView:
    id: uuid.UUID
    username: str
    role: Role
    status: UserStatus
    center: str | None
    sme: str | None
    provider: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenView:
    id: uuid.UUID
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def password_hasher(*, memory_kib: int = 65_536, time_cost: int = 3) -> PasswordHasher:
    """Argon2id with the given cost (RFC 9106's second recommended option by default)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


# --- users ------------------------------------------------------------------------------------


@transaction
def create_user(uow: UnitOfWork, spec: NewUser, hasher: PasswordHasher, actor: Actor) -> UserView:
    """An active account, made by an admin (or the command line)."""
    return _create(uow, spec, hasher, actor.id, UserStatus.ACTIVE)


@transaction
def register(uow: UnitOfWork, spec: NewUser, hasher: PasswordHasher) -> UserView:
    """An SME or provider registering itself: the account waits for a center's approval."""
    return register_within(uow, spec, hasher)


def register_within(uow: UnitOfWork, spec: NewUser, hasher: PasswordHasher) -> UserView:
    """`register`'s steps inside the caller's open transaction (`registration` opens the
    account in the transaction that records the SME or provider)."""
    if spec.role not in SELF_REGISTERED:
        raise InvalidInput("only SMEs and providers register themselves", field="role")
    return _create(
        uow, spec, hasher, f"self:{check_username(spec.username)}"[:64], UserStatus.PENDING
    )


def _create(
    uow: UnitOfWork, spec: NewUser, hasher: PasswordHasher, by: str, status: UserStatus
) -> UserView:
    session = uow.session
    username = check_username(spec.username)
    check_password(spec.password, username)
    binding = check_binding(
        spec.role,
        center=spec.center,
        sme=spec.sme,
        provider=(str(spec.provider) if spec.provider else None),
    )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserExists(f"the user name {username} is taken", field="username")
    user = User(
        public_id=uuid.uuid4(),
        username=username,
        password_hash=hasher.hash(spec.password),
        role=spec.role.value,
        center_id=uow.centers.by_code(spec.center).id
        if binding is Binding.CENTER and spec.center
        else None,
        sme_id=sme_by_uscc(uow, spec.sme).id if binding is Binding.SME and spec.sme else None,
        provider_id=uow.providers.by_public_id(spec.provider).id
        if binding is Binding.PROVIDER and spec.provider
        else None,
        status=status.value,
        failed_logins=0,
        created_at=uow.clock.now(),
        created_by=by,
    )
    session.add(user)
    session.flush()
    record_event(uow, "user_created", user.username, by, details={"role": spec.role.value})
    return user_view(uow, user)


@transaction
def set_status(uow: UnitOfWork, user_id: uuid.UUID, status: UserStatus, actor: Actor) -> UserView:
    """Approve a registration, disable an account or enable it again."""
    if status is UserStatus.ACTIVE:
        # Before the account's row is locked: a sign-in locks the name's failures, then it.
        forget_failures(uow, uow.users.by_public_id(user_id).username)
    user = uow.users.by_public_id(user_id, lock=True)
    before = user.status
    user.status = status.value
    record_event(uow, f"user_{status.value}", user.username, actor.id, details={"was": before})
    return user_view(uow, user)


@read_only
def get_user(uow: UnitOfWork, user_id: uuid.UUID) -> UserView:
    return user_view(uow, uow.users.by_public_id(user_id))


@read_only
def list_users(uow: UnitOfWork, *, after: str | None = None, limit: int = 50) -> list[UserView]:
    """Users in user-name order, `limit` at a time after the name `after` (a cursor)."""
    query = select(User).order_by(User.username).limit(limit)
    if after is not None:
        query = query.where(User.username > after)
    return [user_view(uow, user) for user in uow.session.scalars(query)]


def user_view(uow: UnitOfWork, user: User) -> UserView:
    """The account as its readers see it, inside the caller's transaction."""
    session = uow.session
    return UserView(
        user.public_id,
        user.username,
        Role(user.role),
        UserStatus(user.status),
        session.get_one(Center, user.center_id).code if user.center_id else None,
        session.get_one(Sme, user.sme_id).uscc if user.sme_id else None,
        session.get_one(Provider, user.provider_id).public_id if user.provider_id else None,
        user.created_at,
    )


def principal_of(user: User, scopes: frozenset[str] = SCOPES) -> Principal:
    return Principal(
        user.public_id,
        user.username,
        Role(user.role),
        user.center_id,
        user.sme_id,
        user.provider_id,
        scopes,
    )


# --- signing in -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Attempt:
    principal: Principal | None
    refusal: InvalidCredentials | AccountLocked | AccountInactive | None


def log_in(
    uow: UnitOfWork,
    username: str,
    password: str,
    hasher: PasswordHasher,
    remote_addr: str | None = None,
) -> Principal:
    """The principal whose password this is; the attempt (and a lockout) is recorded even when
    it is refused, so the refusal is raised after the transaction commits.

    A refusal does not tell whether the name has an account: an unknown name is checked
    against a dummy hash (as slow as a real check), and it is counted and locked exactly like
    an account's name (`login_failures`, in the database every process shares)."""
    attempt = _attempt(uow, username, password, hasher, remote_addr)
    if attempt.refusal is not None:
        raise attempt.refusal
    assert attempt.principal is not None
    return attempt.principal


#: Stale `login_failures` rows a failed sign-in deletes on its way (keeps the table bounded).
PRUNE_BATCH = 100


@transaction
def _attempt(
    uow: UnitOfWork,
    username: str,
    password: str,
    hasher: PasswordHasher,
    remote_addr: str | None,
) -> _Attempt:
    name = username.strip().lower()[:64]
    now = uow.clock.now()
    # The name's row, locked: attempts under one name take turns, in every process.
    failures = _failures_of(uow, name, now)
    if failures.locked_until is not None:
        record_event(
            uow, "login_locked", name or None, name or "anonymous", remote_addr=remote_addr
        )
        return _Attempt(None, _locked(failures.locked_until))
    user = uow.session.scalar(select(User).where(User.username == name).with_for_update())
    # An unknown name is checked against a dummy hash: as slow as a real check.
    stored = user.password_hash if user is not None else _dummy(hasher)
    if not _verify(hasher, stored, password) or user is None:
        _count_failure(uow, failures, name, now, remote_addr)
        return _Attempt(None, InvalidCredentials("wrong user name or password"))
    uow.session.delete(failures)  # the right password: the count starts again
    if user.status != UserStatus.ACTIVE:
        status = {"status": user.status}
        record_event(uow, "login_inactive", name, name, remote_addr=remote_addr, details=status)
        return _Attempt(
            None, AccountInactive(f"this account is {user.status}", account_status=user.status)
        )
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    record_event(uow, "login", name, name, remote_addr=remote_addr)
    return _Attempt(principal_of(user), None)


def _locked(until: datetime) -> AccountLocked:
    return AccountLocked("too many failed sign-ins; try again later", until=until.isoformat())


def _failures_of(uow: UnitOfWork, name: str, now: datetime) -> LoginFailure:
    """The failures counted under `name`, locked FOR UPDATE (made if there were none, and
    started afresh when the old ones are forgotten)."""
    session = uow.session
    for _ in range(3):  # another sign-in may prune a stale row between our insert and lock
        insert_ignoring_duplicates(
            session,
            LoginFailure.__table__,  # type: ignore[arg-type]
            [{"username": name, "failures": 0, "locked_until": None, "expires_at": now}],
            key=["username"],
        )
        row = session.get(LoginFailure, name, with_for_update=True, populate_existing=True)
        if row is not None:
            if row.expires_at <= now or (row.locked_until is not None and row.locked_until <= now):
                row.failures, row.locked_until = 0, None
            return row
    raise ConcurrentRequest("sign-ins under this name raced; try again")


def _count_failure(
    uow: UnitOfWork, failures: LoginFailure, name: str, now: datetime, remote_addr: str | None
) -> None:
    """One more failure under `name` (an account's or not): the same count, the same lock and
    the same security events either way."""
    failures.failures += 1
    failures.expires_at = now + FAILURES_KEPT_FOR
    counted = {"failures": failures.failures}
    actor = name or "anonymous"
    record_event(uow, "login_failed", name or None, actor, remote_addr=remote_addr, details=counted)
    if failures.failures >= LOCK_AFTER_FAILURES:
        failures.failures, failures.locked_until = 0, now + LOCK_FOR
        failures.expires_at = max(failures.expires_at, failures.locked_until)
        until = {"until": failures.locked_until.isoformat()}
        record_event(uow, "lockout", name or None, actor, remote_addr=remote_addr, details=until)
    _prune(uow, name, now)


def _prune(uow: UnitOfWork, name: str, now: datetime) -> None:
    """Delete some forgotten rows of other names (rows another sign-in holds are skipped)."""
    stale = (
        select(LoginFailure.username)
        .where(LoginFailure.expires_at <= now, LoginFailure.username != name)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    uow.session.execute(
        delete(LoginFailure)
        .where(LoginFailure.username.in_(stale.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


def forget_failures(uow: UnitOfWork, username: str) -> None:
    """Clear the failures and any lock under this name (an admin enabling the account)."""
    uow.session.execute(
        delete(LoginFailure)
        .where(LoginFailure.username == username)
        .execution_options(synchronize_session=False)
    )


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy(hasher: PasswordHasher) -> str:
    """A hash no password matches, in this hasher's parameters, to check unknown names against:
    checking it costs what checking an account's hash costs. Random salt and digest, not a
    hash of anything: making one would cost a process's first unknown name twice as long."""

    def random_b64(size: int) -> str:
        return base64.b64encode(secrets.token_bytes(size)).decode().rstrip("=")

    return (
        f"$argon2{hasher.type.name.lower()}$v={ARGON2_VERSION}"
        f"$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
        f"${random_b64(hasher.salt_len)}${random_b64(hasher.hash_len)}"
    )


@read_only
def principal_for_session(uow: UnitOfWork, user_id: uuid.UUID) -> Principal | None:
    """The principal of a browser session's user, while the account stays active."""
    user = uow.users.find(user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        return None
    return principal_of(user)


# --- API tokens -------------------------------------------------------------------------------


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@transaction
def issue_token(
    uow: UnitOfWork,
    principal: Principal,
    name: str,
    *,
    scopes: frozenset[str] = SCOPES,
    days: int = 90,
) -> tuple[str, TokenView]:
    """A new token for the principal's own account: the secret is returned once, here."""
    label = name.strip()
    if not label or len(label) > 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters", field="name")
    if not scopes or not scopes <= SCOPES:
        raise InvalidInput(f"scopes are some of {sorted(SCOPES)}", field="scopes")
    if not scopes <= principal.scopes:
        raise InvalidInput("a token cannot have scopes its maker lacks", field="scopes")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"a token lasts 1 to {MAX_TOKEN_DAYS} days", field="days")
    user = uow.users.by_public_id(principal.user_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = uow.clock.now()
    token = ApiToken(
        public_id=uuid.uuid4(),
        user_id=user.id,
        token_hash=_digest(secret),
        name=label,
        scopes=sorted(scopes),
        created_at=now,
        expires_at=now + timedelta(days=days),
        revoked_at=None,
    )
    uow.session.add(token)
    record_event(
        uow,
        "token_created",
        user.username,
        principal.actor.id,
        details={"token": str(token.public_id), "scopes": sorted(scopes)},
    )
    return secret, _token_view(token)


@transaction
def revoke_token(uow: UnitOfWork, principal: Principal, token_id: uuid.UUID) -> TokenView:
    """Revoke one of the principal's own tokens (an admin may revoke anyone's)."""
    token = uow.session.scalar(select(ApiToken).where(ApiToken.public_id == token_id))
    owner = uow.session.get(User, token.user_id) if token is not None else None
    if (
        token is None
        or owner is None
        or (owner.public_id != principal.user_id and principal.role is not Role.ADMIN)
    ):
        raise UnknownToken(f"no token {token_id} of yours", token=str(token_id))
    if token.revoked_at is None:
        token.revoked_at = uow.clock.now()
        revoked = {"token": str(token_id)}
        record_event(uow, "token_revoked", owner.username, principal.actor.id, details=revoked)
    return _token_view(token)


@read_only
def list_tokens(uow: UnitOfWork, principal: Principal) -> list[TokenView]:
    user = uow.users.by_public_id(principal.user_id)
    tokens = uow.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
    )
    return [_token_view(token) for token in tokens]


@read_only
def principal_for_token(uow: UnitOfWork, secret: str) -> Principal:
    """The principal a bearer token stands for; refused when unknown, expired or revoked, or
    when its user is no longer active."""
    found = _TOKEN_HOLDER.run(uow.session.connection(), {"hash": _digest(secret)}).mapping()
    refused = InvalidCredentials("this token is not valid")
    if found is None:
        raise refused
    token, user = loaded(ApiToken, found), loaded(User, found)
    if token.revoked_at is not None or token.expires_at <= uow.clock.now():
        raise refused
    if user.status != UserStatus.ACTIVE:
        raise refused
    return principal_of(user, frozenset(token.scopes))


# Every request with a bearer token runs it: at the driver, the token with its user in one read.
_tokens, _users = table_of(ApiToken), table_of(User)
_TOKEN_HOLDER = Prepared(
    select(*labelled(ApiToken), *labelled(User))
    .join_from(_tokens, _users, _users.c.id == _tokens.c.user_id)
    .where(_tokens.c.token_hash == bindparam("hash"))
)


def _token_view(token: ApiToken) -> TokenView:
    return TokenView(
        token.public_id,
        token.name,
        tuple(token.scopes),
        token.created_at,
        token.expires_at,
        token.revoked_at,
    )


# --- the security log -------------------------------------------------------------------------


def record_event(
    uow: UnitOfWork,
    kind: str,
    username: str | None,
    actor_id: str,
    *,
    remote_addr: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    uow.session.add(
        SecurityEvent(
            kind=kind,
            username=username,
            actor_id=actor_id[:64],
            remote_addr=remote_addr,
            details=details or {},
            recorded_at=uow.clock.now(),
        )
    )


@transaction
def record_denied(
    uow: UnitOfWork, principal: Principal | None, action: str, remote_addr: str | None
) -> None:
    """A refused request, in its own transaction (the request's own work did not happen)."""
    name = principal.username if principal else None
    record_event(
        uow,
        "permission_denied",
        name,
        name or "anonymous",
        remote_addr=remote_addr,
        details={"action": action},
    )
