"""`voucher-audit SOURCE`: verify a published ledger without its database or configuration.

SOURCE is an export folder (`flask --app wsgi ledger export DIR`) or the service's base URL;
with `--tiles`, it is the prefix (a folder or a URL) of the log published as C2SP tlog-tiles
(`flask --app wsgi ledger export-tiles DIR`, a mirror of it, or `<service>/api/v1/ledger`).
Only the standard library, `cryptography` and this package's pure modules are used: no Flask,
no SQLAlchemy. Exit status: 0 verified, 1 a fault was found (the first bad index is printed),
2 the source could not be read.

Pin the ledger's verifier key with `--vkey` (a vkey string or a file of them); without it the
key is read from the source itself, which proves consistency but not who signed. `--state FILE`
remembers the last verified checkpoint and demands that the next run's log extends it.
`--notice LIST` (a file, or the URL of `/api/v1/notice/<center>/<day>`; repeatable) checks a
day's public notice list against the approvals that published it.

`--witness NAME+ID+KEY` (a witness's cosigning vkey, type 0x04; repeatable) with `--quorum N`
(default: every witness given) fails a latest checkpoint that lacks N valid cosignatures by
them, or carries a line of theirs that does not verify over it.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from voucher_app.cli.pipeline import Pipeline
from voucher_app.domain.errors import LedgerFault, VoucherError
from voucher_app.domain.notice import check_shape
from voucher_app.ledger import export_format, tiles
from voucher_app.ledger.audit import (
    AuditReport,
    Failure,
    SourceEntry,
    TrustedState,
    audit,
    witnessed,
)
from voucher_app.ledger.tiles import Tile, TileError
from voucher_app.signing.note import (
    COSIGNATURE,
    NoteError,
    Verifier,
    parse_checkpoint,
    parse_vkey,
    split_note,
)

PAGE = 1000
HASH = export_format.HASH_SIZE
TIMEOUT_SECONDS = 30


class SourceError(VoucherError):
    """The source cannot be read at all (as opposed to being read and found wrong)."""

    code = "source_error"


def decode(text: str | bytes) -> Any:
    """Decode JSON; NaN and Infinity are refused, fractions are left for `parse_entry` to refuse."""
    return orjson.loads(text)


class FolderSource:
    def __init__(self, folder: Path) -> None:
        if not (folder / export_format.ENTRIES).is_file():
            raise SourceError(f"{folder} has no {export_format.ENTRIES}; is it a ledger export?")
        self.folder = folder

    def vkeys(self) -> list[str]:
        path = self.folder / export_format.VKEY
        return path.read_text(encoding="utf-8").split() if path.exists() else []

    def notes(self) -> list[tuple[str, str]]:
        folder = self.folder / export_format.CHECKPOINTS
        files = sorted(folder.glob("*.note")) if folder.is_dir() else []
        return [(f.name, f.read_text(encoding="utf-8")) for f in files]

    def entries(self) -> Iterator[SourceEntry]:
        leaves_path = self.folder / export_format.LEAVES
        leaves = leaves_path.read_bytes() if leaves_path.exists() else b""
        with (self.folder / export_format.ENTRIES).open("rb") as lines:
            for position, line in enumerate(lines):
                leaf = leaves[HASH * position : HASH * (position + 1)]
                try:
                    item = orjson.loads(line)
                    index, entry = item["index"], item["entry"]
                    if not isinstance(index, int):
                        raise TypeError("index is not an integer")
                except (ValueError, KeyError, TypeError):
                    index, entry = position, None  # reported as malformed at this position
                yield SourceEntry(index, entry, leaf if len(leaf) == HASH else None)


class HttpSource:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1/ledger/"

    def _get(self, path: str, **query: int) -> bytes:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                body: bytes = response.read()
                return body
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SourceError(f"cannot read {url}: {exc}") from exc

    def vkeys(self) -> list[str]:
        return self._get("vkey").decode().split()

    def notes(self) -> list[tuple[str, str]]:
        return [("latest", self._get("checkpoint").decode())]

    def entries(self) -> Iterator[SourceEntry]:
        start, size = 0, None
        while size is None or start < size:
            page = decode(self._get("entries", start=start, end=start + PAGE))
            size = page["tree_size"]
            for item in page["entries"]:
                leaf = base64.b64decode(item["leaf_hash"]) if item.get("leaf_hash") else None
                yield SourceEntry(item["index"], item["entry"], leaf)
            if not page["entries"]:
                raise SourceError(f"the server returned no entries from index {start}")
            start = page["entries"][-1]["index"] + 1


class TileSource:
    """A log published as tiles below `prefix`, a folder or a URL (c2sp.org/tlog-tiles).

        The entries come from the entry bundles, each with the leaf hash its level-0 tile states
        (so the audit names an edited entry exactly, as with an export's leaf hashes; a level-0
    tile that does not hash its bundle's entries is a fault of the tiles). The tiles
        above level 0 are checked against the full tiles below them: with the audit's check of the
        entries' root against the signed checkpoint, every tile a client may build a proof from is
        then the signed tree's. What is wrong with the tiles themselves is in `findings`.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.rstrip("/") + "/"
        remote = prefix.startswith(("http://", "https://"))
        self._pipeline = Pipeline(self.prefix, timeout=TIMEOUT_SECONDS) if remote else None
        try:
            self.note = next(self._read_all(["checkpoint"])).decode()
            self.size = parse_checkpoint(split_note(self.note)[0]).size
        except (NoteError, UnicodeDecodeError) as exc:
            raise SourceError(f"{self.prefix}checkpoint is not a checkpoint: {exc}") from exc
        self.findings: list[Failure] = []

    def _read_all(self, paths: list[str]) -> Iterator[bytes]:
        """The files at `paths` below the prefix, in order: from a folder one after the other;
        from a URL requested ahead on one kept-alive connection (`cli.pipeline`)."""
        answers = self._pipeline.get_all(paths) if self._pipeline is not None else None
        for path in paths:
            where = self.prefix + path
            try:
                if answers is None:
                    yield Path(where).read_bytes()
                    continue
                _, status, body = next(answers)
            except (http.client.HTTPException, OSError) as exc:
                raise SourceError(f"cannot read {where}: {exc}") from exc
            if status != 200:
                raise SourceError(f"cannot read {where}: HTTP {status}")
            yield body

    def vkeys(self) -> list[str]:
        return []  # a tiled log carries no key of its own: pin it with --vkey

    def notes(self) -> list[tuple[str, str]]:
        return [(self.prefix + "checkpoint", self.note)]

    def entries(self) -> Iterator[SourceEntry]:
        try:
            yield from self._entries()
        finally:
            if self._pipeline is not None:
                self._pipeline.close()

    def _entries(self) -> Iterator[SourceEntry]:
        full: dict[int, bytes] = {}  # the hash of each full level-0 tile, for level 1
        for tile, hash_data, bundle_data in self._bottom_tiles():
            try:
                leaves = tiles.hashes(hash_data, tile)
                entries = tiles.unbundle(bundle_data, Tile(0, tile.index, tile.width, True))
            except TileError as exc:
                self.findings.append(Failure(tile.first, reason=str(exc)))
                return  # the entries stop here: the audit reports those it lacks
            try:
                decoded = [decode(entry) for entry in entries]
            except ValueError:  # one is not JSON: the audit reports it as malformed
                decoded = [_decoded(entry) for entry in entries]
            first = tile.first
            for offset, (leaf, entry) in enumerate(zip(leaves, decoded, strict=True)):
                yield SourceEntry(first + offset, entry, leaf)
            if not tile.partial:
                full[tile.index] = tiles.tile_hash(leaves)
        self._check_upper_levels(full)

    def _bottom_tiles(self) -> Iterator[tuple[Tile, bytes, bytes]]:
        """Each level-0 tile with its bytes and its bundle's, in order."""
        bottom = tiles.tiles_of_level(self.size, 0)
        paths = [p for t in bottom for p in (t.path, Tile(0, t.index, t.width, True).path)]
        files = self._read_all(paths)
        for tile in bottom:
            yield tile, next(files), next(files)

    def _check_upper_levels(self, below: dict[int, bytes]) -> None:
        level = 1
        while tiles.level_width(self.size, level):
            above: dict[int, bytes] = {}
            level_tiles = tiles.tiles_of_level(self.size, level)
            read = self._read_all([t.path for t in level_tiles])
            for tile, data in zip(level_tiles, read, strict=True):
                try:
                    found = tiles.hashes(data, tile)
                except TileError as exc:
                    self.findings.append(Failure(-1, reason=str(exc)))
                    continue
                wrong = [i for i in range(tile.width) if found[i] != below.get(tile.first + i)]
                if wrong:
                    span = tiles.HEIGHT * level
                    reason = f"{tile.path} does not hold the hashes of the full tiles below it"
                    first, end = (
                        (tile.first + wrong[0]) << span,
                        (tile.first + wrong[0] + 1) << span,
                    )
                    self.findings.append(Failure(first, 2, reason, last_index=end - 1))
                if not tile.partial:
                    above[tile.index] = tiles.tile_hash(found)
            below, level = above, level + 1

    def unlike(self, index: int) -> Failure:
        """The finding for an entry whose leaf hash is not the one its level-0 tile holds."""
        tile = next(t for t in tiles.tiles_of_level(self.size, 0) if index < t.first + t.width)
        bundle = Tile(0, tile.index, tile.width, entries=True)
        return Failure(index, reason=f"{bundle.path} holds an entry that {tile.path} does not hash")


def _decoded(entry: bytes) -> Any:
    """An entry bundle's entry as JSON; None (reported as malformed) when it is not JSON."""
    try:
        return decode(entry)
    except ValueError:
        return None


Source = FolderSource | HttpSource | TileSource


def open_source(source: str, *, tiled: bool = False) -> Source:
    if tiled:
        return TileSource(source)
    if source.startswith(("http://", "https://")):
        return HttpSource(source)
    return FolderSource(Path(source))


def load_verifiers(given: list[str], source: Source) -> list[Verifier]:
    texts: list[str] = []
    for value in given:
        path = Path(value)
        texts.extend(path.read_text(encoding="utf-8").split() if path.is_file() else [value])
    if not texts:
        texts = source.vkeys()
        if not texts:
            raise SourceError("the source publishes no verifier key: give the ledger's --vkey")
        print("note: verifier key taken from the source; pin it with --vkey", file=sys.stderr)
    return [parse_vkey(text) for text in texts]


def read_notice_list(where: str) -> Any:
    """A published notice list, from a file or a URL; `SourceError` if it is not one."""
    try:
        if where.startswith(("http://", "https://")):
            with urllib.request.urlopen(where, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                document = decode(response.read())
        else:
            document = decode(Path(where).read_bytes())
        check_shape(document)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise SourceError(f"cannot read the notice list {where}: {exc}") from exc
    return document


def run(args: argparse.Namespace) -> int:
    source = open_source(args.source, tiled=args.tiles)
    verifiers = load_verifiers(args.vkey, source)
    state_path: Path | None = args.state
    trusted = None
    if state_path is not None and state_path.exists():
        trusted = TrustedState.from_json(state_path.read_text(encoding="utf-8"))
    notice_lists = [read_notice_list(where) for where in args.notice]
    notes = source.notes()
    report = audit(source.entries(), notes, verifiers, trusted=trusted, notice_lists=notice_lists)
    if isinstance(source, TileSource):  # first: at one index, a bad tile explains the rest
        unlike = report.first_unlike_leaf
        found = [source.unlike(unlike)] if unlike is not None else []
        report.failures[:0] = source.findings + found
    witnesses = [parse_vkey(vkey, COSIGNATURE) for vkey in args.witness]
    quorum = len(witnesses) if args.quorum is None else args.quorum
    if not 0 <= quorum <= len(witnesses):
        raise SourceError(f"--quorum is 0 to the {len(witnesses)} --witness keys given")
    if witnesses or quorum:
        witnessed(report, notes, witnesses, quorum)
    return finish(report, state_path)


def finish(report: AuditReport, state_path: Path | None) -> int:
    if report.failure is not None:
        print(f"FAIL {report.failure}")
        return 1
    latest = report.latest
    if latest is None:
        print(f"FAIL no signed checkpoint covers the {report.entries} entries")
        return 1
    unsigned = report.entries - latest.size
    agreed = f"; {report.notice_lists} notice list(s) agree with it" if report.notice_lists else ""
    if report.cosigners:
        agreed += f"; cosigned by {', '.join(report.cosigners)}"
    print(
        f"OK {report.entries} entries; {len(report.checkpoints)} checkpoint(s) verified; "
        f"tree size {latest.size}, origin {latest.origin}"
        + (f"; {unsigned} newer entries not yet under a checkpoint" if unsigned else "")
        + agreed
    )
    if state_path is not None:
        state_path.write_text(
            TrustedState(latest.origin, latest.size, latest.root).to_json(), encoding="utf-8"
        )
    return 0


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voucher-audit",
        description="Verify a published voucher ledger from an export folder or the service URL.",
    )
    parser.add_argument("source", help="export folder, or base URL such as https://host")
    parser.add_argument(
        "--tiles",
        action="store_true",
        help="SOURCE is the prefix (folder or URL) of the log's C2SP tlog-tiles",
    )
    parser.add_argument(
        "--vkey", action="append", default=[], help="verifier key, or a file of them (repeatable)"
    )
    parser.add_argument("--state", type=Path, help="file remembering the last verified checkpoint")
    parser.add_argument(
        "--notice",
        action="append",
        default=[],
        help="a day's public notice list, as a file or URL, to check against the log (repeatable)",
    )
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        help="a witness's cosigning vkey (signature type 0x04) (repeatable)",
    )
    parser.add_argument(
        "--quorum",
        type=int,
        help="valid cosignatures by the --witness keys the latest checkpoint needs (default: all)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (SourceError, LedgerFault, OSError, ValueError, KeyError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
