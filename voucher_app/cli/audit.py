"""`voucher-audit SOURCE`: verify a published ledger without its database or configuration.

SOURCE is an export folder (`flask --app wsgi ledger export DIR`) or the service's base URL.
Only the standard library, `cryptography` and this package's pure modules are used: no Flask,
no SQLAlchemy. Exit status: 0 verified, 1 a fault was found (the first bad index is printed),
2 the source could not be read.

Pin the ledger's verifier key with `--vkey` (a vkey string or a file of them); without it the
key is read from the source itself, which proves consistency but not who signed. `--state FILE`
remembers the last verified checkpoint and demands that the next run's log extends it.
`--notice LIST` (a file, or the URL of `/api/v1/notice/<center>/<day>`; repeatable) checks a
day's public notice list against the approvals that published it.
"""

from __future__ import annotations

import argparse
import base64
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from voucher_app.domain.errors import LedgerFault, VoucherError
from voucher_app.domain.notice import check_shape
from voucher_app.ledger import export_format
from voucher_app.ledger.audit import AuditReport, SourceEntry, TrustedState, audit
from voucher_app.signing.note import Verifier, parse_vkey

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


def open_source(source: str) -> FolderSource | HttpSource:
    if source.startswith(("http://", "https://")):
        return HttpSource(source)
    return FolderSource(Path(source))


def load_verifiers(given: list[str], source: FolderSource | HttpSource) -> list[Verifier]:
    texts: list[str] = []
    for value in given:
        path = Path(value)
        texts.extend(path.read_text(encoding="utf-8").split() if path.is_file() else [value])
    if not texts:
        texts = source.vkeys()
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
    source = open_source(args.source)
    verifiers = load_verifiers(args.vkey, source)
    state_path: Path | None = args.state
    trusted = None
    if state_path is not None and state_path.exists():
        trusted = TrustedState.from_json(state_path.read_text(encoding="utf-8"))
    notice_lists = [read_notice_list(where) for where in args.notice]
    report = audit(
        source.entries(), source.notes(), verifiers, trusted=trusted, notice_lists=notice_lists
    )
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
        "--vkey", action="append", default=[], help="verifier key, or a file of them (repeatable)"
    )
    parser.add_argument("--state", type=Path, help="file remembering the last verified checkpoint")
    parser.add_argument(
        "--notice",
        action="append",
        default=[],
        help="a day's public notice list, as a file or URL, to check against the log (repeatable)",
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
