"""Money is an integer count of fen (0.01 CNY); yuan strings exist only at the edges.

Floats never carry money: a value that is not already an `int` is refused rather than rounded,
so a caller that computed an amount with floats finds out at once.
"""

from __future__ import annotations

import re
from decimal import Decimal

from voucher_app.domain.errors import InvalidAmount

#: Largest amount the ledger accepts: the largest integer every JSON reader (RFC 8785 uses
#: IEEE doubles) represents exactly. 90 trillion yuan is far beyond any programme.
MAX_FEN = 2**53 - 1

FULL_RATE_BP = 10_000

_YUAN = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,16})(?:\.(?P<frac>[0-9]{1,2}))?")


def require_fen(value: object, *, field: str = "amount_fen", allow_zero: bool = False) -> int:
    """Return `value` if it is a whole, positive (or zero if allowed) count of fen in range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(
            f"{field} must be a whole number of fen, not {type(value).__name__}", field=field
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidAmount(f"{field} must be greater than zero", field=field, value=value)
    if value > MAX_FEN:
        raise InvalidAmount(f"{field} exceeds {MAX_FEN} fen", field=field, value=value)
    return value


def parse_yuan(text: str) -> int:
    """Parse "1234.5", "1,234.50" or "¥1,234.50" into fen."""
    match = _YUAN.fullmatch(text.strip().removeprefix("¥"))
    if match is None:
        raise InvalidAmount(f"not an amount in yuan: {text!r}", rule="not_yuan", value=text)
    fen = int(match["whole"].replace(",", "")) * 100 + int((match["frac"] or "0").ljust(2, "0"))
    return require_fen(fen, field="amount", allow_zero=True)


def format_yuan(fen: int) -> str:
    """Format fen as "¥1,234.50" (a minus sign before the symbol when negative)."""
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{frac:02d}"


def format_amount(fen: int) -> str:
    """Format fen as a plain decimal amount in yuan, "1234.50", as payment files carry it."""
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(fen), 100)
    return f"{sign}{whole}.{frac:02d}"


def yuan_decimal(fen: int) -> Decimal:
    """Fen as an exact decimal number of yuan (1234.50), for a spreadsheet's number cells."""
    return Decimal(fen).scaleb(-2)


def apply_rate(amount_fen: int, rate_bp: int) -> int:
    """The share `rate_bp` (basis points) of `amount_fen`, rounded down to the fen."""
    return amount_fen * rate_bp // FULL_RATE_BP
