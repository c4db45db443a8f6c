"""Settlement and reconciliation: approved redemptions go into batches, one payment per provider;
the pain.001 file carries exactly the batch; bank statements settle what they prove was paid,
no more, once; returned payments undo their settlement; bad files import nothing."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from lxml import etree
from sqlalchemy import select

from tests import bank_files, factories
from tests.bank_files import BankLine
from tests.integration.ledger_state import snapshot
from tests.integration.test_redemptions import SME, STAFF, World, build
from tests.iso20022 import assert_valid_pain001
from voucher_app.clock import FrozenClock
from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.errors import (
    InvalidInput,
    InvalidStatement,
    InvalidTransition,
    OutsideCenter,
    VoucherError,
)
from voucher_app.domain.money import format_amount, parse_yuan
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.tables import JournalEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import read_only
from voucher_app.services import ledger, reconciliation, redemptions, settlement, vouchers
from voucher_app.services.providers import ProviderView
from voucher_app.services.settlement import BatchView
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.settlement.statement_table import ColumnMapping
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}"
FUNDING = BankDetails(
    "中国银行广东省分行", "广东省中小企业服务券专户", "6216600000000000001", "104581000018",
    "BKCHCNBJ400",
)  # fmt: skip
#: Finance pays; the reviewers (STAFF) approve: 不相容职务分离.
FINANCE = Actor("finance-officer", Role.CENTER_FINANCE)


@read_only
def provider_balance(
    uow: UnitOfWork, kind: AccountKind, provider: ProviderView, programme: uuid.UUID
) -> int:
    name = accounts.provider(kind, str(provider.id), str(programme)).name
    return uow.journal.balances([accounts.parse_account(name)])[name]


@pytest.fixture
def paying(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> tuple[World, ProviderView]:
    """Three approved redemptions — two by provider 1 (¥1,000 and ¥500), one by provider 2 (¥750) —
    and one redemption still waiting for the SME; the programme's funding account recorded."""
    world = build(uow, voucher_keys, voucher_signer)
    second = factories.provider(uow, 2)
    submitted = [
        world.submit(200_000, "P1-A"),
        world.submit(100_000, "P1-B"),
        world.submit(150_000, "P2-A", provider=second),
    ]
    for redemption in submitted:
        redemptions.confirm_redemption(uow, redemption.id, SME)
        redemptions.approve_redemption(uow, redemption.id, STAFF)
    world.submit(40_000, "P1-C")  # submitted, not approved: not paid yet
    settlement.set_funding_account(uow, world.programme, FUNDING, ADMIN)
    return world, second


def test_a_batch_pays_each_provider_once_for_its_approved_redemptions(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    batch = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    assert batch.status == "draft"
    amounts = {item.provider_id: (item.amount_fen, len(item.redemptions)) for item in batch.items}
    assert amounts == {world.provider.id: (150_000, 2), second.id: (75_000, 1)}
    assert batch.total_fen == 225_000
    assert [item.reference for item in batch.items] == [
        f"{batch.reference}-0001", f"{batch.reference}-0002",
    ]  # fmt: skip
    with pytest.raises(InvalidInput, match="no approved redemptions"):
        settlement.build_batch(world.uow, world.programme, "440300", FINANCE)


def test_a_batch_built_elsewhere_in_the_hierarchy_does_not_take_these_redemptions(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    with pytest.raises(InvalidInput, match="no approved redemptions"):
        settlement.build_batch(world.uow, world.programme, "440100", FINANCE)  # Guangzhou


def test_the_pain001_file_carries_exactly_the_batch(paying: tuple[World, ProviderView]) -> None:
    world, second = paying
    batch = settlement.build_batch(world.uow, world.programme, "440000", FINANCE)
    export = settlement.export_batch(world.uow, batch.id, FINANCE)
    assert export.batch.status == "exported"
    root = etree.fromstring(export.pain001)
    assert root.tag == f"{PAIN}Document"
    header = root.find(f"{PAIN}CstmrCdtTrfInitn/{PAIN}GrpHdr")
    assert header is not None
    assert header.findtext(f"{PAIN}MsgId") == batch.reference
    assert header.findtext(f"{PAIN}NbOfTxs") == "2"
    assert header.findtext(f"{PAIN}CtrlSum") == "2250.00"
    info = root.find(f"{PAIN}CstmrCdtTrfInitn/{PAIN}PmtInf")
    assert info is not None
    assert info.findtext(f"{PAIN}NbOfTxs") == "2"
    assert info.findtext(f"{PAIN}CtrlSum") == "2250.00"
    assert info.findtext(f"{PAIN}DbtrAcct/{PAIN}Id/{PAIN}Othr/{PAIN}Id") == FUNDING.account_number
    payments = {
        tx.findtext(f"{PAIN}PmtId/{PAIN}EndToEndId"): tx.findtext(f"{PAIN}Amt/{PAIN}InstdAmt")
        for tx in info.iter(f"{PAIN}CdtTrfTxInf")
    }
    assert payments == {batch.items[0].reference: "1500.00", batch.items[1].reference: "750.00"}
    assert_valid_pain001(export.pain001)
    assert export.csv.startswith("\ufeff".encode())  # UTF-8 with a BOM: Excel and WPS read it
    rows = list(csv.DictReader(io.StringIO(export.csv.decode("utf-8-sig"))))
    assert [(r["端到端编号"], r["金额"]) for r in rows] == [
        (batch.items[0].reference, "1500.00"), (batch.items[1].reference, "750.00"),
    ]  # fmt: skip
    # The treasury asks again: the same files; an exported batch is frozen.
    assert settlement.export_batch(world.uow, batch.id, FINANCE).pain001 == export.pain001
    del second


def test_export_needs_the_programmes_funding_account(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    world = build(uow, voucher_keys, voucher_signer)
    redemption = world.submit(200_000)
    redemptions.confirm_redemption(uow, redemption.id, SME)
    redemptions.approve_redemption(uow, redemption.id, STAFF)
    batch = settlement.build_batch(uow, world.programme, "440305", FINANCE)
    with pytest.raises(InvalidInput, match="funding account"):
        settlement.export_batch(uow, batch.id, FINANCE)
    assert settlement.get_batch(uow, batch.id).status == "draft"


def test_a_cancelled_batch_releases_its_redemptions(paying: tuple[World, ProviderView]) -> None:
    world, _ = paying
    batch = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    settlement.export_batch(world.uow, batch.id, FINANCE)
    cancelled = settlement.cancel_batch(world.uow, batch.id, "wrong bank details", FINANCE)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "wrong bank details")
    again = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    assert again.total_fen == batch.total_fen
    with pytest.raises(InvalidTransition):
        settlement.cancel_batch(world.uow, batch.id, "twice", FINANCE)


def test_two_batches_built_at_once_never_share_a_redemption(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    database = Database(database_url, pool_size=10)
    try:
        uow = unit_of_work(database, clock)
        world = build(uow, voucher_keys, voucher_signer)
        for n in range(6):
            redemption = world.submit(50_000, f"C-{n}")
            redemptions.confirm_redemption(uow, redemption.id, SME)
            redemptions.approve_redemption(uow, redemption.id, STAFF)
        barrier = Barrier(8)

        def attempt(_: int) -> str:
            barrier.wait()
            try:
                settlement.build_batch(
                    unit_of_work(database, clock), world.programme, "440305", FINANCE
                )
            except VoucherError as refused:
                return refused.code
            return "built"

        with ThreadPoolExecutor(8) as pool:
            outcomes = Counter(pool.map(attempt, range(8)))
        assert outcomes == Counter({"built": 1, "invalid_input": 7})
    finally:
        database.dispose()


# --- reconciliation ---------------------------------------------------------------------------


def camt053(statement_id: str, entries: list[BankLine]) -> bytes:
    """A camt.053.001.08 statement of the programme's funding account with these entries."""
    return bank_files.camt053(FUNDING.account_number, entries, statement_id=statement_id)


def entry(
    reference: str | None,
    amount: str,
    *,
    debit: bool = True,
    returned: bool = False,
    bank_ref: str | None = None,
) -> BankLine:
    return BankLine(
        reference, parse_yuan(amount), debit=debit, returned=returned, bank_reference=bank_ref
    )


def exported(world: World) -> BatchView:
    batch = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    return settlement.export_batch(world.uow, batch.id, FINANCE).batch


def statement(world: World, name: str, content: bytes) -> reconciliation.ImportResult:
    return reconciliation.import_statement(world.uow, filename=name, content=content, actor=FINANCE)


def test_a_statement_settles_what_it_proves_was_paid(paying: tuple[World, ProviderView]) -> None:
    world, second = paying
    batch = exported(world)
    first, other = batch.items
    result = statement(world, "s1.xml", camt053("S1", [
        entry(first.reference, "1500.00"),  # paid in full
        entry(other.reference, "500.00"),  # partly: ¥500 of ¥750
        entry(None, "12.00", bank_ref="FEE-1"),  # a bank fee
    ]))  # fmt: skip
    assert result.outcomes == {"paid": 1, "partial": 1, "unmatched": 1}
    assert provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme) == 150_000
    assert provider_balance(world.uow, AccountKind.PAYABLE, world.provider, world.programme) == 0
    assert provider_balance(world.uow, AccountKind.PAID, second, world.programme) == 50_000
    assert provider_balance(world.uow, AccountKind.PAYABLE, second, world.programme) == 25_000
    report = reconciliation.reconciliation_report(world.uow, "440000")
    assert {i.reference: i.state for i in report.items} == {
        first.reference: "paid", other.reference: "partial",
    }  # fmt: skip
    assert [line.amount_fen for line in report.unmatched] == [1_200]
    # The rest arrives, with ¥100 too much: settled up to what was owed, the excess reported.
    statement(world, "s2.xml", camt053("S2", [entry(other.reference, "350.00")]))
    assert provider_balance(world.uow, AccountKind.PAID, second, world.programme) == 75_000
    report = reconciliation.reconciliation_report(world.uow, "440300", batch.reference)
    assert {i.reference: i.state for i in report.items}[other.reference] == "overpaid"
    assert settlement.get_batch(world.uow, batch.id).status == "paid"
    statuses = [
        redemptions.get_redemption(world.uow, c).status for i in batch.items for c in i.redemptions
    ]
    assert statuses == ["settled"] * 3


def test_a_part_payment_settles_the_items_redemptions_in_order_one_entry_each(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    first = next(item for item in batch.items if item.provider_id == world.provider.id)
    older, newer = first.redemptions  # ¥1,000 and ¥500, in the order they were made
    statement(world, "s1.xml", camt053("S1", [entry(first.reference, "1200.00")]))
    assert _settled(world.uow, first.reference) == {str(older): 100_000, str(newer): 20_000}
    statement(world, "s2.xml", camt053("S2", [entry(first.reference, "300.00")]))
    assert _settled(world.uow, first.reference) == {str(older): 100_000, str(newer): 50_000}
    # A returned payment takes every settlement of the item back.
    statement(world, "s3.xml", camt053("S3", [
        entry(first.reference, "1500.00", debit=False, returned=True, bank_ref="RET-1"),
    ]))  # fmt: skip
    assert _settled(world.uow, first.reference) == {str(older): 0, str(newer): 0}
    assert provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme) == 0


@read_only
def _settled(uow: UnitOfWork, item: str) -> dict[str, int]:
    """What the journal settled for each redemption of the item, net of reversals."""
    settled: dict[str, int] = defaultdict(int)
    entries = uow.session.scalars(
        select(JournalEntry).where(JournalEntry.kind.in_(("settle", "reverse")))
    )
    for row in entries:
        if row.refs.get("item") != item:
            continue
        assert row.refs["redemption"]  # each settlement names its one redemption
        paid = sum(p.amount_fen for p in uow.journal.postings_of(row.id) if p.amount_fen > 0)
        settled[row.refs["redemption"]] += paid if row.kind == "settle" else -paid
    return dict(settled)


def test_the_same_statement_twice_changes_nothing(paying: tuple[World, ProviderView]) -> None:
    world, _ = paying
    batch = exported(world)
    content = camt053("S1", [entry(batch.items[0].reference, "1500.00")])
    first = statement(world, "s1.xml", content)
    before = snapshot(world.uow)
    again = statement(world, "s1-again.xml", content)
    assert (again.statement_id, again.replayed) == (first.statement_id, True)
    assert snapshot(world.uow) == before
    # An overlapping statement carrying the same bank line does not pay it twice either.
    overlap = statement(
        world, "s1b.xml", camt053("S1b", [entry(batch.items[0].reference, "1500.00")])
    )
    assert overlap.outcomes == {"duplicate": 1}
    assert snapshot(world.uow).balances == before.balances


def test_a_returned_payment_undoes_its_settlement_and_frees_the_redemptions(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    item = batch.items[0]
    statement(world, "s1.xml", camt053("S1", [entry(item.reference, "1500.00")]))
    result = statement(world, "s2.xml", camt053("S2", [
        entry(item.reference, "1500.00", debit=False, returned=True, bank_ref="RET-1"),
    ]))  # fmt: skip
    assert result.outcomes == {"returned": 1}
    assert provider_balance(world.uow, AccountKind.PAID, world.provider, world.programme) == 0
    assert (
        provider_balance(world.uow, AccountKind.PAYABLE, world.provider, world.programme) == 150_000
    )
    report = reconciliation.reconciliation_report(world.uow, "440300")
    assert {i.reference: i.state for i in report.items}[item.reference] == "returned"
    rebuilt = settlement.build_batch(world.uow, world.programme, "440300", FINANCE)
    assert rebuilt.total_fen == 150_000  # the returned redemptions, ready to pay again


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.xml", b"<Document><BkToCstmrStmt>", "line"),
        ("bad.xml", camt053("S9", [entry("X-1", "12.34")]).replace(b">12.34<", b">12.345<"), "Amt"),
    ],
)
def test_a_malformed_statement_imports_nothing(
    paying: tuple[World, ProviderView], name: str, content: bytes, where: str
) -> None:
    world, _ = paying
    exported(world)
    before = snapshot(world.uow)
    with pytest.raises(InvalidStatement) as refused:
        statement(world, name, content)
    assert where in refused.value.message
    assert snapshot(world.uow) == before


def test_a_csv_statement_reads_through_the_centers_saved_mapping(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)
    mapping = ColumnMapping(
        end_to_end_id="端到端编号", amount="金额", booked_on="交易日期", direction="借贷标志",
        bank_reference="银行流水号",
    )  # fmt: skip
    reconciliation.save_mapping(world.uow, "440300", "中国银行专户", mapping)
    lines = [
        "交易日期,借贷标志,金额,端到端编号,银行流水号",
        f'2026-03-03,借,"1,500.00",{batch.items[0].reference},CSV-1',
        f"2026/03/03,借,750.00,{batch.items[1].reference},CSV-2",
    ]
    result = reconciliation.import_statement(
        world.uow,
        filename="march.csv",
        content="\n".join(lines).encode(),
        actor=FINANCE,
        center_code="440300",
        mapping="中国银行专户",
        account=FUNDING.account_number,
    )
    assert result.outcomes == {"paid": 2}
    with pytest.raises(InvalidInput, match="mapping"):
        reconciliation.import_statement(
            world.uow, filename="march.csv", content=b"x", actor=FINANCE, center_code="440300",
            mapping="no such mapping",
        )  # fmt: skip


def test_a_center_reconciles_only_its_own_batches_and_sees_only_its_own_lines(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)  # Shenzhen's (440300)
    pays = camt053("S9", [entry(batch.items[0].reference, "1500.00"), entry(None, "9.00")])
    before = snapshot(world.uow)
    with pytest.raises(OutsideCenter) as refused:
        reconciliation.import_statement(
            world.uow, filename="s9.xml", content=pays, actor=FINANCE, center_code="440100"
        )  # Guangzhou's staff
    assert refused.value.details["reference"] == batch.items[0].reference
    assert snapshot(world.uow) == before
    result = reconciliation.import_statement(
        world.uow, filename="s9.xml", content=pays, actor=FINANCE, center_code="440300"
    )
    assert result.outcomes == {"paid": 1, "unmatched": 1}
    fee = camt053("S10", [entry(None, "3.00", bank_ref="FEE-2")])
    statement(world, "s10.xml", fee)  # an operator's import, for no center
    unmatched = {
        center: [line.amount_fen for line in reconciliation.reconciliation_report(
            world.uow, center).unmatched]
        for center in ("440000", "440300", "440305", "440100")
    }  # fmt: skip
    assert unmatched == {"440000": [900, 300], "440300": [900], "440305": [], "440100": []}


def test_the_money_loop_leaves_a_ledger_that_verifies(
    paying: tuple[World, ProviderView], signer: CheckpointSigner, verifiers: list[Verifier]
) -> None:
    world, _ = paying
    batch = exported(world)
    statement(
        world,
        "s1.xml",
        camt053("S1", [entry(i.reference, format_amount(i.amount_fen)) for i in batch.items]),
    )
    ledger.sequence_log(world.uow)
    ledger.sign_checkpoint(world.uow, signer)
    report = ledger.verify_ledger(world.uow, verifiers)
    assert report.ok, report.failure
    assert (
        vouchers.get_voucher(world.uow, world.voucher.id).remaining_fen
        == 500_000 - 225_000 - 20_000
    )
