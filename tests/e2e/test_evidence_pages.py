"""Evidence through the desk's form: a file that is not a PDF, JPEG or PNG by its bytes (here an
HTML page named like a PDF) is refused next to its field, in the visitor's language, and nothing
is submitted or stored; a real PDF is kept and downloaded back from the redemption's page as an
attachment with a safe type."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo, new_voucher, tax_adviser
from tests.e2e.pages import csrf_token, sign_in
from tests.e2e.uploads import Field, send_form
from voucher_app.domain.actors import Role
from voucher_app.domain.calendar import local_date
from voucher_app.persistence.models import EvidenceFile, Redemption
from voucher_app.services import redemption_lists, redemptions
from voucher_app.wiring import current

PDF = b"%PDF-1.4\n%%EOF\n"


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context(), current().database.engine.connect() as connection:
        files = connection.execute(select(func.count()).select_from(EvidenceFile)).scalar_one()
        rows = connection.execute(select(func.count()).select_from(Redemption)).scalar_one()
    return files, rows


def test_the_desk_refuses_a_disguised_file_and_keeps_a_real_one(
    app: Flask, runner: FlaskCliRunner
) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    provider, product = tax_adviser(app)
    desk = app.test_client()
    sign_in(desk, account(app, Role.PROVIDER, provider=provider).username, PASSWORD)
    url = f"/provider/{provider}"

    def redeem(invoice_file: tuple[bytes, str], invoice: str) -> str:
        with app.app_context():
            passcode = redemptions.new_passcode(current().uow(), voucher.id).code
        form: dict[str, Field] = {
            "csrf_token": csrf_token(desk, url),
            "human_code": voucher.human_code,
            "passcode": passcode,
            "product_id": str(product),
            "invoice_number": invoice,
            "invoiced": "3000",
            "delivered_on": local_date(datetime.now(UTC)).isoformat(),
            "invoice": invoice_file,
        }
        answer = send_form(desk, f"{url}/redeem", form, {"Accept-Language": "en"})
        return answer.get_data(as_text=True)

    before = counts(app)
    page = redeem((b"<html><script>alert(1)</script></html>", "invoice.pdf"), "EV-1")
    assert 'id="invoice-errors"' in page
    assert "Attach a PDF, JPEG or PNG file: this file is none of them." in page
    assert counts(app) == before

    redeem((PDF, "invoice.pdf"), "EV-2")
    assert counts(app) == (before[0] + 1, before[1] + 1)
    with app.app_context():
        (mine,) = [
            r
            for r in redemption_lists.of_provider(current().uow(), provider)
            if r.invoice_number == "EV-2"
        ]
    digest = hashlib.sha256(PDF).hexdigest()
    served = desk.get(f"/redemptions/{mine.id}/evidence/{digest}")
    assert served.status_code == 200
    assert served.data == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"] == (
        f'attachment; filename="invoice-{digest[:16]}.pdf"'
    )
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert desk.get(f"/redemptions/{mine.id}/evidence/{'0' * 64}").status_code == 404
