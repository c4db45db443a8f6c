"""Command-line entry points (`flask --app wsgi …`): parse, call one service, print.

db        upgrade | downgrade | heads | revision      the schema, through Alembic
keys      init | rotate | list                        the Ed25519 keys in keys/
centers   import | list                               the service-center hierarchy
ledger    sequence | checkpoint | verify | export | import-tail | reverse
demo      load                                        demo data for an empty database
jobs      run                                         the scheduler in this process
serve                                                 development server + scheduler
doctor                                                what would stop the service, and the fix
"""

from __future__ import annotations

import functools
import getpass
import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from werkzeug.serving import run_simple

from voucher_app import doctor, jobs, metrics
from voucher_app.domain.actors import SYSTEM, Actor, Role
from voucher_app.domain.errors import VoucherError
from voucher_app.domain.money import format_yuan
from voucher_app.ledger import published
from voucher_app.persistence import migrate
from voucher_app.services import bulk, centers, demo, ledger, vouchers
from voucher_app.signing.keyring import KeyPurpose
from voucher_app.signing.qr import qr_png, qr_svg
from voucher_app.wiring import ConfigurationError, current

P = ParamSpec("P")
T = TypeVar("T")

db_cli = AppGroup("db", help="Apply and write database migrations.")
keys_cli = AppGroup("keys", help="Create, rotate and list signing keys.")
centers_cli = AppGroup("centers", help="The service-center hierarchy.")
ledger_cli = AppGroup("ledger", help="Sequence, sign, verify and export the ledger.")
vouchers_cli = AppGroup("vouchers", help="Issue, verify, revoke and expire vouchers.")
demo_cli = AppGroup("demo", help="Demo data.")
jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


def domain_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Print a domain error as `code: message` and exit 1, instead of a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except VoucherError as error:
            raise click.ClickException(f"{error.code}: {error.message}") from error

    return run


def cli_actor() -> Actor:
    """Commands act as the operating-system user who runs them."""
    return Actor(f"cli-{getpass.getuser()}"[:64], Role.ADMIN)


def database_url() -> str:
    return current().database.url


# --- db -------------------------------------------------------------------------------------


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` empties the database)."""
    migrate.downgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("heads")
def db_heads() -> None:
    for head in migrate.heads():
        click.echo(head)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True, help="Start from the models' differences.")
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration file."""
    migrate.revision(database_url(), message, autogenerate=autogenerate)


# --- keys -----------------------------------------------------------------------------------


@keys_cli.command("init")
@domain_errors
def keys_init() -> None:
    """Create the ledger and voucher keys that do not exist yet."""
    parts = current()
    created = parts.keyring.init(parts.clock)
    for record in created:
        click.echo(f"created {record.purpose} key {record.kid} in {parts.keyring.directory}")
    if not created:
        click.echo(f"keys already present in {parts.keyring.directory}")


@keys_cli.command("rotate")
@click.argument("purpose", type=click.Choice([p.value for p in KeyPurpose]))
@domain_errors
def keys_rotate(purpose: str) -> None:
    """Add a new active key; the old one stays to verify what it signed."""
    parts = current()
    record = parts.keyring.create(KeyPurpose(purpose), parts.clock)
    click.echo(f"new active {purpose} key {record.kid}")


@keys_cli.command("destroy")
@click.argument("kid")
@click.confirmation_option(
    prompt="Nothing this key signed will verify again (vouchers need reissuing). Destroy it?"
)
@domain_errors
def keys_destroy(kid: str) -> None:
    """Destroy a retired key that leaked: delete its file and stop trusting what it signed."""
    record = current().keyring.destroy(kid)
    click.echo(f"destroyed {record.purpose} key {record.kid}")


@keys_cli.command("list")
@domain_errors
def keys_list() -> None:
    for record in current().keyring.records():
        click.echo(f"{record.purpose:8} {record.status:8} {record.kid}  {record.created_at}")
    for verifier in current().ledger_verifiers():
        click.echo(f"ledger vkey: {verifier.vkey}")


# --- centers --------------------------------------------------------------------------------


@centers_cli.command("import")
@click.argument("csv_file", type=click.File(encoding="utf-8-sig"), required=False)
@domain_errors
def centers_import(csv_file: Any) -> None:
    """Import centers from CSV_FILE (default: Guangdong's, shipped with the package)."""
    specs = centers.read_center_csv(csv_file) if csv_file else centers.guangdong_centers()
    result = centers.import_centers(current().uow(), specs)
    click.echo(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged")


@centers_cli.command("list")
@click.argument("code", default="440000")
@domain_errors
def centers_list(code: str) -> None:
    """List center CODE and every center below it."""
    for center in centers.list_subtree(current().uow(), code):
        indent = {"province": "", "city": "  ", "county": "    "}[center.level]
        click.echo(f"{indent}{center.code}  {center.name_zh}  {center.name_en}")


# --- ledger ---------------------------------------------------------------------------------


@ledger_cli.command("sequence")
@domain_errors
def ledger_sequence() -> None:
    """Move committed entries into the Merkle log now."""
    click.echo(f"{ledger.sequence_log(current().uow())} entries sequenced")


@ledger_cli.command("checkpoint")
@domain_errors
def ledger_checkpoint() -> None:
    """Sequence, then sign a checkpoint of the current tree if it grew."""
    parts = current()
    ledger.sequence_log(parts.uow())
    signed = ledger.sign_checkpoint(parts.uow(), parts.checkpoint_signer())
    if signed is None:
        click.echo("no new entries since the last checkpoint")
    else:
        click.echo(signed.note, nl=False)


@ledger_cli.command("verify")
@domain_errors
def ledger_verify() -> None:
    """Recompute leaves, roots, signatures, balances and invariants, and check the log against
    its published checkpoint; exit 1 on the first fault."""
    parts = current()
    verifiers = parts.ledger_verifiers()
    gap = ledger.behind_published(parts.uow())
    if gap is not None:
        click.echo(
            f"FAIL {published.describe_gap(*gap)}: "
            "restore a newer dump or `ledger import-tail DIR`",
            err=True,
        )
    if sys.stdout.isatty():
        with click.progressbar(length=1, label="verifying", show_pos=True) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            report = ledger.verify_ledger(parts.uow(), verifiers, progress)
    else:
        report = ledger.verify_ledger(parts.uow(), verifiers)
    if report.failure is not None:
        click.echo(f"FAIL {report.failure}", err=True)
    if gap is not None or report.failure is not None:
        sys.exit(1)
    size = report.latest.size if report.latest else 0
    unsigned = report.entries - size
    click.echo(
        f"OK: {report.entries} entries, {len(report.checkpoints)} checkpoints "
        f"(latest covers {size}), balances agree"
        + (f"; {unsigned} entries not yet under a checkpoint" if unsigned else "")
    )


@ledger_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@domain_errors
def ledger_export(directory: Path) -> None:
    """Write entries.jsonl, leaf-hashes.bin, checkpoints/ and ledger.vkey to DIRECTORY."""
    parts = current()
    vkeys = [v.vkey for v in parts.ledger_verifiers()]
    count = ledger.export_ledger(parts.uow(), directory, vkeys)
    click.echo(f"exported {count} entries to {directory}")


@ledger_cli.command("import-tail")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@domain_errors
def ledger_import_tail(directory: Path) -> None:
    """Restore the published entries a restored log lacks from DIRECTORY, a `ledger export`
    (or a mirror's copy) taken before the restore."""
    parts = current()
    done = ledger.import_tail(parts.uow(), directory, parts.ledger_verifiers())
    if done.start == done.end:
        click.echo(f"the log reaches its published checkpoint ({done.end} entries): nothing to do")
        return
    click.echo(
        f"entries {done.start} to {done.end - 1} restored from {directory} "
        f"({done.written} written, {done.requeued} already held); the log again reaches its "
        f"published checkpoint of {done.end}\n"
        "The ledger is whole again. The business rows of those entries (vouchers, redemptions, "
        "batches, report figures) are not in an export: they lag until a newer dump is restored."
    )


@ledger_cli.command("reverse")
@click.argument("entry_id", type=click.UUID)
@domain_errors
def ledger_reverse(entry_id: uuid.UUID) -> None:
    """Post the exact negation of entry ENTRY_ID."""
    posted = ledger.reverse_entry(current().uow(), entry_id, cli_actor())
    click.echo(f"reversal {posted.id} posted")


# --- vouchers -------------------------------------------------------------------------------


def _voucher_json(view: vouchers.VoucherView) -> dict[str, object]:
    return {
        "id": str(view.id),
        "code": view.human_code,
        "status": view.status,
        "remaining_fen": view.remaining_fen,
        "face_value_fen": view.face_value_fen,
        "sme": view.sme_uscc,
        "center": view.center,
        "programme": str(view.programme_id),
        "expires_at": view.expires_at.isoformat(),
        "token": view.token,
    }


@vouchers_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document with every voucher.")
@domain_errors
def vouchers_list(as_json: bool) -> None:
    """Every voucher with its code, status, remaining value (and token, with --json)."""
    issued = vouchers.list_vouchers(current().uow())
    if as_json:
        click.echo(json.dumps([_voucher_json(v) for v in issued], ensure_ascii=False, indent=2))
        return
    for view in issued:
        click.echo(
            f"{view.human_code}  {view.status:9}  {format_yuan(view.remaining_fen):>12}  "
            f"{view.sme_uscc}  expires {view.expires_at:%Y-%m-%d}"
        )


@vouchers_cli.command("claim")
@click.option("--programme", "programme_id", type=click.UUID, required=True)
@click.option("--uscc", required=True, help="The SME's unified social credit code.")
@domain_errors
def vouchers_claim(programme_id: uuid.UUID, uscc: str) -> None:
    """Issue one voucher to a registered SME (on its behalf, as center staff would)."""
    parts = current()
    view = vouchers.claim_voucher(
        parts.uow(),
        programme_id=programme_id,
        sme_uscc=uscc,
        actor=cli_actor(),
        signer=parts.voucher_signer(),
    )
    click.echo(json.dumps(_voucher_json(view), ensure_ascii=False, indent=2))


@vouchers_cli.command("verify")
@click.argument("token")
@domain_errors
def vouchers_verify(token: str) -> None:
    """Check TOKEN's signature and the voucher's standing in the ledger; exit 1 if refused."""
    parts = current()
    check = vouchers.verify_token(parts.uow(), token, parts.voucher_keys())
    voucher = _voucher_json(check.voucher) if check.voucher else None
    if voucher:
        del voucher["token"]
    click.echo(
        json.dumps(
            {"valid": check.valid, "reason": check.reason, "voucher": voucher},
            ensure_ascii=False,
            indent=2,
        )
    )
    if not check.valid:
        sys.exit(1)


@vouchers_cli.command("revoke")
@click.argument("voucher_id", type=click.UUID)
@click.option("--reason", required=True, help="Shown to the SME.")
@domain_errors
def vouchers_revoke(voucher_id: uuid.UUID, reason: str) -> None:
    """Revoke a voucher; its unspent value returns to the issuing center."""
    view = vouchers.revoke_voucher(current().uow(), voucher_id, reason, cli_actor())
    click.echo(f"{view.human_code} revoked")


@vouchers_cli.command("expire")
@domain_errors
def vouchers_expire() -> None:
    """Expire every voucher past its date now (the scheduler does this every few minutes)."""
    click.echo(f"{vouchers.expire_all(current().uow(), SYSTEM)} vouchers expired")


@vouchers_cli.command("issue-bulk")
@click.argument("listing", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--programme", "programme_id", type=click.UUID, required=True)
@click.option("--dry-run", is_flag=True, help="Report what would happen; post nothing.")
@click.option(
    "--batch",
    default=None,
    help="Name of this round; the same list issues again only under a new name.",
)
@domain_errors
def vouchers_issue_bulk(
    listing: Path, programme_id: uuid.UUID, dry_run: bool, batch: str | None
) -> None:
    """Issue a voucher to each SME in LISTING (.csv or .xlsx with a `uscc` column)."""
    parts = current()
    rows = bulk.read_rows(listing.name, listing.read_bytes(), max_rows=current().max_table_rows)
    run = bulk.dry_run if dry_run else bulk.issue
    report = run(
        parts.uow(),
        programme_id=programme_id,
        rows=rows,
        actor=cli_actor(),
        signer=parts.voucher_signer(),
        batch=batch,
    )
    for row in report.rows:
        detail = row.voucher_code or row.message
        click.echo(f"line {row.line:>5}  {row.uscc:18}  {row.outcome:20}  {detail}")
    verb = "would issue" if dry_run else "issued"
    click.echo(
        f"{verb} {report.issued}, already issued {report.already_issued}, refused {report.refused}"
    )


@vouchers_cli.command("qr")
@click.argument("voucher_id", type=click.UUID)
@click.option("--png", "as_png", is_flag=True, help="PNG instead of SVG.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@domain_errors
def vouchers_qr(voucher_id: uuid.UUID, as_png: bool, out: Path) -> None:
    """Write the voucher's QR code (it carries the token) to OUT."""
    view = vouchers.get_voucher(current().uow(), voucher_id)
    if as_png:
        out.write_bytes(qr_png(view.token))
    else:
        out.write_text(qr_svg(view.token), encoding="utf-8")
    click.echo(f"QR code of {view.human_code} written to {out}")


# --- demo, jobs, serve ----------------------------------------------------------------------


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) on a non-empty database.")
@domain_errors
def demo_load(if_empty: bool) -> None:
    """Fill an empty database with demo data."""
    parts = current()
    if if_empty and not demo.is_empty(parts.uow()):
        click.echo("database has data; demo not loaded")
        return
    summary = demo.load_demo(parts.uow(), parts.checkpoint_signer(), parts.voucher_signer())
    click.echo(
        f"demo loaded: {summary.centers} centers, programme {summary.programme}, "
        f"{len(demo.SMES)} SMEs, {len(demo.PROVIDERS)} providers, "
        f"{len(demo.VOUCHER_HOLDERS)} vouchers, {summary.entries} ledger entries, "
        f"checkpoint at tree size {summary.checkpoint_size}"
    )


@demo_cli.command("accounts")
@domain_errors
def demo_accounts() -> None:
    """Accounts of every role for trying the pages, all with the demo password (refused in
    production)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("PRODUCTION"):
        raise click.ClickException("demo accounts are for development, never production")
    parts = current()
    created = demo.load_demo_accounts(parts.uow(), parts.hasher)
    click.echo(f"{len(created)} demo accounts created; each signs in with {demo.DEMO_PASSWORD!r}:")
    for account in demo.DEMO_ACCOUNTS:
        click.echo(f"  {account.username:20} {account.role.value}")


@jobs_cli.command("run")
@click.option(
    "--metrics-port",
    type=int,
    envvar="VOUCHER_JOBS_METRICS_PORT",
    help="Serve this runner's job counters for Prometheus on 127.0.0.1:PORT.",
)
def jobs_run(metrics_port: int | None) -> None:
    """Run the scheduler in this process until interrupted."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    _require_keys_to_serve(app)
    if metrics_port is not None:
        metrics.serve(app, metrics_port)
    click.echo("scheduler running; Ctrl-C stops it")
    jobs.build_scheduler(app, blocking=True).start()


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--scheduler/--no-scheduler", default=True, help="Run the jobs in-process.")
def serve(host: str, port: int, scheduler: bool) -> None:
    """Development server with the scheduler in-process (production: gunicorn + jobs run)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    _require_keys_to_serve(app)
    if scheduler:
        jobs.build_scheduler(app, blocking=False).start()
    # Flask refuses app.run() inside a CLI command; Werkzeug's server is what it would start.
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _require_keys_to_serve(app: Flask) -> None:
    """What production asks of a server at start: usable keys, said in one line (exit 2)."""
    if not app.config.get("PRODUCTION"):
        return
    try:
        current().require_keys()
    except ConfigurationError as refused:
        click.echo(f"configuration error: {refused}", err=True)
        raise SystemExit(2) from None


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the configuration, database, keys, clock, ledger and jobs; say what to fix.
    Exit status 1 when something is wrong."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    findings = doctor.examine(app)
    for finding in findings:
        click.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.check:<13} {finding.said}")
        if finding.fix:
            click.echo(f"{'':<19} fix: {finding.fix}")
    if not all(finding.ok for finding in findings):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    for group in (db_cli, keys_cli, centers_cli, ledger_cli, vouchers_cli, demo_cli, jobs_cli):
        app.cli.add_command(group)
    app.cli.add_command(serve)
    app.cli.add_command(doctor_command)
