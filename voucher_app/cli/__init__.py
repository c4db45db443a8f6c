"""The command-line entry points: parse, call one service, print.

`flask --app wsgi GROUP …`, one module a group (its docstring lists the commands);
`commands.init_app` puts them all on the application:

    db.py          db             the schema, through Alembic
    keys.py        keys           the signing keys
    centers.py     centers        the service-center hierarchy
    ledger.py      ledger         sequence, sign, verify, export, restore, reverse
    vouchers.py    vouchers       issue, verify, revoke, expire
    demo.py        demo           demo data and accounts
    processes.py   jobs, serve    the scheduler; the development server
    doctor.py      doctor         what would stop the service, and the fix
    settlement.py  settlement,    paying providers; bank statements and reconciliation
                   statements
    reports.py     reports        spend, KPIs, complaints
    users.py       users          accounts and API tokens
    common.py                     what the groups share: domain errors, the acting user

`voucher-audit SOURCE` (`audit.py`) stands alone: it verifies a published ledger with neither
Flask nor SQLAlchemy installed or imported. That is why this file imports nothing: Python runs
it before any module of the package, the auditor's included.
"""
