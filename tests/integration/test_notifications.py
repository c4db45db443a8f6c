"""Expiry reminders go to the outbox once per voucher; the sender job delivers each once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from voucher_app.clock import FrozenClock
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Notification
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
    assert notifications.queue_expiry_reminders(uow, WEEK) == 0  # deciding again: nothing new
    delivered: list[Message] = []
    assert notifications.send_pending(uow, delivered.append) == 2
    assert notifications.send_pending(uow, delivered.append) == 0
    assert len(delivered) == 2
    assert delivered[0].recipient.startswith("sme:91440305")
    assert "5 天后到期" in delivered[0].subject and "expires in 5 days" in delivered[0].subject


def broken(message: Message) -> None:
    raise ConnectionError("mail server down")


@dataclass(frozen=True)
class Row:
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    gave_up_at: datetime | None


def outbox(uow: UnitOfWork) -> list[Row]:
    columns = [getattr(Notification, field.name) for field in fields(Row)]
    with uow:
        found = uow.session.execute(select(*columns).order_by(Notification.id))
        return [Row(*values) for values in found]


def test_a_message_whose_sending_fails_is_tried_again_later(
    uow: UnitOfWork, clock: FrozenClock, two_vouchers: str
) -> None:
    clock.advance(timedelta(days=84))
    notifications.queue_expiry_reminders(uow, WEEK)
    assert notifications.send_pending(uow, broken) == 0
    assert [(n.attempts, n.last_error) for n in outbox(uow)] == [
        (1, "ConnectionError: mail server down")
    ] * 2
    delivered: list[Message] = []
    assert notifications.send_pending(uow, delivered.append) == 0  # not due yet
    clock.advance(notifications.retry_delay(1))
    assert notifications.send_pending(uow, delivered.append) == 2
    assert all(n.sent_at == clock.now() for n in outbox(uow))


def test_after_the_last_attempt_the_outbox_gives_up(
    uow: UnitOfWork, clock: FrozenClock, two_vouchers: str
) -> None:
    clock.advance(timedelta(days=84))
    notifications.queue_expiry_reminders(uow, WEEK)
    for attempt in range(1, notifications.MAX_ATTEMPTS + 1):
        assert notifications.send_pending(uow, broken) == 0
        clock.advance(notifications.retry_delay(attempt))
    given_up = outbox(uow)
    assert [n.attempts for n in given_up] == [notifications.MAX_ATTEMPTS] * 2
    assert all(n.gave_up_at is not None and n.sent_at is None for n in given_up)
    delivered: list[Message] = []
    clock.advance(timedelta(days=1))
    assert notifications.send_pending(uow, delivered.append) == 0
    assert delivered == []
