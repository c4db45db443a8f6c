"""Who did something: every ledger entry and security event names an actor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from voucher_app.domain.errors import InvalidInput

#: What an actor id may hold. The published entry grammar uses this same pattern, so every
#: actor the application accepts is one the auditor accepts.
ACTOR_ID = r"[A-Za-z0-9._:@-]{1,64}"
_ACTOR_ID = re.compile(ACTOR_ID)


class Role(StrEnum):
    SME = "sme"
    PROVIDER = "provider"
    CENTER_STAFF = "center_staff"
    CENTER_ADMIN = "center_admin"
    CENTER_FINANCE = "center_finance"  # pays: batches, payment files, statements
    AUDITOR = "auditor"
    ADMIN = "admin"
    SYSTEM = "system"  # scheduled jobs and command-line maintenance


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    role: Role

    def __post_init__(self) -> None:
        if not _ACTOR_ID.fullmatch(self.id):
            raise InvalidInput(f"malformed actor id {self.id!r}", field="actor")


SYSTEM = Actor("system", Role.SYSTEM)
