"""Public notice before payment (公示) on both databases: a programme with a notice period of N
working days holds each redemption it approves out of every batch until the N-th working day
after approval is over; an approval whose notice would run into a year the working-day calendar
does not cover is refused and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.integration.ledger_state import snapshot
from tests.integration.test_redemptions import SME, STAFF, World, build
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import InvalidInput
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import redemptions, settlement
from voucher_app.services.redemptions import RedemptionView
from voucher_app.services.vouchers import VoucherSigner

FINANCE = Actor("finance-officer", Role.CENTER_FINANCE)


@pytest.fixture
def on_notice(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> World:
    return build(uow, voucher_keys, voucher_signer, notice_working_days=5)


def confirmed(world: World, invoice: str = "INV-001") -> RedemptionView:
    redemption = world.submit(invoice=invoice)
    return redemptions.confirm_redemption(world.uow, redemption.id, SME)


def test_an_approved_redemption_waits_out_its_notice_before_a_batch_takes_it(
    on_notice: World, clock: FrozenClock
) -> None:
    world = on_notice
    assert local_date(clock.now()) == date(2026, 3, 2)  # a Monday
    approved = redemptions.approve_redemption(world.uow, confirmed(world).id, STAFF)
    assert approved.notice_ends_on == date(2026, 3, 9)  # five working days: 3, 4, 5, 6, 9
    for days in (0, 7):  # the day of approval, and the notice's last day
        clock.advance(timedelta(days=days))
        with pytest.raises(InvalidInput, match="no approved redemptions"):
            settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    clock.advance(timedelta(days=1))  # Tuesday 10 March: the notice is over
    batch = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    assert batch.total_fen == approved.subsidy_fen


def test_a_batch_takes_the_redemptions_whose_notice_ended_and_leaves_the_others(
    on_notice: World, clock: FrozenClock
) -> None:
    world = on_notice
    first = redemptions.approve_redemption(world.uow, confirmed(world, "INV-A").id, STAFF)
    clock.advance(timedelta(days=4))  # Friday 6 March
    second = redemptions.approve_redemption(world.uow, confirmed(world, "INV-B").id, STAFF)
    assert second.notice_ends_on == date(2026, 3, 13)
    clock.advance(timedelta(days=4))  # Tuesday 10 March: only the first is over
    batch = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    assert batch.total_fen == first.subsidy_fen
    clock.advance(timedelta(days=4))  # Saturday 14 March
    later = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    assert later.total_fen == second.subsidy_fen


def test_without_a_notice_period_nothing_waits(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    world = build(uow, voucher_keys, voucher_signer)
    approved = redemptions.approve_redemption(world.uow, confirmed(world).id, STAFF)
    assert approved.notice_ends_on is None
    batch = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    assert batch.total_fen == approved.subsidy_fen


def test_a_notice_into_a_year_without_calendar_data_refuses_the_approval(
    on_notice: World, clock: FrozenClock
) -> None:
    world = on_notice
    waiting = confirmed(world)
    clock.advance(date(2026, 12, 28) - date(2026, 3, 2))  # 29, 30, 31, then 2027's days
    before = snapshot(world.uow)
    with pytest.raises(InvalidInput) as refused:
        redemptions.approve_redemption(world.uow, waiting.id, STAFF)
    assert (refused.value.rule, refused.value.details["year"]) == ("calendar_year_missing", 2027)
    assert snapshot(world.uow) == before
    assert redemptions.get_redemption(world.uow, waiting.id).status == "confirmed"
