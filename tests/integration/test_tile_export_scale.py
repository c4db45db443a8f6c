"""The tile export of the issue's log of 1,000,003 entries (three tile levels), built as
`bench.tiles` builds it (COPY into PostgreSQL, the sequencer's leaves and nodes), then 1,000 more.
`voucher-audit --tiles` recomputes every full and partial tile from the entry bundles, and the
root from the tiles is the checkpoint's; the second export rewrites only the right edge.
(`make bench` times the same steps.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.audit import ORIGIN, build
from bench.tiles import files, publish, root_from_folder
from tests.harness import Databases
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.clock import FrozenClock
from voucher_app.ledger import tiles
from voucher_app.persistence.database import Database
from voucher_app.services import ledger
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

SIGNED, MORE = 1_000_003, 1_000


@pytest.mark.postgres_only  # built with COPY, as the benchmark builds it
def test_a_million_entry_log_exports_audits_and_grows_at_its_right_edge(
    databases: Databases, clock: FrozenClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = databases.migrated()
    key = Ed25519PrivateKey.generate()
    verifier = Verifier(ORIGIN, key.public_key())
    _, _, withheld = build(url, SIGNED + MORE, key, sign_at={SIGNED, SIGNED + MORE},
                           publish_up_to=SIGNED)  # fmt: skip
    assert {t.level for t in tiles.tiles_for(SIGNED)} == {0, 1, 2}
    folder = tmp_path / "tiles"
    database = Database(url, pool_size=2)
    try:
        uow = unit_of_work(database, clock)
        first = ledger.export_tiles(uow, folder, [verifier])
        assert (first.previous_size, first.tree_size) == (0, SIGNED)
        assert first.written == len(tiles.tiles_for(SIGNED))
        assert voucher_audit([str(folder), "--tiles", "--vkey", verifier.vkey]) == 0
        assert capsys.readouterr().out.startswith(f"OK {SIGNED} entries")
        checkpoint, root = root_from_folder(folder, verifier)
        assert (checkpoint.size, root) == (SIGNED, checkpoint.root)

        before = files(folder)
        publish(url, withheld[0])
        grown = ledger.export_tiles(uow, folder, [verifier])
    finally:
        database.dispose()
    after = files(folder)
    rewritten = {path for path in after if before.get(path) != after[path]}
    assert rewritten == {t.path for t in tiles.new_tiles(SIGNED, SIGNED + MORE)} | {"checkpoint"}
    assert grown.written == len(rewritten) - 1 == 11  # 5 level-0 tiles, their bundles, 1 above
    assert voucher_audit([str(folder), "--tiles", "--vkey", verifier.vkey]) == 0
    assert capsys.readouterr().out.startswith(f"OK {SIGNED + MORE} entries")
