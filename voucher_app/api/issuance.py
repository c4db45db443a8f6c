"""Bulk issuance over HTTP: center staff upload a CSV or XLSX list of SMEs for a programme,
see the dry run's outcome per row, then issue (`services.bulk`). Only SMEs at home in the
uploader's center or below it are issued to."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from voucher_app.api.multipart import UploadBlueprint
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import center_in, requires
from voucher_app.http.uploads import read_upload, takes_file
from voucher_app.services import bulk
from voucher_app.services.bulk import BulkReport
from voucher_app.wiring import current

blp = UploadBlueprint("issuance", __name__, description="Issuing vouchers to a list of SMEs")


class IssuanceForm(Schema):
    center = fields.String(
        required=True,
        validate=validate.Length(min=1, max=12),
        metadata={"description": "the uploading center: its SMEs and those below it"},
    )
    dry_run = fields.Boolean(
        load_default=True, metadata={"description": "only say what would happen (default)"}
    )
    batch = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a name for a second round with the same list"},
    )
    file = Upload(required=True, metadata={"description": "CSV or XLSX with a `uscc` column"})


class RowSchema(Schema):
    line = fields.Integer(required=True)
    uscc = fields.String(required=True)
    outcome = fields.String(
        required=True,
        metadata={
            "description": "issued, would_issue, already_issued, outside_center, duplicated, "
            "or the refusal's code (e.g. budget_exhausted, invalid_uscc)"
        },
    )
    message = fields.String(required=True)
    voucher_code = fields.String(allow_none=True)


class IssuanceReportSchema(Schema):
    dry_run = fields.Boolean(required=True)
    issued = fields.Integer(required=True)
    already_issued = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    rows = fields.List(fields.Nested(RowSchema), required=True)


@blp.route("/programmes/<uuid:programme_id>/issuance")
class Issuance(MethodView):
    @blp.arguments(IssuanceForm, location="multipart")
    @blp.response(200, IssuanceReportSchema)
    @requires(Action.ISSUE, scope=center_in("center"))
    @takes_file
    def post(self, form: dict[str, Any], programme_id: uuid.UUID) -> BulkReport:
        """Issue a voucher of the programme to each SME listed; with `dry_run` (the default)
        nothing is issued and each row says what would happen."""
        filename, content = read_upload(form["file"])
        parts = current()
        return bulk.issue_from_list(
            parts.uow(),
            programme_id=programme_id,
            rows=bulk.read_rows(filename, content, max_rows=parts.max_table_rows),
            actor=signed_in().actor,
            signer=parts.voucher_signer(),
            dry_run=form["dry_run"],
            batch=form["batch"],
            center=form["center"],
        )
