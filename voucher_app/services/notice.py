"""Public notice before payment (公示): when an approved redemption's notice ends, what its
center's notice list publishes, and whether a batch may take it.

A programme with a notice period holds each redemption it approves out of every batch until the
period's last working day is over (`domain.workdays`, over the working-day calendar the package
ships). The day is fixed at approval and kept on the redemption, so that a later change of the
calendar or of the programme never shortens a notice already running.

Approval publishes the claim on its center's list of the day (`publish`), in the transaction
that posts the `approve` entry carrying the published item's digest (`domain.notice`). While
the notice runs anyone signed in may object (`services.tracking.object_to`): the claim is then
held, and no batch takes it until every objection to it is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, func, insert, or_, select

from voucher_app.domain import notice as published
from voucher_app.domain.calendar import local_date
from voucher_app.domain.workdays import WorkingCalendar, read_calendar
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import (
    Center,
    Programme,
    Provider,
    PublishedClaim,
    Redemption,
    Sme,
    Voucher,
)
from voucher_app.persistence.uow import read_only

CALENDAR_FILE = "cn-working-calendar.csv"


@lru_cache(maxsize=1)
def working_calendar() -> WorkingCalendar:
    """The working-day calendar shipped with the package (read once, when first needed)."""
    data = resources.files("voucher_app") / "data" / CALENDAR_FILE
    with data.open(encoding="utf-8") as handle:
        return read_calendar(handle)


def notice_ends_on(programme: Programme, approved_on: date) -> date | None:
    """The last day of the notice of a redemption the programme approves on `approved_on`;
    None when the programme has no notice period."""
    if not programme.notice_working_days:
        return None
    return working_calendar().after(approved_on, programme.notice_working_days)


@dataclass(frozen=True, slots=True)
class CalendarRunway:
    """How long the working-day calendar lasts the programmes: the longest notice one sets,
    the last day the data knows, and the first approval day that notice cannot be counted
    from (approvals are refused from then on, until the next year's arrangement is added)."""

    notice_working_days: int
    known_until: date | None
    first_refused: date
    today: date

    @property
    def days_left(self) -> int:
        return (self.first_refused - self.today).days


@read_only
def calendar_runway(uow: UnitOfWork) -> CalendarRunway | None:
    """The runway of the calendar from today; None when no programme sets a notice period."""
    longest = uow.session.scalar(select(func.max(Programme.notice_working_days)))
    if not longest:
        return None
    today = local_date(uow.clock.now())
    return CalendarRunway(
        longest, working_calendar().known_until, _first_refused(today, longest), today
    )


@lru_cache(maxsize=8)
def _first_refused(today: date, working_days: int) -> date:
    """`first_refused` over the shipped calendar (a year of days at most; `/readyz` asks often)."""
    return working_calendar().first_refused(today, working_days)


def notice_over(today: date) -> ColumnElement[bool]:
    """Where a redemption's notice (if it has one) is over on `today` and no objection holds
    it: what a batch may take."""
    return and_(
        or_(Redemption.notice_ends_on.is_(None), Redemption.notice_ends_on < today),
        Redemption.held.is_(False),
    )


def publish(
    uow: UnitOfWork, redemption: Redemption, voucher: Voucher, approved_on: date, ends_on: date
) -> dict[str, str]:
    """Put the redemption on its voucher's center's notice list of `approved_on`; return the
    refs by which its `approve` entry commits to what was published."""
    session = uow.session
    center_code, sme_name, provider_name = session.execute(
        select(
            select(Center.code).where(Center.id == voucher.issuing_center_id).scalar_subquery(),
            select(Sme.name).where(Sme.id == voucher.sme_id).scalar_subquery(),
            select(Provider.name).where(Provider.id == redemption.provider_id).scalar_subquery(),
        )
    ).one()
    document = published.NoticeItem(
        redemption=str(redemption.public_id),
        center=center_code,
        sme=published.mask_name(sme_name),
        provider=provider_name,
        category=redemption.category,
        subsidy_fen=redemption.subsidy_fen,
        approved_on=approved_on,
        notice_ends_on=ends_on,
    ).document()
    digest = published.item_digest(document)
    session.execute(
        insert(PublishedClaim).values(
            redemption_id=redemption.id,
            center_id=voucher.issuing_center_id,
            published_on=approved_on,
            document=published.canonical(document).decode(),
            digest=digest,
        )
    )
    return {
        published.LIST_REF: published.list_key(center_code, approved_on),
        published.ITEM_REF: digest.hex(),
    }


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """A published claim as the notice page shows it: what was published, whether its notice
    still runs (objections are taken) and whether an objection holds it."""

    item: dict[str, Any]
    running: bool
    held: bool


@dataclass(frozen=True, slots=True)
class NoticeList:
    center: str
    day: date
    document: dict[str, Any]  # `domain.notice.list_document`: what an auditor checks
    lines: list[NoticeLine]
    days: list[date]  # the days the center published a list, latest first


#: How many earlier days' lists the page links to.
RECENT_DAYS = 30


@read_only
def notice_list(uow: UnitOfWork, center_code: str, day: date | None = None) -> NoticeList:
    """The center's notice list of `day` (today when None) as published, with each claim's
    standing now."""
    session = uow.session
    center = uow.centers.by_code(center_code)
    today = local_date(uow.clock.now())
    shown = day or today
    rows = session.execute(
        select(PublishedClaim.document, Redemption.held)
        .join(Redemption, Redemption.id == PublishedClaim.redemption_id)
        .where(PublishedClaim.center_id == center.id, PublishedClaim.published_on == shown)
    ).all()
    items = [orjson.loads(document) for document, _ in rows]
    held = {item["redemption"] for item, (_, on_hold) in zip(items, rows, strict=True) if on_hold}
    document = published.list_document(center.code, shown, items)
    lines = [
        NoticeLine(
            item,
            running=date.fromisoformat(item["notice_ends_on"]) >= today,
            held=item["redemption"] in held,
        )
        for item in document["items"]
    ]
    days = session.scalars(
        select(PublishedClaim.published_on)
        .where(PublishedClaim.center_id == center.id)
        .distinct()
        .order_by(PublishedClaim.published_on.desc())
        .limit(RECENT_DAYS)
    ).all()
    return NoticeList(center.code, shown, document, lines, list(days))
