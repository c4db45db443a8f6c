"""Puts every `flask --app wsgi …` command group on the application; `create_app` calls
`init_app`. The groups live one a module beside this one (see the package's docstring)."""

from __future__ import annotations

from flask import Flask

from voucher_app.cli import (
    centers,
    db,
    demo,
    doctor,
    keys,
    ledger,
    processes,
    reports,
    settlement,
    users,
    vouchers,
)


def init_app(app: Flask) -> None:
    for command in (
        db.db_group,
        keys.keys_group,
        centers.centers_group,
        ledger.ledger_group,
        vouchers.vouchers_group,
        demo.demo_group,
        processes.jobs_group,
        processes.serve,
        doctor.doctor_command,
        settlement.settlement_group,
        settlement.statements_group,
        reports.reports_group,
        users.users_group,
    ):
        app.cli.add_command(command)
