"""Every word a page shows went through the catalogue: a pseudo-locale proves it.

The test builds an English catalogue in which every message is its id between ⟦ and ⟧
(placeholders kept), serves the site with it, and walks every page as every demo account. What
is left of a page's text once the bracketed messages are taken out is data — names, codes,
amounts, dates — or a word that skipped the catalogue: an untranslated string in a template,
a refusal's English log message on a page, a label built in code. Text a person is not meant to
read as a sentence is marked `translate="no"` (the HTML attribute that tells translators the
same), or sits in `pre`/`code`; the check passes over those.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, Page

from tests.browser.walk import Check, walk_demo
from tests.e2e.demo_data import demo_names
from tests.harness import ORIGIN
from voucher_app import create_app
from voucher_app.signing.keyring import Keyring

TRANSLATIONS = Path(__file__).resolve().parents[2] / "voucher_app" / "translations"
OPEN, CLOSE = "⟦", "⟧"
#: A run of letters a person would read as a word of English (data keeps its own: codes are
#: upper case, and the demo's names are Chinese).
WORD = re.compile(r"\b[a-z][a-z']{2,}\b")
#: The page's text outside `pre`, `code`, `script`, `style`, `template` and whatever is marked
#: translate="no", one string per text node, plus what assistive technology reads instead of
#: text: alt, aria-label, title and placeholder.
VISIBLE_TEXT = """() => {
  const skip = (e) => e.closest('pre, code, script, style, template, [translate="no"]');
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!skip(node.parentElement) && node.textContent.trim()) texts.push(node.textContent);
  }
  for (const e of document.querySelectorAll('[alt], [aria-label], [title], [placeholder]')) {
    if (skip(e)) continue;
    for (const name of ['alt', 'aria-label', 'title', 'placeholder']) {
      if (e.getAttribute(name)) texts.push(e.getAttribute(name));
    }
  }
  texts.push(document.title);
  return texts;
}"""


def pseudo_catalogue(folder: Path) -> Path:
    """An `en` catalogue whose every message reads ⟦its id⟧, compiled where Flask-Babel
    looks for it."""
    with (TRANSLATIONS / "messages.pot").open("rb") as template:
        catalogue = read_po(template, locale="en")
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(f"{OPEN}{form}{CLOSE}" for form in message.id)
        else:
            message.string = f"{OPEN}{message.id}{CLOSE}"
    target = folder / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as compiled:
        write_mo(compiled, catalogue)
    return folder


@pytest.fixture
def app(database_url: str, keyring: Keyring, tmp_path: Path) -> Iterator[Flask]:
    """The site speaking the pseudo-locale where it would speak English."""
    application = create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keyring.directory),
            "LEDGER_ORIGIN": ORIGIN,
            # Flask-Babel merges the folders in order: the pseudo `en` overrides the real one,
            # and Chinese (the sign-in page the walk starts from) stays.
            "BABEL_TRANSLATION_DIRECTORIES": f"{TRANSLATIONS};{pseudo_catalogue(tmp_path)}",
        },
    )
    yield application
    application.extensions["voucher_app"].database.dispose()


def outside_the_catalogue(text: str) -> list[str]:
    """The words of `text` left once every bracketed message is taken out (innermost first,
    as a message may be filled into another)."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", " ", text)
    return WORD.findall(text)


def untranslated(names: list[str]) -> Check:
    """A check: each text of the page that holds words outside the catalogue once `names`
    (the data's, longest first) are taken out, quoted."""

    def check(page: Page) -> list[str]:
        texts: list[str] = page.evaluate(VISIBLE_TEXT)
        if not any(OPEN in text for text in texts):
            return ["no text from the catalogue at all: is the pseudo-locale served?"]
        found = []
        for text in texts:
            scrubbed = text
            for name in names:
                scrubbed = scrubbed.replace(name, " ")
            if outside_the_catalogue(scrubbed):
                found.append(repr(text.strip()[:80]))
        return found

    return check


def test_the_check_finds_a_word_outside_the_catalogue() -> None:
    assert outside_the_catalogue("⟦Voucher ⟦%(code)s⟧ left⟧ 3G92-30VQ-VSQ ¥1,200.00") == []
    assert outside_the_catalogue("⟦Status⟧: the voucher has expired") == [
        "the",
        "voucher",
        "has",
        "expired",
    ]


def test_every_page_says_only_what_went_through_the_catalogue(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    names: list[str] = []

    def check(page: Page) -> list[str]:
        names[:] = names or demo_names(app)  # the demo is loaded by the walk's first step
        return untranslated(names)(page)

    walk = walk_demo(app, runner, live_url, browser, check, languages=("en",))
    assert walk.pages > 30
    assert not walk.problems, "text outside the catalogue:\n" + "\n".join(
        sorted(set(walk.problems))
    )
