"""Job leases: a row per scheduled job saying which process may run it until when.

Several scheduler processes may fire the same job at the same moment; the one that takes the
lease runs it, the others skip that run. A lease expires on its own, so a crashed holder does not
stop the job for longer than the lease lasts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update

from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import insert_ignoring_duplicates
from voucher_app.persistence.models import JobLease
from voucher_app.persistence.uow import transaction


@transaction
def acquire(uow: UnitOfWork, name: str, holder: str, duration: timedelta) -> bool:
    """Take or renew the lease on `name` for `holder`; False while someone else holds it."""
    now = uow.clock.now()
    taken = uow.session.execute(
        update(JobLease)
        .where(JobLease.name == name, or_(JobLease.expires_at <= now, JobLease.holder == holder))
        .values(holder=holder, expires_at=now + duration)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return True
    before = uow.session.get(JobLease, name)
    if before is not None:
        return False
    insert_ignoring_duplicates(
        uow.session,
        JobLease.__table__,  # type: ignore[arg-type]
        [{"name": name, "holder": holder, "expires_at": now + duration}],
        key=["name"],
    )
    uow.session.flush()
    lease = uow.session.get(JobLease, name, populate_existing=True)
    return lease is not None and lease.holder == holder
