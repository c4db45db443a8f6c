"""The demo loads whenever it is run: its programme covers the year the clock says, so its
vouchers are claimed in any year, and it refuses a database that already holds data."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import DatabaseNotEmpty
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import demo, programmes, vouchers
from voucher_app.services.vouchers import VoucherSigner


def test_the_demo_programme_runs_in_the_year_it_is_loaded(
    uow: UnitOfWork,
    clock: FrozenClock,
    signer: CheckpointSigner,
    voucher_signer: VoucherSigner,
) -> None:
    clock.advance(timedelta(days=5 * 365))
    year = clock.now().year
    summary = demo.load_demo(uow, signer, voucher_signer)
    programme = programmes.get_programme(uow, uuid.UUID(summary.programme))
    assert (programme.period_start, programme.period_end) == (date(year, 1, 1), date(year, 12, 31))
    issued = vouchers.list_vouchers(uow)
    assert len(issued) == len(demo.VOUCHER_HOLDERS)
    assert summary.checkpoint_size == summary.entries == demo.ENTRIES
    with pytest.raises(DatabaseNotEmpty):
        demo.load_demo(uow, signer, voucher_signer)
