"""The unit of work as the services see it: persistence's, holding this package's journal.

`persistence.uow` knows nothing of the ledger: its unit of work is generic in the journal it
builds for each transaction and in the published-checkpoint file it carries. These aliases name
the ledger's own types there, so `uow.journal.post(...)` and `uow.published` are typed. The
wiring builds them (`wiring.unit_of_work`, `wiring.held_unit_of_work`), handing `Journal` in.
"""

from __future__ import annotations

from typing import TypeAlias

from voucher_app.ledger.journal import Journal
from voucher_app.ledger.published import PublishedFile
from voucher_app.persistence import uow

UnitOfWork: TypeAlias = uow.UnitOfWork[Journal, PublishedFile]
HeldUnitOfWork: TypeAlias = uow.HeldUnitOfWork[Journal, PublishedFile]
