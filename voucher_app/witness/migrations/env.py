"""Alembic environment of the witness's own database (`voucher-witness migrate`)."""

from __future__ import annotations

from alembic import context

from voucher_app.persistence.database import Database
from voucher_app.witness.state import VERSION_TABLE, metadata


def run_migrations() -> None:
    database = Database(str(context.config.attributes["database_url"]), pool_size=1)
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    database.dispose()


run_migrations()
