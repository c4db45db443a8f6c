"""The notification outbox: reminders are written in the transaction that decides them and
sent later by a job, through a pluggable sender (a log sender by default).

Each message has a dedupe key, so deciding the same reminder twice writes it once; the sender
job takes due messages FOR UPDATE SKIP LOCKED, so two job processes never send one twice. A
failed send is tried again later, each wait twice the last (`retry_delay`), and given up after
`MAX_ATTEMPTS` with the last error kept for the operator.

A request to confirm a redemption names it in its key (`redemption_key`): the recipient's page
(`reminders_for`) links it to the redemption and stops showing it once the SME has answered,
the center has decided, or the provider has submitted it again (a new request then).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from voucher_app.domain.money import format_yuan
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import insert_if_new
from voucher_app.persistence.models import Notification, Redemption, Sme, Voucher
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services.vouchers import live_balance

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Message:
    recipient: str
    subject: str
    body: str


Sender = Callable[[Message], None]


def log_sender(message: Message) -> None:
    """The default sender: writes the message to the log (operators wire email in its place)."""
    log.info("notification to %s: %s", message.recipient, message.subject)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most 6 h."""
    doublings = min(attempts - 1, 16)  # past 2**9 minutes the cap holds; stop before overflow
    return min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)


def queue(uow: UnitOfWork, dedupe_key: str, message: Message) -> bool:
    """Put the message in the outbox unless one with this key is there; say whether it was."""
    now = uow.clock.now()
    return insert_if_new(
        uow.session,
        Notification.__table__,  # type: ignore[arg-type]
        {
            "dedupe_key": dedupe_key,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        },
        key=["dedupe_key"],
    )


@transaction
def queue_expiry_reminders(uow: UnitOfWork, within: timedelta) -> int:
    """Remind the SME of each active voucher that expires within `within`, once per voucher;
    return how many reminders are new."""
    now = uow.clock.now()
    due = uow.session.execute(
        select(Voucher, Sme.uscc)
        .join(Sme, Sme.id == Voucher.sme_id)
        .where(Voucher.status == "active", Voucher.expires_at > now)
        .where(Voucher.expires_at <= now + within)
    ).all()
    queued = 0
    for voucher, uscc in due:
        remaining = live_balance(uow, voucher)
        if not remaining:
            continue
        days = max((voucher.expires_at - now).days, 0)
        queued += queue(
            uow,
            f"voucher-expiry:{voucher.public_id}",
            Message(
                recipient=f"sme:{uscc}",
                subject=f"服务券 {voucher.human_code} 将于 {days} 天后到期 / "
                f"voucher {voucher.human_code} expires in {days} days",
                body=f"剩余金额 {format_yuan(remaining)}，请在 "
                f"{voucher.expires_at:%Y-%m-%d} 前使用。 / "
                f"{format_yuan(remaining)} left; use it before {voucher.expires_at:%Y-%m-%d}.",
            ),
        )
    return queued


@transaction
def send_pending(uow: UnitOfWork, sender: Sender, batch: int = 100) -> int:
    """Send up to `batch` messages that are due; return how many were sent."""
    now = uow.clock.now()
    due = list(
        uow.session.scalars(
            select(Notification)
            .where(Notification.sent_at.is_(None), Notification.gave_up_at.is_(None))
            .where(Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    sent = 0
    for notification in due:
        notification.attempts += 1
        try:
            sender(Message(notification.recipient, notification.subject, notification.body))
        except Exception as exc:  # any sender's failure: the message waits, not the batch
            _failed(notification, exc, now)
            continue
        notification.sent_at = now
        sent += 1
    return sent


def _failed(notification: Notification, error: Exception, now: datetime) -> None:
    notification.last_error = f"{type(error).__name__}: {error}"[:500]
    if notification.attempts >= MAX_ATTEMPTS:
        notification.gave_up_at = now
        log.error(
            "notification %s not sent after %d attempts: %s",
            notification.id,
            notification.attempts,
            notification.last_error,
        )
        return
    notification.next_attempt_at = now + retry_delay(notification.attempts)
    log.warning(
        "notification %s not sent (%s); next attempt at %s",
        notification.id,
        notification.last_error,
        notification.next_attempt_at,
    )


#: The kinds of message that ask an SME to answer a redemption (the first request, a reminder).
REDEMPTION_KINDS = ("confirm", "remind")


def redemption_key(kind: str, redemption_id: uuid.UUID, submitted_at: datetime) -> str:
    """The dedupe key of a request (`kind`: one of `REDEMPTION_KINDS`) to answer one submission
    of a redemption: each submission is asked about, and reminded of, once."""
    return f"redemption-{kind}:{redemption_id}:{submitted_at.isoformat()}"


def _redemption_named(key: str) -> tuple[uuid.UUID, str] | None:
    """The redemption and submission time a request's key names; None for other messages."""
    prefix, _, rest = key.partition(":")
    if prefix not in {f"redemption-{kind}" for kind in REDEMPTION_KINDS}:
        return None
    redemption, _, submitted_at = rest.partition(":")
    try:
        return uuid.UUID(redemption), submitted_at
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Reminder:
    subject: str
    body: str
    created_at: datetime
    #: The redemption it asks about, for its page to link to.
    redemption_id: uuid.UUID | None = None


@read_only
def reminders_for(uow: UnitOfWork, recipient: str, limit: int = 20) -> list[Reminder]:
    """The latest messages written for a recipient (`sme:<code>`), newest first: what its page
    shows, whether or not the sender has delivered them yet — except requests to answer a
    redemption that has moved on (answered, decided, or submitted again)."""
    found = list(
        uow.session.scalars(
            select(Notification)
            .where(Notification.recipient == recipient)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )
    named = {n.id: _redemption_named(n.dedupe_key) for n in found}
    asked = {about[0] for about in named.values() if about is not None}
    waiting = {
        (public_id, submitted_at.isoformat())
        for public_id, submitted_at in uow.session.execute(
            select(Redemption.public_id, Redemption.submitted_at).where(
                Redemption.public_id.in_(asked), Redemption.status == "submitted"
            )
        )
    }
    return [
        Reminder(n.subject, n.body, n.created_at, None if about is None else about[0])
        for n in found
        if (about := named[n.id]) is None or about in waiting
    ]
