"""Failed sign-ins kept per user name, whether or not an account has it, so that a lockout
answers an unknown name as it answers a real one (`login_failures`).

Existing counters are brought along: each account's failed sign-ins and running lock move to
the new table, and the account's own columns (`users.failed_logins`, `users.locked_until`),
which nothing reads any more, are cleared. Going down moves them back.

Revision ID: 0015_login_failures
Revises: 0014_operations
Create Date: 2026-12-08
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0015_login_failures"
down_revision = "0014_operations"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
#: voucher_app.domain.users.FAILURES_KEPT_FOR when this migration was written.
KEPT_FOR = timedelta(hours=1)

users = sa.table(
    "users",
    sa.column("username", sa.String),
    sa.column("failed_logins", sa.Integer),
    sa.column("locked_until", MOMENT),
)
failures = sa.table(
    "login_failures",
    sa.column("username", sa.String),
    sa.column("failures", sa.Integer),
    sa.column("locked_until", MOMENT),
    sa.column("expires_at", MOMENT),
)


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive text: times are stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _stored(moment: datetime, dialect: str) -> datetime:
    return moment.replace(tzinfo=None) if dialect == "sqlite" else moment


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", MOMENT, nullable=True),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.CheckConstraint("failures >= 0", name="failures_not_negative"),
    )
    op.create_index("ix_login_failures_expires_at", "login_failures", ["expires_at"])

    bind = op.get_bind()
    dialect = bind.dialect.name
    now = datetime.now(UTC)
    rows = []
    counted = sa.or_(users.c.failed_logins > 0, users.c.locked_until.is_not(None))
    for username, failed, locked_until in bind.execute(
        sa.select(users.c.username, users.c.failed_logins, users.c.locked_until).where(counted)
    ):
        until = _utc(locked_until)
        if until is not None and until <= now:
            until = None
        if until is None and not failed:
            continue
        expires = until if until is not None else now + KEPT_FOR
        rows.append(
            {
                "username": username,
                "failures": failed,
                "locked_until": None if until is None else _stored(until, dialect),
                "expires_at": _stored(expires, dialect),
            }
        )
    if rows:
        op.bulk_insert(failures, rows)
    bind.execute(sa.update(users).where(counted).values(failed_logins=0, locked_until=None))


def downgrade() -> None:
    bind = op.get_bind()
    now = _stored(datetime.now(UTC), bind.dialect.name)
    kept = bind.execute(
        sa.select(failures.c.username, failures.c.failures, failures.c.locked_until).where(
            failures.c.expires_at > now
        )
    ).all()
    for username, failed, locked_until in kept:
        bind.execute(
            sa.update(users)
            .where(users.c.username == username)
            .values(failed_logins=failed, locked_until=locked_until)
        )
    op.drop_index("ix_login_failures_expires_at", table_name="login_failures")
    op.drop_table("login_failures")
