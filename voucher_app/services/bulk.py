"""Bulk issuance by center staff from a CSV or XLSX list of SMEs, with a dry run first.

The dry run reports, row by row, who would get a voucher and who not, and why — an invalid or
unknown code, a code listed twice, an ineligible SME, a cap or budget the list would exceed —
before anything is posted. The real run issues the same rows, each its own claim, so one
refused row never blocks the others, and reports what happened to each.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from openpyxl import load_workbook
from sqlalchemy import select

from voucher_app.domain import accounts
from voucher_app.domain.actors import Actor
from voucher_app.domain.calendar import local_date
from voucher_app.domain.eligibility import (
    Applicant,
    ProgrammeRules,
    budget_exhausted,
    cap_reached,
    check_eligibility,
)
from voucher_app.domain.errors import ClaimRefused, InvalidInput, NotFound, VoucherError
from voucher_app.domain.sme import SizeClass, parse_uscc
from voucher_app.persistence.models import Center, ClaimAllowance, Programme, Sme
from voucher_app.persistence.uow import UnitOfWork, read_only, transaction
from voucher_app.services import vouchers
from voucher_app.services.centers import is_within
from voucher_app.services.programmes import programme_by_id
from voucher_app.services.smes import size_of
from voucher_app.services.vouchers import VoucherSigner

MAX_ROWS = 50_000
CODE_COLUMNS = ("uscc", "统一社会信用代码", "code")


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # as the user sees it in the file (the header is line 1)
    uscc: str


@dataclass(frozen=True, slots=True)
class RowOutcome:
    line: int
    uscc: str
    outcome: str  # "issued" (or "would_issue" in a dry run), else a refusal code
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
    def refused(self) -> int:
        return len(self.rows) - self.issued


def read_rows(filename: str, content: bytes) -> list[Row]:
    """The SME codes in a CSV (UTF-8, with or without BOM) or XLSX file with a header row
    naming a `uscc` (or `统一社会信用代码`) column."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        text = content.decode("utf-8-sig")
        records: Iterable[list[str]] = csv.reader(io.StringIO(text))
    elif suffix == ".xlsx":
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
            raise InvalidInput(f"{filename} is not a readable XLSX file: {exc}") from exc
        records = (
            ["" if cell is None else str(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        )
    else:
        raise InvalidInput("a list of SMEs is a .csv or .xlsx file", field="file")
    lines = iter(records)
    header = [cell.strip().lower() for cell in next(lines, [])]
    column = next((header.index(name) for name in CODE_COLUMNS if name in header), None)
    if column is None:
        raise InvalidInput(f"the first row must name a column {CODE_COLUMNS[0]!r}", field="file")
    rows = [
        Row(number, record[column].strip())
        for number, record in enumerate(lines, start=2)
        if len(record) > column and record[column].strip()
    ]
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} rows per file", field="file")
    return rows


@read_only
def dry_run(uow: UnitOfWork, programme_id: uuid.UUID, rows: list[Row]) -> BulkReport:
    """What a real run would do with each row, counting caps and budgets across the file."""
    session = uow.session
    programme = programme_by_id(session, programme_id)
    today = local_date(uow.clock.now())
    face = programme.voucher_face_value_fen
    rules = ProgrammeRules(
        programme.period_start,
        programme.period_end,
        {SizeClass(s) for s in programme.accepted_sizes},
        set(programme.accepted_industries),
    )
    pid = str(programme.public_id)
    seen: set[str] = set()
    claimed: dict[int, int] = {}  # sme id -> fen, this file included
    budgets: dict[str, int] = {}  # center code -> fen left, this file included
    outcomes = []
    for row in rows:
        triaged = _triage(row, seen)
        if isinstance(triaged, RowOutcome):
            outcomes.append(triaged)
            continue
        uscc = triaged
        try:
            sme = session.scalar(select(Sme).where(Sme.uscc == uscc))
            if sme is None:
                outcomes.append(RowOutcome(row.line, uscc, "unknown_sme", "not registered"))
                continue
            home = session.get_one(Center, sme.home_center_id)
            applicant = Applicant(
                size_of(sme),
                sme.industry,
                home.code,
                is_within(session, home.id, programme.owner_center_id),
            )
            check_eligibility(rules, applicant, today)
            taken = claimed.setdefault(sme.id, _claimed(uow, sme, programme))
            if taken + face > programme.sme_cap_fen:
                raise cap_reached(programme.sme_cap_fen, taken, face)
            left = budgets.setdefault(home.code, _available(uow, home.code, pid))
            if left < face:
                raise budget_exhausted(home.code, left, face)
        except VoucherError as refused:
            outcomes.append(RowOutcome(row.line, row.uscc, refused.code, refused.message))
            continue
        claimed[sme.id] = taken + face
        budgets[home.code] = left - face
        outcomes.append(RowOutcome(row.line, uscc, "would_issue", "eligible"))
    return BulkReport(True, outcomes)


BATCH = 200


def issue(
    uow: UnitOfWork,
    *,
    programme_id: uuid.UUID,
    rows: list[Row],
    actor: Actor,
    signer: VoucherSigner,
    batch_key: str,
) -> BulkReport:
    """Claim a voucher for each row, `BATCH` rows per transaction, each row in a savepoint so
    that a refused row rolls back alone. A row's idempotency key is `batch_key` and its line:
    running the same upload again issues nothing twice."""
    seen: set[str] = set()
    outcomes: dict[int, RowOutcome] = {}
    claims = []
    for row in rows:
        triaged = _triage(row, seen)
        if isinstance(triaged, RowOutcome):
            outcomes[row.line] = triaged
        else:
            claims.append(Row(row.line, triaged))
    for start in range(0, len(claims), BATCH):
        batch = claims[start : start + BATCH]
        for outcome in _issue_batch(uow, programme_id, batch, actor, signer, batch_key):
            outcomes[outcome.line] = outcome
    return BulkReport(False, [outcomes[row.line] for row in rows])


@transaction
def _issue_batch(  # noqa: PLR0917 - the private half of `issue`
    uow: UnitOfWork,
    programme_id: uuid.UUID,
    rows: list[Row],
    actor: Actor,
    signer: VoucherSigner,
    batch_key: str,
) -> list[RowOutcome]:
    outcomes = []
    for row in rows:
        savepoint = uow.session.begin_nested()
        try:
            voucher = vouchers.claim_within(
                uow,
                programme_id=programme_id,
                sme_uscc=row.uscc,
                actor=actor,
                signer=signer,
                idempotency_key=f"{batch_key}:{row.line}",
            )
        except (ClaimRefused, InvalidInput, NotFound) as refused:
            savepoint.rollback()
            outcomes.append(RowOutcome(row.line, row.uscc, refused.code, refused.message))
            continue
        savepoint.commit()
        outcomes.append(
            RowOutcome(row.line, voucher.sme_uscc, "issued", "issued", voucher.human_code)
        )
    return outcomes


def _triage(row: Row, seen: set[str]) -> RowOutcome | str:
    """The row's normalised code, or its outcome when it is not a code or came before."""
    try:
        uscc = parse_uscc(row.uscc)
    except InvalidInput as invalid:
        return RowOutcome(row.line, row.uscc, invalid.code, invalid.message)
    if uscc in seen:
        return RowOutcome(row.line, uscc, "duplicated", "listed twice")
    seen.add(uscc)
    return uscc


def _claimed(uow: UnitOfWork, sme: Sme, programme: Programme) -> int:
    claimed = uow.session.scalar(
        select(ClaimAllowance.claimed_fen).where(
            ClaimAllowance.sme_id == sme.id, ClaimAllowance.programme_id == programme.id
        )
    )
    return claimed or 0


def _available(uow: UnitOfWork, center: str, programme: str) -> int:
    return uow.journal.balance(accounts.available(center, programme))
