"""`flask --app wsgi centers …`: the service-center hierarchy.

centers  import | list
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from voucher_app.cli.common import domain_errors
from voucher_app.services import centers
from voucher_app.wiring import current

centers_group = AppGroup("centers", help="The service-center hierarchy.")


@centers_group.command("import")
@click.argument("csv_file", type=click.File(encoding="utf-8-sig"), required=False)
@domain_errors
def centers_import(csv_file: Any) -> None:
    """Import centers from CSV_FILE (default: Guangdong's, shipped with the package)."""
    specs = centers.read_center_csv(csv_file) if csv_file else centers.guangdong_centers()
    result = centers.import_centers(current().uow(), specs)
    click.echo(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged")


@centers_group.command("list")
@click.argument("code", default="440000")
@domain_errors
def centers_list(code: str) -> None:
    """List center CODE and every center below it."""
    for center in centers.list_subtree(current().uow(), code):
        indent = {"province": "", "city": "  ", "county": "    "}[center.level]
        click.echo(f"{indent}{center.code}  {center.name_zh}  {center.name_en}")
