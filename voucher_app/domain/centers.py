"""The service-center hierarchy: province → city → county, as data checked for coherence."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from voucher_app.domain.errors import InvalidCenterData

_CODE = re.compile(r"[0-9]{6}")


class CenterLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


#: The level a center's parent must have (None: no parent).
PARENT_LEVEL: dict[CenterLevel, CenterLevel | None] = {
    CenterLevel.PROVINCE: None,
    CenterLevel.CITY: CenterLevel.PROVINCE,
    CenterLevel.COUNTY: CenterLevel.CITY,
}


@dataclass(frozen=True, slots=True)
class CenterSpec:
    code: str
    name_zh: str
    name_en: str
    level: CenterLevel
    parent_code: str | None


def parse_center_rows(rows: Iterable[dict[str, str]]) -> list[CenterSpec]:
    """Read CSV rows (code, name_zh, name_en, level, parent_code) into specs, parents first.

    Refuses the whole file on the first problem, naming the line, so an import never leaves a
    half-built hierarchy.
    """
    specs: list[CenterSpec] = []
    for line, row in enumerate(rows, start=2):
        try:
            code = row["code"].strip()
            level = CenterLevel(row["level"].strip())
            parent = (row.get("parent_code") or "").strip() or None
            name_zh, name_en = row["name_zh"].strip(), row["name_en"].strip()
        except (KeyError, ValueError, AttributeError) as exc:
            raise InvalidCenterData(f"line {line}: missing or invalid column ({exc})") from exc
        if not _CODE.fullmatch(code):
            raise InvalidCenterData(f"line {line}: center code {code!r} is not six digits")
        if not name_zh or not name_en:
            raise InvalidCenterData(f"line {line}: both names are required")
        specs.append(CenterSpec(code, name_zh, name_en, level, parent))
    return order_parents_first(specs)


def order_parents_first(specs: Sequence[CenterSpec]) -> list[CenterSpec]:
    by_code: dict[str, CenterSpec] = {}
    for spec in specs:
        if spec.code in by_code:
            raise InvalidCenterData(f"center {spec.code} appears twice")
        by_code[spec.code] = spec
    for spec in specs:
        wanted = PARENT_LEVEL[spec.level]
        if wanted is None:
            if spec.parent_code is not None:
                raise InvalidCenterData(f"province center {spec.code} cannot have a parent")
            continue
        parent = by_code.get(spec.parent_code or "")
        if parent is None:
            raise InvalidCenterData(f"center {spec.code}: parent {spec.parent_code} is not listed")
        if parent.level is not wanted:
            raise InvalidCenterData(
                f"center {spec.code} ({spec.level}) needs a {wanted} parent, "
                f"not {parent.code} ({parent.level})"
            )
    depth = {level: position for position, level in enumerate(CenterLevel)}
    return sorted(specs, key=lambda s: (depth[s.level], s.code))
