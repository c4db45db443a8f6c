"""A center's seven figures (`voucher_app.domain.spend`): which figure each entry moves, the
month in China time they count in, and how figures add up across centers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from voucher_app.domain.entries import EntryKind
from voucher_app.domain.spend import (
    FIGURE_NAMES,
    MEASURE,
    SIGN,
    Figures,
    Measure,
    format_share,
    local_month,
    share_bp,
    total,
)

#: Which figure each kind moves and which way, written out from the measures' meanings: a
#: rejection takes back what its redemption claimed; a reversal has no figure of its own.
MOVES = {
    EntryKind.FUND: (Measure.ALLOCATED, 1),
    EntryKind.ALLOCATE: (Measure.ALLOCATED, 1),
    EntryKind.ISSUE: (Measure.COMMITTED, 1),
    EntryKind.REDEEM: (Measure.REDEEMED, 1),
    EntryKind.REJECT: (Measure.REDEEMED, -1),
    EntryKind.APPROVE: (Measure.APPROVED, 1),
    EntryKind.SETTLE: (Measure.PAID, 1),
    EntryKind.EXPIRE: (Measure.EXPIRED, 1),
    EntryKind.REVOKE: (Measure.RETURNED, 1),
    EntryKind.RELEASE: (Measure.RETURNED, 1),
}


def test_each_entry_kind_but_a_reversal_moves_one_figure_one_way() -> None:
    assert {kind: (MEASURE[kind], SIGN[kind]) for kind in MEASURE} == MOVES
    assert EntryKind.REVERSE not in MEASURE
    assert EntryKind.REVERSE not in SIGN


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        pytest.param(datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC), "2026-10", id="before"),
        pytest.param(datetime(2026, 10, 31, 16, 0, tzinfo=UTC), "2026-11", id="midnight-china"),
        pytest.param(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "2027-01", id="new-year"),
        pytest.param(
            datetime(2026, 11, 1, 0, 30, tzinfo=timezone(timedelta(hours=9))),
            "2026-10",  # 23:30 on 31 October in China
            id="other-zone",
        ),
    ],
)
def test_a_moment_counts_in_its_month_in_china_time(moment: datetime, month: str) -> None:
    assert local_month(moment) == month


def test_a_moment_without_a_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^a moment needs a timezone$"):
        local_month(datetime(2026, 11, 1, 12, 0))  # noqa: DTZ001 (the case under test)


SHENZHEN = Figures(
    allocated_fen=10_000,
    committed_fen=6_000,
    redeemed_fen=3_000,
    approved_fen=2_000,
    paid_fen=1_000,
    expired_fen=500,
    returned_fen=200,
)
GUANGZHOU = Figures(1, 2, 3, 4, 5, 6, 7)


def test_figures_are_built_from_amounts_by_measure_and_others_are_zero() -> None:
    figures = Figures.of({Measure.COMMITTED: 700, Measure.RETURNED: 30})
    assert figures == Figures(committed_fen=700, returned_fen=30)
    assert figures.allocated_fen == 0


def test_the_available_budget_is_allocated_less_committed_plus_what_came_back() -> None:
    assert SHENZHEN.available_fen == 10_000 - 6_000 + 500 + 200


def test_figures_as_a_dict_name_all_seven_and_the_available_budget() -> None:
    assert SHENZHEN.as_dict() == {
        "allocated_fen": 10_000,
        "committed_fen": 6_000,
        "redeemed_fen": 3_000,
        "approved_fen": 2_000,
        "paid_fen": 1_000,
        "expired_fen": 500,
        "returned_fen": 200,
        "available_fen": 4_700,
    }
    assert tuple(SHENZHEN.as_dict()) == FIGURE_NAMES


def test_figures_add_up_figure_by_figure() -> None:
    both = Figures(10_001, 6_002, 3_003, 2_004, 1_005, 506, 207)
    assert both == SHENZHEN + GUANGZHOU
    assert both == GUANGZHOU + SHENZHEN
    assert total([SHENZHEN, GUANGZHOU]) == both


def test_the_total_of_no_figures_is_all_zero() -> None:
    assert total([]) == Figures(0, 0, 0, 0, 0, 0, 0)
    assert total([GUANGZHOU]) == GUANGZHOU


@pytest.mark.parametrize(
    ("part", "whole", "share", "shown"),
    [
        (1_000_000, 300_000_000, 33, "0.33%"),  # ¥10,000 of ¥3,000,000
        (300_000_000, 300_000_000, 10_000, "100.00%"),
        (2, 3, 6666, "66.66%"),  # rounded down, never up
        (0, 500, 0, "0.00%"),
        (5, 0, None, "—"),  # no budget: no share of it
        (5, -1, None, "—"),
    ],
)
def test_a_share_of_the_budget_is_in_basis_points_rounded_down(
    part: int, whole: int, share: int | None, shown: str
) -> None:
    assert share_bp(part, whole) == share
    assert format_share(share_bp(part, whole)) == shown
