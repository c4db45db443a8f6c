"""Every refusal a page can meet is said in the page's language (`web.messages`).

The domain and the services raise codes with parameters; a page says them from the catalogues.
A refusal the catalogue has no sentence for would reach a Chinese page as its English log
message, so this reads every `raise` of a `VoucherError` in the code below the entry points and
demands a sentence for its code and rule (or its code's sentence). What only operators, the API
or the ledger's own checks meet is listed here with the reason it never reaches a page.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from voucher_app import create_app
from voucher_app.domain import errors
from voucher_app.domain.errors import InvalidAmount, InvalidInput, VoucherError
from voucher_app.domain.money import parse_yuan
from voucher_app.web.messages import SENTENCES, TOLD_BY, explain

PACKAGE = Path(__file__).resolve().parents[2] / "voucher_app"
#: Where people's requests arrive: their refusals are said there, by these same sentences.
ENTRY_POINTS = {"api", "web", "cli", "http"}
#: Codes no page shows, and why.
NOT_ON_PAGES = {
    "database_not_empty": "the demo loader, a command",
    "idempotency_key_answered": "the API's Idempotency-Key header",
    "idempotency_key_reused": "the API's Idempotency-Key header",
    "invalid_account": "ledger account names, built by the services",
    "invalid_entry": "journal entries, built by the services",
    "invalid_evaluation_scheme": "the province's evaluation file, read at start-up",
    "invalid_log_range": "the transparency log's API",
    "invalid_witness_policy": "the witnesses file, read at start-up",
    "keyring_error": "the keys command and start-up",
    "log_behind_published": "the readiness check and the sequencer",
    "no_checkpoint": "the transparency log's API",
    "unknown_entry": "the ledger API's reversal",
    "unknown_tile": "the transparency log's tiles",
    "unknown_token": "API tokens, revoked through the API",
    "not_authenticated": "a page sends the visitor to sign in instead",
    "permission_denied": "a page answers with its 403 error page, in the page's language",
}


def raised() -> Iterator[tuple[str, str | None, str]]:
    """(code, rule, where) of every `raise SomeVoucherError(...)` below the entry points; a
    rule that is not a literal is None (its code's sentence must then say it)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if ENTRY_POINTS & set(path.relative_to(PACKAGE).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            name = node.exc.func.id if isinstance(node.exc.func, ast.Name) else None
            error = getattr(errors, name or "", None)
            if not (isinstance(error, type) and issubclass(error, VoucherError)):
                continue
            rules = [kw.value for kw in node.exc.keywords if kw.arg == "rule"]
            literal = rules[0].value if rules and isinstance(rules[0], ast.Constant) else None
            rule = literal if isinstance(literal, str) else None
            yield error.code, rule, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"


def test_the_scan_finds_the_refusals_it_is_about() -> None:
    found = {(code, rule) for code, rule, _where in raised()}
    assert ("invalid_input", "delivered_outside_validity") in found
    assert ("invalid_amount", "not_yuan") in found
    assert len(found) > 50


def test_every_refusal_a_page_can_meet_has_a_sentence_in_the_catalogue() -> None:
    unsaid = sorted(
        where
        for code, rule, where in raised()
        if code not in NOT_ON_PAGES
        and (code, rule) not in SENTENCES
        and (code, None) not in SENTENCES
        and not (rule is None and code in TOLD_BY)
    )
    assert unsaid == []


def test_the_codes_said_not_to_reach_pages_are_still_raised() -> None:
    codes = {code for code, _rule, _where in raised()}
    assert set(NOT_ON_PAGES) <= codes  # a stale entry would hide a new refusal


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app("testing")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-CN", "请填写以元为单位的金额，如 1200 或 1,200.50。"),
        ("en", "Write an amount in yuan, such as 1200 or 1,200.50."),
    ],
)
def test_a_typed_amount_that_is_not_yuan_is_refused_in_the_pages_language(
    app: Flask, language: str, expected: str
) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_yuan("abc")
    with app.test_request_context(headers={"Accept-Language": language}):
        assert explain(refused.value) == expected


def test_a_delivery_date_outside_the_vouchers_life_is_said_in_chinese(app: Flask) -> None:
    refusal = InvalidInput(
        "the service was delivered between the voucher's issue and today",
        rule="delivered_outside_validity",
        extra={"issued_on": "2026-11-02", "today": "2026-12-06"},
        field="delivered_on",
    )
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert (
            explain(refusal)
            == "服务完成日期须在服务券发放日（2026-11-02）至今天（2026-12-06）之间。"
        )


def test_a_rule_without_a_sentence_of_its_own_is_said_by_its_codes(app: Flask) -> None:
    refusal = InvalidInput("name needs 1 to 200 characters", rule="no_such_rule", field="name")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert explain(refusal) == "此项填写有误，请检查后重试。"
