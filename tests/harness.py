"""Test infrastructure shared by the fixtures and the tests: throwaway databases, constants."""

from __future__ import annotations

import itertools
import os
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from voucher_app.persistence import migrate

POSTGRES_ENV = "VOUCHER_TEST_POSTGRES_URL"
ORIGIN = "test.gd-sme-vouchers.example/ledger"
START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
_numbers = itertools.count()


class PostgresServer:
    """Creates and drops throwaway databases on the server behind VOUCHER_TEST_POSTGRES_URL."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin: Engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"vt_{os.getpid()}"

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{next(_numbers)}"
        source = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}{source}"))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


class Databases:
    """Hands out fresh databases of one backend, empty or migrated to head."""

    def __init__(self, backend: str, folder: Path, postgres: PostgresServer | None) -> None:
        self.backend = backend
        self.folder = folder
        self.postgres = postgres
        self.created: list[str] = []
        self._template: str | None = None

    def empty(self) -> str:
        if self.postgres is None:
            return f"sqlite:///{self.folder / f'db{next(_numbers)}.sqlite3'}"
        name = self.postgres.create()
        self.created.append(name)
        return self.postgres.url_for(name)

    def migrated(self) -> str:
        if self._template is None:
            self._template = self.empty()
            migrate.upgrade(self._template)
        if self.postgres is None:
            path = self.folder / f"db{next(_numbers)}.sqlite3"
            shutil.copyfile(make_url(self._template).database or "", path)
            return f"sqlite:///{path}"
        template_name = make_url(self._template).database
        name = self.postgres.create(template=template_name)
        self.created.append(name)
        return self.postgres.url_for(name)

    def copy(self, url: str) -> str:
        """A copy of the database at `url`, as a dump and restore would make it (PostgreSQL:
        its engines must hold no connection to it while it is copied)."""
        if self.postgres is None:
            path = self.folder / f"db{next(_numbers)}.sqlite3"
            shutil.copyfile(make_url(url).database or "", path)
            return f"sqlite:///{path}"
        name = self.postgres.create(template=make_url(url).database)
        self.created.append(name)
        return self.postgres.url_for(name)

    def drop_all(self) -> None:
        if self.postgres is not None:
            for name in reversed(self.created):
                self.postgres.drop(name)


APPEND_ONLY_TABLES = (
    "journal_entries",
    "journal_postings",
    "ledger_log_leaves",
    "ledger_log_nodes",
    "ledger_checkpoints",
    "spend_facts",
)


def disable_append_only_triggers(engine: Engine) -> None:
    """Do what a database owner could: switch off the triggers that keep the journal append-only
    (to show that verification still catches what is then changed)."""
    with engine.begin() as connection:
        for table in APPEND_ONLY_TABLES:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_change"))
            else:
                for action in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER {table}_no_{action}"))


def assert_every_path_taken(seen: Counter[str], paths: set[str]) -> None:
    """A state machine's runs reached every path it has. Checked on CI's fixed sample
    (`HYPOTHESIS_PROFILE=ci` derandomizes): a random sample only usually reaches them all, and
    missing one is no fault of the code under test."""
    if settings().derandomize:
        assert set(seen) >= paths, (paths - set(seen), seen)
