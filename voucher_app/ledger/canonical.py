"""RFC 8785 (JSON Canonicalization Scheme) bytes of a journal entry: the Merkle leaf data.

A general JCS writer must format IEEE doubles the ECMAScript way and sort keys by UTF-16 code
units. Journal entries never hold floats, their integers stay within ±(2**53 - 1) and their keys
are ASCII (`document.parse_entry` enforces all three), and for such values the standard library's
JSON writer, with sorted keys, no whitespace and UTF-8 output, produces RFC 8785's exact bytes —
about ten times faster than a general implementation. `tests/unit/test_canonical.py` checks this
against an independent RFC 8785 implementation.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def canonical_bytes(document: Any) -> bytes:
    """The RFC 8785 form of `document` (an entry as `document.entry_document` builds it)."""
    return _ENCODER.encode(document).encode("utf-8")
