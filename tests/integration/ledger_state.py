"""Snapshots of the ledger's state, to prove that a refused request changed nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount, LogQueue
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.uow import read_only


@dataclass(frozen=True)
class LedgerState:
    entries: int
    postings: int
    queued: int
    balances: dict[str, int]


@read_only
def snapshot(uow: UnitOfWork) -> LedgerState:
    session = uow.session

    def count(model: type) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    balances = {
        name: balance
        for name, balance in session.execute(select(LedgerAccount.name, LedgerAccount.balance_fen))
    }
    return LedgerState(count(JournalEntry), count(JournalPosting), count(LogQueue), balances)
