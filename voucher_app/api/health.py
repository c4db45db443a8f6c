"""Liveness, readiness and metrics, for the operators' machines.

- `/healthz` (liveness): 200 while the process serves and the database answers.
- `/readyz` (readiness): 200 when this instance should get traffic, else 503, with each check
  in the body: the database answers; the signing keys are usable; the sequencer keeps up
  (lag <= READY_MAX_SEQUENCER_LAG); a checkpoint is signed in time while entries wait for one
  (<= READY_MAX_CHECKPOINT_AGE_SECONDS); and the log is not behind its published checkpoint.
  Two checks are reported with `advisory: true` and do not make the instance unready: the
  witness check (the latest checkpoint has its quorum of cosignatures: a witness that is down
  must not take the service down with it; its absence is on `/metrics` and in the log), and the
  working-day calendar (it knows the holidays far enough ahead for the longest notice a
  programme sets, for another CALENDAR_WARNING_DAYS days: else approvals with a notice will
  soon be refused).
- `/metrics`: Prometheus metrics (`voucher_app.metrics`), for admins; absent (404) with
  METRICS_ENABLED false.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from voucher_app import metrics
from voucher_app.domain.errors import KeyringError
from voucher_app.domain.policy import Action
from voucher_app.http.policy import requires
from voucher_app.services import ledger, notice, witnessing
from voucher_app.wiring import current

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, description="Service health")
metrics_blp = Blueprint("metrics", __name__, description="Prometheus metrics")
#: How long a check of the signing keys is trusted (seconds): it reads the key files.
KEYS_CHECK_SECONDS = 30.0
KEYS_EXTENSION = "voucher_app.readiness.keys"
#: Days before approvals with a notice would be refused (the working-day calendar lacking the
#: next year) that readiness warns: the State Council publishes a year's holidays in November.
CALENDAR_WARNING_DAYS = 30


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database does not answer")
    @requires(Action.READ_PUBLIC)
    def get(self) -> tuple[dict[str, Any], int]:
        """Liveness: the process serves (and the database answers)."""
        if not current().database.answers():
            return {"status": "unavailable", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}, 200


# --- readiness ----------------------------------------------------------------------------------


class CheckSchema(Schema):
    ok = fields.Boolean(required=True)
    detail = fields.String(required=True, metadata={"example": "ok"})
    value = fields.Float(allow_none=True, metadata={"description": "what was measured"})
    limit = fields.Float(metadata={"description": "the most `value` may be"})
    advisory = fields.Boolean(
        metadata={"description": "reported only: a failing advisory check leaves `ready`"}
    )


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ready", "not_ready"]})
    checks = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(CheckSchema),
        required=True,
        metadata={
            "description": "database, keys, sequencer_lag, checkpoint_age, "
            "published_checkpoint; advisory: witness_quorum, working_calendar"
        },
    )


def _check(ok: bool, detail: str, **measured: float | None) -> dict[str, Any]:
    return {"ok": ok, "detail": detail, **measured}


class _KeysCheck:
    """The keyring's `check()`, its outcome kept for `KEYS_CHECK_SECONDS`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: tuple[float, str | None] | None = None  # (when, the failure or None)

    def failure(self) -> str | None:
        with self.lock:
            if self.last is None or time.monotonic() - self.last[0] >= KEYS_CHECK_SECONDS:
                try:
                    current().keyring.check()
                except KeyringError as exc:
                    log.warning("readiness: the signing keys are not usable: %s", exc.message)
                    self.last = (time.monotonic(), exc.message)
                else:
                    self.last = (time.monotonic(), None)
            return self.last[1]


def _keys() -> dict[str, Any]:
    checker: _KeysCheck = current_app.extensions.setdefault(KEYS_EXTENSION, _KeysCheck())
    if checker.failure() is not None:  # the message names paths: it stays in the log
        return _check(False, "the signing keys are not usable (see the log)")
    return _check(True, "ok")


def _ledger_checks(limits: dict[str, float]) -> dict[str, dict[str, Any]]:
    try:
        state = metrics.database_state()
    except Exception:
        log.warning("readiness: the ledger's state could not be read", exc_info=True)
        failed = _check(False, "could not be read")
        return {"sequencer_lag": failed, "checkpoint_age": failed}
    lag, lag_limit = state.sequencer_lag, limits["lag"]
    waited, age_limit = state.waiting_for_checkpoint, limits["age"]
    return {
        "sequencer_lag": _check(
            state.sequencing_keeps_up(lag_limit),
            "ok" if state.sequencing_keeps_up(lag_limit) else "entries wait to be sequenced",
            value=lag,
            limit=lag_limit,
        ),
        "checkpoint_age": (
            _check(True, "no entry waits for a checkpoint", value=None, limit=age_limit)
            if waited is None
            else _check(
                state.checkpoints_keep_up(age_limit),
                f"{state.uncheckpointed} entries wait for a checkpoint",
                value=round(waited, 1),
                limit=age_limit,
            )
        ),
    }


def _published_check() -> dict[str, Any]:
    """Whether the log is behind its published checkpoint (`services.ledger.behind_published`)."""
    try:
        behind = ledger.behind_published(current().uow())
    except Exception:
        log.warning("readiness: the published checkpoint could not be compared", exc_info=True)
        return _check(False, "could not be compared")
    if behind is None:
        return _check(True, "ok")
    size, published = behind
    return _check(
        False, f"the log holds {size} entries, its published checkpoint {published}", value=size
    )


def _first_line(message: str, limit: int = 120) -> str:
    """A witness's answer as the public check shows it: its first line, cut short."""
    line = message.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _witness_check() -> dict[str, Any]:
    """Whether the latest checkpoint carries its quorum of witness cosignatures."""
    policy = current().witnesses
    try:
        standing = witnessing.standing(current().uow(), policy)
    except Exception:
        log.warning("readiness: the cosignatures could not be read", exc_info=True)
        return {**_check(False, "could not be read"), "advisory": True}
    if standing is None:
        detail = "no witnesses configured" if not policy.witnesses else "no checkpoint yet"
        return {**_check(True, detail), "advisory": True}
    cosigners = ", ".join(name for name, _ in standing.cosigners) or "none"
    refusals = "; ".join(
        f"{name}: {status} {_first_line(message)}"
        for name, (_, status, message) in standing.contacts.items()
        if name not in dict(standing.cosigners)
    )
    detail = (
        f"checkpoint {standing.tree_size}: {len(standing.cosigners)} of a quorum of "
        f"{standing.quorum} cosignatures, by {cosigners}"
        + (f" (not: {refusals})" if refusals else "")
    )
    check = _check(standing.met, detail, value=len(standing.cosigners))
    return {**check, "advisory": True}


def _calendar_check() -> dict[str, Any]:
    """Whether the working-day calendar lasts the longest notice a programme sets for another
    CALENDAR_WARNING_DAYS: past that, approvals with a notice are refused."""
    try:
        runway = notice.calendar_runway(current().uow())
    except Exception:
        log.warning("readiness: the programmes' notice periods could not be read", exc_info=True)
        return {**_check(False, "could not be read"), "advisory": True}
    if runway is None:
        return {**_check(True, "no programme sets a notice period"), "advisory": True}
    refused = (
        f"approvals with a notice of {runway.notice_working_days} working days are refused from "
        f"{runway.first_refused.isoformat()}"
    )
    known = runway.known_until.isoformat() if runway.known_until is not None else "no day"
    ok = runway.days_left > CALENDAR_WARNING_DAYS
    detail = f"the holidays are known up to {known}; {refused}" + (
        "" if ok else ": add the next year's arrangement to the calendar (docs/operations.md)"
    )
    return {**_check(ok, detail, value=runway.days_left), "advisory": True}


def readiness(app: Flask) -> dict[str, dict[str, Any]]:
    """Each readiness check's outcome, by name."""
    limits = {
        "lag": float(app.config["READY_MAX_SEQUENCER_LAG"]),
        "age": float(app.config["READY_MAX_CHECKPOINT_AGE_SECONDS"]),
    }
    checks = {"keys": _keys()}
    if current().database.answers():
        checks["database"] = _check(True, "ok")
        checks.update(_ledger_checks(limits))
        checks["published_checkpoint"] = _published_check()
        checks["witness_quorum"] = _witness_check()
        checks["working_calendar"] = _calendar_check()
    else:
        unreachable = _check(False, "the database does not answer")
        checks.update(
            dict.fromkeys(
                ("database", "sequencer_lag", "checkpoint_age", "published_checkpoint"),
                unreachable,
            )
        )
    return checks


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, schema=ReadySchema, description="A check failed: see `checks`")
    @requires(Action.READ_PUBLIC)
    def get(self) -> tuple[dict[str, Any], int]:
        """Readiness: whether this instance should get traffic, and each check that decides
        it. Public, like `/healthz`, for load balancers; the body names no paths or keys."""
        checks = readiness(current_app)
        if all(check["ok"] or check.get("advisory") for check in checks.values()):
            return {"status": "ready", "checks": checks}, 200
        return {"status": "not_ready", "checks": checks}, 503


# --- metrics ------------------------------------------------------------------------------------


@metrics_blp.route("/metrics")
class Metrics(MethodView):
    @metrics_blp.doc(
        responses={
            "200": {
                "description": "The metrics, in the Prometheus text format (version 0.0.4)",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        }
    )
    @requires(Action.READ_CENTER)
    def get(self) -> Response:
        """Prometheus metrics: requests, claims, redemptions and refusals, job runs, and the
        ledger's, the jobs' and the queues' state read from the database.

        Who may read it: admins only — `read_center` over the whole system, which no center
        role has — with a read-only token sufficing. Metrics are operational data (routes,
        volumes, host names of job holders), not public, so the endpoint does not rely on a
        firewall: Prometheus scrapes with the bearer token of an admin's read-only API token
        (`flask --app wsgi users token <admin-id> --name prometheus --scope read`; in the scrape
        config, `authorization: {credentials_file: …}`). Off (404) with METRICS_ENABLED false."""
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)
