"""Service tracking (服务跟踪): SMEs rate the services their vouchers paid for and complain when
something went wrong; anyone signed in objects to a claim on public notice (公示); centers see
the complaints and objections of their subtree and resolve them; the yearly evaluation the
policy asks for reads each center's KPIs, rolled up the hierarchy.

An objection is a complaint of its own kind that holds its claim (`redemptions.held`) out of
every batch until the center resolves it, and every other objection to the claim.

Ratings and complaints hang off a redemption: that ties each to the provider, the
product if one was named, and the center that issued the voucher, which is the center that
answers for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from voucher_app.domain.actors import Actor
from voucher_app.domain.calendar import CHINA, local_date
from voucher_app.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotOnNotice,
    NotRateable,
)
from voucher_app.domain.reasons import require_reason
from voucher_app.domain.tracking import RATEABLE, RatingSummary, check_rating
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence import paging
from voucher_app.persistence.models import (
    Center,
    Complaint,
    Provider,
    Redemption,
    ServiceRating,
    SpendFact,
    Voucher,
)
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import ratings
from voucher_app.services.centers import load_hierarchy

MAX_COMPLAINT = 2000


@transaction
def rate_service(
    uow: UnitOfWork, redemption_id: uuid.UUID, score: int, comment: str | None, actor: Actor
) -> RatingSummary:
    """Record the SME's score for an approved redemption's service, once; return the provider's
    summary with it."""
    text = check_rating(score, comment)
    redemption = uow.redemptions.by_public_id(redemption_id, lock=True)
    if redemption.status not in RATEABLE:
        raise NotRateable(
            f"a redemption is rated once the center approved it; this one is {redemption.status}",
            status=redemption.status,
        )
    if uow.session.scalar(
        select(ServiceRating.id).where(ServiceRating.redemption_id == redemption.id)
    ):
        raise NotRateable("this service was rated already", status=redemption.status)
    uow.session.add(
        ServiceRating(
            redemption_id=redemption.id,
            provider_id=redemption.provider_id,
            product_id=redemption.product_id,
            score=score,
            comment=text,
            rated_at=uow.clock.now(),
            actor_id=actor.id,
        )
    )
    uow.session.flush()
    return ratings.by_provider(uow, [redemption.provider_id])[redemption.provider_id]


# --- complaints -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintView:
    id: uuid.UUID
    redemption_id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    center: str
    text: str
    kind: str  # service | objection
    status: str
    filed_at: datetime
    resolution: str | None
    resolved_at: datetime | None


@transaction
def file_complaint(
    uow: UnitOfWork, redemption_id: uuid.UUID, text: str, actor: Actor
) -> ComplaintView:
    """Record an SME's complaint about the service behind a redemption, for the voucher's center."""
    body = _complaint_text(text)
    redemption = uow.redemptions.by_public_id(redemption_id)
    return _open(uow, redemption, body, "service", actor)


@transaction
def object_to(uow: UnitOfWork, redemption_id: uuid.UUID, text: str, actor: Actor) -> ComplaintView:
    """Record an objection to a claim on public notice, and hold the claim out of every batch
    until the center resolves it. A person's second objection to a claim while the first is
    open answers the first."""
    body = _complaint_text(text)
    redemption = uow.redemptions.by_public_id(redemption_id, lock=True)
    today = local_date(uow.clock.now())
    ends_on = redemption.notice_ends_on
    if (
        redemption.status != "approved"
        or ends_on is None
        or ends_on < today
        or redemption.settlement_item_id is not None
    ):
        # Neither its status nor whether it exists beyond this: anyone signed in asks.
        raise NotOnNotice("objections are taken while the claim is on public notice")
    mine = uow.session.scalar(
        select(Complaint).where(
            Complaint.redemption_id == redemption.id,
            Complaint.kind == "objection",
            Complaint.status == "open",
            Complaint.filed_by == actor.id,
        )
    )
    if mine is not None:  # one open objection a person: another would only add work
        return _complaint_view(uow, mine)
    redemption.held = True
    return _open(uow, redemption, body, "objection", actor)


def _complaint_text(text: str) -> str:
    body = (text or "").strip()
    if not body or len(body) > MAX_COMPLAINT:
        raise InvalidInput(
            f"a complaint needs 1 to {MAX_COMPLAINT} characters",
            rule="complaint_text",
            field="text",
            limit=MAX_COMPLAINT,
        )
    return body


def _open(
    uow: UnitOfWork, redemption: Redemption, body: str, kind: str, actor: Actor
) -> ComplaintView:
    voucher = uow.session.get_one(Voucher, redemption.voucher_id)
    complaint = Complaint(
        public_id=uuid.uuid4(),
        redemption_id=redemption.id,
        provider_id=redemption.provider_id,
        center_id=voucher.issuing_center_id,
        text=body,
        kind=kind,
        status="open",
        filed_at=uow.clock.now(),
        filed_by=actor.id,
    )
    uow.session.add(complaint)
    uow.session.flush()
    return _complaint_view(uow, complaint)


@transaction
def resolve_complaint(
    uow: UnitOfWork, complaint_id: uuid.UUID, resolution: str, actor: Actor
) -> ComplaintView:
    """Close a complaint with what the center found or did. Resolving the last open objection
    to a claim releases it to the next batch."""
    note = require_reason(resolution)
    complaint = uow.complaints.by_public_id(complaint_id, lock=True)
    if complaint.status != "open":
        raise InvalidTransition("this complaint was resolved already", status=complaint.status)
    complaint.status = "resolved"
    complaint.resolution = note
    complaint.resolved_at = uow.clock.now()
    complaint.resolved_by = actor.id
    if complaint.kind == "objection":
        redemption = uow.session.get_one(Redemption, complaint.redemption_id, with_for_update=True)
        uow.session.flush()
        redemption.held = bool(
            uow.session.scalar(
                select(Complaint.id).where(
                    Complaint.redemption_id == redemption.id,
                    Complaint.kind == "objection",
                    Complaint.status == "open",
                )
            )
        )
    return _complaint_view(uow, complaint)


@read_only
def complaints_for(
    uow: UnitOfWork,
    center_code: str,
    *,
    open_only: bool = False,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[ComplaintView]:
    """The complaints about services paid by vouchers of the center and those below it, oldest
    first; `limit` at a time after the complaint `after`."""
    session = uow.session
    root = uow.centers.by_code(center_code)
    order = (Complaint.filed_at, Complaint.id)
    query = (
        select(Complaint)
        .where(Complaint.center_id.in_(load_hierarchy(session).below(root.id)))
        .order_by(*order)
        .limit(limit)
    )
    if open_only:
        query = query.where(Complaint.status == "open")
    anchor = None if after is None else select(*order).where(Complaint.public_id == after)
    query = paging.after(session, query, order, anchor)
    return [_complaint_view(uow, complaint) for complaint in session.scalars(query)]


def _complaint_view(uow: UnitOfWork, complaint: Complaint) -> ComplaintView:
    session = uow.session
    redemption = session.get_one(Redemption, complaint.redemption_id)
    provider = session.get_one(Provider, complaint.provider_id)
    return ComplaintView(
        complaint.public_id,
        redemption.public_id,
        provider.public_id,
        provider.name,
        session.get_one(Center, complaint.center_id).code,
        complaint.text,
        complaint.kind,
        complaint.status,
        complaint.filed_at,
        complaint.resolution,
        complaint.resolved_at,
    )


# --- KPIs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kpis:
    """A center's (with everything below it) figures for the yearly evaluation."""

    smes_served: int
    vouchers_issued: int
    vouchers_redeemed: int
    paid_fen: int
    ratings: RatingSummary
    active_providers: int
    open_complaints: int

    @property
    def redemption_rate(self) -> float | None:
        """Vouchers redeemed per voucher issued, to three decimals."""
        if not self.vouchers_issued:
            return None
        return round(self.vouchers_redeemed / self.vouchers_issued, 3)


@dataclass(frozen=True, slots=True)
class KpiLine:
    center: str
    name: str
    kpis: Kpis


@dataclass(frozen=True, slots=True)
class KpiReport:
    center: str
    name: str
    year: int | None
    total: Kpis
    children: tuple[KpiLine, ...]


def within_year(column: InstrumentedAttribute[datetime], year: int) -> list[ColumnElement[bool]]:
    """The conditions that `column` falls in the calendar year, China time."""
    start = datetime(year, 1, 1, tzinfo=CHINA)
    return [column >= start, column < start.replace(year=year + 1)]


def in_months_of(year: int) -> ColumnElement[bool]:
    """The spend facts of the months of the year."""
    return SpendFact.month.between(f"{year}-01", f"{year}-12")


@read_only
def center_kpis(uow: UnitOfWork, center_code: str, *, year: int | None = None) -> KpiReport:
    """The center's KPIs with everything below it, and each direct child's, for one calendar
    year (China time) or all time: SMEs served (with an approved redemption), vouchers issued and
    redeemed (with an approved redemption), money paid, ratings, active providers (with an approved
    redemption) and open complaints — each counted for the center that issued the voucher."""
    session = uow.session
    root = uow.centers.by_code(center_code)
    tree = load_hierarchy(session)
    scope = sorted(tree.below(root.id))

    def within(column: InstrumentedAttribute[datetime]) -> list[ColumnElement[bool]]:
        return [] if year is None else within_year(column, year)

    issued = dict(
        session.execute(
            select(Voucher.issuing_center_id, func.count())
            .where(Voucher.issuing_center_id.in_(scope), *within(Voucher.issued_at))
            .group_by(Voucher.issuing_center_id)
        ).all()
    )
    used = session.execute(
        select(Voucher.issuing_center_id, Voucher.sme_id, Voucher.id, Redemption.provider_id)
        .join(Redemption, Redemption.voucher_id == Voucher.id)
        .where(
            Voucher.issuing_center_id.in_(scope),
            Redemption.status.in_(RATEABLE),
            *within(Redemption.submitted_at),
        )
        .distinct()
    ).all()
    months = [] if year is None else [in_months_of(year)]
    paid = dict(
        session.execute(
            select(SpendFact.center_id, func.sum(SpendFact.amount_fen))
            .where(SpendFact.center_id.in_(scope), SpendFact.measure == "paid", *months)
            .group_by(SpendFact.center_id)
        ).all()
    )
    scores = {
        center: RatingSummary(int(count), int(total))
        for center, count, total in session.execute(
            select(Voucher.issuing_center_id, func.count(), func.sum(ServiceRating.score))
            .join(Redemption, Redemption.id == ServiceRating.redemption_id)
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(Voucher.issuing_center_id.in_(scope), *within(ServiceRating.rated_at))
            .group_by(Voucher.issuing_center_id)
        )
    }
    complaints = dict(
        session.execute(
            select(Complaint.center_id, func.count())
            .where(
                Complaint.center_id.in_(scope),
                Complaint.status == "open",
                *within(Complaint.filed_at),
            )
            .group_by(Complaint.center_id)
        ).all()
    )

    def kpis(centers: set[int]) -> Kpis:
        redemptions = [row for row in used if row.issuing_center_id in centers]
        rated = [scores[c] for c in centers if c in scores]
        return Kpis(
            smes_served=len({row.sme_id for row in redemptions}),
            vouchers_issued=sum(issued.get(c, 0) for c in centers),
            vouchers_redeemed=len({row.id for row in redemptions}),
            paid_fen=int(sum(paid.get(c, 0) for c in centers)),
            ratings=RatingSummary(sum(r.count for r in rated), sum(r.total for r in rated)),
            active_providers=len({row.provider_id for row in redemptions}),
            open_complaints=sum(complaints.get(c, 0) for c in centers),
        )

    return KpiReport(
        root.code,
        root.name_zh,
        year,
        kpis(tree.below(root.id)),
        tuple(
            KpiLine(tree.code(child), tree.name(child), kpis(tree.below(child)))
            for child in tree.children(root.id)
        ),
    )
