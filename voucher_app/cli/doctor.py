"""`flask --app wsgi doctor`: what an operator runs after an install, an upgrade or a restore,
before the service takes traffic — every reason it would not start, refuse to sign or report
itself not ready, each with what to do about it.

A configuration the app cannot be built from never gets here: `wsgi.py` already says which
variable is wrong, in one line. The checks here need the built app: the database (reachable,
migrated to the head this code ships), the signing keys (present, decrypted with the
passphrase given), the clocks (this machine's against the database's, and against the last
checkpoint it signed), and the ledger (not behind its published checkpoint; sequenced and
signed in time, which says whether the job runner is running).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from voucher_app import metrics
from voucher_app.domain.errors import VoucherError
from voucher_app.ledger import published
from voucher_app.persistence import migrate
from voucher_app.services import ledger
from voucher_app.wiring import ConfigurationError, Wiring, current

#: Clocks further apart than this (seconds) sign checkpoints and expire vouchers at the wrong
#: times; one second more on SQLite, whose clock reads whole seconds.
MAX_CLOCK_SKEW = 2.0


@dataclass(frozen=True)
class Finding:
    """One check's outcome: what was found and, when it is wrong, what to do."""

    check: str
    ok: bool
    said: str
    fix: str = ""


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the configuration, database, keys, clock, ledger and jobs; say what to fix.
    Exit status 1 when something is wrong."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    findings = examine(app)
    for finding in findings:
        click.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.check:<13} {finding.said}")
        if finding.fix:
            click.echo(f"{'':<19} fix: {finding.fix}")
    if not all(finding.ok for finding in findings):
        raise SystemExit(1)


def examine(app: Flask) -> list[Finding]:
    """Run every check that can run: the clock and the ledger need a migrated database."""
    parts = current()
    findings = [configuration(app, parts), database(parts), keys(parts)]
    if findings[1].ok:
        findings += [clock(parts), log(parts), jobs(app, parts)]
    return findings


def configuration(app: Flask, parts: Wiring) -> Finding:
    environment = "production" if app.config.get("PRODUCTION") else "development"
    url = make_url(parts.database.url).render_as_string(hide_password=True)
    said = (
        f"{environment} settings; database {url}; keys in {parts.keyring.directory}; "
        f"published checkpoint kept in {parts.checkpoint_file}"
    )
    return Finding("configuration", True, said)


def database(parts: Wiring) -> Finding:
    try:
        at = migrate.applied(parts.database.engine)
    except SQLAlchemyError as error:
        return Finding(
            "database",
            False,
            f"does not answer: {type(getattr(error, 'orig', None) or error).__name__}",
            "check VOUCHER_DATABASE_URL and that the database server runs",
        )
    heads = migrate.heads()
    if sorted(at) != sorted(heads):
        return Finding(
            "database",
            False,
            f"at migration {', '.join(at) or 'none'}, this code needs {', '.join(heads)}",
            "run `flask --app wsgi db upgrade`",
        )
    return Finding("database", True, f"answers, at migration {', '.join(at)} (the head)")


def keys(parts: Wiring) -> Finding:
    try:
        parts.require_keys()
    except ConfigurationError as refused:
        message = str(refused)
        said, _, fix = message.partition(": run ")
        return Finding("keys", False, said, f"run {fix}" if fix else "")
    return Finding("keys", True, "the signing keys load")


def clock(parts: Wiring) -> Finding:
    now = datetime.now(UTC)
    skew = (parts.database.server_time() - now).total_seconds()
    limit = MAX_CLOCK_SKEW + (1 if parts.database.is_sqlite else 0)
    if abs(skew) > limit:
        return Finding(
            "clock",
            False,
            f"this machine's clock and the database's differ by {skew:+.1f} s",
            "keep both in time with NTP (`timedatectl set-ntp true`)",
        )
    try:
        signed_at = ledger.latest_checkpoint(parts.uow()).created_at
    except VoucherError:  # nothing signed yet
        return Finding("clock", True, f"within {abs(skew):.1f} s of the database's")
    if (ahead := (signed_at - now).total_seconds()) > limit:
        return Finding(
            "clock",
            False,
            f"the last checkpoint was signed {ahead:.0f} s in this machine's future",
            "set the clock right before the job runner signs again",
        )
    return Finding("clock", True, f"within {abs(skew):.1f} s of the database's")


def log(parts: Wiring) -> Finding:
    try:
        behind = ledger.behind_published(parts.uow())
    except VoucherError as refused:  # the file is not a checkpoint of ours
        return Finding(
            "ledger",
            False,
            f"the published-checkpoint file cannot be trusted: {refused.message}",
            f"restore {parts.checkpoint_file} from the keys' backup",
        )
    if behind is None:
        state = metrics.read_state(parts.uow())
        signed = (
            f"the last checkpoint covers {state.checkpoint_size}, signed "
            f"{state.checkpoint_age:.0f} s ago"
            if state.checkpoint_age is not None
            else "no checkpoint signed yet"
        )
        return Finding(
            "ledger",
            True,
            f"{state.tree_size} entries in the log; {signed}; not behind the published one",
        )
    said = published.describe_gap(*behind)
    return Finding(
        "ledger",
        False,
        said,
        "restore a newer dump, or `flask --app wsgi ledger import-tail DIR` from an export "
        "(docs/restore.md); the service signs nothing until then",
    )


def jobs(app: Flask, parts: Wiring) -> Finding:
    state = metrics.read_state(parts.uow())
    lag, age = state.sequencer_lag, state.checkpoint_age
    keeping_up = state.sequencing_keeps_up(app.config["READY_MAX_SEQUENCER_LAG"])
    if not keeping_up or not state.checkpoints_keep_up(
        app.config["READY_MAX_CHECKPOINT_AGE_SECONDS"]
    ):
        return Finding(
            "jobs",
            False,
            f"{lag} entries wait for the log, {state.uncheckpointed} for a checkpoint "
            f"(the last signed {age or 0:.0f} s ago)",
            "start the job runner: `flask --app wsgi jobs run` (deploy/systemd)",
        )
    holders = sorted({holder for _, holder in state.leases})
    running = f"; job runner(s): {', '.join(holders)}" if holders else ""
    return Finding(
        "jobs",
        True,
        f"{lag} entries wait for the log, {state.uncheckpointed} for a checkpoint" + running,
    )
