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

The SME's name is masked (`mask_name`) because an SME may be a sole trader (个体工商户) whose
trade name is a person's: the trade name (字号) is hidden, the place it starts with and the
organisational form it ends with are kept, each hidden part as three marks whatever its length.
What links a published claim to its SME in the public ledger is a random id (the voucher's and
its `issue` entry's), never a name. The provider's name is shown in full: providers are public
already (the catalogue names them with their address and phone, 五公开), and the ledger's
accounts name their ids, so masking them would hide nothing.

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
#: Every hidden part shows as this many `MASK`s, whatever its length: the length of a name
#: would narrow down whose it is.
HIDDEN = MASK * 3
#: Where a place ends at the start of a name (广东省深圳市南山区…): the last of these within
#: its first `PLACE_WITHIN` characters.
PLACE_ENDS = frozenset("省市区县镇")
PLACE_WITHIN = 9
#: Organisational forms a name may end with, longest first.
FORMS = (
    "股份有限公司",
    "有限责任公司",
    "个体工商户",
    "有限公司",
    "合伙企业",
    "事务所",
    "工作室",
    "经营部",
    "服务部",
    "公司",
    "中心",
    "商行",
    "商店",
    "门市",
    "店",
    "厂",
)


def mask_name(name: str) -> str:
    """The name as a notice shows it: a place it starts with and an organisational form it ends
    with stay (深圳市南山区 and 商店 of 深圳市南山区张三商店), everything between them — the trade
    name, which may be a person's — is `HIDDEN`; a name with neither keeps its first character
    (张 of 张三)."""
    text = name.strip()
    form = next((form for form in FORMS if text.endswith(form) and len(text) > len(form)), "")
    body = text[: len(text) - len(form)]
    ends = [n for n, c in enumerate(body[:PLACE_WITHIN]) if c in PLACE_ENDS and n < len(body) - 1]
    place = body[: ends[-1] + 1] if ends else ""
    if not place and not form:
        return text[:1] + HIDDEN if len(text) > 1 else HIDDEN
    return place + HIDDEN + form


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
    provider: str  # in full: providers are public (the catalogue)
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


def compare(
    published: Mapping[str, Any], logged: Mapping[bytes, str], *, final: bool = True
) -> list[str]:
    """What differs between a published list and the `approve` entries of its day and center
    (`logged`: each entry's `notice_item` digest and the claim it names). Empty: they agree.

    A list of a day the log has not yet gone past (`final` False) may still grow: then only
    what it shows is checked, not what it lacks."""
    key = list_key_of(published)
    logged_claims = {redemption: digest for digest, redemption in logged.items()}
    problems: list[str] = []
    accounted: set[bytes] = set()
    listed: set[str] = set()
    for item in published["items"]:  # `check_shape` made sure there is a list
        claim = str(item.get("redemption"))
        digest = item_digest(item)
        if claim in listed:
            problems.append(f"{key}: claim {claim} is listed twice")
        listed.add(claim)
        if (item.get("center"), item.get("approved_on")) != (
            published.get("center"),
            published.get("day"),
        ):
            problems.append(f"{key}: claim {claim} is listed under another center or day")
        if digest in logged:
            accounted.add(digest)
        elif claim in logged_claims:
            accounted.add(logged_claims[claim])
            problems.append(f"{key}: claim {claim} is shown otherwise than the ledger published it")
        else:
            problems.append(
                f"{key}: claim {claim} is listed, and no approval in the ledger published it"
            )
    if not final:
        return problems
    for digest, claim in sorted(logged.items(), key=lambda pair: pair[1]):
        if digest not in accounted:
            problems.append(f"{key}: claim {claim} was published and is missing from the list")
    stated = published.get("digest")
    if stated is not None and stated != list_digest(logged).hex():
        problems.append(f"{key}: the list's digest is not the digest of what the ledger holds")
    return problems


def check_shape(document: Any) -> None:
    """Refuse what is not a notice list at all (`ValueError`), before it is compared."""
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise ValueError("a notice list is an object with a list of items")
    if not all(isinstance(item, dict) for item in document["items"]):
        raise ValueError("each item of a notice list is an object")
    if not isinstance(document.get("center"), str) or not isinstance(document.get("day"), str):
        raise ValueError("a notice list names its center and its day")
