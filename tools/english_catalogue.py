"""Fill the English catalogue from the message ids: the pages are written in English, so each
English translation is its id (kept as a catalogue so that English is a language like any other
and a test can demand that every string is in both). Run by `make translations`."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main(path: Path) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    catalog.obsolete.clear()
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, no_location=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
