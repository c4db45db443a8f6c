"""Alembic environment: the URL comes from the application's configuration.

`flask --app wsgi db upgrade` passes it in `config.attributes`; plain `alembic` commands build
the app to read it, so `VOUCHER_DATABASE_URL` decides either way.
"""

from __future__ import annotations

from alembic import context

import voucher_app.ledger.tables  # noqa: F401 - the ledger's tables, declared on Base
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import Base


def _database_url() -> str:
    url = context.config.attributes.get("database_url")
    if url:
        return str(url)
    from voucher_app import create_app  # noqa: PLC0415 - only plain `alembic` runs need the app

    app = create_app()
    return str(app.extensions["voucher_app"].database.url)


def run_migrations() -> None:
    url = _database_url()
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    # The application's engine: on SQLite it also makes each migration one real transaction.
    database = Database(url, pool_size=1)
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    database.dispose()


run_migrations()
