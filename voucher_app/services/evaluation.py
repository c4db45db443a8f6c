"""The yearly evaluation of the service centers (综合评价考核): each center's figures for the
year, read from the ledger's spend facts and the redemptions, ratings, notice lists and complaints,
scored by the province's scheme (`domain.evaluation`) for the center and every center below it.

Every figure is counted for the one center that owns it (the center that issued the voucher,
which answers for its redemptions, notice list and complaints), in one grouped query per kind of
figure; a center's evaluation adds up its subtree's figures, so a city is judged on what its
districts did, and the province on everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voucher_app.domain.evaluation import Evaluation, Figures, Scheme
from voucher_app.domain.tracking import RATEABLE
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import (
    Complaint,
    PublishedClaim,
    Redemption,
    ServiceRating,
    SpendFact,
    Voucher,
)
from voucher_app.persistence.uow import read_only
from voucher_app.services.centers import Hierarchy, load_hierarchy
from voucher_app.services.tracking import in_months_of, within_year


@dataclass(frozen=True, slots=True)
class CenterScore:
    center: str
    name: str
    #: 0 for the center asked about, 1 for its children, and so on down.
    depth: int
    parent: str | None
    evaluation: Evaluation
    #: Its place among its siblings, by total (equal totals share a place; ungraded centers
    #: have none); None for the center asked about.
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    year: int
    scheme: Scheme
    center: CenterScore
    #: The direct children, best first.
    children: tuple[CenterScore, ...]
    #: Every center of the subtree, the center first, then depth first in code order.
    subtree: tuple[CenterScore, ...]


@read_only
def center_evaluation(
    uow: UnitOfWork, center_code: str, year: int, scheme: Scheme
) -> EvaluationReport:
    """The evaluation of the center and of every center below it for `year`, by `scheme`."""
    root = uow.centers.by_code(center_code)
    tree = load_hierarchy(uow.session)
    own = own_figures(uow.session, sorted(tree.below(root.id)), year)
    scores: dict[int, CenterScore] = {}
    for center_id, depth in _depth_first(tree, root.id):
        figures = sum((own[c] for c in tree.below(center_id) if c in own), Figures())
        parent = tree.centers[center_id][2]
        scores[center_id] = CenterScore(
            tree.code(center_id),
            tree.name(center_id),
            depth,
            None if parent is None else tree.code(parent),
            scheme.evaluate(figures),
        )
    siblings = {
        center_id: ranked([scores[child] for child in tree.children(center_id)])
        for center_id in scores
    }
    placed = {score.center: score for group in siblings.values() for score in group}
    subtree = tuple(placed.get(score.center, score) for score in scores.values())
    return EvaluationReport(year, scheme, scores[root.id], siblings[root.id], subtree)


def ranked(scores: list[CenterScore]) -> tuple[CenterScore, ...]:
    """The centers best first, each with its place; equal totals share a place (1, 2, 2, 4),
    and centers without a grade come last, unplaced."""
    graded = sorted(
        (score for score in scores if score.evaluation.total is not None),
        key=lambda score: (-_total(score), score.center),
    )
    placed = [
        replace(score, rank=1 + sum(_total(other) > _total(score) for other in graded))
        for score in graded
    ]
    return (*placed, *(score for score in scores if score.evaluation.total is None))


def _total(score: CenterScore) -> Fraction:
    return score.evaluation.total or Fraction(0)


def _depth_first(tree: Hierarchy, root_id: int, depth: int = 0) -> Iterator[tuple[int, int]]:
    yield root_id, depth
    for child in tree.children(root_id):
        yield from _depth_first(tree, child, depth + 1)


def own_figures(session: Session, scope: list[int], year: int) -> dict[int, Figures]:
    """Each center's own figures for the year (not its subtree's), by center id."""
    found: dict[int, dict[str, int]] = defaultdict(dict)

    def keep(rows: Iterable[Sequence[Any]], *names: str) -> None:
        for center_id, *values in rows:
            found[center_id].update(zip(names, (int(v or 0) for v in values), strict=True))

    center = Voucher.issuing_center_id
    keep(
        session.execute(
            select(center, func.count())
            .where(center.in_(scope), *within_year(Voucher.issued_at, year))
            .group_by(center)
        ),
        "vouchers_issued",
    )
    keep(
        session.execute(
            select(center, func.count(func.distinct(Voucher.id)))
            .join(Redemption, Redemption.voucher_id == Voucher.id)
            .where(
                center.in_(scope),
                Redemption.status.in_(RATEABLE),
                *within_year(Redemption.submitted_at, year),
            )
            .group_by(center)
        ),
        "vouchers_redeemed",
    )
    for measure in ("allocated", "paid"):
        keep(
            session.execute(
                select(SpendFact.center_id, func.sum(SpendFact.amount_fen))
                .where(
                    SpendFact.center_id.in_(scope),
                    SpendFact.measure == measure,
                    in_months_of(year),
                )
                .group_by(SpendFact.center_id)
            ),
            f"{measure}_fen",
        )
    keep(
        session.execute(
            select(center, func.count(), func.sum(ServiceRating.score))
            .join(Redemption, Redemption.id == ServiceRating.redemption_id)
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(center.in_(scope), *within_year(ServiceRating.rated_at, year))
            .group_by(center)
        ),
        "ratings",
        "rating_total",
    )
    flagged = Redemption.signal_count > 0
    keep(
        session.execute(
            select(
                center,
                func.count(),
                func.count().filter(flagged),
                func.count().filter(flagged, Redemption.status.in_(RATEABLE)),
                func.count().filter(flagged, Redemption.status == "rejected"),
            )
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(center.in_(scope), *within_year(Redemption.submitted_at, year))
            .group_by(center)
        ),
        "redemptions",
        "flagged",
        "flagged_approved",
        "flagged_rejected",
    )
    keep(
        session.execute(
            select(PublishedClaim.center_id, func.count())
            .where(
                PublishedClaim.center_id.in_(scope),
                PublishedClaim.published_on.between(date(year, 1, 1), date(year, 12, 31)),
            )
            .group_by(PublishedClaim.center_id)
        ),
        "notice_items",
    )
    keep(
        session.execute(
            select(
                Complaint.center_id,
                func.count(),
                func.count().filter(Complaint.status == "resolved"),
                func.count().filter(Complaint.kind == "objection"),
            )
            .where(Complaint.center_id.in_(scope), *within_year(Complaint.filed_at, year))
            .group_by(Complaint.center_id)
        ),
        "complaints",
        "complaints_resolved",
        "objections",
    )
    return {center_id: Figures(**values) for center_id, values in found.items()}
