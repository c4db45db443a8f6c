"""Related parties (关联交易) on both databases: a redemption between an SME and a provider that
share a legal representative, an address, a phone or a bank account, that are one company, or
that declared a relation, is refused with `related_party` naming what they share, and changes
nothing; a programme that allows it pays; a relation a center records later stops approval and
lists what was approved already."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from tests import factories
from tests.integration.ledger_state import snapshot
from tests.integration.test_redemptions import at_once
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import InvalidInput, RelatedParty
from voucher_app.domain.parties import MatchingKey
from voucher_app.domain.providers import ProviderDecision
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import PartyRelation, Sme, SmeHistory
from voucher_app.persistence.uow import read_only
from voucher_app.services import parties, providers, redemptions, settlement, smes, vouchers
from voucher_app.services.parties import DeclaredRelation, PartyDetails
from voucher_app.services.providers import ProviderView
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner, VoucherView
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
PROVIDER = Actor("provider-desk", Role.PROVIDER)
SME_CLERK = Actor("sme-clerk", Role.SME)
STAFF = Actor("center-reviewer", Role.CENTER_STAFF)
FINANCE = Actor("finance-officer", Role.CENTER_FINANCE)
KEY = MatchingKey(b"integration-tests-matching-key-0")
TODAY = date(2026, 3, 2)
#: The provider's own details (factories.application) and the SME's, all different.
SME_DETAILS = {
    "address": "深圳市南山区科技园南区1栋",
    "contact_phone": "138 0013 8000",
    "bank_account_number": "6222 0200 0000 0001",
}
SME_REP = ("李四", "44030519900101123X")
PROVIDER_REP = ("王五", "11010519491231002X")
PROVIDER_SERIAL = 7


@dataclasses.dataclass
class Pair:
    uow: UnitOfWork
    keys: dict[str, Ed25519PublicKey]
    signer: VoucherSigner
    sme_uscc: str
    provider: ProviderView

    def voucher(self, **terms: object) -> VoucherView:
        programme = factories.voucher_programme(self.uow, vouchers=2, **terms)
        return vouchers.claim_voucher(
            self.uow,
            programme_id=programme.id,
            sme_uscc=self.sme_uscc,
            actor=ADMIN,
            signer=self.signer,
        )

    def submit(self, voucher: VoucherView, invoice: str = "INV-1") -> RedemptionView:
        return redemptions.submit_redemption(
            self.uow,
            provider_id=self.provider.id,
            proof=VoucherProof(token=voucher.token),
            service=Service(invoice, 400_000, TODAY, category="legal", description="合同审查"),
            actor=PROVIDER,
            public_keys=self.keys,
        )

    def refused(self, voucher: VoucherView) -> RelatedParty:
        before = snapshot(self.uow)
        with pytest.raises(RelatedParty) as refused:
            self.submit(voucher)
        assert snapshot(self.uow) == before
        assert refused.value.code == "related_party"
        return refused.value


#: The SME's figures, without the details a related party would share.
FIGURES = smes.SmeDeclaration(
    uscc=factories.uscc(1),
    name="测试企业 1",
    industry="software_it",
    employees=8,
    revenue_fen=30_000_000,
    assets_fen=10_000_000,
    home_center="440305",
)


def register_sme(uow: UnitOfWork, party: PartyDetails, **changes: Any) -> str:
    declaration = dataclasses.replace(FIGURES, **{**SME_DETAILS, **changes})
    return smes.register_sme(uow, declaration, ADMIN, party=party).uscc


def register_provider(uow: UnitOfWork, party: PartyDetails, **changes: Any) -> ProviderView:
    application = dataclasses.replace(factories.application(PROVIDER_SERIAL), **changes)
    view = providers.apply_provider(uow, application, ADMIN, party)
    return providers.decide_provider(uow, view.id, ProviderDecision.APPROVE, ADMIN)


def pair(
    uow: UnitOfWork,
    keys: dict[str, Ed25519PublicKey],
    signer: VoucherSigner,
    *,
    sme: PartyDetails | None = None,
    provider: PartyDetails | None = None,
    sme_changes: dict[str, str] | None = None,
    provider_changes: dict[str, str] | None = None,
) -> Pair:
    factories.guangdong(uow)
    sme_uscc = register_sme(uow, sme or parties.details(KEY, SME_REP), **(sme_changes or {}))
    view = register_provider(
        uow, provider or parties.details(KEY, PROVIDER_REP), **(provider_changes or {})
    )
    return Pair(uow, keys, signer, sme_uscc, view)


@pytest.fixture
def unrelated(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> Pair:
    return pair(uow, voucher_keys, voucher_signer)


def test_unrelated_parties_redeem_as_before(unrelated: Pair) -> None:
    assert unrelated.submit(unrelated.voucher()).status == "submitted"


PROVIDER_APPLICATION = factories.application(PROVIDER_SERIAL)
#: For each attribute: the provider applying with the SME's value, and the SME registering with
#: the provider's (typed differently: the normal forms match).
SHARED = {
    "legal_representative": (
        {"provider": parties.details(KEY, ("李 四", "44030519900101123X"))},
        {"sme": parties.details(KEY, ("王五", "11010519491231002x"))},
    ),
    "address": (
        {"provider_changes": {"address": "深圳市南山区 科技园南区 1 栋"}},
        {  # the factories' provider has no address of its own: it is given one
            "provider_changes": {"address": "深圳市福田区 华强北路 1 号"},
            "sme_changes": {"address": "深圳市福田区华强北路1号"},
        },
    ),
    "phone": (
        {"provider_changes": {"contact_phone": "+86 13800138000"}},
        {"sme_changes": {"contact_phone": PROVIDER_APPLICATION.contact_phone}},
    ),
    "bank_account": (
        {"provider_changes": {"bank_account_number": "6222020000000001"}},
        {"sme_changes": {"bank_account_number": PROVIDER_APPLICATION.bank_account_number}},
    ),
}


@pytest.mark.parametrize("direction", ["provider has the SME's", "SME has the provider's"])
@pytest.mark.parametrize("attribute", sorted(SHARED))
def test_a_shared_attribute_refuses_the_redemption_and_changes_nothing(
    uow: UnitOfWork,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
    attribute: str,
    direction: str,
) -> None:
    provider_side, sme_side = SHARED[attribute]
    sides = provider_side if direction.startswith("provider") else sme_side
    related = pair(uow, voucher_keys, voucher_signer, **sides)  # type: ignore[arg-type]
    refusal = related.refused(related.voucher())
    assert refusal.details["shares"] == [attribute]
    assert (refusal.details["sme"], refusal.details["provider"]) == (
        related.sme_uscc,
        related.provider.uscc,
    )


def test_one_company_as_both_sme_and_provider_is_refused(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    related = pair(uow, voucher_keys, voucher_signer, provider_changes={"uscc": factories.uscc(1)})
    assert related.refused(related.voucher()).details["shares"] == ["same_company"]


@pytest.mark.parametrize("declared_by", ["sme", "provider"])
@pytest.mark.parametrize("relation", ["shareholder", "common_control", "family", "other"])
def test_a_relation_either_party_declared_refuses_the_redemption(
    uow: UnitOfWork,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
    declared_by: str,
    relation: str,
) -> None:
    provider_uscc = PROVIDER_APPLICATION.uscc
    sides = {
        "sme": {"sme": parties.details(KEY, SME_REP, [(provider_uscc, relation)])},
        "provider": {
            "provider": parties.details(KEY, PROVIDER_REP, [(factories.uscc(1), relation)])
        },
    }[declared_by]
    related = pair(uow, voucher_keys, voucher_signer, **sides)  # type: ignore[arg-type]
    assert related.refused(related.voucher()).details["shares"] == [relation]


def test_a_programme_that_allows_related_parties_pays_them(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    related = pair(
        uow,
        voucher_keys,
        voucher_signer,
        provider_changes={"contact_phone": SME_DETAILS["contact_phone"]},
    )
    related.refused(related.voucher())
    allowed = related.voucher(name="关联方可参与的项目", related_parties_allowed=True)
    submitted = related.submit(allowed)
    assert submitted.status == "submitted"
    redemptions.confirm_redemption(uow, submitted.id, SME_CLERK)
    assert redemptions.approve_redemption(uow, submitted.id, STAFF).status == "approved"


def test_a_relation_the_center_records_stops_approval_and_lists_what_was_approved(
    unrelated: Pair, clock: FrozenClock
) -> None:
    uow = unrelated.uow
    first_voucher = unrelated.voucher(partial_spending=True)
    first_programme = first_voucher.programme_id
    first = unrelated.submit(first_voucher, invoice="INV-A")
    redemptions.confirm_redemption(uow, first.id, SME_CLERK)
    redemptions.approve_redemption(uow, first.id, STAFF)
    second = unrelated.submit(unrelated.voucher(name="第二期"), invoice="INV-B")
    redemptions.confirm_redemption(uow, second.id, SME_CLERK)

    recorded = parties.record_relation(
        uow,
        unrelated.sme_uscc,
        DeclaredRelation(unrelated.provider.uscc, "common_control"),
        "工商登记显示实际控制人相同",
        STAFF,
    )
    assert recorded.relation.relation == "common_control"
    assert (recorded.relation.recorded_by, recorded.relation.recorded_role) == (
        STAFF.id,
        "center_staff",
    )
    assert [(r.id, r.status, r.subsidy_fen) for r in recorded.to_review] == [
        (first.id, "approved", 200_000)
    ]
    before = snapshot(uow)
    with pytest.raises(RelatedParty) as refused:
        redemptions.approve_redemption(uow, second.id, STAFF)
    assert refused.value.details["shares"] == ["common_control"]
    assert snapshot(uow) == before
    assert redemptions.get_redemption(uow, second.id).status == "confirmed"
    # Rejecting it is still open to the reviewer, and puts the value back.
    rejected = redemptions.reject_redemption(uow, second.id, "关联交易", STAFF)
    assert rejected.status == "rejected"
    # The one approved before stays unpaid: no batch takes it, for the reviewers to take up.
    with pytest.raises(InvalidInput, match="no approved redemptions"):
        settlement.build_batch(uow, first_programme, "440300", FINANCE)
    # Corrected and sent again, the second is refused at once.
    before = snapshot(uow)
    with pytest.raises(RelatedParty):
        redemptions.resubmit_redemption(
            uow,
            second.id,
            Service("INV-B2", 400_000, TODAY, category="legal", description="合同审查"),
            PROVIDER,
        )
    assert snapshot(uow) == before


def test_relations_are_listed_for_both_parties_once_per_recorder(unrelated: Pair) -> None:
    uow = unrelated.uow
    provider = unrelated.provider.uscc
    declared = FIGURES  # the SME's own code: registering again
    party = parties.details(KEY, None, [(provider, "shareholder")])
    smes.register_sme(uow, declared, SME_CLERK, party=party)  # the SME declares it
    recorded = [
        parties.record_relation(
            uow, unrelated.sme_uscc, DeclaredRelation(provider, "shareholder"), reason, STAFF
        ).relation
        for reason in ("股东名册", "again")
    ]
    # The center's finding is a fact of its own, kept with its first reason.
    assert [(r.reason, r.recorded_role) for r in recorded] == [("股东名册", "center_staff")] * 2
    for listed_for in (unrelated.sme_uscc, provider):
        listed = parties.relations_of(uow, listed_for)
        assert [(r.party, r.related, r.relation, r.recorded_role, r.reason) for r in listed] == [
            (unrelated.sme_uscc, provider, "shareholder", "sme", None),
            (unrelated.sme_uscc, provider, "shareholder", "center_staff", "股东名册"),
        ]


@pytest.mark.parametrize(
    ("declared", "rule"),
    [
        ((factories.uscc(1), "shareholder"), "self_relation"),
        ((PROVIDER_APPLICATION.uscc, "cousin"), "unknown_relation"),
    ],
    ids=["itself", "unknown relation"],
)
def test_a_wrong_declaration_is_refused_and_registers_nothing(
    uow: UnitOfWork, declared: tuple[str, str], rule: str
) -> None:
    factories.guangdong(uow)
    with pytest.raises(InvalidInput) as refused:
        register_sme(uow, parties.details(KEY, SME_REP, [declared]))
    assert refused.value.rule == rule
    assert _count(uow, Sme) == _count(uow, SmeHistory) == _count(uow, PartyRelation) == 0


def test_a_relation_recorded_by_a_center_needs_a_reason(unrelated: Pair) -> None:
    with pytest.raises(InvalidInput) as refused:
        parties.record_relation(
            unrelated.uow,
            unrelated.sme_uscc,
            DeclaredRelation(unrelated.provider.uscc, "family"),
            "  ",
            STAFF,
        )
    assert refused.value.rule == "reason_missing"
    assert _count(unrelated.uow, PartyRelation) == 0


def test_registering_again_keeps_the_details_left_out_and_history_has_them(
    unrelated: Pair,
) -> None:
    uow = unrelated.uow
    again = smes.register_sme(
        uow,
        dataclasses.replace(FIGURES, employees=9, contact_phone="13900139000"),
        ADMIN,
    )
    assert (again.address, again.contact_phone, again.bank_account_number) == (
        SME_DETAILS["address"],
        "13900139000",
        "6222020000000001",  # stored as the bank's rules normalise it
    )
    assert again.legal_representative_on_record
    phones = _history_phones(uow, unrelated.sme_uscc)
    assert phones == ["138 0013 8000", "13900139000"]


@read_only
def _count(uow: UnitOfWork, model: type) -> int:
    return uow.session.scalar(select(func.count()).select_from(model)) or 0


@read_only
def _history_phones(uow: UnitOfWork, uscc: str) -> list[str | None]:
    sme_id = uow.session.scalar(select(Sme.id).where(Sme.uscc == uscc))
    return list(
        uow.session.scalars(
            select(SmeHistory.contact_phone)
            .where(SmeHistory.sme_id == sme_id)
            .order_by(SmeHistory.id)
        )
    )


def test_a_relation_recorded_during_approvals_lists_every_one_approved_and_stops_the_rest(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    """Eight confirmed redemptions between two parties approved by eight reviewers at once
    while a ninth records their relation: each approval either committed before the relation
    (and is listed for review) or sees it and is refused. None is approved unlisted."""
    database = Database(database_url, pool_size=12)
    try:
        related = pair(unit_of_work(database, clock), voucher_keys, voucher_signer)
        waiting = []
        for n in range(4):  # four vouchers (the cap), two redemptions of ¥2,000 each
            voucher = related.voucher(name=f"第{n}期")
            for half in "AB":
                submitted = related.submit(voucher, invoice=f"INV-{n}{half}")
                redemptions.confirm_redemption(related.uow, submitted.id, SME_CLERK)
                waiting.append(submitted.id)
        listed: list[parties.RelationRecorded] = []

        def record() -> None:
            listed.append(
                parties.record_relation(
                    unit_of_work(database, clock),
                    related.sme_uscc,
                    DeclaredRelation(related.provider.uscc, "other"),
                    "举报核实",
                    STAFF,
                )
            )

        tasks: list[Callable[[], object]] = [
            lambda r=r: redemptions.approve_redemption(  # type: ignore[misc]
                unit_of_work(database, clock), r, STAFF
            )
            for r in waiting
        ]
        outcomes = at_once([*tasks, record])
        assert outcomes["done"] >= 1 and set(outcomes) <= {"done", "related_party"}
        approved = {
            r for r in waiting if redemptions.get_redemption(related.uow, r).status == "approved"
        }
        assert {item.id for item in listed[0].to_review} == approved
        assert len(approved) + outcomes["related_party"] == len(waiting)
    finally:
        database.dispose()
