"""What `Replay` says when it refuses an entry (`voucher_app.ledger.replay`).

The auditor prints "index N: <reason>", and the reason is the only clue to what was edited, so
each rule of DESIGN §4 has its own message naming the entry or account involved: ids are unique;
an entry names the entry it reverses exactly when its kind is `reverse`; a reversal negates an
earlier, unreversed, non-reversal entry exactly; balances never go below zero except on a
programme's funding account. The double-entry and flow rules are `domain.entries`', whose
message the replay passes on unchanged.
"""

from __future__ import annotations

import re

import pytest

from tests.unit.test_replay import (
    ALLOCATE,
    CHILD,
    FUND,
    ISSUE,
    PARENT,
    REDEEM,
    VOUCHER,
    entry,
    move,
    replayed,
    reversal_of,
)
from voucher_app.domain.entries import EntryKind
from voucher_app.ledger.document import EntryRecord
from voucher_app.ledger.replay import ReplayError

REVERSAL_ID = "5a0c61d1-8d35-4d0e-9d51-8e4b8b3d0a11"
UNKNOWN_ID = "0e3b7c52-1f4a-4b8e-a3c6-2d9f1e6b7a80"
NAMES_EXACTLY_WHEN_REVERSAL = "an entry names the entry it reverses exactly when it is a reversal"


REFUSALS = [
    pytest.param(
        [FUND],
        entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 5)], entry_id=FUND.id),
        f"entry id {FUND.id} appears twice",
        id="id-seen-before",
    ),
    pytest.param(
        [FUND, ALLOCATE, reversal_of(ALLOCATE, entry_id=REVERSAL_ID)],
        entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 5)], entry_id=REVERSAL_ID),
        f"entry id {REVERSAL_ID} appears twice",
        id="id-of-a-reversal-seen-before",
    ),
    pytest.param(
        [FUND, ALLOCATE],
        entry(EntryKind.REVERSE, [(PARENT, 300_000), (CHILD, -300_000)]),
        NAMES_EXACTLY_WHEN_REVERSAL,
        id="reverse-naming-nothing",
    ),
    pytest.param(
        [FUND, ALLOCATE],
        entry(EntryKind.REVERSE, [(PARENT, 300_000), (CHILD, -300_000)], reverses=""),
        NAMES_EXACTLY_WHEN_REVERSAL,
        id="reverse-naming-the-empty-id",
    ),
    pytest.param(
        [FUND, ALLOCATE],
        # It even negates ALLOCATE exactly: only the kind `reverse` may undo an entry.
        entry(EntryKind.ALLOCATE, [(PARENT, 300_000), (CHILD, -300_000)], reverses=ALLOCATE.id),
        NAMES_EXACTLY_WHEN_REVERSAL,
        id="allocate-naming-an-entry-it-negates",
    ),
    pytest.param(
        [FUND, ALLOCATE, reversal_of(ALLOCATE, entry_id=REVERSAL_ID)],
        entry(EntryKind.REVERSE, [(PARENT, -300_000), (CHILD, 300_000)], reverses=REVERSAL_ID),
        "reverses a reversal",
        id="reversal-of-a-reversal",
    ),
    pytest.param(
        [FUND, ALLOCATE, reversal_of(ALLOCATE)],
        reversal_of(ALLOCATE),
        f"reverses {ALLOCATE.id} a second time",
        id="reversed-twice",
    ),
    pytest.param(
        [FUND],
        entry(EntryKind.REVERSE, [(PARENT, 5), (CHILD, -5)], reverses=UNKNOWN_ID),
        f"reverses {UNKNOWN_ID}, which is not an earlier entry",
        id="reverses-an-unknown-id",
    ),
    pytest.param(
        [FUND, ALLOCATE],
        entry(EntryKind.REVERSE, [(PARENT, 299_999), (CHILD, -299_999)], reverses=ALLOCATE.id),
        f"does not negate {ALLOCATE.id} exactly",
        id="reversal-not-exact",
    ),
    pytest.param(
        [FUND],
        move(EntryKind.ALLOCATE, CHILD, PARENT, 5),
        f"account {CHILD} would go to -5 fen",
        id="center-below-zero",
    ),
    pytest.param(
        [FUND, ALLOCATE, ISSUE, REDEEM],
        reversal_of(ISSUE),
        f"account {VOUCHER} would go to -30000 fen",
        id="voucher-below-zero-by-a-reversal",
    ),
    pytest.param(
        [FUND],
        entry(EntryKind.ALLOCATE, [(PARENT, -5), (CHILD, 4)]),
        "postings sum to -1 fen, not zero",
        id="unbalanced-passed-on-from-the-domain",
    ),
]


@pytest.mark.parametrize(("history", "bad", "message"), REFUSALS)
def test_replay_names_the_rule_an_entry_breaks(
    history: list[EntryRecord], bad: EntryRecord, message: str
) -> None:
    replay = replayed(history)
    with pytest.raises(ReplayError, match=f"^{re.escape(message)}$"):
        replay.apply(bad)
