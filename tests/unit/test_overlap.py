"""Which lines of a new statement are new (`voucher_app.settlement.overlap`): the same money
once, whatever the files — reordered, re-sent, intraday then end-of-day, camt.053 and CSV."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from voucher_app.settlement.overlap import (
    EXACT_MATCHING_LIMIT,
    LineIdentity,
    fingerprint,
    fresh,
)

ACCOUNT = "3602000109200123456"
DAY = date(2026, 12, 7)


def line(
    amount: int = 150_000,
    reference: str | None = "B7K2M9QXA-0001",
    bank: tuple[str, str] | None = None,
    counterparty: str | None = None,
    day: date = DAY,
) -> LineIdentity:
    return LineIdentity(fingerprint(ACCOUNT, day, True, amount, reference), bank, counterparty)


def test_the_same_lines_again_in_another_order_are_all_known() -> None:
    old = [line(100), line(200), line(300, None, ("camt053", "R3"))]
    again = list(reversed(old))
    assert fresh(again, old) == [False, False, False]


def test_two_identical_payments_on_one_day_count_twice() -> None:
    assert fresh([line(), line()], []) == [True, True]
    # The intraday file carried one; the end-of-day file carries both: one is new.
    assert fresh([line(), line()], [line()]) == [False, True]


def test_a_csv_without_references_repeats_the_camt_lines_of_the_same_day() -> None:
    camt = [line(bank=("camt053", "R1")), line(bank=("camt053", "R2"))]
    csv = [line(bank=("table", "ICBC-1")), line()]
    assert fresh(csv, camt) == [False, False]


def test_different_references_of_one_kind_of_file_are_different_lines() -> None:
    old = [line(bank=("camt053", "R1"))]
    assert fresh([line(bank=("camt053", "R2"))], old) == [True]
    assert fresh([line(bank=("camt053", "R1"))], old) == [False]


def test_a_known_reference_is_the_known_line_even_when_another_matches_its_fingerprint() -> None:
    # R1 was imported; the end-of-day file has R1 and a second identical payment R2.
    old = [line(bank=("camt053", "R1"))]
    assert fresh([line(bank=("camt053", "R2")), line(bank=("camt053", "R1"))], old) == [
        True,
        False,
    ]


def test_different_counterparties_are_different_lines() -> None:
    old = [line(counterparty="7440000000000001")]
    assert fresh([line(counterparty="7440000000000002")], old) == [True]
    assert fresh([line(counterparty=None)], old) == [False]


def test_matching_finds_the_pairing_a_first_come_choice_would_miss() -> None:
    # The CSV line could be either old line; the camt R2 line only the one without reference.
    old = [line(bank=("camt053", "R1")), line()]
    new = [line(bank=("table", "X")), line(bank=("camt053", "R2"))]
    assert fresh(new, old) == [False, False]


def test_a_hostile_group_is_paired_by_count() -> None:
    size = int(EXACT_MATCHING_LIMIT**0.5) + 1
    old = [line(bank=("camt053", f"OLD{n}")) for n in range(size)]
    new = [line(bank=("camt053", f"NEW{n}")) for n in range(size + 3)]
    assert sum(fresh(new, old)) == 3  # errs towards known: never settles twice


def test_other_days_amounts_directions_and_references_are_other_lines() -> None:
    known = [line()]
    for other in (
        line(day=date(2026, 12, 8)),
        line(amount=150_001),
        line(reference="B7K2M9QXA-0002"),
        LineIdentity(fingerprint(ACCOUNT, DAY, False, 150_000, "B7K2M9QXA-0001")),
        LineIdentity(fingerprint("3602000109200999999", DAY, True, 150_000, "B7K2M9QXA-0001")),
    ):
        assert fresh([other], known) == [True]


# What a bank says about a day: its transactions in order. A statement covers whole days, or
# the start of the last one (an intraday file), in camt.053 (bank references) or CSV (none).
transactions = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from([100, 200]), st.sampled_from(["A", "B", None])),
    min_size=1,
    max_size=12,
)


@given(transactions, st.lists(st.tuples(st.integers(0, 12), st.booleans()), max_size=5))
def test_any_files_of_the_same_days_add_up_to_the_days_transactions(
    days: list[tuple[int, int, str | None]], files: list[tuple[int, bool]]
) -> None:
    """Import statements covering prefixes of the bank's day (in either format, lines in any
    order): what was applied is exactly the transactions the longest of them covered."""
    ordered = list(enumerate(days))  # the bank's own sequence numbers are its references

    def identity(number: int, day: int, amount: int, ref: str | None, camt: bool) -> LineIdentity:
        return line(
            amount,
            ref,
            ("camt053", f"R{number}") if camt else None,
            day=date(2026, 12, 1 + day),
        )

    applied: list[LineIdentity] = []
    covered = 0
    shuffle = random.Random(len(files))
    for length, camt in [*files, (len(ordered), True)]:
        statement = [identity(n, *fields, camt) for n, fields in ordered[:length]]
        shuffle.shuffle(statement)
        is_new = fresh(statement, applied)
        applied += [new for new, new_line in zip(statement, is_new, strict=True) if new_line]
        covered = max(covered, length)
    expected = Counter(identity(n, *fields, False).fingerprint for n, fields in ordered[:covered])
    assert Counter(new.fingerprint for new in applied) == expected
