"""The rules of a center's budget shards (`voucher_app.domain.shards`), as properties: money is
never made or lost by spreading, drawing or gathering it, no shard goes below zero, and a
center refuses only what all its shards together cannot pay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher_app.domain import shards
from voucher_app.domain.errors import InvalidProgrammeTerms

counts = st.integers(min_value=1, max_value=shards.MAX_SHARDS)
amounts = st.integers(min_value=1, max_value=10**12)
balances = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=16)


@settings(max_examples=300)
@given(amount=amounts, count=counts, unit=st.integers(min_value=1, max_value=10**8))
def test_split_spreads_the_whole_amount_in_whole_units(amount: int, count: int, unit: int) -> None:
    parts = shards.split(amount, count, unit)
    assert sum(parts.values()) == amount
    assert all(0 <= shard < count and value > 0 for shard, value in parts.items())
    assert all(value % unit == 0 for shard, value in parts.items() if shard)
    whole = [value // unit for value in (parts.get(shard, 0) for shard in range(count))]
    assert max(whole) - min(whole) <= 1  # as even as whole vouchers go


def test_split_gives_the_remainder_below_a_unit_to_shard_zero() -> None:
    assert shards.split(1_050, 4, 100) == {0: 350, 1: 300, 2: 200, 3: 200}
    assert shards.split(50, 4, 100) == {0: 50}


@settings(max_examples=300)
@given(held=balances, amount=st.integers(min_value=1, max_value=10**10))
def test_draw_takes_exactly_the_amount_or_refuses(held: list[int], amount: int) -> None:
    taken = shards.draw(held, amount)
    if sum(held) < amount:
        assert taken is None
        return
    assert taken is not None
    assert sum(taken.values()) == amount
    assert all(0 < value <= held[shard] for shard, value in taken.items())


def test_draw_takes_from_the_richest_shards_first() -> None:
    assert shards.draw([100, 300, 200], 350) == {1: 300, 2: 50}


@settings(max_examples=300)
@given(held=balances, data=st.data(), need=st.integers(min_value=1, max_value=10**9))
def test_gather_lets_one_shard_pay_whenever_all_together_can(
    held: list[int], data: st.DataObject, need: int
) -> None:
    into = data.draw(st.integers(min_value=0, max_value=len(held) - 1))
    moves = shards.gather(held, into, need)
    if sum(held) < need:
        assert moves is None
        return
    assert moves is not None
    after = [balance + moves.get(shard, 0) for shard, balance in enumerate(held)]
    assert after[into] >= need
    assert sum(moves.values()) == 0  # money moves between shards, none is made or lost
    assert min(after) >= 0
    assert (moves == {}) is (held[into] >= need)


@settings(max_examples=200)
@given(key=st.text(min_size=1, max_size=20), count=counts)
def test_every_claim_order_starts_home_and_visits_every_shard_once(key: str, count: int) -> None:
    home = shards.home_shard(key, count)
    order = shards.claim_order(home, count)
    assert order[0] == home == shards.home_shard(key, count)
    assert sorted(order) == list(range(count))


def test_a_claim_goes_round_the_ring_upwards_from_home() -> None:
    assert shards.claim_order(1, 4) == [1, 2, 3, 0]


def test_a_key_keeps_its_home_shard_across_releases() -> None:
    # The first 8 bytes of BLAKE2b, big-endian, modulo the count: returned money's entries are
    # idempotent by their postings, so a voucher's shard must not move between releases.
    assert shards.home_shard("91440305MA0000001X", 16) == 7
    assert shards.home_shard("91440305MA0000001X", 7) == 0
    assert shards.home_shard("a", 16) == 15
    assert shards.home_shard("91440101MA0000002Y", 7) == 4


def test_pieces_no_shard_can_pay_alone_are_gathered_into_home() -> None:
    assert shards.payer([50, 50, 0], 2, 100) == (2, {2: 100, 0: -50, 1: -50})
    assert shards.payer([50, 40, 0], 2, 100) is None


def test_home_shards_spread_a_district_evenly() -> None:
    homes = [shards.home_shard(f"91440305MA{n:07d}X", 8) for n in range(8_000)]
    per_shard = [homes.count(shard) for shard in range(8)]
    assert min(per_shard) > 900 and max(per_shard) < 1_100


@pytest.mark.parametrize(
    ("budget", "face", "expected"),
    [
        (100, 100, 1),
        (15 * 100, 100, 1),
        (64 * 100, 100, 8),
        (200 * 100, 100, 16),
        (10**15, 100, 16),
    ],
)
def test_the_default_shard_count_follows_the_vouchers_the_budget_pays_for(
    budget: int, face: int, expected: int
) -> None:
    assert shards.shards_for(budget, face) == expected
    assert type(shards.shards_for(budget + face // 2, face)) is int


@pytest.mark.parametrize("count", [0, shards.MAX_SHARDS + 1, True, 2.0])
def test_a_shard_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(
        InvalidProgrammeTerms, match=r"^a center's budget is held in 1 to 64 shards$"
    ):
        shards.check_shard_count(count)


@pytest.mark.parametrize("count", [1, shards.MAX_SHARDS])
def test_one_shard_and_the_most_there_may_be_are_accepted(count: int) -> None:
    shards.check_shard_count(count)


@settings(max_examples=300)
@given(held=balances, data=st.data(), need=st.integers(min_value=1, max_value=10**9))
def test_the_payer_is_the_first_shard_round_the_ring_that_can_pay_else_home_after_gathering(
    held: list[int], data: st.DataObject, need: int
) -> None:
    home = data.draw(st.integers(min_value=0, max_value=len(held) - 1))
    choice = shards.payer(held, home, need)
    if sum(held) < need:
        assert choice is None
        return
    assert choice is not None
    shard, moves = choice
    able = [s for s in shards.claim_order(home, len(held)) if held[s] >= need]
    if able:
        assert (shard, moves) == (able[0], {})
    else:
        assert (shard, moves) == (home, shards.gather(held, home, need))
