"""`flask --app wsgi vouchers …`: issue, verify, revoke and expire vouchers, one or a list.

vouchers  list | claim | verify | revoke | expire | issue-bulk | qr | resign-tokens
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup

from voucher_app.cli.common import cli_actor, domain_errors
from voucher_app.domain.actors import SYSTEM
from voucher_app.domain.money import format_yuan
from voucher_app.services import bulk, vouchers
from voucher_app.signing.qr import qr_png, qr_svg
from voucher_app.wiring import current

vouchers_group = AppGroup("vouchers", help="Issue, verify, revoke and expire vouchers.")


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


@vouchers_group.command("list")
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


@vouchers_group.command("claim")
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


@vouchers_group.command("verify")
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


@vouchers_group.command("revoke")
@click.argument("voucher_id", type=click.UUID)
@click.option("--reason", required=True, help="Shown to the SME.")
@domain_errors
def vouchers_revoke(voucher_id: uuid.UUID, reason: str) -> None:
    """Revoke a voucher; its unspent value returns to the issuing center."""
    view = vouchers.revoke_voucher(current().uow(), voucher_id, reason, cli_actor())
    click.echo(f"{view.human_code} revoked")


@vouchers_group.command("expire")
@domain_errors
def vouchers_expire() -> None:
    """Expire every voucher past its date now (the scheduler does this every few minutes)."""
    click.echo(f"{vouchers.expire_all(current().uow(), SYSTEM)} vouchers expired")


@vouchers_group.command("resign-tokens")
@domain_errors
def vouchers_resign_tokens() -> None:
    """Sign the tokens of active vouchers issued under the older contract (EdDSA, a QR code too
    dense for a phone) again under today's; the old tokens verify until they expire."""
    parts = current()
    signed = vouchers.resign_tokens(parts.uow(), parts.voucher_signer())
    click.echo(f"{signed} voucher tokens signed again")


@vouchers_group.command("issue-bulk")
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
    rows = bulk.read_rows(listing.name, listing.read_bytes(), max_rows=parts.max_table_rows)
    report = bulk.issue_from_list(
        parts.uow(),
        programme_id=programme_id,
        rows=rows,
        actor=cli_actor(),
        signer=parts.voucher_signer(),
        dry_run=dry_run,
        batch=batch,
    )
    for row in report.rows:
        detail = row.voucher_code or row.message
        click.echo(f"line {row.line:>5}  {row.uscc:18}  {row.outcome:20}  {detail}")
    verb = "would issue" if dry_run else "issued"
    click.echo(
        f"{verb} {report.issued}, already issued {report.already_issued}, refused {report.refused}"
    )


@vouchers_group.command("qr")
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
