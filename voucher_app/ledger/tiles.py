"""The log as C2SP `tlog-tiles`: which tiles a tree has, their paths, and proofs from them.

A tiled log is served as static files that any web server, object store or mirror can hold
(c2sp.org/tlog-tiles): the checkpoint, hash *tiles* and *entry bundles*. The tile at level L and
index N holds up to 256 consecutive hashes of tree level 8·L (for L = 0, leaf hashes), the nodes
N·256 to N·256 + W - 1; a full tile holds 256, the rightmost tile of a level in a tree that does
not fill it is *partial* (width W = floor(size / 256**L) mod 256, path suffix `.p/<W>`). A full
tile is never rewritten, so a mirror caches it forever; an export after more entries writes only
the tiles the old tree did not have (`new_tiles`). The entry bundle N holds the RFC 8785 bytes of
the entries behind level-0 tile N, each prefixed by its length as a big-endian uint16.

Everything here is pure (bytes in, bytes out) so the auditor and the witness can use it: the
service reads tiles from its stored nodes (`store.tile`), `voucher-audit` reads them from a
folder or a URL and recomputes each from the entries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from voucher_app.domain.errors import LedgerFault, UnknownTile
from voucher_app.ledger import merkle

HEIGHT = 8  # tree levels per tile
WIDTH = 1 << HEIGHT  # hashes in a full tile
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF  # an entry's length is a uint16
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_PARTIAL = re.compile(r"[1-9][0-9]{0,2}")
_ELEMENT = re.compile(r"[0-9]{3}")


class TileError(LedgerFault):
    """A tile or entry bundle whose bytes are not what its path says it holds."""

    code = "tile_error"


@dataclass(frozen=True, order=True)
class Tile:
    """A hash tile (`level` 0 to 63) or, with `entries`, the entry bundle beside level-0 tile."""

    level: int
    index: int
    width: int = WIDTH
    entries: bool = False

    @property
    def partial(self) -> bool:
        return self.width < WIDTH

    @property
    def first(self) -> int:
        """The index, at tree level 8·level, of the tile's first hash (of its first entry)."""
        return self.index * WIDTH

    @property
    def path(self) -> str:
        kind = "entries" if self.entries else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{kind}/{encode_index(self.index)}{suffix}"


def end_of(tile: Tile) -> int:
    """The tree size a tile needs: one past the last entry its hashes cover."""
    return (tile.first + tile.width) << (HEIGHT * tile.level)


def encode_index(index: int) -> str:
    """`index` in zero-padded 3-digit path elements, all but the last prefixed with `x`."""
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(elements))


def parse_path(path: str) -> Tile:
    """The tile at `path` (relative to the log's prefix); `UnknownTile` for any other form."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise UnknownTile(f"{path!r} is not a tile path")
    kind, elements = parts[1], parts[2:]
    width = WIDTH
    if len(elements) >= 2 and elements[-2].endswith(".p"):
        if not _PARTIAL.fullmatch(elements[-1]) or int(elements[-1]) >= WIDTH:
            raise UnknownTile(f"{path!r}: a partial tile's width is 1 to 255")
        width = int(elements[-1])
        elements = [*elements[:-2], elements[-2][:-2]]
    if not all(_ELEMENT.fullmatch(e.removeprefix("x")) for e in elements):
        raise UnknownTile(f"{path!r}: the index is written in 3-digit elements")
    index = int("".join(e.removeprefix("x") for e in elements))
    if "/".join(elements) != encode_index(index):
        raise UnknownTile(f"{path!r}: the index is not written as {encode_index(index)}")
    if kind == "entries":
        return Tile(0, index, width, entries=True)
    if not _LEVEL.fullmatch(kind) or int(kind) > MAX_LEVEL:
        raise UnknownTile(f"{path!r}: the level is 0 to {MAX_LEVEL} or 'entries'")
    return Tile(int(kind), index, width)


def level_width(size: int, level: int) -> int:
    """How many hashes of tree level 8·`level` a tree of `size` entries has."""
    return size >> (HEIGHT * level)


def tiles_of_level(size: int, level: int) -> list[Tile]:
    """The hash tiles of one level of a tree of `size`: full ones, then any partial one."""
    count = level_width(size, level)
    tiles = [Tile(level, index) for index in range(count // WIDTH)]
    if count % WIDTH:
        tiles.append(Tile(level, count // WIDTH, count % WIDTH))
    return tiles


def tiles_for(size: int) -> list[Tile]:
    """Every hash tile and entry bundle a tree of `size` entries serves (none when empty)."""
    tiles: list[Tile] = []
    level = 0
    while level_width(size, level):
        tiles += tiles_of_level(size, level)
        level += 1
    bundles = [Tile(0, t.index, t.width, entries=True) for t in tiles if t.level == 0]
    return tiles + bundles


def new_tiles(old_size: int, new_size: int) -> list[Tile]:
    """The tiles a tree grown from `old_size` to `new_size` serves that the old one did not:
    what an incremental export writes (the old tree's full tiles never change)."""
    old = set(tiles_for(old_size))
    return [tile for tile in tiles_for(new_size) if tile not in old]


def hashes(data: bytes, tile: Tile) -> list[bytes]:
    """The hashes in a hash tile's bytes; `TileError` unless there are exactly `tile.width`."""
    if len(data) != tile.width * merkle.HASH_SIZE:
        raise TileError(
            f"{tile.path} is {len(data)} bytes, not {tile.width} hashes of {merkle.HASH_SIZE}"
        )
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry prefixed with its length as a big-endian uint16."""
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise TileError(f"an entry of {len(entry)} bytes does not fit a bundle")
        parts += [len(entry).to_bytes(2, "big"), entry]
    return b"".join(parts)


def unbundle(data: bytes, tile: Tile) -> list[bytes]:
    """The entries of a bundle; `TileError` unless it holds exactly `tile.width` of them."""
    entries: list[bytes] = []
    offset, size = 0, len(data)
    while offset < size:
        if offset + 2 > size:
            raise TileError(f"{tile.path} ends inside entry {tile.first + len(entries)}")
        end = offset + 2 + (data[offset] << 8 | data[offset + 1])  # a big-endian uint16
        if end > size:
            raise TileError(f"{tile.path} ends inside entry {tile.first + len(entries)}")
        entries.append(data[offset + 2 : end])
        offset = end
    if len(entries) != tile.width:
        raise TileError(f"{tile.path} holds {len(entries)} entries, not {tile.width}")
    return entries


def tile_hash(tile_hashes: Sequence[bytes]) -> bytes:
    """The hash a full tile contributes to the level above: the root of its 256 hashes.

    A full tile is a complete subtree, so its root is hashed pair by pair, level by level (the
    auditor does this for every tile of the log).
    """
    if len(tile_hashes) != WIDTH:
        raise TileError(f"a full tile holds {WIDTH} hashes, not {len(tile_hashes)}")
    level = list(tile_hashes)
    while len(level) > 1:
        level = [merkle.node_hash(a, b) for a, b in zip(level[::2], level[1::2], strict=True)]
    return level[0]


def node_from_tiles(
    node: merkle.NodeId, size: int, read: Callable[[Tile], Sequence[bytes]]
) -> bytes:
    """The hash of a complete subtree of a tree of `size`, from the one tile that holds it.

    Node (h, i) covers, at tree level 8·L below it (L = h // 8), the 2**(h - 8·L) hashes from
    i·2**(h - 8·L): at most 128, aligned, so inside a single tile of level L. `read` returns the
    hashes of a tile.
    """
    height, index = node
    level = height // HEIGHT
    span = 1 << (height - HEIGHT * level)
    first = index * span
    tile = next(t for t in tiles_of_level(size, level) if t.first <= first < t.first + t.width)
    offset = first - tile.first
    return merkle.root_of(read(tile)[offset : offset + span])


def root_from_tiles(size: int, read: Callable[[Tile], Sequence[bytes]]) -> bytes:
    """The root of the tree of `size` entries (RFC 9162 MTH) from its tiles alone."""
    if size == 0:
        return merkle.EMPTY_ROOT
    found = {node: node_from_tiles(node, size, read) for node in merkle.subtrees(0, size)}
    return merkle.range_hash(0, size, found)
