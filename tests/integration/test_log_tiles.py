"""The log as tiles (C2SP tlog-tiles) read from the stored nodes and exported to a folder, on
both databases: every tile recomputes from the entry bundles, the root from the tiles is the
signed root, and an export after more entries rewrites only the right edge."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests import factories
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.domain.errors import LogBehindPublished, UnknownTile
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger import merkle, tiles
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.checkpoints import CheckpointSigner, InconsistentLog
from voucher_app.ledger.tiles import Tile
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import ledger, programmes
from voucher_app.signing.note import Checkpoint, NoteError, Verifier, open_checkpoint, sign_note

ADMIN = factories.ADMIN


def grow(uow: UnitOfWork, signer: CheckpointSigner, entries: int) -> int:
    """Post `entries` allocations, sequence them and sign; the signed tree size."""
    programme = factories.programme(uow, fund_fen=50_000_000)
    for number in range(entries - 1):  # the funding is the first entry
        programmes.allocate(
            uow, programme.id, BudgetMove("440000", "440300", 1_000 + number), actor=ADMIN
        )
    ledger.sequence_log(uow)
    signed = ledger.sign_checkpoint(uow, signer)
    assert signed is not None
    return signed.tree_size


@pytest.fixture
def log_of_300(uow: UnitOfWork, signer: CheckpointSigner) -> UnitOfWork:
    factories.guangdong(uow)
    assert grow(uow, signer, 300) == 300
    return uow


def served(uow: UnitOfWork, tile: Tile) -> list[bytes]:
    data = ledger.tile_resource(uow, tile.path)
    if tile.entries:
        return tiles.unbundle(data, tile)
    return tiles.hashes(data, tile)


def check_tiles(size: int, read: dict[Tile, bytes], root: bytes) -> None:
    """Every hash tile recomputes from the bundles (level 0) or the full tiles below, and the
    root from the tiles alone is `root`."""
    hashes = {t: tiles.hashes(read[t], t) for t in tiles.tiles_for(size) if not t.entries}
    for tile, found in hashes.items():
        if tile.level == 0:
            bundle = tiles.unbundle(read[Tile(0, tile.index, tile.width, True)], tile)
            assert found == [merkle.leaf_hash(entry) for entry in bundle], tile.path
        else:
            below = [hashes[Tile(tile.level - 1, tile.first + i)] for i in range(tile.width)]
            assert found == [tiles.tile_hash(b) for b in below], tile.path
    assert tiles.root_from_tiles(size, hashes.__getitem__) == root


def test_served_tiles_recompute_and_give_the_signed_root(
    log_of_300: UnitOfWork, verifiers: list[Verifier]
) -> None:
    uow = log_of_300
    checkpoint = open_checkpoint(ledger.latest_checkpoint(uow).note, verifiers)
    wanted = tiles.tiles_for(300)
    assert [t.path for t in wanted] == [
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ]
    read = {tile: ledger.tile_resource(uow, tile.path) for tile in wanted}
    check_tiles(300, read, checkpoint.root)
    # A tree of 257 is a prefix of this one: its tiles are served too, and give its root.
    first_257 = [leaf for _, _, leaf in ledger.entries_page(uow, 0, 257).entries]
    smaller = {tile: ledger.tile_resource(uow, tile.path) for tile in tiles.tiles_for(257)}
    check_tiles(257, smaller, merkle.root_of(first_257))
    assert served(uow, Tile(0, 1, 44, True)) == [
        canonical_entry(document) for _, document, _ in ledger.entries_page(uow, 256, 300).entries
    ]


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/001",  # full tile 1 needs 512 entries
        "tile/0/001.p/45",
        "tile/entries/001.p/45",
        "tile/1/000",
        "tile/2/000.p/1",
        "tile/0/x001/000",
        "tile/0/1",
    ],
)
def test_tiles_past_the_log_or_malformed_are_not_found(log_of_300: UnitOfWork, path: str) -> None:
    with pytest.raises(UnknownTile):
        ledger.tile_resource(log_of_300, path)


def test_tiles_of_entries_no_checkpoint_covers_are_not_served(log_of_300: UnitOfWork) -> None:
    """Tiles are cached forever: entries sequenced since the last checkpoint could still be lost
    to a restore and sequenced again as others, so their tiles wait for a checkpoint."""
    uow = log_of_300
    programme = factories.programme(uow, fund_fen=1_000_000)
    ledger.sequence_log(uow)
    assert ledger.entries_page(uow, 0, 1).tree_size == 301  # the funding: sequenced, unsigned
    with pytest.raises(UnknownTile, match="no checkpoint covers yet"):
        ledger.tile_resource(uow, "tile/0/001.p/45")
    assert ledger.tile_resource(uow, "tile/0/001.p/44")  # what the checkpoint covers
    del programme


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_export_writes_servable_tiles_then_only_the_right_edge(
    log_of_300: UnitOfWork,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    tmp_path: Path,
) -> None:
    uow = log_of_300
    folder = tmp_path / "tiles"
    done = ledger.export_tiles(uow, folder, verifiers)
    assert (done.previous_size, done.tree_size, done.written) == (0, 300, 5)
    first = files_of(folder)
    assert set(first) == {"checkpoint", *(t.path for t in tiles.tiles_for(300))}
    assert first["checkpoint"].decode() == ledger.latest_checkpoint(uow).note
    for path, data in first.items():
        if path != "checkpoint":
            assert data == ledger.tile_resource(uow, path), path

    again = ledger.export_tiles(uow, folder, verifiers)
    assert (again.previous_size, again.tree_size, again.written) == (300, 300, 0)
    assert files_of(folder) == first

    before = {p: (folder / p).stat().st_mtime_ns for p in first}
    assert grow(uow, signer, 300) == 600  # 300 more entries: tiles 0/001 and 0/002.p/88
    grown = ledger.export_tiles(uow, folder, verifiers)
    assert (grown.previous_size, grown.tree_size) == (300, 600)
    after = files_of(folder)
    written = {t.path for t in tiles.new_tiles(300, 600)}
    assert written == {
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
        "tile/entries/001",
        "tile/entries/002.p/88",
    }
    assert grown.written == len(written)
    untouched = {p for p in first if p not in written and p != "checkpoint"}
    assert untouched == {"tile/0/000", "tile/entries/000", "tile/0/001.p/44",
                         "tile/1/000.p/1", "tile/entries/001.p/44"}  # fmt: skip
    for path in untouched:  # full tiles never change; the old partial ones stay for old readers
        assert (folder / path).stat().st_mtime_ns == before[path]
        assert after[path] == first[path]
    checkpoint = open_checkpoint(after["checkpoint"].decode(), verifiers)
    assert checkpoint.size == 600
    check_tiles(600, {t: after[t.path] for t in tiles.tiles_for(600)}, checkpoint.root)


@pytest.mark.parametrize(
    ("size", "root", "refusal"),
    [
        (300, b"\x00" * 32, InconsistentLog),  # a fork: another root at the same size
        (200, b"\x00" * 32, InconsistentLog),
        (301, None, LogBehindPublished),  # ahead of this log: a restored database
        (300, None, NoteError),  # the right tree, signed by a key that is not the ledger's
    ],
)
def test_export_refuses_a_folder_this_log_does_not_extend(
    log_of_300: UnitOfWork,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    tmp_path: Path,
    size: int,
    root: bytes | None,
    refusal: type[Exception],
) -> None:
    uow = log_of_300
    folder = tmp_path / "tiles"
    key = signer.private_key if refusal is not NoteError else Ed25519PrivateKey.generate()
    text = Checkpoint(signer.origin, size, root or _signed_root(uow, verifiers)).text()
    (folder / "tile").mkdir(parents=True)
    (folder / "checkpoint").write_text(sign_note(text, signer.origin, key))
    before = files_of(folder)
    with pytest.raises(refusal):
        ledger.export_tiles(uow, folder, verifiers)
    assert files_of(folder) == before  # nothing written


def _signed_root(uow: UnitOfWork, verifiers: list[Verifier]) -> bytes:
    return open_checkpoint(ledger.latest_checkpoint(uow).note, verifiers).root


@pytest.fixture
def tile_folder(log_of_300: UnitOfWork, verifiers: list[Verifier], tmp_path: Path) -> Path:
    folder = tmp_path / "tiles"
    ledger.export_tiles(log_of_300, folder, verifiers)
    return folder


def audit_tiles(
    folder: Path, verifiers: list[Verifier], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = voucher_audit([str(folder), "--tiles", "--vkey", verifiers[0].vkey])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_voucher_audit_verifies_the_exported_tiles(
    tile_folder: Path, verifiers: list[Verifier], capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = audit_tiles(tile_folder, verifiers, capsys)
    assert (code, output.split(";")[0]) == (0, "OK 300 entries")


def rewrite_bundle_entry(folder: Path, index: int, edit: bytes) -> None:
    tile = Tile(0, index // 256, 256 if index < 256 else 44, entries=True)
    entries = tiles.unbundle((folder / tile.path).read_bytes(), tile)
    entries[index % 256] = edit
    (folder / tile.path).write_bytes(tiles.bundle(entries))


def test_an_edited_entry_is_named_by_its_index(
    tile_folder: Path, verifiers: list[Verifier], capsys: pytest.CaptureFixture[str]
) -> None:
    tile = Tile(0, 1, 44, entries=True)
    entry = tiles.unbundle((tile_folder / tile.path).read_bytes(), tile)[3]
    rewrite_bundle_entry(tile_folder, 259, entry.replace(b'"amount_fen":-', b'"amount_fen":-1'))
    code, output = audit_tiles(tile_folder, verifiers, capsys)
    assert code == 1
    assert output.startswith("FAIL index 259: tile/entries/001.p/44 holds an entry that "), output


@pytest.mark.parametrize(
    ("path", "damage", "expected"),
    [
        (
            "tile/1/000.p/1",
            lambda data: bytes(32),
            "FAIL between index 0 and 255: tile/1/000.p/1 does not hold the hashes",
        ),
        ("tile/1/000.p/1", lambda data: data[:-1], "FAIL tile/1/000.p/1 is 31 bytes"),
        ("tile/0/001.p/44", lambda data: data[:-32], "FAIL index 256: tile/0/001.p/44 is 1376"),
        (
            "tile/entries/000",
            lambda data: data + b"\x00\x00",
            "FAIL index 0: tile/entries/000 holds 257",
        ),
        (
            "tile/0/000",
            lambda data: bytes(32) + data[32:],
            "FAIL index 0: tile/entries/000 holds an entry that tile/0/000 does not hash",
        ),
    ],
)
def test_damaged_tiles_fail_the_audit(
    tile_folder: Path,
    verifiers: list[Verifier],
    capsys: pytest.CaptureFixture[str],
    path: str,
    damage: Callable[[bytes], bytes],
    expected: str,
) -> None:
    target = tile_folder / path
    target.write_bytes(damage(target.read_bytes()))
    code, output = audit_tiles(tile_folder, verifiers, capsys)
    assert code == 1
    assert output.startswith(expected), output


def test_a_missing_tile_is_a_source_that_cannot_be_read(
    tile_folder: Path, verifiers: list[Verifier], capsys: pytest.CaptureFixture[str]
) -> None:
    (tile_folder / "tile/entries/001.p/44").unlink()
    code, output = audit_tiles(tile_folder, verifiers, capsys)
    assert code == 2
    assert "cannot read" in output and "tile/entries/001.p/44" in output
