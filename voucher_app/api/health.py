"""Liveness and readiness: `/healthz` answers 200 when the database answers."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from voucher_app.api.auth import requires
from voucher_app.domain.policy import Action
from voucher_app.wiring import current

blp = Blueprint("health", __name__, description="Service health")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database does not answer")
    @requires(Action.READ_PUBLIC)
    def get(self) -> tuple[dict[str, Any], int]:
        if not current().database.answers():
            return {"status": "unavailable", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}, 200
