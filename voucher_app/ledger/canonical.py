"""RFC 8785 (JSON Canonicalization Scheme) bytes of a journal entry: its Merkle leaf data.

Canonicalization is the auditor's hot path (a million entries must verify in seconds). A general
RFC 8785 writer formats IEEE doubles the ECMAScript way and sorts keys by UTF-16 code units;
an entry needs neither: it holds no fractions, its integers lie within ±(2**53 - 1) (where the
ECMAScript form is plain decimal) and its keys are ASCII (where code-point order is UTF-16
order); `document.parse_entry` enforces all three. For such values orjson with sorted keys
writes exactly RFC 8785's bytes: no whitespace, UTF-8, and only `"`, `\\` and control characters
escaped, the latter in RFC 8785's short or lower-case `\\u00xx` forms — about fifty times faster
than a general implementation. `tests/unit/test_canonical.py` checks it against an independent
RFC 8785 implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson


def canonical_entry(document: Mapping[str, Any]) -> bytes:
    """The RFC 8785 bytes of an entry document (the shape `document.parse_entry` accepts)."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
