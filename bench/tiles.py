"""The log as tiles at a million entries: `ledger export-tiles`, `voucher-audit --tiles` over a
local static web server, next to today's export-folder audit of the same log in the same run,
and an incremental export after 1,000 more entries.

Targets (issue "A witnessed, tiled log"): the tiles audit within 1.5x of the folder audit; the
incremental export of 1,000 new entries in under 1 s.

The log (1,000,003 entries, then 1,000 more: BENCH_ENTRIES, BENCH_MORE) is built into a fresh
PostgreSQL database with COPY as `bench.audit` builds it, with a checkpoint at 1,000,003 and one
at 1,001,003 published after the first export. Both audits run in this process, on one core,
over all 1,001,003 entries; the tiles are fetched from Python's own static server
(`http.server`, in its own process, with HTTP/1.1 and TCP_NODELAY as a web server serving
small files is set up; a few connections kept alive) and, for comparison, read from the
folder. The export's baseline is the raw-SQL read of the same rows (`bench.audit.raw_export`).
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.audit import ORIGIN, build, raw_export
from bench.common import driver_dsn, fresh_database, print_table
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.clock import SystemClock
from voucher_app.ledger import tiles
from voucher_app.persistence.database import Database
from voucher_app.services import ledger
from voucher_app.signing.note import Checkpoint, Verifier, open_checkpoint
from voucher_app.wiring import unit_of_work

#: The standard library's static file server as a web server is set up to serve small files:
#: HTTP/1.1 keep-alive, and TCP_NODELAY (without it, each answer's body waits for the client's
#: delayed ACK of its headers: 40 ms a file).
_SERVER = """
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *args):
        pass
handler = functools.partial(Handler, directory=sys.argv[1])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
"""


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """`folder` served by the standard library's static file server, in a process of its own
    and with HTTP/1.1 keep-alive, as a mirror would serve it; its URL."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(folder), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def timed_audit(args: list[str]) -> tuple[float, str]:
    captured = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(captured):
        code = voucher_audit(args)
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"voucher-audit {args[0]} FAILED: {captured.getvalue()}")
    return seconds, captured.getvalue().strip()


def publish(url: str, checkpoint: tuple[int, bytes, str]) -> None:
    size, root, note = checkpoint
    with psycopg.connect(driver_dsn(url)) as connection:
        connection.execute(
            "INSERT INTO ledger_checkpoints (tree_size, root_hash, note, created_at) "
            "VALUES (%s, %s, %s, now())",
            (size, root, note),
        )


def files(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()
    }


def root_from_folder(folder: Path, verifier: Verifier) -> tuple[Checkpoint, bytes]:
    """The tile folder's signed checkpoint, and the root its hash tiles compute for that size."""
    checkpoint = open_checkpoint((folder / "checkpoint").read_text(), [verifier])
    read = {t: tiles.hashes((folder / t.path).read_bytes(), t)
            for t in tiles.tiles_for(checkpoint.size) if not t.entries}  # fmt: skip
    return checkpoint, tiles.root_from_tiles(checkpoint.size, read.__getitem__)


def main() -> int:
    count = int(os.environ.get("BENCH_ENTRIES", "1000003"))
    more = int(os.environ.get("BENCH_MORE", "1000"))
    key = Ed25519PrivateKey.generate()
    verifier = Verifier(ORIGIN, key.public_key())
    with fresh_database("postgresql") as url, tempfile.TemporaryDirectory() as scratch:
        size, build_seconds, withheld = build(
            url, count + more, key, sign_at={count, count + more}, publish_up_to=count
        )
        print(f"built a {size:,}-entry log in PostgreSQL in {build_seconds:.1f} s (COPY)")
        database = Database(url, pool_size=2)
        try:
            uow = unit_of_work(database, SystemClock())
            folder, export = Path(scratch) / "tiles", Path(scratch) / "export"
            started = time.perf_counter()
            first = ledger.export_tiles(uow, folder, [verifier])
            tiles_seconds = time.perf_counter() - started
            before = files(folder)

            publish(url, withheld[0])
            started = time.perf_counter()
            grown = ledger.export_tiles(uow, folder, [verifier])
            incremental_seconds = time.perf_counter() - started
            after = files(folder)
            rewritten = {path for path in after if before.get(path) != after[path]}
            expected = {t.path for t in tiles.new_tiles(count, count + more)} | {"checkpoint"}
            assert rewritten == expected, sorted(rewritten ^ expected)

            started = time.perf_counter()
            ledger.export_ledger(uow, export, [verifier.vkey])
            folder_export_seconds = time.perf_counter() - started
            raw_seconds = raw_export(url)
        finally:
            database.dispose()

        checkpoint, root = root_from_folder(folder, verifier)
        assert root == checkpoint.root

        with static_server(folder) as served:
            http_seconds, said = timed_audit([served, "--tiles", "--vkey", verifier.vkey])
        folder_tiles_seconds, _ = timed_audit([str(folder), "--tiles", "--vkey", verifier.vkey])
        export_audit_seconds, _ = timed_audit([str(export), "--vkey", verifier.vkey])

    entries = count + more
    print(said)
    print()
    print_table(
        ["step", "entries", "seconds", "files", "baseline s", "what the baseline is"],
        [
            ["export-tiles, from empty", f"{count:,}", f"{tiles_seconds:.1f}",
             f"{first.written:,}", f"{raw_seconds:.1f}", "raw SQL read of the same rows"],
            ["export-tiles, incremental", f"{more:,}", f"{incremental_seconds:.2f}",
             f"{grown.written:,}", "", ""],
            ["export (folder, today's)", f"{entries:,}", f"{folder_export_seconds:.1f}", "3",
             f"{raw_seconds:.1f}", "raw SQL read of the same rows"],
            ["voucher-audit --tiles, static server", f"{entries:,}", f"{http_seconds:.1f}", "",
             f"{export_audit_seconds:.1f}", "voucher-audit of the export folder"],
            ["voucher-audit --tiles, folder", f"{entries:,}", f"{folder_tiles_seconds:.1f}", "",
             f"{export_audit_seconds:.1f}", "voucher-audit of the export folder"],
        ],
    )  # fmt: skip
    ratio = http_seconds / export_audit_seconds
    print()
    print(
        f"target: tiles audit within 1.5x of the folder audit: "
        f"{'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f}x)"
    )
    print(
        f"target: incremental export of {more:,} entries < 1 s: "
        f"{'met' if incremental_seconds < 1 else 'NOT met'} ({incremental_seconds:.2f} s, "
        f"{len(rewritten) - 1} tiles rewritten: the right edge)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
