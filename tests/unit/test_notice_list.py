"""What a public notice (公示) publishes (`domain.notice`): names masked by their length, each
item's digest over its RFC 8785 bytes (checked against an independent implementation), the
list's digest, and `compare`, which `voucher-audit --notice` reports from."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from voucher_app.domain import notice
from voucher_app.domain.notice import MASK as M

ITEM = notice.NoticeItem(
    redemption="5b2f3c1e-0000-4000-8000-000000000001",
    center="440305",
    sme="深圳" + M * 2 + "有限公司",
    provider="广州" + M * 4 + "有限公司",
    category="accounting_tax",
    subsidy_fen=200_000,
    approved_on=date(2026, 3, 2),
    notice_ends_on=date(2026, 3, 9),
)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("深圳明德有限公司", "深圳" + M * 2 + "有限公司"),  # 8: the place and the form stay
        ("广州市天河区云帆财税服务有限公司", "广州" + M * 10 + "有限公司"),
        ("佛山明德公司", "佛" + M * 4 + "司"),  # 6: first and last only
        ("李四五金店", "李" + M * 3 + "店"),
        ("王五店", "王" + M + "店"),  # 3
        ("张三", "张" + M),  # 2: a person's name keeps its surname
        ("张", M),
        ("", M),
        ("  深圳明德有限公司  ", "深圳" + M * 2 + "有限公司"),  # spaces around are not the name
        ("Acme Ltd", "Ac" + M * 2 + " Ltd"),  # 8 Latin characters: the same rule
        ("1234567", "12" + M + "4567"),  # 7: the shortest long name hides one character
    ],
)
def test_a_name_is_masked_by_its_length(name: str, shown: str) -> None:
    assert notice.mask_name(name) == shown


@given(st.text(min_size=1, max_size=40).filter(lambda text: text.strip()))
def test_a_masked_name_is_as_long_as_the_name_and_never_shows_its_middle(name: str) -> None:
    masked = notice.mask_name(name)
    text = name.strip()
    assert len(masked) == max(len(text), 1)
    assert M in masked
    if len(text) >= notice.LONG_NAME:
        assert masked[2:-4] == M * (len(text) - 6)


def test_an_item_is_hashed_over_its_rfc_8785_bytes() -> None:
    document = ITEM.document()
    assert notice.canonical(document) == rfc8785.dumps(document)
    assert notice.item_digest(document) == hashlib.sha256(rfc8785.dumps(document)).digest()
    assert list(document) == [
        "redemption",
        "center",
        "sme",
        "provider",
        "category",
        "subsidy_fen",
        "approved_on",
        "notice_ends_on",
    ]
    assert (document["approved_on"], document["notice_ends_on"]) == ("2026-03-02", "2026-03-09")


def test_the_list_key_names_the_center_and_the_day() -> None:
    assert notice.list_key("440305", date(2026, 3, 2)) == "440305:2026-03-02"
    assert notice.list_key_of({"center": "440305", "day": "2026-03-02"}) == "440305:2026-03-02"


def test_a_lists_digest_does_not_depend_on_the_order_of_its_items() -> None:
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    assert notice.list_digest([a, b]) == notice.list_digest([b, a])
    assert notice.list_digest([b, a]) == hashlib.sha256(min(a, b) + max(a, b)).digest()
    assert notice.list_digest([]) == hashlib.sha256(b"").digest()
    assert notice.list_digest([a]) != notice.list_digest([a, a])


def second() -> dict[str, object]:
    return dict(ITEM.document(), redemption="5b2f3c1e-0000-4000-8000-000000000002", sme="x")


def test_the_list_document_orders_items_by_claim_and_states_their_digest() -> None:
    first = ITEM.document()
    document = notice.list_document("440305", date(2026, 3, 2), [second(), first])
    assert document["items"] == [first, second()]
    assert (document["center"], document["day"]) == ("440305", "2026-03-02")
    digests = [notice.item_digest(first), notice.item_digest(second())]
    assert document["digest"] == notice.list_digest(digests).hex()


def logged_of(*items: dict[str, object]) -> dict[bytes, str]:
    return {notice.item_digest(item): str(item["redemption"]) for item in items}


def test_a_list_that_is_what_the_log_published_agrees() -> None:
    items = [ITEM.document(), second()]
    document = notice.list_document("440305", date(2026, 3, 2), items)
    assert notice.compare(document, logged_of(*items)) == []
    assert notice.compare(notice.list_document("440305", date(2026, 3, 2), []), {}) == []


def test_compare_names_each_difference_and_the_claim() -> None:
    first, other = ITEM.document(), second()
    key = "440305:2026-03-02"
    changed = dict(first, subsidy_fen=200_001)
    document = notice.list_document("440305", date(2026, 3, 2), [changed])
    assert notice.compare(document, logged_of(first, other)) == [
        f"{key}: claim {first['redemption']} is shown otherwise than the ledger published it",
        f"{key}: claim {other['redemption']} was published and is missing from the list",
        f"{key}: the list's digest is not the digest of what the ledger holds",
    ]
    added = notice.list_document("440305", date(2026, 3, 2), [first, other])
    added["digest"] = notice.list_digest(logged_of(first)).hex()  # restated for the log's list
    assert notice.compare(added, logged_of(first)) == [
        f"{key}: claim {other['redemption']} is listed, and no approval in the ledger published it"
    ]
    unstated = {"center": "440305", "day": "2026-03-02", "items": [first]}
    assert notice.compare(unstated, logged_of(first)) == []  # a list without its digest
