"""Evidence files of redemptions: the invoice (a PDF or a photo) and the contract a provider
attaches when it submits or corrects a redemption, and the download of them.

The files live in the database (`evidence_files`), not in a folder: several app instances
share one PostgreSQL and no disk, a backup (`pg_dump`) then holds the files with the
redemptions that name them, and a file is stored in the same transaction as the redemption
it proves, so a refused submission leaves no file behind. Each file is named by the SHA-256 of
its bytes (`domain.evidence`), so the same invoice attached twice is one row, and a reader can
check what is served against the digest the redemption's event and the ledger's `redeem` entry
recorded.

Which redemption a file belongs to is said by that redemption's events only
(`details["evidence"]`): a download names the redemption, and a file is served only when one
of its events names it — a digest alone opens nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import select

from voucher_app.domain.errors import InvalidEvidence, UnknownEvidence
from voucher_app.domain.evidence import ENDINGS, EvidenceKind, check_file
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import insert_if_new
from voucher_app.persistence.models import EvidenceFile, RedemptionEvent
from voucher_app.persistence.uow import read_only

#: How much of an uploaded file's own name is kept, to show beside it.
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file as the provider sent it: which document it is, its name and its bytes."""

    kind: EvidenceKind
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a submission attaches, and how large each file may be (`MAX_EVIDENCE_LENGTH`)."""

    files: Sequence[Attachment] = ()
    max_bytes: int = 5 * 1024 * 1024


NO_EVIDENCE = Evidence()


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """A file attached to a redemption, as its page lists it."""

    kind: str
    sha256: str
    name: str
    media_type: str
    size: int
    attached_at: datetime


@dataclass(frozen=True, slots=True)
class EvidenceDownload:
    content: bytes
    media_type: str
    filename: str  # made here from the kind and digest; the uploader's name is never sent back


def keep(uow: UnitOfWork, evidence: Evidence) -> list[dict[str, Any]]:
    """Check every file, then store those not stored yet; return what the redemption's event
    records of each (kind, digest, name, type, size). Nothing is stored unless all pass."""
    kinds = [attachment.kind for attachment in evidence.files]
    for kind in kinds:
        if kinds.count(kind) > 1:
            raise InvalidEvidence(f"attach one {kind} file, not {kinds.count(kind)}", field=kind)
    checked = [
        (attachment, check_file(attachment.kind, attachment.content, evidence.max_bytes))
        for attachment in evidence.files
    ]
    now = uow.clock.now()
    recorded = []
    for attachment, file in checked:
        insert_if_new(
            uow.session,
            EvidenceFile.__table__,  # type: ignore[arg-type]
            {
                "sha256": file.sha256,
                "media_type": file.media_type,
                "size": file.size,
                "content": attachment.content,
                "stored_at": now,
            },
            key=["sha256"],
        )
        recorded.append(
            {
                "kind": str(attachment.kind),
                "sha256": file.sha256,
                "name": _shown_name(attachment.filename),
                "media_type": file.media_type,
                "size": file.size,
            }
        )
    return recorded


def _shown_name(filename: str) -> str:
    """The last part of the uploaded name, without control characters, shortened."""
    name = PurePath(filename.replace("\\", "/")).name
    return "".join(char for char in name if char.isprintable())[:MAX_NAME]


def attached(events: Sequence[RedemptionEvent]) -> list[EvidenceView]:
    """Every file the events attached, oldest first."""
    return [
        EvidenceView(
            kind=record["kind"],
            sha256=record["sha256"],
            name=record["name"],
            media_type=record["media_type"],
            size=record["size"],
            attached_at=event.recorded_at,
        )
        for event in events
        for record in (event.details or {}).get("evidence", ())
    ]


@read_only
def evidence_file(uow: UnitOfWork, redemption_id: uuid.UUID, sha256: str) -> EvidenceDownload:
    """A file attached to the redemption, by its digest; `UnknownEvidence` when none of the
    redemption's events attached it."""
    redemption = uow.redemptions.by_public_id(redemption_id)
    events = uow.session.scalars(
        select(RedemptionEvent).where(RedemptionEvent.redemption_id == redemption.id)
    ).all()
    named = [view for view in attached(events) if view.sha256 == sha256.lower()]
    stored = uow.session.get(EvidenceFile, sha256.lower()) if named else None
    if stored is None:
        raise UnknownEvidence(f"redemption {redemption_id} has no file {sha256}")
    ending = ENDINGS.get(stored.media_type, "bin")
    return EvidenceDownload(
        stored.content, stored.media_type, f"{named[0].kind}-{stored.sha256[:16]}.{ending}"
    )
