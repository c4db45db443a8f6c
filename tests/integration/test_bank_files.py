"""Bank files as banks write them: the path from an approved redemption to money in the provider's
account is exact, and nothing is paid twice, whatever shape the bank's statements take.

The first four tests are the double payments found on main before this change (issue 12),
each reproduced as it happened: a refund or partial return taken as a full return, a CSV whose
direction came from a number's sign, another account's statement, the same day imported twice.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from tests import factories
from tests.bank_files import (
    DIRECTION_COLUMN,
    TWO_COLUMNS,
    BankLine,
    bank_csv,
    camt053,
)
from tests.integration.ledger_state import snapshot
from tests.integration.test_redemptions import SME, STAFF, World, build
from tests.integration.test_settlement import FINANCE, FUNDING, paying, provider_balance
from tests.words import said
from voucher_app.clock import FrozenClock
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.errors import (
    DutiesNotSeparated,
    ForeignAccount,
    InvalidBankDetails,
    InvalidInput,
    InvalidMapping,
    SecondApprovalNeeded,
    VoucherError,
)
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import Provider
from voucher_app.persistence.uow import transaction
from voucher_app.services import providers, reconciliation, redemptions, settlement
from voucher_app.services.providers import ProviderView
from voucher_app.services.settlement import BatchView
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.settlement.statement_table import ColumnMapping
from voucher_app.wiring import unit_of_work

__all__ = ["paying"]  # the fixture, shared with the settlement tests

ACCOUNT = FUNDING.account_number
CENTER = "440300"


def exported(world: World) -> BatchView:
    batch = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    return settlement.export_batch(world.uow, batch.id, FINANCE).batch


def camt(world: World, lines: list[BankLine], name: str = "s") -> reconciliation.ImportResult:
    return reconciliation.import_statement(
        world.uow,
        filename=f"{name}.xml",
        content=camt053(ACCOUNT, lines, statement_id=name),
        actor=FINANCE,
        center_code=CENTER,
    )


def table(
    world: World, content: bytes, name: str = "s", mapping: str = "两栏"
) -> reconciliation.ImportResult:
    return reconciliation.import_statement(
        world.uow,
        filename=f"{name}.csv",
        content=content,
        actor=FINANCE,
        center_code=CENTER,
        mapping=mapping,
    )


def save_mappings(world: World) -> None:
    reconciliation.save_mapping(world.uow, CENTER, "两栏", ColumnMapping.from_json(TWO_COLUMNS))
    reconciliation.save_mapping(
        world.uow, CENTER, "借贷", ColumnMapping.from_json(DIRECTION_COLUMN)
    )


def standing(world: World, reference: str) -> reconciliation.ItemStanding:
    report = reconciliation.reconciliation_report(world.uow, CENTER)
    return next(item for item in report.items if item.reference == reference)


def redemption_statuses(world: World, batch: BatchView) -> list[str]:
    return [
        redemptions.get_redemption(world.uow, redemption).status
        for item in batch.items
        for redemption in item.redemptions
    ]


def nothing_to_batch_again(world: World) -> None:
    with pytest.raises(InvalidInput, match="no approved redemptions"):
        settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)


# --- the four double payments -------------------------------------------------------------------


def test_a_refund_of_an_overpayment_unsettles_nothing_and_frees_no_redemption(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    first = batch.items[0]  # ¥1,500 for two redemptions (¥1,000 and ¥500)
    camt(world, [BankLine(first.reference, 180_000, bank_reference="PAY-1")], "s1")
    assert standing(world, first.reference).state == "overpaid"
    result = camt(
        world, [BankLine(first.reference, 30_000, debit=False, bank_reference="REF-1")], "s2"
    )
    assert result.outcomes == {"refunded": 1}
    item = standing(world, first.reference)
    assert (item.state, item.paid_fen, item.returned_fen, item.settled_fen) == (
        "paid", 180_000, 30_000, 150_000,
    )  # fmt: skip
    assert provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme) == 150_000
    assert redemption_statuses(world, batch)[:2] == ["settled", "settled"]
    # Before: every settlement reversed and both redemptions freed, so the next batch paid them
    # again.
    with pytest.raises(InvalidInput, match="no approved redemptions"):
        settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)


def test_the_return_of_one_of_two_partial_payments_unsettles_exactly_it(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    first = batch.items[0]
    camt(world, [BankLine(first.reference, 60_000, bank_reference="PAY-1")], "s1")
    camt(world, [BankLine(first.reference, 90_000, bank_reference="PAY-2")], "s2")
    camt(
        world,
        [BankLine(first.reference, 90_000, debit=False, returned=True, bank_reference="RET-2")],
        "s3",
    )
    item = standing(world, first.reference)
    assert (item.state, item.settled_fen, item.released) == ("partial", 60_000, False)
    assert provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme) == 60_000
    assert (
        provider_balance(world.uow, AccountKind.PAYABLE, world.provider, world.programme) == 90_000
    )
    # The ¥1,000 redemption holds ¥600, the ¥500 one nothing; both stay in their batch.
    assert redemption_statuses(world, batch)[:2] == ["approved", "approved"]
    with pytest.raises(InvalidInput, match="no approved redemptions"):
        settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    # The bank pays the rest: the item is whole again.
    camt(world, [BankLine(first.reference, 90_000, bank_reference="PAY-3")], "s4")
    assert standing(world, first.reference).state == "paid"
    assert redemption_statuses(world, batch)[:2] == ["settled", "settled"]


def test_a_return_smaller_than_the_last_payment_settles_the_rest_of_it_again(
    paying: tuple[World, ProviderView],
) -> None:
    """Unsettling reverses the latest settlement whole, then settles again what still stands
    (on PostgreSQL the sum of the reversed postings came back as a decimal, and the new
    settlement was refused as not a whole number of fen)."""
    world, _ = paying
    first = exported(world).items[0]
    camt(world, [BankLine(first.reference, 60_000, bank_reference="PAY-1")], "s1")
    camt(world, [BankLine(first.reference, 90_000, bank_reference="PAY-2")], "s2")
    back = BankLine(first.reference, 30_000, debit=False, returned=True, bank_reference="RET-1")
    assert camt(world, [back], "s3").outcomes == {"returned": 1}
    item = standing(world, first.reference)
    assert (item.state, item.settled_fen, item.released) == ("partial", 120_000, False)
    assert provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme) == 120_000
    assert (
        provider_balance(world.uow, AccountKind.PAYABLE, world.provider, world.programme) == 30_000
    )


def test_a_mapping_that_leaves_the_direction_to_a_numbers_sign_is_refused_when_saved(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    with pytest.raises(InvalidMapping) as refused:
        reconciliation.save_mapping(
            world.uow,
            CENTER,
            "支出",
            ColumnMapping.from_json(
                {"booked_on": "交易日期", "amount": "支出金额", "remarks": ["附言"]}
            ),
        )
    assert refused.value.details["field"] == "mapping.direction"
    # Mapped as two columns, the 支出金额 lines are payments, not three returns.
    save_mappings(world)
    batch = exported(world)
    lines = [BankLine(item.reference, item.amount_fen) for item in batch.items]
    result = table(world, bank_csv(ACCOUNT, [*lines, BankLine(None, 1_500)]))
    assert result.outcomes == {"paid": 2, "unmatched": 1}
    assert [standing(world, item.reference).state for item in batch.items] == ["paid", "paid"]


def test_a_statement_of_another_account_is_refused_whole(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    before = snapshot(world.uow)
    # The provider's own statement shows the same payment arriving.
    own = camt053(
        "7440000000000000001",
        [BankLine(batch.items[0].reference, 150_000, debit=False, bank_reference="IN-1")],
    )
    with pytest.raises(ForeignAccount) as refused:
        reconciliation.import_statement(
            world.uow, filename="own.xml", content=own, actor=FINANCE, center_code=CENTER
        )
    assert refused.value.details["account"] == "7440000000000000001"
    assert snapshot(world.uow) == before
    assert standing(world, batch.items[0].reference).state == "unpaid"


@pytest.mark.parametrize(
    "second",
    [
        pytest.param("camt-reordered", id="camt053-again-reordered"),
        pytest.param("csv", id="the-banks-csv-of-the-same-day"),
    ],
)
def test_the_same_day_imported_twice_without_bank_references_counts_once(
    paying: tuple[World, ProviderView], second: str
) -> None:
    world, _ = paying
    save_mappings(world)
    batch = exported(world)
    day = [BankLine(item.reference, item.amount_fen) for item in batch.items]
    camt(world, day, "morning")
    paid = provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme)
    before = snapshot(world.uow)
    if second == "csv":
        result = table(world, bank_csv(ACCOUNT, day, bank_references=False), "evening")
    else:
        result = camt(world, list(reversed(day)), "evening")
    assert result.outcomes == {"duplicate": 2}
    assert len(result.skipped) == 2
    assert snapshot(world.uow).balances == before.balances
    assert [standing(world, item.reference).state for item in batch.items] == ["paid", "paid"]
    assert provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme) == paid


# --- what banks send -----------------------------------------------------------------------------


def test_two_identical_payments_on_one_day_count_twice_across_overlapping_files(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    first = batch.items[0]
    half = BankLine(first.reference, 75_000)  # the bank splits ¥1,500 into two equal halves
    camt(world, [half], "intraday")
    assert standing(world, first.reference).paid_fen == 75_000
    result = camt(world, [half, half], "end-of-day")
    assert result.outcomes == {"duplicate": 1, "paid": 1}
    assert standing(world, first.reference).state == "paid"


@pytest.mark.parametrize("by_batch", [True, False], ids=["btch-and-txdtls", "txdtls-only"])
def test_a_batch_booked_as_one_entry_pays_its_items_when_the_amount_adds_up(
    paying: tuple[World, ProviderView], by_batch: bool
) -> None:
    world, second = paying
    batch = exported(world)
    references = tuple(item.reference for item in batch.items)
    # Named by its batch (Btch/PmtInfId, NbOfTxs) or only by its payments' end-to-end ids.
    named = batch.reference if by_batch else None
    result = camt(world, [BankLine(named, 225_000, parts=references)])
    assert result.outcomes == {"batch": 1}
    assert [standing(world, ref).state for ref in references] == ["paid", "paid"]
    assert provider_balance(world.uow, AccountKind.PAID, second, world.programme) == 75_000
    assert settlement.get_batch(world.uow, batch.id).status == "paid"


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(lambda b: BankLine(b.reference, 224_999), id="by-batch-wrong-total"),
        pytest.param(
            lambda b: BankLine(None, 150_000, parts=(b.items[0].reference, "B0000000X-0009")),
            id="names-an-unknown-payment",
        ),
        pytest.param(
            lambda b: BankLine(
                b.reference, 225_000, parts=tuple(i.reference for i in b.items), batch_size=3
            ),
            id="counts-another-number-of-payments",
        ),
    ],
)
def test_a_batch_entry_that_does_not_add_up_settles_nothing_and_waits_for_review(
    paying: tuple[World, ProviderView], line: Callable[[BatchView], BankLine]
) -> None:
    world, _ = paying
    batch = exported(world)
    before = snapshot(world.uow).balances
    result = camt(world, [line(batch)])
    assert result.outcomes == {"review": 1}
    assert snapshot(world.uow).balances == before
    report = reconciliation.reconciliation_report(world.uow, CENTER)
    assert [entry.outcome for entry in report.unmatched] == ["review"]


def test_a_batch_goes_back_to_partly_paid_when_a_payment_comes_back(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    camt(world, [BankLine(item.reference, item.amount_fen) for item in batch.items], "s1")
    assert settlement.get_batch(world.uow, batch.id).status == "paid"
    returned = BankLine(batch.items[1].reference, 75_000, debit=False, returned=True)
    camt(world, [returned], "s2")
    again = settlement.get_batch(world.uow, batch.id)
    assert again.status == "partly_paid"
    assert [item.state for item in again.items] == ["paid", "returned"]
    # All of that item's money came back: its redemption is free for a new batch, and only it.
    rebuilt = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    assert rebuilt.total_fen == 75_000


def test_a_chinese_banks_csv_reads_through_its_mapping_whatever_its_layout(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    save_mappings(world)
    batch = exported(world)
    lines = [
        BankLine(batch.items[0].reference, 150_000, bank_reference="ICBC-1"),
        BankLine(batch.items[1].reference, 75_000, bank_reference="ICBC-2"),
    ]
    # GB18030, the account above the header, 借/贷, 1,500.00, 2026年03月03日, a totals row.
    result = table(world, bank_csv(ACCOUNT, lines, layout="direction"), mapping="借贷")
    assert result.outcomes == {"paid": 2}
    # The same lines in UTF-8 with a BOM, two amount columns: the same money, counted once.
    again = table(world, "\ufeff".encode() + bank_csv(ACCOUNT, lines, encoding="utf-8"), "s2")
    assert again.outcomes == {"duplicate": 2}


def test_a_csv_that_does_not_name_its_account_needs_one(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    reconciliation.save_mapping(
        world.uow,
        CENTER,
        "plain",
        ColumnMapping(booked_on="日期", amount="金额", direction="借贷", end_to_end_id="编号"),
    )
    content = "日期,借贷,金额,编号\n2026-03-03,借,1.00,X\n".encode()
    with pytest.raises(InvalidInput, match="account"):
        table(world, content, mapping="plain")
    result = reconciliation.import_statement(
        world.uow,
        filename="plain.csv",
        content=content,
        actor=FINANCE,
        center_code=CENTER,
        mapping="plain",
        account=ACCOUNT,
    )
    assert result.outcomes == {"unmatched": 1}


# --- segregation of duties -----------------------------------------------------------------------


def test_whoever_approved_a_redemption_does_not_export_the_batch_that_pays_it(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    with pytest.raises(DutiesNotSeparated) as refused:
        settlement.export_batch(world.uow, batch.id, STAFF)  # STAFF approved its redemptions
    assert refused.value.details["batch"] == batch.reference
    assert settlement.get_batch(world.uow, batch.id).status == "draft"
    assert settlement.export_batch(world.uow, batch.id, FINANCE).batch.status == "exported"


def test_a_batch_over_the_limit_waits_for_a_second_finance_officer(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    limit = batch.total_fen - 1
    with pytest.raises(SecondApprovalNeeded):
        settlement.export_batch(world.uow, batch.id, FINANCE, second_approval_over_fen=limit)
    with pytest.raises(DutiesNotSeparated):
        settlement.approve_batch(world.uow, batch.id, FINANCE)  # built it
    with pytest.raises(DutiesNotSeparated):
        settlement.approve_batch(world.uow, batch.id, STAFF)  # approved its redemptions
    second = Actor("finance-checker", Role.CENTER_FINANCE)
    approved = settlement.approve_batch(world.uow, batch.id, second)
    assert approved.approved_by == "finance-checker"
    files = settlement.export_batch(world.uow, batch.id, FINANCE, second_approval_over_fen=limit)
    assert files.batch.status == "exported"


# --- bank details ---------------------------------------------------------------------------------


@transaction
def _break_cnaps(uow: UnitOfWork, provider_id: uuid.UUID) -> None:
    """A provider registered before CNAPS codes were asked for."""
    row = uow.session.scalar(select(Provider).where(Provider.public_id == provider_id))
    assert row is not None
    row.bank_cnaps = None


def _export_without_cnaps(
    world: World, provider: ProviderView
) -> tuple[BatchView, InvalidBankDetails]:
    """A batch paying `provider`, whose CNAPS code went missing, and its export's refusal."""
    _break_cnaps(world.uow, provider.id)
    batch = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    with pytest.raises(InvalidBankDetails) as refused:
        settlement.export_batch(world.uow, batch.id, FINANCE)
    return batch, refused.value


def test_an_export_refuses_bank_details_that_do_not_route_and_names_the_provider(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    batch, refused = _export_without_cnaps(world, second)
    assert refused.details == {"field": "bank_cnaps", "provider": second.uscc}
    assert second.name in refused.message
    assert settlement.get_batch(world.uow, batch.id).status == "draft"
    providers.change_bank_account(
        world.uow,
        second.id,
        BankDetails("中国银行深圳分行", second.name, "7440 0000 0000 0000 02", "104584000003"),
        STAFF,
    )
    assert settlement.export_batch(world.uow, batch.id, FINANCE).batch.status == "exported"


def test_an_exports_refusal_of_bank_details_reads_on_the_page_naming_the_provider(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    _, refused = _export_without_cnaps(world, second)
    assert said(refused) == f"服务机构 {second.name}（{second.uscc}）：请填写开户行联行号"
    assert said(refused, "en") == (
        f"Provider {second.name} ({second.uscc}): Fill in the CNAPS code of the account's branch."
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bank_account_number": "6222-02"}, "bank_account_number"),
        ({"bank_cnaps": "10458400000"}, "bank_cnaps"),
        ({"bank_bic": "BKCH CN BJ"}, "bank_bic"),
        ({"bank_account_name": "测试\n服务机构"}, "bank_account_name"),
    ],
)
def test_registration_refuses_what_the_export_would(
    uow: UnitOfWork, changes: dict[str, str], field: str
) -> None:
    factories.guangdong(uow)
    application = dataclasses.replace(factories.application(9), **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidBankDetails) as refused:
        providers.apply_provider(uow, application, factories.ADMIN)
    assert refused.value.details["field"] == field


def test_the_payment_files_name_the_provider_and_pay_its_account_row_by_row(
    paying: tuple[World, ProviderView],
) -> None:
    """The payment list names the provider where the provider belongs and the account holder
    where the bank's account name belongs (they differ here, as they may at a bank); the
    bulk-transfer sheet carries the same payments in GB18030, with the CNAPS code that routes
    them."""
    world, second = paying
    holder = "深圳二号服务机构有限公司（基本户）"
    account = BankDetails("招商银行深圳南山支行", holder, "755900000012", "308584000013")
    providers.change_bank_account(world.uow, second.id, account, FINANCE)
    batch = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    export = settlement.export_batch(world.uow, batch.id, FINANCE)
    first, other = (item.reference for item in export.batch.items)
    assert export.csv.startswith(codecs.BOM_UTF8)
    payments = list(csv.DictReader(io.StringIO(export.csv.decode("utf-8-sig"))))
    columns: tuple[str, ...] = ("端到端编号", "服务机构", "收款人户名", "收款人账号")
    columns += ("开户行名称", "收款行行号", "金额")
    assert [tuple(row[column] for column in columns) for row in payments] == [
        (first, world.provider.name, "测试服务机构 1", "744000000000000001", "中国银行深圳分行",
         "104584000003", "1500.00"),
        (other, second.name, holder, "755900000012", "招商银行深圳南山支行", "308584000013",
         "750.00"),
    ]  # fmt: skip
    assert second.name != holder  # the provider's name, not the account holder's, names it
    sheet = list(csv.reader(io.StringIO(export.bulk_sheet.decode("gb18030"))))
    assert sheet == [
        ["收款人账号", "收款人户名", "收款行行号", "开户行名称", "金额", "用途"],
        ["744000000000000001", "测试服务机构 1", "104584000003", "中国银行深圳分行", "1500.00",
         f"服务券兑付 {first} {world.provider.name}"],
        ["755900000012", holder, "308584000013", "招商银行深圳南山支行", "750.00",
         f"服务券兑付 {other} {second.name}"],
    ]  # fmt: skip


def test_a_change_of_bank_account_is_checked_as_registration_is(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    with pytest.raises(InvalidBankDetails) as refused:
        providers.change_bank_account(
            world.uow, second.id, BankDetails("中国银行", second.name, "12", "104584000003"), SME
        )
    assert refused.value.details["field"] == "bank_account_number"


# --- at once --------------------------------------------------------------------------------------


def test_overlapping_statements_imported_at_once_count_each_payment_once(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    """Eight finance officers upload the same day's payments at the same moment — the camt.053
    and the CSV, intraday and end-of-day, in different orders: the account's imports take turns,
    and every payment is counted once."""
    database = Database(database_url, pool_size=10)
    try:
        uow = unit_of_work(database, clock)
        world = build(uow, voucher_keys, voucher_signer)
        for n in range(4):
            redemption = world.submit(40_000 + n * 10_000, f"C-{n}")
            redemptions.confirm_redemption(uow, redemption.id, SME)
            redemptions.approve_redemption(uow, redemption.id, STAFF)
        settlement.set_funding_account(uow, world.programme, FUNDING, factories.ADMIN)
        save_mappings(world)
        batch = settlement.build_batch(uow, world.programme, "440305", FINANCE)
        settlement.export_batch(uow, batch.id, FINANCE)
        (item,) = batch.items  # one provider: one payment of ¥1,100, made in four equal parts
        assert item.amount_fen == 110_000
        parts = [BankLine(item.reference, 27_500, bank_reference=f"P{n}") for n in range(4)]
        files = [
            ("intraday.xml", camt053(ACCOUNT, parts[:2], statement_id="AM")),
            ("day.xml", camt053(ACCOUNT, list(reversed(parts)), statement_id="DAY")),
            ("day.csv", bank_csv(ACCOUNT, parts, bank_references=False)),
            ("day-again.csv", bank_csv(ACCOUNT, parts[::-1], layout="direction")),
        ] * 2
        barrier = Barrier(len(files))

        def upload(file: tuple[str, bytes]) -> str:
            name, content = file
            barrier.wait()
            mapping = ("两栏" if "again" not in name else "借贷") if name.endswith(".csv") else None
            try:
                reconciliation.import_statement(
                    unit_of_work(database, clock),
                    filename=name,
                    content=content,
                    actor=FINANCE,
                    center_code=CENTER,
                    mapping=mapping,
                )
            except VoucherError as refused:
                return refused.code
            return "imported"

        with ThreadPoolExecutor(len(files)) as pool:
            outcomes = Counter(pool.map(upload, files))
        assert outcomes == Counter({"imported": len(files)})
        standing_now = standing(world, item.reference)
        assert (standing_now.paid_fen, standing_now.settled_fen) == (110_000, 110_000)
        assert provider_balance(uow, AccountKind.PAID, world.provider, world.programme) == 110_000
    finally:
        database.dispose()
