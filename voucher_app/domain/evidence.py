"""What a provider may attach to a redemption as evidence (its invoice, as a PDF or a photo, and
its contract), decided from the file's bytes alone.

The type is read from the content's first bytes (the PDF, JPEG and PNG signatures), never from
the file's name or the browser's word for it: both are the uploader's to choose. A kept file is
named by the SHA-256 of its bytes, which the redemption's event and the ledger's `redeem` entry
record, so what a reader downloads can be checked against what the provider submitted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from voucher_app.domain.errors import EvidenceEmpty, EvidenceTooLarge, EvidenceTypeRefused


class EvidenceKind(StrEnum):
    """Which document a file is; one of each per submission. The value names its ledger ref
    (`<kind>_file`)."""

    INVOICE = "invoice"
    CONTRACT = "contract"


#: Media type and file name ending, by the signature a file's content starts with.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
ENDINGS = {media_type: ending for _, media_type, ending in SIGNATURES}


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """An evidence file that may be kept: its digest, type and size."""

    sha256: str  # hex, as refs and URLs carry it
    media_type: str
    size: int


def check_file(kind: EvidenceKind, content: bytes, max_bytes: int) -> CheckedFile:
    """The file as evidence of `kind`, or the refusal: empty, larger than `max_bytes`, or not a
    PDF, JPEG or PNG by its content."""
    field = str(kind)
    if not content:
        raise EvidenceEmpty(f"the {kind} file is empty", field=field)
    if len(content) > max_bytes:
        raise EvidenceTooLarge(
            f"the {kind} file has {len(content)} bytes; at most {max_bytes} are kept",
            field=field,
            limit=max_bytes,
            extra={"megabytes": max(max_bytes // (1024 * 1024), 1)},
        )
    for signature, media_type, _ in SIGNATURES:
        if content.startswith(signature):
            return CheckedFile(hashlib.sha256(content).hexdigest(), media_type, len(content))
    raise EvidenceTypeRefused(f"the {kind} file is not a PDF, JPEG or PNG", field=field)


def ref_name(kind: EvidenceKind) -> str:
    """The ledger ref that carries the SHA-256 (hex) of a kind's file: `invoice_file`,
    `contract_file` (a ref's name is lower-case letters and underscores, `ledger.document`)."""
    return f"{kind}_file"
