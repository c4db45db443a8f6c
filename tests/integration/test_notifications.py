"""Expiry reminders go to the outbox once per voucher; the sender job delivers each once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from voucher_app.clock import FrozenClock
from voucher_app.persistence.uow import UnitOfWork
from voucher_app.services import notifications, vouchers
from voucher_app.services.notifications import Message
from voucher_app.services.vouchers import VoucherSigner

WEEK = timedelta(days=7)


@pytest.fixture
def two_vouchers(uow: UnitOfWork, clock: FrozenClock, voucher_signer: VoucherSigner) -> str:
    factories.guangdong(uow)
    programme = factories.voucher_programme(uow, vouchers=3)
    sme = factories.sme(uow, 1)
    for _ in range(2):
        issued = vouchers.claim_voucher(
            uow,
            programme_id=programme.id,
            sme_uscc=sme.uscc,
            actor=factories.ADMIN,
            signer=voucher_signer,
        )
    clock.advance(timedelta(days=1))
    vouchers.claim_voucher(  # a third, a day younger, and revoked: no reminder for it
        uow,
        programme_id=programme.id,
        sme_uscc=sme.uscc,
        actor=factories.ADMIN,
        signer=voucher_signer,
    )
    vouchers.revoke_voucher(uow, vouchers.list_vouchers(uow)[-1].id, "test", factories.ADMIN)
    return issued.human_code


def test_reminders_are_queued_once_within_the_window_and_sent_once(
    uow: UnitOfWork, clock: FrozenClock, two_vouchers: str
) -> None:
    assert notifications.queue_expiry_reminders(uow, WEEK) == 0  # 89 days left
    clock.advance(timedelta(days=84))  # 5 days left for the first two
    assert notifications.queue_expiry_reminders(uow, WEEK) == 2
    notifications.queue_expiry_reminders(uow, WEEK)  # deciding again writes nothing new
    delivered: list[Message] = []
    assert notifications.send_pending(uow, delivered.append) == 2
    assert notifications.send_pending(uow, delivered.append) == 0
    assert len(delivered) == 2
    assert delivered[0].recipient.startswith("sme:91440305")
    assert "5 天后到期" in delivered[0].subject and "expires in 5 days" in delivered[0].subject


def test_a_message_whose_sending_fails_waits_for_the_next_run(
    uow: UnitOfWork, clock: FrozenClock, two_vouchers: str
) -> None:
    clock.advance(timedelta(days=84))
    notifications.queue_expiry_reminders(uow, WEEK)

    def broken(message: Message) -> None:
        raise ConnectionError("mail server down")

    assert notifications.send_pending(uow, broken) == 0
    delivered: list[Message] = []
    assert notifications.send_pending(uow, delivered.append) == 2
