"""The published entry document (`voucher_app.ledger.document`): building, timestamps, parsing."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher_app.domain.actors import ACTOR_ID, Actor, Role
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.money import MAX_FEN
from voucher_app.ledger.document import (
    EntryRecord,
    MalformedEntry,
    check_refs,
    entry_document,
    format_timestamp,
    parse_entry,
    postings_digest,
)

PROGRAMME = "5b0f6c1e-2a55-4c1a-9d3b-1f7e9a7c0b11"
ENTRY_ID = "0d6f2c4e-8a1b-4f3d-9e2a-7b5c1d0e9f8a"
REVERSED_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
MOMENT = datetime(2026, 11, 27, 7, 39, 51, 123456, tzinfo=UTC)


def sample_document(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "entry_id": ENTRY_ID,
        "kind": EntryKind.ALLOCATE,
        "created_at": MOMENT,
        "actor_id": "user-17",
        "actor_role": "center_admin",
        "postings": [
            Posting(f"center:440300:{PROGRAMME}:available", 500_000),
            Posting(f"center:440000:{PROGRAMME}:available", -500_000),
        ],
        "refs": {"programme": PROGRAMME},
        "reverses": None,
    }
    arguments.update(changes)
    return entry_document(**arguments)


# --------------------------------------------------------------------------------------------
# format_timestamp
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (MOMENT, "2026-11-27T07:39:51.123456Z"),
        (datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00.000000Z"),
        (
            datetime(2026, 1, 1, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
            "2026-01-01T00:00:00.000005Z",
        ),
        (
            datetime(2025, 12, 31, 20, 30, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-01T01:30:00.000000Z",
        ),
    ],
)
def test_format_timestamp_writes_utc_with_exactly_six_fractional_digits(
    moment: datetime, expected: str
) -> None:
    assert format_timestamp(moment) == expected


def test_format_timestamp_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=3))]
        ),
    )
)
def test_format_timestamp_output_is_accepted_by_parse_entry_and_names_the_same_instant(
    moment: datetime,
) -> None:
    text = format_timestamp(moment)
    assert datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == moment
    parse_entry(sample_document(created_at=moment))


def test_format_timestamp_writes_a_four_digit_year_before_year_1000() -> None:
    # RFC 3339 `date-fullyear` is exactly four digits; parse_entry's pattern demands them too.
    moment = datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert format_timestamp(moment) == "0999-03-04T05:06:07.000000Z"


# --------------------------------------------------------------------------------------------
# entry_document
# --------------------------------------------------------------------------------------------


def test_entry_document_has_the_published_shape_with_postings_in_account_order() -> None:
    document = sample_document(refs={"voucher": "V-1", "programme": PROGRAMME})
    assert document == {
        "id": ENTRY_ID,
        "kind": "allocate",
        "created_at": "2026-11-27T07:39:51.123456Z",
        "actor": {"id": "user-17", "role": "center_admin"},
        "postings": [
            {"account": f"center:440000:{PROGRAMME}:available", "amount_fen": -500_000},
            {"account": f"center:440300:{PROGRAMME}:available", "amount_fen": 500_000},
        ],
        "refs": {"programme": PROGRAMME, "voucher": "V-1"},
        "reverses": None,
    }
    assert type(document["kind"]) is str
    assert list(document["refs"]) == ["programme", "voucher"]


def test_entry_document_and_parse_entry_round_trip() -> None:
    document = sample_document(kind=EntryKind.REVERSE, reverses=REVERSED_ID)
    record, _data = parse_entry(copy.deepcopy(document))
    assert record == EntryRecord(
        id=ENTRY_ID,
        kind=EntryKind.REVERSE,
        created_at="2026-11-27T07:39:51.123456Z",
        actor_id="user-17",
        actor_role="center_admin",
        postings=(
            Posting(f"center:440000:{PROGRAMME}:available", -500_000),
            Posting(f"center:440300:{PROGRAMME}:available", 500_000),
        ),
        refs={"programme": PROGRAMME},
        reverses=REVERSED_ID,
        postings_digest=postings_digest(record.postings),
    )
    rebuilt = entry_document(
        entry_id=record.id,
        kind=record.kind,
        created_at=datetime.strptime(record.created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=UTC
        ),
        actor_id=record.actor_id,
        actor_role=record.actor_role,
        postings=record.postings,
        refs=record.refs,
        reverses=record.reverses,
    )
    assert rebuilt == document


# --------------------------------------------------------------------------------------------
# parse_entry refusals
# --------------------------------------------------------------------------------------------

Edit = Callable[[dict[str, Any]], object]


def _set(key: str, value: object) -> Edit:
    def edit(document: dict[str, Any]) -> object:
        document[key] = value
        return document

    return edit


def _delete(key: str) -> Edit:
    def edit(document: dict[str, Any]) -> object:
        del document[key]
        return document

    return edit


def _posting(field: str, value: object) -> Edit:
    def edit(document: dict[str, Any]) -> object:
        document["postings"][0][field] = value
        return document

    return edit


def _actor(value: object) -> Edit:
    return _set("actor", value)


def _reverse_postings(document: dict[str, Any]) -> object:
    document["postings"].reverse()
    return document


def _extra_posting_field(document: dict[str, Any]) -> object:
    document["postings"][0]["memo"] = "x"
    return document


def _extra_field(document: dict[str, Any]) -> object:
    document["memo"] = "x"
    return document


PARSE_REFUSALS: list[Any] = [
    pytest.param(lambda d: [d], id="not-an-object"),
    pytest.param(lambda d: None, id="null"),
    pytest.param(_delete("refs"), id="missing-field"),
    pytest.param(_extra_field, id="extra-field"),
    pytest.param(_set("id", "not-a-uuid"), id="id-not-uuid"),
    pytest.param(_set("id", ENTRY_ID.upper()), id="id-upper-case"),
    pytest.param(_set("id", "{" + ENTRY_ID + "}"), id="id-braced"),
    pytest.param(_set("id", 17), id="id-number"),
    pytest.param(_set("kind", "transfer"), id="unknown-kind"),
    pytest.param(_set("kind", "FUND"), id="kind-upper-case"),
    pytest.param(_set("kind", ["fund"]), id="kind-list"),
    pytest.param(_set("created_at", "2026-11-27T07:39:51Z"), id="created-at-no-fraction"),
    pytest.param(_set("created_at", "2026-11-27T07:39:51.123Z"), id="created-at-millis"),
    pytest.param(_set("created_at", "2026-11-27T07:39:51.123456+00:00"), id="created-at-offset"),
    pytest.param(_set("created_at", "2026-11-27 07:39:51.123456Z"), id="created-at-space"),
    pytest.param(_set("created_at", 1764229191), id="created-at-number"),
    pytest.param(_actor({"id": "u"}), id="actor-missing-role"),
    pytest.param(_actor({"id": "u", "role": "r", "x": "y"}), id="actor-extra-key"),
    pytest.param(_actor({"id": "u", "role": 3}), id="actor-role-number"),
    pytest.param(_actor({"id": "has space", "role": "r"}), id="actor-id-space"),
    pytest.param(_actor("user-17"), id="actor-string"),
    pytest.param(_set("postings", {}), id="postings-object"),
    pytest.param(_posting("amount_fen", 1.5), id="amount-float"),
    pytest.param(_posting("amount_fen", -500_000.0), id="amount-integral-float"),
    pytest.param(_posting("amount_fen", True), id="amount-bool"),
    pytest.param(_posting("amount_fen", "-500000"), id="amount-string"),
    pytest.param(_posting("amount_fen", -(MAX_FEN + 1)), id="amount-beyond-max"),
    pytest.param(_posting("account", 7), id="account-number"),
    pytest.param(_extra_posting_field, id="posting-extra-key"),
    pytest.param(_reverse_postings, id="postings-out-of-order"),
    pytest.param(_set("refs", []), id="refs-list"),
    pytest.param(_set("refs", {"Programme": PROGRAMME}), id="ref-name-upper-case"),
    pytest.param(_set("refs", {"programme": "has space"}), id="ref-value-space"),
    pytest.param(_set("refs", {"programme": 5}), id="ref-value-number"),
    pytest.param(_set("refs", {"programme": "x" * 65}), id="ref-value-too-long"),
    pytest.param(_set("reverses", "entry-1"), id="reverses-not-uuid"),
    pytest.param(_set("reverses", 3), id="reverses-number"),
]


@pytest.mark.parametrize("edit", PARSE_REFUSALS)
def test_parse_entry_refuses_documents_outside_the_published_format(edit: Edit) -> None:
    document = sample_document()
    parse_entry(copy.deepcopy(document))  # the unedited document is fine
    with pytest.raises(MalformedEntry):
        parse_entry(edit(document))


@pytest.mark.parametrize(
    "created_at",
    [
        pytest.param("\u0662\u0660\u0662\u0666-11-27T07:39:51.123456Z", id="arabic-indic-digits"),
        pytest.param("\uff12\uff10\uff12\uff16-11-27T07:39:51.123456Z", id="fullwidth-digits"),
        pytest.param("2026-13-45T25:61:61.123456Z", id="month-day-hour-out-of-range"),
    ],
)
def test_parse_entry_refuses_a_created_at_that_is_not_an_rfc_3339_utc_instant(
    created_at: str,
) -> None:
    document = sample_document()
    document["created_at"] = created_at
    with pytest.raises(MalformedEntry):
        parse_entry(document)


def test_parse_entry_accepts_the_amount_limits_and_a_null_reverses() -> None:
    document = sample_document(
        postings=[
            Posting(f"center:440000:{PROGRAMME}:available", -MAX_FEN),
            Posting(f"center:440300:{PROGRAMME}:available", MAX_FEN),
        ]
    )
    record, _data = parse_entry(document)
    assert [p.amount_fen for p in record.postings] == [-MAX_FEN, MAX_FEN]
    assert record.reverses is None


# --------------------------------------------------------------------------------------------
# check_refs
# --------------------------------------------------------------------------------------------


def test_check_refs_returns_a_copy_of_well_formed_refs() -> None:
    refs = {"programme": PROGRAMME, "voucher": "V.1:a-b_c", "batch_id": "7"}
    checked = check_refs(refs)
    assert checked == refs
    assert checked is not refs
    assert check_refs({}) == {}


@pytest.mark.parametrize(
    "refs",
    [
        {"Programme": "p"},
        {"programme-id": "p"},
        {"": "p"},
        {"x" * 33: "p"},
        {"programme": ""},
        {"programme": "a b"},
        {"programme": "a/b"},
        {"programme": "x" * 65},
        {"programme": "名"},
        {"programme": "p\n"},
        {"programme": None},
        {3: "p"},
    ],
    # Plain ids: a repr's backslashes are escaped again in a test id, and a tool that hands
    # ids back to pytest (the mutation run) may not escape them the same way.
    ids=[
        "capital-in-name",
        "dash-in-name",
        "empty-name",
        "name-too-long",
        "empty-value",
        "space-in-value",
        "slash-in-value",
        "value-too-long",
        "chinese-value",
        "newline-in-value",
        "none-value",
        "number-as-name",
    ],
)
def test_check_refs_refuses_bad_names_and_values(refs: dict[Any, Any]) -> None:
    with pytest.raises(MalformedEntry):
        check_refs(refs)


def test_check_refs_names_the_ref_it_refuses() -> None:
    with pytest.raises(MalformedEntry) as name:
        check_refs({"programme": "p", "Voucher": "V-1"})
    assert str(name.value) == "bad ref name 'Voucher'"
    with pytest.raises(MalformedEntry) as value:
        check_refs({"programme": "p", "voucher": "V 1"})
    assert str(value.value) == "bad value for ref 'voucher'"


@settings(max_examples=100, deadline=None)
@given(actor_id=st.from_regex(ACTOR_ID, fullmatch=True), role=st.sampled_from(list(Role)))
def test_every_actor_the_application_accepts_is_one_the_grammar_accepts(
    actor_id: str, role: Role
) -> None:
    actor = Actor(actor_id, role)
    document = sample_document()
    document["actor"] = {"id": actor.id, "role": actor.role.value}
    record, _data = parse_entry(document)
    assert (record.actor_id, record.actor_role) == (actor_id, role.value)


@settings(max_examples=100, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=MAX_FEN // 4), min_size=1, max_size=4),
    programme=st.from_regex(r"[A-Za-z0-9-]{1,64}", fullmatch=True),
)
def test_the_digest_read_from_canonical_bytes_equals_the_one_computed_from_postings(
    amounts: list[int], programme: str
) -> None:
    postings = [
        Posting(f"center:44{n:04d}:{programme}:available", a) for n, a in enumerate(amounts)
    ]
    postings.append(Posting(f"programme:{programme}:funding", -sum(amounts)))
    document = sample_document(postings=postings, refs={"programme": programme})
    record, _data = parse_entry(document)
    assert record.postings_digest == postings_digest(record.postings)


def test_format_timestamp_names_the_naive_datetime_it_refuses() -> None:
    with pytest.raises(ValueError, match=r"^journal timestamps must be timezone-aware$"):
        format_timestamp(datetime(2026, 1, 1))  # noqa: DTZ001


def test_format_timestamp_writes_utc_whatever_the_machines_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert format_timestamp(MOMENT) == "2026-11-27T07:39:51.123456Z"
    finally:
        monkeypatch.undo()
        time.tzset()
