"""The published form of a journal entry: the object whose RFC 8785 bytes are its Merkle leaf.

    {"id": "<uuid>", "kind": "allocate", "created_at": "2026-11-27T07:39:51.123456Z",
     "actor": {"id": "…", "role": "center_admin"},
     "postings": [{"account": "…", "amount_fen": -500000}, {"account": "…", "amount_fen": 500000}],
     "refs": {"programme": "<uuid>"}, "reverses": null}

Postings are in account-name order. `entry_document` builds it from stored values (sequencer,
export, HTTP); `parse_entry` reads one back from untrusted JSON (auditor) and refuses anything
outside the shape, which also keeps it inside the domain where `canonical` is exact.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.money import MAX_FEN

_REF_KEY = re.compile(r"[a-z_]{1,32}")
_REF_VALUE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_FIELDS = {"id", "kind", "created_at", "actor", "postings", "refs", "reverses"}


class MalformedEntry(ValueError):
    """A published entry that does not have the shape above."""


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One entry's published content, as plain values."""

    id: str
    kind: EntryKind
    created_at: str
    actor_id: str
    actor_role: str
    postings: tuple[Posting, ...]
    refs: Mapping[str, str]
    reverses: str | None


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits, so every writer agrees byte for byte."""
    if moment.tzinfo is None:
        raise ValueError("journal timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}{moment.strftime(_TIMESTAMP_FORMAT[2:])}"


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
        if not isinstance(key, str) or not _REF_KEY.fullmatch(key):
            raise MalformedEntry(f"bad ref name {key!r}")
        if not isinstance(value, str) or not _REF_VALUE.fullmatch(value):
            raise MalformedEntry(f"bad value for ref {key!r}")
    return dict(refs)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise MalformedEntry(message)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_entry(obj: object) -> EntryRecord:
    """Read an entry document from decoded JSON, refusing anything outside the format."""
    _require(isinstance(obj, dict), "an entry must be an object")
    assert isinstance(obj, dict)
    _require(set(obj) == _FIELDS, f"an entry has exactly the fields {sorted(_FIELDS)}")
    entry_id, kind, created_at = obj["id"], obj["kind"], obj["created_at"]
    _require(isinstance(entry_id, str) and _is_uuid(entry_id), "id must be a UUID string")
    _require(kind in EntryKind.__members__.values(), f"unknown entry kind {kind!r}")
    _require(
        isinstance(created_at, str) and _is_timestamp(created_at),
        "created_at must be RFC 3339 UTC with microseconds",
    )
    actor = obj["actor"]
    _require(
        isinstance(actor, dict)
        and set(actor) == {"id", "role"}
        and all(isinstance(v, str) and _REF_VALUE.fullmatch(v) for v in actor.values()),
        "actor must be {id, role} strings",
    )
    postings = obj["postings"]
    _require(isinstance(postings, list), "postings must be a list")
    parsed: list[Posting] = []
    for item in postings:
        _require(
            isinstance(item, dict)
            and set(item) == {"account", "amount_fen"}
            and isinstance(item["account"], str)
            and _is_int(item["amount_fen"])
            and abs(item["amount_fen"]) <= MAX_FEN,
            "each posting is {account: string, amount_fen: integer within ±(2**53 - 1)}",
        )
        parsed.append(Posting(item["account"], item["amount_fen"]))
    _require(parsed == sorted(parsed), "postings must be in account order")
    refs = obj["refs"]
    _require(isinstance(refs, dict), "refs must be an object")
    reverses = obj["reverses"]
    _require(
        reverses is None or (isinstance(reverses, str) and _is_uuid(reverses)),
        "reverses must be null or a UUID string",
    )
    return EntryRecord(
        id=entry_id,
        kind=EntryKind(kind),
        created_at=created_at,
        actor_id=actor["id"],
        actor_role=actor["role"],
        postings=tuple(parsed),
        refs=check_refs(refs),
        reverses=reverses,
    )


def _is_timestamp(text: str) -> bool:
    if not _TIMESTAMP.fullmatch(text):
        return False
    try:
        datetime.strptime(text, _TIMESTAMP_FORMAT)  # noqa: DTZ007 - the Z is matched literally
    except ValueError:
        return False
    return True


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False
