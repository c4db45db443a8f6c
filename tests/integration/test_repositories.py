"""The repositories on the unit of work: each kind's not-found error is the one its services
raised before there were repositories (class, message, details), and `lock=True` reads the row
with SELECT … FOR UPDATE where the database has row locks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event

from tests import factories
from voucher_app.domain.errors import (
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
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database

NOBODY = uuid.UUID("0b0e5c3a-0000-4000-8000-000000000000")

KINDS = {
    "programmes": (UnknownProgramme, f"no programme {NOBODY}", "programme"),
    "vouchers": (UnknownVoucher, f"no voucher {NOBODY}", "voucher"),
    "providers": (UnknownProvider, f"no provider {NOBODY}", "provider"),
    "redemptions": (UnknownRedemption, f"no redemption {NOBODY}", "redemption"),
    "complaints": (UnknownComplaint, f"no complaint {NOBODY}", "complaint"),
    "users": (UnknownUser, f"no user {NOBODY}", "user"),
    "tasks": (UnknownTask, f"no task {NOBODY}", "task"),
    "batches": (UnknownBatch, f"no settlement batch {NOBODY}", "batch"),
}


@pytest.mark.parametrize("lock", [False, True], ids=["plain", "locked"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_an_unknown_public_id_is_the_kinds_own_error(
    uow: UnitOfWork, kind: str, lock: bool
) -> None:
    error, message, detail = KINDS[kind]
    with uow:
        repository = getattr(uow, kind)
        assert repository.find(NOBODY, lock=lock) is None
        with pytest.raises(error) as raised:
            repository.by_public_id(NOBODY, lock=lock)
    assert (raised.value.message, raised.value.details) == (message, {detail: str(NOBODY)})


def test_an_unknown_center_says_so_as_before(uow: UnitOfWork) -> None:
    with uow, pytest.raises(UnknownCenter) as center:
        uow.centers.by_code("999999")
    assert (center.value.message, center.value.details) == (
        "no service center with code '999999'",
        {"center": "999999"},
    )


def test_a_locked_lookup_reads_for_update_and_a_plain_one_does_not(
    uow: UnitOfWork, database: Database, backend: str
) -> None:
    factories.guangdong(uow)
    programme = factories.programme(uow)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with uow:
            plain = uow.programmes.by_public_id(programme.id)
            locked = uow.programmes.by_public_id(programme.id, lock=True)
            assert plain is locked and locked.public_id == programme.id
            assert uow.vouchers.find_by_code("NOSUCHCODE", lock=True) is None
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3
    for_update = ["FOR UPDATE" in s.upper() for s in reads]
    assert for_update == ([False, True, True] if backend == "postgresql" else [False] * 3)
