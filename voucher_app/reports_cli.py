"""Command-line spend reports (`flask --app wsgi reports spend …`): parse, call the report
service, print a table or write CSV/XLSX. Finance staff use it until the dashboard exists.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from voucher_app.cli import domain_errors
from voucher_app.domain.money import format_yuan
from voucher_app.domain.spend import Figures
from voucher_app.reports.spend_tables import spend_csv, spend_xlsx
from voucher_app.services import reports
from voucher_app.wiring import current

reports_cli = AppGroup("reports", help="What each center spent.")

SHOWN = ("allocated", "committed", "redeemed", "approved", "paid", "expired", "returned")


def _row(label: str, figures: Figures) -> str:
    values = figures.as_dict()
    amounts = "".join(f"{format_yuan(values[f'{name}_fen']):>16}" for name in SHOWN)
    return f"{label[:28]:<28}{amounts}{format_yuan(figures.available_fen):>16}"


@reports_cli.command("spend")
@click.option("--center", "center_code", required=True)
@click.option("--programme", "programme_id", type=click.UUID, default=None)
@click.option("--from", "from_month", default=None, help="First month, e.g. 2026-01.")
@click.option("--to", "to_month", default=None, help="Last month, e.g. 2026-12.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write CSV or XLSX (by the file's suffix) instead of printing.",
)
@domain_errors
def spend(
    center_code: str,
    programme_id: uuid.UUID | None,
    from_month: str | None,
    to_month: str | None,
    out: Path | None,
) -> None:
    """The center's spend figures, its own and rolled up over its subtree."""
    if out is not None and out.suffix not in (".csv", ".xlsx"):
        raise click.BadParameter("the file name ends in .csv or .xlsx", param_hint="--out")
    report = reports.spend_report(
        current().uow(),
        center_code,
        programme_id=programme_id,
        from_month=from_month,
        to_month=to_month,
    )
    if out is not None:
        if out.suffix == ".csv":
            out.write_text(spend_csv(report), encoding="utf-8")
        else:
            out.write_bytes(spend_xlsx(report))
        click.echo(f"wrote {out}")
        return
    click.echo(f"{'':<28}" + "".join(f"{name:>16}" for name in (*SHOWN, "available")))
    click.echo(_row(f"{report.center} total", report.total))
    click.echo(_row(f"{report.center} own", report.own))
    for title, lines in (
        ("centers", report.children),
        ("programmes", report.by_programme),
        ("categories", report.by_category),
        ("providers", report.by_provider),
        ("months", report.by_month),
    ):
        if lines:
            click.echo(f"-- {title}")
        for line in lines:
            click.echo(_row(f"{line.key} {line.label}", line.figures))


def init_app(app: Flask) -> None:
    app.cli.add_command(reports_cli)
