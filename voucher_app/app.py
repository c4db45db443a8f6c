"""Builds the Flask application: configuration, wiring, API, commands, logging."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask
from flask import logging as flask_logging

import config as config_module
from voucher_app import api, background, observability, web, wiring
from voucher_app.cli import commands
from voucher_app.wiring import ConfigurationError

__all__ = ["ConfigurationError", "build_app"]


def build_app(config: str | type | None, overrides: Mapping[str, Any]) -> Flask:
    app = Flask("voucher_app", instance_relative_config=True)
    app.config.from_object(_config_class(config))
    app.config.from_prefixed_env("VOUCHER")
    app.config.update(overrides)
    _configure_logging(app)
    parts = wiring.Wiring.from_config(app.config, app.instance_path)
    if app.config["DATABASE_URL"] is None:
        os.makedirs(app.instance_path, exist_ok=True)
    if _is_production(app):
        _refuse_unsafe_production(app)
        if click.get_current_context(silent=True) is None:  # served, not a command
            parts.require_keys()
    wiring.init_app(app, parts)
    background.init_app(app)
    api.init_app(app)
    web.init_app(app)
    commands.init_app(app)
    return app


def _config_class(config: str | type | None) -> type:
    if isinstance(config, type):
        return config
    name = config or os.environ.get("VOUCHER_ENV", "production")
    try:
        return config_module.CONFIGS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown VOUCHER_ENV {name!r}; use one of {sorted(config_module.CONFIGS)}"
        ) from None


def _is_production(app: Flask) -> bool:
    return bool(app.config.get("PRODUCTION"))


def _refuse_unsafe_production(app: Flask) -> None:
    for name in ("SECRET_KEY", "PARTY_MATCHING_KEY"):
        secret = app.config.get(name)
        if not secret or secret in config_module.DEFAULT_SECRET_KEYS or len(secret) < 32:
            raise ConfigurationError(f"set VOUCHER_{name} to a random value of 32+ characters")
    if not app.config.get("DATABASE_URL"):
        raise ConfigurationError("set VOUCHER_DATABASE_URL (PostgreSQL) in production")
    if app.config.get("ALLOW_PLAIN_KEYS"):
        raise ConfigurationError("VOUCHER_ALLOW_PLAIN_KEYS cannot be set in production")
    if not app.config.get("KEY_PASSPHRASE"):
        raise ConfigurationError("set VOUCHER_KEY_PASSPHRASE: production keys are encrypted")


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id while a request
    is handled, an access line's fields, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = observability.record_request_id(record)
        if request_id != observability.NO_REQUEST:
            body["request_id"] = request_id
        for field in observability.ACCESS_FIELDS:
            if field in record.__dict__:
                body[field] = record.__dict__[field]
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


class _PlainFormatter(logging.Formatter):
    """Flask's plain format, with the request id (`-` outside a request)."""

    def __init__(self) -> None:
        super().__init__("[%(asctime)s] %(levelname)s in %(module)s [%(request_id)s]: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = observability.record_request_id(record)
        return super().format(record)


def _configure_logging(app: Flask) -> None:
    """Every record carries the request id (`observability`); production logs JSON lines at
    INFO to stderr (one access line per request among them), otherwise Flask's own handler
    writes them plain."""
    observability.install_log_context()
    if app.config.get("JSON_LOGS"):
        handler = logging.StreamHandler()
        handler.setFormatter(_JsonFormatter())
        logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    else:
        flask_logging.default_handler.setFormatter(_PlainFormatter())
