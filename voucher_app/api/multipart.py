"""Routes that take a file (`http.uploads`) read one multipart form holding the file and its
fields, and the OpenAPI document shows it as such.

flask-smorest documents one request body per route and reads form fields and files as two
locations; `UploadBlueprint` adds a `multipart` location that reads both, so the OpenAPI
document shows one `multipart/form-data` body with every field.
"""

from __future__ import annotations

from flask import Request
from flask_smorest import Blueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict


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
