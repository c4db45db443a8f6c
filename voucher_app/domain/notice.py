"""What a public notice (公示) publishes, and how the ledger commits to it.

A programme with a notice period publishes every redemption it approves on its center's notice
list of the day of approval. What is published is a small document per claim (`notice_item`):
the claim's id, the masked names of the SME and the provider, the service, the subsidy, the day
of approval and the notice's last day. Its SHA-256 over RFC 8785 bytes goes into the `approve`
entry's refs (`notice_list`: center and day; `notice_item`: the digest), in the same transaction
that publishes it. So the published list of a day is fixed by the log: a claim added to it
later, taken off it, or shown with other figures no longer matches the `approve` entries of
that day, and `voucher-audit --notice` says which claim and how.

The log needs no entry of its own for this (DESIGN §4: every entry moves money), and approvals
do not queue on a per-day chain: the list's digest (`list_digest`) is a function of its items'
digests, computed alike from the published list and from the log.

Names are masked (`mask_name`) because an SME may be a sole trader (个体工商户) whose trade name
is a person's name: the trade name (字号) in the middle of a company name is hidden, its place
and organisational form are kept, so a reader sees a claim was made without learning by whom.
Only the center reviewing the claim sees the names.

Pure: the auditor uses it with no database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

#: The refs of an `approve` entry that publish its claim.
LIST_REF = "notice_list"
ITEM_REF = "notice_item"

MASK = "\uff0a"  # FULLWIDTH ASTERISK: as wide as the characters it hides
#: A name this long or longer keeps its first two characters (the place) and its last four (the
#: organisational form, 有限公司); shorter ones keep only their first and last, two characters
#: their first, one none.
LONG_NAME = 7


def mask_name(name: str) -> str:
    """The name as a notice shows it: its middle replaced by one `MASK` per character."""
    text = name.strip()
    if len(text) >= LONG_NAME:
        return text[:2] + MASK * (len(text) - 6) + text[-4:]
    if len(text) >= 3:
        return text[0] + MASK * (len(text) - 2) + text[-1]
    if len(text) == 2:  # a person's name: the surname stays
        return text[0] + MASK
    return MASK


def list_key(center: str, day: date) -> str:
    """The `notice_list` ref naming a center's list of one day: `4401:2026-12-07`."""
    return f"{center}:{day.isoformat()}"


def list_key_of(document: Mapping[str, Any]) -> str:
    """The `notice_list` ref of a published list document."""
    return f"{document.get('center')}:{document.get('day')}"


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One published claim, as the public reads it."""

    redemption: str
    center: str
    sme: str  # masked
    provider: str  # masked
    category: str
    subsidy_fen: int
    approved_on: date
    notice_ends_on: date

    def document(self) -> dict[str, Any]:
        return {
            "redemption": self.redemption,
            "center": self.center,
            "sme": self.sme,
            "provider": self.provider,
            "category": self.category,
            "subsidy_fen": self.subsidy_fen,
            "approved_on": self.approved_on.isoformat(),
            "notice_ends_on": self.notice_ends_on.isoformat(),
        }


def canonical(document: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of an item: ASCII keys, strings and integers within ±2**53, where orjson
    with sorted keys writes exactly the canonical form (`ledger.canonical` says why)."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def item_digest(document: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical(document)).digest()


def list_digest(item_digests: Iterable[bytes]) -> bytes:
    """The digest of a day's list: SHA-256 of its items' digests in byte order."""
    return hashlib.sha256(b"".join(sorted(item_digests))).digest()


def list_document(center: str, day: date, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A center's notice list of one day as it is published, with its digest."""
    ordered = sorted(items, key=lambda item: str(item["redemption"]))
    return {
        "center": center,
        "day": day.isoformat(),
        "items": ordered,
        "digest": list_digest(item_digest(item) for item in ordered).hex(),
    }


def compare(published: Mapping[str, Any], logged: Mapping[bytes, str]) -> list[str]:
    """What differs between a published list and the `approve` entries of its day and center
    (`logged`: each entry's `notice_item` digest and the claim it names). Empty: they agree."""
    key = list_key_of(published)
    logged_claims = {redemption: digest for digest, redemption in logged.items()}
    problems: list[str] = []
    accounted: set[bytes] = set()
    for item in published.get("items", []):
        claim = str(item.get("redemption"))
        digest = item_digest(item)
        if digest in logged:
            accounted.add(digest)
        elif claim in logged_claims:
            accounted.add(logged_claims[claim])
            problems.append(f"{key}: claim {claim} is shown otherwise than the ledger published it")
        else:
            problems.append(
                f"{key}: claim {claim} is listed, and no approval in the ledger published it"
            )
    for digest, claim in sorted(logged.items(), key=lambda pair: pair[1]):
        if digest not in accounted:
            problems.append(f"{key}: claim {claim} was published and is missing from the list")
    stated = published.get("digest")
    if stated is not None and stated != list_digest(logged).hex():
        problems.append(f"{key}: the list's digest is not the digest of what the ledger holds")
    return problems
