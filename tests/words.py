"""What a page says about a refusal, in the language asked for: `web.messages.explain` under the
gettext catalogues the pages use (the `.mo` files `make compile` builds), outside any page.

The domain and the services raise codes with parameters; tests that check the words people
read ask here."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from flask import Flask

from voucher_app.domain.errors import VoucherError
from voucher_app.web import i18n
from voucher_app.web.messages import explain


@functools.cache
def _pages() -> Flask:
    """Just the pages' languages: the catalogues in `voucher_app/translations`."""
    app = Flask("voucher_app")
    i18n.init_app(app)
    return app


@contextlib.contextmanager
def page_in(language: str = "zh_CN") -> Iterator[None]:
    """A request for a page in `language` (`zh_CN` or `en`), as its cookie chooses it."""
    with _pages().test_request_context(headers={"Cookie": f"{i18n.COOKIE}={language}"}):
        yield


def said(error: VoucherError, language: str = "zh_CN") -> str:
    """What a page in `language` says about `error`."""
    with page_in(language):
        return explain(error)
