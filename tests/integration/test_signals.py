"""Fraud signals on both databases (`services.signals`): each rule over real claims, fired by a
case over its threshold and quiet on one that just misses it; a claim is scored as it enters the
review queue, which puts those with signals first; approving past a signal needs a reason, kept
in the claim's history; and a property: signals never change money (the ledger after any
sequence of claims is the same with the rules on or off)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories
from tests.harness import START, Databases
from tests.integration.ledger_state import snapshot
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import SignalsUnexplained
from voucher_app.domain.signals import DEFAULT_THRESHOLDS, Thresholds
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import read_only
from voucher_app.services import redemption_lists, redemptions, tracking, vouchers
from voucher_app.services.providers import ProviderView
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.wiring import unit_of_work

PROVIDER = Actor("provider-desk", Role.PROVIDER)
SME = Actor("sme-clerk", Role.SME)
STAFF = Actor("center-reviewer", Role.CENTER_STAFF)
QUIET_INVOICE = 300_100  # ¥3,001: not round, half of it far below a voucher's ¥5,000


@dataclass
class Scene:
    uow: UnitOfWork
    clock: FrozenClock
    keys: dict[str, Ed25519PublicKey]
    signer: VoucherSigner
    programme: uuid.UUID
    #: The defaults; a test that needs few claims to reach one threshold lowers that one.
    limits: Thresholds = DEFAULT_THRESHOLDS

    def sme(self, serial: int, **changes: Any) -> str:
        return factories.sme(self.uow, serial, **changes).uscc

    def provider(self, serial: int) -> ProviderView:
        return factories.provider(self.uow, serial)

    def voucher(self, uscc: str) -> str:
        return vouchers.claim_voucher(
            self.uow, programme_id=self.programme, sme_uscc=uscc, actor=STAFF, signer=self.signer
        ).token

    def claim(
        self,
        token: str,
        provider: ProviderView,
        invoiced_fen: int = QUIET_INVOICE,
        *,
        invoice: str | None = None,
        address: str | None = None,
    ) -> RedemptionView:
        """A claim submitted and confirmed (so scored) today."""
        submitted = redemptions.submit_redemption(
            self.uow,
            provider_id=provider.id,
            proof=VoucherProof(token=token),
            service=Service(
                invoice or uuid.uuid4().hex[:12].upper(),  # a series of its own
                invoiced_fen,
                self.clock.now().date(),
                category="accounting_tax",
                description="年度汇算清缴",
            ),
            actor=PROVIDER,
            public_keys=self.keys,
            client_address=address,
        )
        return redemptions.confirm_redemption(self.uow, submitted.id, SME, self.limits)


@pytest.fixture
def scene(
    uow: UnitOfWork,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> Scene:
    factories.guangdong(uow)
    programme = factories.voucher_programme(uow, vouchers=12, voucher_validity_days=120)
    return Scene(uow, clock, voucher_keys, voucher_signer, programme.id)


def codes(claim: RedemptionView) -> list[str]:
    return [found["code"] for found in claim.signals]


def established(scene: Scene, serial: int, **changes: Any) -> str:
    """A voucher of an SME registered 40 days ago (the clock moves on)."""
    uscc = scene.sme(serial, **changes)
    scene.clock.advance(timedelta(days=40))
    return scene.voucher(uscc)


def test_a_quiet_claim_is_scored_with_no_signal(scene: Scene) -> None:
    claim = scene.claim(established(scene, 1), scene.provider(1))
    assert claim.signals == ()
    assert _kept(scene.uow, claim.id) == ([], 0)


@read_only
def _kept(uow: UnitOfWork, claim: uuid.UUID) -> tuple[list[dict[str, Any]] | None, int]:
    row = uow.redemptions.by_public_id(claim)
    return row.signals, row.signal_count


@pytest.mark.parametrize(
    ("invoiced_fen", "fires"),
    [(1_000_100, True), (980_000, True), (979_900, False)],
    ids=["capped-at-what-is-left", "two-per-cent-below", "just-more-below"],
)
def test_a_subsidy_at_or_just_below_what_the_voucher_has_left(
    scene: Scene, invoiced_fen: int, fires: bool
) -> None:
    claim = scene.claim(established(scene, 1), scene.provider(1), invoiced_fen + 1)
    assert codes(claim) == (["near_remaining"] if fires else [])
    if fires:
        assert claim.signals[0]["figures"] == {
            "subsidy_fen": claim.subsidy_fen,
            "remaining_fen": 500_000,
        }


def test_what_the_voucher_has_left_counts_earlier_claims_on_it(scene: Scene) -> None:
    token, provider = established(scene, 1), scene.provider(1)
    scene.claim(token, provider, 400_100)  # ¥2,000.50 of the ¥5,000
    later = scene.claim(token, provider, 599_900 + 1)  # ¥2,999.50 of the ¥2,999.50 left
    assert later.signals[0]["figures"] == {"subsidy_fen": 299_950, "remaining_fen": 299_950}


@pytest.mark.parametrize(("invoiced_fen", "fires"), [(300_000, True), (299_900, False)])
def test_a_round_invoice(scene: Scene, invoiced_fen: int, fires: bool) -> None:
    claim = scene.claim(established(scene, 1), scene.provider(1), invoiced_fen)
    assert codes(claim) == (["round_amount"] if fires else [])


@pytest.mark.parametrize(("claims", "fires"), [(3, True), (2, False)])
def test_one_provider_with_more_claims_a_day_than_the_limit(
    scene: Scene, claims: int, fires: bool
) -> None:
    scene.limits = Thresholds.configured({"provider_daily_claims": 2})
    tokens = [scene.voucher(scene.sme(n)) for n in range(1, claims + 2)]
    scene.clock.advance(timedelta(days=40))
    provider = scene.provider(1)
    scene.claim(tokens[0], scene.provider(2))  # another provider's claim that day does not count
    found = [scene.claim(token, provider) for token in tokens[:claims]]
    assert codes(found[-1]) == (["provider_daily_claims"] if fires else [])
    scene.clock.advance(timedelta(days=1))
    assert codes(scene.claim(tokens[-1], provider)) == []  # a new day


@pytest.mark.parametrize(("mine", "fires"), [(2, True), (1, False)])
def test_one_provider_with_more_than_its_share_of_a_district(
    scene: Scene, mine: int, fires: bool
) -> None:
    """Three claims of equal subsidy in Nanshan: two of them are two thirds (over half)."""
    scene.limits = Thresholds.configured(
        {"district_share_bp": 5_000, "district_share_min_claims": 3}
    )
    tokens = [scene.voucher(scene.sme(n)) for n in range(1, 4)]
    scene.clock.advance(timedelta(days=40))
    big, rivals = scene.provider(1), [scene.provider(2), scene.provider(3)]
    sellers = [rivals[0]] + ([big] * mine) + rivals[1 : 3 - mine]
    found = [scene.claim(token, seller) for token, seller in zip(tokens, sellers, strict=True)]
    assert codes(found[-1]) == (["provider_district_share"] if fires else [])


@pytest.mark.parametrize(("days", "fires"), [(29, True), (30, False)])
def test_an_sme_registered_shortly_before_claiming(scene: Scene, days: int, fires: bool) -> None:
    token = scene.voucher(scene.sme(1))
    scene.clock.advance(timedelta(days=days))
    claim = scene.claim(token, scene.provider(1))
    assert codes(claim) == (["new_sme"] if fires else [])


@pytest.mark.parametrize(
    ("changes", "fires"), [({"employees": 9}, True), ({"address": "深圳市南山区科技园"}, False)]
)
def test_an_sme_that_changed_its_size_shortly_before_claiming(
    scene: Scene, changes: dict[str, Any], fires: bool
) -> None:
    token = established(scene, 1)
    scene.clock.advance(timedelta(days=20))
    scene.sme(1, **changes)  # registered again, 20 days before the claim
    scene.clock.advance(timedelta(days=20))
    claim = scene.claim(token, scene.provider(1))
    assert codes(claim) == (["size_changed"] if fires else [])


@pytest.mark.parametrize(("sharing", "fires"), [(2, True), (1, False)])
def test_many_smes_sharing_one_phone(scene: Scene, sharing: int, fires: bool) -> None:
    """More than two SMEs with one number, written several ways (`domain.parties`)."""
    written = ["138 0013 8000", "+86 13800138000", "13800138000"]
    for serial, phone in enumerate(written[:sharing], start=2):
        scene.sme(serial, contact_phone=phone)
    token = scene.voucher(scene.sme(1, contact_phone="020-8888-1234"))  # another number
    scene.sme(1, contact_phone="138-0013-8000")
    scene.clock.advance(timedelta(days=40))
    claim = scene.claim(token, scene.provider(1))
    expected = [{"code": "shared_contact", "figures": {"smes": sharing + 1, "what": "phone"}}]
    assert list(claim.signals) == (expected if fires else [])


@pytest.mark.parametrize(("providers", "fires"), [(3, True), (2, False)])
def test_claims_for_several_providers_from_one_network_address(
    scene: Scene, providers: int, fires: bool
) -> None:
    scene.limits = Thresholds.configured({"one_address_providers": 2})
    tokens = [scene.voucher(scene.sme(n)) for n in range(1, 5)]
    scene.clock.advance(timedelta(days=40))
    sellers = [scene.provider(n) for n in range(1, 5)]
    scene.claim(tokens[3], sellers[3], address="203.0.113.7")  # 31 days before: out of the window
    scene.clock.advance(timedelta(days=31))
    found = [
        scene.claim(token, seller, address="203.0.113.7")
        for token, seller in zip(tokens[:providers], sellers[:providers], strict=True)
    ]
    assert codes(found[-1]) == (["one_address_many_providers"] if fires else [])


@pytest.mark.parametrize(("same_provider", "fires"), [(False, True), (True, False)])
def test_one_invoice_series_claimed_by_different_providers(
    scene: Scene, same_provider: bool, fires: bool
) -> None:
    first, second = [scene.voucher(scene.sme(n)) for n in (1, 2)]
    scene.clock.advance(timedelta(days=40))
    one, two = scene.provider(1), scene.provider(2)
    scene.claim(first, one, invoice="FP20260301001")
    claim = scene.claim(second, one if same_provider else two, invoice="fp 20260301 002")
    assert codes(claim) == (["invoice_series_shared"] if fires else [])


def test_a_provider_whose_claims_draw_complaints_far_more_than_others(scene: Scene) -> None:
    """Two complaints over three claims, against two over eleven for all: over three times."""
    scene.limits = Thresholds.configured({"complaint_rate_min_claims": 2})
    tokens = [scene.voucher(scene.sme(n)) for n in range(1, 12)]
    scene.clock.advance(timedelta(days=40))
    grumbled, fine = scene.provider(1), scene.provider(2)
    for token in tokens[:2]:
        claim = scene.claim(token, grumbled)
        tracking.file_complaint(scene.uow, claim.id, "报告迟交", SME)
    for token in tokens[2:10]:
        assert codes(scene.claim(token, fine)) == []
    claim = scene.claim(tokens[10], grumbled)
    assert list(claim.signals) == [
        {
            "code": "provider_complaint_rate",
            "figures": {"grievances": 2, "claims": 3, "average_per_mille": 2 * 1000 // 11},
        }
    ]


def test_approving_past_a_signal_needs_a_reason_which_the_history_keeps(scene: Scene) -> None:
    claim = scene.claim(scene.voucher(scene.sme(1)), scene.provider(1), 300_000)
    assert codes(claim) == ["round_amount", "new_sme"]
    before = snapshot(scene.uow)
    for blank in (None, "   "):
        with pytest.raises(SignalsUnexplained) as refused:
            redemptions.approve_redemption(
                scene.uow, claim.id, STAFF, reason=blank, limits=scene.limits
            )
        assert refused.value.code == "signals_unexplained"
        assert refused.value.details == {"signals": ["round_amount", "new_sme"]}
    assert snapshot(scene.uow) == before
    assert redemptions.get_redemption(scene.uow, claim.id).status == "confirmed"
    why = "合同约定整数报价，企业为老客户新设分公司"
    approved = redemptions.approve_redemption(
        scene.uow, claim.id, STAFF, reason=why, limits=scene.limits
    )
    assert (approved.status, approved.status_reason) == ("approved", None)  # not the SME's
    last = redemptions.redemption_history(scene.uow, claim.id, reviewer=True)[-1]
    assert (last["status"], last["reason"]) == ("approved", None)
    assert last["details"]["review"] == {"reason": why, "signals": list(claim.signals)}
    shown = redemptions.redemption_history(scene.uow, claim.id)[-1]  # the SME's, the provider's
    assert "review" not in shown["details"] and why not in str(shown)


def test_a_claim_without_signals_is_approved_without_a_reason(scene: Scene) -> None:
    claim = scene.claim(established(scene, 1), scene.provider(1))
    approved = redemptions.approve_redemption(scene.uow, claim.id, STAFF, limits=scene.limits)
    assert (approved.status, approved.status_reason) == ("approved", None)


def test_the_review_queue_puts_claims_with_signals_first_then_the_oldest(scene: Scene) -> None:
    tokens = [scene.voucher(scene.sme(n)) for n in range(1, 4)]
    scene.clock.advance(timedelta(days=40))
    provider = scene.provider(5)
    quiet = scene.claim(tokens[0], provider)
    scene.clock.advance(timedelta(minutes=5))
    round_one = scene.claim(tokens[1], scene.provider(6), 200_000)
    scene.clock.advance(timedelta(minutes=5))
    quiet_later = scene.claim(tokens[2], scene.provider(7))
    queue = redemption_lists.review_queue(scene.uow, "440300")
    assert [claim.id for claim in queue] == [round_one.id, quiet.id, quiet_later.id]


# --- signals never change money -------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    sme: int  # which of three SMEs' vouchers
    provider: int  # which of three providers
    invoiced_fen: int
    fate: str  # approve | reject | leave


steps = st.lists(
    st.builds(
        Step,
        sme=st.integers(0, 2),
        provider=st.integers(0, 2),
        invoiced_fen=st.one_of(
            st.integers(1, 12_000).map(lambda yuan: yuan * 100),  # round yuan, some round ¥1,000s
            st.integers(100, 1_200_000),
        ),
        fate=st.sampled_from(["approve", "reject", "leave"]),
    ),
    min_size=1,
    max_size=8,
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def play(
    databases: Databases,
    keys: dict[str, Ed25519PublicKey],
    signer: VoucherSigner,
    plan: list[Step],
    limits: Thresholds | None,
) -> tuple[list[Any], list[str], int]:
    """Run the claims on a fresh database with the rules on (`limits`) or off; answer the
    journal with its ids in order of appearance, each claim's status, and how many claims
    showed a signal when approved."""
    database = Database(databases.migrated(), pool_size=2)
    try:
        clock = FrozenClock(START)
        uow = unit_of_work(database, clock)
        factories.guangdong(uow)
        programme = factories.voucher_programme(uow, vouchers=3).id
        tokens = [
            vouchers.claim_voucher(
                uow,
                programme_id=programme,
                sme_uscc=factories.sme(uow, n).uscc,
                actor=STAFF,
                signer=signer,
            ).token
            for n in range(3)
        ]
        sellers = [factories.provider(uow, n) for n in range(3)]
        statuses = []
        flagged = 0
        for number, step in enumerate(plan):
            try:
                claim = redemptions.submit_redemption(
                    uow,
                    provider_id=sellers[step.provider].id,
                    proof=VoucherProof(token=tokens[step.sme]),
                    service=Service(
                        f"P-{number:03d}",
                        step.invoiced_fen,
                        START.date(),
                        category="accounting_tax",
                        description="代理记账",
                    ),
                    actor=PROVIDER,
                    public_keys=keys,
                    client_address="198.51.100.9",
                )
            except Exception as refused:  # the voucher's rules, alike on both runs
                statuses.append(type(refused).__name__)
                continue
            redemptions.confirm_redemption(uow, claim.id, SME, limits)
            if step.fate == "approve":
                claim = redemptions.approve_redemption(
                    uow, claim.id, STAFF, reason="已核实", limits=limits
                )
                flagged += bool(claim.signals)
            elif step.fate == "reject":
                claim = redemptions.reject_redemption(uow, claim.id, "材料不全", STAFF)
            statuses.append(claim.status)
        return _journal(uow), statuses, flagged
    finally:
        database.dispose()


@read_only
def _journal(uow: UnitOfWork) -> list[Any]:
    names: dict[str, str] = {}

    def stable(text: str) -> str:
        return _UUID.sub(lambda m: names.setdefault(m[0], f"#{len(names)}"), text)

    session = uow.session
    rows = session.execute(
        select(JournalEntry.id, JournalEntry.kind, LedgerAccount.name, JournalPosting.amount_fen)
        .join(JournalPosting, JournalPosting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
        .order_by(JournalEntry.id, LedgerAccount.name)
    )
    journal = [(kind, stable(name), amount) for _, kind, name, amount in rows]
    balances = sorted(
        (stable(name), balance)
        for name, balance in session.execute(select(LedgerAccount.name, LedgerAccount.balance_fen))
    )
    return [journal, balances]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_signals_never_change_money(
    databases: Databases,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
    plan: list[Step],
) -> None:
    strict = Thresholds.configured({"provider_daily_claims": 1, "new_sme_days": 400})
    journal_off, statuses_off, flagged_off = play(
        databases, voucher_keys, voucher_signer, plan, None
    )
    journal_on, statuses_on, flagged_on = play(
        databases, voucher_keys, voucher_signer, plan, strict
    )
    assert (journal_on, statuses_on) == (journal_off, statuses_off)
    # Every approval was past a signal (every SME is "new" under these thresholds): the
    # rules did run, and none was scored with them off.
    assert (flagged_on, flagged_off) == (statuses_on.count("approved"), 0)
