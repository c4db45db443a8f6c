"""The witness's side of `add-checkpoint` (c2sp.org/tlog-witness), as pure functions.

A request body is an old size line, up to 63 base64 consistency-proof lines, a blank line and
the log's signed checkpoint:

    old 20852014
    PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
    …

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/…

`judge` decides it against what the witness holds for that log, with the statuses the spec
gives: 400 a malformed request or an old size above the checkpoint's, 403 no valid signature
by the log's key, 404 a log the witness does not know, 409 an old size that is not the one the
witness holds (the body says which) or the same size with another root, 422 a consistency
proof that does not verify. A refusal over a checkpoint the log really signed that contradicts
what the witness holds (another root at its size, a proof that fails, a smaller tree than one
already cosigned) carries `evidence`: the two heads, kept for anyone to see.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from voucher_app.domain.errors import VoucherError
from voucher_app.ledger import merkle
from voucher_app.signing.note import (
    Checkpoint,
    NoteError,
    Verifier,
    open_checkpoint,
    parse_checkpoint,
    split_note,
)

MAX_PROOF = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


class Evidence(StrEnum):
    """How a checkpoint the log signed contradicts the one the witness holds."""

    FORK = "fork"  # the same tree size with another root
    INCONSISTENT = "inconsistent"  # a larger tree whose proof from the held one fails
    ROLLBACK = "rollback"  # a smaller tree than one the witness already cosigned


@dataclass(frozen=True)
class Request:
    old_size: int
    proof: list[bytes]
    note: str


@dataclass(frozen=True)
class Head:
    """The latest checkpoint a witness cosigned for a log: its size, root and signed note."""

    size: int
    root: bytes
    note: str


class Refused(VoucherError):
    """The witness's answer when it does not cosign: an HTTP status (`status`) and why; on a
    409 over the old size, the size it holds (`size`); and whether the request was evidence."""

    code = "witness_refused"

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        size: int | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.size = size
        self.evidence = evidence

    @classmethod
    def holding(cls, size: int, evidence: Evidence | None = None) -> Refused:
        """The 409 that tells the log the tree size this witness holds (its body)."""
        return cls(f"this witness holds tree size {size}", status=409, size=size, evidence=evidence)


def request_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The body of an `add-checkpoint` request."""
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return ("".join(lines) + note).encode()


def parse_request(body: bytes) -> Request:
    """A request body's parts; `Refused(400)` when it is not one."""
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise Refused("the request is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    old = _OLD.fullmatch(lines[0])
    if not sep or old is None:
        raise Refused("the request starts with an 'old <size>' line and a blank line")
    if len(lines) - 1 > MAX_PROOF:
        raise Refused(f"a consistency proof has at most {MAX_PROOF} lines")
    proof: list[bytes] = []
    for line in lines[1:]:
        try:
            proof.append(base64.b64decode(line, validate=True))
        except binascii.Error as exc:
            raise Refused(f"proof line {line!r} is not base64") from exc
        if len(proof[-1]) != merkle.HASH_SIZE:
            raise Refused(f"proof line {line!r} is not a 32-byte hash")
    return Request(int(old.group(1)), proof, note)


def origin_of(note: str) -> str:
    """The origin line of a request's checkpoint, before any signature is checked."""
    try:
        return parse_checkpoint(split_note(note)[0]).origin
    except NoteError as exc:
        raise Refused(f"the request's checkpoint is malformed: {exc}") from exc


def judge(
    request: Request, logs: Mapping[str, Sequence[Verifier]], held: Head | None
) -> Checkpoint:
    """The checkpoint to cosign, or `Refused`. `logs` maps each known origin to its keys;
    `held` is the head the witness holds for the request's log (None: it never cosigned one).

    The caller stores the returned checkpoint as the new head atomically with reading `held`
    (only if the head is still `held`), then cosigns it.
    """
    origin = origin_of(request.note)
    if origin not in logs:
        raise Refused(status=404, message=f"this witness does not know the log {origin!r}")
    try:
        checkpoint = open_checkpoint(request.note, logs[origin])  # signed by its origin's key
    except NoteError as exc:
        raise Refused(
            status=403, message=f"the checkpoint is not signed by the log's key: {exc}"
        ) from exc
    held_size = held.size if held is not None else 0
    rollback = Evidence.ROLLBACK if held is not None and checkpoint.size < held.size else None
    if request.old_size > checkpoint.size:
        raise Refused("the old size is larger than the checkpoint's", evidence=rollback)
    if request.old_size != held_size:
        raise Refused.holding(held_size, rollback)
    if held is None or held.size == 0:  # nothing to be consistent with: no proof
        if request.proof:
            raise Refused("the proof from an old size of 0 is empty")
        return checkpoint
    if checkpoint.size == held.size:
        if checkpoint.root != held.root:
            raise Refused(
                status=409,
                message="another root at the size already cosigned",
                evidence=Evidence.FORK,
            )
        return checkpoint
    try:
        merkle.verify_consistency(
            held.size, checkpoint.size, request.proof, held.root, checkpoint.root
        )
    except merkle.ProofError as exc:
        raise Refused(
            f"the tree does not extend the one cosigned: {exc}",
            status=422,
            evidence=Evidence.INCONSISTENT,
        ) from exc
    return checkpoint
