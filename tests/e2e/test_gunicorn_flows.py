"""The main flows over real HTTP against a real gunicorn (two worker processes), on PostgreSQL
as deployed (and on SQLite, which serves them as well).

The test-client suites never cross a process boundary: here every request goes through a socket
to gunicorn, so what only a deployment shows — the app built from `wsgi.py` by each worker from
`VOUCHER_*` variables, Idempotency-Keys replayed by whichever worker answers, sequencing after
commit from worker processes — is exercised. A programme is funded and allocated down to
Nanshan, an SME registers and claims a voucher, a provider applies, is approved and publishes a
product, redeems the voucher, the SME confirms, Nanshan approves, Shenzhen's finance batches,
exports the pain.001 file and uploads the bank's statement that proves it paid; then the
checkpoint job signs the log and an outsider's `voucher-audit` verifies the published ledger
through gunicorn, from its entries and from its tiles.

Only what has no route is set up through the services: the center hierarchy, accounts (bearer
tokens), and the checkpoint the scheduler would sign.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import etree
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import factories
from tests.e2e.accounts import bearer
from tests.e2e.test_serve import _free_port
from tests.harness import ORIGIN
from tests.integration.test_settlement import FUNDING, PAIN, camt053, entry
from tests.iso20022 import assert_valid_pain001
from voucher_app import jobs
from voucher_app.api.programmes import TermsSchema
from voucher_app.domain.actors import Role
from voucher_app.domain.calendar import local_date
from voucher_app.signing.keyring import Keyring
from voucher_app.signing.note import Verifier
from voucher_app.wiring import current

ROOT = Path(__file__).resolve().parents[2]
PROVINCE, SHENZHEN, NANSHAN = "440000", "440300", "440305"
FACE_VALUE = factories.TERMS.voucher_face_value_fen  # 500,000 fen; the subsidy rate is 50%
INVOICED = 300_000
SUBSIDY = INVOICED // 2
#: What the flows post, in order; confirming a redemption and batching it post nothing.
LEDGER_KINDS = ["fund", "allocate", "allocate", "issue", "redeem", "approve", "settle"]


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """A stdlib HTTP client for the service; every unsafe request carries an Idempotency-Key."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self._send("GET", path, None, headers or {})

    def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        key: str | None = None,
    ) -> Reply:
        return self._send("POST", path, body, self._keyed(headers, key))

    def put(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        return self._send("PUT", path, body, self._keyed(headers, None))

    def upload(
        self, path: str, form: dict[str, str], file: tuple[bytes, str], headers: dict[str, str]
    ) -> Reply:
        """POST a multipart form with one file."""
        content, name = file
        parts = {**form, "file": FileStorage(io.BytesIO(content), name)}
        boundary, data = encode_multipart(MultiDict(parts))
        keyed = {
            **self._keyed(headers, None),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        return self._send("POST", path, data, keyed)

    @staticmethod
    def _keyed(headers: dict[str, str] | None, key: str | None) -> dict[str, str]:
        return {**(headers or {}), "Idempotency-Key": key or uuid.uuid4().hex}

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | None,
        headers: dict[str, str],
    ) -> Reply:
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        if isinstance(body, dict):
            headers = {**headers, "Content-Type": "application/json"}
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers, error.read())


def created(reply: Reply) -> dict[str, Any]:
    """The document of a 201 answer (the problem document in the failure message if not)."""
    assert reply.status == 201, reply.body.decode()
    document: dict[str, Any] = reply.json()
    return document


def ok(reply: Reply) -> Any:
    assert reply.status == 200, reply.body.decode()
    return reply.json()


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as reply:
                assert reply.read() == b'{"database":"ok","status":"ok"}\n'
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer /healthz within 30 s:\n{log.read_text()}")


@contextmanager
def gunicorn(database_url: str, keys: Path, log: Path) -> Iterator[str]:
    """Serve `wsgi:app` with two workers on a free port; yield its base URL. On the way out,
    stop it and demand a clean log."""
    port = _free_port()
    env = {
        **os.environ,
        "VOUCHER_ENV": "development",
        "VOUCHER_DATABASE_URL": database_url,
        "VOUCHER_KEYS_DIR": str(keys),
        "VOUCHER_LEDGER_ORIGIN": ORIGIN,
        "XDG_RUNTIME_DIR": str(log.parent),  # newer gunicorns' control socket, not ~/.gunicorn
    }
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--workers", "2", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    assert text.count("Booting worker") == 2, text
    assert "Traceback" not in text, text


def today() -> date:
    return local_date(datetime.now(UTC))


def programme_terms() -> dict[str, Any]:
    """The factories' programme as the create route takes it, open from a month ago for half a
    year; an SME may hold one voucher."""
    terms = dataclasses.replace(
        factories.TERMS,
        period_start=today() - timedelta(days=30),
        period_end=today() + timedelta(days=180),
        sme_cap_fen=FACE_VALUE,
    )
    document: dict[str, Any] = TermsSchema().dump(terms)
    return document


def open_programme(api: Api, app: Flask) -> str:
    """The province creates and funds a programme; budget goes to Shenzhen (the request retried
    with its key, answered once) and on to Nanshan. Returns the programme's id."""
    province = bearer(app, Role.CENTER_ADMIN, center=PROVINCE)
    shenzhen = bearer(app, Role.CENTER_ADMIN, center=SHENZHEN)
    programme = created(api.post("/api/v1/programmes", programme_terms(), province))
    base = f"/api/v1/programmes/{programme['id']}"
    budget = factories.TERMS.total_budget_fen
    funded = created(api.post(f"{base}/funding", {"amount_fen": budget}, province))
    assert funded["kind"] == "fund"
    assert ok(api.get(base))["funded_fen"] == budget

    down = {"from_center": PROVINCE, "to_center": SHENZHEN, "amount_fen": 4 * FACE_VALUE}
    first = created(api.post(f"{base}/allocations", down, province, key="gd-2026-sz"))
    again = api.post(f"{base}/allocations", down, province, key="gd-2026-sz")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert created(again)["id"] == first["id"]
    onward = {"from_center": SHENZHEN, "to_center": NANSHAN, "amount_fen": 2 * FACE_VALUE}
    created(api.post(f"{base}/allocations", onward, shenzhen))
    assert left(api, app, base) == {
        PROVINCE: budget - 4 * FACE_VALUE,
        SHENZHEN: 2 * FACE_VALUE,
        NANSHAN: 2 * FACE_VALUE,
    }
    return str(programme["id"])


def left(api: Api, app: Flask, base: str) -> dict[str, int]:
    """What the province, Shenzhen and Nanshan have left to issue, as a provincial auditor sees."""
    auditor = bearer(app, Role.AUDITOR, center=PROVINCE)
    return {
        center: ok(api.get(f"{base}/budget?center={center}", auditor))["available_fen"]
        for center in (PROVINCE, SHENZHEN, NANSHAN)
    }


def register_sme(api: Api) -> str:
    """A micro software company in Nanshan registers itself (no account needed)."""
    declaration = {
        "uscc": factories.uscc(1, NANSHAN),
        "name": "深圳市南山区云帆软件有限公司",
        "industry": "software_it",
        "employees": 8,
        "revenue_fen": 30_000_000,
        "assets_fen": 10_000_000,
        "home_center": NANSHAN,
    }
    sme = created(api.post("/api/v1/smes", declaration))
    assert (sme["size"], sme["home_center"]) == ("micro", NANSHAN)
    return str(sme["uscc"])


def claim_voucher(api: Api, clerk: dict[str, str], uscc: str, programme: str) -> dict[str, Any]:
    """The SME claims its one voucher; a second claim meets its cap."""
    url = f"/api/v1/smes/{uscc}/vouchers"
    voucher = created(api.post(url, {"programme_id": programme}, clerk))
    assert (voucher["status"], voucher["center"]) == ("active", NANSHAN)
    assert voucher["face_value_fen"] == voucher["remaining_fen"] == FACE_VALUE
    assert voucher["token"].count(".") == 2  # a JWS in compact form
    second = api.post(url, {"programme_id": programme}, clerk)
    assert second.headers["Content-Type"] == "application/problem+json"
    assert (second.status, second.json()["code"]) == (409, "cap_reached")
    return voucher


def join_provider(api: Api, app: Flask) -> tuple[str, str]:
    """A Shenzhen law firm applies, Shenzhen's staff approve it, it publishes a product that
    the public catalogue lists. Returns the provider's and the product's ids."""
    application = {
        "uscc": factories.uscc(2, SHENZHEN),
        "name": "深圳市福田律师事务所",
        "service_categories": ["legal"],
        "contact_name": "陈律师",
        "contact_phone": "+86 755 8300 0000",
        "contact_email": "law@example.cn",
        "bank_name": "中国银行深圳福田支行",
        "bank_account_name": "深圳市福田律师事务所",
        "bank_account_number": "744000000000002",
        "bank_cnaps": "102581000013",
        "center": SHENZHEN,
    }
    provider = created(api.post("/api/v1/providers", application))
    assert provider["status"] == "pending"
    reviewer = bearer(app, Role.CENTER_STAFF, center=SHENZHEN)
    decision = f"/api/v1/providers/{provider['id']}/decision"
    assert ok(api.post(decision, {"decision": "approve"}, reviewer))["status"] == "approved"
    desk = bearer(app, Role.PROVIDER, provider=uuid.UUID(provider["id"]))
    terms = {
        "name": "合同审查（十页以内）",
        "category": "legal",
        "price_fen": INVOICED,
        "standard": "三个工作日内出具书面审查意见",
        "time_limit_days": 3,
        "fee_rules": "按份收费",
    }
    product = created(api.post(f"/api/v1/providers/{provider['id']}/products", terms, desk))
    listed = ok(api.get(f"/api/v1/catalogue?category=legal&center={SHENZHEN}"))["items"]
    assert [p["id"] for p in listed] == [product["id"]]
    return str(provider["id"]), str(product["id"])


def redeem(
    api: Api, app: Flask, clerk: dict[str, str], voucher: dict[str, Any], shop: tuple[str, str]
) -> str:
    """The provider asks to be paid for a service delivered today, the SME's clerk confirms, Nanshan
    approves. Returns the redemption's id."""
    provider, product = shop
    desk = bearer(app, Role.PROVIDER, provider=uuid.UUID(provider))
    body = {
        "token": voucher["token"],
        "product_id": product,
        "invoice_number": "FTLS-2026-0042",
        "invoiced_fen": INVOICED,
        "delivered_on": today().isoformat(),
    }
    redemption = created(api.post(f"/api/v1/providers/{provider}/redemptions", body, desk))
    assert (redemption["status"], redemption["subsidy_fen"]) == ("submitted", SUBSIDY)
    held = ok(api.get(f"/api/v1/smes/{voucher['sme_uscc']}/vouchers", clerk))
    assert [(v["id"], v["remaining_fen"]) for v in held] == [(voucher["id"], FACE_VALUE - SUBSIDY)]

    base = f"/api/v1/redemptions/{redemption['id']}"
    assert ok(api.post(f"{base}/confirm", None, clerk))["status"] == "confirmed"
    reviewer = bearer(app, Role.CENTER_STAFF, center=NANSHAN)
    # Signals are on, as in production: a firm registered minutes ago is a warning sign, and
    # approving past it takes a reason (which the provider never reads).
    unexplained = api.post(f"{base}/approve", None, reviewer)
    assert (unexplained.status, unexplained.json()["code"]) == (409, "signals_unexplained")
    assert "new_sme" in unexplained.json()["signals"]
    why = {"reason": "企业由区政府推荐，已现场核实"}
    assert ok(api.post(f"{base}/approve", why, reviewer))["status"] == "approved"
    history = ok(api.get(f"{base}/history", desk))
    assert "review" not in history[-1]["details"]
    assert [(e["status"], e["role"]) for e in history] == [
        ("submitted", "provider"),
        ("confirmed", "sme"),
        ("approved", "center_staff"),
    ]
    return str(redemption["id"])


def pay(api: Api, app: Flask, programme: str, provider: str, redemption: str) -> None:
    """The province records the account it pays from; Shenzhen's finance batch the approved
    redemption, export the pain.001 file, and upload the bank's statement that shows it paid."""
    province = bearer(app, Role.CENTER_ADMIN, center=PROVINCE)
    account = {
        "bank_name": FUNDING.bank_name,
        "account_name": FUNDING.account_name,
        "account_number": FUNDING.account_number,
        "cnaps": FUNDING.cnaps,
        "bic": FUNDING.bic,
    }
    ok(api.put(f"/api/v1/programmes/{programme}/funding-account", account, province))
    finance = bearer(app, Role.CENTER_FINANCE, center=SHENZHEN)
    url = f"/api/v1/programmes/{programme}/batches"
    batch = created(api.post(url, {"center": SHENZHEN}, finance))
    assert (batch["status"], batch["total_fen"]) == ("draft", SUBSIDY)
    (item,) = batch["items"]
    assert (item["provider_id"], item["amount_fen"], item["claims"]) == (
        provider,
        SUBSIDY,
        [redemption],
    )

    exported = api.post(f"/api/v1/batches/{batch['id']}/export?format=pain001", None, finance)
    assert exported.status == 200, exported.body.decode()
    assert exported.headers.get_content_type() == "application/xml"
    assert_valid_pain001(exported.body)
    document = etree.fromstring(exported.body)
    assert document.findtext(f".//{PAIN}EndToEndId") == item["reference"]
    assert document.findtext(f".//{PAIN}CtrlSum") == "1500.00"
    assert document.findtext(f".//{PAIN}DbtrAcct/{PAIN}Id/{PAIN}Othr/{PAIN}Id") == (
        FUNDING.account_number
    )
    assert ok(api.get(f"/api/v1/batches/{batch['id']}", finance))["status"] == "exported"

    bank = camt053("GUNICORN-1", [entry(item["reference"], "1500.00")])
    imported = api.upload("/api/v1/statements", {"center": SHENZHEN}, (bank, "s.xml"), finance)
    assert created(imported)["outcomes"] == {"paid": 1}
    assert ok(api.get(f"/api/v1/batches/{batch['id']}", finance))["status"] == "paid"
    assert ok(api.get(f"/api/v1/redemptions/{redemption}", finance))["status"] == "settled"


def sign_checkpoint(app: Flask) -> None:
    """What the scheduler's checkpoint job does (gunicorn runs no scheduler)."""
    with app.app_context():
        jobs.sequence_and_sign(current())


def audit(source: str, vkey: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "voucher-audit"), source, "--vkey", vkey]
    command.extend(options)
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_the_main_flows_through_gunicorn_leave_a_ledger_voucher_audit_verifies(
    app: Flask,
    database_url: str,
    keyring: Keyring,
    verifiers: list[Verifier],
    tmp_path: Path,
) -> None:
    with app.app_context():
        factories.guangdong(current().uow())
    with gunicorn(database_url, keyring.directory, tmp_path / "gunicorn.log") as base:
        api = Api(base)
        programme = open_programme(api, app)
        uscc = register_sme(api)
        clerk = bearer(app, Role.SME, sme=uscc)
        voucher = claim_voucher(api, clerk, uscc, programme)
        assert left(api, app, f"/api/v1/programmes/{programme}")[NANSHAN] == FACE_VALUE
        provider, product = join_provider(api, app)
        redemption = redeem(api, app, clerk, voucher, (provider, product))
        pay(api, app, programme, provider, redemption)

        sign_checkpoint(app)
        entries = ok(api.get("/api/v1/ledger/entries?start=0&end=100"))
        assert entries["tree_size"] == len(LEDGER_KINDS)
        assert [e["entry"]["kind"] for e in entries["entries"]] == LEDGER_KINDS
        result = audit(base, verifiers[0].vkey)
        # Its tiles too: gunicorn's sync workers answer one request per connection, so the
        # requests the auditor wrote ahead are sent again, one at a time.
        tiled = audit(f"{base}/api/v1/ledger", verifiers[0].vkey, "--tiles")
    size = len(LEDGER_KINDS)
    said = f"OK {size} entries; 1 checkpoint(s) verified; tree size {size}, origin {ORIGIN}\n"
    assert (result.returncode, result.stdout) == (0, said), result.stderr
    assert (tiled.returncode, tiled.stdout) == (0, said), tiled.stderr
