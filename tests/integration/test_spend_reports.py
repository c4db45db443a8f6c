"""Spend reports: a center's figures, its own and rolled up its subtree, by child center,
programme, category, provider and month — each equal to what a replay of the journal gives."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from openpyxl import load_workbook

from tests import factories
from tests.integration import spend_replay
from tests.integration.test_redemptions import FACE, SME, STAFF, World, build
from tests.integration.test_settlement import FINANCE, FUNDING, camt053, entry
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import InvalidInput, UnknownCenter
from voucher_app.domain.money import format_amount
from voucher_app.domain.programmes import BudgetMove
from voucher_app.domain.spend import FIGURE_NAMES, Figures, format_share, local_month, share_bp
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.reports.spend_tables import spend_csv, spend_xlsx
from voucher_app.services import (
    programmes,
    reconciliation,
    redemptions,
    reports,
    settlement,
    vouchers,
)
from voucher_app.services.providers import ProviderView
from voucher_app.services.vouchers import VoucherSigner

ADMIN = factories.ADMIN
BUDGET = factories.TERMS.total_budget_fen
PASSED_DOWN = 3 * FACE  # voucher_programme(vouchers=3) allocates this to Shenzhen, then Nanshan
#: The worked example: ¥1,000 + ¥500 (provider 1, accounting) and ¥750 (provider 2, legal)
#: approved and paid, provider 2's payment returned; a ¥200 redemption rejected; the voucher
#: revoked.
REDEEMED = 100_000 + 50_000 + 75_000
PAID = 100_000 + 50_000
LEFT_ON_VOUCHER = FACE - REDEEMED


@dataclasses.dataclass
class Example:
    world: World
    second: ProviderView
    first_month: str
    second_month: str


@pytest.fixture
def example(
    uow: UnitOfWork,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> Example:
    world = build(uow, voucher_keys, voucher_signer)
    second = factories.provider(uow, 2)
    submitted = [
        world.submit(200_000, "P1-A"),
        world.submit(100_000, "P1-B"),
        world.submit(150_000, "P2-A", provider=second, category="legal"),
    ]
    for redemption in submitted:
        redemptions.confirm_redemption(uow, redemption.id, SME)
        redemptions.approve_redemption(uow, redemption.id, STAFF)
    refused = world.submit(40_000, "P1-C")
    redemptions.reject_redemption(uow, refused.id, "no proof of delivery", STAFF)
    first_month = local_month(clock.now())
    clock.advance(timedelta(days=31))  # payment and its return fall in the next month
    settlement.set_funding_account(uow, world.programme, FUNDING, ADMIN)
    batch = settlement.build_batch(uow, world.programme, "440300", FINANCE)
    settlement.export_batch(uow, batch.id, FINANCE)
    lines = [entry(item.reference, format_amount(item.amount_fen)) for item in batch.items]
    reconciliation.import_statement(
        uow, filename="s1.xml", content=camt053("S1", lines), actor=FINANCE
    )
    back = next(item for item in batch.items if item.provider_id == second.id)
    returned = entry(back.reference, "750.00", debit=False, returned=True, bank_ref="RET-1")
    reconciliation.import_statement(
        uow, filename="s2.xml", content=camt053("S2", [returned]), actor=FINANCE
    )
    vouchers.revoke_voucher(uow, world.voucher.id, "the business closed", ADMIN)
    return Example(world, second, first_month, local_month(clock.now()))


NANSHAN = Figures(
    allocated_fen=PASSED_DOWN,
    committed_fen=FACE,
    redeemed_fen=REDEEMED,
    approved_fen=REDEEMED,
    paid_fen=PAID,
    returned_fen=LEFT_ON_VOUCHER,
)


def test_a_worked_example_adds_up_down_the_hierarchy(example: Example) -> None:
    uow = example.world.uow
    nanshan = reports.spend_report(uow, "440305")
    assert (nanshan.total, nanshan.own) == (NANSHAN, NANSHAN)
    assert nanshan.total.available_fen == PASSED_DOWN - FACE + LEFT_ON_VOUCHER
    shenzhen = reports.spend_report(uow, "440300")
    assert shenzhen.own == Figures()  # it passed everything it got down to Nanshan
    assert shenzhen.total == NANSHAN
    assert {line.key: line.figures for line in shenzhen.children}["440305"] == NANSHAN
    province = reports.spend_report(uow, "440000")
    assert province.own == Figures(allocated_fen=BUDGET - PASSED_DOWN)
    assert province.total == dataclasses.replace(NANSHAN, allocated_fen=BUDGET)
    assert province.total.available_fen == BUDGET - FACE + LEFT_ON_VOUCHER
    assert len(province.children) == 21  # every city, most with nothing yet
    assert {line.key: line.figures for line in province.children}["440300"] == NANSHAN
    guangzhou = reports.spend_report(uow, "440100")
    assert guangzhou.total == Figures()


def test_the_breakdowns_split_the_redemptions_by_provider_category_and_month(
    example: Example,
) -> None:
    world = example.world
    report = reports.spend_report(world.uow, "440000")
    by_provider = {line.key: line for line in report.by_provider}
    assert by_provider[str(world.provider.id)].figures == Figures(
        redeemed_fen=150_000, approved_fen=150_000, paid_fen=PAID
    )
    assert by_provider[str(example.second.id)].figures == Figures(
        redeemed_fen=75_000, approved_fen=75_000
    )
    assert by_provider[str(example.second.id)].label == example.second.name
    by_category = {line.key: line for line in report.by_category}
    assert by_category["legal"].figures.redeemed_fen == 75_000
    assert by_category["legal"].label == "法律服务"
    assert by_category["accounting_tax"].figures.paid_fen == PAID
    by_month = {line.key: line.figures for line in report.by_month}
    assert by_month[example.first_month] == Figures(
        allocated_fen=BUDGET, committed_fen=FACE, redeemed_fen=REDEEMED, approved_fen=REDEEMED
    )
    assert by_month[example.second_month] == Figures(paid_fen=PAID, returned_fen=LEFT_ON_VOUCHER)
    assert [line.key for line in report.by_programme] == [str(world.programme)]


@pytest.mark.parametrize("center", ["440000", "440300", "440305", "440100"])
def test_every_figure_equals_the_ledger_replay(example: Example, center: str) -> None:
    uow = example.world.uow
    spend_replay.assert_matches_replay(uow, reports.spend_report(uow, center))


def test_a_report_can_be_narrowed_to_months_and_a_programme(example: Example) -> None:
    uow = example.world.uow
    later = reports.spend_report(uow, "440305", from_month=example.second_month)
    assert later.total == Figures(paid_fen=PAID, returned_fen=LEFT_ON_VOUCHER)
    earlier = reports.spend_report(uow, "440305", to_month=example.first_month)
    assert earlier.total.paid_fen == 0 and earlier.total.committed_fen == FACE
    other = factories.programme(uow, fund_fen=1_000, name="另一项目 Another")
    assert reports.spend_report(uow, "440000", programme_id=other.id).total == Figures(
        allocated_fen=1_000
    )
    assert reports.spend_report(
        uow, "440000", programme_id=example.world.programme
    ).total == dataclasses.replace(NANSHAN, allocated_fen=BUDGET)


@pytest.mark.parametrize(("month", "field"), [("2026-13", "from_month"), ("March", "to_month")])
def test_a_bad_month_is_refused_with_its_field(example: Example, month: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        if field == "from_month":
            reports.spend_report(example.world.uow, "440000", from_month=month)
        else:
            reports.spend_report(example.world.uow, "440000", to_month=month)
    assert refused.value.code == "invalid_input"
    assert refused.value.details["field"] == field


def test_an_unknown_center_is_refused(example: Example) -> None:
    with pytest.raises(UnknownCenter):
        reports.spend_report(example.world.uow, "449999")


def test_the_csv_and_xlsx_carry_the_reports_figures(example: Example) -> None:
    report = reports.spend_report(example.world.uow, "440300")
    rows = list(csv.DictReader(io.StringIO(spend_csv(report).decode("utf-8-sig"))))
    assert [(r["section"], r["key"]) for r in rows[:2]] == [("total", "440300"), ("own", "440300")]
    total = rows[0]
    for name in FIGURE_NAMES:
        expected = format_amount(report.total.as_dict()[name])
        assert total[name.removesuffix("_fen") + "_cny"] == expected
    assert {r["key"] for r in rows if r["section"] == "center"} == {
        line.key for line in report.children
    }
    assert len(rows) == 2 + sum(
        len(lines)
        for lines in (
            report.children,
            report.by_programme,
            report.by_category,
            report.by_provider,
            report.by_month,
        )
    )
    book = load_workbook(io.BytesIO(spend_xlsx(report)))
    summary = book["汇总 Summary"]
    header = [cell.value for cell in summary[1]]
    paid = header.index("已支付 paid")
    assert summary.cell(row=2, column=paid + 1).value == Decimal(PAID) / 100
    assert summary.cell(row=2, column=paid + 1).number_format.startswith('"¥"')
    providers = book["服务机构 Providers"]
    assert providers.max_row == 1 + len(report.by_provider)


def test_utilisation_reads_a_small_spend_against_a_large_budget(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    """A ¥3,000,000 budget with ¥10,000 committed reads 0.33% — a share of the budget, not a
    bar beside it on one axis — and a city given no budget has no share at all."""
    factories.guangdong(uow)
    programme = factories.programme(
        uow,
        fund_fen=BUDGET * 10,
        total_budget_fen=BUDGET * 10,
        voucher_face_value_fen=1_000_000,
        sme_cap_fen=1_000_000,
    )
    for parent, child, amount in (
        ("440000", "440300", 300_000_000),
        ("440300", "440305", 1_000_000),
    ):
        programmes.allocate(
            uow, programme.id, BudgetMove(from_center=parent, to_center=child, amount_fen=amount),
            actor=ADMIN,
        )  # fmt: skip
    sme = factories.sme(uow, 1)
    vouchers.claim_voucher(
        uow, programme_id=programme.id, sme_uscc=sme.uscc, actor=ADMIN, signer=voucher_signer
    )

    province = reports.spend_report(uow, "440000")
    used = {line.key: line for line in reports.utilisation(province.children)}
    assert len(used) == 21
    shenzhen = used["440300"]
    assert (shenzhen.budget_fen, shenzhen.committed_fen) == (300_000_000, 1_000_000)
    assert (shenzhen.committed_bp, shenzhen.redeemed_bp, shenzhen.paid_bp) == (33, 0, 0)
    assert format_share(shenzhen.committed_bp) == "0.33%"
    assert used["440100"].committed_bp is None  # Guangzhou has no budget to be a share of
    nanshan = {
        line.key: line for line in reports.utilisation(reports.spend_report(uow, "440300").children)
    }
    assert nanshan["440305"].committed_bp == 10_000  # all of its ¥10,000 went to the voucher


def test_utilisation_follows_redemption_and_payment(example: Example) -> None:
    """Nanshan's worked example: committed, redeemed and paid each as a share of its budget."""
    shenzhen = reports.spend_report(example.world.uow, "440300")
    (nanshan,) = [line for line in reports.utilisation(shenzhen.children) if line.key == "440305"]
    assert nanshan.budget_fen == PASSED_DOWN
    assert nanshan.committed_bp == share_bp(FACE, PASSED_DOWN)
    assert nanshan.redeemed_bp == REDEEMED * 10_000 // PASSED_DOWN
    assert nanshan.paid_bp == PAID * 10_000 // PASSED_DOWN
