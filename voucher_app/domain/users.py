"""People who sign in, and the rules their accounts follow.

Each user has one role. The role says what the user is bound to: an SME user to one SME, a
provider user to one provider, center staff, admins, finance and auditors to one center (and so
to everything below it), an admin to nothing. The password policy follows NIST SP 800-63B: a
minimum length, no composition rules, and no password that is common or is the user name.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import InvalidInput, WeakPassword


class UserStatus(StrEnum):
    PENDING = "pending"  # registered themselves; a center has not approved them yet
    ACTIVE = "active"
    DISABLED = "disabled"


class Binding(StrEnum):
    SME = "sme"
    PROVIDER = "provider"
    CENTER = "center"


#: What each role that people hold is bound to (None: nothing).
BINDING: dict[Role, Binding | None] = {
    Role.SME: Binding.SME,
    Role.PROVIDER: Binding.PROVIDER,
    Role.CENTER_STAFF: Binding.CENTER,
    Role.CENTER_ADMIN: Binding.CENTER,
    Role.CENTER_FINANCE: Binding.CENTER,
    Role.AUDITOR: Binding.CENTER,
    Role.ADMIN: None,
}
#: Roles a person may register for themselves; a center approves them.
SELF_REGISTERED = frozenset({Role.SME, Role.PROVIDER})

#: What a credential may do: read, and change things. A session has both.
SCOPES = frozenset({"read", "write"})

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
MIN_PASSWORD = 12
MAX_PASSWORD = 128
#: The lockout is kept per user name as typed (lower-cased), whether or not an account has
#: it, so that its answers do not tell which names exist: this many failed sign-ins under a
#: name in a row lock it for LOCK_FOR; a name's failures are forgotten FAILURES_KEPT_FOR after
#: the last one (and a lock once it ends), so that what is kept stays bounded.
LOCK_AFTER_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
FAILURES_KEPT_FOR = timedelta(hours=1)
#: A few of the passwords every breach list starts with; longer than MIN_PASSWORD or close.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "password1234",
        "passwordpassword",
        "qwertyuiop12",
        "qwertyuiopasdf",
        "iloveyou1234",
        "admin1234567",
        "administrator",
        "welcome12345",
        "letmein12345",
        "abc123456789",
        "111111111111",
        "000000000000",
        "a1b2c3d4e5f6",
        "zaq12wsxcde3",
        "1qaz2wsx3edc",
        "woaini1314520",
        "5201314520131",
    }
)


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidInput(
            "a user name has 3 to 64 characters: letters, digits and . _ @ -, "
            "starting with a letter or digit",
            field="username",
        )
    return name


def check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password has at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD} characters", field="password")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        raise WeakPassword("this password is too easy to guess", field="password")
    if username.lower() in lowered:
        raise WeakPassword("a password may not contain the user name", field="password")


def check_binding(
    role: Role, *, center: str | None, sme: str | None, provider: str | None
) -> Binding | None:
    """The binding the role needs; refused when it is missing or another one is given."""
    if role not in BINDING:
        raise InvalidInput(f"{role} is not a role a person holds", field="role")
    needed = BINDING[role]
    given = {Binding.CENTER: center, Binding.SME: sme, Binding.PROVIDER: provider}
    for binding, value in given.items():
        if binding is needed and not value:
            raise InvalidInput(
                f"users with the role {role} are bound to one {binding}", field=binding.value
            )
        if binding is not needed and value:
            raise InvalidInput(
                f"users with the role {role} are bound to no {binding}", field=binding.value
            )
    return needed


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user as the access policy sees them."""

    user_id: uuid.UUID
    username: str
    role: Role
    center_id: int | None = None
    sme_id: int | None = None
    provider_id: int | None = None
    #: What the credential allows: a session has every scope, a token those it was given.
    scopes: frozenset[str] = SCOPES

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role)
