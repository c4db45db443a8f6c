"""The long-running processes: `flask --app wsgi jobs run` (the scheduler, as production runs
it beside gunicorn) and `flask --app wsgi serve` (the development server with the scheduler
in-process). In production both first ask for usable keys.

jobs   run
serve
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

from voucher_app import jobs, metrics
from voucher_app.wiring import ConfigurationError, current

jobs_group = AppGroup("jobs", help="Scheduled jobs.")


@jobs_group.command("run")
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
