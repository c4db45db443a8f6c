"""The WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi …` for the commands."""

from voucher_app import create_app

app = create_app()
