"""The browsable API reference at /api/docs: Swagger UI over /api/openapi.json.

Swagger UI is vendored into `static/vendor` (`make vendor`), so the page works offline and
loads nothing from a CDN; its own script is a static file, so the page's Content-Security-Policy
allows scripts from this origin only.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template, url_for
from flask.views import MethodView

from voucher_app.domain.policy import Action
from voucher_app.http.policy import requires

blp = Blueprint("docs", __name__)
#: Swagger UI styles its widgets inline and draws icons as data URLs.
POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'"
)


class ApiDocs(MethodView):
    @requires(Action.READ_PUBLIC)
    def get(self) -> Response:
        page = render_template("api_docs.html", spec_url=url_for("api-docs.openapi_json"))
        return Response(page, headers={"Content-Security-Policy": POLICY})


blp.add_url_rule("/api/docs", view_func=ApiDocs.as_view("page"))


def init_app(app: Flask) -> None:
    app.register_blueprint(blp)
