"""`canonical_entry` gives RFC 8785's exact bytes for journal entries, checked against the
independent `rfc8785` implementation.

The fast writer is exact for the domain `document.parse_entry` admits: no floats, integers
within ±(2**53 - 1), and object keys whose code-point order equals their UTF-16 order (entry
keys are ASCII). Generated keys below therefore avoid U+E000..U+FFFF, the only code points whose
code-point and UTF-16 orders differ from those of supplementary characters; values are arbitrary.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.money import MAX_FEN
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.document import MalformedEntry, entry_document, parse_entry

# Any Unicode scalar value: every code point except surrogates.
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)
# Keys: code points whose code-point order agrees with UTF-16 order (see the module docstring).
key_text = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=0xD7FF),
        st.characters(min_codepoint=0x10000),
    ),
    max_size=8,
)
safe_ints = st.integers(min_value=-MAX_FEN, max_value=MAX_FEN)
scalars = st.none() | st.booleans() | safe_ints | any_text
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(key_text, children, max_size=4)
    ),
    max_leaves=16,
)

entry_shaped = st.fixed_dictionaries(
    {
        "id": any_text,
        "kind": st.sampled_from([k.value for k in EntryKind]) | any_text,
        "created_at": any_text,
        "actor": st.fixed_dictionaries({"id": any_text, "role": any_text}),
        "postings": st.lists(
            st.fixed_dictionaries({"account": any_text, "amount_fen": safe_ints}), max_size=5
        ),
        "refs": st.dictionaries(key_text, any_text, max_size=4),
        "reverses": st.none() | any_text,
    },
    optional={"extra": json_values, "nested": st.dictionaries(key_text, json_values, max_size=3)},
)


def assert_matches_rfc8785(document: Any) -> None:
    expected = rfc8785.dumps(document)
    assert canonical_entry(document) == expected


@settings(max_examples=200, deadline=None)
@given(entry_shaped)
def test_entry_shaped_documents_canonicalise_to_the_rfc_8785_bytes(document: Any) -> None:
    assert_matches_rfc8785(document)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_nested_json_values_canonicalise_to_the_rfc_8785_bytes(value: Any) -> None:
    assert_matches_rfc8785(value)


accounts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789:-", min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(list(EntryKind)),
    created_at=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    actor_id=any_text,
    actor_role=any_text,
    postings=st.dictionaries(accounts, safe_ints.filter(bool), max_size=5),
    refs=st.dictionaries(st.from_regex(r"[a-z_]{1,32}", fullmatch=True), any_text, max_size=4),
    reverses=st.none() | st.uuids().map(str),
)
def test_documents_built_by_entry_document_canonicalise_to_the_rfc_8785_bytes(
    *,
    kind: EntryKind,
    created_at: datetime,
    actor_id: str,
    actor_role: str,
    postings: dict[str, int],
    refs: dict[str, str],
    reverses: str | None,
) -> None:
    document = entry_document(
        entry_id=str(uuid.uuid4()),
        kind=kind,
        created_at=created_at,
        actor_id=actor_id,
        actor_role=actor_role,
        postings=[Posting(a, v) for a, v in postings.items()],
        refs=refs,
        reverses=reverses,
    )
    assert_matches_rfc8785(document)


CONTROL_CHARACTERS = "".join(chr(c) for c in range(0x20))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"s": CONTROL_CHARACTERS}, id="controls-U+0000-U+001F"),
        pytest.param({"s": "\u007f"}, id="delete-U+007F"),
        pytest.param({"s": "\u2028\u2029"}, id="line-and-paragraph-separators"),
        pytest.param({"s": "\U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467"}, id="emoji"),
        pytest.param({"s": "广东省中小企业服务券 — 深圳市"}, id="cjk"),
        pytest.param({"s": 'a "quoted" back\\slash / solidus'}, id="quotes-backslash-solidus"),
        pytest.param({"b": 1, "a": 2, "aa": 3, "A": 4, "_": 5}, id="keys-to-sort"),
        pytest.param({"z": {"b": [], "a": {}}, "": None}, id="empty-object-list-and-key"),
        pytest.param({}, id="empty-object"),
        pytest.param([], id="empty-list"),
        pytest.param({"zero": 0, "minus-zero": -0}, id="zero-and-minus-zero"),
        pytest.param({"max": 2**53 - 1, "min": -(2**53 - 1)}, id="safe-integer-limits"),
        pytest.param({"t": True, "f": False, "n": None}, id="literals"),
        pytest.param([1, "1", [1], {"1": 1}], id="mixed-list"),
        pytest.param({"\u00e9": 1, "e": 2, "\U0001f600": 3, "\u4e2d": 4}, id="non-ascii-keys"),
    ],
)
def test_hand_picked_edge_cases_canonicalise_to_the_rfc_8785_bytes(value: Any) -> None:
    assert_matches_rfc8785(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": 2, "aa": 3, "A": 4, "_": 5}, b'{"A":4,"_":5,"a":2,"aa":3,"b":1}'),
        ({"s": "\u001f\n\t\b\f\r"}, b'{"s":"\\u001f\\n\\t\\b\\f\\r"}'),
        ({"s": "\u00e9\u2028"}, '{"s":"\u00e9\u2028"}'.encode()),
        ({"a": [True, None, -0]}, b'{"a":[true,null,0]}'),
        ({"a": {"c": 1, "b": 2}}, b'{"a":{"b":2,"c":1}}'),
    ],
)
def test_canonical_entry_have_no_whitespace_sorted_keys_and_minimal_escapes(
    value: Any, expected: bytes
) -> None:
    assert canonical_entry(value) == expected


@pytest.mark.parametrize("number", [float("nan"), float("inf"), 1.5, 2**64])
def test_an_entry_holding_a_non_integer_number_is_malformed(number: float) -> None:
    # Outside the entry domain the writer is not RFC 8785 (orjson writes NaN as null); the
    # entry grammar is what keeps such values out.
    document = entry_document(
        entry_id=str(uuid.uuid4()),
        kind=EntryKind.FUND,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        actor_id="a",
        actor_role="admin",
        postings=[Posting("programme:p:funding", -1), Posting("center:440000:p:available", 1)],
        refs={},
        reverses=None,
    )
    document["postings"][0]["amount_fen"] = number
    with pytest.raises(MalformedEntry):
        parse_entry(document)
