"""Redemptions: vouchers redeemed per second through the service — a provider's submission,
the SME's confirmation, the center's approval — next to the same transactions through the bare
driver.

Why it exists: once vouchers are out, every service a provider delivers under the scheme is a
redemption (兑付): the provider submits the voucher's token with its invoice, the SME confirms,
center staff approve, and the subsidy moves voucher → provider `pending` → `payable`. Each
step is one transaction, and on a busy day many providers redeem at once, each for its own
customers. The question is how much the service layer (the unit of work and its retry
wrapper, the ORM, the journal's checks) costs on top of the database work and the signature
check it cannot avoid. Target: redemptions per second at least 50% of the raw-SQL rate, with
1, 8 and 32 concurrent providers.

What it compares, on SQLite (a file) and PostgreSQL (a fresh `bench_<pid>` database), both
migrated with the real migrations:

- service: `redemptions.submit_redemption(uow, provider_id=…, proof=VoucherProof(token=…),
  service=Service(…), actor=…, public_keys=…)`, then `confirm_redemption` by the SME, then
  `approve_redemption` by center staff — three transactions, through a `UnitOfWork` without the
  after-commit sequencing hook (the sequencer runs once, at the end, as in `ledger_post.py`);
- baseline: the same three transactions with sqlite3 / psycopg 3 (claim_rush.py's connections
  and column encodings), statement for statement what the service sends (read with
  `echo=True` on a SQLite and a PostgreSQL run of one redemption; the SELECTs read the columns
  the service reads, every column of each table it loads, labelled `<table>_<column>` in a
  join as `redemptions._labelled` labels them). Submit: the provider by public id;
  `jws.verify_voucher` on the token; the voucher by its human code joined to its programme and
  its SME's code, one read (FOR UPDATE OF vouchers on PostgreSQL: SQLite's `BEGIN IMMEDIATE`
  already serialises); the voucher account's balance; the invoice-number check (`provider_id =
  ? AND invoice_number = ? AND id != 0`); the redemption row (RETURNING id);
  `Journal.post` of the `redeem` entry — UPDATE … RETURNING id per posting in account-name
  order (provider `pending`, opened by INSERT … ON CONFLICT DO NOTHING RETURNING on its first
  use, then the voucher), the entry (RETURNING id), one two-row postings INSERT, the queue row
  — and its spend fact (`spend_facts.record`, RETURNING id on PostgreSQL); the `submitted`
  event (RETURNING id on PostgreSQL); the outbox row (INSERT … ON CONFLICT (dedupe_key) DO
  NOTHING RETURNING dedupe_key). Confirm: the redemption by public id joined to its voucher,
  the voucher's programme and the provider's public id, one read (FOR UPDATE OF redemptions
  on PostgreSQL); UPDATE of its status and status reason; the event. Approve: the same read;
  `Journal.post` of the `approve` entry (`payable`, opened on first use, then `pending`) and
  its spend fact; UPDATE of the status; the event. It makes the same decisions (provider
  approved, voucher active with value left, partial spending, categories, invoice unused,
  delivery date, the subsidy by `domain.redemptions.subsidy_fen`, the steps by `next_status`)
  and computes the same notification text, but does not re-validate its inputs (the refs and
  postings): 13 + 3 + 9 = 25 statements per redemption besides the three BEGIN/COMMIT pairs,
  on both backends, as the service sends them since issue 17's item 4 (before it, both sent
  15 + 6 + 12 = 33: the voucher, its programme, the SME's code, and a step's redemption,
  voucher, provider id and programme each read on its own).

One provincial programme with partial spending, a 50% subsidy rate and vouchers of ¥10
million, so each voucher takes 200,000 redemptions of ¥50 and nothing is refused (a refusal
aborts the run). Each path has its own 32 approved providers (registered and approved through
`services.providers`) and each provider its own pool of vouchers (claimed through
`vouchers.claim_many_within`), redeemed round robin: providers redeem different vouchers at
once, as on a real day. Invoice numbers name the run, the provider and a counter. One provider
runs in this process; 8 and 32 run as processes of their own with one connection each, as
gunicorn's workers would. Service and baseline alternate in an A-B-B-A order in the same
database so drift and noise hit both.

Afterwards it checks the books — balances sum to zero and equal their postings; per path, the
approved redemptions, their events and their `redeem` and `approve` entries match the
redemptions its providers reported, and none is left half-way; every provider's `payable`
account holds the sum of its approved subsidies and its `pending` account nothing; every
voucher's account holds its face value less its redeemed subsidies; then the sequencer puts
every entry in the Merkle log, a checkpoint is signed and `verify_ledger` checks all of it —
and exits 1 on a failure.

Run from the project root: `.venv/bin/python -m bench.redeem` (or `make bench`).
BENCH_SECONDS (default 4) is the measured time per configuration and path; BENCH_WARMUP
(default 0.5) the unmeasured lead-in of each run; VOUCHER_BENCH_POSTGRES_URL the server.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, inspect, select

from bench.claim_rush import (
    APPLY,
    INSERT_ENTRY,
    INSERT_FACT,
    INSERT_POSTINGS,
    INSERT_QUEUE,
    OPEN_ACCOUNT,
    Refused,
    raw_claimer,
)
from bench.common import (
    LABELS,
    BookError,
    Comparison,
    Timing,
    bench_seconds,
    check_balanced,
    for_each_backend,
    insert_smes,
    merge,
    print_comparisons,
    provider_application,
    run_for,
    run_in_processes,
    sequence_and_verify,
    sme_uscc,
    voucher_programme,
    voucher_signer,
    warmup_seconds,
)
from voucher_app.clock import SystemClock
from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind, parse_account
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.entries import EntryKind
from voucher_app.domain.money import format_yuan
from voucher_app.domain.providers import ProviderDecision
from voucher_app.domain.redemptions import Step, next_status, subsidy_fen
from voucher_app.domain.spend import MEASURE, SIGN, local_month
from voucher_app.ledger.tables import JournalEntry, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import (
    Base,
    Programme,
    Provider,
    Redemption,
    RedemptionEvent,
    Sme,
    Voucher,
)
from voucher_app.persistence.uow import transaction
from voucher_app.services import centers, providers, redemptions, vouchers
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.services.vouchers import Issued, VoucherSigner
from voucher_app.signing.jws import verify_voucher
from voucher_app.wiring import unit_of_work

PROVIDER_COUNTS = (1, 8, 32)
MAX_PROVIDERS = max(PROVIDER_COUNTS)
POOL = 4  # vouchers per provider and path, redeemed round robin
FACE_FEN = 10**9  # ¥10 million: 200,000 redemptions per voucher
INVOICED_FEN = 10_000  # ¥100 per service, of which the voucher pays half
BUDGET_FEN = 10**12  # far beyond the 256 vouchers' face values
CATEGORY = "legal"
TARGET = 0.5
PATHS = ("service", "baseline")
ADMIN = Actor("bench-admin", Role.CENTER_ADMIN)


def actor(role: Role, path: str) -> Actor:
    """Each path's providers, SMEs and staff act under names of their own."""
    return Actor(f"bench-{role.value}" + ("-baseline" if path == "baseline" else ""), role)


def _columns(model: type[Base], *, skip: str = "") -> list[str]:
    return [column.name for column in inspect(model).columns if column.name != skip]


# The baseline's statements: {m} the driver's placeholder, {lock_vouchers} and
# {lock_redemptions} " FOR UPDATE OF …" on PostgreSQL, {returning} " RETURNING id" where
# SQLAlchemy asks for a new row's id (PostgreSQL); {<table>} a table's columns, {<table>_as}
# the same each labelled `<table>_<column>` as `redemptions._labelled` labels them in a join.
TABLES = {
    "providers": Provider,
    "vouchers": Voucher,
    "programmes": Programme,
    "redemptions": Redemption,
}
NEW_REDEMPTION = _columns(Redemption, skip="id")
NEW_EVENT = _columns(RedemptionEvent, skip="id")
STATEMENTS = {
    "provider": "SELECT {providers} FROM providers WHERE providers.public_id = {m}",
    # `redemptions._SHOWN_VOUCHER`: the voucher shown, locked, its programme and SME's code.
    "shown_voucher": (
        "SELECT {vouchers_as}, {programmes_as}, smes.uscc AS sme_uscc FROM vouchers "
        "JOIN programmes ON programmes.id = vouchers.programme_id "
        "JOIN smes ON smes.id = vouchers.sme_id "
        "WHERE vouchers.human_code = {m}{lock_vouchers}"
    ),
    # `redemptions._STEP`: the redemption, locked, its voucher, programme and provider's id.
    "step": (
        "SELECT {redemptions_as}, {vouchers_as}, {programmes_as}, "
        "providers.public_id AS provider_public_id FROM vouchers "
        "JOIN programmes ON programmes.id = vouchers.programme_id "
        "JOIN redemptions ON redemptions.voucher_id = vouchers.id "
        "JOIN providers ON providers.id = redemptions.provider_id "
        "WHERE redemptions.public_id = {m}{lock_redemptions}"
    ),
    "balance": "SELECT balance_fen FROM ledger_accounts WHERE name = {m}",
    "invoice_used": (
        "SELECT public_id FROM redemptions "
        "WHERE provider_id = {m} AND invoice_number = {m} AND id != {m}"
    ),
    # `redemptions._INSERT_REDEMPTION` asks for the id on both backends.
    "insert_redemption": (
        f"INSERT INTO redemptions ({', '.join(NEW_REDEMPTION)}) "
        f"VALUES ({', '.join(['{m}'] * len(NEW_REDEMPTION))}) RETURNING id"
    ),
    "insert_event": (
        f"INSERT INTO redemption_events ({', '.join(NEW_EVENT)}) "
        f"VALUES ({', '.join(['{m}'] * len(NEW_EVENT))}){{returning}}"
    ),
    "update_status": (
        "UPDATE redemptions SET status = {m}, status_reason = {m} WHERE redemptions.id = {m}"
    ),
    "queue_notification": (
        "INSERT INTO notifications (dedupe_key, recipient, subject, body, created_at, "
        "next_attempt_at, attempts) VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
    ),
    "apply": APPLY,
    "open_account": OPEN_ACCOUNT,
    "insert_entry": INSERT_ENTRY,
    "insert_postings": INSERT_POSTINGS,
    "insert_queue": INSERT_QUEUE,
    "insert_fact": INSERT_FACT + "{returning}",
}


def public_keys(seed: bytes) -> dict[str, Ed25519PublicKey]:
    signer = voucher_signer(seed)
    return {signer.kid: signer.private_key.public_key()}


def _moment(value: Any) -> datetime:
    """A UtcDateTime column as read: naive UTC text on SQLite, aware on PostgreSQL."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)  # type: ignore[no-any-return]


class RawRedeemer:
    """The baseline's redemption with a bare driver: claim_rush.py's connection, transaction
    and column encodings for the backend, these statements."""

    def __init__(
        self,
        backend: str,
        url: str,
        seed: bytes,
        *,
        keyring: tuple[VoucherSigner, dict[str, Ed25519PublicKey]] | None = None,
    ) -> None:
        """Sign and verify with the key of `seed`, or with `keyring`'s signer and public keys
        (an application's, as `http.py` needs)."""
        signer, keys = keyring or (voucher_signer(seed), public_keys(seed))
        self.db = raw_claimer(backend, url, signer)
        self.keys = keys
        self.cur = self.db.cursor
        self.sqlite = backend == "sqlite"
        postgresql = backend == "postgresql"
        marks = {
            "m": self.db.placeholder,
            "lock_vouchers": " FOR UPDATE OF vouchers" if postgresql else "",
            "lock_redemptions": " FOR UPDATE OF redemptions" if postgresql else "",
            "returning": " RETURNING id" if self.db.returns_ids else "",
            **{table: ", ".join(_columns(model)) for table, model in TABLES.items()},
            **{
                f"{table}_as": ", ".join(
                    f"{table}.{column} AS {table}_{column}" for column in _columns(model)
                )
                for table, model in TABLES.items()
            },
        }
        self.sql = {name: sql.format(**marks) for name, sql in STATEMENTS.items()}
        self.returns = {name for name, sql in self.sql.items() if sql.endswith(" RETURNING id")}

    def close(self) -> None:
        self.db.close()

    def date(self, value: date) -> object:
        """A DATE as a bound parameter: ISO text on SQLite, as SQLAlchemy binds it."""
        return value.isoformat() if self.sqlite else value

    def row(self, statement: str, *params: object) -> dict[str, Any]:
        self.cur.execute(self.sql[statement], params)
        found = self.cur.fetchone()
        if found is None:
            raise Refused(f"{statement}: no row for {params}")
        return dict(zip([column[0] for column in self.cur.description], found, strict=True))

    def joined(self, statement: str, *params: object) -> dict[str, dict[str, Any]]:
        """A row of a join read with labelled columns, split as `redemptions._loaded` splits
        it: {table: {column: value}} for each table in `TABLES`, the rest under ""."""
        found = self.row(statement, *params)
        split: dict[str, dict[str, Any]] = {"": {}}
        for label, value in found.items():
            table, _, column = label.partition("_")
            if table in TABLES:
                split.setdefault(table, {})[column] = value
            else:
                split[""][label] = value
        return split

    def scalar(self, statement: str, *params: object) -> Any:
        self.cur.execute(self.sql[statement], params)
        found = self.cur.fetchone()
        return None if found is None else found[0]

    def insert(self, statement: str, columns: Sequence[str], values: dict[str, object]) -> int:
        """A row as the ORM inserts it (every column, NULL where unset); return its id."""
        self.cur.execute(self.sql[statement], [values.get(name) for name in columns])
        return int(self.cur.fetchone()[0] if statement in self.returns else self.cur.lastrowid)

    def submit(
        self, provider_id: uuid.UUID, token: str, service: Service, actor: Actor
    ) -> uuid.UUID:
        """`submit_redemption` by token, one transaction; return the redemption's public id."""
        db = self.db
        with db.transaction():
            provider = self.row("provider", db.key(provider_id))
            if provider["status"] != "approved":
                raise Refused(f"provider {provider_id} is {provider['status']}")
            now = datetime.now(UTC)
            payload = verify_voucher(token.strip(), self.keys, now)
            shown = self.joined("shown_voucher", payload.human_code)
            voucher, programme = shown["vouchers"], shown["programmes"]
            voucher_key = str(db.uuid_of(voucher["public_id"]))
            held = accounts.voucher(voucher_key).name
            remaining = self.scalar("balance", held) or 0
            if (
                voucher["status"] != "active"
                or _moment(voucher["expires_at"]) <= now
                or not remaining
            ):
                raise Refused(f"voucher {voucher_key} is not active")
            if not programme["partial_spending"]:
                raise Refused("the programme does not allow partial spending")
            category = service.category or ""
            for offered in (voucher["service_categories"], provider["service_categories"]):
                if category not in db.loaded(offered):
                    raise Refused(f"{category} is not covered")
            invoice = service.invoice_number.strip()
            if self.scalar("invoice_used", provider["id"], invoice, 0) is not None:
                raise Refused(f"invoice {invoice} is in a redemption already")
            if (
                not local_date(_moment(voucher["issued_at"]))
                <= service.delivered_on
                <= local_date(now)
            ):
                raise Refused("delivered outside the voucher's life")
            subsidy = subsidy_fen(service.invoiced_fen, voucher["subsidy_rate_bp"], remaining)
            redemption_id = uuid.uuid4()
            confirm_by = now + timedelta(days=programme["confirmation_days"])
            figures = {
                "category": category,
                "description": service.description.strip(),
                "invoice_number": invoice,
                "invoiced_fen": service.invoiced_fen,
                "subsidy_fen": subsidy,
                "delivered_on": service.delivered_on,
            }
            row_id = self.insert(
                "insert_redemption",
                NEW_REDEMPTION,
                {
                    "public_id": db.key(redemption_id),
                    "voucher_id": voucher["id"],
                    "provider_id": provider["id"],
                    **figures,
                    "delivered_on": self.date(service.delivered_on),
                    "status": "submitted",
                    "submitted_at": db.moment(now),
                    "confirm_by": db.moment(confirm_by),
                },
            )
            pid = str(db.uuid_of(programme["public_id"]))
            provider_key = str(db.uuid_of(provider["public_id"]))
            pending = accounts.provider(AccountKind.PENDING, provider_key, pid).name
            refs = {
                "programme": pid,
                "voucher": voucher_key,
                "provider": provider_key,
                "redemption": str(redemption_id),
            }
            attribution = (
                voucher["issuing_center_id"],
                voucher["programme_id"],
                provider["id"],
                category,
            )
            self.post(EntryKind.REDEEM, held, pending, subsidy, refs, actor, attribution)
            self.record(row_id, "submitted", figures, actor)
            uscc = shown[""]["sme_uscc"]
            code, asked = voucher["human_code"], format_yuan(subsidy)
            queued = datetime.now(UTC)
            self.cur.execute(
                self.sql["queue_notification"],
                (
                    f"redemption-confirm:{redemption_id}:{now.isoformat()}",
                    f"sme:{uscc}",
                    f"请确认服务券 {code} 的兑付申请 / confirm the redemption of voucher {code}",
                    f"服务机构申请兑付 {asked}（发票 {invoice}），请在 {confirm_by:%Y-%m-%d} "
                    f"前确认或提出异议。 / A provider asks to be paid {asked} (invoice "
                    f"{invoice}); confirm or dispute before {confirm_by:%Y-%m-%d}.",
                    db.moment(queued),
                    db.moment(queued),
                    0,
                ),
            )
            self.cur.fetchone()
        return redemption_id

    def step(self, redemption_id: uuid.UUID, step: Step, actor: Actor) -> None:
        """`confirm_redemption` or `approve_redemption`, one transaction."""
        db = self.db
        with db.transaction():
            read = self.joined("step", db.key(redemption_id))
            redemption, voucher = read["redemptions"], read["vouchers"]
            programme = read["programmes"]
            now = datetime.now(UTC)
            status = next_status(
                step, redemption["status"], confirm_by=_moment(redemption["confirm_by"]), now=now
            )
            provider_key = str(db.uuid_of(read[""]["provider_public_id"]))
            if step is Step.APPROVE:
                pid = str(db.uuid_of(programme["public_id"]))
                refs = {
                    "programme": pid,
                    "voucher": str(db.uuid_of(voucher["public_id"])),
                    "provider": provider_key,
                    "redemption": str(redemption_id),
                }
                self.post(
                    EntryKind.APPROVE,
                    accounts.provider(AccountKind.PENDING, provider_key, pid).name,
                    accounts.provider(AccountKind.PAYABLE, provider_key, pid).name,
                    redemption["subsidy_fen"],
                    refs,
                    actor,
                    (
                        voucher["issuing_center_id"],
                        voucher["programme_id"],
                        redemption["provider_id"],
                        redemption["category"],
                    ),
                )
                if not programme["partial_spending"]:
                    raise Refused("the programme does not allow partial spending")
            self.cur.execute(self.sql["update_status"], (status, None, redemption["id"]))
            figures = {
                name: redemption[name]
                for name in ("invoice_number", "invoiced_fen", "subsidy_fen", "category")
            }
            figures["delivered_on"] = db.day(redemption["delivered_on"])
            self.record(redemption["id"], status, figures, actor)

    def record(self, row_id: int, status: str, figures: dict[str, Any], actor: Actor) -> None:
        """The redemption's event row, its details as `redemptions._record` writes them."""
        details = {
            "invoice_number": figures["invoice_number"],
            "invoiced_fen": figures["invoiced_fen"],
            "subsidy_fen": figures["subsidy_fen"],
            "category": figures["category"],
            "delivered_on": figures["delivered_on"].isoformat(),
        }
        self.insert(
            "insert_event",
            NEW_EVENT,
            {
                "redemption_id": row_id,
                "status": status,
                "reason": None,
                "details": self.db.document(details),
                "actor_id": actor.id,
                "actor_role": actor.role.value,
                "recorded_at": self.db.moment(datetime.now(UTC)),
            },
        )

    def post(  # noqa: PLR0917 - an entry's parts, in the order of a transfer
        self,
        kind: EntryKind,
        source: str,
        target: str,
        amount: int,
        refs: dict[str, str],
        actor: Actor,
        attribution: tuple[int, int, int, str],
    ) -> None:
        """`Journal.post` of a transfer: the conditional update of each account in name order
        (an account that money enters is opened holding it if missing), the entry, its two
        postings in one INSERT, the queue row; then `spend_facts.record`: the redemption's figure
        for (issuing center, programme, provider, category)."""
        ordered = sorted(((source, -amount), (target, amount)))
        ids = [self.apply(name, fen) for name, fen in ordered]
        db = self.db
        entry_public, posted_at = uuid.uuid4(), datetime.now(UTC)
        self.cur.execute(
            self.sql["insert_entry"],
            (
                db.key(entry_public),
                kind.value,
                db.moment(posted_at),
                actor.id,
                actor.role.value,
                db.document(refs),
                None,
                None,
                None,
            ),
        )
        (entry_id,) = self.cur.fetchone()
        (_, first), (_, second) = ordered
        self.cur.execute(
            self.sql["insert_postings"], (entry_id, ids[0], first, entry_id, ids[1], second)
        )
        self.cur.execute(self.sql["insert_queue"], (entry_id,))
        self.cur.execute(
            self.sql["insert_fact"],
            (
                db.key(entry_public),
                *attribution,
                local_month(posted_at),
                MEASURE[kind].value,
                SIGN[kind] * amount,
            ),
        )
        if "insert_fact" in self.returns:
            self.cur.fetchone()

    def apply(self, name: str, amount: int) -> int:
        """`Journal._apply`: the conditional update; a missing account is opened holding it."""
        self.cur.execute(self.sql["apply"], (amount, name, amount))
        found = self.cur.fetchone()
        if found is None and amount > 0:
            kind = parse_account(name).kind.value
            self.cur.execute(self.sql["open_account"], (name, kind, amount, 0))
            found = self.cur.fetchone()
        if found is None:
            raise Refused(f"{name} cannot take {amount}")
        return int(found[0])


def _service(invoice: str) -> Service:
    return Service(
        invoice_number=invoice,
        invoiced_fen=INVOICED_FEN,
        delivered_on=local_date(datetime.now(UTC)),
        category=CATEGORY,
        description="合同审查 contract review",
    )


def service_redeem(
    uow: UnitOfWork,
    keys: dict[str, Ed25519PublicKey],
    provider: uuid.UUID,
    tokens: Iterator[str],
    invoices: Iterator[str],
) -> None:
    """The service path under test: submit, confirm, approve; three transactions."""
    redemption = redemptions.submit_redemption(
        uow,
        provider_id=provider,
        proof=VoucherProof(token=next(tokens)),
        service=_service(next(invoices)),
        actor=actor(Role.PROVIDER, "service"),
        public_keys=keys,
    )
    redemptions.confirm_redemption(uow, redemption.id, actor(Role.SME, "service"))
    redemptions.approve_redemption(uow, redemption.id, actor(Role.CENTER_STAFF, "service"))


def baseline_redeem(
    raw: RawRedeemer, provider: uuid.UUID, tokens: Iterator[str], invoices: Iterator[str]
) -> None:
    redemption_id = raw.submit(
        provider, next(tokens), _service(next(invoices)), actor(Role.PROVIDER, "baseline")
    )
    raw.step(redemption_id, Step.CONFIRM, actor(Role.SME, "baseline"))
    raw.step(redemption_id, Step.APPROVE, actor(Role.CENTER_STAFF, "baseline"))


@dataclass(frozen=True, slots=True)
class Lanes:
    """One path's providers and each one's pool of voucher tokens."""

    providers: tuple[uuid.UUID, ...]
    pools: tuple[tuple[str, ...], ...]


def redeemer(
    lanes: Lanes, run: int, index: int, via: UnitOfWork | RawRedeemer, seed: bytes
) -> Callable[[], None]:
    """Provider `index`'s redemption to repeat in run `run`, its invoices numbered afresh."""
    provider = lanes.providers[index]
    tokens = itertools.cycle(lanes.pools[index])
    invoices = (f"R{run}-P{index}-{n}" for n in itertools.count(1))
    if isinstance(via, RawRedeemer):
        return partial(baseline_redeem, via, provider, tokens, invoices)
    return partial(service_redeem, via, public_keys(seed), provider, tokens, invoices)


def _provider_process(  # noqa: PLR0917 - bound by position with functools.partial
    path: str, backend: str, url: str, lanes: Lanes, seed: bytes, run: int, index: int
) -> Callable[[], object]:
    """In a provider process: open its own connection, return the redemption to repeat."""
    via: UnitOfWork | RawRedeemer
    if path == "service":
        via = unit_of_work(Database(url, pool_size=1), SystemClock())
    else:
        via = RawRedeemer(backend, url, seed)
    return redeemer(lanes, run, index, via, seed)


def register_provider(uow: UnitOfWork, serial: int) -> uuid.UUID:
    """An approved provider in Shenzhen (440300), as `tests.factories.provider` makes one."""
    application = provider_application(serial)
    view = providers.apply_provider(uow, application, ADMIN)
    return providers.decide_provider(uow, view.id, ProviderDecision.APPROVE, ADMIN).id


class RedeemBench:
    """The two paths on one database, and the checks of its books afterwards."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.url = url
        self.seed = os.urandom(32)
        signer = voucher_signer(self.seed)
        self.database = Database(url, pool_size=2)
        self.uow = unit_of_work(self.database, SystemClock())
        centers.import_centers(self.uow, centers.guangdong_centers())
        self.programme = voucher_programme(
            self.uow,
            ADMIN,
            budget_fen=BUDGET_FEN,
            face_fen=FACE_FEN,
            cap_fen=FACE_FEN,
            name="Redemptions",
        )
        serials = itertools.count(1)
        smes = {
            path: [[sme_uscc(next(serials)) for _ in range(POOL)] for _ in range(MAX_PROVIDERS)]
            for path in PATHS
        }
        everyone = [uscc for pools in smes.values() for pool in pools for uscc in pool]
        insert_smes(self.database, everyone, ADMIN)
        issued = transaction(vouchers.claim_many_within)(
            self.uow,
            programme_id=self.programme,
            keys={uscc: f"bench-redeem:{uscc}" for uscc in everyone},
            actor=ADMIN,
            signer=signer,
        )
        if not all(isinstance(answer, Issued) for answer in issued.values()):
            raise Refused(f"claims refused: {issued}")
        with self.database.engine.connect() as connection:
            tokens = dict(
                connection.execute(
                    select(Sme.uscc, Voucher.token).join(Voucher, Voucher.sme_id == Sme.id)
                ).all()
            )
        self.lanes = {
            path: Lanes(
                tuple(register_provider(self.uow, next(serials)) for _ in range(MAX_PROVIDERS)),
                tuple(tuple(tokens[uscc] for uscc in pool) for pool in smes[path]),
            )
            for path in PATHS
        }
        self.raw = RawRedeemer(backend, url, self.seed)
        self.via: dict[str, UnitOfWork | RawRedeemer] = {"service": self.uow, "baseline": self.raw}
        self.runs = itertools.count(1)
        self.redeemed = dict.fromkeys(PATHS, 0)

    def close(self) -> None:
        self.raw.close()
        self.database.dispose()

    def measure(self, providers: int, seconds: float, warmup: float) -> Comparison:
        """Service and baseline in A-B-B-A order, half the time each, pooled per path."""
        half = seconds / 2
        timings: dict[str, list[Timing]] = {path: [] for path in PATHS}
        for path in ("service", "baseline", "baseline", "service"):
            run = next(self.runs)
            if providers == 1:
                work = redeemer(self.lanes[path], run, 0, self.via[path], self.seed)
                timing = run_for(half, 1, partial(_ignore_index, work), warmup=warmup)
                self.redeemed[path] += timing.calls
            else:
                worker = partial(
                    _provider_process,
                    path,
                    self.backend,
                    self.url,
                    self.lanes[path],
                    self.seed,
                    run,
                )
                timing, calls = run_in_processes(half, providers, worker, warmup=warmup)
                self.redeemed[path] += sum(calls)
            timings[path].append(timing)
        return Comparison(
            self.backend, providers, merge(timings["service"]), merge(timings["baseline"])
        )

    def check_books(self) -> None:
        """Whole-database checks of both paths; raise `BookError` on the first that fails."""
        with self.database.engine.connect() as connection:
            check_balanced(connection)
            held = dict(
                connection.execute(select(LedgerAccount.name, LedgerAccount.balance_fen)).all()
            )
            programme = str(self.programme)
            for path, lanes in self.lanes.items():
                redeemed = self.redeemed[path]
                ids = select(Provider.id).where(Provider.public_id.in_(lanes.providers))
                by_status = dict(
                    connection.execute(
                        select(Redemption.status, func.count())
                        .where(Redemption.provider_id.in_(ids))
                        .group_by(Redemption.status)
                    ).all()
                )
                events = connection.execute(
                    select(func.count())
                    .select_from(RedemptionEvent)
                    .join(Redemption, Redemption.id == RedemptionEvent.redemption_id)
                    .where(Redemption.provider_id.in_(ids))
                ).scalar_one()
                entries = dict(
                    connection.execute(
                        select(JournalEntry.kind, func.count())
                        .where(
                            JournalEntry.actor_id.in_(
                                [
                                    actor(role, path).id
                                    for role in (Role.PROVIDER, Role.CENTER_STAFF)
                                ]
                            )
                        )
                        .group_by(JournalEntry.kind)
                    ).all()
                )
                if (
                    by_status != ({"approved": redeemed} if redeemed else {})
                    or events != 3 * redeemed
                ):
                    raise BookError(
                        f"{path}: redemptions by status {by_status} and {events} events, the "
                        f"providers reported {redeemed} redemptions"
                    )
                if entries != ({"redeem": redeemed, "approve": redeemed} if redeemed else {}):
                    raise BookError(f"{path}: entries {entries} for {redeemed} redemptions")
                payable = dict(
                    connection.execute(
                        select(
                            Provider.public_id, func.coalesce(func.sum(Redemption.subsidy_fen), 0)
                        )
                        .outerjoin(
                            Redemption,
                            (Redemption.provider_id == Provider.id)
                            & (Redemption.status == "approved"),
                        )
                        .where(Provider.public_id.in_(lanes.providers))
                        .group_by(Provider.public_id)
                    ).all()
                )
                for provider, approved in payable.items():
                    names = (
                        accounts.provider(kind, str(provider), programme).name
                        for kind in (AccountKind.PAYABLE, AccountKind.PENDING)
                    )
                    balances = [held.get(name, 0) for name in names]
                    if balances != [approved, 0]:
                        raise BookError(
                            f"{path}: provider {provider} holds {balances} fen payable and "
                            f"pending, its approved subsidies come to {approved}"
                        )
            spent = connection.execute(
                select(
                    Voucher.public_id,
                    Voucher.face_value_fen,
                    func.coalesce(func.sum(Redemption.subsidy_fen), 0),
                )
                .outerjoin(Redemption, Redemption.voucher_id == Voucher.id)
                .group_by(Voucher.public_id, Voucher.face_value_fen)
            ).all()
            for voucher, face, redeemed_fen in spent:
                found = held.get(accounts.voucher(str(voucher)).name)
                if found != face - redeemed_fen:
                    raise BookError(
                        f"voucher {voucher} of {face} fen, {redeemed_fen} redeemed: holds {found}"
                    )

    def verify_ledger(self) -> tuple[int, float, float]:
        return sequence_and_verify(self.uow)


def _ignore_index(work: Callable[[], None], _index: int) -> None:
    work()


def bench_backend(backend: str, url: str, seconds: float, warmup: float) -> list[Comparison]:
    label = LABELS[backend]
    with ExitStack() as stack:
        began = time.perf_counter()
        bench = RedeemBench(backend, url)
        stack.callback(bench.close)
        print(
            f"{label}: set-up (centers, a programme, {2 * MAX_PROVIDERS * POOL} vouchers, "
            f"{2 * MAX_PROVIDERS} providers) in {time.perf_counter() - began:.1f} s",
            file=sys.stderr,
        )
        rows = []
        for count in PROVIDER_COUNTS:
            print(f"{label}: {count} provider(s), service and baseline …", file=sys.stderr)
            rows.append(bench.measure(count, seconds, warmup))
        bench.check_books()
        leaves, sequencing, verifying = bench.verify_ledger()
        print(
            f"{label}: {bench.redeemed['service']:,} service and {bench.redeemed['baseline']:,} "
            f"baseline redemptions; books check out (balances, redemptions, events, entries, "
            f"provider and voucher accounts); sequenced {leaves:,} entries in {sequencing:.1f} s, "
            f"checkpoint signed, verify_ledger OK in {verifying:.1f} s"
        )
        return rows


def main() -> int:
    seconds = bench_seconds()
    warmup = warmup_seconds()
    print(
        f"Redemptions: {seconds:g} s measured per path and configuration (A-B-B-A halves, "
        f"{warmup:g} s warm-up each), each redemption a submit, a confirm and an approve "
        f"(three transactions), each provider redeeming round robin its own {POOL} vouchers"
    )
    return for_each_backend(
        lambda backend, url: bench_backend(backend, url, seconds, warmup),
        lambda rows: print_comparisons(rows, unit="redemptions", who="provider", target=TARGET),
    )


if __name__ == "__main__":
    sys.exit(main())
