"""Who an SME is: its size class under the 2011 standard, and its unified social credit code.

Programmes state which sizes they accept, so the size class decides eligibility and must be
exact at every boundary. The standard (工信部联企业[2011]300号, see
`reference/sme-size-standard-2011.md`) is kept here as data, one row per industry, read by a
single function; a revision of the standard changes the table, not the logic.

The unified social credit code (USCC, GB 32100-2015) identifies SMEs and providers. It is
checked with `python-stdnum`, and its administrative-division code suggests the SME's home
center.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass, fields
from enum import StrEnum

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

from voucher_app.domain.errors import InvalidIndustry, InvalidSizeFigure, InvalidUSCC

# ---------------------------------------------------------------------------------------------
# Errors


#: The stable values of `InvalidUSCC.details["reason"]`.
USCC_REASONS = frozenset({"wrong_length", "invalid_character", "bad_check_character"})


# ---------------------------------------------------------------------------------------------
# Size classes and industries
class SizeClass(StrEnum):
    """Enterprise size under the 2011 standard; LARGE is "not an SME"."""

    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"
    LARGE = "large"


SME_SIZES = frozenset({SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO})


class Industry(StrEnum):
    """The sixteen industries of the size standard; the values are stable codes."""

    AGRICULTURE = "agriculture"
    INDUSTRY = "industry"
    CONSTRUCTION = "construction"
    WHOLESALE = "wholesale"
    RETAIL = "retail"
    TRANSPORT = "transport"
    WAREHOUSING = "warehousing"
    POSTAL = "postal"
    ACCOMMODATION = "accommodation"
    CATERING = "catering"
    INFORMATION_TRANSMISSION = "information_transmission"
    SOFTWARE_IT = "software_it"
    REAL_ESTATE_DEVELOPMENT = "real_estate_development"
    PROPERTY_MANAGEMENT = "property_management"
    LEASING_BUSINESS_SERVICES = "leasing_business_services"
    OTHER = "other"


INDUSTRY_CODES = frozenset(industry.value for industry in Industry)

_I = Industry

#: (Chinese, English) name of each industry, as the standard words it.
INDUSTRY_NAMES: dict[Industry, tuple[str, str]] = {
    _I.AGRICULTURE: ("农、林、牧、渔业", "Agriculture, forestry, husbandry and fishery"),
    _I.INDUSTRY: ("工业", "Industry (mining, manufacturing, utilities)"),
    _I.CONSTRUCTION: ("建筑业", "Construction"),
    _I.WHOLESALE: ("批发业", "Wholesale"),
    _I.RETAIL: ("零售业", "Retail"),
    _I.TRANSPORT: ("交通运输业", "Transport"),
    _I.WAREHOUSING: ("仓储业", "Warehousing"),
    _I.POSTAL: ("邮政业", "Postal services"),
    _I.ACCOMMODATION: ("住宿业", "Accommodation"),
    _I.CATERING: ("餐饮业", "Catering"),
    _I.INFORMATION_TRANSMISSION: ("信息传输业", "Information transmission"),
    _I.SOFTWARE_IT: ("软件和信息技术服务业", "Software and information technology services"),
    _I.REAL_ESTATE_DEVELOPMENT: ("房地产开发经营", "Real-estate development"),
    _I.PROPERTY_MANAGEMENT: ("物业管理", "Property management"),
    _I.LEASING_BUSINESS_SERVICES: ("租赁和商务服务业", "Leasing and business services"),
    _I.OTHER: ("其他未列明行业", "Other industries not listed"),
}

# ---------------------------------------------------------------------------------------------
# The size table

#: The standard counts money in 万元 (ten thousand yuan); one 万元 is a million fen.
FEN_PER_WAN = 1_000_000


def wan(amount: int) -> int:
    """`amount` 万元 (ten thousand yuan) in fen."""
    return amount * FEN_PER_WAN


@dataclass(frozen=True, slots=True)
class Bounds:
    """Thresholds on the measures a row names; None: the row does not use that measure."""

    employees: int | None = None
    revenue_fen: int | None = None
    assets_fen: int | None = None

    def measures(self) -> frozenset[str]:
        """The names of the measures these bounds use."""
        return frozenset(f.name for f in fields(self) if getattr(self, f.name) is not None)

    def pairs(self, figures: Bounds) -> Iterator[tuple[int, int]]:
        """(figure, threshold) for each measure these bounds use; `figures` holds all three."""
        for name in sorted(self.measures()):
            threshold: int = getattr(self, name)
            figure: int = getattr(figures, name)
            yield figure, threshold


@dataclass(frozen=True, slots=True)
class SizeRow:
    """One industry's row: an enterprise is an SME below *any* `sme_below` bound ("或"), and is
    medium (or small) at or above *all* the `medium_from` (or `small_from`) bounds ("且")."""

    industry: Industry
    sme_below: Bounds
    medium_from: Bounds
    small_from: Bounds

    def __post_init__(self) -> None:
        measures = self.medium_from.measures()
        if not measures or self.small_from.measures() != measures:
            raise ValueError(f"{self.industry}: medium and small must use the same measures")
        if not self.sme_below.measures():
            raise ValueError(f"{self.industry}: an SME bound is needed")
        for name in measures:
            if getattr(self.medium_from, name) < getattr(self.small_from, name):
                raise ValueError(f"{self.industry}: the medium {name} bound is below the small")


SIZE_TABLE: dict[Industry, SizeRow] = {
    row.industry: row
    for row in (
        SizeRow(
            _I.AGRICULTURE,
            sme_below=Bounds(revenue_fen=wan(20000)),
            medium_from=Bounds(revenue_fen=wan(500)),
            small_from=Bounds(revenue_fen=wan(50)),
        ),
        SizeRow(
            _I.INDUSTRY,
            sme_below=Bounds(employees=1000, revenue_fen=wan(40000)),
            medium_from=Bounds(employees=300, revenue_fen=wan(2000)),
            small_from=Bounds(employees=20, revenue_fen=wan(300)),
        ),
        SizeRow(
            _I.CONSTRUCTION,
            sme_below=Bounds(revenue_fen=wan(80000), assets_fen=wan(80000)),
            medium_from=Bounds(revenue_fen=wan(6000), assets_fen=wan(5000)),
            small_from=Bounds(revenue_fen=wan(300), assets_fen=wan(300)),
        ),
        SizeRow(
            _I.WHOLESALE,
            sme_below=Bounds(employees=200, revenue_fen=wan(40000)),
            medium_from=Bounds(employees=20, revenue_fen=wan(5000)),
            small_from=Bounds(employees=5, revenue_fen=wan(1000)),
        ),
        SizeRow(
            _I.RETAIL,
            sme_below=Bounds(employees=300, revenue_fen=wan(20000)),
            medium_from=Bounds(employees=50, revenue_fen=wan(500)),
            small_from=Bounds(employees=10, revenue_fen=wan(100)),
        ),
        SizeRow(
            _I.TRANSPORT,
            sme_below=Bounds(employees=1000, revenue_fen=wan(30000)),
            medium_from=Bounds(employees=300, revenue_fen=wan(3000)),
            small_from=Bounds(employees=20, revenue_fen=wan(200)),
        ),
        SizeRow(
            _I.WAREHOUSING,
            sme_below=Bounds(employees=200, revenue_fen=wan(30000)),
            medium_from=Bounds(employees=100, revenue_fen=wan(1000)),
            small_from=Bounds(employees=20, revenue_fen=wan(100)),
        ),
        SizeRow(
            _I.POSTAL,
            sme_below=Bounds(employees=1000, revenue_fen=wan(30000)),
            medium_from=Bounds(employees=300, revenue_fen=wan(2000)),
            small_from=Bounds(employees=20, revenue_fen=wan(100)),
        ),
        SizeRow(
            _I.ACCOMMODATION,
            sme_below=Bounds(employees=300, revenue_fen=wan(10000)),
            medium_from=Bounds(employees=100, revenue_fen=wan(2000)),
            small_from=Bounds(employees=10, revenue_fen=wan(100)),
        ),
        SizeRow(
            _I.CATERING,
            sme_below=Bounds(employees=300, revenue_fen=wan(10000)),
            medium_from=Bounds(employees=100, revenue_fen=wan(2000)),
            small_from=Bounds(employees=10, revenue_fen=wan(100)),
        ),
        SizeRow(
            _I.INFORMATION_TRANSMISSION,
            sme_below=Bounds(employees=2000, revenue_fen=wan(100000)),
            medium_from=Bounds(employees=100, revenue_fen=wan(1000)),
            small_from=Bounds(employees=10, revenue_fen=wan(100)),
        ),
        SizeRow(
            _I.SOFTWARE_IT,
            sme_below=Bounds(employees=300, revenue_fen=wan(10000)),
            medium_from=Bounds(employees=100, revenue_fen=wan(1000)),
            small_from=Bounds(employees=10, revenue_fen=wan(50)),
        ),
        SizeRow(
            _I.REAL_ESTATE_DEVELOPMENT,
            sme_below=Bounds(revenue_fen=wan(200000), assets_fen=wan(10000)),
            medium_from=Bounds(revenue_fen=wan(1000), assets_fen=wan(5000)),
            small_from=Bounds(revenue_fen=wan(100), assets_fen=wan(2000)),
        ),
        SizeRow(
            _I.PROPERTY_MANAGEMENT,
            sme_below=Bounds(employees=1000, revenue_fen=wan(5000)),
            medium_from=Bounds(employees=300, revenue_fen=wan(1000)),
            small_from=Bounds(employees=100, revenue_fen=wan(500)),
        ),
        SizeRow(
            _I.LEASING_BUSINESS_SERVICES,
            sme_below=Bounds(employees=300, assets_fen=wan(120000)),
            medium_from=Bounds(employees=100, assets_fen=wan(8000)),
            small_from=Bounds(employees=10, assets_fen=wan(100)),
        ),
        SizeRow(
            _I.OTHER,
            sme_below=Bounds(employees=300),
            medium_from=Bounds(employees=100),
            small_from=Bounds(employees=10),
        ),
    )
}


def classify(industry: Industry, employees: int, revenue_fen: int, assets_fen: int) -> SizeClass:
    """The size class of an enterprise in `industry` with these figures (LARGE: not an SME).

    Every figure must be a non-negative whole number, even one the industry's row does not
    use. Tests in the standard's order: not an SME, medium, small, micro.
    """
    try:
        row = SIZE_TABLE[Industry(industry)]
    except ValueError:
        raise InvalidIndustry(f"unknown industry {industry!r}", industry=industry) from None
    figures = Bounds(
        employees=_require_figure(employees, "employees"),
        revenue_fen=_require_figure(revenue_fen, "revenue_fen"),
        assets_fen=_require_figure(assets_fen, "assets_fen"),
    )
    if not any(figure < bound for figure, bound in row.sme_below.pairs(figures)):
        return SizeClass.LARGE
    if all(figure >= bound for figure, bound in row.medium_from.pairs(figures)):
        return SizeClass.MEDIUM
    if all(figure >= bound for figure, bound in row.small_from.pairs(figures)):
        return SizeClass.SMALL
    return SizeClass.MICRO


def _require_figure(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSizeFigure(
            f"{field} must be a whole number, not {type(value).__name__}", field=field
        )
    if value < 0:
        raise InvalidSizeFigure(f"{field} must not be negative", field=field, value=value)
    return value


# ---------------------------------------------------------------------------------------------
# Unified social credit code

USCC_LENGTH = 18
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_REGION = slice(2, 8)


def parse_uscc(text: str) -> str:
    """The code in `text`, normalised: upper case, without spaces or hyphens.

    Full-width characters (as Chinese input methods type them) count as their ASCII forms.
    Raises `InvalidUSCC` with a `reason` of "wrong_length", "invalid_character" or
    "bad_check_character".
    """
    code = stdnum_uscc.compact("".join(unicodedata.normalize("NFKC", text).split()))
    try:
        valid: str = stdnum_uscc.validate(code)
    except stdnum_errors.InvalidLength:
        raise InvalidUSCC(
            f"a unified social credit code has {USCC_LENGTH} characters, not {len(code)}",
            reason="wrong_length",
            length=len(code),
        ) from None
    except (stdnum_errors.InvalidFormat, stdnum_errors.InvalidComponent):
        raise _invalid_character(code) from None
    except stdnum_errors.InvalidChecksum:
        raise InvalidUSCC(
            f"the check character {code[-1]!r} does not match the first 17 characters "
            "of the unified social credit code (is one of them mistyped?)",
            reason="bad_check_character",
        ) from None
    return valid


def _invalid_character(code: str) -> InvalidUSCC:
    """The error naming the first character stdnum's format check refuses."""
    for position, char in enumerate(code, start=1):
        if position <= 8 and char not in "0123456789":
            return InvalidUSCC(
                "the first 8 characters of a unified social credit code are digits, "
                f"but character {position} is {char!r}",
                reason="invalid_character",
                position=position,
            )
        if char not in _USCC_ALPHABET:
            return InvalidUSCC(
                f"character {position} ({char!r}) cannot appear in a unified social credit "
                f"code, which uses only 0-9 and the letters {_USCC_ALPHABET[10:]}",
                reason="invalid_character",
                position=position,
            )
    return InvalidUSCC(  # stdnum refused a component this scan allows: name no character
        "a part of the unified social credit code is not valid", reason="invalid_character"
    )


def region_code(uscc: str) -> str:
    """Characters 3 to 8 of the code: the administrative division it was registered in."""
    return parse_uscc(uscc)[_REGION]


def suggest_center(uscc: str, known_center_codes: Collection[str]) -> str | None:
    """The most specific known center for the code's region: its county, city or province."""
    region = region_code(uscc)
    for candidate in (region, region[:4] + "00", region[:2] + "0000"):
        if candidate in known_center_codes:
            return candidate
    return None
