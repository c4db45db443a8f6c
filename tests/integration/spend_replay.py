"""The spend figures a replay of the journal gives, to hold every spend report against.

It reads only the journal (entries, their postings and refs) and the rows the refs name
(vouchers for their issuing center, redemptions for their category) and works each figure out from
the postings the way DESIGN §4 describes the money moving, without the spend facts the reports
add up: a budget figure is what moved on a center's `available` account, a redemption figure what
moved on the redemption's voucher or provider accounts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from voucher_app.domain.accounts import AccountKind, parse_account
from voucher_app.domain.calendar import CHINA
from voucher_app.domain.spend import Figures
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Center, Redemption, Voucher
from voucher_app.persistence.uow import read_only
from voucher_app.services.reports import SpendReport

#: Which figure a budget entry moves, and with which sign of its `available` posting.
BUDGET = {
    "fund": ("allocated", 1),
    "allocate": ("allocated", 1),
    "issue": ("committed", -1),
    "expire": ("expired", 1),
    "revoke": ("returned", 1),
    "release": ("returned", 1),
}
#: Which figure a redemption entry moves, and with which sign of the money it moved.
CLAIM = {
    "redeem": ("redeemed", 1),
    "reject": ("redeemed", -1),
    "approve": ("approved", 1),
    "settle": ("paid", 1),
}


@dataclass(frozen=True)
class Fact:
    center: str
    programme: str
    provider: str | None
    category: str | None
    month: str
    figure: str
    amount_fen: int


@read_only
def replay(uow: UnitOfWork) -> list[Fact]:
    session = uow.session
    postings: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for entry_id, name, amount in session.execute(
        select(JournalPosting.entry_id, LedgerAccount.name, JournalPosting.amount_fen).join(
            LedgerAccount, LedgerAccount.id == JournalPosting.account_id
        )
    ):
        postings[entry_id].append((name, amount))
    issuer = {
        str(public_id): code
        for public_id, code in session.execute(
            select(Voucher.public_id, Center.code).join(
                Center, Center.id == Voucher.issuing_center_id
            )
        )
    }
    category = {
        str(public_id): value
        for public_id, value in session.execute(select(Redemption.public_id, Redemption.category))
    }
    facts: list[Fact] = []
    by_entry: dict[int, list[Fact]] = {}
    for entry in session.scalars(select(JournalEntry).order_by(JournalEntry.id)):
        month = entry.created_at.astimezone(CHINA).strftime("%Y-%m")
        programme = entry.refs["programme"]
        found: list[Fact] = []
        if entry.kind == "reverse":
            assert entry.reverses_id is not None
            found = [
                Fact(f.center, f.programme, f.provider, f.category, month, f.figure, -f.amount_fen)
                for f in by_entry[entry.reverses_id]
            ]
        elif entry.kind == "rebalance":
            pass  # between one center's shards: no figure moves
        elif entry.kind in BUDGET:
            figure, sign = BUDGET[entry.kind]
            for name, amount in postings[entry.id]:
                account = parse_account(name)
                if account.kind is AccountKind.AVAILABLE:
                    found.append(
                        Fact(account.owner, programme, None, None, month, figure, sign * amount)
                    )
        else:
            figure, sign = CLAIM[entry.kind]
            moved = sum(amount for _, amount in postings[entry.id] if amount > 0)
            refs = entry.refs
            found.append(
                Fact(
                    issuer[refs["voucher"]],
                    programme,
                    refs["provider"],
                    category[refs["redemption"]],
                    month,
                    figure,
                    sign * moved,
                )
            )
        by_entry[entry.id] = found
        facts += found
    return facts


def _figures(facts: list[Fact]) -> Figures:
    sums: dict[str, int] = defaultdict(int)
    for fact in facts:
        sums[f"{fact.figure}_fen"] += fact.amount_fen
    return Figures(**sums)


def _grouped(facts: list[Fact], key: str) -> dict[str, Figures]:
    groups: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        value = getattr(fact, key)
        if value is not None:
            groups[value].append(fact)
    return {value: _figures(group) for value, group in groups.items()}


@read_only
def _subtrees(uow: UnitOfWork, code: str) -> tuple[set[str], dict[str, set[str]]]:
    """The codes at and below `code`, and for each direct child the codes at and below it."""
    rows = uow.session.execute(select(Center.id, Center.code, Center.parent_id)).all()
    code_of = {row.id: row.code for row in rows}
    up = {row.code: code_of.get(row.parent_id) for row in rows}

    def under(root: str) -> set[str]:
        found = {root}
        changed = True
        while changed:
            more = {c for c, p in up.items() if p in found} - found
            changed = bool(more)
            found |= more
        return found

    children = {c for c, p in up.items() if p == code}
    return under(code), {child: under(child) for child in children}


def assert_matches_replay(uow: UnitOfWork, report: SpendReport) -> None:
    """Every figure of `report` (unfiltered) equals the replay's."""
    assert report.programme_id is None and report.from_month is None and report.to_month is None
    subtree, children = _subtrees(uow, report.center)
    facts = [fact for fact in replay(uow) if fact.center in subtree]
    assert report.total == _figures(facts)
    assert report.own == _figures([f for f in facts if f.center == report.center])
    expected_children = {
        child: _figures([f for f in facts if f.center in codes])
        for child, codes in children.items()
    }
    assert {line.key: line.figures for line in report.children} == expected_children
    for lines, key in (
        (report.by_programme, "programme"),
        (report.by_category, "category"),
        (report.by_provider, "provider"),
        (report.by_month, "month"),
    ):
        assert {line.key: line.figures for line in lines} == _grouped(facts, key), key
