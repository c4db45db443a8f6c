"""The auditor's check of published notice lists (`voucher-audit --notice`): each approval that
names a list given must be of that list's day (in China), and the list must show exactly what the
approvals of its day published, once the log has gone past that day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from tests.unit.test_ledger_audit import CHILD, FUNDING, PAYABLE, PENDING, PID, V1, source
from voucher_app.domain import notice
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.ledger.audit import AFTER_THE_LOG, AuditReport, Failure, audit
from voucher_app.ledger.document import entry_document

CENTER = "4403"
MONDAY = date(2026, 3, 2)
MONDAY_LIST = notice.list_key(CENTER, MONDAY)
ITEM = notice.NoticeItem(
    redemption="R-1",
    center=CENTER,
    sme=notice.mask_name("深圳市明德精密机械有限公司"),
    provider="Pearl River Consulting",
    category="consulting",
    subsidy_fen=30_000,
    approved_on=MONDAY,
    notice_ends_on=date(2026, 3, 9),
).document()
# 10:00 on Monday in China; China's Monday ends at 16:00 UTC.
APPROVED_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
MONDAY_LAST_SECOND = datetime(2026, 3, 2, 15, 59, 59, tzinfo=UTC)
TUESDAY_FIRST_SECOND = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def entry(n: int, kind: EntryKind, at: datetime, moves: tuple[str, str, int], **refs: str) -> Any:
    source_account, target, amount = moves
    return entry_document(
        entry_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"notice-entry-{n}")),
        kind=kind,
        created_at=at,
        actor_id="reviewer-1",
        actor_role="center_reviewer",
        postings=[Posting(source_account, -amount), Posting(target, amount)],
        refs={"programme": PID, **refs},
        reverses=None,
    )


def published_refs(
    list_key: str = MONDAY_LIST, item: str = notice.item_digest(ITEM).hex()
) -> dict[str, str]:
    return {notice.LIST_REF: list_key, notice.ITEM_REF: item, "redemption": "R-1"}


def log(
    *, approved_at: datetime = APPROVED_AT, ends_at: datetime, refs: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Funding down to a voucher, its redemption R-1, R-1's approval with `refs`, and a last
    entry at `ends_at`."""
    return [
        entry(0, EntryKind.FUND, APPROVED_AT, (FUNDING, CHILD, 100_000)),
        entry(1, EntryKind.ISSUE, APPROVED_AT, (CHILD, V1, 50_000), voucher="V-1"),
        entry(2, EntryKind.REDEEM, APPROVED_AT, (V1, PENDING, 30_000), redemption="R-1"),
        entry(3, EntryKind.APPROVE, approved_at, (PENDING, PAYABLE, 30_000), **(refs or {})),
        entry(4, EntryKind.ISSUE, ends_at, (CHILD, "voucher:V-2", 10_000), voucher="V-2"),
    ]


def audited(documents: list[dict[str, Any]], *lists: dict[str, Any]) -> AuditReport:
    return audit(source(documents), [], [], notice_lists=lists)


def failures(report: AuditReport) -> list[tuple[int, str]]:
    return [(failure.index, failure.reason) for failure in report.failures]


SHOWN = notice.list_document(CENTER, MONDAY, [ITEM])
EMPTY = notice.list_document(CENTER, MONDAY, [])


def on_the_list(problem: str) -> tuple[int, str]:
    return AFTER_THE_LOG, f"notice list {MONDAY_LIST}: {problem}"


WRONG_DIGEST = on_the_list("the list's digest is not the digest of what the ledger holds")
MISSING = [on_the_list("claim R-1 was published and is missing from the list"), WRONG_DIGEST]
UNPUBLISHED = [
    on_the_list("claim R-1 is listed, and no approval in the ledger published it"),
    WRONG_DIGEST,
]


def test_a_list_showing_what_its_days_approvals_published_agrees() -> None:
    report = audited(log(ends_at=TUESDAY_FIRST_SECOND, refs=published_refs()), SHOWN)
    assert failures(report) == []
    assert report.notice_lists == 1


def test_once_the_log_has_gone_past_its_day_a_list_missing_a_published_claim_fails() -> None:
    report = audited(log(ends_at=TUESDAY_FIRST_SECOND, refs=published_refs()), EMPTY)
    assert failures(report) == MISSING
    assert str(report.failure) == MISSING[0][1]  # after the log: no index


def test_a_list_of_the_day_the_log_ends_on_in_china_may_still_grow() -> None:
    report = audited(log(ends_at=MONDAY_LAST_SECOND, refs=published_refs()), EMPTY)
    assert failures(report) == []
    assert report.notice_lists == 1


def test_what_a_list_shows_is_checked_before_its_day_is_over() -> None:
    other = {**ITEM, "subsidy_fen": 40_000}
    shown_otherwise = notice.list_document(CENTER, MONDAY, [other])
    report = audited(log(ends_at=MONDAY_LAST_SECOND, refs=published_refs()), shown_otherwise)
    assert failures(report) == [
        on_the_list("claim R-1 is shown otherwise than the ledger published it")
    ]


def test_an_approval_naming_the_list_of_another_day_than_its_own_is_named_at_its_index() -> None:
    documents = log(
        approved_at=TUESDAY_FIRST_SECOND, ends_at=TUESDAY_FIRST_SECOND, refs=published_refs()
    )
    report = audited(documents, SHOWN)
    assert failures(report) == [
        (3, f"an approval made on 2026-03-03 names the notice list {MONDAY_LIST}"),
        *UNPUBLISHED,
    ]
    assert report.failure == Failure(3, reason=report.failures[0].reason)


def test_an_approval_in_the_last_second_of_the_lists_day_in_china_is_of_that_day() -> None:
    documents = log(
        approved_at=MONDAY_LAST_SECOND, ends_at=TUESDAY_FIRST_SECOND, refs=published_refs()
    )
    assert failures(audited(documents, SHOWN)) == []


def test_an_approval_naming_a_list_not_given_is_not_checked() -> None:
    tuesday_list = notice.list_key(CENTER, date(2026, 3, 3))
    documents = log(ends_at=TUESDAY_FIRST_SECOND, refs=published_refs(list_key=tuesday_list))
    assert failures(audited(documents, EMPTY)) == []
    assert failures(audited(documents)) == []


def test_only_approvals_publish_on_a_list() -> None:
    documents = log(ends_at=TUESDAY_FIRST_SECOND)
    documents[2] = entry(
        2, EntryKind.REDEEM, TUESDAY_FIRST_SECOND, (V1, PENDING, 30_000), **published_refs()
    )
    assert failures(audited(documents, SHOWN)) == UNPUBLISHED


def test_an_approval_whose_item_digest_is_not_hex_published_no_item_the_list_shows() -> None:
    report = audited(log(ends_at=MONDAY_LAST_SECOND, refs=published_refs(item="zz")), SHOWN)
    assert failures(report) == [
        on_the_list("claim R-1 is shown otherwise than the ledger published it")
    ]


def test_each_list_given_is_counted_and_checked() -> None:
    tuesday = notice.list_document(CENTER, date(2026, 3, 3), [])
    report = audited(log(ends_at=TUESDAY_FIRST_SECOND, refs=published_refs()), EMPTY, tuesday)
    assert report.notice_lists == 2
    assert failures(report) == MISSING


def test_an_empty_log_has_gone_past_no_day() -> None:
    report = audited([], SHOWN)
    assert failures(report) == [
        on_the_list("claim R-1 is listed, and no approval in the ledger published it")
    ]


def test_an_approval_with_no_item_digest_published_no_item_the_list_shows() -> None:
    refs = published_refs()
    del refs[notice.ITEM_REF]
    report = audited(log(ends_at=TUESDAY_FIRST_SECOND, refs=refs), SHOWN)
    assert failures(report) == [
        on_the_list("claim R-1 is shown otherwise than the ledger published it"),
        WRONG_DIGEST,
    ]


def test_a_final_list_is_checked_against_an_approval_whose_item_digest_is_not_hex() -> None:
    report = audited(log(ends_at=TUESDAY_FIRST_SECOND, refs=published_refs(item="zz")), SHOWN)
    assert failures(report) == [
        on_the_list("claim R-1 is shown otherwise than the ledger published it"),
        WRONG_DIGEST,
    ]


def test_an_approval_that_names_no_claim_is_missing_from_the_list_under_no_name() -> None:
    refs = published_refs()
    del refs["redemption"]
    report = audited(log(ends_at=TUESDAY_FIRST_SECOND, refs=refs), EMPTY)
    assert failures(report) == [
        on_the_list("claim  was published and is missing from the list"),
        WRONG_DIGEST,
    ]
