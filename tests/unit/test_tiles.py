"""The log's tiles against C2SP tlog-tiles (https://c2sp.org/tlog-tiles, the editor's copy in
github.com/C2SP/C2SP, tlog-tiles.md): the spec's own examples, quoted, and every tile of trees
of many sizes built by the spec's formula over the plain recursive RFC 9162 hash.
"""

from __future__ import annotations

from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_merkle import NaiveTree
from voucher_app.domain.errors import UnknownTile
from voucher_app.ledger import merkle, tiles
from voucher_app.ledger.tiles import Tile, TileError


def leaf_hashes(size: int) -> list[bytes]:
    return [merkle.leaf_hash(b"entry %d" % i) for i in range(size)]


def spec_tiles(tree: NaiveTree, size: int) -> dict[Tile, list[bytes]]:
    """Every hash tile of the tree, by the spec's definition:

    > the *n*-th tile at level *l* ... is the sequence of the following Merkle Tree Hashes,
    > with *i* from 0 to 255: MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])
    > ... The partial tile at level *l* for a tree of size *s* has
    > `floor(s / 256**l) mod 256` entries.
    """
    found: dict[Tile, list[bytes]] = {}
    level = 0
    while size >= 256**level:
        count = size // 256**level
        for n in range(-(-count // 256)):
            width = min(256, count - n * 256)
            span = 256**level
            found[Tile(level, n, width)] = [
                tree.mth((n * 256 + i) * span, (n * 256 + i + 1) * span) for i in range(width)
            ]
        level += 1
    return found


def test_the_index_is_written_as_the_spec_writes_it() -> None:
    # "For example, index 1234067 will be encoded as `x001/x234/067`."
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.encode_index(0) == "000"
    assert tiles.encode_index(999) == "999"
    assert tiles.encode_index(1000) == "x001/000"
    assert tiles.encode_index(1_000_000) == "x001/x000/000"


def test_paths_of_full_and_partial_tiles_and_bundles() -> None:
    # "Tiles are served at <prefix>/tile/<L>/<N>[.p/<W>]" and entry bundles at
    # "<prefix>/tile/entries/<N>[.p/<W>]"
    assert Tile(0, 1234067).path == "tile/0/x001/x234/067"
    assert Tile(2, 5, 17).path == "tile/2/005.p/17"
    assert Tile(0, 3, 255, entries=True).path == "tile/entries/003.p/255"
    assert Tile(0, 3, entries=True).path == "tile/entries/003"
    assert Tile(63, 0, 1).path == "tile/63/000.p/1"
    assert tiles.parse_path("tile/0/x001/x234/067") == Tile(0, 1234067, 256)
    assert tiles.parse_path("tile/entries/003") == Tile(0, 3, 256, entries=True)
    assert tiles.parse_path("tile/2/005.p/17") == Tile(2, 5, 17)
    assert tiles.parse_path("tile/63/000.p/1") == Tile(63, 0, 1)


def test_the_tree_size_a_tile_needs() -> None:
    assert tiles.end_of(Tile(0, 1, 44)) == 300
    assert tiles.end_of(Tile(0, 1, 44, entries=True)) == 300
    assert tiles.end_of(Tile(0, 3)) == 1024
    assert tiles.end_of(Tile(1, 0, 2)) == 512
    assert tiles.end_of(Tile(2, 1, 1)) == 256**3 + 256**2


@given(
    level=st.integers(0, 63),
    index=st.integers(0, 10**12),
    width=st.integers(1, 256),
    entries=st.booleans(),
)
def test_every_path_reads_back_as_its_tile(
    level: int, index: int, width: int, entries: bool
) -> None:
    tile = Tile(0 if entries else level, index, width, entries)
    assert tiles.parse_path(tile.path) == tile


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("tile/0/1234067", "3-digit"),  # "zero-padded 3-digit path elements"
        ("tile/0/x001/234/067", "not written as"),  # "All but the last ... MUST begin with an x"
        ("tile/0/001/x234", "not written as"),
        ("tile/0/x000/005", "not written as"),  # 5 is written 005
        ("tile/0/12", "3-digit"),
        ("tile/0/", "3-digit"),
        ("tile/00/000", "level"),  # "no additional leading zeroes"
        ("tile/64/000", "level"),  # "between 0 and 63"
        ("tile/-1/000", "level"),
        ("tile/data/000", "level"),
        ("tile/0/000.p/256", "width"),  # "between 1 and 255"
        ("tile/0/000.p/0", "width"),
        ("tile/0/000.p/07", "width"),
        ("tile/0/000.p/", "width"),
        ("tiles/0/000", "not a tile path"),
        ("tile/000", "not a tile path"),
        ("checkpoint", "not a tile path"),
    ],
)
def test_paths_the_spec_does_not_define_are_refused(path: str, why: str) -> None:
    with pytest.raises(UnknownTile, match=why):
        tiles.parse_path(path)


def test_the_spec_example_of_a_tree_of_70000() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    # tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    # partial level 2 tile of width 1."
    hash_tiles = [t for t in tiles.tiles_for(70_000) if not t.entries]
    assert hash_tiles == [
        *(Tile(0, n) for n in range(273)),
        Tile(0, 273, 112),
        Tile(1, 0),
        Tile(1, 1, 17),
        Tile(2, 0, 1),
    ]
    bundles = [t for t in tiles.tiles_for(70_000) if t.entries]
    assert bundles == [Tile(0, t.index, t.width, True) for t in hash_tiles if t.level == 0]


def test_the_spec_example_of_a_tree_of_256() -> None:
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile
    # of width 1." ("Empty tiles MUST NOT be served.")
    assert tiles.tiles_for(256) == [Tile(0, 0), Tile(1, 0, 1), Tile(0, 0, entries=True)]
    assert tiles.tiles_for(0) == []
    assert tiles.tiles_for(1) == [Tile(0, 0, 1), Tile(0, 0, 1, entries=True)]


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, 70_000])
def test_tiles_and_the_root_from_them_agree_with_the_plain_hash(size: int) -> None:
    leaves = leaf_hashes(size)
    tree = NaiveTree(leaves)
    expected = spec_tiles(tree, size)
    assert [t for t in tiles.tiles_for(size) if not t.entries] == sorted(expected)
    for tile, tile_hashes in expected.items():
        if tile.level:  # "each hash in a tile is the Merkle Tree Hash of a *full* tile below"
            below = [expected[Tile(tile.level - 1, tile.first + i)] for i in range(tile.width)]
            assert tile_hashes == [tiles.tile_hash(b) for b in below]
    read = expected.__getitem__
    assert tiles.root_from_tiles(size, read) == tree.mth(0, size)
    for node in merkle.subtrees(0, size):
        level, index = node
        assert tiles.node_from_tiles(node, size, read) == tree.mth(
            index << level, (index + 1) << level
        )


def test_only_a_full_tile_has_a_hash_for_the_level_above() -> None:
    with pytest.raises(TileError, match="a full tile holds 256 hashes, not 255"):
        tiles.tile_hash(leaf_hashes(255))
    assert tiles.tile_hash(leaf_hashes(256)) == NaiveTree(leaf_hashes(256)).mth(0, 256)


def test_the_root_of_an_empty_tree_needs_no_tile() -> None:
    def no_tile(tile: Tile) -> list[bytes]:
        raise AssertionError(tile)

    assert tiles.root_from_tiles(0, no_tile) == sha256(b"").digest()


def test_a_grown_tree_rewrites_only_its_right_edge() -> None:
    old, new = 3 * 256 + 5, 5 * 256 + 9
    assert tiles.new_tiles(old, new) == [
        Tile(0, 3),
        Tile(0, 4),
        Tile(0, 5, 9),
        Tile(1, 0, 5),
        Tile(0, 3, entries=True),
        Tile(0, 4, entries=True),
        Tile(0, 5, 9, entries=True),
    ]
    assert tiles.new_tiles(old, old) == []
    assert tiles.new_tiles(0, 2) == tiles.tiles_for(2)


@given(old=st.integers(0, 200_000), grown=st.integers(0, 200_000))
def test_what_an_old_tree_has_and_a_grown_one_lacks_is_partial(old: int, grown: int) -> None:
    new = old + grown
    written = tiles.new_tiles(old, new)
    kept = set(tiles.tiles_for(old)) & set(tiles.tiles_for(new))
    assert set(written) | kept == set(tiles.tiles_for(new))
    assert not set(written) & kept
    assert all(t.partial for t in set(tiles.tiles_for(old)) - set(tiles.tiles_for(new)))


def test_hash_tiles_hold_exactly_their_width() -> None:
    tile = Tile(0, 0, 2)
    data = b"a" * 32 + b"b" * 32
    assert tiles.hashes(data, tile) == [b"a" * 32, b"b" * 32]
    with pytest.raises(TileError, match=r"tile/0/000\.p/2 is 63 bytes, not 2 hashes of 32"):
        tiles.hashes(data[:-1], tile)
    with pytest.raises(TileError, match="is 96 bytes"):
        tiles.hashes(data + b"c" * 32, tile)


def test_a_bundle_is_uint16_length_prefixed_entries() -> None:
    # "Entry bundles are sequences of big-endian uint16 length-prefixed log entries."
    entries = [b"{}", b"", b"x" * 300, b"y" * 0xFFFF]
    data = tiles.bundle(entries)
    assert data[:4] == b"\x00\x02{}"
    assert data[4:6] == b"\x00\x00"
    assert data[6:8] == b"\x01\x2c"  # 300, big-endian
    assert data[308:310] == b"\xff\xff"
    assert tiles.unbundle(data, Tile(0, 0, 4, entries=True)) == entries


def test_bundles_that_do_not_hold_their_entries_are_refused() -> None:
    tile = Tile(0, 2, 2, entries=True)
    data = tiles.bundle([b"one", b"two"])
    with pytest.raises(TileError, match=r"tile/entries/002\.p/2 ends inside entry 513"):
        tiles.unbundle(data[:-1], tile)
    with pytest.raises(TileError, match="ends inside entry 512"):
        tiles.unbundle(data[:1], tile)
    with pytest.raises(TileError, match="ends inside entry 513"):  # inside its length
        tiles.unbundle(data[:6], tile)
    with pytest.raises(TileError, match="holds 1 entries, not 2"):
        tiles.unbundle(data[:5], tile)
    with pytest.raises(TileError, match="holds 3 entries"):
        tiles.unbundle(data + b"\x00\x00", tile)
    with pytest.raises(TileError, match="an entry of 65536 bytes does not fit"):
        tiles.bundle([b"z" * 0x10000])
