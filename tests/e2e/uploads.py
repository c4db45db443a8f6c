"""Multipart uploads through Flask's test client, closing what the client leaves open.

Werkzeug's test client spools a large multipart body to a temporary file and never closes it;
under `filterwarnings = error` that surfaces later as an unraisable ResourceWarning in some
other test. `send_form` builds the request itself and closes the body once answered.
"""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse

#: A form field: text, or a file as (content, file name).
Field = str | tuple[bytes, str]


def send_form(
    client: FlaskClient,
    url: str,
    form: dict[str, Field],
    headers: dict[str, str],
    method: str = "POST",
) -> TestResponse:
    data = {
        name: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
        for name, value in form.items()
    }
    builder = EnvironBuilder(path=url, method=method, data=data, headers=list(headers.items()))
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
