"""The layout of a ledger export folder: written by `ledger.export`, read by `voucher-audit`.

    entries.jsonl       one {"index": n, "entry": {...}} per line, the entry in RFC 8785 form
    leaf-hashes.bin     the stored leaf hashes, 32 bytes each, in index order (untrusted: they
                        let the auditor name an edited entry exactly once they reproduce a
                        signed root)
    checkpoints/        one signed checkpoint note per file, <tree size>.note
    ledger.vkey         the ledger's verifier keys, one per line

Pure: no database, no Flask, so the auditor can import it.
"""

from __future__ import annotations

ENTRIES = "entries.jsonl"
LEAVES = "leaf-hashes.bin"
CHECKPOINTS = "checkpoints"
VKEY = "ledger.vkey"
HASH_SIZE = 32


def entry_line(index: int, canonical: bytes) -> bytes:
    return b'{"index":%d,"entry":%s}\n' % (index, canonical)


def checkpoint_file(tree_size: int) -> str:
    return f"{tree_size:012d}.note"
