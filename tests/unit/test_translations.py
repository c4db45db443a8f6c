"""The catalogues are complete: every string the pages use is in both, translated into
Chinese (not fuzzy, not empty) and spelled out in English, and none is left over."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from voucher_app.web.i18n import CATALOGUES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "voucher_app" / "translations"


def catalogue(language: str) -> Catalog:
    path = TRANSLATIONS / CATALOGUES[language] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle)


def translations(message: Message) -> list[str]:
    """A message's translation, or its singular and plural forms."""
    found = message.string
    return [found] if isinstance(found, str) else list(found or [""])


def used_now(tmp_path: Path) -> set[object]:
    """The message ids the pages' code and templates use today (`make translations` reads the
    same configuration)."""
    template = tmp_path / "messages.pot"
    arguments = [
        "pybabel",
        "--quiet",
        "extract",
        "-F",
        str(ROOT / "babel.cfg"),
        "-k",
        "lazy_gettext",
    ]
    extract = CommandLineInterface().run
    extract([*arguments, "-o", str(template), str(ROOT)])  # type: ignore[no-untyped-call]
    with template.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_each_catalogue_holds_exactly_the_strings_in_use_all_translated(
    language: str, tmp_path: Path
) -> None:
    messages = [message for message in catalogue(language) if message.id]
    assert {message.id for message in messages} == used_now(tmp_path)
    for message in messages:
        assert all(translations(message)), f"{language}: {message.id!r} is not translated"
        assert not message.fuzzy, f"{language}: {message.id!r} is fuzzy"


def test_the_chinese_catalogue_is_chinese() -> None:
    for message in catalogue("zh_CN"):
        if message.id:
            text = translations(message)[0]
            assert any("\u4e00" <= char <= "\u9fff" for char in text), message.id
