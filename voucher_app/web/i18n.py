"""Languages and local formats for the pages: Chinese (zh_CN) by default, English on request.

The language is the one the visitor chose (a cookie set by `/language`), else the browser's
first supported one, else Chinese. Amounts read ¥1,234.50 and times are shown in Asia/Shanghai
whatever the server's zone, as an auditor in Guangzhou reads them. A voucher's human code is
kept on one line wherever it is shown (it has hyphens a browser would break at, and a code
split over two lines is misread at the desk).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, request
from flask_babel import Babel, get_locale
from markupsafe import Markup

from voucher_app.domain.categories import BY_CODE
from voucher_app.domain.money import format_yuan

LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"
COOKIE = "lang"
ZONE = ZoneInfo("Asia/Shanghai")
#: Where each language's catalogue lives: Babel names simplified Chinese in China zh_Hans_CN,
#: and looks the catalogue up by that name.
CATALOGUES = {"zh_CN": "zh_Hans_CN", "en": "en"}


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=choose_language)
    app.jinja_env.filters["yuan"] = format_yuan
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["in_language"] = in_language
    app.jinja_env.filters["voucher_code"] = voucher_code
    app.jinja_env.filters["category"] = category_name
    app.jinja_env.globals["languages"] = LANGUAGES
    app.jinja_env.globals["current_language"] = current_language


def choose_language() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for tag, _quality in request.accept_languages:  # best first
        primary = tag.lower().replace("_", "-").split("-")[0]
        if primary == "zh":
            return "zh_CN"
        if primary == "en":
            return "en"
    return DEFAULT


def current_language() -> str:
    """The page's language as `LANGUAGES` names it (Babel spells Chinese `zh_Hans_CN`)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else DEFAULT


def local_time(moment: datetime | None) -> str:
    """A moment as Guangdong's clocks show it: 2026-11-27 18:05."""
    if moment is None:
        return ""
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


def in_language(text: str) -> str:
    """One half of a message the services write in both languages ("中文 / English")."""
    chinese, separator, english = text.partition(" / ")
    if not separator:
        return text
    return chinese if current_language() == "zh_CN" else english


def category_name(code: str, unknown: str | None = None) -> str:
    """A service category's name in the page's language; for an unknown code, `unknown` (the
    code itself when None)."""
    found = BY_CODE.get(code)
    if found is None:
        return code if unknown is None else unknown
    return found.name_zh if current_language() == DEFAULT else found.name_en


def voucher_code(code: str) -> Markup:
    """A voucher's human code as the pages show it: one unbreakable piece (`.human-code`)."""
    return Markup('<span class="human-code">{}</span>').format(code)


def with_code(translated: str, code: str, **values: object) -> Markup:
    """A translated sentence (`gettext` of it without values) about a voucher, with the
    voucher's `%(code)s` kept on one line and the other values escaped."""
    return Markup.escape(translated) % {"code": voucher_code(code), **values}
