"""The WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app`, and `flask --app wsgi …` for
the commands. A configuration the application refuses is said in one line naming the variable,
and the process exits with status 2 (no traceback: there is nothing to debug, only to set)."""

import sys

from voucher_app import create_app
from voucher_app.app import ConfigurationError

try:
    app = create_app()
except ConfigurationError as refused:
    print(f"configuration error: {refused}", file=sys.stderr)  # noqa: T201 - the one line
    sys.exit(2)
