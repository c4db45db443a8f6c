"""Bulk issuance by center staff from a CSV or XLSX list of SMEs, with a dry run first.

Both runs go through the same steps: the distinct, valid codes are claimed `BATCH` at a time by
`vouchers.claim_many_within` — the single claim's rules, caps and budgets, set at a time — so
caps and budgets are counted across the file exactly as the real run will meet them. The dry
run then rolls the whole transaction back, having posted nothing; the real run commits each
batch. A row's key (kept on the voucher it issues) names the programme, the batch and the SME,
so running the same list again — even re-sorted — issues nothing twice: those rows come back
`already_issued`, with the voucher the first run issued.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select

from voucher_app.domain.actors import Actor
from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.sme import parse_uscc
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Sme
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import vouchers
from voucher_app.services.centers import subtree_ids
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.tabular.reading import MAX_ROWS, read_table

#: Told how many rows are done, of how many, after each transaction's worth.
Progress = Callable[[int, int], None]
CODE_COLUMNS = ("uscc", "统一社会信用代码", "code")


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # as the user sees it in the file (the header is line 1)
    uscc: str


@dataclass(frozen=True, slots=True)
class RowOutcome:
    line: int
    uscc: str
    outcome: str  # "issued" ("would_issue" in a dry run), "already_issued", or a refusal code
    message: str
    voucher_code: str | None = None


@dataclass(frozen=True, slots=True)
class BulkReport:
    dry_run: bool
    rows: list[RowOutcome]

    @property
    def issued(self) -> int:
        return sum(r.outcome in {"issued", "would_issue"} for r in self.rows)

    @property
    def already_issued(self) -> int:
        return sum(r.outcome == "already_issued" for r in self.rows)

    @property
    def refused(self) -> int:
        return len(self.rows) - self.issued - self.already_issued


def read_rows(filename: str, content: bytes, *, max_rows: int = MAX_ROWS) -> list[Row]:
    """The SME codes in a CSV (UTF-8 or GB18030) or XLSX file with a header row naming a `uscc`
    (or `统一社会信用代码`) column; a file of more than `max_rows` rows is refused as soon as
    the row past the limit is read."""
    records = (
        (line, ["" if cell is None else str(cell) for cell in row])
        for line, row in read_table(filename, content, max_rows=max_rows)
    )
    return _code_column(records)


def _code_column(records: Iterator[tuple[int, list[str]]]) -> list[Row]:
    _, first = next(records, (1, []))
    header = [cell.strip().lower() for cell in first]
    column = next((header.index(name) for name in CODE_COLUMNS if name in header), None)
    if column is None:
        raise InvalidInput(f"the first row must name a column {CODE_COLUMNS[0]!r}", field="file")
    return [
        Row(number, record[column].strip())
        for number, record in records
        if len(record) > column and record[column].strip()
    ]


def batch_name(rows: list[Row]) -> str:
    """The default batch: a name for the list that survives re-sorting and re-saving it."""
    codes = sorted({row.uscc.strip().upper() for row in rows})
    return hashlib.sha256("\n".join(codes).encode()).hexdigest()[:24]


BATCH = vouchers.MAX_CLAIMS_AT_ONCE  # rows per transaction


def issue_from_list(
    uow: UnitOfWork,
    *,
    programme_id: uuid.UUID,
    rows: list[Row],
    actor: Actor,
    signer: VoucherSigner,
    dry_run: bool,
    batch: str | None = None,
    center: str | None = None,
    progress: Progress | None = None,
) -> BulkReport:
    """Claim a voucher for each row, `BATCH` rows per transaction (see the module docstring);
    with `dry_run`, say what that would do instead: the real claims, in one transaction rolled
    back, so that caps and budgets count across the file (it reports no progress, which would
    need a second writer while it holds SQLite's lock).

    `batch` defaults to `batch_name(rows)`; a center that means to issue the same list again
    (a second round of a programme that allows two vouchers) names the round instead. With
    `center`, only SMEs at home in that center or below it are issued to; the others are
    refused as `outside_center`.
    """
    issuance = _Issuance(
        programme_id, actor, signer, batch or batch_name(rows), _homes_within(uow, center)
    )
    if dry_run:
        return _dry_run(uow, issuance, rows)
    outcomes: list[RowOutcome] = []
    for part in _batches(rows):
        outcomes += _issue_batch(uow, issuance, part)
        if progress is not None:
            progress(len(outcomes), len(rows))
    return BulkReport(False, outcomes)


@dataclass(frozen=True, slots=True)
class _Issuance:
    """What every row of one list is claimed with: the programme, who issues and signs, the
    batch the rows' keys name, and the centers whose SMEs it may reach (None: any)."""

    programme_id: uuid.UUID
    actor: Actor
    signer: VoucherSigner
    batch: str
    within: frozenset[int] | None


def _dry_run(uow: UnitOfWork, issuance: _Issuance, rows: list[Row]) -> BulkReport:
    with uow:  # never committed: leaving the block rolls everything back
        outcomes = [
            outcome for part in _batches(rows) for outcome in _claim_rows(uow, issuance, part)
        ]
    return BulkReport(
        True,
        [
            dataclasses.replace(o, outcome="would_issue", message="would issue", voucher_code=None)
            if o.outcome == "issued"
            else o
            for o in outcomes
        ],
    )


@read_only
def _homes_within(uow: UnitOfWork, center: str | None) -> frozenset[int] | None:
    """The centers whose SMEs an upload for `center` may reach (None: any), read in a snapshot
    of its own (the real run's batches each commit)."""
    if center is None:
        return None
    return frozenset(subtree_ids(uow.session, uow.centers.by_code(center).id))


def _batches(rows: list[Row]) -> list[list[Row]]:
    return [rows[start : start + BATCH] for start in range(0, len(rows), BATCH)]


@transaction
def _issue_batch(uow: UnitOfWork, issuance: _Issuance, rows: list[Row]) -> list[RowOutcome]:
    return _claim_rows(uow, issuance, rows)


def _claim_rows(uow: UnitOfWork, issuance: _Issuance, rows: list[Row]) -> list[RowOutcome]:
    """Claim for each row inside the caller's open transaction (`vouchers.claim_many_within`)."""
    outcomes: list[RowOutcome | None] = [None] * len(rows)
    wanted: dict[str, int] = {}  # code → the position of its first row
    for position, row in enumerate(rows):
        try:
            uscc = parse_uscc(row.uscc)
        except InvalidInput as invalid:
            outcomes[position] = RowOutcome(row.line, row.uscc, invalid.code, invalid.message)
            continue
        if uscc in wanted:
            outcomes[position] = RowOutcome(row.line, uscc, "duplicated", "listed twice")
            continue
        wanted[uscc] = position
    for uscc in _homes_outside(uow, list(wanted), issuance.within):
        position = wanted.pop(uscc)
        outcomes[position] = RowOutcome(
            rows[position].line, uscc, "outside_center", "at home outside the uploading center"
        )
    programme_id = issuance.programme_id
    answers = vouchers.claim_many_within(
        uow,
        programme_id=programme_id,
        keys={uscc: f"bulk:{programme_id}:{issuance.batch}:{uscc}" for uscc in wanted},
        actor=issuance.actor,
        signer=issuance.signer,
    )
    for uscc, position in wanted.items():
        line = rows[position].line
        match answers[uscc]:
            case vouchers.Issued(code, replayed):
                outcome = "already_issued" if replayed else "issued"
                outcomes[position] = RowOutcome(line, uscc, outcome, outcome, code)
            case refused:
                outcomes[position] = RowOutcome(line, uscc, refused.code, refused.message)
    return [outcome for outcome in outcomes if outcome is not None]


def _homes_outside(uow: UnitOfWork, usccs: list[str], within: frozenset[int] | None) -> list[str]:
    if within is None or not usccs:
        return []
    return list(
        uow.session.scalars(
            select(Sme.uscc).where(Sme.uscc.in_(usccs), Sme.home_center_id.not_in(within))
        )
    )
