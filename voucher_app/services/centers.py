"""The service-center hierarchy: importing it, and finding a center and everything below it."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from voucher_app.domain.centers import CenterLevel, CenterSpec, parse_center_rows
from voucher_app.domain.errors import InvalidCenterData
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Center
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.uow import read_only, transaction


@dataclass(frozen=True, slots=True)
class CenterView:
    code: str
    name_zh: str
    name_en: str
    level: CenterLevel
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def read_center_csv(handle: Iterable[str]) -> list[CenterSpec]:
    return parse_center_rows(csv.DictReader(handle))


def guangdong_centers() -> list[CenterSpec]:
    """Guangdong's hierarchy as shipped with the package."""
    data = resources.files("voucher_app") / "data" / "guangdong-centers.csv"
    with data.open(encoding="utf-8") as handle:
        return read_center_csv(handle)


@transaction
def import_centers(uow: UnitOfWork, specs: Iterable[CenterSpec]) -> ImportResult:
    """Create or update centers by code. A center never moves to another parent."""
    session = uow.session
    existing = {c.code: c for c in session.scalars(select(Center))}
    created = updated = unchanged = 0
    for spec in specs:
        parent_id = existing[spec.parent_code].id if spec.parent_code else None
        center = existing.get(spec.code)
        if center is None:
            center = Center(
                code=spec.code,
                name_zh=spec.name_zh,
                name_en=spec.name_en,
                level=spec.level.value,
                parent_id=parent_id,
            )
            session.add(center)
            session.flush()
            existing[spec.code] = center
            created += 1
            continue
        if center.parent_id != parent_id or center.level != spec.level.value:
            raise InvalidCenterData(f"center {spec.code} cannot change its place in the hierarchy")
        if (center.name_zh, center.name_en) == (spec.name_zh, spec.name_en):
            unchanged += 1
        else:
            center.name_zh, center.name_en = spec.name_zh, spec.name_en
            updated += 1
    return ImportResult(created, updated, unchanged)


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """Every center in memory (a province has a few hundred), for reports that roll figures up
    the tree: id → (code, name, parent id)."""

    centers: dict[int, tuple[str, str, int | None]]

    def code(self, center_id: int) -> str:
        return self.centers[center_id][0]

    def name(self, center_id: int) -> str:
        return self.centers[center_id][1]

    def children(self, center_id: int) -> list[int]:
        """The direct children, in code order."""
        found = [c for c, (_, _, parent) in self.centers.items() if parent == center_id]
        return sorted(found, key=self.code)

    def below(self, root_id: int) -> set[int]:
        """The center and every center below it."""
        found, frontier = {root_id}, [root_id]
        while frontier:
            frontier = [child for center in frontier for child in self.children(center)]
            found.update(frontier)
        return found


def load_hierarchy(session: Session) -> Hierarchy:
    rows = session.execute(select(Center.id, Center.code, Center.name_zh, Center.parent_id))
    return Hierarchy({row.id: (row.code, row.name_zh, row.parent_id) for row in rows})


def subtree_ids(session: Session, root_id: int) -> set[int]:
    """Ids of the center `root_id` and every center below it (a recursive query)."""
    return set(session.scalars(_SUBTREE, {"root": root_id}))


def is_within(session: Session, center_id: int, root_id: int) -> bool:
    """Whether `root_id` is the center or one of its ancestors (a recursive walk up a few
    levels: every claim asks this)."""
    found = _ANCESTOR.run(session.connection(), {"center": center_id, "root": root_id})
    return found.first() is not None


# Built once: both run on every claim, and a prebuilt statement skips SQLAlchemy's per-call
# construction and cache-key work.
_centers = Center.__table__
_down = select(_centers.c.id).where(_centers.c.id == bindparam("root")).cte(recursive=True)
_down = _down.union_all(select(_centers.c.id).where(_centers.c.parent_id == _down.c.id))
_SUBTREE = select(_down.c.id)
_up = (
    select(_centers.c.id, _centers.c.parent_id)
    .where(_centers.c.id == bindparam("center"))
    .cte(recursive=True)
)
_up = _up.union_all(
    select(_centers.c.id, _centers.c.parent_id).where(_centers.c.id == _up.c.parent_id)
)
_ANCESTOR = Prepared(select(_up.c.id).where(_up.c.id == bindparam("root")))


def _center_view(center: Center, parent_code: str | None) -> CenterView:
    return CenterView(
        center.code, center.name_zh, center.name_en, CenterLevel(center.level), parent_code
    )


@read_only
def code_of(uow: UnitOfWork, center_id: int) -> str:
    """The code of the center an account is bound to."""
    return uow.session.get_one(Center, center_id).code


@read_only
def name_of(uow: UnitOfWork, code: str) -> str:
    """The center's name (in Chinese, as the reports name it)."""
    return uow.centers.by_code(code).name_zh


@read_only
def list_subtree(uow: UnitOfWork, code: str) -> list[CenterView]:
    """The center `code` and everything below it, parents before children."""
    session = uow.session
    root = uow.centers.by_code(code)
    return _ordered(session, select(Center).where(Center.id.in_(subtree_ids(session, root.id))))


@read_only
def list_all(uow: UnitOfWork) -> list[CenterView]:
    """Every center, parents before children (none in a database not set up yet)."""
    return _ordered(uow.session, select(Center))


def _ordered(session: Session, query: Select[Center]) -> list[CenterView]:
    centers = list(session.scalars(query))
    codes = {center_id: code for center_id, code in session.execute(select(Center.id, Center.code))}
    depth = {level: position for position, level in enumerate(CenterLevel)}
    centers.sort(key=lambda c: (depth[CenterLevel(c.level)], c.code))
    return [_center_view(c, codes.get(c.parent_id) if c.parent_id else None) for c in centers]
