"""Repositories: how services find the rows they work on, written once.

A unit of work offers one repository per kind of row (`uow.vouchers`, `uow.programmes`, …:
`Repositories`, a base of `persistence.uow.UnitOfWork`), each bound to the session of the
transaction in progress, so a service says what it wants and composes no query for it:

    voucher = uow.vouchers.by_public_id(voucher_id, lock=True)

`by_public_id` finds a row by the public id the outside world knows it by, or raises the
domain's `Unknown…` error (a 404 at the entry points) naming that id; with `lock=True` the row
is read with `SELECT … FOR UPDATE` and stays locked until the transaction ends (SQLite has no
row locks and runs one writer at a time). `find` answers None instead of raising. What is also
known by a code has a repository of its own: centers by their code (`uow.centers.by_code`),
vouchers by their human code, SMEs and providers by their unified social credit code (the
callers check and normalise a code first). The statements are built once per process: the
claim's hot path reads a programme on every call.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from voucher_app.domain.errors import (
    NotFound,
    UnknownBatch,
    UnknownCenter,
    UnknownComplaint,
    UnknownProgramme,
    UnknownProvider,
    UnknownRedemption,
    UnknownTask,
    UnknownUser,
    UnknownVoucher,
)
from voucher_app.persistence.models import (
    Base,
    Center,
    Complaint,
    Programme,
    Provider,
    Redemption,
    SettlementBatch,
    Sme,
    Task,
    User,
    Voucher,
)

M = TypeVar("M", bound=Base)


class Lookup(Generic[M]):
    """How rows of one model are found by public id: the prebuilt statements, and the error
    that says none has it (`no {noun} {id}`, with the id under `detail`)."""

    def __init__(
        self,
        model: type[M],
        public_id: InstrumentedAttribute[uuid.UUID],
        unknown: type[NotFound],
        noun: str,
        detail: str,
    ) -> None:
        self.unknown = unknown
        self.noun = noun
        self.detail = detail
        self.plain: Select[M] = select(model).where(public_id == bindparam("public_id"))
        self.locked: Select[M] = self.plain.with_for_update()

    def missing(self, public_id: uuid.UUID) -> NotFound:
        details: dict[str, Any] = {self.detail: str(public_id)}
        return self.unknown(f"no {self.noun} {public_id}", **details)


class Repository(Generic[M]):
    """The rows of one model, as a transaction's session finds them by public id."""

    def __init__(self, session: Session, lookup: Lookup[M]) -> None:
        self.session = session
        self._lookup = lookup

    def find(self, public_id: uuid.UUID, *, lock: bool = False) -> M | None:
        """The row with this public id (locked until the transaction ends), or None."""
        query = self._lookup.locked if lock else self._lookup.plain
        return self.session.scalar(query, {"public_id": public_id})

    def by_public_id(self, public_id: uuid.UUID, *, lock: bool = False) -> M:
        """The row with this public id (locked until the transaction ends), or the model's
        `Unknown…` error."""
        row = self.find(public_id, lock=lock)
        if row is None:
            raise self._lookup.missing(public_id)
        return row


class Centers:
    """The service centers, known outside by their code."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Center:
        center = self.session.scalar(_CENTER_BY_CODE, {"code": code})
        if center is None:
            raise UnknownCenter(f"no service center with code {code!r}", center=code)
        return center


class Vouchers(Repository[Voucher]):
    """The vouchers, also known by the human code printed under their QR."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, VOUCHERS)

    def find_by_code(self, human_code: str, *, lock: bool = False) -> Voucher | None:
        """The voucher with this (normalised) human code, locked until the transaction ends,
        or None."""
        query = _VOUCHER_BY_CODE_LOCKED if lock else _VOUCHER_BY_CODE
        return self.session.scalar(query, {"code": human_code})

    def by_code(self, human_code: str, *, lock: bool = False) -> Voucher:
        """The voucher with this (normalised) human code, or `UnknownVoucher`."""
        voucher = self.find_by_code(human_code, lock=lock)
        if voucher is None:
            raise unknown_voucher(human_code)
        return voucher


def unknown_voucher(human_code: str) -> UnknownVoucher:
    """The error that says no voucher has this human code."""
    return UnknownVoucher(f"no voucher {human_code}", voucher=human_code)


class Providers(Repository[Provider]):
    """The providers, also known by their unified social credit code."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, PROVIDERS)

    def find_by_uscc(self, uscc: str) -> Provider | None:
        return self.session.scalar(_PROVIDER_BY_USCC, {"uscc": uscc})


class Smes:
    """The SMEs, known outside by their unified social credit code."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find_by_uscc(self, uscc: str, *, lock: bool = False) -> Sme | None:
        return self.session.scalar(_SME_BY_USCC_LOCKED if lock else _SME_BY_USCC, {"uscc": uscc})


_CENTER_BY_CODE = select(Center).where(Center.code == bindparam("code"))
_VOUCHER_BY_CODE = select(Voucher).where(Voucher.human_code == bindparam("code"))
_VOUCHER_BY_CODE_LOCKED = _VOUCHER_BY_CODE.with_for_update()
_PROVIDER_BY_USCC = select(Provider).where(Provider.uscc == bindparam("uscc"))
_SME_BY_USCC = select(Sme).where(Sme.uscc == bindparam("uscc"))
_SME_BY_USCC_LOCKED = _SME_BY_USCC.with_for_update()

BATCHES = Lookup(
    SettlementBatch, SettlementBatch.public_id, UnknownBatch, "settlement batch", "batch"
)
COMPLAINTS = Lookup(Complaint, Complaint.public_id, UnknownComplaint, "complaint", "complaint")
PROGRAMMES = Lookup(Programme, Programme.public_id, UnknownProgramme, "programme", "programme")
PROVIDERS = Lookup(Provider, Provider.public_id, UnknownProvider, "provider", "provider")
REDEMPTIONS = Lookup(
    Redemption, Redemption.public_id, UnknownRedemption, "redemption", "redemption"
)
TASKS = Lookup(Task, Task.public_id, UnknownTask, "task", "task")
USERS = Lookup(User, User.public_id, UnknownUser, "user", "user")
VOUCHERS = Lookup(Voucher, Voucher.public_id, UnknownVoucher, "voucher", "voucher")


class Repositories(ABC):
    """What a unit of work offers its services: a repository per kind of row, bound to the
    session of the transaction in progress (each use takes the session of the moment)."""

    @property
    @abstractmethod
    def session(self) -> Session:
        """The session of the transaction in progress (the unit of work's)."""

    @property
    def centers(self) -> Centers:
        return Centers(self.session)

    @property
    def batches(self) -> Repository[SettlementBatch]:
        return Repository(self.session, BATCHES)

    @property
    def complaints(self) -> Repository[Complaint]:
        return Repository(self.session, COMPLAINTS)

    @property
    def programmes(self) -> Repository[Programme]:
        return Repository(self.session, PROGRAMMES)

    @property
    def providers(self) -> Providers:
        return Providers(self.session)

    @property
    def redemptions(self) -> Repository[Redemption]:
        return Repository(self.session, REDEMPTIONS)

    @property
    def smes(self) -> Smes:
        return Smes(self.session)

    @property
    def tasks(self) -> Repository[Task]:
        return Repository(self.session, TASKS)

    @property
    def users(self) -> Repository[User]:
        return Repository(self.session, USERS)

    @property
    def vouchers(self) -> Vouchers:
        return Vouchers(self.session)
