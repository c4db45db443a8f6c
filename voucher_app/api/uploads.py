"""File uploads (SME lists, bank statements): one multipart form holding the file and its
fields, a larger body limit for the routes that take one, and the file's name and bytes.

flask-smorest documents one request body per route and reads form fields and files as two
locations; `UploadBlueprint` adds a `multipart` location that reads both, so the OpenAPI
document shows one `multipart/form-data` body with every field.

Every other request keeps `MAX_CONTENT_LENGTH`; a route marked `@takes_file` may receive up to
`MAX_UPLOAD_LENGTH`. The limit is raised before anything reads the body (the Idempotency-Key
layer digests it), so this module's hook runs first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Request, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from voucher_app.domain.errors import InvalidInput

UPLOAD_ATTRIBUTE = "_takes_file"
F = TypeVar("F", bound=Callable[..., object])


class _MultipartParser(FlaskParser):
    __location_map__ = {  # noqa: RUF012 - webargs's own attribute
        **FlaskParser.__location_map__,
        "multipart": "load_multipart",
    }

    def load_multipart(self, req: Request, schema: Schema) -> MultiDictProxy:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class UploadBlueprint(Blueprint):  # type: ignore[misc]
    """A blueprint whose routes may take `@blp.arguments(Form, location="multipart")`."""

    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {  # noqa: RUF012 - flask-smorest's own attribute
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


def init_app(app: Flask) -> None:
    app.before_request(_raise_limit_for_files)


def takes_file(view: F) -> F:
    """Mark a view (a page's function, or an API class's method) as one that receives a
    file."""
    setattr(view, UPLOAD_ATTRIBUTE, True)
    return view


def _raise_limit_for_files() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    if getattr(handler, UPLOAD_ATTRIBUTE, False):
        request.max_content_length = current_app.config["MAX_UPLOAD_LENGTH"]


def read_upload(upload: object) -> tuple[str, bytes]:
    """The uploaded file's name and content; a text field in its place, or an empty file, is
    refused."""
    if not isinstance(upload, FileStorage):
        raise InvalidInput("attach the file as a file part, not a text field", field="file")
    content = upload.read()
    if not content:
        raise InvalidInput("the uploaded file is empty", field="file")
    return upload.filename or "", content
