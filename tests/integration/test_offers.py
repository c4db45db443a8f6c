"""What an SME is offered: each programme, claimable or refused with the reason the claim
itself would give — and the claim agrees with the offer, whatever it says."""

from __future__ import annotations

from datetime import date

import pytest

from tests import factories
from voucher_app.domain.errors import ClaimRefused
from voucher_app.domain.sme import SizeClass
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import offers, vouchers
from voucher_app.services.vouchers import VoucherSigner

FACE = factories.TERMS.voucher_face_value_fen


def reasons(uow: UnitOfWork, uscc: str) -> dict[str, str | None]:
    return {
        offer.name: offer.refusal.code if offer.refusal else None
        for offer in offers.offers_for(uow, uscc)
    }


def test_each_programme_is_offered_or_refused_with_the_claims_reason(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    factories.guangdong(uow)
    factories.voucher_programme(uow, vouchers=2, name="两张预算", sme_cap_fen=FACE)
    factories.voucher_programme(
        uow, vouchers=2, name="已结束", period_start=date(2025, 1, 1), period_end=date(2025, 12, 31)
    )
    factories.voucher_programme(uow, vouchers=2, name="只限小型", accepted_sizes=(SizeClass.SMALL,))
    factories.programme(uow, name="无预算")  # nothing reaches Nanshan
    micro = factories.sme(uow, 1).uscc
    assert reasons(uow, micro) == {
        "两张预算": None,
        "只限小型": "not_eligible_size",
        "已结束": "programme_closed",
        "无预算": "budget_exhausted",
    }
    assert offers.offers_for(uow, micro)[0].name == "两张预算"  # what it can claim comes first
    for offer in offers.offers_for(uow, micro):
        if offer.refusal is None:
            vouchers.claim_voucher(
                uow, programme_id=offer.programme_id, sme_uscc=micro,
                actor=factories.ADMIN, signer=voucher_signer,
            )  # fmt: skip
        else:
            with pytest.raises(ClaimRefused) as refused:
                vouchers.claim_voucher(
                    uow, programme_id=offer.programme_id, sme_uscc=micro,
                    actor=factories.ADMIN, signer=voucher_signer,
                )  # fmt: skip
            assert refused.value.code == offer.refusal.code
    assert reasons(uow, micro)["两张预算"] == "cap_reached"  # its one voucher is claimed
    other = factories.sme(uow, 2).uscc
    vouchers.claim_voucher(
        uow, programme_id=offers.offers_for(uow, other)[0].programme_id, sme_uscc=other,
        actor=factories.ADMIN, signer=voucher_signer,
    )  # fmt: skip
    assert reasons(uow, factories.sme(uow, 3).uscc)["两张预算"] == "budget_exhausted"
