"""Replaying entries in log order (`voucher_app.ledger.replay.Replay`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from voucher_app.domain.entries import EntryKind, Posting, negation
from voucher_app.ledger.document import EntryRecord
from voucher_app.ledger.replay import Replay, ReplayError

P = "prog-1"
FUNDING = f"programme:{P}:funding"
PARENT = f"center:440000:{P}:available"
CHILD = f"center:440300:{P}:available"
VOUCHER = "voucher:V-1"
PENDING = f"provider:R-1:{P}:pending"
PAYABLE = f"provider:R-1:{P}:payable"
PAID = f"provider:R-1:{P}:paid"


def entry(
    kind: EntryKind,
    postings: Sequence[tuple[str, int]],
    *,
    reverses: str | None = None,
    entry_id: str | None = None,
) -> EntryRecord:
    return EntryRecord(
        id=entry_id or str(uuid.uuid4()),
        kind=kind,
        created_at="2026-03-02T01:30:00.000000Z",
        actor_id="admin",
        actor_role="programme_admin",
        postings=tuple(Posting(account, amount) for account, amount in postings),
        refs={"programme": P},
        reverses=reverses,
    )


def move(kind: EntryKind, source: str, target: str, amount: int) -> EntryRecord:
    return entry(kind, [(source, -amount), (target, amount)])


def reversal_of(original: EntryRecord, *, entry_id: str | None = None) -> EntryRecord:
    return entry(
        EntryKind.REVERSE,
        [(p.account, p.amount_fen) for p in negation(original.postings)],
        reverses=original.id,
        entry_id=entry_id,
    )


FUND = move(EntryKind.FUND, FUNDING, PARENT, 1_000_000)
ALLOCATE = move(EntryKind.ALLOCATE, PARENT, CHILD, 300_000)
ISSUE = move(EntryKind.ISSUE, CHILD, VOUCHER, 50_000)
REDEEM = move(EntryKind.REDEEM, VOUCHER, PENDING, 30_000)
APPROVE = move(EntryKind.APPROVE, PENDING, PAYABLE, 30_000)
SETTLE = move(EntryKind.SETTLE, PAYABLE, PAID, 30_000)
HISTORY = [FUND, ALLOCATE, ISSUE, REDEEM, APPROVE, SETTLE]


def replayed(entries: Sequence[EntryRecord]) -> Replay:
    replay = Replay()
    for item in entries:
        replay.apply(item)
    return replay


def test_a_valid_history_replays_to_the_expected_balances() -> None:
    replay = replayed(HISTORY)
    assert replay.count == len(HISTORY)
    assert replay.balances == {
        FUNDING: -1_000_000,
        PARENT: 700_000,
        CHILD: 250_000,
        VOUCHER: 20_000,
        PENDING: 0,
        PAYABLE: 0,
        PAID: 30_000,
    }
    assert sum(replay.balances.values()) == 0


def test_a_funding_account_may_go_negative() -> None:
    replay = replayed([FUND, move(EntryKind.FUND, FUNDING, CHILD, 5)])
    assert replay.balances[FUNDING] == -1_000_005


def test_a_reversal_that_negates_its_original_exactly_restores_the_balances() -> None:
    before = dict(replayed(HISTORY).balances)
    extra = move(EntryKind.ALLOCATE, PARENT, CHILD, 1234)
    replay = replayed([*HISTORY, extra, reversal_of(extra)])
    assert replay.balances == before
    assert replay.count == len(HISTORY) + 2


def test_a_reversal_of_a_fund_entry_is_accepted() -> None:
    replay = replayed([FUND, reversal_of(FUND)])
    assert replay.balances == {FUNDING: 0, PARENT: 0}


SEEN_TWICE = str(uuid.uuid4())
UNKNOWN = str(uuid.uuid4())

REFUSALS = [
    pytest.param([FUND], entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 4)]), id="unbalanced"),
    pytest.param([FUND], entry(EntryKind.ALLOCATE, [(PARENT, 0)]), id="single-posting"),
    pytest.param([FUND], entry(EntryKind.ALLOCATE, [(PARENT, -5), (PARENT, 5)]), id="same-account"),
    pytest.param(
        [FUND], entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 5), (VOUCHER, 0)]), id="zero"
    ),
    pytest.param([], move(EntryKind.FUND, FUNDING, VOUCHER, 5), id="fund-into-a-voucher"),
    pytest.param([FUND], move(EntryKind.ISSUE, PARENT, PENDING, 5), id="issue-to-a-provider"),
    pytest.param([FUND], move(EntryKind.ALLOCATE, CHILD, PARENT, 5), id="available-negative"),
    pytest.param(
        [FUND, ALLOCATE], move(EntryKind.ISSUE, CHILD, VOUCHER, 300_001), id="overspent-center"
    ),
    pytest.param(
        [FUND, ALLOCATE, ISSUE],
        move(EntryKind.REDEEM, VOUCHER, PENDING, 50_001),
        id="over-redeemed-voucher",
    ),
    pytest.param([FUND], move(EntryKind.APPROVE, PENDING, PAYABLE, 1), id="pending-negative"),
    pytest.param(
        [FUND], entry(EntryKind.ALLOCATE, [("ledger:x", -5), (CHILD, 5)]), id="unknown-account"
    ),
    pytest.param(
        [FUND, ALLOCATE],
        entry(EntryKind.REVERSE, [(PARENT, 299_999), (CHILD, -299_999)], reverses=ALLOCATE.id),
        id="reversal-not-exact",
    ),
    pytest.param(
        [FUND, ALLOCATE],
        entry(EntryKind.REVERSE, [(PARENT, -300_000), (CHILD, 300_000)], reverses=ALLOCATE.id),
        id="reversal-same-direction",
    ),
    pytest.param(
        [FUND, ALLOCATE, reversal_of(ALLOCATE, entry_id=SEEN_TWICE)],
        entry(EntryKind.REVERSE, [(PARENT, -300_000), (CHILD, 300_000)], reverses=SEEN_TWICE),
        id="reversal-of-a-reversal",
    ),
    pytest.param(
        [FUND, ALLOCATE, reversal_of(ALLOCATE)], reversal_of(ALLOCATE), id="reversed-twice"
    ),
    pytest.param(
        [FUND],
        entry(EntryKind.REVERSE, [(PARENT, 5), (CHILD, -5)], reverses=UNKNOWN),
        id="reverses-unknown-id",
    ),
    pytest.param(
        [FUND, ALLOCATE],
        entry(EntryKind.REVERSE, [(PARENT, 300_000), (CHILD, -300_000)]),
        id="reverse-without-reverses",
    ),
    pytest.param(
        [FUND, ALLOCATE],
        entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 5)], reverses=ALLOCATE.id),
        id="non-reversal-naming-an-entry",
    ),
    pytest.param(
        [FUND],
        entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 5)], entry_id=FUND.id),
        id="entry-id-seen-twice",
    ),
]


@pytest.mark.parametrize(("history", "bad"), REFUSALS)
def test_replay_refuses_an_entry_that_breaks_a_ledger_rule_and_leaves_the_state_alone(
    history: list[EntryRecord], bad: EntryRecord
) -> None:
    replay = replayed(history)
    balances, count = dict(replay.balances), replay.count
    with pytest.raises(ReplayError):
        replay.apply(bad)
    assert replay.balances == balances
    assert replay.count == count


def test_a_refused_reversal_does_not_use_up_the_right_to_reverse_the_original() -> None:
    # The issue's reversal is refused while part of the voucher is redeemed (the voucher would
    # go negative). Once the redemption is rejected, reversing the issue is valid and must be
    # accepted: the refused attempt did not happen.
    history = [FUND, ALLOCATE, ISSUE, REDEEM]
    replay = replayed(history)
    with pytest.raises(ReplayError, match="would go to"):
        replay.apply(reversal_of(ISSUE))
    replay.apply(move(EntryKind.REJECT, PENDING, VOUCHER, 30_000))
    replay.apply(reversal_of(ISSUE))
    assert replay.balances[VOUCHER] == 0
    assert replay.balances[CHILD] == 300_000


def test_a_refused_entry_does_not_claim_its_id() -> None:
    replay = replayed([FUND])
    bad = move(EntryKind.ALLOCATE, CHILD, PARENT, 5)  # CHILD would go negative
    with pytest.raises(ReplayError):
        replay.apply(bad)
    replay.apply(entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 5)], entry_id=bad.id))
    assert replay.balances[CHILD] == 5


def test_replay_refuses_money_moving_between_programmes() -> None:
    replay = Replay()
    replay.apply(FUND)
    other = "center:440300:prog-2:available"
    with pytest.raises(ReplayError, match="prog-2"):
        replay.apply(move(EntryKind.ALLOCATE, PARENT, other, 1))
