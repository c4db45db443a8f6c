"""Guangdong's SME service-voucher ledger.

`create_app` is the only place that chooses concrete parts (database, clock, keyring) and wires
extensions, blueprints and commands. It imports Flask only when called, so the pure parts of the
package (`ledger.merkle`, `signing.note`, the auditor) import without Flask or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(
    config: str | type | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """Build the application.

    `config` is a configuration class or its name (development, testing, production); without
    it, `VOUCHER_ENV` decides. `VOUCHER_*` variables then apply, and `overrides` last.
    """
    from voucher_app.app import build_app  # noqa: PLC0415 - keeps Flask out of pure imports

    return build_app(config, overrides or {})
