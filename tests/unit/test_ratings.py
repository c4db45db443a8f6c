"""What an SME may say about a service (`voucher_app.domain.tracking`): a score from 1 to 5, an
optional comment of at most 1000 characters, and averages to one decimal as the catalogue shows
them."""

from __future__ import annotations

import pytest

from voucher_app.domain.errors import InvalidInput, InvalidRating
from voucher_app.domain.tracking import RatingSummary, check_rating


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_every_whole_score_from_1_to_5_is_accepted(score: int) -> None:
    assert check_rating(score, None) is None


@pytest.mark.parametrize(
    "score",
    [
        pytest.param(0, id="zero"),
        pytest.param(6, id="six"),
        pytest.param(-1, id="negative"),
        pytest.param(True, id="true-is-not-a-score"),
        pytest.param(3.0, id="float"),
        pytest.param("3", id="string"),
        pytest.param(None, id="none"),
    ],
)
def test_a_score_that_is_not_a_whole_number_from_1_to_5_is_refused_naming_the_score(
    score: object,
) -> None:
    with pytest.raises(InvalidRating) as caught:
        check_rating(score, "fine")  # type: ignore[arg-type]
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "invalid_rating"
    assert caught.value.details == {"field": "score"}
    assert caught.value.message == "a score is a whole number from 1 to 5"


@pytest.mark.parametrize(
    ("comment", "kept"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param(" \n\t\u3000", None, id="only-whitespace"),
        pytest.param("  准时完成 ", "准时完成", id="stripped"),
        pytest.param("good", "good", id="as-is"),
        pytest.param("x" * 1000, "x" * 1000, id="1000-characters"),
        pytest.param(" " + "字" * 1000 + "\n", "字" * 1000, id="1000-after-stripping"),
    ],
)
def test_a_comment_is_kept_stripped_and_an_empty_one_is_none(
    comment: str | None, kept: str | None
) -> None:
    assert check_rating(4, comment) == kept


@pytest.mark.parametrize("comment", ["x" * 1001, " " + "字" * 1001])
def test_a_comment_over_1000_characters_is_refused_naming_the_comment(comment: str) -> None:
    with pytest.raises(InvalidRating) as caught:
        check_rating(4, comment)
    assert caught.value.code == "invalid_rating"
    assert caught.value.details == {"field": "comment"}
    assert caught.value.message == "a comment has at most 1000 characters"


@pytest.mark.parametrize(
    ("count", "total", "average"),
    [
        pytest.param(0, 0, None, id="no-ratings"),
        pytest.param(1, 5, 5.0, id="one"),
        pytest.param(2, 9, 4.5, id="half"),
        pytest.param(3, 14, 4.7, id="rounded-up"),
        pytest.param(3, 13, 4.3, id="rounded-down"),
        pytest.param(6, 7, 1.2, id="many-lows"),
    ],
)
def test_the_average_is_total_over_count_to_one_decimal_and_none_without_ratings(
    count: int, total: int, average: float | None
) -> None:
    assert RatingSummary(count=count, total=total).average == average


def test_an_empty_summary_has_no_ratings() -> None:
    assert RatingSummary() == RatingSummary(count=0, total=0)
    assert RatingSummary().average is None
