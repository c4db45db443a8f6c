"""The browsable API reference: served from this origin only (Swagger UI is vendored), under a
policy that lets nothing else in, and pointing at the live OpenAPI document."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_the_reference_page_loads_everything_from_this_origin(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src" not in policy  # no inline scripts
    html = page.get_data(as_text=True)
    assert "<script>" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 3 and all(url.startswith("/static/") for url in assets)
    for url in assets:
        served = client.get(url)
        assert served.status_code == 200 and len(served.data) > 100, url
        served.close()
    spec_url = re.search(r'data-spec-url="([^"]+)"', html)
    assert spec_url is not None
    spec = client.get(spec_url.group(1)).get_json()
    assert spec["openapi"].startswith("3.") and "/api/v1/vouchers/verify" in spec["paths"]
