"""The migrations are the schema: they run up and down on both databases and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

import voucher_app.ledger.tables  # noqa: F401 - the ledger's tables, declared on Base
from tests.harness import Databases
from voucher_app.persistence import migrate
from voucher_app.persistence.models import Base


def test_there_is_a_single_head() -> None:
    assert len(migrate.heads()) == 1


def test_upgrade_from_empty_to_head_and_back_down(databases: Databases) -> None:
    url = databases.empty()
    engine = create_engine(url, poolclass=NullPool)
    migrate.upgrade(url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    migrate.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_describe_exactly_what_the_migrations_build(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
