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


H = M * 3  # every hidden part, whatever its length


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("深圳明德有限公司", H + "有限公司"),  # no place: the trade name and all before the form
        ("广东省深圳市南山区云帆财税服务有限公司", "广东省深圳市南山区" + H + "有限公司"),
        ("深圳市南山区张三商店", "深圳市南山区" + H + "商店"),  # a sole trader's own name
        ("广州市李四工作室", "广州市" + H + "工作室"),
        ("广州李四工作室", H + "工作室"),  # 广州 without 市 is not taken for a place
        ("佛山市顺德区美的股份有限公司", "佛山市顺德区" + H + "股份有限公司"),  # the longest form
        ("李四五金店", H + "店"),
        ("王小明", "王" + H),  # neither: the first character, as a surname is shown
        ("张三", "张" + H),
        ("张", H),
        ("", H),
        ("  深圳市南山区张三商店  ", "深圳市南山区" + H + "商店"),  # spaces around are not the name
        ("有限公司", H + "公司"),  # a shorter form fits: what is before it is hidden
        ("深圳市", "深" + H),  # only a place: it is all the name
        ("Acme Trading Ltd", "A" + H),
        ("南山区张商店", "南山区" + H + "商店"),  # one character between place and form
        ("城区门市", H + "门市"),  # 城区 would leave nothing between: not a place here
    ],
)
def test_a_name_keeps_its_place_and_form_and_hides_the_rest(name: str, shown: str) -> None:
    assert notice.mask_name(name) == shown


@given(st.text(min_size=1, max_size=40))
def test_a_masked_name_never_shows_a_trade_name_nor_its_length(name: str) -> None:
    masked = notice.mask_name(name)
    assert masked.count(notice.HIDDEN) == 1 and M * 4 not in masked
    before, _, after = masked.partition(notice.HIDDEN)
    text = name.strip()
    assert text.startswith(before) and text.endswith(after)
    assert after in notice.FORMS or after == ""
    assert len(before) <= notice.PLACE_WITHIN


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


def test_compare_names_a_claim_listed_twice_or_under_another_day() -> None:
    first = ITEM.document()
    key = "440305:2026-03-02"
    document = notice.list_document("440305", date(2026, 3, 2), [first, first])
    assert notice.compare(document, logged_of(first)) == [
        f"{key}: claim {first['redemption']} is listed twice",
        f"{key}: the list's digest is not the digest of what the ledger holds",
    ]
    tuesday = dict(first, approved_on="2026-03-03")
    moved = notice.list_document("440305", date(2026, 3, 2), [tuesday])
    assert notice.compare(moved, logged_of(tuesday))[0] == (
        f"{key}: claim {first['redemption']} is listed under another center or day"
    )


def test_compare_lists_what_is_missing_in_the_order_of_the_claims() -> None:
    claims = [dict(ITEM.document(), redemption=f"claim-{n}") for n in range(6)]
    empty = {"center": "440305", "day": "2026-03-02", "items": []}
    missing = notice.compare(empty, logged_of(*claims))
    assert missing == [
        f"440305:2026-03-02: claim claim-{n} was published and is missing from the list"
        for n in range(6)
    ]
    assert notice.compare(empty, logged_of(*claims), final=False) == []  # the day is not over


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ([], "a notice list is an object with a list of items"),
        ({"center": "440305", "day": "2026-03-02"}, "a notice list is an object with a list"),
        ({"center": "440305", "day": "2026-03-02", "items": {}}, "an object with a list of items"),
        ({"center": "440305", "day": "2026-03-02", "items": [{}, 1]}, "each item of a notice"),
        ({"day": "2026-03-02", "items": []}, "a notice list names its center and its day"),
        ({"center": "440305", "items": []}, "a notice list names its center and its day"),
        ({"center": 440305, "day": "2026-03-02", "items": []}, "names its center and its day"),
    ],
)
def test_what_is_not_a_notice_list_is_refused_before_it_is_compared(
    document: object, why: str
) -> None:
    with pytest.raises(ValueError, match=why) as refused:
        notice.check_shape(document)
    assert str(refused.value) in {
        "a notice list is an object with a list of items",
        "each item of a notice list is an object",
        "a notice list names its center and its day",
    }


def test_a_published_list_passes_the_shape_check() -> None:
    notice.check_shape(notice.list_document("440305", date(2026, 3, 2), [ITEM.document()]))
    notice.check_shape({"center": "440305", "day": "2026-03-02", "items": []})
