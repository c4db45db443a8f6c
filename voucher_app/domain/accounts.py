"""Ledger account names (DESIGN §4) and which of them may go below zero.

An account is named by a colon-separated string that says what it holds, for example
`center:440300:<programme id>:available`. The name is what appears in published entries, so its
grammar is part of the ledger's public format.

A center's available budget may be held in shards (`domain.shards`): shard 0 is the account of
the plain name, shard k > 0 the same name followed by `:k` (`center:440300:<id>:available:3`).
A ledger written before shards existed is a ledger of shard 0s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from voucher_app.domain.errors import InvalidAccount
from voucher_app.domain.shards import MAX_SHARDS

_SEGMENT = "[A-Za-z0-9-]{1,64}"
#: The whole grammar of account names, one alternative per kind of account.
_ACCOUNT = re.compile(
    rf"programme:(?P<funding>{_SEGMENT}):funding"
    rf"|center:(?P<center>{_SEGMENT}):(?P<center_programme>{_SEGMENT}):available"
    r"(?::(?P<shard>[1-9][0-9]?))?"
    rf"|voucher:(?P<voucher>{_SEGMENT})"
    rf"|provider:(?P<provider>{_SEGMENT}):(?P<provider_programme>{_SEGMENT})"
    r":(?P<kind>pending|payable|paid)"
)


class AccountKind(StrEnum):
    FUNDING = "funding"
    AVAILABLE = "available"
    VOUCHER = "voucher"
    PENDING = "pending"
    PAYABLE = "payable"
    PAID = "paid"


PROVIDER_KINDS = frozenset({AccountKind.PENDING, AccountKind.PAYABLE, AccountKind.PAID})


@dataclass(frozen=True, slots=True)
class Account:
    """A parsed account name. Build one with the constructors below or `parse_account`."""

    kind: AccountKind
    owner: str
    #: The programme whose money the account holds; None for a voucher (its id says which).
    programme: str | None = None
    #: Which shard of a center's budget (0 for every other kind of account).
    shard: int = 0

    @property
    def name(self) -> str:
        match self.kind:
            case AccountKind.FUNDING:
                return f"programme:{self.owner}:funding"
            case AccountKind.AVAILABLE if self.shard:
                return f"center:{self.owner}:{self.programme}:available:{self.shard}"
            case AccountKind.AVAILABLE:
                return f"center:{self.owner}:{self.programme}:available"
            case AccountKind.VOUCHER:
                return f"voucher:{self.owner}"
            case _:
                return f"provider:{self.owner}:{self.programme}:{self.kind}"

    @property
    def may_go_negative(self) -> bool:
        """Only a programme's funding account runs negative: it is the appropriation's source."""
        return self.kind is AccountKind.FUNDING


@lru_cache(maxsize=1 << 16)
def parse_account(name: str) -> Account:
    """Parse an account name (cached: audits meet the same center accounts again and again)."""
    match = _ACCOUNT.fullmatch(name)
    if match is None:
        raise InvalidAccount(f"malformed or unknown account name {name!r}", account=name)
    if match["funding"]:
        return funding(match["funding"])
    if match["center"]:
        shard = int(match["shard"] or 0)
        if shard >= MAX_SHARDS:
            raise InvalidAccount(f"no shard {shard}: at most {MAX_SHARDS} shards", account=name)
        return available(match["center"], match["center_programme"], shard)
    if match["voucher"]:
        return voucher(match["voucher"])
    return Account(AccountKind(match["kind"]), match["provider"], match["provider_programme"])


def funding(programme: str) -> Account:
    return Account(AccountKind.FUNDING, programme, programme)


def available(center: str, programme: str, shard: int = 0) -> Account:
    """Shard `shard` of the center's available budget for the programme; shard 0 is the plain
    name, which is also how the center's whole budget is named in errors and reports."""
    return Account(AccountKind.AVAILABLE, center, programme, shard)


def voucher(voucher_id: str) -> Account:
    return Account(AccountKind.VOUCHER, voucher_id)


def provider(kind: AccountKind, provider_id: str, programme: str) -> Account:
    if kind not in PROVIDER_KINDS:
        raise InvalidAccount(f"{kind} is not a provider account kind")
    return Account(kind, provider_id, programme)
