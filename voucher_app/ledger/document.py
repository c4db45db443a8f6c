"""The published form of a journal entry: the object whose RFC 8785 bytes are its Merkle leaf.

    {"id": "<uuid>", "kind": "allocate", "created_at": "2026-11-27T07:39:51.123456Z",
     "actor": {"id": "…", "role": "center_admin"},
     "postings": [{"account": "…", "amount_fen": -500000}, {"account": "…", "amount_fen": 500000}],
     "refs": {"programme": "<uuid>"}, "reverses": null}

Postings are in account-name order, one per account. `entry_document` builds the object from
stored values (sequencer, export, HTTP). `parse_entry` reads one back from untrusted JSON (the
auditor): an entry is well-formed exactly when its canonical bytes match `ENTRY_GRAMMAR`, one
regular expression that states the whole format, and which also keeps entries inside the domain
where `canonical` is exact. Checking the bytes the leaf is made of, in one pass of the regex
engine, is what lets a million entries verify in seconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from voucher_app.domain.actors import ACTOR_ID
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import LedgerFault
from voucher_app.domain.money import MAX_FEN
from voucher_app.ledger.canonical import canonical_entry

# The pieces of the format, shared by the grammar and by `check_refs`.
_NAME = "[A-Za-z0-9._:-]{1,64}"  # roles, ref values
_REF_KEY = "[a-z_]{1,32}"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # as str(UUID) writes it
_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"
_ACCOUNT = "[A-Za-z0-9:-]{1,200}"  # its grammar is domain.accounts'; checked there
_AMOUNT = "-?[1-9][0-9]{0,15}"  # non-zero; the ±(2**53 - 1) range is checked with the postings
_KIND = "|".join(kind.value for kind in EntryKind)
_POSTING = rf'\{{"account":"{_ACCOUNT}","amount_fen":{_AMOUNT}\}}'
_REF = rf'"{_REF_KEY}":"{_NAME}"'

#: The whole entry format, over canonical (RFC 8785) bytes.
ENTRY_GRAMMAR = re.compile(
    (
        rf'\{{"actor":\{{"id":"{ACTOR_ID}","role":"{_NAME}"\}},'
        rf'"created_at":"{_TIMESTAMP}",'
        rf'"id":"{_UUID}",'
        rf'"kind":"(?:{_KIND})",'
        rf'"postings":\[{_POSTING}(?:,{_POSTING})*\],'
        rf'"refs":\{{(?:{_REF}(?:,{_REF})*)?\}},'
        rf'"reverses":(?:null|"{_UUID}")\}}'
    ).encode()
)
_KINDS = {kind.value: kind for kind in EntryKind}
_REF_KEY_PATTERN = re.compile(_REF_KEY)
_NAME_PATTERN = re.compile(_NAME)


class MalformedEntry(LedgerFault):
    """A published entry that does not have the shape above."""

    code = "malformed_entry"


class EntryRecord(NamedTuple):
    """One entry's published content, as plain values (a named tuple: cheap to build)."""

    id: str
    kind: EntryKind
    created_at: str
    actor_id: str
    actor_role: str
    postings: tuple[Posting, ...]
    refs: Mapping[str, str]
    reverses: str | None
    #: `postings_digest(postings)`; `parse_entry` takes it from the canonical bytes it already has.
    postings_digest: bytes = b""


_POSTINGS_START = b'"postings":'
_POSTINGS_END = b',"refs":'


def postings_digest(postings: Sequence[Posting]) -> bytes:
    """A 128-bit digest of postings in their canonical (RFC 8785) form.

    The replay keeps this instead of every entry's postings, to match reversals against the
    entries they negate in little memory.
    """
    canonical = orjson.dumps(
        [{"account": p.account, "amount_fen": p.amount_fen} for p in postings],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.blake2b(canonical, digest_size=16).digest()


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits, so every writer agrees byte for byte."""
    if moment.tzinfo is None:
        raise ValueError("journal timestamps must be timezone-aware")
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T"
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"
    )


def entry_document(
    *,
    entry_id: str,
    kind: str,
    created_at: datetime,
    actor_id: str,
    actor_role: str,
    postings: Sequence[Posting],
    refs: Mapping[str, str],
    reverses: str | None,
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "kind": str(kind),
        "created_at": format_timestamp(created_at),
        "actor": {"id": actor_id, "role": actor_role},
        "postings": [{"account": p.account, "amount_fen": p.amount_fen} for p in sorted(postings)],
        "refs": dict(sorted(refs.items())),
        "reverses": reverses,
    }


def check_refs(refs: Mapping[str, str]) -> dict[str, str]:
    """Refs are short identifiers under lower-case names; anything else is refused."""
    for key, value in refs.items():
        if not isinstance(key, str) or not _REF_KEY_PATTERN.fullmatch(key):
            raise MalformedEntry(f"bad ref name {key!r}")
        if not isinstance(value, str) or not _NAME_PATTERN.fullmatch(value):
            raise MalformedEntry(f"bad value for ref {key!r}")
    return dict(refs)


def parse_entry(obj: Any) -> tuple[EntryRecord, bytes]:
    """Read an entry from decoded JSON; return it and its canonical bytes (the leaf data)."""
    if not isinstance(obj, dict):
        raise MalformedEntry("an entry must be a JSON object")
    try:
        data = canonical_entry(obj)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise MalformedEntry(f"an entry holds only strings, integers and null ({exc})") from exc
    if ENTRY_GRAMMAR.fullmatch(data) is None:
        raise MalformedEntry(_diagnose(obj))
    try:
        datetime.fromisoformat(obj["created_at"][:-1])  # the grammar fixed its shape
    except ValueError:
        raise MalformedEntry("created_at names no real instant") from None
    postings = tuple([Posting(p["account"], p["amount_fen"]) for p in obj["postings"]])
    if list(postings) != sorted(postings):
        raise MalformedEntry("postings must be in account order")
    for _account, amount in postings:
        if not -MAX_FEN <= amount <= MAX_FEN:
            raise MalformedEntry(f"amount {amount} is outside ±(2**53 - 1) fen")
    actor = obj["actor"]
    # The postings array as it stands in the canonical bytes: the grammar fixed its place.
    canonical_postings = data[
        data.index(_POSTINGS_START) + len(_POSTINGS_START) : data.index(_POSTINGS_END)
    ]
    record = EntryRecord(  # positional: this runs once per entry of a million-entry audit
        obj["id"],
        _KINDS[obj["kind"]],
        obj["created_at"],
        actor["id"],
        actor["role"],
        postings,
        obj["refs"],
        obj["reverses"],
        hashlib.blake2b(canonical_postings, digest_size=16).digest(),
    )
    return record, data


_FIELDS = {"id", "kind", "created_at", "actor", "postings", "refs", "reverses"}
_FIELD_PATTERNS = {
    "id": _UUID,
    "kind": _KIND,
    "created_at": _TIMESTAMP,
    "reverses": _UUID,
}


def _diagnose(obj: dict[str, Any]) -> str:
    """Say what is wrong with an entry the grammar refused (only runs on failure)."""
    if obj.keys() != _FIELDS:
        return f"an entry has exactly the fields {sorted(_FIELDS)}, not {sorted(obj)}"
    for field, pattern in _FIELD_PATTERNS.items():
        value = obj[field]
        if field == "reverses" and value is None:
            continue
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            return f"{field} is not in its published format: {value!r}"
    postings = obj["postings"]
    if not isinstance(postings, list) or not postings:
        return "postings must be a non-empty list"
    for posting in postings:
        amount = posting.get("amount_fen") if isinstance(posting, dict) else None
        if type(amount) is not int or not amount:
            return f"each posting is {{account, amount_fen}} with a non-zero integer: {posting!r}"
    return f"does not follow the entry format (DESIGN §4): {str(obj)[:160]}"
