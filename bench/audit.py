"""Export and `voucher-audit` of a 1,000,000-entry ledger, and inclusion proofs at that size.

Targets (issue "Foundation and the verifiable ledger"): the auditor verifies a million entries in
under 20 s on one core, and an inclusion proof at that size takes under 5 ms.

The ledger is built straight into a fresh PostgreSQL database with COPY (posting a million
entries one by one through the service would take the better part of an hour): realistic
entries — a funding, allocations down the hierarchy, then per voucher an issue, a redemption,
an approval and a settlement, with some issues reversed — hashed into the same leaves and
subtree nodes the sequencer stores, with signed checkpoints every 100,000 entries. Then:

- export: `services.ledger.export_ledger` against a raw-SQL baseline (one psycopg query streaming
  the same joined rows);
- audit: `voucher-audit` on the export, in this process (one core), with its phases timed
  separately — decoding, canonicalization (against the `rfc8785` reference implementation and
  the standard library's JSON writer), hashing and the tree, replay;
- inclusion proofs: `services.ledger.inclusion_proof` against a raw-SQL baseline fetching the
  same nodes with one psycopg query.

Environment: BENCH_ENTRIES (default 1000000), VOUCHER_BENCH_POSTGRES_URL.
"""

from __future__ import annotations

import gc
import io
import itertools
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator
from contextlib import ExitStack, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import BENCH_ORIGIN, driver_dsn, fresh_database, percentile, print_table
from voucher_app.cli.audit import decode
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.clock import SystemClock
from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.ledger import merkle
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.document import entry_document, parse_entry
from voucher_app.ledger.replay import Replay
from voucher_app.persistence.database import Database
from voucher_app.services import ledger
from voucher_app.signing.note import Checkpoint, Verifier, sign_note
from voucher_app.wiring import unit_of_work

ORIGIN = BENCH_ORIGIN
CHECKPOINT_EVERY = 100_000
CITIES = ["440100", "440300", "440600"]
DISTRICTS = {"440100": ["440106", "440112"], "440300": ["440305", "440306"], "440600": ["440604"]}
PROVIDERS = [str(uuid.UUID(int=n + 1)) for n in range(200)]
ACTOR = ("bench-staff", "center_staff")


def generate(count: int) -> Iterator[dict[str, Any]]:
    """Entry documents of a plausible ledger, valid under every replay rule."""
    programme = str(uuid.uuid4())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    n = 0

    def entry(
        kind: EntryKind, postings: list[Posting], reverses: str | None = None
    ) -> dict[str, Any]:
        nonlocal n
        n += 1
        return entry_document(
            entry_id=str(uuid.uuid4()),
            kind=kind,
            created_at=start + timedelta(milliseconds=7 * n),
            actor_id=ACTOR[0],
            actor_role=ACTOR[1],
            postings=postings,
            refs={"programme": programme},
            reverses=reverses,
        )

    def available(center: str) -> str:
        return accounts.available(center, programme).name

    yield entry(
        EntryKind.FUND,
        [
            Posting(accounts.funding(programme).name, -(10**14)),
            Posting(available("440000"), 10**14),
        ],
    )
    for city in CITIES:
        yield entry(
            EntryKind.ALLOCATE,
            [Posting(available("440000"), -(3 * 10**13)), Posting(available(city), 3 * 10**13)],
        )
        for district in DISTRICTS[city]:
            yield entry(
                EntryKind.ALLOCATE,
                [Posting(available(city), -(10**13)), Posting(available(district), 10**13)],
            )
    districts = [d for ds in DISTRICTS.values() for d in ds]
    chooser = random.Random(2026)
    while True:
        district = chooser.choice(districts)
        voucher = accounts.voucher(str(uuid.uuid4())).name
        face = chooser.choice([200_000, 500_000, 1_000_000])
        issue = entry(
            EntryKind.ISSUE, [Posting(available(district), -face), Posting(voucher, face)]
        )
        yield issue
        if chooser.random() < 0.01:
            yield entry(
                EntryKind.REVERSE,
                [Posting(available(district), face), Posting(voucher, -face)],
                issue["id"],
            )
            continue
        provider = chooser.choice(PROVIDERS)
        spent = face * chooser.choice([5, 8, 10]) // 10
        kinds = (AccountKind.PENDING, AccountKind.PAYABLE, AccountKind.PAID)
        pending, payable, paid = (accounts.provider(k, provider, programme).name for k in kinds)
        yield entry(EntryKind.REDEEM, [Posting(voucher, -spent), Posting(pending, spent)])
        yield entry(EntryKind.APPROVE, [Posting(pending, -spent), Posting(payable, spent)])
        yield entry(EntryKind.SETTLE, [Posting(payable, -spent), Posting(paid, spent)])
        if n >= count:
            return


def build(
    url: str,
    count: int,
    key: Ed25519PrivateKey,
    *,
    sign_at: Collection[int] = (),
    publish_up_to: int | None = None,
) -> tuple[int, float, list[tuple[int, bytes, str]]]:
    """Load exactly `count` entries with COPY, as the sequencer would have stored them.

    Checkpoints are signed every CHECKPOINT_EVERY entries and at the end, or at the sizes in
    `sign_at`; those up to `publish_up_to` (all by default) are stored, the others returned
    (tree size, root, note) for the caller to publish later.
    """
    started = time.perf_counter()
    dsn = driver_dsn(url)
    columns = {
        "journal_entries": "id, public_id, kind, created_at, actor_id, actor_role, refs, "
        "reverses_id",
        "journal_postings": "entry_id, account_id, amount_fen",
        "ledger_log_leaves": "leaf_index, entry_id",
        "ledger_log_nodes": "level, node_index, hash",
    }
    stack = ExitStack()
    copies: dict[str, psycopg.Copy] = {}
    for table, names in columns.items():
        connection = stack.enter_context(psycopg.connect(dsn))
        cursor = stack.enter_context(connection.cursor())
        # Foreign keys are checked by triggers; replica mode skips them while the tables fill
        # in parallel streams. (The append-only triggers guard UPDATE and DELETE, not INSERT.)
        cursor.execute("SET session_replication_role = replica")
        copies[table] = stack.enter_context(cursor.copy(f"COPY {table} ({names}) FROM STDIN"))
    account_ids: dict[str, int] = {}
    balances: dict[str, int] = {}
    row_of_entry: dict[str, int] = {}
    tree = merkle.CompactTree()
    checkpoints: list[tuple[int, bytes, str]] = []
    created = datetime.now(UTC)
    wanted = set(sign_at)
    for index, document in enumerate(itertools.islice(generate(count), count)):
        row = index + 1
        row_of_entry[document["id"]] = row
        copies["journal_entries"].write_row(
            (
                row,
                document["id"],
                document["kind"],
                document["created_at"][:-1] + "+00",
                ACTOR[0],
                ACTOR[1],
                json.dumps(document["refs"]),
                row_of_entry[document["reverses"]] if document["reverses"] else None,
            )
        )
        for posting in document["postings"]:
            name = posting["account"]
            account_id = account_ids.setdefault(name, len(account_ids) + 1)
            balances[name] = balances.get(name, 0) + posting["amount_fen"]
            copies["journal_postings"].write_row((row, account_id, posting["amount_fen"]))
        copies["ledger_log_leaves"].write_row((index, row))
        for (level, node_index), digest in tree.append(merkle.leaf_hash(canonical_entry(document))):
            copies["ledger_log_nodes"].write_row((level, node_index, digest))
        if tree.size in wanted or (not wanted and tree.size % CHECKPOINT_EVERY == 0):
            checkpoints.append(_checkpoint(tree, key))
    if not wanted and tree.size % CHECKPOINT_EVERY:
        checkpoints.append(_checkpoint(tree, key))
    limit = tree.size if publish_up_to is None else publish_up_to
    published = [c for c in checkpoints if c[0] <= limit]
    stack.close()  # ends each COPY, then commits and closes its connection
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY ledger_accounts (id, name, kind, balance_fen, floor_fen) FROM STDIN"
        ) as copy:
            for name, account_id in account_ids.items():
                kind = accounts.parse_account(name).kind
                floor = -(10**15) if kind is AccountKind.FUNDING else 0
                copy.write_row((account_id, name, kind.value, balances[name], floor))
        for size, root, note in published:
            cursor.execute(
                "INSERT INTO ledger_checkpoints (tree_size, root_hash, note, created_at) "
                "VALUES (%s, %s, %s, %s)",
                (size, root, note, created),
            )
        for table in ("journal_entries", "ledger_accounts"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    return tree.size, time.perf_counter() - started, [c for c in checkpoints if c[0] > limit]


def _checkpoint(tree: merkle.CompactTree, key: Ed25519PrivateKey) -> tuple[int, bytes, str]:
    root = tree.root()
    return tree.size, root, sign_note(Checkpoint(ORIGIN, tree.size, root).text(), ORIGIN, key)


def raw_export(url: str) -> float:
    """Baseline: stream the same joined rows the export reads, with one psycopg query."""
    started = time.perf_counter()
    with psycopg.connect(driver_dsn(url)) as connection, connection.cursor(name="export") as cursor:
        cursor.itersize = 20_000
        cursor.execute(
            "SELECT l.leaf_index, e.public_id, e.kind, e.created_at, e.actor_id, e.actor_role, "
            "e.refs, r.public_id, a.name, p.amount_fen, n.hash "
            "FROM ledger_log_leaves l JOIN journal_entries e ON e.id = l.entry_id "
            "LEFT JOIN journal_entries r ON r.id = e.reverses_id "
            "JOIN journal_postings p ON p.entry_id = e.id "
            "JOIN ledger_accounts a ON a.id = p.account_id "
            "JOIN ledger_log_nodes n ON n.level = 0 AND n.node_index = l.leaf_index "
            "ORDER BY l.leaf_index"
        )
        for _row in cursor:
            pass
    return time.perf_counter() - started


def audit_phases(folder: Path) -> list[tuple[str, float]]:
    """Time each part of the audit separately, per entry, over the whole export.

    With the cyclic garbage collector off, as `voucher-audit` runs: the lists held here would
    otherwise make it rescan millions of objects and distort every phase.
    """
    gc.disable()
    try:
        return _audit_phases(folder)
    finally:
        gc.enable()


def _audit_phases(folder: Path) -> list[tuple[str, float]]:
    lines = (folder / "entries.jsonl").read_bytes().splitlines()
    phases: list[tuple[str, float]] = []

    started = time.perf_counter()
    items = [decode(line) for line in lines]
    phases.append(("decode JSON lines (orjson)", time.perf_counter() - started))
    documents = [item["entry"] for item in items]
    del items

    started = time.perf_counter()
    for document in documents:
        canonical_entry(document)
    phases.append(("canonicalize (orjson, sorted keys)", time.perf_counter() - started))

    sample = documents[:20_000]
    started = time.perf_counter()
    for document in sample:
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    scale = len(documents) / len(sample)
    phases.append(
        ("  baseline: stdlib json.dumps (sorted)", (time.perf_counter() - started) * scale)
    )
    started = time.perf_counter()
    for document in sample:
        rfc8785.dumps(document)
    phases.append(("  baseline: rfc8785 reference", (time.perf_counter() - started) * scale))

    started = time.perf_counter()
    parsed = [parse_entry(document) for document in documents]
    phases.append(("parse: canonicalize + entry grammar", time.perf_counter() - started))

    started = time.perf_counter()
    tree = merkle.CompactTree()
    for _record, data in parsed:
        tree.append(merkle.leaf_hash(data))
    tree.root()
    phases.append(("leaf hashes + Merkle tree", time.perf_counter() - started))

    started = time.perf_counter()
    replay = Replay()
    for record, _data in parsed:
        replay.apply(record)
    phases.append(("replay (double entry, flows, balances)", time.perf_counter() - started))
    return phases


def proofs(
    database: Database, url: str, size: int, samples: int = 1000
) -> tuple[list[float], list[float]]:
    """Latencies (ms) of inclusion proofs through the service and through raw SQL."""
    chooser = random.Random(7)
    indexes = [chooser.randrange(size) for _ in range(samples)]
    service: list[float] = []
    uow = unit_of_work(database, SystemClock())
    for index in indexes:
        started = time.perf_counter()
        ledger.inclusion_proof(uow, index, size)
        service.append((time.perf_counter() - started) * 1000)
    raw: list[float] = []
    with (
        psycopg.connect(driver_dsn(url), autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        for index in indexes:
            started = time.perf_counter()
            ranges = merkle.inclusion_proof_ranges(index, size)
            wanted = sorted(merkle.nodes_needed(ranges) | {(0, index)})
            cursor.execute(
                "SELECT level, node_index, hash FROM ledger_log_nodes "
                "WHERE (level, node_index) IN (SELECT * FROM unnest(%s::smallint[], %s::bigint[]))",
                ([level for level, _ in wanted], [node for _, node in wanted]),
            )
            nodes = {(level, node): bytes(digest) for level, node, digest in cursor.fetchall()}
            merkle.proof_hashes(ranges, nodes)
            raw.append((time.perf_counter() - started) * 1000)
    return service, raw


def main() -> int:
    count = int(os.environ.get("BENCH_ENTRIES", "1000000"))
    key = Ed25519PrivateKey.generate()
    vkey = Verifier(ORIGIN, key.public_key()).vkey
    with fresh_database("postgresql") as url, tempfile.TemporaryDirectory() as scratch:
        size, build_seconds, _ = build(url, count, key)
        print(f"built a {size:,}-entry ledger in PostgreSQL in {build_seconds:.1f} s (COPY)")
        database = Database(url, pool_size=2)
        try:
            folder = Path(scratch) / "export"
            started = time.perf_counter()
            exported = ledger.export_ledger(unit_of_work(database, SystemClock()), folder, [vkey])
            export_seconds = time.perf_counter() - started
            raw_seconds = raw_export(url)
            assert exported == size

            captured = io.StringIO()
            started = time.perf_counter()
            with redirect_stdout(captured):
                code = voucher_audit([str(folder), "--vkey", vkey])
            audit_seconds = time.perf_counter() - started
            if code != 0:
                print(f"voucher-audit FAILED: {captured.getvalue()}")
                return 1
            phases = audit_phases(folder)
            service_ms, raw_ms = proofs(database, url, size)
        finally:
            database.dispose()

    print()
    print_table(
        ["step", "entries", "seconds", "entries/s", "baseline (raw SQL) s", "baseline/ours"],
        [
            [
                "export (service)",
                f"{size:,}",
                f"{export_seconds:.1f}",
                f"{size / export_seconds:,.0f}",
                f"{raw_seconds:.1f}",
                f"{raw_seconds / export_seconds:.0%}",
            ],
            [
                "voucher-audit (1 core)",
                f"{size:,}",
                f"{audit_seconds:.1f}",
                f"{size / audit_seconds:,.0f}",
                "",
                "",
            ],
        ],
    )
    print()
    print_table(
        ["audit phase", "total s", "µs/entry"],
        [[name, f"{seconds:.2f}", f"{seconds / size * 1e6:.2f}"] for name, seconds in phases],
    )
    print()
    print_table(
        ["inclusion proof at size " + f"{size:,}", "p50 ms", "p99 ms", "mean ms"],
        [
            [
                label,
                f"{percentile(values, 50):.2f}",
                f"{percentile(values, 99):.2f}",
                f"{sum(values) / len(values):.2f}",
            ]
            for label, values in (
                ("service (SQLAlchemy)", service_ms),
                ("baseline (raw psycopg)", raw_ms),
            )
        ],
    )
    print()
    verdict = "met" if audit_seconds < 20 else "NOT met"
    print(
        f"target: verify {size:,} entries in < 20 s on one core: {verdict} ({audit_seconds:.1f} s)"
    )
    p99 = percentile(service_ms, 99)
    print(f"target: inclusion proof < 5 ms: {'met' if p99 < 5 else 'NOT met'} (p99 {p99:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
