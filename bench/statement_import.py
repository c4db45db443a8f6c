"""Statement import: a bank's camt.053 of 10,000 lines paying 10,000 redemptions, reconciled
by `services.reconciliation.import_statement`, then the same statement imported again.

Why it exists: finance staff pay providers in settlement batches (one item, one payment per
provider) exported as pain.001, then import the bank's camt.053 statement, and only then does
the ledger move the money from `payable` to `paid` (one `settle` entry per redemption) and the
redemptions become `settled`. A programme's payment run is one file of thousands of lines, and
banks send the same money more than once (the file again, a reordered or overlapping file), so
a re-import must find every line already imported and change nothing. Target: the import runs
at 2,000 lines per second or more on PostgreSQL, and a re-import changes nothing and runs at
least as fast as the import. Reading the XML is the part no implementation avoids, so it is
measured in the same run, on the same file, as the reference.

What it measures, on SQLite (a file) and PostgreSQL (a fresh `bench_<pid>` database), both
migrated with the real migrations, each with a statement of its own batch:

- bare lxml: `etree.fromstring` of the file (with the hardened parser's settings) and a walk
  over every `Ntry` reading its amount (to fen), its CdtDbtInd and its EndToEndId — what any
  reader of the file must do; best of `REPEATS`;
- `parse_camt053` alone (every line checked, paths kept for the error messages); best of
  `REPEATS`;
- import: `import_statement(uow, filename="….xml", content=…, actor=finance,
  center_code="440300")` of the 10,000-line file, once, timed around the call (one
  transaction: the lines matched to their items, 10,000 `settle` entries posted, items,
  redemptions and the batch restated), through a `UnitOfWork` without the after-commit
  sequencing hook (the sequencer runs once, at the end);
- re-import, same bytes: the file again under another name — a replay found by its digest
  (once the file is parsed and its account locked, so two uploads at once take turns);
- re-import, reordered: the same 10,000 bank lines shuffled, under another statement id — a
  new file whose every line is a duplicate (`settlement.overlap`, matched by the bank's
  references): it must come back `duplicate` 10,000 times, and the balances, the journal, the
  spend facts, the items, the redemptions and the batch must be exactly as before (checked
  after each re-import).

Set-up (not measured; its stages are timed on stderr): the Guangdong centers; a programme
funded and allocated down to Nanshan (440305), one voucher of ¥1,000 per SME; 10,000 SMEs
inserted in bulk (`bench.common.insert_smes`); their vouchers issued through the service
(`bulk.issue_from_list`, real signatures); 10,000 approved providers in Shenzhen (440300), each with
valid bank details and a 12-digit CNAPS code; one approved redemption per provider on its own
SME's voucher (invoices of ¥1,000 to ¥1,499, half subsidised), so `settlement.build_batch`,
which makes one item per provider, builds ONE batch of 10,000 items. The programme's funding
account is set (`settlement.set_funding_account`, which registers it), and finance
(`Role.CENTER_FINANCE`) builds and exports the batch through the services — not the reviewer
who approved the redemptions: duties are separated. The statement is written by
`tests.bank_files.camt053` (checked against the official schema) from the exported items: one
booked debit per item, its reference as EndToEndId, its amount, the bank's own reference
(AcctSvcrRef) and the provider's account.

The services register a provider and make a redemption (submit, confirm, approve: three
transactions) at about 50 redemptions a second on PostgreSQL here, over 3 minutes for 10,000 —
and redeeming is not what is measured. So the first `PROBE` providers and redemptions go
through the services (`providers.apply_provider`/`decide_provider`,
`redemptions.submit_redemption`/`confirm_redemption`/`approve_redemption`) and the rest are
written in bulk, in one transaction, with the rows and entries the services write: providers
and their `pending` and `approved` events; redemptions in status `approved` with their
`submitted`, `confirmed` and `approved` events (by the provider, the SME and the reviewer); and
the ledger part through `Journal.post_many` — a `redeem` entry (voucher → provider `pending`)
and an `approve` entry (`pending` → `payable`) per redemption, with the refs the services give
them (programme, voucher, provider, redemption) and their spend facts
(`spend_facts.record_all`). So the money really sits in each provider's `payable` account, put
there by journal entries the replay accepts. The set-up then compares a redemption written in
bulk with one made through the services — its empty columns, its events, its entries' refs and
account kinds, its spend facts — and stops on any difference. Left out: the SME's notification
(outbox) row each submission queues; nothing reads it here.

Afterwards it checks the books — balances sum to zero and equal their postings; every item is
paid, settled in full and its batch `paid`; every redemption is `settled`; one `settle` entry
and one spend fact per redemption; each provider's `payable` and `pending` accounts hold
nothing and its `paid` account its item's amount; the first import recorded 10,000 `paid` lines
and the reordered one 10,000 `duplicate` lines; then the sequencer puts every entry in the
Merkle log, a checkpoint is signed and `verify_ledger` checks all of it — and exits 1 on a
failure. When PostgreSQL misses the target (or BENCH_PROFILE=1), a second programme's statement
of `PROFILE_LINES` lines is imported under cProfile, with every SQL statement timed: the top
functions by own time, the time by package and the statements by time are printed.

Run from the project root: `.venv/bin/python -m bench.statement_import` (or `make bench`).
BENCH_LINES (default 10000) is the statement's length; VOUCHER_BENCH_POSTGRES_URL the server.
"""

from __future__ import annotations

import cProfile
import itertools
import os
import pstats
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from lxml import etree
from sqlalchemy import Connection, String, event, func, insert, literal, null, select

from bench.bulk_issue import _package, _where
from bench.common import (
    LABELS,
    BookError,
    check_balanced,
    for_each_backend,
    insert_smes,
    print_table,
    provider_application,
    sequence_and_verify,
    sme_uscc,
    voucher_programme,
    voucher_signer,
)
from tests.bank_files import BankLine, camt053
from voucher_app.clock import SystemClock
from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind, parse_account
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.bank import PROVIDER_FIELDS, BankDetails, check_bank_details
from voucher_app.domain.calendar import local_date
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.providers import ProviderDecision
from voucher_app.domain.redemptions import subsidy_fen
from voucher_app.domain.sme import parse_uscc
from voucher_app.ledger.journal import NewEntry
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import (
    BankStatement,
    Center,
    Programme,
    Provider,
    ProviderEvent,
    Redemption,
    RedemptionEvent,
    SettlementBatch,
    SettlementItem,
    Sme,
    SpendFact,
    StatementLine,
    Voucher,
)
from voucher_app.persistence.uow import transaction
from voucher_app.services import (
    bulk,
    centers,
    providers,
    reconciliation,
    redemptions,
    settlement,
    spend_facts,
)
from voucher_app.services.bulk import Row
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.settlement.camt053 import NAMESPACE, parse_camt053
from voucher_app.wiring import unit_of_work

LINES = int(os.environ.get("BENCH_LINES") or 10_000)
TARGET = 2_000  # lines per second, import on PostgreSQL
PROBE = 20  # providers and redemptions made through the services; the rest are written in bulk
FACE_FEN = 100_000  # ¥1,000 vouchers
REPEATS = 5  # runs of each parse reference; the best counts
PROFILE_LINES = 2_000
PROFILE_TOP = 15
PROFILE_STATEMENTS = 12
CHUNK = 1_000  # public ids per IN list in the set-up
CENTER = "440300"  # Shenzhen: its providers; its finance builds, exports and imports
DISTRICT = "440305"  # Nanshan: the SMEs' home, whose budget issues the vouchers
CATEGORY = "legal"
DESCRIPTION = "合同审查 contract review"
ADMIN = Actor("bench-admin", Role.CENTER_ADMIN)
STAFF = Actor("bench-staff", Role.CENTER_STAFF)  # issues the vouchers
PROVIDER = Actor("bench-provider", Role.PROVIDER)  # submits the redemptions
SME = Actor("bench-sme", Role.SME)  # confirms them
REVIEWER = Actor("bench-reviewer", Role.CENTER_STAFF)  # approves them
FINANCE = Actor("bench-finance", Role.CENTER_FINANCE)  # builds, exports, imports
FUNDING = BankDetails(
    "中国银行广东省分行", "广东省中小企业服务券专户", "6216600000000000001", "104581000018",
    "BKCHCNBJ400",
)  # fmt: skip
PROFILE_FUNDING = BankDetails(
    "中国银行广东省分行", "广东省中小企业服务券专户（二）", "6216600000000000002", "104581000018",
    "BKCHCNBJ400",
)  # fmt: skip
NS = f"{{{NAMESPACE}}}"
END_TO_END = f"{NS}NtryDtls/{NS}TxDtls/{NS}Refs/{NS}EndToEndId"
#: The settings `camt053.read_message` parses with (no DTD, no entities, no network).
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Measured:
    """One line of the report."""

    what: str
    backend: str
    lines: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


def timed(work: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    result = work()
    return result, time.perf_counter() - began


def best_of(repeats: int, work: Callable[[], T]) -> tuple[T, float]:
    """The result of `work` and its fastest time of `repeats` runs."""
    runs = [timed(work) for _ in range(repeats)]
    return runs[0][0], min(seconds for _, seconds in runs)


def stage(label: str, what: str, began: float) -> None:
    print(f"{label}: {what} in {time.perf_counter() - began:.1f} s", file=sys.stderr)


# --- the two parse references ------------------------------------------------------------------


def bare_read(content: bytes) -> tuple[int, int]:
    """The bare lxml reader: every entry's amount (as fen), direction and end-to-end id.
    Returns how many entries name a payment, and the signed total of all of them."""
    root = etree.fromstring(content, PARSER)
    named = total = 0
    for entry in root.iter(f"{NS}Ntry"):
        whole, _, fraction = (entry.findtext(f"{NS}Amt") or "").partition(".")
        fen = int(whole) * 100 + int(fraction.ljust(2, "0"))
        total += -fen if entry.findtext(f"{NS}CdtDbtInd") == "DBIT" else fen
        named += entry.findtext(END_TO_END) is not None
    return named, total


# --- set-up: providers and redemptions ---------------------------------------------------------


def insert_providers(database: Database, serials: Sequence[int], actor: Actor) -> int:
    """Approved providers in one transaction: the `providers` rows `apply_provider` writes
    (normalised and checked as it does), approved, and their `pending` and `approved` events
    as `apply_provider` and `decide_provider` record them. Return how many."""
    moment = datetime.now(UTC)
    with database.engine.begin() as connection:
        center_id = connection.execute(select(Center.id).where(Center.code == CENTER)).scalar_one()
        before = connection.execute(select(func.coalesce(func.max(Provider.id), 0))).scalar_one()
        rows = []
        for serial in serials:
            form = provider_application(serial)
            bank = check_bank_details(
                BankDetails(
                    form.bank_name,
                    form.bank_account_name,
                    form.bank_account_number,
                    form.bank_cnaps,
                    form.bank_bic,
                ),
                names=PROVIDER_FIELDS,
            )
            rows.append(
                {
                    "public_id": uuid.uuid4(),
                    "uscc": parse_uscc(form.uscc),
                    "name": form.name,
                    "service_categories": sorted(form.service_categories),
                    "contact_name": form.contact_name,
                    "contact_phone": form.contact_phone,
                    "contact_email": form.contact_email,
                    "bank_name": bank.bank_name,
                    "bank_bic": bank.bic,
                    "bank_account_name": bank.account_name,
                    "bank_account_number": bank.account_number,
                    "bank_cnaps": bank.cnaps,
                    "center_id": center_id,
                    "status": "approved",
                    "status_reason": None,
                    "applied_at": moment,
                }
            )
        if not rows:
            return 0
        connection.execute(insert(Provider), rows)
        for status in ("pending", "approved"):
            connection.execute(
                insert(ProviderEvent).from_select(
                    ["provider_id", "status", "reason", "actor_id", "actor_role", "recorded_at"],
                    select(
                        Provider.id,
                        literal(status, String),
                        null(),
                        literal(actor.id, String),
                        literal(actor.role.value, String),
                        Provider.applied_at,
                    ).where(Provider.id > before),
                )
            )
        return len(rows)


@dataclass(frozen=True, slots=True)
class NewRedemption:
    """One redemption to make: a provider's service paid by one SME's voucher."""

    provider: uuid.UUID
    voucher: uuid.UUID
    token: str
    invoice: str
    invoiced_fen: int

    def service(self, delivered_on: date) -> Service:
        return Service(
            invoice_number=self.invoice,
            invoiced_fen=self.invoiced_fen,
            delivered_on=delivered_on,
            category=CATEGORY,
            description=DESCRIPTION,
        )


def service_redemption(uow: UnitOfWork, new: NewRedemption, keys: dict[str, Any]) -> uuid.UUID:
    """The redemption through the services: submitted, confirmed by the SME, approved."""
    view = redemptions.submit_redemption(
        uow,
        provider_id=new.provider,
        proof=VoucherProof(token=new.token),
        service=new.service(local_date(uow.clock.now())),
        actor=PROVIDER,
        public_keys=keys,
    )
    redemptions.confirm_redemption(uow, view.id, SME)
    redemptions.approve_redemption(uow, view.id, REVIEWER)
    return view.id


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


@transaction
def write_redemptions(
    uow: UnitOfWork, programme_id: uuid.UUID, new_redemptions: Sequence[NewRedemption]
) -> list[uuid.UUID]:
    """Approved redemptions in bulk, in one transaction: what `submit_redemption`,
    `confirm_redemption` and `approve_redemption` write for each (the SME's notification
    aside), with the `redeem` and `approve` entries posted by `Journal.post_many`. Return the
    redemptions' public ids."""
    session = uow.session
    connection = session.connection()
    programme = session.execute(
        select(Programme.id, Programme.confirmation_days).where(Programme.public_id == programme_id)
    ).one()
    vouchers: dict[uuid.UUID, Any] = {}
    provider_ids: dict[uuid.UUID, int] = {}
    for chunk in _chunks(new_redemptions):
        vouchers.update(
            (row.public_id, row)
            for row in connection.execute(
                select(
                    Voucher.id,
                    Voucher.public_id,
                    Voucher.issuing_center_id,
                    Voucher.subsidy_rate_bp,
                ).where(Voucher.public_id.in_([new.voucher for new in chunk]))
            )
        )
        provider_ids.update(
            connection.execute(
                select(Provider.public_id, Provider.id).where(
                    Provider.public_id.in_([new.provider for new in chunk])
                )
            ).all()
        )
    held = uow.journal.balances(
        [accounts.voucher(str(new.voucher)) for new in new_redemptions], lock=True
    )
    now = uow.clock.now()
    today = local_date(now)
    rows = []
    for new in new_redemptions:
        voucher = vouchers[new.voucher]
        remaining = held[accounts.voucher(str(new.voucher)).name]
        rows.append(
            {
                "public_id": uuid.uuid4(),
                "voucher_id": voucher.id,
                "provider_id": provider_ids[new.provider],
                "product_id": None,
                "category": CATEGORY,
                "description": DESCRIPTION,
                "invoice_number": new.invoice,
                "invoiced_fen": new.invoiced_fen,
                "subsidy_fen": subsidy_fen(new.invoiced_fen, voucher.subsidy_rate_bp, remaining),
                "delivered_on": today,
                "status": "approved",
                "status_reason": None,
                "submitted_at": now,
                "confirm_by": now + timedelta(days=programme.confirmation_days),
                "idempotency_key": None,
                "request_digest": None,  # no longer written by `submit_redemption`
                "settlement_item_id": None,
            }
        )
    ids = dict(
        connection.execute(
            insert(Redemption).returning(Redemption.public_id, Redemption.id), rows
        ).all()
    )
    events = []
    for row in rows:
        details = {
            "invoice_number": row["invoice_number"],
            "invoiced_fen": row["invoiced_fen"],
            "subsidy_fen": row["subsidy_fen"],
            "category": row["category"],
            "delivered_on": today.isoformat(),
        }
        for status, actor in (("submitted", PROVIDER), ("confirmed", SME), ("approved", REVIEWER)):
            events.append(
                {
                    "redemption_id": ids[row["public_id"]],
                    "status": status,
                    "reason": None,
                    "details": details,
                    "actor_id": actor.id,
                    "actor_role": actor.role.value,
                    "recorded_at": now,
                }
            )
    connection.execute(insert(RedemptionEvent), events)
    pid = str(programme_id)
    attributions = []
    flows: dict[EntryKind, list[NewEntry]] = {EntryKind.REDEEM: [], EntryKind.APPROVE: []}
    for new, row in zip(new_redemptions, rows, strict=True):
        provider = str(new.provider)
        voucher_account = accounts.voucher(str(new.voucher)).name
        pending = accounts.provider(AccountKind.PENDING, provider, pid).name
        payable = accounts.provider(AccountKind.PAYABLE, provider, pid).name
        refs = {
            "programme": pid,
            "voucher": str(new.voucher),
            "provider": provider,
            "redemption": str(row["public_id"]),
        }
        amount = row["subsidy_fen"]
        flows[EntryKind.REDEEM].append(
            NewEntry([Posting(voucher_account, -amount), Posting(pending, amount)], refs)
        )
        flows[EntryKind.APPROVE].append(
            NewEntry([Posting(pending, -amount), Posting(payable, amount)], refs)
        )
        attributions.append(
            spend_facts.Attribution(
                programme.id,
                vouchers[new.voucher].issuing_center_id,
                row["provider_id"],
                CATEGORY,
            )
        )
    for kind, actor in ((EntryKind.REDEEM, PROVIDER), (EntryKind.APPROVE, REVIEWER)):
        posted = uow.journal.post_many(kind, flows[kind], actor)
        spend_facts.record_all(
            uow, ((entry, who, 1) for entry, who in zip(posted, attributions, strict=True))
        )
    return [row["public_id"] for row in rows]


def redemption_shape(connection: Connection, public_id: uuid.UUID) -> dict[str, Any]:
    """What the books hold about a redemption, less its values: its empty columns and status,
    its events, its entries (kind, refs, the kinds of account they move money out of and
    into) and each entry's spend facts."""
    row = connection.execute(select(Redemption).where(Redemption.public_id == public_id)).one()
    events = connection.execute(
        select(RedemptionEvent.status, RedemptionEvent.actor_role, RedemptionEvent.details)
        .where(RedemptionEvent.redemption_id == row.id)
        .order_by(RedemptionEvent.id)
    ).all()
    entries = []
    for entry_id, kind, refs in connection.execute(
        select(JournalEntry.id, JournalEntry.kind, JournalEntry.refs)
        .where(JournalEntry.refs["redemption"].as_string() == str(public_id))
        .order_by(JournalEntry.id)
    ):
        moves = connection.execute(
            select(LedgerAccount.name, JournalPosting.amount_fen)
            .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
            .where(JournalPosting.entry_id == entry_id)
        ).all()
        facts = connection.execute(
            select(SpendFact.measure, SpendFact.category, SpendFact.provider_id.is_not(None))
            .where(SpendFact.entry_id == entry_id)
            .order_by(SpendFact.id)
        ).all()
        entries.append(
            (
                kind,
                sorted(refs),
                sorted((parse_account(name).kind.value, amount > 0) for name, amount in moves),
                [tuple(fact) for fact in facts],
            )
        )
    return {
        "status": row.status,
        "empty columns": sorted(column for column, value in row._mapping.items() if value is None),
        "events": [(status, role, sorted(details)) for status, role, details in events],
        "entries": entries,
    }


# --- one backend -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payments:
    """A programme's exported batch and the bank's statement of it."""

    programme: uuid.UUID
    batch: uuid.UUID
    items: dict[str, tuple[uuid.UUID, int]]  # reference → provider, amount
    statement: bytes
    reordered: bytes  # the same bank lines in another order, under another statement id


@dataclass(frozen=True, slots=True)
class Books:
    """What a re-import must leave exactly as it was."""

    balances: dict[str, int]
    entries: int
    postings: int
    facts: int
    items: list[tuple[Any, ...]]
    redemptions: list[tuple[Any, ...]]
    batches: list[tuple[Any, ...]]


class StatementBench:
    """One backend: the set-up, the imports and the checks of the books afterwards."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.label = LABELS[backend]
        self.database = Database(url, pool_size=2)
        self.uow = unit_of_work(self.database, SystemClock())
        self.signer = voucher_signer(os.urandom(32))
        self.keys = {self.signer.kid: self.signer.private_key.public_key()}
        began = time.perf_counter()
        centers.import_centers(self.uow, centers.guangdong_centers())
        self.usccs = [sme_uscc(n, DISTRICT) for n in range(1, LINES + 1)]
        insert_smes(self.database, self.usccs, ADMIN, home_center=DISTRICT)
        stage(self.label, f"centers and {LINES:,} SMEs", began)
        began = time.perf_counter()
        probe = min(PROBE, LINES)
        for serial in range(1, probe + 1):
            view = providers.apply_provider(self.uow, provider_application(serial), ADMIN)
            providers.decide_provider(self.uow, view.id, ProviderDecision.APPROVE, ADMIN)
        insert_providers(self.database, range(probe + 1, LINES + 1), ADMIN)
        with self.database.engine.connect() as connection:
            by_uscc = dict(connection.execute(select(Provider.uscc, Provider.public_id)).all())
        self.providers = [by_uscc[sme_uscc(serial, CENTER)] for serial in range(1, LINES + 1)]
        self.rounds = itertools.count(1)
        #: Each provider's account, as the bank prints the creditor on the statement.
        self.accounts = {
            provider: provider_application(serial).bank_account_number
            for serial, provider in enumerate(self.providers, start=1)
        }
        stage(self.label, f"{LINES:,} providers ({probe} through the services)", began)

    def close(self) -> None:
        self.database.dispose()

    def prepare(self, name: str, count: int, funding: BankDetails, probe: int) -> Payments:
        """A programme with `count` approved redemptions (the first `probe` through the
        services), its funding account, and its batch built and exported by finance; the
        statement."""
        label, uow = self.label, self.uow
        began = time.perf_counter()
        programme = voucher_programme(
            uow,
            ADMIN,
            budget_fen=count * FACE_FEN,
            face_fen=FACE_FEN,
            cap_fen=FACE_FEN,
            district=DISTRICT,
            name=name,
        )
        rows = [Row(line, uscc) for line, uscc in enumerate(self.usccs[:count], start=2)]
        report = bulk.issue_from_list(
            uow, programme_id=programme, rows=rows, actor=STAFF, signer=self.signer, dry_run=False
        )
        if report.issued != count:
            raise BookError(f"{report.issued} of {count} vouchers issued")
        with self.database.engine.connect() as connection:
            issued = {
                uscc: (public_id, token)
                for uscc, public_id, token in connection.execute(
                    select(Sme.uscc, Voucher.public_id, Voucher.token)
                    .join(Sme, Sme.id == Voucher.sme_id)
                    .join(Programme, Programme.id == Voucher.programme_id)
                    .where(Programme.public_id == programme)
                )
            }
        stage(label, f"{name}: programme and {count:,} vouchers (bulk.issue)", began)
        tag = f"R{next(self.rounds)}"  # names this round's invoices and bank references
        new_redemptions = [
            NewRedemption(
                provider=self.providers[n],
                voucher=issued[uscc][0],
                token=issued[uscc][1],
                invoice=f"{tag}-{n + 1:06d}",
                invoiced_fen=100_000 + 100 * (n % 500),
            )
            for n, uscc in enumerate(self.usccs[:count])
        ]
        began = time.perf_counter()
        made = [service_redemption(uow, new, self.keys) for new in new_redemptions[:probe]]
        serviced = time.perf_counter() - began
        written = write_redemptions(uow, programme, new_redemptions[probe:])
        stage(
            label,
            f"{name}: {probe} redemptions through the services ({serviced:.1f} s) and "
            f"{len(written):,} in bulk",
            began,
        )
        if made and written:
            with self.database.engine.connect() as connection:
                by_services = redemption_shape(connection, made[0])
                in_bulk = redemption_shape(connection, written[0])
            if by_services != in_bulk:
                raise BookError(
                    "a redemption written in bulk differs from the services' one:\n"
                    f"  services: {by_services}\n  bulk:     {in_bulk}"
                )
        began = time.perf_counter()
        settlement.set_funding_account(uow, programme, funding, ADMIN)
        batch = settlement.build_batch(uow, programme, CENTER, FINANCE)
        built = time.perf_counter() - began
        exported = settlement.export_batch(uow, batch.id, FINANCE)
        if len(exported.batch.items) != count or exported.batch.status != "exported":
            raise BookError(
                f"batch of {len(exported.batch.items)} items, {exported.batch.status}; "
                f"expected {count} items, exported"
            )
        stage(
            label,
            f"{name}: batch of {count:,} items built ({built:.1f} s) and exported "
            f"({len(exported.pain001) / 1e6:.1f} MB of pain.001)",
            began,
        )
        began = time.perf_counter()
        lines = [
            BankLine(
                item.reference,
                item.amount_fen,
                bank_reference=f"{tag}{number:012d}",
                counterparty=self.accounts[item.provider_id],
            )
            for number, item in enumerate(exported.batch.items, start=1)
        ]
        shuffled = list(lines)
        random.Random(count).shuffle(shuffled)
        statement = camt053(funding.account_number, lines, statement_id=f"{tag}-EOD")
        reordered = camt053(funding.account_number, shuffled, statement_id=f"{tag}-EOD-RESENT")
        stage(
            label,
            f"{name}: statements written ({len(statement) / 1e6:.1f} MB each, schema-checked)",
            began,
        )
        return Payments(
            programme,
            batch.id,
            {item.reference: (item.provider_id, item.amount_fen) for item in exported.batch.items},
            statement,
            reordered,
        )

    def import_file(self, filename: str, content: bytes) -> reconciliation.ImportResult:
        return reconciliation.import_statement(
            self.uow, filename=filename, content=content, actor=FINANCE, center_code=CENTER
        )

    def books(self) -> Books:
        with self.database.engine.connect() as connection:

            def count(model: type) -> int:
                return int(connection.execute(select(func.count()).select_from(model)).scalar_one())

            return Books(
                dict(
                    connection.execute(select(LedgerAccount.name, LedgerAccount.balance_fen)).all()
                ),
                count(JournalEntry),
                count(JournalPosting),
                count(SpendFact),
                [
                    tuple(row)
                    for row in connection.execute(
                        select(
                            SettlementItem.reference,
                            SettlementItem.paid_fen,
                            SettlementItem.returned_fen,
                            SettlementItem.settled_fen,
                            SettlementItem.released_at,
                        ).order_by(SettlementItem.id)
                    )
                ],
                [
                    tuple(row)
                    for row in connection.execute(
                        select(
                            Redemption.public_id,
                            Redemption.status,
                            Redemption.settlement_item_id,
                        ).order_by(Redemption.id)
                    )
                ],
                [
                    tuple(row)
                    for row in connection.execute(
                        select(SettlementBatch.reference, SettlementBatch.status).order_by(
                            SettlementBatch.id
                        )
                    )
                ],
            )

    def check_books(self, payments: Payments, first: uuid.UUID, resent: uuid.UUID) -> None:
        """Raise `BookError` on the first check that fails (see the module docstring)."""
        pid = str(payments.programme)
        with self.database.engine.connect() as connection:
            check_balanced(connection)
            held = dict(
                connection.execute(select(LedgerAccount.name, LedgerAccount.balance_fen)).all()
            )
            items = connection.execute(
                select(
                    SettlementItem.reference,
                    SettlementItem.amount_fen,
                    SettlementItem.paid_fen,
                    SettlementItem.returned_fen,
                    SettlementItem.settled_fen,
                    SettlementItem.released_at,
                    SettlementBatch.status,
                )
                .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
                .where(SettlementBatch.public_id == payments.batch)
            ).all()
            if len(items) != len(payments.items):
                raise BookError(f"{len(items)} items in the batch, {len(payments.items)} exported")
            for reference, amount, paid, returned, settled, released, status in items:
                if (paid, returned, settled, released, status) != (amount, 0, amount, None, "paid"):
                    raise BookError(
                        f"item {reference} of {amount} fen: paid {paid}, returned {returned}, "
                        f"settled {settled}, released {released}, batch {status}"
                    )
                provider, owed = payments.items[reference]
                balances = [
                    held.get(accounts.provider(kind, str(provider), pid).name, 0)
                    for kind in (AccountKind.PENDING, AccountKind.PAYABLE, AccountKind.PAID)
                ]
                if balances != [0, 0, owed]:
                    raise BookError(
                        f"provider {provider} holds {balances} fen pending, payable and paid; "
                        f"its item paid {owed}"
                    )
            by_status = Counter(
                dict(
                    connection.execute(
                        select(Redemption.status, func.count())
                        .join(Voucher, Voucher.id == Redemption.voucher_id)
                        .join(Programme, Programme.id == Voucher.programme_id)
                        .where(Programme.public_id == payments.programme)
                        .group_by(Redemption.status)
                    ).all()
                )
            )
            settle_entries = connection.execute(
                select(func.count())
                .select_from(JournalEntry)
                .where(
                    JournalEntry.kind == EntryKind.SETTLE.value,
                    JournalEntry.refs["programme"].as_string() == pid,
                )
            ).scalar_one()
            settle_facts = connection.execute(
                select(func.count())
                .select_from(SpendFact)
                .join(JournalEntry, JournalEntry.id == SpendFact.entry_id)
                .where(
                    JournalEntry.kind == EntryKind.SETTLE.value,
                    JournalEntry.refs["programme"].as_string() == pid,
                )
            ).scalar_one()
            expected = len(payments.items)
            if (by_status, settle_entries, settle_facts) != (
                Counter({"settled": expected}),
                expected,
                expected,
            ):
                raise BookError(
                    f"redemptions by status {dict(by_status)}, {settle_entries} settle entries and "
                    f"{settle_facts} of their spend facts; expected {expected} of each, settled"
                )
            for statement, outcome in ((first, "paid"), (resent, "duplicate")):
                recorded = dict(
                    connection.execute(
                        select(StatementLine.outcome, func.count())
                        .join(BankStatement, BankStatement.id == StatementLine.statement_id)
                        .where(BankStatement.public_id == statement)
                        .group_by(StatementLine.outcome)
                    ).all()
                )
                if recorded != {outcome: expected}:
                    raise BookError(f"statement {statement} recorded {recorded} lines")

    def profile_import(self) -> None:
        """A second programme's statement of `PROFILE_LINES` lines, imported under cProfile
        with every SQL statement timed; print where the time goes."""
        count = min(PROFILE_LINES, LINES)
        payments = self.prepare("Profiled statement", count, PROFILE_FUNDING, probe=0)
        tally = StatementTally()
        profile = cProfile.Profile()
        began = time.perf_counter()
        with tally.listening(self.database):
            profile.enable()
            result = self.import_file("profiled.xml", payments.statement)
            profile.disable()
        took = time.perf_counter() - began
        if result.outcomes != {"paid": count}:
            raise BookError(f"profiled import: {result.outcomes}")
        print_profile(pstats.Stats(profile), count, took)
        tally.print(count)


class StatementTally:
    """Every SQL statement an engine sends, by its text: calls, rows (executemany) and time."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.seen: dict[str, list[float]] = {}  # statement → [calls, rows, seconds]

    @contextmanager
    def listening(self, database: Database) -> Iterator[None]:
        engine = database.engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", self._before)
            event.remove(engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self.started.append(time.perf_counter())

    def _after(
        self,
        _connection: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        took = time.perf_counter() - self.started.pop()
        key = re.sub(r"\s+", " ", statement).strip()
        key = re.sub(r"(\(?(%\(\w+\)s|\?|\$\d+|%s)\)?,? ?){4,}", "…", key)  # long IN lists
        figures = self.seen.setdefault(key, [0, 0, 0.0])
        figures[0] += 1
        figures[1] += len(parameters) if executemany else 1
        figures[2] += took

    def print(self, lines: int) -> None:
        total = sum(figures[2] for figures in self.seen.values())
        calls = sum(int(figures[0]) for figures in self.seen.values())
        print(
            f"\nSQL statements of the profiled import: {calls:,} calls, {total:.2f} s in "
            f"the driver and the database (top {PROFILE_STATEMENTS} by time)"
        )
        top = sorted(self.seen.items(), key=lambda item: -item[1][2])[:PROFILE_STATEMENTS]
        print_table(
            ["statement", "calls", "rows", "s", "µs/line"],
            [
                [
                    key if len(key) <= 110 else key[:109] + "…",
                    f"{int(calls):,}",
                    f"{int(rows):,}",
                    f"{seconds:.3f}",
                    f"{seconds / lines * 1e6:.0f}",
                ]
                for key, (calls, rows, seconds) in top
            ],
        )


def print_profile(stats: pstats.Stats, lines: int, took: float) -> None:
    entries = stats.stats.items()  # type: ignore[attr-defined]
    table = sorted(entries, key=lambda item: item[1][2], reverse=True)[:PROFILE_TOP]
    print(
        f"\nPostgreSQL: cProfile of import_statement, {lines:,} lines in {took:.1f} s under the "
        f"profiler (top {PROFILE_TOP} by own time; per line = own time / {lines:,} lines)"
    )
    print_table(
        ["function", "calls", "own s", "own µs/line", "cumulative s"],
        [
            [
                f"{_where(filename)}:{line}({name})",
                f"{calls:,}",
                f"{own:.3f}",
                f"{own / lines * 1e6:.0f}",
                f"{cumulative:.3f}",
            ]
            for (filename, line, name), (_, calls, own, cumulative, _) in table
        ],
    )
    steps = sorted(
        (
            (key, figures)
            for key, figures in entries
            if key[0].endswith("services/reconciliation.py") and not key[2].startswith("<")
        ),
        key=lambda item: -item[1][3],
    )[:PROFILE_TOP]
    print(f"\nreconciliation.py's functions by cumulative time (per line: / {lines:,})")
    print_table(
        ["function", "calls", "cumulative s", "µs/line"],
        [
            [
                f"{name} (line {line})",
                f"{calls:,}",
                f"{cumulative:.3f}",
                f"{cumulative / lines * 1e6:.0f}",
            ]
            for (_, line, name), (_, calls, _, cumulative, _) in steps
        ],
    )
    packages: dict[str, float] = {}
    for (filename, _line, name), (_, _calls, own, _cumulative, _) in entries:
        package = _package(filename, name)
        packages[package] = packages.get(package, 0.0) + own
    total = sum(packages.values())
    print(f"\nOwn time by package ({total:.1f} s profiled):")
    print_table(
        ["package", "own s", "share", "µs/line"],
        [
            [package, f"{own:.2f}", f"{own / total:.0%}", f"{own / lines * 1e6:,.0f}"]
            for package, own in sorted(packages.items(), key=lambda item: -item[1])
        ],
    )


def bench_backend(backend: str, url: str) -> list[Measured]:
    label = LABELS[backend]
    with ExitStack() as stack:
        began = time.perf_counter()
        bench = StatementBench(backend, url)
        stack.callback(bench.close)
        payments = bench.prepare("Statement benchmark", LINES, FUNDING, probe=min(PROBE, LINES))
        print(f"{label}: set-up in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        content = payments.statement
        (named, total), bare = best_of(REPEATS, lambda: bare_read(content))
        owed = sum(amount for _, amount in payments.items.values())
        if (named, total) != (LINES, -owed):
            raise BookError(f"bare read: {named} lines for {total} fen; expected {LINES}, {-owed}")
        parsed, parsing = best_of(REPEATS, lambda: parse_camt053(content))
        if len(parsed.lines) != LINES:
            raise BookError(f"parse_camt053 read {len(parsed.lines)} lines of {LINES}")
        print(f"{label}: import …", file=sys.stderr)
        first, importing = timed(lambda: bench.import_file("statement.xml", content))
        if (first.lines, first.outcomes, first.replayed) != (LINES, {"paid": LINES}, False):
            raise BookError(f"import: {first}")
        before = bench.books()
        print(f"{label}: re-imports …", file=sys.stderr)
        again, replaying = timed(lambda: bench.import_file("statement-again.xml", content))
        if (again.statement_id, again.replayed, again.outcomes) != (
            first.statement_id,
            True,
            first.outcomes,
        ):
            raise BookError(f"the same file again was not a replay of the first import: {again}")
        if bench.books() != before:
            raise BookError("the same file again changed the books")
        resent, resending = timed(lambda: bench.import_file("resent.xml", payments.reordered))
        if (resent.lines, resent.outcomes, resent.replayed) != (
            LINES,
            {"duplicate": LINES},
            False,
        ):
            raise BookError(f"the reordered file: {resent.lines} lines, {resent.outcomes}")
        if bench.books() != before:
            raise BookError("the reordered file changed the books")
        bench.check_books(payments, first.statement_id, resent.statement_id)
        leaves, sequencing, verifying = sequence_and_verify(bench.uow)
        print(
            f"{label}: books check out (balances; {LINES:,} items paid and settled, batch paid; "
            f"{LINES:,} redemptions settled, settle entries and spend facts; provider accounts; "
            f"{LINES:,} paid and {LINES:,} duplicate lines; both re-imports changed nothing); "
            f"sequenced {leaves:,} entries in {sequencing:.1f} s, checkpoint signed, "
            f"verify_ledger OK in {verifying:.1f} s"
        )
        measured = [
            Measured("bare lxml: parse + walk", backend, named, bare),
            Measured("parse_camt053", backend, len(parsed.lines), parsing),
            Measured("import_statement", backend, first.lines, importing),
            Measured("re-import, same bytes", backend, again.lines, replaying),
            Measured("re-import, reordered", backend, resent.lines, resending),
        ]
        if backend == "postgresql" and (
            measured[2].rate < TARGET or os.environ.get("BENCH_PROFILE")
        ):
            print(f"{label}: profiling import_statement …", file=sys.stderr)
            bench.profile_import()
        return measured


def report(lines: Sequence[Measured]) -> None:
    bare = {m.backend: m.rate for m in lines if m.what.startswith("bare lxml")}
    print()
    print_table(
        ["what", "backend", "lines", "seconds", "lines/s", "of bare lxml"],
        [
            [
                m.what,
                LABELS[m.backend],
                f"{m.lines:,}",
                f"{m.seconds:.3f}",
                f"{m.rate:,.0f}",
                f"{m.rate / bare[m.backend]:.1%}",
            ]
            for m in lines
        ],
        left=2,
    )
    print()
    rates = {(m.backend, m.what): m.rate for m in lines}
    for backend, label in LABELS.items():
        imported = rates.get((backend, "import_statement"))
        if imported is None:
            continue
        if backend == "postgresql":
            verdict = "met" if imported >= TARGET else "NOT met"
            print(f"{label}: import at {imported:,.0f} lines/s — target >= {TARGET:,}/s: {verdict}")
        for what in ("re-import, same bytes", "re-import, reordered"):
            again = rates[backend, what]
            verdict = "met" if again >= imported else "NOT met"
            print(
                f"{label}: {what} at {again:,.0f} lines/s, {again / imported:.1f}x the import; "
                f"changed nothing — target: at least as fast as the import: {verdict}"
            )


def main() -> int:
    print(
        f"Statement import: a camt.053 of {LINES:,} lines paying {LINES:,} redemptions (one "
        f"batch of {LINES:,} items), imported, then re-imported as the same bytes and reordered, "
        f"next to the bare lxml parse of the same file"
    )
    return for_each_backend(bench_backend, report)


if __name__ == "__main__":
    sys.exit(main())
