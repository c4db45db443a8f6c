"""Double entry and the flow of each entry kind (`voucher_app.domain.entries`)."""

from __future__ import annotations

import pytest

from voucher_app.domain.entries import (
    FLOWS,
    EntryKind,
    Posting,
    check_postings,
    negation,
)
from voucher_app.domain.errors import (
    InvalidAccount,
    InvalidAmount,
    InvalidEntry,
)
from voucher_app.domain.money import MAX_FEN

P = "prog-1"
FUNDING = f"programme:{P}:funding"
PARENT = f"center:440000:{P}:available"
CHILD = f"center:440300:{P}:available"
PARENT_SHARD = f"center:440000:{P}:available:3"
VOUCHER = "voucher:V-1"
PENDING = f"provider:R-1:{P}:pending"
PAYABLE = f"provider:R-1:{P}:payable"
PAID = f"provider:R-1:{P}:paid"

#: One valid (source, target) pair for every kind (DESIGN §4).
VALID_FLOWS = {
    EntryKind.FUND: (FUNDING, PARENT),
    EntryKind.ALLOCATE: (PARENT, CHILD),
    EntryKind.ISSUE: (PARENT, VOUCHER),
    EntryKind.REDEEM: (VOUCHER, PENDING),
    EntryKind.APPROVE: (PENDING, PAYABLE),
    EntryKind.REJECT: (PENDING, VOUCHER),
    EntryKind.EXPIRE: (VOUCHER, PARENT),
    EntryKind.REVOKE: (VOUCHER, PARENT),
    EntryKind.RELEASE: (VOUCHER, PARENT),
    EntryKind.SETTLE: (PAYABLE, PAID),
    EntryKind.REBALANCE: (PARENT, PARENT_SHARD),
}


def move(source: str, target: str, amount: int = 100) -> list[Posting]:
    return [Posting(target, amount), Posting(source, -amount)]


def test_every_kind_but_reverse_has_a_flow() -> None:
    assert set(FLOWS) == set(EntryKind) - {EntryKind.REVERSE}
    assert set(VALID_FLOWS) == set(FLOWS)


@pytest.mark.parametrize("kind", list(VALID_FLOWS))
def test_each_kind_accepts_money_along_its_flow_and_returns_postings_in_account_order(
    kind: EntryKind,
) -> None:
    source, target = VALID_FLOWS[kind]
    result = check_postings(kind, move(source, target), programme=P)
    assert result == tuple(sorted(move(source, target)))
    assert sum(p.amount_fen for p in result) == 0


#: Kinds whose flow runs between accounts of one kind, so turned round it is still valid.
SYMMETRIC = {EntryKind.ALLOCATE, EntryKind.REBALANCE}


@pytest.mark.parametrize("kind", [k for k in VALID_FLOWS if k not in SYMMETRIC])
def test_each_kind_refuses_money_against_its_flow(kind: EntryKind) -> None:
    source, target = VALID_FLOWS[kind]
    with pytest.raises(InvalidEntry):
        check_postings(kind, move(target, source), programme=P)


@pytest.mark.parametrize(
    ("kind", "source", "target"),
    [
        (EntryKind.FUND, FUNDING, VOUCHER),
        (EntryKind.ALLOCATE, PARENT, VOUCHER),
        (EntryKind.ISSUE, FUNDING, VOUCHER),
        (EntryKind.REDEEM, VOUCHER, PAYABLE),
        (EntryKind.SETTLE, PENDING, PAID),
        (EntryKind.EXPIRE, VOUCHER, FUNDING),
        (EntryKind.APPROVE, PENDING, PAID),
    ],
)
def test_kinds_refuse_accounts_outside_their_flow(
    kind: EntryKind, source: str, target: str
) -> None:
    with pytest.raises(InvalidEntry):
        check_postings(kind, move(source, target), programme=P)


def test_a_rebalance_stays_within_one_centers_shards() -> None:
    shard = f"center:440300:{P}:available:1"
    spread = [Posting(PARENT, -300), Posting(PARENT_SHARD, 100), Posting(shard, 200)]
    with pytest.raises(InvalidEntry) as refused:
        check_postings(EntryKind.REBALANCE, spread, programme=P)
    assert refused.value.message == "a rebalance moves money between one center's shards only"
    assert refused.value.details["kind"] == EntryKind.REBALANCE
    with pytest.raises(InvalidEntry, match="one center's shards"):
        check_postings(EntryKind.REBALANCE, move(PARENT, CHILD), programme=P)
    within = [Posting(PARENT, -300), Posting(PARENT_SHARD, 300)]
    assert check_postings(EntryKind.REBALANCE, within, programme=P) == tuple(sorted(within))


def test_more_than_two_postings_are_fine_when_they_balance() -> None:
    postings = [Posting(PARENT, -300), Posting(CHILD, 100), Posting(VOUCHER, 200)]
    assert len(check_postings(EntryKind.REVERSE, postings, programme=P)) == 3


@pytest.mark.parametrize(
    ("postings", "error"),
    [
        pytest.param([], InvalidEntry, id="no-postings"),
        pytest.param([Posting(PARENT, 0)], InvalidEntry, id="single-posting"),
        pytest.param([Posting(PARENT, -100), Posting(CHILD, 99)], InvalidEntry, id="unbalanced"),
        pytest.param(
            [Posting(PARENT, -100), Posting(PARENT, 100)], InvalidEntry, id="duplicate-account"
        ),
        pytest.param(
            [Posting(PARENT, -100), Posting(CHILD, 100), Posting(VOUCHER, 0)],
            InvalidAmount,
            id="zero-amount",
        ),
        pytest.param(
            [Posting(PARENT, -(MAX_FEN + 1)), Posting(CHILD, MAX_FEN + 1)],
            InvalidAmount,
            id="beyond-max",
        ),
        pytest.param(
            [Posting(PARENT, -100.0), Posting(CHILD, 100.0)],  # type: ignore[arg-type]
            InvalidAmount,
            id="float-amounts",
        ),
        pytest.param(
            [Posting(PARENT, -1), Posting(CHILD, True)],
            InvalidAmount,
            id="bool-amount",
        ),
    ],
)
def test_check_postings_refuses_entries_that_break_double_entry(
    postings: list[Posting], error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_postings(EntryKind.ALLOCATE, postings, programme=P)


def test_amounts_at_the_limit_are_accepted() -> None:
    assert check_postings(EntryKind.ALLOCATE, move(PARENT, CHILD, MAX_FEN), programme=P)


@pytest.mark.parametrize("account", ["ledger:x", f"center:440000:{P}", "voucher:bad id"])
def test_a_reversal_still_needs_well_formed_account_names(account: str) -> None:
    with pytest.raises(InvalidAccount):
        check_postings(EntryKind.REVERSE, [Posting(account, -5), Posting(PARENT, 5)], programme=P)


def test_negation_flips_every_amount_and_keeps_account_order() -> None:
    postings = [Posting(VOUCHER, 100), Posting(PARENT, -100)]
    assert negation(postings) == (Posting(PARENT, 100), Posting(VOUCHER, -100))
    assert negation(negation(postings)) == tuple(sorted(postings))


def test_money_never_crosses_programmes() -> None:
    other = "center:440300:prog-2:available"
    with pytest.raises(InvalidEntry, match="prog-2"):
        check_postings(EntryKind.ALLOCATE, move(PARENT, other), programme=P)
    with pytest.raises(InvalidEntry, match="not to the entry's"):
        check_postings(EntryKind.ALLOCATE, move(PARENT, CHILD), programme=None)
    assert check_postings(EntryKind.ISSUE, move(PARENT, VOUCHER), programme=P)


OTHER_PROGRAMME = "center:440300:prog-2:available"


@pytest.mark.parametrize(
    ("kind", "postings", "code", "message", "details"),
    [
        pytest.param(
            EntryKind.ALLOCATE,
            [Posting(PARENT, -100)],
            "invalid_entry",
            "an entry needs at least two postings",
            {"kind": EntryKind.ALLOCATE},
            id="single-posting",
        ),
        pytest.param(
            EntryKind.ALLOCATE,
            [Posting(CHILD, -100), Posting(CHILD, 100)],
            "invalid_entry",
            "an account appears twice in one entry",
            {"kind": EntryKind.ALLOCATE},
            id="duplicate-account",
        ),
        pytest.param(
            EntryKind.ALLOCATE,
            [Posting(PARENT, -100.0), Posting(CHILD, 100.0)],  # type: ignore[arg-type]
            "invalid_amount",
            "posting amounts must be whole numbers of fen",
            {},
            id="float-amount",
        ),
        pytest.param(
            EntryKind.ALLOCATE,
            [Posting(PARENT, 0), Posting(CHILD, 0)],
            "invalid_amount",
            "posting amount 0 is zero or out of range",
            {},
            id="zero-amount",
        ),
        pytest.param(
            EntryKind.ALLOCATE,
            [Posting(PARENT, -(2**53)), Posting(CHILD, 2**53)],
            "invalid_amount",
            "posting amount -9007199254740992 is zero or out of range",
            {},
            id="beyond-max",
        ),
        pytest.param(
            EntryKind.ALLOCATE,
            [Posting(PARENT, -100), Posting(CHILD, 99)],
            "invalid_entry",
            "postings sum to -1 fen, not zero",
            {"kind": EntryKind.ALLOCATE},
            id="unbalanced",
        ),
        pytest.param(
            EntryKind.ALLOCATE,
            [Posting(PARENT, -100), Posting(OTHER_PROGRAMME, 100)],
            "invalid_entry",
            f"{OTHER_PROGRAMME} belongs to programme prog-2, not to the entry's (prog-1)",
            {"kind": EntryKind.ALLOCATE, "account": OTHER_PROGRAMME},
            id="other-programme",
        ),
        pytest.param(
            EntryKind.ISSUE,
            [Posting(VOUCHER, -100), Posting(PARENT, 100)],
            "invalid_entry",
            "issue entries cannot move money to available accounts",
            {"kind": EntryKind.ISSUE, "account": PARENT},
            id="against-the-flow-to",
        ),
        pytest.param(
            EntryKind.REDEEM,
            [Posting(PAYABLE, -100), Posting(PENDING, 100)],
            "invalid_entry",
            "redeem entries cannot move money from payable accounts",
            {"kind": EntryKind.REDEEM, "account": PAYABLE},
            id="outside-the-flow-from",
        ),
    ],
)
def test_a_refused_entry_says_which_rule_it_breaks_and_names_the_kind_and_account(
    kind: EntryKind,
    postings: list[Posting],
    code: str,
    message: str,
    details: dict[str, str],
) -> None:
    with pytest.raises((InvalidEntry, InvalidAmount)) as caught:
        check_postings(kind, postings, programme=P)
    assert caught.value.code == code
    assert caught.value.message == message
    assert caught.value.details == details


def test_an_empty_account_name_is_refused_as_malformed_not_as_a_duplicate() -> None:
    with pytest.raises(InvalidAccount) as caught:
        check_postings(EntryKind.REVERSE, [Posting("", -5), Posting(PARENT, 5)], programme=P)
    assert caught.value.details == {"account": ""}
