"""The yearly center evaluation (综合评价考核) over real rows, on both databases: a year of
redemptions in two Shenzhen districts, made through the services, counted for the center that
issued each voucher, rolled up the hierarchy, and scored by the packaged 2026 scheme, against
figures and scores worked out by hand below.

The year, as the test makes it (every SME registered 40 days before its first redemption, so no
signal but `round_amount`, which fires on whole thousands of yuan):

Nanshan (440305), budget ¥20,000: vouchers for SMEs 1, 2 and 3.
    A  SME 1, invoice ¥4,000 (round: flagged), approved with a reason, published; objected to
       (open); rated 4
    B  SME 1, invoice ¥3,001, approved, published; rated 5; complained of (resolved); paid
       ¥1,500.50 in the batch (A is held by its objection)
    C  SME 3, invoice ¥2,000 (flagged), rejected
    D  SME 3, invoice ¥1,000 (flagged), confirmed, waiting
Futian (440304), budget ¥10,000: a voucher for SME 4.
    E  SME 4, invoice ¥3,001, approved, published; rated 5

By hand (value, score, points; the scheme's table is in tests/unit/test_evaluation_scores.py):

Nanshan  issued 3, redeemed 1 (C was rejected, D waits), paid 150,050 of 2,000,000 fen,
         ratings 9/2, redemptions 4, flagged 3 (1 approved, 1 rejected), notice 2, objections 1,
         complaints 2 (1 resolved)
    redemption_rate      1/3 = 0.33      41.67    8.33
    budget_execution     0.075025 = 0.08  8.34    1.25   (15 x 0.075025 / 0.9 = 1.2504)
    rating_average       4.50            75.00   15.00
    flagged_share        0.75             0.00    0.00   (past the worst, 0.3)
    flagged_resolved     2/3 = 0.67      33.33    3.33
    objection_rate       0.50             0.00    0.00
    complaints_resolved  0.50             0.00    0.00
    total 25/3 + 1.2504167 + 15 + 10/3 = 27.9170833 -> 27.92, 不合格
Futian   issued 1, redeemed 1, paid 0 of 1,000,000, ratings 5/1, redemptions 1, notice 1
    redemption_rate 1 -> 100 -> 20; budget_execution 0 -> 0 -> 0; rating_average 5 -> 100 -> 20;
    flagged_share 0 -> 100 -> 10; objection_rate 0 -> 100 -> 10; flagged_resolved and
    complaints_resolved do not apply: 60 points of 75 -> 80.00, 良好
Shenzhen (440300) = Nanshan + Futian (it passed on all it received):
    redemption_rate 2/4 -> 62.5 -> 12.50; budget_execution 150,050/3,000,000 -> 5.56 -> 0.83
    (15 x 150,050 x 10 / (3,000,000 x 9) = 0.8336111); rating_average 14/3 -> 83.33 -> 16.67;
    flagged_share 3/5 -> 0; flagged_resolved 2/3 -> 3.33; objection_rate 1/3 -> 0;
    complaints_resolved 1/2 -> 0
    total 12.5 + 0.8336111 + 50/3 + 10/3 = 33.3336111 -> 33.33, 不合格
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from importlib import resources

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests import factories
from tests.integration.test_notice_objections import NEIGHBOUR
from tests.integration.test_redemptions import PROVIDER, SME, STAFF
from tests.integration.test_settlement import FINANCE, FUNDING, camt053, entry
from voucher_app.clock import FrozenClock
from voucher_app.domain.evaluation import Figures, Scheme, read_schemes, shown
from voucher_app.domain.money import format_amount
from voucher_app.domain.programmes import BudgetMove
from voucher_app.domain.signals import DEFAULT_THRESHOLDS
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import (
    evaluation,
    programmes,
    reconciliation,
    redemptions,
    settlement,
    tracking,
    vouchers,
)
from voucher_app.services.evaluation import CenterScore, EvaluationReport
from voucher_app.services.providers import ProviderView
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner

ADMIN = factories.ADMIN
PACKAGED = (resources.files("voucher_app") / "data" / "center-evaluation.toml").read_text("utf-8")
YEAR = 2026


@dataclass
class Year:
    uow: UnitOfWork
    clock: FrozenClock
    keys: dict[str, Ed25519PublicKey]
    provider: ProviderView

    def claim(self, token: str, invoiced_fen: int, invoice: str) -> RedemptionView:
        """Submitted and confirmed by the SME, so scored for signals."""
        submitted = redemptions.submit_redemption(
            self.uow,
            provider_id=self.provider.id,
            proof=VoucherProof(token=token),
            service=Service(
                invoice_number=invoice,
                invoiced_fen=invoiced_fen,
                delivered_on=self.clock.now().date(),
                category="accounting_tax",
                description="年度汇算清缴",
            ),
            actor=PROVIDER,
            public_keys=self.keys,
        )
        return redemptions.confirm_redemption(self.uow, submitted.id, SME, DEFAULT_THRESHOLDS)

    def approve(self, claim: RedemptionView, reason: str | None = None) -> None:
        redemptions.approve_redemption(
            self.uow, claim.id, STAFF, reason=reason, limits=DEFAULT_THRESHOLDS
        )


@pytest.fixture(scope="module")
def scheme() -> Scheme:
    return read_schemes(PACKAGED)[YEAR]


@pytest.fixture
def year(
    uow: UnitOfWork,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> Year:
    """The year of the module's docstring."""
    factories.guangdong(uow)
    programme = factories.voucher_programme(uow, vouchers=4, notice_working_days=5).id
    for parent, child in (("440000", "440300"), ("440300", "440304")):
        move = BudgetMove(from_center=parent, to_center=child, amount_fen=1_000_000)
        programmes.allocate(uow, programme, move, actor=ADMIN)
    smes = [factories.sme(uow, n) for n in (1, 2, 3)]
    smes.append(factories.sme(uow, 4, region="440304", home_center="440304"))
    clock.advance(timedelta(days=40))
    token = [
        vouchers.claim_voucher(
            uow, programme_id=programme, sme_uscc=sme.uscc, actor=ADMIN, signer=voucher_signer
        ).token
        for sme in smes
    ]
    world = Year(uow, clock, voucher_keys, factories.provider(uow, 1))
    a = world.claim(token[0], 400_000, "INV-A-0001")
    b = world.claim(token[0], 300_100, "INV-B-0001")
    c = world.claim(token[2], 200_000, "INV-C-0001")
    d = world.claim(token[2], 100_000, "INV-D-0001")
    e = world.claim(token[3], 300_100, "INV-E-0001")
    assert [len(claim.signals) for claim in (a, b, c, d, e)] == [1, 0, 1, 1, 0]
    world.approve(a, reason="整数金额为年度服务包定价")
    world.approve(b)
    world.approve(e)
    redemptions.reject_redemption(uow, c.id, "发票与服务内容不符", STAFF)
    tracking.object_to(uow, a.id, "该企业未实际接受服务", NEIGHBOUR)
    tracking.rate_service(uow, a.id, 4, None, SME)
    tracking.rate_service(uow, b.id, 5, None, SME)
    tracking.rate_service(uow, e.id, 5, None, SME)
    complaint = tracking.file_complaint(uow, b.id, "发票抬头有误", SME)
    tracking.resolve_complaint(uow, complaint.id, "已重开发票", STAFF)
    clock.advance(timedelta(days=10))  # past B's notice
    settlement.set_funding_account(uow, programme, FUNDING, ADMIN)
    batch = settlement.build_batch(uow, programme, "440305", FINANCE)
    settlement.export_batch(uow, batch.id, FINANCE)
    (item,) = batch.items  # A is held by its objection
    assert item.amount_fen == 150_050
    reconciliation.import_statement(
        uow,
        filename="s.xml",
        content=camt053("S", [entry(item.reference, format_amount(item.amount_fen))]),
        actor=FINANCE,
    )
    return world


def _by_center(report: EvaluationReport) -> dict[str, CenterScore]:
    return {score.center: score for score in report.subtree}


def _lines(score: CenterScore) -> dict[str, tuple[str | None, ...]]:
    return {
        line.indicator.code: tuple(
            None if value is None else str(shown(value))
            for value in (line.value, line.score, line.points)
        )
        for line in score.evaluation.lines
    }


NANSHAN = Figures(
    vouchers_issued=3,
    vouchers_redeemed=1,
    allocated_fen=2_000_000,
    paid_fen=150_050,
    ratings=2,
    rating_total=9,
    redemptions=4,
    flagged=3,
    flagged_approved=1,
    flagged_rejected=1,
    notice_items=2,
    objections=1,
    complaints=2,
    complaints_resolved=1,
)
FUTIAN = Figures(
    vouchers_issued=1,
    vouchers_redeemed=1,
    allocated_fen=1_000_000,
    ratings=1,
    rating_total=5,
    redemptions=1,
    notice_items=1,
)


def test_each_center_is_scored_as_worked_by_hand(
    year: Year, scheme: Scheme, voucher_signer: VoucherSigner
) -> None:
    report = evaluation.center_evaluation(year.uow, "440300", YEAR, scheme)
    centers = _by_center(report)
    nanshan, futian, shenzhen = centers["440305"], centers["440304"], centers["440300"]
    assert nanshan.evaluation.figures == NANSHAN
    assert futian.evaluation.figures == FUTIAN
    assert shenzhen.evaluation.figures == NANSHAN + FUTIAN
    assert _lines(nanshan) == {
        "redemption_rate": ("0.33", "41.67", "8.33"),
        "budget_execution": ("0.08", "8.34", "1.25"),
        "rating_average": ("4.50", "75.00", "15.00"),
        "flagged_share": ("0.75", "0.00", "0.00"),
        "flagged_resolved": ("0.67", "33.33", "3.33"),
        "objection_rate": ("0.50", "0.00", "0.00"),
        "complaints_resolved": ("0.50", "0.00", "0.00"),
    }
    budget = Fraction(15) * Fraction(150_050, 2_000_000) / Fraction(9, 10)
    assert nanshan.evaluation.total == Fraction(25, 3) + budget + 15 + Fraction(10, 3)
    assert (shown(nanshan.evaluation.total), nanshan.evaluation.grade) == (
        Decimal("27.92"),
        "不合格",
    )
    assert futian.evaluation.applied_weight == 75
    assert (futian.evaluation.total, futian.evaluation.grade) == (Fraction(80), "良好")
    assert _lines(futian)["complaints_resolved"] == (None, None, None)
    budget = Fraction(15) * Fraction(150_050, 3_000_000) / Fraction(9, 10)
    assert shenzhen.evaluation.total == Fraction(25, 2) + budget + Fraction(60, 3)
    assert shown(shenzhen.evaluation.total) == Decimal("33.33")
    # the report: Shenzhen first, its children best first, the ungraded without a place
    assert report.center.center == "440300" and report.center.rank is None
    assert [(s.center, s.rank) for s in report.children[:2]] == [("440304", 1), ("440305", 2)]
    assert all(s.rank is None and s.evaluation.total is None for s in report.children[2:])
    assert [s.center for s in report.subtree][:1] == ["440300"]
    assert {s.depth for s in report.subtree} == {0, 1}
    assert all(s.parent == "440300" for s in report.subtree[1:])


def test_the_province_rolls_up_every_city_and_the_year_is_a_filter(
    year: Year, scheme: Scheme
) -> None:
    province = evaluation.center_evaluation(year.uow, "440000", YEAR, scheme)
    funded = factories.TERMS.total_budget_fen
    assert province.center.evaluation.figures == NANSHAN + FUTIAN + Figures(
        allocated_fen=funded - 3_000_000  # the province's own: what it kept
    )
    by_center = _by_center(province)
    assert by_center["440305"].depth == 2 and by_center["440305"].parent == "440300"
    assert by_center["440300"].rank == 1  # the only city with anything to grade
    ranked = [s.center for s in province.children if s.rank is not None]
    assert ranked == ["440300"]
    before = evaluation.center_evaluation(year.uow, "440000", YEAR - 1, scheme)
    assert all(s.evaluation.figures == Figures() for s in before.subtree)
    assert all(s.evaluation.grade is None for s in before.subtree)
