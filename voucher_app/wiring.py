"""The concrete parts one application instance uses, chosen once by `create_app`.

Entry points (views, commands, jobs) ask `current()` for a unit of work or a signer instead of
building their own, so tests can swap a part in one place. Whatever builds a unit of work outside
an app (tests, benchmarks, tools) calls `unit_of_work`: the one place that hands persistence's
unit of work the ledger's journal.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, current_app, g, has_request_context

from voucher_app.clock import Clock, SystemClock
from voucher_app.domain.errors import (
    InvalidEvaluationScheme,
    InvalidInput,
    InvalidWitnessPolicy,
    KeyringError,
    LogBehindPublished,
    VoucherError,
)
from voucher_app.domain.evaluation import Scheme, read_schemes
from voucher_app.domain.parties import MIN_KEY_BYTES, MatchingKey
from voucher_app.domain.signals import DEFAULT_THRESHOLDS, Thresholds
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.journal import Journal
from voucher_app.ledger.published import FILE_NAME, PublishedFile
from voucher_app.ledger.unit_of_work import HeldUnitOfWork, UnitOfWork
from voucher_app.ledger.witnesses import WitnessPolicy, policy_from_file
from voucher_app.pace import Pace
from voucher_app.persistence import uow as persistence_uow
from voucher_app.persistence.database import Database
from voucher_app.services import ledger
from voucher_app.services.notifications import Sender, log_sender
from voucher_app.services.users import password_hasher
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.keyring import KeyPurpose, Keyring
from voucher_app.signing.note import Verifier

log = logging.getLogger(__name__)
EXTENSION = "voucher_app"
EVALUATION_FILE = "center-evaluation.toml"


def unit_of_work(
    database: Database,
    clock: Clock,
    *,
    after_ledger_commit: Callable[[], None] | None = None,
    published: PublishedFile | None = None,
) -> UnitOfWork:
    """A unit of work whose transactions post to the ledger's journal. Without
    `after_ledger_commit` nothing sequences the log after a commit (the jobs do); without
    `published` it checks the log against no published-checkpoint file."""
    return persistence_uow.UnitOfWork(
        database,
        clock,
        journal=Journal,
        after_ledger_commit=after_ledger_commit,
        published=published,
    )


def held_unit_of_work(
    database: Database,
    clock: Clock,
    *,
    on_open: Callable[[UnitOfWork], None],
    after_ledger_commit: Callable[[], None] | None = None,
    published: PublishedFile | None = None,
) -> HeldUnitOfWork:
    """A unit of work held open for a whole request (`persistence.uow.HeldUnitOfWork`)."""
    return persistence_uow.HeldUnitOfWork(
        database,
        clock,
        journal=Journal,
        on_open=on_open,
        after_ledger_commit=after_ledger_commit,
        published=published,
    )


def signal_thresholds(overrides: dict[str, Any], *, enabled: bool) -> Thresholds | None:
    """The fraud signals' thresholds, the defaults with the configured ones applied (None when
    the signals are off); a name or value that is wrong stops the application starting, naming
    it, whether or not the signals are on."""
    try:
        thresholds = Thresholds.configured(overrides)
    except InvalidInput as wrong:
        raise ConfigurationError(f"VOUCHER_SIGNAL_THRESHOLDS: {wrong}") from wrong
    return thresholds if enabled else None


def evaluation_schemes(path: str | None = None) -> dict[int, Scheme]:
    """The yearly center evaluation schemes in `path` (`EVALUATION_FILE`), or the packaged
    ones; a file that cannot be read or does not hold together stops the application starting."""
    try:
        if path is None:
            text = (resources.files("voucher_app") / "data" / EVALUATION_FILE).read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return read_schemes(text)
    except (OSError, UnicodeDecodeError, InvalidEvaluationScheme) as wrong:
        raise ConfigurationError(f"VOUCHER_EVALUATION_FILE: {wrong}") from wrong


def witness_policy(path: str | None = None) -> WitnessPolicy:
    """The witnesses and quorum in `path` (`WITNESSES_FILE`); a file that cannot be read or does
    not hold together stops the application starting."""
    try:
        return policy_from_file(Path(path) if path else None)
    except InvalidWitnessPolicy as wrong:
        raise ConfigurationError(f"VOUCHER_WITNESSES_FILE: {wrong}") from wrong


class ConfigurationError(VoucherError):
    """The application refuses to start with this configuration; the message names the
    variable to set."""

    code = "configuration_error"


@dataclass
class Wiring:
    database: Database
    clock: Clock
    keyring: Keyring
    origin: str
    sequence_after_commit: bool
    hasher: PasswordHasher
    #: Rows a CSV or XLSX upload may hold; a batch total over which export needs a second
    #: finance officer's approval (config `MAX_TABLE_ROWS`, `SECOND_APPROVAL_OVER_FEN`).
    max_table_rows: int = 50_000
    second_approval_over_fen: int = 50_000_000
    #: What one evidence file of a redemption may hold (config `MAX_EVIDENCE_LENGTH`).
    max_evidence_bytes: int = 5 * 1024 * 1024
    idempotency_key_hours: int = 24
    sender: Sender = log_sender
    #: Where the latest signed checkpoint is also kept, outside the database (`CHECKPOINT_FILE`).
    checkpoint_file: Path = Path("keys", FILE_NAME)
    #: How often this process sequences after its commits (`SEQUENCE_AFTER_COMMIT_EVERY_SECONDS`).
    sequence_pace: Pace = field(default_factory=lambda: Pace(0))
    #: Keys the legal representatives' digests (`PARTY_MATCHING_KEY`, `domain.parties`).
    party_matching_key: str | None = field(default=None, repr=False)
    #: Where each fraud signal fires (`SIGNAL_THRESHOLDS`, `domain.signals`); None: claims
    #: are not scored (`SIGNALS_ENABLED`).
    signal_thresholds: Thresholds | None = DEFAULT_THRESHOLDS
    #: The province's evaluation scheme of each year (`EVALUATION_FILE`, `domain.evaluation`).
    evaluation_schemes: dict[int, Scheme] = field(default_factory=evaluation_schemes)
    #: The witnesses that cosign checkpoints, and their quorum (`WITNESSES_FILE`).
    witnesses: WitnessPolicy = field(default_factory=WitnessPolicy)

    @classmethod
    def from_config(cls, config: dict[str, Any], instance_path: str) -> Wiring:
        url = config["DATABASE_URL"] or f"sqlite:///{Path(instance_path) / 'vouchers.sqlite3'}"
        keys_dir = Path(config["KEYS_DIR"] or "keys").resolve()
        return cls(
            database=Database(url, pool_size=int(config["DATABASE_POOL_SIZE"])),
            clock=SystemClock(),
            keyring=Keyring(
                keys_dir, config["KEY_PASSPHRASE"], allow_plain=bool(config["ALLOW_PLAIN_KEYS"])
            ),
            origin=config["LEDGER_ORIGIN"],
            sequence_after_commit=bool(config["SEQUENCE_AFTER_COMMIT"]),
            sequence_pace=Pace(float(config["SEQUENCE_AFTER_COMMIT_EVERY_SECONDS"])),
            hasher=password_hasher(
                memory_kib=int(config["PASSWORD_MEMORY_KIB"]),
                time_cost=int(config["PASSWORD_TIME_COST"]),
            ),
            max_table_rows=int(config["MAX_TABLE_ROWS"]),
            second_approval_over_fen=int(config["SECOND_APPROVAL_OVER_FEN"]),
            max_evidence_bytes=int(config["MAX_EVIDENCE_LENGTH"]),
            idempotency_key_hours=int(config["IDEMPOTENCY_KEY_HOURS"]),
            checkpoint_file=checkpoint_file(config, keys_dir, url),
            party_matching_key=config["PARTY_MATCHING_KEY"],
            signal_thresholds=signal_thresholds(
                config.get("SIGNAL_THRESHOLDS") or {}, enabled=config.get("SIGNALS_ENABLED", True)
            ),
            evaluation_schemes=evaluation_schemes(config.get("EVALUATION_FILE")),
            witnesses=witness_policy(config.get("WITNESSES_FILE")),
        )

    def require_keys(self) -> None:
        """Refuse to serve without usable signing keys. Commands do not ask for them when they
        are built — `db upgrade` and `keys init` run before there are keys — but the server and
        the job runner do, and every command that signs meets the keyring's own refusal."""
        try:
            self.keyring.check()
        except KeyringError as exc:
            raise ConfigurationError(
                f"signing keys in VOUCHER_KEYS_DIR are not usable ({exc.message}): run "
                "`flask --app wsgi keys init`, or check VOUCHER_KEY_PASSPHRASE"
            ) from exc

    def uow(self) -> UnitOfWork:
        """A unit of work; during a request that holds one (an API request under an
        Idempotency-Key), that one, so everything the request writes commits together."""
        if has_request_context() and (held := g.get("held_uow")) is not None:
            return held  # type: ignore[no-any-return]
        hook = self.sequence_quietly if self.sequence_after_commit else None
        return unit_of_work(
            self.database,
            self.clock,
            after_ledger_commit=hook,
            published=self.published_checkpoint,
        )

    def held_uow(self, on_open: Callable[[UnitOfWork], None]) -> HeldUnitOfWork:
        """A unit of work held for a whole request; `on_open` runs first in its transaction."""
        hook = self.sequence_quietly if self.sequence_after_commit else None
        return held_unit_of_work(
            self.database,
            self.clock,
            on_open=on_open,
            after_ledger_commit=hook,
            published=self.published_checkpoint,
        )

    def sequence_quietly(self) -> None:
        """Sequence after a commit, unless this process did within its pace (`sequence_pace`,
        voucher_app/pace.py); a failure here is retried by the sequencer job."""
        if not self.sequence_pace.due():
            return
        try:
            quiet = unit_of_work(self.database, self.clock, published=self.published_checkpoint)
            ledger.sequence_log(quiet, wait=False, batches=1)
        except LogBehindPublished as refused:  # waits for the restore: not a fault per commit
            log.warning("not sequenced: %s", refused.message)
        except Exception:
            log.exception("sequencing after commit failed; the sequencer job will retry")

    def matching_key(self) -> MatchingKey:
        """The key of the legal representatives' digests; production refuses to start without
        one, and anything else that needs one and has none is refused here."""
        secret = (self.party_matching_key or "").encode()
        if len(secret) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"set VOUCHER_PARTY_MATCHING_KEY to a random value of {MIN_KEY_BYTES}+ characters"
            )
        return MatchingKey(secret)

    def checkpoint_signer(self) -> CheckpointSigner:
        _record, key = self.keyring.active(KeyPurpose.LEDGER)
        return CheckpointSigner(self.origin, key)

    @functools.cached_property
    def published_checkpoint(self) -> PublishedFile:
        """The latest signed checkpoint's file; one per app, so its reads stay cached."""
        return PublishedFile(self.checkpoint_file, self.origin, self.ledger_verifiers)

    def voucher_signer(self) -> VoucherSigner:
        record, key = self.keyring.active(KeyPurpose.VOUCHER)
        return VoucherSigner(record.kid, key)

    def voucher_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every voucher key's public half by kid: what signed a live voucher still verifies."""
        return {record.kid: key for record, key in self.keyring.public_keys(KeyPurpose.VOUCHER)}

    def ledger_verifiers(self) -> list[Verifier]:
        return [
            Verifier(self.origin, key) for _r, key in self.keyring.public_keys(KeyPurpose.LEDGER)
        ]


def checkpoint_file(config: dict[str, Any], keys_dir: Path, database_url: str) -> Path:
    """`CHECKPOINT_FILE`, else `published-checkpoint` in the keys folder.

    Under TESTING the default is one file per database: the tests' one keyring signs for many
    throwaway databases (what production must never do), and each is its own log.
    """
    if config.get("CHECKPOINT_FILE"):
        return Path(config["CHECKPOINT_FILE"]).resolve()
    if config.get("TESTING"):
        return keys_dir / f"{FILE_NAME}.{hashlib.sha256(database_url.encode()).hexdigest()[:16]}"
    return keys_dir / FILE_NAME


def init_app(app: Flask, wiring: Wiring) -> None:
    app.extensions[EXTENSION] = wiring


def current() -> Wiring:
    wiring: Wiring = current_app.extensions[EXTENSION]
    return wiring
