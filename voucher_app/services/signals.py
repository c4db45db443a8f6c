"""Scoring claims for fraud signals (`domain.signals`): the facts each rule reads, gathered for
any number of claims at once, and the signals found kept on each claim.

Every fact is one query over the whole set of claims (in chunks of `CHUNK`), so that scoring
one claim at confirmation and rescoring a hundred thousand after a change of thresholds run the
same code; the bench (`bench/signals.py`) measures the second. A claim is scored when the SME
confirms it (it then enters the review queue, which sorts by the count of signals) and again,
on fresh facts, when a reviewer approves it: approval past a signal needs a reason, which the
claim's events keep with the signals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, bindparam, func, select, tuple_, update

from voucher_app.domain.calendar import local_date
from voucher_app.domain.redemptions import USED
from voucher_app.domain.signals import (
    DEFAULT_THRESHOLDS,
    ClaimFacts,
    Signal,
    Thresholds,
    evaluate,
)
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import (
    Complaint,
    Redemption,
    RedemptionEvent,
    Sme,
    SmeHistory,
    Voucher,
)

#: Claims per query: well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 2_000
_USED = sorted(USED)
_KEYS = (("phone", Sme.phone_key), ("address", Sme.address_key), ("account", Sme.account_key))


def score(
    uow: UnitOfWork, redemption_ids: Sequence[int], limits: Thresholds = DEFAULT_THRESHOLDS
) -> dict[int, tuple[Signal, ...]]:
    """Evaluate the rules on the claims (row ids) and keep what they find on each claim."""
    found: dict[int, tuple[Signal, ...]] = {}
    known = Known()
    for chunk in _chunks(redemption_ids):
        facts = gather(uow, chunk, limits, known)
        found.update({claim: evaluate(fact, limits) for claim, fact in facts.items()})
    keep(uow, found)
    return found


def keep(uow: UnitOfWork, found: dict[int, tuple[Signal, ...]]) -> None:
    if not found:
        return
    uow.session.connection().execute(
        update(Redemption)
        .where(Redemption.id == bindparam("row_id"))
        .values(signals=bindparam("found"), signal_count=bindparam("count")),
        [
            {
                "row_id": claim,
                "found": [signal.document() for signal in signals],
                "count": len(signals),
            }
            for claim, signals in found.items()
        ],
    )


@dataclass
class Known:
    """What a scoring reads once for all its chunks: facts over the whole table that every
    chunk would otherwise read again (each district's claims; each provider's grievances, and
    everyone's)."""

    districts: dict[tuple[int, int], _District] = field(default_factory=dict)
    grievances: dict[int | None, tuple[int, int]] = field(default_factory=dict)


def gather(
    uow: UnitOfWork,
    redemption_ids: Sequence[int],
    limits: Thresholds = DEFAULT_THRESHOLDS,
    known: Known | None = None,
) -> dict[int, ClaimFacts]:
    """The facts the rules read, for each of the claims (at most `CHUNK` of them); `known`:
    what earlier chunks of the same scoring read already."""
    known = Known() if known is None else known
    session = uow.session
    claims = session.execute(
        select(
            Redemption.id,
            Redemption.provider_id,
            Redemption.subsidy_fen,
            Redemption.invoiced_fen,
            Redemption.submitted_on,
            Redemption.submitted_at,
            Redemption.submitted_from,
            Redemption.invoice_series,
            Voucher.sme_id,
            Voucher.issuing_center_id,
            Voucher.programme_id,
            Voucher.face_value_fen,
        )
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(Redemption.id.in_(redemption_ids))
    ).all()
    if not claims:
        return {}
    ids = [claim.id for claim in claims]
    spent = _spent_before(uow, ids)
    daily = _claims_that_day(uow, ids)
    districts = known.districts
    districts.update(
        _districts(uow, {(c.issuing_center_id, c.programme_id) for c in claims} - set(districts))
    )
    smes = _smes(uow, {claim.sme_id for claim in claims})
    days = {claim.id: claim.submitted_on or local_date(claim.submitted_at) for claim in claims}
    earliest = min(days.values())
    addresses = _providers_by_address(
        uow,
        {claim.submitted_from for claim in claims if claim.submitted_from},
        earliest - timedelta(days=limits.one_address_days),
    )
    series = _providers_by_series(uow, {c.invoice_series for c in claims if c.invoice_series})
    grievances = known.grievances
    grievances.update(
        _grievances(
            uow, {claim.provider_id for claim in claims} - set(grievances), None not in grievances
        )
    )
    everyone = grievances[None]
    facts = {}
    for claim in claims:
        day = days[claim.id]
        district = districts.get((claim.issuing_center_id, claim.programme_id)) or _District()
        registered_on, size_changed_on, sharing, shared_what = smes[claim.sme_id]
        provider_claims, provider_grievances = grievances.get(claim.provider_id, (0, 0))
        facts[claim.id] = ClaimFacts(
            subsidy_fen=claim.subsidy_fen,
            invoiced_fen=claim.invoiced_fen,
            remaining_before_fen=claim.face_value_fen - spent.get(claim.id, 0),
            submitted_on=day,
            provider_claims_that_day=daily.get(claim.id, 1),
            district_claims=district.claims,
            district_subsidy_fen=district.subsidy_fen,
            provider_district_subsidy_fen=district.by_provider.get(claim.provider_id, 0),
            sme_registered_on=registered_on,
            size_changed_on=size_changed_on,
            sharing_smes=sharing,
            shared_what=shared_what,
            providers_from_address=_within(addresses.get(claim.submitted_from, ()), day, limits),
            other_providers_in_series=len(
                series.get(claim.invoice_series, set()) - {claim.provider_id}
            )
            if claim.invoice_series
            else 0,
            provider_claims=provider_claims,
            provider_grievances=provider_grievances,
            all_claims=everyone[0],
            all_grievances=everyone[1],
        )
    return facts


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _spent_before(uow: UnitOfWork, ids: list[int]) -> dict[int, int]:
    """What earlier claims on the same voucher hold or were paid, for each claim."""
    mine, earlier = Redemption.__table__.alias("mine"), Redemption.__table__.alias("earlier")
    rows = uow.session.execute(
        select(mine.c.id, func.sum(earlier.c.subsidy_fen))
        .join(
            earlier,
            (earlier.c.voucher_id == mine.c.voucher_id) & (earlier.c.id < mine.c.id),
        )
        .where(mine.c.id.in_(ids), earlier.c.status.in_(_USED))
        .group_by(mine.c.id)
    )
    return {claim: int(total) for claim, total in rows}


def _claims_that_day(uow: UnitOfWork, ids: list[int]) -> dict[int, int]:
    """The provider's claims submitted on each claim's day, the claim included."""
    mine, other = Redemption.__table__.alias("mine"), Redemption.__table__.alias("other")
    rows = uow.session.execute(
        select(mine.c.id, func.count(other.c.id))
        .join(
            other,
            (other.c.provider_id == mine.c.provider_id)
            & (other.c.submitted_on == mine.c.submitted_on),
        )
        .where(mine.c.id.in_(ids))
        .group_by(mine.c.id)
    )
    return {claim: int(count) for claim, count in rows}


class _District:
    __slots__ = ("by_provider", "claims", "subsidy_fen")

    def __init__(self) -> None:
        self.claims = 0
        self.subsidy_fen = 0
        self.by_provider: dict[int, int] = defaultdict(int)


def _districts(uow: UnitOfWork, keys: set[tuple[int, int]]) -> dict[tuple[int, int], _District]:
    """Each (center, programme)'s claims holding or paid value, in all and by provider."""
    found: dict[tuple[int, int], _District] = defaultdict(_District)
    if not keys:
        return found
    rows = uow.session.execute(
        select(
            Voucher.issuing_center_id,
            Voucher.programme_id,
            Redemption.provider_id,
            func.count(Redemption.id),
            func.sum(Redemption.subsidy_fen),
        )
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(
            tuple_(Voucher.issuing_center_id, Voucher.programme_id).in_(sorted(keys)),
            Redemption.status.in_(_USED),
        )
        .group_by(Voucher.issuing_center_id, Voucher.programme_id, Redemption.provider_id)
    )
    for center, programme, provider, count, subsidy in rows:
        district = found[(center, programme)]
        district.claims += int(count)
        district.subsidy_fen += int(subsidy)
        district.by_provider[provider] += int(subsidy)
    return found


def _smes(
    uow: UnitOfWork, sme_ids: set[int]
) -> dict[int, tuple[date, date | None, int, str | None]]:
    """For each SME: the day it registered, the last day its size figures changed, and the most
    SMEs that share one of its contacts, with which."""
    session = uow.session
    rows = session.execute(
        select(Sme.id, Sme.registered_at, Sme.phone_key, Sme.address_key, Sme.account_key).where(
            Sme.id.in_(sme_ids)
        )
    ).all()
    sharing: dict[tuple[str, str | None], int] = {}
    for what, column in _KEYS:
        values = {getattr(row, column.key) for row in rows} - {None}
        if values:
            counted = session.execute(
                select(column, func.count(Sme.id)).where(column.in_(values)).group_by(column)
            )
            sharing.update({(what, value): int(count) for value, count in counted})
    changed = _size_changes(uow, sme_ids)
    found = {}
    for row in rows:
        most, which = 1, None
        for what, column in _KEYS:
            count = sharing.get((what, getattr(row, column.key)), 0)
            if count > most:
                most, which = count, what
        found[row.id] = (local_date(row.registered_at), changed.get(row.id), most, which)
    return found


def _size_changes(uow: UnitOfWork, sme_ids: set[int]) -> dict[int, date]:
    """The last day each SME's size figures (industry, employees, revenue, assets) changed."""
    rows = uow.session.execute(
        select(
            SmeHistory.sme_id,
            SmeHistory.recorded_at,
            SmeHistory.industry,
            SmeHistory.employees,
            SmeHistory.revenue_fen,
            SmeHistory.assets_fen,
        )
        .where(SmeHistory.sme_id.in_(sme_ids))
        .order_by(SmeHistory.sme_id, SmeHistory.recorded_at, SmeHistory.id)
    )
    last: dict[int, tuple[object, ...]] = {}
    changed: dict[int, date] = {}
    for sme, recorded_at, *figures in rows:
        before = last.get(sme)
        if before is not None and before != tuple(figures):
            changed[sme] = local_date(recorded_at)
        last[sme] = tuple(figures)
    return changed


def _providers_by_address(
    uow: UnitOfWork, addresses: set[str], since: date
) -> dict[str, list[tuple[date, int]]]:
    """For each network address: (day, provider) of every claim from it from `since` on."""
    if not addresses:
        return {}
    rows = uow.session.execute(
        select(Redemption.submitted_from, Redemption.submitted_on, Redemption.provider_id)
        .where(Redemption.submitted_from.in_(addresses), Redemption.submitted_on >= since)
        .distinct()
    )
    found: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for address, day, provider in rows:
        if address is not None and day is not None:  # both filtered on: for the type checker
            found[address].append((day, provider))
    return found


def _within(seen: Iterable[tuple[date, int]], day: date, limits: Thresholds) -> int:
    """Providers with claims from one address in the window that ends on `day`."""
    since = day - timedelta(days=limits.one_address_days)
    return len({provider for when, provider in seen if since <= when <= day})


def _providers_by_series(uow: UnitOfWork, series: set[str]) -> dict[str, set[int]]:
    """The providers with claims in each invoice series."""
    if not series:
        return {}
    rows = uow.session.execute(
        select(Redemption.invoice_series, Redemption.provider_id)
        .where(Redemption.invoice_series.in_(series))
        .distinct()
    )
    found: dict[str, set[int]] = defaultdict(set)
    for name, provider in rows:
        if name is not None:  # filtered on: for the type checker
            found[name].add(provider)
    return found


def _grievances(
    uow: UnitOfWork, provider_ids: set[int], with_everyone: bool
) -> dict[int | None, tuple[int, int]]:
    """Each provider's claims, and its disputes and complaints; under None, everyone's (when
    `with_everyone`)."""
    session = uow.session
    disputed = RedemptionEvent.status == "disputed"
    about_service = Complaint.kind == "service"

    def counted(query: Select[int, int]) -> dict[int, int]:
        return {key: int(count) for key, count in session.execute(query)}

    claims = counted(
        select(Redemption.provider_id, func.count(Redemption.id))
        .where(Redemption.provider_id.in_(provider_ids))
        .group_by(Redemption.provider_id)
    )
    disputes = counted(
        select(Redemption.provider_id, func.count(RedemptionEvent.id))
        .join(Redemption, Redemption.id == RedemptionEvent.redemption_id)
        .where(Redemption.provider_id.in_(provider_ids), disputed)
        .group_by(Redemption.provider_id)
    )
    complaints = counted(
        select(Complaint.provider_id, func.count(Complaint.id))
        .where(Complaint.provider_id.in_(provider_ids), about_service)
        .group_by(Complaint.provider_id)
    )
    found: dict[int | None, tuple[int, int]] = {
        provider: (claims.get(provider, 0), disputes.get(provider, 0) + complaints.get(provider, 0))
        for provider in provider_ids
    }
    if with_everyone:
        everyone = session.scalar(select(func.count(Redemption.id))) or 0
        grievances = session.scalar(select(func.count(RedemptionEvent.id)).where(disputed)) or 0
        grievances += session.scalar(select(func.count(Complaint.id)).where(about_service)) or 0
        found[None] = (int(everyone), int(grievances))
    return found
