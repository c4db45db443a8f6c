"""Who may call what, over HTTP: the permission matrix, generated from the route map, and the
sign-in, token and registration flows.

Every API route must declare its action (`@requires`) and have an example request below: a
new route without either fails `test_every_route_declares_its_access_and_has_an_example`. The
matrix sends each example as each kind of user — nobody, an SME, a provider, Shenzhen's staff
and admin, Guangzhou's staff, the province's auditor, an admin — and checks the answer
against the table of who may do what (401 for nobody, 403 for the refused, anything else for
the allowed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.e2e.accounts import PASSWORD, bearer
from tests.e2e.uploads import Field, send_form
from tests.integration.test_settlement import FUNDING
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.policy import Action
from voucher_app.http.policy import ACCESS_ATTRIBUTE
from voucher_app.persistence.models import (
    Product,
    Programme,
    Provider,
    Redemption,
    SecurityEvent,
)
from voucher_app.services import demo, settlement, tracking, users, vouchers
from voucher_app.services.users import NewUser
from voucher_app.wiring import current

SHENZHEN_SME = demo.SMES[0].uscc  # home: Nanshan (440305), below Shenzhen (440300)
CASES = (
    "nobody",
    "sme",
    "provider",
    "staff-shenzhen",
    "admin-shenzhen",
    "finance-shenzhen",
    "staff-guangzhou",
    "auditor-province",
    "admin",
)
#: Who may take each action where the examples take it (a Shenzhen center, or everywhere).
ALLOWED: dict[Action, set[str]] = {
    Action.READ_PUBLIC: set(CASES),
    Action.READ_OWN_ACCOUNT: set(CASES) - {"nobody"},
    Action.MANAGE_OWN_ACCOUNT: set(CASES) - {"nobody"},
    Action.OBJECT: set(CASES) - {"nobody"},  # anyone signed in, anywhere
    Action.READ_CENTER: {
        "staff-shenzhen",
        "admin-shenzhen",
        "finance-shenzhen",
        "auditor-province",
        "admin",
    },
    Action.READ_CONCERNED: {
        "sme",
        "provider",
        "staff-shenzhen",
        "admin-shenzhen",
        "finance-shenzhen",
        "auditor-province",
        "admin",
    },
    Action.ACT_AS_SME: {"sme", "admin"},
    Action.ACT_AS_PROVIDER: {"provider", "admin"},
    Action.REVIEW: {"staff-shenzhen", "admin-shenzhen", "admin"},
    Action.ISSUE: {"staff-shenzhen", "admin-shenzhen", "admin"},
    Action.MOVE_BUDGET: {"admin-shenzhen", "admin"},
    Action.SETTLE: {"finance-shenzhen", "admin"},  # reviewers approve, finance pays
    Action.ADMINISTER: {"admin-shenzhen", "admin"},
}
EVERYWHERE_ONLY_ADMIN = {"admin"}
#: The machine-readable routes this matrix covers (the pages answer people, not with 401s).
API_PATHS = ("/api/", "/.well-known/", "/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class Example:
    method: str
    url: str
    body: dict[str, object] | None = None
    #: When the example touches the whole system or the province, only an admin (no Shenzhen
    #: user) may.
    everywhere: bool = False
    #: Cases the thing does not concern, though their role may read such things (a provider
    #: reads its redemptions, not an SME's vouchers).
    unconcerned: frozenset[str] = frozenset()
    #: Who may, when the example is not about Shenzhen (it replaces the action's row).
    allowed: frozenset[str] | None = None
    #: A multipart form (a file upload) instead of a JSON body.
    form: dict[str, Field] | None = None

    def send(self, client: FlaskClient, headers: dict[str, str]) -> TestResponse:
        if self.form is None:
            return client.open(self.url, method=self.method, json=self.body, headers=headers)
        return send_form(client, self.url, self.form, headers, self.method)


@pytest.fixture
def world(app: Flask, runner: FlaskCliRunner) -> dict[str, object]:
    """The demo data, a user per case, and a pending SME registration to approve; the SME and
    provider users are those of the demo's approved redemption on a Nanshan voucher."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        with current().database.engine.connect() as connection:
            redemption, provider = connection.execute(
                select(Redemption.public_id, Provider.public_id)
                .join(Provider, Provider.id == Redemption.provider_id)
                .where(Redemption.status == "approved")
            ).one()
            programme = connection.execute(select(Programme.public_id)).scalar_one()
            product = connection.execute(
                select(Product.public_id)
                .join(Provider, Provider.id == Product.provider_id)
                .where(Provider.public_id == provider)
                .limit(1)
            ).scalar_one()
        uow = current().uow()
        unused = [v for v in vouchers.list_vouchers(uow, SHENZHEN_SME) if v.remaining_fen][-1]
        complaint = tracking.file_complaint(
            uow, redemption, "报告迟交", Actor("sme-clerk", Role.SME)
        )
        finance = Actor("finance", Role.CENTER_FINANCE)
        settlement.set_funding_account(uow, programme, FUNDING, Actor("admin", Role.ADMIN))
        batch = settlement.build_batch(uow, programme, "440300", finance)
    headers: dict[str, dict[str, str]] = {
        "nobody": {},
        "sme": bearer(app, Role.SME, sme=SHENZHEN_SME),
        "provider": bearer(app, Role.PROVIDER, provider=provider),
        "staff-shenzhen": bearer(app, Role.CENTER_STAFF, center="440300"),
        "admin-shenzhen": bearer(app, Role.CENTER_ADMIN, center="440300"),
        "finance-shenzhen": bearer(app, Role.CENTER_FINANCE, center="440300"),
        "staff-guangzhou": bearer(app, Role.CENTER_STAFF, center="440100"),
        "auditor-province": bearer(app, Role.AUDITOR, center="440000"),
        "admin": bearer(app, Role.ADMIN),
    }
    client = app.test_client()
    pending = client.post(
        "/api/v1/register",
        json={"username": "yunfan", "password": PASSWORD, "role": "sme", "sme": SHENZHEN_SME},
    )
    assert pending.status_code == 201, pending.get_json()
    return {
        "headers": headers,
        "pending": pending.get_json()["id"],
        "redemption": str(redemption),
        "provider": str(provider),
        "programme": str(programme),
        "voucher": str(unused.id),
        "complaint": str(complaint.id),
        "batch": str(batch.id),
        "product": str(product),
    }


def examples(world: dict[str, str]) -> dict[tuple[str, str], Callable[[str], Example]]:
    """One request per route and method; `case` makes names unique where a request creates."""
    token = str(uuid.uuid4())
    redemptions = "/api/v1/redemptions/<uuid:redemption_id>"
    pending, redemption, provider = world["pending"], world["redemption"], world["provider"]
    voucher, complaint = world["voucher"], world["complaint"]
    programmes = "/api/v1/programmes/<uuid:programme_id>"
    programme = world["programme"]
    move = {"from_center": "440300", "to_center": "440305", "amount_fen": 100}
    providers = "/api/v1/providers/<uuid:provider_id>"
    guangzhou = frozenset({"staff-guangzhou", "auditor-province", "admin"})  # the provider's
    batch = world["batch"]
    product = f"/api/v1/providers/{provider}/products/{world['product']}"
    terms = {
        "name": "代理记账",
        "category": "accounting_tax",
        "price_fen": 120_000,
        "standard": "按月出具报表",
        "time_limit_days": 30,
        "fee_rules": "按月收费",
    }
    return {
        ("PUT", f"{programmes}/funding-account"): lambda case: Example(
            "PUT",
            f"/api/v1/programmes/{programme}/funding-account",
            {"bank_name": "中国银行", "account_name": "专户", "account_number": "62166000010"},
            everywhere=True,
        ),  # the demo's programme is the province's
        ("GET", "/api/v1/bank-accounts"): lambda case: Example(
            "GET", "/api/v1/bank-accounts?center=440300"
        ),
        ("PUT", "/api/v1/bank-accounts"): lambda case: Example(
            "PUT",
            "/api/v1/bank-accounts",
            {
                "center": "440300",
                "bank_name": "中国银行深圳分行",
                "account_name": "深圳市中小企业服务中心",
                "account_number": "744000000000088",
                "cnaps": "104584000003",
            },
        ),
        ("PUT", f"{providers}/bank-account"): lambda case: Example(
            "PUT",
            f"/api/v1/providers/{provider}/bank-account",
            {
                "bank_name": "中国工商银行广州天河支行",
                "account_name": "广州天河财税咨询有限公司",
                "account_number": "3602000109000123456",
                "cnaps": "102581000013",
            },
        ),
        ("GET", "/api/v1/statements/reconciliation/export"): lambda case: Example(
            "GET", "/api/v1/statements/reconciliation/export?center=440300&format=xlsx"
        ),
        ("POST", "/api/v1/batches/<uuid:batch_id>/approval"): lambda case: Example(
            "POST", f"/api/v1/batches/{batch}/approval"
        ),
        ("PUT", f"{providers}/products/<uuid:product_id>"): lambda case: Example(
            "PUT", product, terms
        ),
        ("DELETE", f"{providers}/products/<uuid:product_id>"): lambda case: Example(
            "DELETE", product
        ),
        ("POST", f"{programmes}/issuance"): lambda case: Example(
            "POST",
            f"/api/v1/programmes/{programme}/issuance",
            form={"center": "440300", "file": (f"uscc\n{SHENZHEN_SME}\n".encode(), "l.csv")},
        ),
        ("POST", "/api/v1/statements"): lambda case: Example(
            "POST", "/api/v1/statements", form={"center": "440300", "file": (b"<x/>", "s.xml")}
        ),
        ("PUT", "/api/v1/statements/mappings"): lambda case: Example(
            "PUT",
            "/api/v1/statements/mappings",
            {
                "center": "440300",
                "name": "bank",
                "end_to_end_id": "ref",
                "amount": "amt",
                "direction": "dc",
                "booked_on": "date",
            },
        ),
        ("GET", "/api/v1/statements/reconciliation"): lambda case: Example(
            "GET", "/api/v1/statements/reconciliation?center=440300"
        ),
        ("POST", f"{redemptions}/resubmit"): lambda case: Example(
            "POST",
            f"/api/v1/redemptions/{redemption}/resubmit",
            {
                "invoice_number": f"R-{case}",
                "invoiced_fen": 100,
                "delivered_on": "2026-01-02",
                "category": "accounting_tax",
            },
        ),
        ("POST", "/api/v1/ledger/entries/<uuid:entry_id>/reverse"): lambda case: Example(
            "POST", f"/api/v1/ledger/entries/{token}/reverse", everywhere=True
        ),
        ("POST", "/api/v1/programmes/<uuid:programme_id>/batches"): lambda case: Example(
            "POST", f"/api/v1/programmes/{world['programme']}/batches", {"center": "440300"}
        ),
        ("GET", "/api/v1/batches/<uuid:batch_id>"): lambda case: Example(
            "GET", f"/api/v1/batches/{batch}"
        ),
        ("POST", "/api/v1/batches/<uuid:batch_id>/export"): lambda case: Example(
            "POST", f"/api/v1/batches/{batch}/export?format=csv"
        ),
        ("POST", "/api/v1/batches/<uuid:batch_id>/cancel"): lambda case: Example(
            "POST", f"/api/v1/batches/{batch}/cancel", {"reason": "wrong month"}
        ),
        ("POST", "/api/v1/smes"): lambda case: Example(
            "POST",
            "/api/v1/smes",
            {
                "uscc": SHENZHEN_SME,
                "name": "深圳市南山区云帆软件有限公司",
                "industry": "software_it",
                "employees": 9,
                "revenue_fen": 30_000_000,
                "assets_fen": 20_000_000,
                "home_center": "440305",
            },
        ),  # an update: refused as `sme_exists` unless the SME or its center sends it
        ("GET", "/api/v1/smes/<string:uscc>"): lambda case: Example(
            "GET", f"/api/v1/smes/{SHENZHEN_SME}", unconcerned=frozenset({"provider"})
        ),
        ("GET", "/api/v1/smes/<string:uscc>/related-parties"): lambda case: Example(
            "GET",
            f"/api/v1/smes/{SHENZHEN_SME}/related-parties",
            unconcerned=frozenset({"provider"}),
        ),
        ("POST", "/api/v1/smes/<string:uscc>/related-parties"): lambda case: Example(
            "POST",
            f"/api/v1/smes/{SHENZHEN_SME}/related-parties",
            {"related_uscc": "91440104MA9DE0009X", "relation": "other", "reason": "核查"},
        ),
        ("POST", "/api/v1/providers"): lambda case: Example(
            "POST",
            "/api/v1/providers",
            {
                "uscc": "91440104MA9DE0009X",
                "name": "广州越秀法律服务所",
                "service_categories": ["legal"],
                "contact_name": "李律师",
                "contact_phone": "+86 20 8000 0000",
                "contact_email": "law@example.cn",
                "bank_name": "中国银行",
                "bank_account_name": "广州越秀法律服务所",
                "bank_account_number": "744000000000001",
                "bank_cnaps": "102581000013",
                "center": "440104",
            },
        ),
        ("GET", providers): lambda case: Example(
            "GET", f"/api/v1/providers/{provider}", allowed=guangzhou | {"provider"}
        ),
        ("POST", f"{providers}/decision"): lambda case: Example(
            "POST",
            f"/api/v1/providers/{provider}/decision",
            {"decision": "suspend", "reason": "review"},
            allowed=guangzhou - {"auditor-province"},
        ),
        ("POST", f"{providers}/products"): lambda case: Example(
            "POST",
            f"/api/v1/providers/{provider}/products",
            {
                "name": f"代理记账 {case}",
                "category": "accounting_tax",
                "price_fen": 120_000,
                "standard": "按月出具报表",
                "time_limit_days": 30,
                "fee_rules": "按月收费",
            },
        ),
        ("POST", "/api/v1/programmes"): lambda case: Example(
            "POST",
            "/api/v1/programmes",
            {
                "name": f"深圳市服务券 {case}",
                "owner_center": "440300",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "total_budget_fen": 100_000_000,
                "subsidy_rate_bp": 5000,
                "sme_cap_fen": 1_000_000,
                "voucher_face_value_fen": 500_000,
                "voucher_validity_days": 90,
                "partial_spending": True,
                "service_categories": ["legal"],
                "accepted_sizes": ["small", "micro"],
            },
        ),
        ("GET", programmes): lambda case: Example("GET", f"/api/v1/programmes/{programme}"),
        ("POST", f"{programmes}/funding"): lambda case: Example(
            "POST", f"/api/v1/programmes/{programme}/funding", {"amount_fen": 100}, True
        ),  # the demo's programme is the province's
        ("POST", f"{programmes}/allocations"): lambda case: Example(
            "POST", f"/api/v1/programmes/{programme}/allocations", move
        ),
        ("POST", f"{programmes}/clawbacks"): lambda case: Example(
            "POST",
            f"/api/v1/programmes/{programme}/clawbacks",
            {**move, "from_center": "440305", "to_center": "440300"},
        ),
        ("GET", f"{programmes}/budget"): lambda case: Example(
            "GET", f"/api/v1/programmes/{programme}/budget?center=440305"
        ),
        ("POST", f"{redemptions}/rating"): lambda case: Example(
            "POST", f"/api/v1/redemptions/{redemption}/rating", {"score": 4}
        ),
        ("POST", f"{redemptions}/complaints"): lambda case: Example(
            "POST", f"/api/v1/redemptions/{redemption}/complaints", {"text": f"complaint {case}"}
        ),
        ("POST", f"{redemptions}/objections"): lambda case: Example(
            "POST", f"/api/v1/redemptions/{redemption}/objections", {"text": f"objection {case}"}
        ),  # anyone signed in; the demo's claims are on no notice (409 not_on_notice)
        ("GET", "/api/v1/notice/<string:center>/<string:day>"): lambda case: Example(
            "GET", "/api/v1/notice/440300/2026-03-02"
        ),
        ("GET", "/api/v1/review"): lambda case: Example("GET", "/api/v1/review?center=440300"),
        ("GET", "/api/v1/complaints"): lambda case: Example(
            "GET", "/api/v1/complaints?center=440300"
        ),
        ("POST", "/api/v1/complaints/<uuid:complaint_id>/resolve"): lambda case: Example(
            "POST", f"/api/v1/complaints/{complaint}/resolve", {"resolution": "fixed"}
        ),
        ("GET", "/api/v1/smes/<string:uscc>/vouchers"): lambda case: Example(
            "GET", f"/api/v1/smes/{SHENZHEN_SME}/vouchers", unconcerned=frozenset({"provider"})
        ),
        ("POST", "/api/v1/smes/<string:uscc>/vouchers"): lambda case: Example(
            "POST", f"/api/v1/smes/{SHENZHEN_SME}/vouchers", {"programme_id": world["programme"]}
        ),
        ("POST", "/api/v1/vouchers/<uuid:voucher_id>/passcode"): lambda case: Example(
            "POST", f"/api/v1/vouchers/{voucher}/passcode"
        ),
        ("POST", "/api/v1/vouchers/<uuid:voucher_id>/revoke"): lambda case: Example(
            "POST", f"/api/v1/vouchers/{voucher}/revoke", {"reason": "closed"}
        ),
        ("POST", "/api/v1/providers/<uuid:provider_id>/redemptions"): lambda case: Example(
            "POST",
            f"/api/v1/providers/{provider}/redemptions",
            {
                "human_code": "XXXX-XXXX",
                "passcode": "000000",
                "invoice_number": f"M-{case}",
                "invoiced_fen": 100,
                "delivered_on": "2026-01-02",
                "category": "accounting_tax",
            },
        ),
        ("GET", redemptions): lambda case: Example("GET", f"/api/v1/redemptions/{redemption}"),
        ("GET", f"{redemptions}/history"): lambda case: Example(
            "GET", f"/api/v1/redemptions/{redemption}/history"
        ),
        ("POST", f"{redemptions}/confirm"): lambda case: Example(
            "POST", f"/api/v1/redemptions/{redemption}/confirm"
        ),
        ("POST", f"{redemptions}/dispute"): lambda case: Example(
            "POST", f"/api/v1/redemptions/{redemption}/dispute", {"reason": "not delivered"}
        ),
        ("POST", f"{redemptions}/approve"): lambda case: Example(
            "POST", f"/api/v1/redemptions/{redemption}/approve"
        ),
        ("POST", f"{redemptions}/reject"): lambda case: Example(
            "POST", f"/api/v1/redemptions/{redemption}/reject", {"reason": "no proof"}
        ),
        ("POST", "/api/v1/auth/login"): lambda case: Example(
            "POST", "/api/v1/auth/login", {"username": "", "password": ""}
        ),  # refused as invalid (422), not as unauthorised: signing in is public
        ("POST", "/api/v1/auth/logout"): lambda case: Example("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/auth/me"): lambda case: Example("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/auth/tokens"): lambda case: Example("GET", "/api/v1/auth/tokens"),
        ("POST", "/api/v1/auth/tokens"): lambda case: Example(
            "POST", "/api/v1/auth/tokens", {"name": f"matrix {case}"}
        ),
        ("DELETE", "/api/v1/auth/tokens/<uuid:token_id>"): lambda case: Example(
            "DELETE", f"/api/v1/auth/tokens/{token}"
        ),
        ("GET", "/api/v1/users"): lambda case: Example("GET", "/api/v1/users", everywhere=True),
        ("POST", "/api/v1/users"): lambda case: Example(
            "POST",
            "/api/v1/users",
            {
                "username": f"nanshan-{case}",
                "password": PASSWORD,
                "role": "center_staff",
                "center": "440305",
            },
        ),
        ("POST", "/api/v1/users/<uuid:user_id>/status"): lambda case: Example(
            "POST", f"/api/v1/users/{pending}/status", {"status": "active"}
        ),
        ("POST", "/api/v1/register"): lambda case: Example(
            "POST",
            "/api/v1/register",
            {"username": f"reg-{case}", "password": PASSWORD, "role": "sme", "sme": "x"},
        ),
        ("GET", "/api/v1/reports/spend"): lambda case: Example(
            "GET", "/api/v1/reports/spend?center=440300"
        ),
        ("GET", "/api/v1/reports/spend/file"): lambda case: Example(
            "GET", "/api/v1/reports/spend/file?center=440300&format=csv"
        ),
        ("GET", "/api/v1/reports/kpis"): lambda case: Example(
            "GET", "/api/v1/reports/kpis?center=440305"
        ),
        ("GET", "/api/v1/reports/evaluation"): lambda case: Example(
            "GET", "/api/v1/reports/evaluation?center=440305&year=2026"
        ),
        ("GET", "/api/v1/reports/evaluation/file"): lambda case: Example(
            "GET", "/api/v1/reports/evaluation/file?center=440305&year=2026&format=xlsx"
        ),
        ("GET", "/api/v1/catalogue"): lambda case: Example("GET", "/api/v1/catalogue"),
        ("POST", "/api/v1/vouchers/verify"): lambda case: Example(
            "POST", "/api/v1/vouchers/verify", {"token": "not.a.token"}
        ),
        ("GET", "/.well-known/jwks.json"): lambda case: Example("GET", "/.well-known/jwks.json"),
        ("GET", "/healthz"): lambda case: Example("GET", "/healthz"),
        ("GET", "/readyz"): lambda case: Example("GET", "/readyz"),
        ("GET", "/metrics"): lambda case: Example("GET", "/metrics", everywhere=True),
        ("GET", "/api/docs"): lambda case: Example("GET", "/api/docs"),
        ("GET", "/api/v1/uscc/<string:code>"): lambda case: Example(
            "GET", f"/api/v1/uscc/{SHENZHEN_SME}"
        ),
        ("GET", "/api/v1/ledger/checkpoint"): lambda case: Example(
            "GET", "/api/v1/ledger/checkpoint"
        ),
        ("GET", "/api/v1/ledger/vkey"): lambda case: Example("GET", "/api/v1/ledger/vkey"),
        ("GET", "/api/v1/ledger/tile/<path:path>"): lambda case: Example(
            "GET", "/api/v1/ledger/tile/0/000.p/1"
        ),
        ("GET", "/api/v1/ledger/entries"): lambda case: Example(
            "GET", "/api/v1/ledger/entries?start=0&end=2"
        ),
        ("GET", "/api/v1/ledger/proofs/inclusion"): lambda case: Example(
            "GET", "/api/v1/ledger/proofs/inclusion?index=0&tree_size=2"
        ),
        ("GET", "/api/v1/ledger/proofs/consistency"): lambda case: Example(
            "GET", "/api/v1/ledger/proofs/consistency?first=1&second=2"
        ),
    }


def routes(app: Flask) -> list[tuple[str, str, Action | None]]:
    """Every API route and method, with the action its view declares (None: none)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("api-docs"):
            continue
        if not rule.rule.startswith(API_PATHS):
            continue  # a page: tests/e2e/test_pages.py checks who sees it
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            handler = getattr(view_class, method.lower(), None)
            found.append((method, rule.rule, getattr(handler, ACCESS_ATTRIBUTE, None)))
    return found


def test_every_route_declares_its_access_and_has_an_example(app: Flask) -> None:
    names = (
        "pending",
        "redemption",
        "provider",
        "voucher",
        "complaint",
        "programme",
        "batch",
        "product",
    )
    known = examples(dict.fromkeys(names, "x"))
    for method, rule, action in routes(app):
        assert action is not None, f"{method} {rule} declares no @requires"
        assert (method, rule) in known, f"{method} {rule} has no example in the matrix"


def test_the_permission_matrix(app: Flask, world: dict[str, object]) -> None:
    headers: dict[str, dict[str, str]] = world["headers"]  # type: ignore[assignment]
    known = examples({key: str(value) for key, value in world.items() if key != "headers"})
    client = app.test_client()
    checked = 0
    for method, rule, action in routes(app):
        assert action is not None
        for case in CASES:
            example = known[(method, rule)](case)
            allowed = ALLOWED[action] if example.allowed is None else set(example.allowed)
            if example.everywhere:
                allowed = allowed & EVERYWHERE_ONLY_ADMIN
            allowed = allowed - example.unconcerned
            answer = example.send(client, headers[case])
            if case in allowed:
                assert answer.status_code not in (401, 403), (method, rule, case, answer.json)
            elif case == "nobody":
                assert answer.status_code == 401, (method, rule, case, answer.json)
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            else:
                assert answer.status_code == 403, (method, rule, case, answer.json)
                assert answer.get_json()["code"] == "permission_denied"
            checked += 1
    assert checked == len(routes(app)) * len(CASES)


def test_a_refusal_is_in_the_security_log(app: Flask, world: dict[str, object]) -> None:
    headers: dict[str, dict[str, str]] = world["headers"]  # type: ignore[assignment]
    client = app.test_client()
    answer = client.get("/api/v1/reports/spend?center=440300", headers=headers["staff-guangzhou"])
    assert answer.status_code == 403
    with app.app_context(), current().database.engine.connect() as connection:
        denied = connection.execute(
            select(SecurityEvent.details).where(SecurityEvent.kind == "permission_denied")
        ).all()
    assert [row.details for row in denied] == [{"action": "read_center"}]


def test_sign_in_a_token_and_its_revocation(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        parts = current()
        users.create_user(
            parts.uow(),
            NewUser("admin.one", PASSWORD, Role.ADMIN),
            parts.hasher,
            Actor("test", Role.ADMIN),
        )
    assert client.get("/api/v1/auth/me").status_code == 401
    wrong = client.post("/api/v1/auth/login", json={"username": "admin.one", "password": "no"})
    assert (wrong.status_code, wrong.get_json()["code"]) == (401, "invalid_credentials")
    signed_in = client.post(
        "/api/v1/auth/login", json={"username": "admin.one", "password": PASSWORD}
    )
    assert signed_in.status_code == 200 and signed_in.get_json()["role"] == "admin"
    assert client.get("/api/v1/auth/me").get_json()["username"] == "admin.one"
    made = client.post("/api/v1/auth/tokens", json={"name": "scanner", "scopes": ["read"]})
    assert made.status_code == 201
    secret, token_id = made.get_json()["token"], made.get_json()["id"]
    listed = client.get("/api/v1/auth/tokens").get_json()
    assert [t["name"] for t in listed] == ["scanner"] and "token" not in listed[0]
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    bearer_header = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/auth/me", headers=bearer_header).status_code == 200
    writing = client.post("/api/v1/auth/tokens", json={"name": "x"}, headers=bearer_header)
    assert writing.status_code == 403  # a read-only token changes nothing, not even tokens
    revoked = client.delete(f"/api/v1/auth/tokens/{token_id}", headers=bearer_header)
    assert revoked.status_code == 403  # revoking is a change too: sign in to do it
    client.post("/api/v1/auth/login", json={"username": "admin.one", "password": PASSWORD})
    assert client.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 200
    gone = client.get("/api/v1/auth/me", headers=bearer_header)
    assert (gone.status_code, gone.get_json()["code"]) == (401, "invalid_credentials")
    malformed = client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 401


def test_five_failed_sign_ins_lock_the_account(app: Flask, client: FlaskClient) -> None:
    bearer(app, Role.ADMIN)  # makes a user named admin-…; sign in as another one below
    with app.app_context():
        parts = current()
        users.create_user(
            parts.uow(),
            NewUser("locked.out", PASSWORD, Role.ADMIN),
            parts.hasher,
            Actor("test", Role.ADMIN),
        )
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "locked.out", "password": "bad"})
    locked = client.post(
        "/api/v1/auth/login", json={"username": "locked.out", "password": PASSWORD}
    )
    assert (locked.status_code, locked.get_json()["code"]) == (401, "account_locked")


def test_a_registration_waits_for_its_centers_approval(
    app: Flask, world: dict[str, object]
) -> None:
    headers: dict[str, dict[str, str]] = world["headers"]  # type: ignore[assignment]
    client = app.test_client()
    waiting = client.post("/api/v1/auth/login", json={"username": "yunfan", "password": PASSWORD})
    assert (waiting.status_code, waiting.get_json()["code"]) == (401, "account_inactive")
    url = f"/api/v1/users/{world['pending']}/status"
    sibling = client.post(url, json={"status": "active"}, headers=headers["staff-guangzhou"])
    assert sibling.status_code == 403
    approved = client.post(url, json={"status": "active"}, headers=headers["staff-shenzhen"])
    assert approved.status_code == 200 and approved.get_json()["status"] == "active"
    signed_in = client.post("/api/v1/auth/login", json={"username": "yunfan", "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.get_json()["sme"] == SHENZHEN_SME


def test_the_users_commands_make_the_first_admin_and_a_token(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient
) -> None:
    made = runner.invoke(
        args=["users", "create", "root.admin", "--role", "admin", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert made.exit_code == 0, made.output
    user_id = made.output.split("(", 1)[1].split(")", 1)[0]
    weak = runner.invoke(
        args=["users", "create", "weak.one", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert weak.exit_code == 1 and "weak_password" in weak.output
    unbound = runner.invoke(
        args=["users", "create", "staff.x", "--role", "center_staff", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert unbound.exit_code == 1 and "bound to one center" in unbound.output
    listed = runner.invoke(args=["users", "list"])
    assert listed.output.split()[:3] == ["root.admin", "admin", "active"]
    token = runner.invoke(args=["users", "token", user_id, "--name", "ops", "--scope", "read"])
    assert token.exit_code == 0, token.output
    secret = token.output.strip().splitlines()[-1]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.get_json()["username"] == "root.admin"
    disabled = runner.invoke(args=["users", "status", user_id, "disabled"])
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    refused = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401


def test_signing_in_is_rate_limited_per_client(client: FlaskClient) -> None:
    answers = [
        client.post("/api/v1/auth/login", json={"username": f"u{n}x", "password": "p"})
        for n in range(11)
    ]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert answers[10].status_code == 429
    assert answers[10].mimetype == "application/problem+json"
    assert answers[10].get_json()["code"] == "too_many_requests"
    assert "Retry-After" in answers[10].headers


def test_every_answer_carries_the_security_headers(client: FlaskClient) -> None:
    for answer in (client.get("/healthz"), client.get("/api/v1/auth/me")):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"
