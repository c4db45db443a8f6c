"""Reasons for decisions that affect someone (`voucher_app.domain.reasons.require_reason`):
required unless the caller says otherwise, stripped, at most 500 characters, and refused in
both languages naming the `reason` field."""

from __future__ import annotations

import pytest

from tests.words import said
from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.reasons import require_reason


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        pytest.param("duplicate claim", "duplicate claim", id="as-is"),
        pytest.param("  发票不符 \n", "发票不符", id="stripped"),
        pytest.param("x" * 500, "x" * 500, id="500-characters"),
        pytest.param("\t" + "理" * 500 + " ", "理" * 500, id="500-after-stripping"),
    ],
)
def test_a_reason_is_kept_stripped(text: str, kept: str) -> None:
    assert require_reason(text) == kept
    assert require_reason(text, needed=False) == kept


@pytest.mark.parametrize("text", [None, "", "   ", "\u3000\n"])
def test_a_missing_reason_is_refused_when_the_decision_needs_one(text: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        require_reason(text)
    assert caught.value.code == "invalid_input"
    assert caught.value.details == {"field": "reason"}
    assert caught.value.message == "say why: this decision needs a reason"
    assert said(caught.value) == "请说明理由"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_a_missing_reason_is_none_when_the_decision_does_not_need_one(text: str | None) -> None:
    assert require_reason(text, needed=False) is None


@pytest.mark.parametrize("needed", [True, False])
@pytest.mark.parametrize("text", ["x" * 501, " " + "理" * 501])
def test_a_reason_over_500_characters_is_refused_needed_or_not(text: str, needed: bool) -> None:
    with pytest.raises(InvalidInput) as caught:
        require_reason(text, needed=needed)
    assert caught.value.code == "invalid_input"
    assert caught.value.details == {"field": "reason"}
    assert caught.value.message == "a reason has at most 500 characters"
    assert said(caught.value) == "理由不超过 500 个字"
