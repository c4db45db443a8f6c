"""Bad input to every JSON route: refused as a 4xx problem, and nothing stored.

The issue asks that wrong types, missing fields, huge bodies, unknown fields, malformed JSON,
and SQL or script injection strings in every text field be answered with a 4xx RFC 9457
problem (`application/problem+json`, a stable `code`, and for validation the failing fields),
and that nothing of a refused request be stored. The routes come from the app's OpenAPI
document — every operation whose body is JSON — so a new JSON route is covered as soon as it
exists; the request that each sends, and who may send it, come from the permission matrix's
table (`test_access.examples`), which every route must have an entry in anyway. Each bad
request is sent as a user the route allows, without an Idempotency-Key (its stored answer
would be a legitimate row), and the row count of every table is compared before and after.

Injection strings are data, not code: a field that holds free text (a name, a reason, a
comment) must take them and store them verbatim, and return them JSON-encoded in a JSON answer
that no browser will run; a field that holds a code, an enumeration, a date or a reference
must refuse them. `FIELD_KINDS` records that decision for each field whose kind the OpenAPI
document does not show (an `enum` or a `format` there means a code).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, literal, select, union_all
from werkzeug.test import TestResponse

from tests.e2e import test_access
from tests.e2e.test_access import ALLOWED, EVERYWHERE_ONLY_ADMIN, Example, examples, routes
from tests.harness import ORIGIN
from voucher_app import create_app
from voucher_app.api.problems import PROBLEM_JSON
from voucher_app.domain.policy import Action
from voucher_app.persistence.models import Base
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import current

world = test_access.world  # the demo data and a user per kind, as the matrix has them

INJECTIONS = (
    "'; DROP TABLE vouchers;--",
    "<script>alert(1)</script>",
    "\" OR '1'='1' --",
    "{{7*7}}${7*7}",
)
#: What a field holds, where the OpenAPI document does not say (an `enum` or a `format`
#: there makes it a code): "text" is free text, taken and stored verbatim; "code" is a
#: reference or an identifier, refused unless well-formed; "secret" is taken but never stored
#: as sent (a password); "probe" is read and answered about, never stored (a token to verify).
FIELD_KINDS = {
    "username": "code",
    "password": "secret",
    "center": "code",
    "sme": "code",
    "uscc": "code",
    "owner_center": "code",
    "from_center": "code",
    "to_center": "code",
    "home_center": "code",
    "industry": "code",
    "category": "code",
    "bank_bic": "code",
    "bic": "code",
    "account": "code",  # a statement's account number
    "account_number": "code",  # digits only: banks route by them
    "bank_account_number": "code",
    "cnaps": "code",
    "bank_cnaps": "code",
    "human_code": "code",
    "passcode": "code",
    "token": "probe",
}
WRONG_TYPES: dict[str, tuple[object, ...]] = {
    "string": (12345,),
    "integer": ("twelve", "12", 1.5),  # a numeral in a string, or a fraction, is no integer
    "number": ("twelve",),
    "boolean": ("maybe",),
    "array": ("not a list",),
    "object": (["not", "an", "object"],),
}
#: Text no database column can hold: a NUL character (PostgreSQL refuses it in any text
#: column) and an unpaired surrogate (not UTF-8).
UNSTORABLE = ("nul\x00inside", "lone \ud800 surrogate")
MALFORMED = {
    "truncated": b'{"name": ',
    "not JSON": b"name=value",
    "not UTF-8": b'{"name": "\xff\xfe"}',
    "nested too deep": b"[" * 100_000 + b"]" * 100_000,
    "an array": b"[]",
    "a string": b'"text"',
    "null": b"null",
}


@pytest.fixture
def app(database_url: str, keyring: Keyring) -> Iterator[Flask]:
    """The conftest app without rate limits: dozens of refused registrations from one address
    would otherwise meet 429s instead of the validation they test (test_access tests those)."""
    application = create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keyring.directory),
            "LEDGER_ORIGIN": ORIGIN,
            "RATELIMIT_ENABLED": False,
        },
    )
    yield application
    application.extensions["voucher_app"].database.dispose()


@dataclass(frozen=True)
class JsonRoute:
    method: str
    rule: str
    #: The request body's JSON schema, references resolved.
    schema: dict[str, Any]
    #: The matrix's request, given a word that makes created names unique.
    example: Callable[[str], Example]
    headers: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.method} {self.rule}"

    def properties(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.schema.get("properties", {})
        return found

    def body(self, word: str = "bad") -> dict[str, Any]:
        return dict(self.example(word).body or {})

    def url(self) -> str:
        return self.example("bad").url


def json_routes(app: Flask, world: dict[str, object]) -> list[JsonRoute]:
    """Every route whose OpenAPI operation takes a JSON body, with a user it allows."""
    document = app.test_client().get("/api/openapi.json").get_json()
    known = examples({key: str(value) for key, value in world.items() if key != "headers"})
    headers: dict[str, dict[str, str]] = world["headers"]  # type: ignore[assignment]
    found = []
    for method, rule, action in routes(app):
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)
        operation = document["paths"].get(path, {}).get(method.lower(), {})
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        assert (method, rule) in known, f"{method} {rule}: add it to test_access.examples"
        assert action is not None, f"{method} {rule} declares no @requires"
        schema = _resolve(content["application/json"]["schema"], document)
        example = known[(method, rule)]
        who = _allowed(example("bad"), action)
        found.append(JsonRoute(method, rule, schema, example, headers[who]))
    return found


def _resolve(node: Any, document: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(document["components"]["schemas"][name], document)
        return {key: _resolve(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, document) for item in node]
    return node


def _allowed(example: Example, action: Action) -> str:
    """A kind of user the matrix lets send `example` (an admin where it can)."""
    allowed = ALLOWED[action] if example.allowed is None else set(example.allowed)
    if example.everywhere:
        allowed = allowed & EVERYWHERE_ONLY_ADMIN
    allowed = allowed - example.unconcerned
    return "admin" if "admin" in allowed else min(allowed)


def kind_of(name: str, schema: dict[str, Any]) -> str:
    if "enum" in schema or "format" in schema:
        return "code"
    return FIELD_KINDS.get(name, "text")


# ---------------------------------------------------------------------------------------------
# What the database holds


def row_counts(app: Flask) -> dict[str, int]:
    """The number of rows in every table, in one query."""
    counts = union_all(
        *(
            select(literal(table.name).label("name"), func.count().label("rows")).select_from(table)
            for table in Base.metadata.sorted_tables
        )
    )
    with app.app_context(), current().database.engine.connect() as connection:
        return {row.name: row.rows for row in connection.execute(counts)}


def stored_verbatim(app: Flask, text: str) -> bool:
    """Whether any column of any row holds exactly `text` (JSON documents searched within)."""
    with app.app_context(), current().database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                if any(_holds(value, text) for value in row):
                    return True
    return False


def json_type(schema: dict[str, Any]) -> str:
    """A property's JSON type: as the spec says, "object" for a nested schema (a `$ref`, or
    one wrapped in `allOf`), and a string when it says nothing else."""
    if "$ref" in schema or "allOf" in schema:
        return "object"
    return str(schema.get("type", "string"))


def _holds(value: object, text: str) -> bool:
    if isinstance(value, str):
        return value == text
    if isinstance(value, dict):
        return any(_holds(key, text) or _holds(item, text) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds(item, text) for item in value)
    return False


# ---------------------------------------------------------------------------------------------
# Sending and judging


def send(
    client: FlaskClient,
    route: JsonRoute,
    body: object = None,
    *,
    data: bytes | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> TestResponse:
    raw = json.dumps(body).encode() if data is None else data
    return client.open(
        route.url(),
        method=route.method,
        data=raw,
        content_type=content_type,
        headers={**route.headers, **(headers or {})},
    )


def assert_refused(
    app: Flask, answer: TestResponse, before: dict[str, int], what: str
) -> dict[str, Any]:
    """A 4xx problem document with a code, and every table as it was."""
    assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.get_data()[:500])
    assert answer.mimetype == PROBLEM_JSON, (what, answer.mimetype)
    problem: dict[str, Any] = answer.get_json()
    assert problem["status"] == answer.status_code, (what, problem)
    assert re.fullmatch(r"[a-z_]+", problem["code"]), (what, problem)
    assert row_counts(app) == before, (what, "a refused request stored something", problem)
    return problem


def assert_names(problem: dict[str, Any], field: str, what: str) -> None:
    """The problem is a validation failure naming `field` in the JSON body."""
    assert problem["code"] == "validation_failed", (what, problem)
    assert field in problem["errors"]["json"], (what, problem)


def names(problem: dict[str, Any], field: str) -> bool:
    failing = problem.get("errors", {}).get("json", {})
    return problem.get("field") == field or (isinstance(failing, dict) and field in failing)


# ---------------------------------------------------------------------------------------------
# The tests


def test_the_json_routes_are_found(app: Flask, world: dict[str, object]) -> None:
    found = {route.label for route in json_routes(app, world)}
    assert {
        "POST /api/v1/programmes",
        "POST /api/v1/providers",
        "POST /api/v1/redemptions/<uuid:redemption_id>/complaints",
        "PUT /api/v1/providers/<uuid:provider_id>/products/<uuid:product_id>",
    } <= found
    assert len(found) >= 25


def test_wrong_types_and_nulls_are_refused_naming_the_field(
    app: Flask, world: dict[str, object], subtests: pytest.Subtests
) -> None:
    client = app.test_client()
    for route in json_routes(app, world):
        for field, schema in route.properties().items():
            wrong = list(WRONG_TYPES[json_type(schema)])
            if not schema.get("nullable"):
                wrong.append(None)
            if schema.get("type") == "integer":
                wrong.append(2**70)  # no column holds it
            for value in wrong:
                what = f"{route.label} {field}={value!r}"
                with subtests.test(what):
                    before = row_counts(app)
                    answer = send(client, route, {**route.body(), field: value})
                    problem = assert_refused(app, answer, before, what)
                    assert_names(problem, field, what)


def test_missing_fields_are_refused_naming_the_field(
    app: Flask, world: dict[str, object], subtests: pytest.Subtests
) -> None:
    client = app.test_client()
    for route in json_routes(app, world):
        for field in route.schema.get("required", []):
            what = f"{route.label} without {field}"
            with subtests.test(what):
                body = route.body()
                body.pop(field, None)
                before = row_counts(app)
                problem = assert_refused(app, send(client, route, body), before, what)
                assert_names(problem, field, what)


def test_unknown_fields_are_refused_naming_the_field(
    app: Flask, world: dict[str, object], subtests: pytest.Subtests
) -> None:
    client = app.test_client()
    for route in json_routes(app, world):
        what = f"{route.label} with is_admin"
        with subtests.test(what):
            before = row_counts(app)
            answer = send(client, route, {**route.body(), "is_admin": True})
            assert_names(assert_refused(app, answer, before, what), "is_admin", what)


def test_malformed_json_is_refused(
    app: Flask, world: dict[str, object], subtests: pytest.Subtests
) -> None:
    client = app.test_client()
    for route in json_routes(app, world):
        cases = [(name, data, "application/json") for name, data in MALFORMED.items()]
        cases.append(("JSON sent as text", json.dumps(route.body()).encode(), "text/plain"))
        for name, data, content_type in cases:
            what = f"{route.label}: {name}"
            with subtests.test(what):
                before = row_counts(app)
                answer = send(client, route, data=data, content_type=content_type)
                problem = assert_refused(app, answer, before, what)
                assert answer.status_code in (400, 415, 422), (what, problem)
                assert problem["code"] == "validation_failed", (what, problem)


def test_huge_bodies_are_refused_as_too_large(
    app: Flask, world: dict[str, object], subtests: pytest.Subtests
) -> None:
    client = app.test_client()
    limit = app.config["MAX_CONTENT_LENGTH"]
    for route in json_routes(app, world):
        field = next(iter(route.properties()))
        body = json.dumps({**route.body(), field: "x" * limit}).encode()
        for headers in ({}, {"Idempotency-Key": "huge-body"}):
            what = f"{route.label} {len(body)} bytes {headers}"
            with subtests.test(what):
                before = row_counts(app)
                answer = send(client, route, data=body, headers=headers)
                problem = assert_refused(app, answer, before, what)
                assert (answer.status_code, problem["code"]) == (413, "request_entity_too_large")


def test_unstorable_text_is_refused_naming_the_field(
    app: Flask, world: dict[str, object], subtests: pytest.Subtests
) -> None:
    client = app.test_client()
    for route in json_routes(app, world):
        for field, schema in route.properties().items():
            if json_type(schema) != "string":
                continue
            for text in UNSTORABLE:
                what = f"{route.label} {field}={text!r}"
                with subtests.test(what):
                    before = row_counts(app)
                    answer = send(client, route, {**route.body(), field: text})
                    problem = assert_refused(app, answer, before, what)
                    assert_names(problem, field, what)


def test_injection_strings_are_refused_or_stored_verbatim(
    app: Flask, world: dict[str, object], subtests: pytest.Subtests
) -> None:
    """A code refuses them; free text takes them, stores them as sent and answers with them
    JSON-encoded; a secret or a probe is never stored as sent; nothing answers 5xx."""
    client = app.test_client()
    serial = 0
    # A provider decision (the matrix suspends) goes last: its products' routes would be
    # refused as `provider_not_approved` after it, and never show what they store.
    ordered = sorted(json_routes(app, world), key=lambda route: route.rule.endswith("/decision"))
    for route in ordered:
        for field, schema in route.properties().items():
            if json_type(schema) != "string":
                continue
            kind = kind_of(field, schema)
            for injection in INJECTIONS:
                serial += 1
                text = f"{injection} {serial}"  # unique: where it is stored tells who stored it
                what = f"{route.label} {field} ({kind}) = {text!r}"
                with subtests.test(what):
                    before = row_counts(app)
                    answer = send(client, route, {**route.body(f"inj{serial}"), field: text})
                    assert answer.status_code < 500, (what, answer.get_data()[:500])
                    if answer.status_code >= 400:
                        problem = assert_refused(app, answer, before, what)
                        if kind == "text":  # refused maybe, but not for holding this text
                            assert not names(problem, field), (what, problem)
                        if kind in ("secret", "probe"):
                            assert not stored_verbatim(app, text), what
                        continue
                    assert kind != "code", (what, "a code took an injection string")
                    assert answer.mimetype == "application/json", what
                    assert answer.headers["X-Content-Type-Options"] == "nosniff", what
                    echoed = answer.get_json()
                    if isinstance(echoed, dict) and field in echoed:
                        assert echoed[field] == text, (what, echoed)
                    assert stored_verbatim(app, text) == (kind == "text"), what
