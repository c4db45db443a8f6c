"""A voucher's short human code: 50 random bits in Crockford base32, with a check symbol.

The QR code on a voucher carries its signed token, but a QR cannot always be scanned: a faded
print-out, a cracked phone screen, a voucher read out over the telephone or at a service desk.
The human code is what a person reads aloud and another types in. Crockford's base32
(crockford.com/base32.html, implemented by the `base32_crockford` package) suits that:

- its alphabet has digits and upper-case letters only, without I, L, O and U, so nothing is
  ambiguous when read aloud or written by hand; typed I and L read as 1 and O as 0, and case,
  spaces and hyphens do not matter;
- a check symbol, the value modulo 37, ends the code. 37 is prime and larger than the alphabet,
  so changing any one symbol, or swapping two neighbouring data symbols, always changes the
  remainder: a single mistyped character is caught at the desk, before anyone looks up (or,
  with bad luck, finds) another voucher. The check symbol alone may also be one of ``*~$=U``
  (the remainders 32 to 36).

A code is 10 data symbols (exactly 50 bits, zero-padded) and the check symbol, shown in groups
of four, four and three: ``3G92-30VQ-VSQ``, or ``7QX2-M9KD-4T~`` when the remainder is 33.
Full-width characters (as Chinese input methods type them) count as their ASCII forms. The code
names a voucher, it does not authorise anything: redeeming still checks the ledger.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable

import base32_crockford

from voucher_app.domain.errors import (
    InvalidVoucherCode,
)

#: Random bits in a code; callers pass `secrets.randbits(HUMAN_CODE_BITS)`.
HUMAN_CODE_BITS = 50
#: Data symbols in a code (5 bits each), before the check symbol.
DATA_SYMBOLS = HUMAN_CODE_BITS // 5
#: Symbols per group when a code is shown; the last group ends with the check symbol.
GROUPS = (4, 4, 3)
SEPARATOR = "-"

_SYMBOLS: str = base32_crockford.symbols  # the 32 data symbols, in value order
_CHECK_ONLY: str = base32_crockford.check_symbols  # the check symbols for 32 to 36
_ALIASES = "IiLlOo"  # read as 1, 1, 1, 1, 0, 0 by the package
#: Every character a typed code may contain (before the package normalises it).
_ACCEPTED = frozenset(_SYMBOLS + _SYMBOLS.lower() + _CHECK_ONLY + "u" + _ALIASES + SEPARATOR)


#: The stable values of `InvalidVoucherCode.details["reason"]`.
VOUCHER_CODE_REASONS = frozenset({"wrong_length", "invalid_character", "bad_check_symbol"})


def new_human_code(random_bits: int) -> str:
    """The human code for `random_bits` (0 ≤ random_bits < 2**50), e.g. ``3G92-30VQ-VSQ``.

    Deterministic: the caller supplies the randomness (`secrets.randbits(HUMAN_CODE_BITS)`).
    """
    if isinstance(random_bits, bool) or not isinstance(random_bits, int):
        raise TypeError(f"random_bits must be an int, not {type(random_bits).__name__}")
    if not 0 <= random_bits < 2**HUMAN_CODE_BITS:
        raise ValueError(f"random_bits must be in [0, 2**{HUMAN_CODE_BITS}), not {random_bits}")
    symbols: str = base32_crockford.encode(random_bits, checksum=True)
    data, check = symbols[:-1], symbols[-1]
    return _grouped(data.rjust(DATA_SYMBOLS, "0") + check)


def random_human_code(random_bits: Callable[[int], int] = secrets.randbits) -> str:
    """A fresh human code whose check symbol is a letter or digit.

    Crockford's check alphabet adds `*~$=U` for check values 32 to 36; codes are read aloud at
    service desks, so those draws are simply repeated (about one in seven).
    """
    while True:
        code = new_human_code(random_bits(HUMAN_CODE_BITS))
        if code[-1].isalnum() and code[-1] != "U":
            return code


def normalise_human_code(text: str) -> str:
    """The canonical (grouped, upper-case) form of a code as a person typed it.

    Accepts any case, spaces and hyphens anywhere, and I/L for 1 and O for 0. Raises
    `InvalidVoucherCode` for a character outside the alphabet, a wrong number of symbols or a
    check symbol that does not match (one of the characters is mistyped).
    """
    compact = "".join(unicodedata.normalize("NFKC", text).split())
    for position, char in enumerate(compact.replace(SEPARATOR, ""), start=1):
        if char not in _ACCEPTED:
            raise InvalidVoucherCode(
                f"character {position} ({char!r}) cannot appear in a voucher code, which uses "
                f"only digits and the letters {_SYMBOLS[10:]} (I and L read as 1, O as 0)",
                reason="invalid_character",
            )
    length = len(compact.replace(SEPARATOR, ""))
    if length != DATA_SYMBOLS + 1:
        raise InvalidVoucherCode(
            f"a voucher code has {DATA_SYMBOLS + 1} symbols, not {length}",
            reason="wrong_length",
            length=length,
        )
    try:
        canonical: str = base32_crockford.normalize(compact)
    except ValueError as exc:  # every character is accepted: a check-only symbol is misplaced
        symbols = compact.replace(SEPARATOR, "").upper()
        position = next(i for i, c in enumerate(symbols, start=1) if c in _CHECK_ONLY)
        raise InvalidVoucherCode(
            f"character {position} ({symbols[position - 1]!r}) can only be the last (check) "
            "symbol of a voucher code",
            reason="invalid_character",
        ) from exc
    try:
        base32_crockford.decode(canonical, checksum=True)
    except ValueError as exc:
        raise InvalidVoucherCode(
            f"the check symbol {canonical[-1]!r} does not match the rest of the voucher code "
            "(is one of its characters mistyped?)",
            reason="bad_check_symbol",
        ) from exc
    return _grouped(canonical)


def _grouped(symbols: str) -> str:
    groups: list[str] = []
    start = 0
    for size in GROUPS:
        groups.append(symbols[start : start + size])
        start += size
    return SEPARATOR.join(groups)
