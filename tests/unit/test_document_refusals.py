"""Why `parse_entry` refuses a published entry (`voucher_app.ledger.document`).

The auditor prints the reason beside the entry's index, so the reason must point at the part of
DESIGN §4's entry format that is broken: not an object; a value JSON cannot hold; the set of
fields; the id, kind, created_at or reverses not in their published form (quoting the value);
postings that are not a non-empty list of {account, amount_fen} with non-zero integers (quoting
the posting); a created_at that is no real instant; postings out of account order; an amount
beyond ±(2**53 - 1). Anything else the grammar refuses is quoted, cut at 160 characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.test_document import ENTRY_ID, sample_document
from voucher_app.domain.money import MAX_FEN
from voucher_app.ledger.document import MalformedEntry, parse_entry

FIELDS = "['actor', 'created_at', 'id', 'kind', 'postings', 'refs', 'reverses']"
NOT_AN_INTEGER = "each posting is {account, amount_fen} with a non-zero integer: "


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = sample_document()
    change(document)
    return document


def setting(key: str, value: object) -> dict[str, Any]:
    return edited(lambda d: d.__setitem__(key, value))


def with_first_posting(field: str, value: object) -> dict[str, Any]:
    return edited(lambda d: d["postings"][0].__setitem__(field, value))


def first_posting(document: dict[str, Any]) -> object:
    postings: list[object] = document["postings"]
    return postings[0]


def quoted(document: dict[str, Any]) -> str:
    return f"does not follow the entry format (DESIGN §4): {str(document)[:160]}"


def refusals() -> list[Any]:
    missing_refs = edited(lambda d: d.pop("refs"))
    extra = setting("memo", "x")
    float_amount = with_first_posting("amount_fen", 1.5)
    zero_amount = with_first_posting("amount_fen", 0)
    bool_amount = with_first_posting("amount_fen", True)
    no_amount = edited(lambda d: d["postings"][0].pop("amount_fen"))
    actor_without_role = setting("actor", {"id": "u"})
    ref_upper = setting("refs", {"Programme": "p"})
    return [
        pytest.param([sample_document()], "an entry must be a JSON object", id="array"),
        pytest.param(None, "an entry must be a JSON object", id="null"),
        pytest.param(
            setting("refs", {"programme": 2**64}),
            "an entry holds only strings, integers and null (Integer exceeds 64-bit range)",
            id="integer-beyond-json",
        ),
        pytest.param(
            missing_refs,
            f"an entry has exactly the fields {FIELDS}, not "
            "['actor', 'created_at', 'id', 'kind', 'postings', 'reverses']",
            id="missing-field",
        ),
        pytest.param(
            extra,
            f"an entry has exactly the fields {FIELDS}, not "
            "['actor', 'created_at', 'id', 'kind', 'memo', 'postings', 'refs', 'reverses']",
            id="extra-field",
        ),
        pytest.param(
            setting("id", ENTRY_ID.upper()),
            f"id is not in its published format: {ENTRY_ID.upper()!r}",
            id="id-upper-case",
        ),
        pytest.param(setting("id", 17), "id is not in its published format: 17", id="id-number"),
        pytest.param(
            setting("kind", "FUND"), "kind is not in its published format: 'FUND'", id="kind"
        ),
        pytest.param(
            setting("created_at", "2026-11-27T07:39:51Z"),
            "created_at is not in its published format: '2026-11-27T07:39:51Z'",
            id="created-at-no-fraction",
        ),
        pytest.param(
            setting("reverses", "entry-1"),
            "reverses is not in its published format: 'entry-1'",
            id="reverses-not-uuid",
        ),
        pytest.param(setting("postings", {}), "postings must be a non-empty list", id="object"),
        pytest.param(setting("postings", []), "postings must be a non-empty list", id="empty"),
        pytest.param(
            float_amount, NOT_AN_INTEGER + repr(first_posting(float_amount)), id="amount-float"
        ),
        pytest.param(
            zero_amount, NOT_AN_INTEGER + repr(first_posting(zero_amount)), id="amount-zero"
        ),
        pytest.param(
            bool_amount, NOT_AN_INTEGER + repr(first_posting(bool_amount)), id="amount-bool"
        ),
        pytest.param(
            no_amount, NOT_AN_INTEGER + repr(first_posting(no_amount)), id="amount-missing"
        ),
        pytest.param(setting("postings", [5]), NOT_AN_INTEGER + "5", id="posting-a-number"),
        pytest.param(actor_without_role, quoted(actor_without_role), id="actor-missing-role"),
        pytest.param(ref_upper, quoted(ref_upper), id="ref-name-upper-case"),
        pytest.param(
            setting("created_at", "2026-13-45T25:61:61.123456Z"),
            "created_at names no real instant",
            id="created-at-month-13",
        ),
        pytest.param(
            edited(lambda d: d["postings"].reverse()),
            "postings must be in account order",
            id="postings-out-of-order",
        ),
        pytest.param(
            with_first_posting("amount_fen", -(MAX_FEN + 1)),
            f"amount {-(MAX_FEN + 1)} is outside ±(2**53 - 1) fen",
            id="amount-beyond-max",
        ),
    ]


@pytest.mark.parametrize(("document", "message"), refusals())
def test_parse_entry_says_which_part_of_the_entry_format_is_broken(
    document: object, message: str
) -> None:
    with pytest.raises(MalformedEntry, match=f"^{re.escape(message)}$"):
        parse_entry(document)


def test_a_long_entry_the_grammar_refuses_is_quoted_up_to_160_characters() -> None:
    document = setting("refs", {"programme": "x" * 300})
    with pytest.raises(MalformedEntry) as caught:
        parse_entry(document)
    prefix = "does not follow the entry format (DESIGN §4): "
    assert str(caught.value) == prefix + str(document)[:160]
    assert len(str(caught.value)) == len(prefix) + 160
