"""Bulk issuance from CSV and XLSX: the dry run names every problem row before anything is
posted; the real run issues the rest, row by row, and a second run issues nothing twice."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from tests import factories
from tests.integration.ledger_state import snapshot
from voucher_app.domain.errors import InvalidInput, TooManyRows
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import bulk, programmes, vouchers
from voucher_app.services.programmes import ProgrammeView
from voucher_app.services.vouchers import VoucherSigner

FACE = factories.TERMS.voucher_face_value_fen


@pytest.fixture
def programme(uow: UnitOfWork) -> ProgrammeView:
    factories.guangdong(uow)
    # Budget for four vouchers; each SME may have two.
    return factories.voucher_programme(uow, vouchers=4, sme_cap_fen=2 * FACE)


@pytest.fixture
def listing(uow: UnitOfWork, programme: ProgrammeView) -> bytes:
    a, b, c = (factories.sme(uow, n).uscc for n in (1, 2, 3))
    medium = factories.sme(uow, 4, employees=150, revenue_fen=2_000 * 1_000_000).uscc
    unregistered = factories.uscc(99)
    lines = [
        "uscc,name",
        f"{a},A",  # line 2: issued
        f"{a.lower()},A again",  # 3: listed twice (the same code in lower case)
        f"{b},B",  # 4: issued
        "91440300MA5F1234,typo",  # 5: not a code
        f"{unregistered},nobody",  # 6: not registered
        f"{medium},medium",  # 7: a size the programme does not take
        f"{c},C",  # 8: issued
        f"{c},C twice",  # 9: listed twice
        ",",  # blank: skipped
    ]
    return ("\n".join(lines) + "\n").encode()


EXPECTED = {
    2: "would_issue",
    3: "duplicated",
    4: "would_issue",
    5: "invalid_uscc",
    6: "unknown_sme",
    7: "not_eligible_size",
    8: "would_issue",
    9: "duplicated",
}


def run(
    uow: UnitOfWork,
    programme: ProgrammeView,
    rows: list[bulk.Row],
    signer: VoucherSigner,
    *,
    dry: bool = False,
    batch: str | None = None,
    center: str | None = None,
) -> bulk.BulkReport:
    return bulk.issue_from_list(
        uow,
        programme_id=programme.id,
        rows=rows,
        actor=factories.ADMIN,
        signer=signer,
        dry_run=dry,
        batch=batch,
        center=center,
    )


def test_the_dry_run_reports_every_row_and_posts_nothing(
    uow: UnitOfWork, programme: ProgrammeView, listing: bytes, voucher_signer: VoucherSigner
) -> None:
    rows = bulk.read_rows("list.csv", listing)
    before = snapshot(uow)
    report = run(uow, programme, rows, voucher_signer, dry=True)
    assert {r.line: r.outcome for r in report.rows} == EXPECTED
    assert (report.issued, report.already_issued, report.refused) == (3, 0, 5)
    assert snapshot(uow) == before
    assert vouchers.list_vouchers(uow) == []


def test_the_dry_run_counts_caps_and_budgets_across_the_file(
    uow: UnitOfWork, programme: ProgrammeView, voucher_signer: VoucherSigner
) -> None:
    smes = [factories.sme(uow, n).uscc for n in range(1, 6)]
    text = "uscc\n" + "\n".join(smes) + "\n"
    rows = bulk.read_rows("list.csv", text.encode())
    report = run(uow, programme, rows, voucher_signer, dry=True)
    assert [r.outcome for r in report.rows] == ["would_issue"] * 4 + ["budget_exhausted"]


def test_the_real_run_does_what_the_dry_run_said_and_a_rerun_issues_nothing_twice(
    uow: UnitOfWork, programme: ProgrammeView, listing: bytes, voucher_signer: VoucherSigner
) -> None:
    rows = bulk.read_rows("list.csv", listing)
    report = run(uow, programme, rows, voucher_signer)
    as_dry_run = {r.line: r.outcome.replace("issued", "would_issue") for r in report.rows}
    assert as_dry_run == EXPECTED
    assert len(vouchers.list_vouchers(uow)) == 3
    # The same list, re-sorted: the same batch, so nothing new — and the dry run says so too.
    resorted = list(reversed(rows))
    assert run(uow, programme, resorted, voucher_signer, dry=True).already_issued == 3
    again = run(uow, programme, resorted, voucher_signer)
    assert len(vouchers.list_vouchers(uow)) == 3
    assert (again.issued, again.already_issued) == (0, 3)
    first_codes = {r.uscc: r.voucher_code for r in report.rows if r.outcome == "issued"}
    assert {r.uscc: r.voucher_code for r in again.rows if r.voucher_code} == first_codes


@pytest.mark.parametrize("dry", [True, False])
def test_an_upload_for_a_center_reaches_only_smes_at_home_below_it(
    uow: UnitOfWork, programme: ProgrammeView, voucher_signer: VoucherSigner, dry: bool
) -> None:
    nanshan = factories.sme(uow, 1).uscc
    tianhe = factories.sme(uow, 2, region="440106", home_center="440106").uscc
    rows = bulk.read_rows("list.csv", f"uscc\n{tianhe}\n{nanshan}\n".encode())
    report = run(uow, programme, rows, voucher_signer, dry=dry, center="440300")
    assert [(r.line, r.uscc, r.outcome) for r in report.rows] == [
        (2, tianhe, "outside_center"),
        (3, nanshan, "would_issue" if dry else "issued"),
    ]
    assert [v.sme_uscc for v in vouchers.list_vouchers(uow)] == ([] if dry else [nanshan])
    # The province's staff reach both; Tianhe has no budget, so it is refused for that.
    wider = run(uow, programme, rows, voucher_signer, dry=True, center="440000")
    assert wider.rows[0].outcome == "budget_exhausted"


def test_a_row_refused_for_budget_keeps_its_cap_for_a_later_claim(
    uow: UnitOfWork, programme: ProgrammeView, voucher_signer: VoucherSigner
) -> None:
    smes = [factories.sme(uow, n).uscc for n in range(1, 7)]
    rows = bulk.read_rows("list.csv", ("uscc\n" + "\n".join(smes) + "\n").encode())
    report = run(uow, programme, rows, voucher_signer, batch="first")
    assert [r.outcome for r in report.rows] == ["issued"] * 4 + ["budget_exhausted"] * 2
    assert programmes.available_budget(uow, programme.id, "440305") == 0
    for parent, child in (("440000", "440300"), ("440300", "440305")):
        programmes.allocate(
            uow,
            programme.id,
            BudgetMove(from_center=parent, to_center=child, amount_fen=4 * FACE),
            actor=factories.ADMIN,
        )
    # The two refused rows took nothing from their cap (two vouchers each): both fit twice.
    again = run(uow, programme, rows[4:] * 2, voucher_signer, batch="second")
    assert [r.outcome for r in again.rows] == ["issued", "issued", "duplicated", "duplicated"]
    again = run(uow, programme, rows[4:], voucher_signer, batch="third")
    assert [r.outcome for r in again.rows] == ["issued", "issued"]
    assert len(vouchers.list_vouchers(uow)) == 8


def test_a_named_second_round_issues_again_up_to_the_cap(
    uow: UnitOfWork, programme: ProgrammeView, voucher_signer: VoucherSigner
) -> None:
    a, b = (factories.sme(uow, n).uscc for n in (1, 2))
    rows = bulk.read_rows("list.csv", f"uscc\n{a}\n{b}\n".encode())
    assert run(uow, programme, rows, voucher_signer, batch="round-1").issued == 2
    assert run(uow, programme, rows, voucher_signer, batch="round-2").issued == 2
    third = run(uow, programme, rows, voucher_signer, batch="round-3")
    assert [r.outcome for r in third.rows] == ["cap_reached", "cap_reached"]
    assert len(vouchers.list_vouchers(uow)) == 4


def test_the_same_list_for_two_programmes_issues_in_each(
    uow: UnitOfWork, programme: ProgrammeView, voucher_signer: VoucherSigner
) -> None:
    other = factories.voucher_programme(uow, vouchers=4, sme_cap_fen=2 * FACE, name="Second")
    a = factories.sme(uow, 1).uscc
    rows = bulk.read_rows("list.csv", f"uscc\n{a}\n".encode())
    assert run(uow, programme, rows, voucher_signer).issued == 1
    assert run(uow, other, rows, voucher_signer).issued == 1
    assert {v.programme_id for v in vouchers.list_vouchers(uow)} == {programme.id, other.id}


def test_an_xlsx_list_reads_like_a_csv_one(uow: UnitOfWork, programme: ProgrammeView) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "企业名称"])
    sheet.append([factories.sme(uow, 1).uscc, "A"])
    sheet.append([None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = bulk.read_rows("名单.xlsx", buffer.getvalue())
    assert [(r.line, r.uscc) for r in rows] == [(2, factories.uscc(1))]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("list.txt", b"uscc\n", "csv or .xlsx"),
        ("list.csv", b"name\nA\n", "column 'uscc'"),
        ("list.xlsx", b"not a workbook", "not an XLSX file"),
        ("list.csv", b"uscc\n\xff\xfe\xff\n", "neither UTF-8 nor GB18030"),
        ("list.csv", b"uscc,notes\nA," + b"x" * 200_000 + b"\n", "line 2: not CSV"),
    ],
)
def test_unreadable_lists_are_refused(name: str, content: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        bulk.read_rows(name, content)


def test_a_list_saved_by_excel_in_china_reads_in_gb18030() -> None:
    content = f"统一社会信用代码,企业名称\n{factories.uscc(1)},测试企业\n".encode("gb18030")
    assert [(r.line, r.uscc) for r in bulk.read_rows("名单.csv", content)] == [
        (2, factories.uscc(1))
    ]


def test_a_list_of_more_rows_than_the_limit_is_refused_at_the_row_past_it() -> None:
    listing = "uscc\n" + "".join(f"{factories.uscc(n)}\n" for n in range(5))
    assert len(bulk.read_rows("l.csv", listing.encode(), max_rows=6)) == 5
    with pytest.raises(TooManyRows) as refused:
        bulk.read_rows("l.csv", (listing + "not read\x00").encode(), max_rows=5)
    assert refused.value.details["limit"] == 5
