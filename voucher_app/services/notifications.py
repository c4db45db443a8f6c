"""The notification outbox: reminders are written in the transaction that decides them and
sent later by a job, through a pluggable sender (a log sender by default).

Each message has a dedupe key, so deciding the same reminder twice writes it once; the sender
job takes unsent messages FOR UPDATE SKIP LOCKED, so two job processes never send one twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from voucher_app.domain.money import format_yuan
from voucher_app.persistence.database import insert_ignoring_duplicates
from voucher_app.persistence.models import Notification, Sme, Voucher
from voucher_app.persistence.uow import UnitOfWork, transaction
from voucher_app.services.vouchers import live_balance

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    recipient: str
    subject: str
    body: str


Sender = Callable[[Message], None]


def log_sender(message: Message) -> None:
    """The default sender: writes the message to the log (operators wire email in its place)."""
    log.info("notification to %s: %s", message.recipient, message.subject)


def queue(uow: UnitOfWork, dedupe_key: str, message: Message) -> None:
    insert_ignoring_duplicates(
        uow.session,
        Notification.__table__,  # type: ignore[arg-type]
        [
            {
                "dedupe_key": dedupe_key,
                "recipient": message.recipient,
                "subject": message.subject,
                "body": message.body,
                "created_at": uow.clock.now(),
                "attempts": 0,
            }
        ],
        key=["dedupe_key"],
    )


@transaction
def queue_expiry_reminders(uow: UnitOfWork, within: timedelta) -> int:
    """Remind the SME of each active voucher that expires within `within` (once per voucher)."""
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
        queue(
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
        queued += 1
    return queued


@transaction
def send_pending(uow: UnitOfWork, sender: Sender, batch: int = 100) -> int:
    """Send up to `batch` unsent messages; a message whose sending fails stays for the next run."""
    pending = list(
        uow.session.scalars(
            select(Notification)
            .where(Notification.sent_at.is_(None))
            .order_by(Notification.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    sent = 0
    for notification in pending:
        notification.attempts += 1
        try:
            sender(Message(notification.recipient, notification.subject, notification.body))
        except Exception:
            log.exception("sending notification %s failed; retrying later", notification.id)
            continue
        notification.sent_at = uow.clock.now()
        sent += 1
    return sent
