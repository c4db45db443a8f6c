"""Command-line reports (`flask --app wsgi reports …`): parse, call one service, print a table
or write a file. Finance staff and center reviewers use these until their pages exist.

reports  spend | kpis | evaluation | complaints | resolve-complaint
"""

from __future__ import annotations

import unicodedata
import uuid
from fractions import Fraction
from pathlib import Path

import click
from flask.cli import AppGroup

from voucher_app.cli.common import cli_actor, domain_errors
from voucher_app.domain.evaluation import scheme_for, shown
from voucher_app.domain.money import format_yuan
from voucher_app.domain.spend import Figures
from voucher_app.reports.evaluation_tables import evaluation_csv, evaluation_xlsx
from voucher_app.reports.spend_tables import spend_csv, spend_xlsx
from voucher_app.services import evaluation, reports, tracking
from voucher_app.wiring import current

reports_group = AppGroup("reports", help="What each center spent.")

SHOWN = ("allocated", "committed", "redeemed", "approved", "paid", "expired", "returned")


LABEL_WIDTH = 30


def _label(text: str, width: int = LABEL_WIDTH) -> str:
    """`text` cut and padded to `width` terminal columns (a Chinese character takes two)."""
    out, used = "", 0
    for char in text:
        size = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + size > width - 1:
            break
        out, used = out + char, used + size
    return out + " " * (width - used)


def _row(label: str, figures: Figures) -> str:
    values = figures.as_dict()
    amounts = "".join(f"{format_yuan(values[f'{name}_fen']):>16}" for name in SHOWN)
    return f"{_label(label)}{amounts}{format_yuan(figures.available_fen):>16}"


OUT = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write CSV or XLSX (by the file's suffix) instead of printing.",
)


def _table_file(out: Path | None) -> Path | None:
    if out is not None and out.suffix not in (".csv", ".xlsx"):
        raise click.BadParameter("the file name ends in .csv or .xlsx", param_hint="--out")
    return out


@reports_group.command("spend")
@click.option("--center", "center_code", required=True)
@click.option("--programme", "programme_id", type=click.UUID, default=None)
@click.option("--from", "from_month", default=None, help="First month, e.g. 2026-01.")
@click.option("--to", "to_month", default=None, help="Last month, e.g. 2026-12.")
@OUT
@domain_errors
def spend(
    center_code: str,
    programme_id: uuid.UUID | None,
    from_month: str | None,
    to_month: str | None,
    out: Path | None,
) -> None:
    """The center's spend figures, its own and rolled up over its subtree."""
    out = _table_file(out)
    report = reports.spend_report(
        current().uow(),
        center_code,
        programme_id=programme_id,
        from_month=from_month,
        to_month=to_month,
    )
    if out is not None:
        if out.suffix == ".csv":
            out.write_bytes(spend_csv(report))
        else:
            out.write_bytes(spend_xlsx(report))
        click.echo(f"wrote {out}")
        return
    click.echo(_label("") + "".join(f"{name:>16}" for name in (*SHOWN, "available")))
    click.echo(_row(f"{report.center} total", report.total))
    click.echo(_row(f"{report.center} own", report.own))
    for title, lines, named in (
        ("centers", report.children, "{key} {label}"),
        ("programmes", report.by_programme, "{label}"),
        ("categories", report.by_category, "{label}"),
        ("providers", report.by_provider, "{label}"),
        ("months", report.by_month, "{key}"),
    ):
        if lines:
            click.echo(f"-- {title}")
        for line in lines:
            click.echo(_row(named.format(key=line.key, label=line.label), line.figures))


@reports_group.command("kpis")
@click.option("--center", "center_code", required=True)
@click.option("--year", type=int, default=None, help="A calendar year (China time); default all.")
@domain_errors
def kpis(center_code: str, year: int | None) -> None:
    """The yearly-evaluation KPIs of the center with everything below it, and of each child."""
    report = tracking.center_kpis(current().uow(), center_code, year=year)
    headers = ("SMEs", "issued", "redeemed", "rate", "paid", "rating", "providers", "complaints")
    click.echo(_label("") + "".join(f"{h:>12}" for h in headers))
    for label, figures in (
        (f"{report.center} {report.name}", report.total),
        *((f"  {line.center} {line.name}", line.kpis) for line in report.children),
    ):
        rate = figures.redemption_rate
        average = figures.ratings.average
        cells = (
            figures.smes_served,
            figures.vouchers_issued,
            figures.vouchers_redeemed,
            "-" if rate is None else f"{rate:.1%}",
            format_yuan(figures.paid_fen),
            "-" if average is None else f"{average} ({figures.ratings.count})",
            figures.active_providers,
            figures.open_complaints,
        )
        click.echo(_label(label) + "".join(f"{cell!s:>12}" for cell in cells))


@reports_group.command("complaints")
@click.option("--center", "center_code", required=True)
@click.option("--open", "open_only", is_flag=True, help="Only those not yet resolved.")
@domain_errors
def complaints(center_code: str, open_only: bool) -> None:
    """SMEs' complaints about services paid by the center's (and its subtree's) vouchers."""
    for complaint in tracking.complaints_for(current().uow(), center_code, open_only=open_only):
        click.echo(
            f"{complaint.id}  {complaint.status:<8} {complaint.center}  "
            f"{complaint.provider_name}: {complaint.text}"
        )
        if complaint.resolution:
            click.echo(f"    resolved: {complaint.resolution}")


@reports_group.command("resolve-complaint")
@click.argument("complaint_id", type=click.UUID)
@click.option("--resolution", required=True, help="What the center found or did.")
@domain_errors
def resolve_complaint(complaint_id: uuid.UUID, resolution: str) -> None:
    done = tracking.resolve_complaint(current().uow(), complaint_id, resolution, cli_actor())
    click.echo(f"complaint {done.id} resolved")


def _two(value: Fraction | None) -> str:
    return "-" if value is None else str(shown(value))


@reports_group.command("evaluation")
@click.option("--center", "center_code", required=True)
@click.option("--year", type=int, required=True, help="The calendar year evaluated.")
@OUT
@domain_errors
def evaluation_report(center_code: str, year: int, out: Path | None) -> None:
    """The year's evaluation (综合评价考核) of the center and each center below it, by the
    province's scheme: place among siblings, total, grade, and each indicator's points."""
    out = _table_file(out)
    wiring = current()
    scheme = scheme_for(wiring.evaluation_schemes, year)
    report = evaluation.center_evaluation(wiring.uow(), center_code, year, scheme)
    if out is not None:
        out.write_bytes(evaluation_csv(report) if out.suffix == ".csv" else evaluation_xlsx(report))
        click.echo(f"wrote {out}")
        return
    codes = [indicator.code[:11] for indicator in scheme.indicators]
    click.echo(_label("") + "".join(f"{h:>12}" for h in ("place", "total", "grade", *codes)))
    for score in report.subtree:
        result = score.evaluation
        cells = (
            score.rank or "-",
            _two(result.total),
            result.grade or "-",
            *(_two(line.points) for line in result.lines),
        )
        label = "  " * score.depth + f"{score.center} {score.name}"
        click.echo(_label(label) + "".join(f"{cell!s:>12}" for cell in cells))
