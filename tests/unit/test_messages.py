"""What pages say about refusals (`voucher_app.web.messages`): the catalogue's sentence for an
error's code (and rule, or the detail that tells its refusals apart), its parameters filled
in, in the visitor's language; the error's own English message where the catalogue has none."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from tests.words import page_in, said
from voucher_app.domain import errors
from voucher_app.domain.eligibility import ProgrammeRules, budget_exhausted
from voucher_app.web.messages import SENTENCES, explain_failure, sentence

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def sample(name: str) -> Any:
    """A value for a sentence's parameter: amounts are fen, the rest reads as it is."""
    return 123_456 if name.endswith("_fen") else f"<{name}>"


@pytest.mark.parametrize("key", sorted(SENTENCES, key=str), ids=str)
def test_every_sentence_reads_in_both_languages_with_its_parameters(
    key: tuple[str, str | None],
) -> None:
    code, told = key
    with page_in("en"):
        english = str(SENTENCES[key])  # the English catalogue holds each id as it is
    params = {name: sample(name) for name in PLACEHOLDER.findall(english)}
    params |= {"reason": told} if code == "invalid_uscc" else {}
    params |= {"size": told} if code == "not_eligible_size" else {}
    rule = None if code in ("invalid_uscc", "not_eligible_size") else told
    with page_in("zh_CN"):
        chinese = sentence(code, params, rule)
    with page_in("en"):
        assert sentence(code, params, rule) == PLACEHOLDER.sub(
            lambda m: "¥1,234.56" if m[1].endswith("_fen") else f"<{m[1]}>", english
        )
    assert chinese is not None and "%(" not in chinese
    assert re.search("[\u4e00-\u9fff]", chinese), chinese
    for name in params:
        if name.endswith("_fen"):
            assert "¥1,234.56" in chinese
        elif name not in ("reason", "size"):
            assert f"<{name}>" in chinese


def test_the_english_page_reads_the_catalogue_and_the_api_keeps_the_errors_message() -> None:
    refusal = budget_exhausted("440305", 4_999, 100_000)
    assert said(refusal, "en") == (
        "The service center (440305) has ¥49.99 left for this programme: not enough for a voucher."
    )
    assert refusal.message == (
        "center 440305 has ¥49.99 left for this programme, not enough for a voucher of ¥1,000.00"
    )


def test_a_code_the_catalogue_has_no_sentence_for_reads_as_its_own_message() -> None:
    error = errors.InvalidEntry("an entry needs two postings")
    assert said(error) == said(error, "en") == error.message
    short = errors.InsufficientFunds("account center:440305:P:available would go negative")
    assert said(short) == short.message  # its sentence names a balance this error lacks


def test_a_rule_the_catalogue_has_no_sentence_for_reads_as_its_codes_sentence() -> None:
    unknown_rule = errors.InvalidTransition(
        "a paid batch is not cancelled", rule="paid_batch", status="paid"
    )
    assert said(unknown_rule) == "当前状态下无法办理，请刷新页面后重试。"
    assert said(unknown_rule, "en") == (
        "This is not possible in the current state: reload the page and try again."
    )


def test_a_sentence_whose_parameter_the_error_lacks_reads_as_the_errors_message() -> None:
    error = errors.InvalidInput("no voucher has the code X", rule="unknown_human_code")
    assert said(error) == "no voucher has the code X"


def test_a_programmes_dates_and_a_typed_code_are_named_from_the_errors_extra_values() -> None:
    rules = ProgrammeRules(date(2026, 3, 1), date(2026, 11, 30), (), ())
    closed = errors.ProgrammeClosed(
        "closed", extra={"period_start": rules.period_start, "period_end": rules.period_end}
    )
    assert said(closed) == "该服务券项目的申领期为 2026-03-01 至 2026-11-30"
    assert said(closed, "en") == "This programme takes claims from 2026-03-01 to 2026-11-30."
    unknown = errors.InvalidInput(
        "no voucher", rule="unknown_human_code", extra={"human_code": "78E1-MC8G-V6Q"}
    )
    assert said(unknown) == "没有券码为 78E1-MC8G-V6Q 的服务券"


def test_bank_details_an_export_refuses_name_the_provider_then_what_is_wrong() -> None:
    refused = errors.InvalidBankDetails(
        "provider 广州越秀法律服务所 (91440104MA5DE0009X): an account name must be at most 140…",
        rule="account_name_too_long",
        extra={"limit": 140, "provider_name": "广州越秀法律服务所"},
        field="bank_account_name",
        provider="91440104MA5DE0009X",
    )
    assert (
        said(refused)
        == "服务机构 广州越秀法律服务所（91440104MA5DE0009X）：户名不能超过 140 个字符"
    )
    assert said(refused, "en") == (
        "Provider 广州越秀法律服务所 (91440104MA5DE0009X): "
        "The account name has at most 140 characters."
    )


def test_a_failed_task_reads_what_it_kept_of_its_refusal() -> None:
    kept: dict[str, Any] = {
        "message": "center 440305 has ¥49.99 left",
        "rule": None,
        "params": {"center": "440305", "available_fen": 4_999},
    }
    with page_in("zh_CN"):
        assert explain_failure("budget_exhausted", kept) == (
            "服务中心（440305）本项目剩余预算 ¥49.99，不足以发放一张服务券"
        )
        assert explain_failure("invalid_table", {"message": "line 3: no uscc"}) == (
            "line 3: no uscc"
        )
        assert explain_failure("invalid_table", None) == ""
