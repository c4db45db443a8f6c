"""The export folder's layout (`voucher_app.ledger.export_format`): one JSON line per entry,
`{"index": n, "entry": <the entry's RFC 8785 bytes, unchanged>}`, and checkpoint files named by
their tree size, zero-padded to twelve digits so that they sort by size."""

from __future__ import annotations

import json

from voucher_app.ledger.export_format import checkpoint_file, entry_line


def test_an_entry_line_carries_the_index_and_the_canonical_bytes_unchanged() -> None:
    canonical = b'{"id":"x","postings":[{"account":"a","amount_fen":-5}]}'
    line = entry_line(17, canonical)
    assert line == b'{"index":17,"entry":' + canonical + b"}\n"
    assert json.loads(line) == {"index": 17, "entry": json.loads(canonical)}


def test_checkpoint_files_are_named_by_tree_size_padded_to_twelve_digits() -> None:
    assert checkpoint_file(0) == "000000000000.note"
    assert checkpoint_file(42) == "000000000042.note"
    assert sorted([checkpoint_file(100), checkpoint_file(99)]) == [
        "000000000099.note",
        "000000000100.note",
    ]
