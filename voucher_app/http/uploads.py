"""File uploads (SME lists, bank statements, a redemption's evidence), through the API or a
page's form: a larger body limit for the views that take a file, and the file's name and bytes.

Every other request keeps `MAX_CONTENT_LENGTH`; a view marked `@takes_file` (a page's
function, or an API class's method) may receive up to `MAX_UPLOAD_LENGTH`. The limit is raised
before anything reads the body (the API's Idempotency-Key layer digests it), so this module's
hook runs first. How the API documents a form with a file is the API's own (`api.multipart`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request
from werkzeug.datastructures import FileStorage, MultiDict

from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.evidence import EvidenceKind
from voucher_app.services.evidence import Attachment, Evidence

UPLOAD_ATTRIBUTE = "_takes_file"
F = TypeVar("F", bound=Callable[..., object])


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


def read_evidence(files: MultiDict[str, FileStorage], max_bytes: int) -> Evidence:
    """The evidence files a form sends, one field per kind (`invoice`, `contract`); a field
    left without a file is no attachment, an empty file is one (and is refused as empty)."""
    attached = []
    for kind in EvidenceKind:
        upload = files.get(str(kind))
        if upload is None or not upload.filename:
            continue
        attached.append(Attachment(kind, upload.filename, upload.read()))
    return Evidence(tuple(attached), max_bytes)
