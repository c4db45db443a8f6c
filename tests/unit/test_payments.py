"""What the bank's money means for a batch item (`voucher_app.domain.payments`): the net decides,
returns unwind exactly, a release is for an item whose money all came back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_app.domain.payments import (
    ItemState,
    find_reference,
    is_batch_reference,
    item_reference,
    item_state,
    new_batch_reference,
    releases,
    settled_target,
    unwind,
)
from voucher_app.domain.redemptions import split_payment


def test_a_batch_reference_and_its_items_are_found_again_in_remarks() -> None:
    batch = new_batch_reference()
    item = item_reference(batch, 7)
    assert (len(batch), item) == (9, f"{batch}-0007")
    assert find_reference(f"服务券兑付{item}款") == item
    assert find_reference(f"批量代发 {batch} 共3笔") == batch
    assert find_reference(f"pay {item.lower()} thanks") == item  # a bank that lower-cases
    assert is_batch_reference(batch)
    assert not is_batch_reference(item)


@pytest.mark.parametrize(
    "remark",
    [
        pytest.param("账户管理费 2026年2月", id="none"),
        pytest.param("B7K2M9QXAB-0001", id="nine-characters"),  # one character too many
        pytest.param("AB7K2M9QXA-0001", id="part-of-a-longer-code"),
        pytest.param("B7K2M9QXA-0001 and B7K2M9QYA-0002", id="two-different"),
        pytest.param("BIK2M9QXA-0001", id="not-crockford"),  # I is not in the alphabet
    ],
)
def test_a_remark_names_no_payment_when_it_names_none_or_several(remark: str) -> None:
    assert find_reference(remark) is None


def test_the_same_reference_twice_in_a_remark_is_one_payment() -> None:
    assert find_reference("B7K2M9QXA-0001 / B7K2M9QXA-0001") == "B7K2M9QXA-0001"


@pytest.mark.parametrize(
    ("paid", "returned", "released", "state"),
    [
        (0, 0, False, ItemState.UNPAID),
        (400, 0, False, ItemState.PARTIAL),
        (1, 0, False, ItemState.PARTIAL),  # a single fen paid is a partial payment
        (1, 1, False, ItemState.RETURNED),
        (1000, 0, False, ItemState.PAID),
        (1300, 0, False, ItemState.OVERPAID),
        (1300, 300, False, ItemState.PAID),  # the overpayment refunded
        (1000, 300, False, ItemState.PARTIAL),  # part of it returned
        (0, 300, False, ItemState.RETURNED),  # a credit before its payment arrived
        (1000, 1000, True, ItemState.RETURNED),
        (1500, 1000, True, ItemState.OVERPAID),  # paid again after its redemptions were freed
    ],
)
def test_an_item_stands_by_its_net(paid: int, returned: int, released: bool, state: str) -> None:
    assert item_state(1000, paid, returned, released=released) == state


def test_the_ledger_settles_the_net_within_what_is_owed() -> None:
    assert settled_target(1000, 1300, 0, released=False) == 1000
    assert settled_target(1000, 1300, 300, released=False) == 1000  # a refund changes nothing
    assert settled_target(1000, 1000, 300, released=False) == 700
    assert settled_target(1000, 0, 300, released=False) == 0
    assert settled_target(1000, 1500, 0, released=True) == 0


def test_an_item_is_released_only_when_everything_paid_came_back() -> None:
    assert releases(1000, 1000)
    assert releases(600, 900)
    assert releases(1, 1)  # a single fen paid and returned frees the redemptions too
    assert not releases(1000, 999)
    assert not releases(0, 300)  # nothing was paid yet: the credit waits for its payment


def test_unwinding_reverses_the_latest_settlements_and_settles_the_rest_again() -> None:
    # Paid 600, then 400; 300 comes back: reverse the 400, settle 100 of it again.
    assert unwind([600, 400], 700) == (1, 100)
    assert unwind([600, 400], 600) == (1, 0)
    assert unwind([600, 400], 0) == (2, 0)
    assert unwind([600, 400], 1000) == (0, 0)


@given(
    settlements=st.lists(st.integers(1, 10_000), max_size=8),
    share=st.floats(0, 1),
)
def test_unwinding_keeps_exactly_the_target_with_the_fewest_reversals(
    settlements: list[int], share: float
) -> None:
    target = int(sum(settlements) * share)
    count, again = unwind(settlements, target)
    kept = sum(settlements[: len(settlements) - count])
    assert kept + again == target
    assert kept <= target
    if count:  # reversing one fewer would have kept more than the target
        assert kept + settlements[len(settlements) - count] > target


@given(
    redemptions=st.lists(st.integers(1, 5_000), min_size=1, max_size=6),
    steps=st.lists(st.integers(-6_000, 6_000), max_size=8),
)
def test_settling_and_unwinding_leave_each_redemption_its_prefix_share(
    redemptions: list[int], steps: list[int]
) -> None:
    """Whatever the payments and returns, what each redemption holds is its share of the settled
    stretch laid end to end (`split_payment` from zero): returns take from the last redemptions."""
    amount = sum(redemptions)
    entries: list[list[int]] = []  # per settle entry: its share for each redemption
    settled = 0
    for step in steps:
        target = max(0, min(amount, settled + step))
        if target < settled:
            count, again = unwind([sum(entry) for entry in entries], target)
            del entries[len(entries) - count :]
            settled = sum(sum(entry) for entry in entries)
            if again:
                entries.append(split_payment(redemptions, settled, again))
        elif target > settled:
            entries.append(split_payment(redemptions, settled, target - settled))
        settled = target
        held = [sum(entry[n] for entry in entries) for n in range(len(redemptions))]
        assert held == split_payment(redemptions, 0, settled)


@pytest.mark.parametrize(
    ("redemptions", "settled", "amount", "shares"),
    [
        pytest.param([100, 200, 300], 0, 600, [100, 200, 300], id="all-of-three"),
        pytest.param([100, 200, 300], 0, 250, [100, 150, 0], id="first-stretch"),
        pytest.param([100, 200, 300], 250, 100, [0, 50, 50], id="middle-stretch"),
        pytest.param([100, 200, 300], 300, 300, [0, 0, 300], id="only-the-third"),
        pytest.param([100, 200, 300], 350, 1000, [0, 0, 250], id="overpayment-stops-at-the-end"),
        pytest.param([50, 50, 50, 50], 120, 60, [0, 0, 30, 30], id="third-and-fourth"),
        pytest.param([100, 200, 300], 600, 100, [0, 0, 0], id="nothing-left"),
    ],
)
def test_a_payment_settles_the_stretch_after_what_is_settled_redemption_by_redemption(
    redemptions: list[int], settled: int, amount: int, shares: list[int]
) -> None:
    assert split_payment(redemptions, settled, amount) == shares


@given(
    redemptions=st.lists(st.integers(1, 40), min_size=1, max_size=7),
    settled=st.integers(0, 300),
    amount=st.integers(0, 300),
)
def test_each_redemption_gets_the_fen_of_the_payment_that_fall_inside_it(
    redemptions: list[int], settled: int, amount: int
) -> None:
    """Lay the redemptions end to end, one fen at a time, and count the paid fen each one owns."""
    owner_of_each_fen = [n for n, redemption in enumerate(redemptions) for _ in range(redemption)]
    paid_fen = owner_of_each_fen[settled : settled + amount]
    expected = [paid_fen.count(n) for n in range(len(redemptions))]
    assert split_payment(redemptions, settled, amount) == expected
