"""Configuration classes; environment variables prefixed `VOUCHER_` override any setting.

`VOUCHER_ENV` picks the class: development, testing or production — production when unset, so
a server started without it refuses default secrets instead of running with them (`make run`
sets development). Any other `VOUCHER_<NAME>` sets `<NAME>`, with JSON values parsed
(`VOUCHER_DATABASE_POOL_SIZE=20`).
Secrets (the secret key, the key passphrase, database passwords) come only from the
environment; production refuses to start without them.
"""

from __future__ import annotations


class Config:
    #: Production refuses to start with default secrets, plain keys or no database URL.
    PRODUCTION = False
    #: SQLAlchemy URL; None means SQLite in the instance folder.
    DATABASE_URL: str | None = None
    DATABASE_POOL_SIZE = 10
    SECRET_KEY: str | None = None
    #: Keys the digests of legal representatives (name and ID number), so related parties
    #: match and nobody reads the person back (`domain.parties`). Set it once per deployment
    #: and never change it: digests made under another key match nothing.
    PARTY_MATCHING_KEY: str | None = None
    #: Folder of the Ed25519 keys (see keys/README.md); None means ./keys.
    KEYS_DIR: str | None = None
    KEY_PASSPHRASE: str | None = None
    #: Unencrypted private keys are acceptable only for development and tests.
    ALLOW_PLAIN_KEYS = False
    #: The checkpoint origin line and signed-note key name of this ledger.
    LEDGER_ORIGIN = "gd-sme-vouchers.example/ledger"
    #: Sequence the Merkle log right after each commit that posted entries (the job also does),
    #: each process at most once in this many seconds (0: after every commit): see pace.py.
    SEQUENCE_AFTER_COMMIT = True
    SEQUENCE_AFTER_COMMIT_EVERY_SECONDS = 0.25
    SEQUENCER_INTERVAL_SECONDS = 5
    CHECKPOINT_INTERVAL_SECONDS = 60
    #: Sign a checkpoint early once this many entries are unsigned.
    CHECKPOINT_BURST_ENTRIES = 1000
    EXPIRY_INTERVAL_SECONDS = 300
    REMINDER_INTERVAL_SECONDS = 3600
    #: Remind an SME this many days before its voucher expires.
    EXPIRY_REMINDER_DAYS = 7
    CONFIRMATION_REMINDER_DAYS = 1
    NOTIFICATION_INTERVAL_SECONDS = 60
    #: Request bodies above this size are refused (bytes).
    MAX_CONTENT_LENGTH = 1024 * 1024
    #: Routes that take a file (SME lists, bank statements) accept up to this much.
    MAX_UPLOAD_LENGTH = 16 * 1024 * 1024
    #: Each evidence file a provider attaches to a redemption (an invoice, a contract) may hold
    #: this much; two of them and the form fit in MAX_UPLOAD_LENGTH, so a file over it is
    #: refused by name (`evidence_too_large`) rather than by the body limit.
    MAX_EVIDENCE_LENGTH = 5 * 1024 * 1024
    #: Rows a CSV or XLSX upload may hold (bank statements, lists of SMEs): a file is refused
    #: at the first row past it, without reading the rest.
    MAX_TABLE_ROWS = 50_000
    #: A settlement batch paying more than this (fen) is exported only after a second finance
    #: officer approved it. ¥500,000 by default.
    SECOND_APPROVAL_OVER_FEN = 50_000_000
    #: Argon2id cost for passwords: memory in KiB and passes (RFC 9106's second option).
    PASSWORD_MEMORY_KIB = 65_536
    PASSWORD_TIME_COST = 3
    #: Where rate-limit counters live: memory (per process) unless a Redis URL is given
    #: (`redis://127.0.0.1:6379`): with more than one process, give one, or each counts alone.
    RATELIMIT_STORAGE_URI = "memory://"
    #: How long an Idempotency-Key's answer is kept (a retry after that runs again).
    IDEMPOTENCY_KEY_HOURS = 24
    #: A background task says it is alive every sixth of this; one silent this long (seconds)
    #: lost its process, and the job that looks every TASK_REAP_INTERVAL_SECONDS fails it.
    TASK_STALE_SECONDS = 30
    TASK_REAP_INTERVAL_SECONDS = 10
    #: How often Idempotency-Keys older than their hours are forgotten.
    IDEMPOTENCY_PURGE_INTERVAL_SECONDS = 3600
    #: Score claims for fraud signals (`domain.signals`): they sort the review queue, and
    #: approving past one needs a reason.
    SIGNALS_ENABLED = True
    #: Fraud signals' thresholds by name, over the defaults in `domain.signals.Thresholds`
    #: (`VOUCHER_SIGNAL_THRESHOLDS='{"provider_daily_claims": 15}'`); a wrong name stops start-up.
    SIGNAL_THRESHOLDS: dict[str, int] = {}  # noqa: RUF012 - read, never changed
    #: The province's yearly center evaluation schemes (TOML, `domain.evaluation`); None: the
    #: packaged `voucher_app/data/center-evaluation.toml`. A file that does not hold together
    #: stops start-up.
    EVALUATION_FILE: str | None = None
    #: The witnesses asked to cosign each checkpoint, and their quorum (TOML,
    #: `ledger.witnesses`); None: no witnesses. A file that does not hold together stops start-up.
    WITNESSES_FILE: str | None = None
    #: The latest signed checkpoint, also kept outside the database (None: beside the keys).
    CHECKPOINT_FILE: str | None = None
    #: /readyz answers 503 past these: entries committed but not in the log, and the age of the
    #: newest checkpoint (seconds) while entries wait for one.
    READY_MAX_SEQUENCER_LAG = 10_000
    READY_MAX_CHECKPOINT_AGE_SECONDS = 600
    #: Prometheus metrics at /metrics (workers share them through PROMETHEUS_MULTIPROC_DIR).
    METRICS_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    JSON_LOGS = False

    API_TITLE = "Guangdong SME service-voucher ledger"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"


class DevelopmentConfig(Config):
    SECRET_KEY = "development-only-not-secret"  # noqa: S105 - refused in production
    PARTY_MATCHING_KEY = "development-only-party-matching-key"
    ALLOW_PLAIN_KEYS = True


class TestingConfig(Config):
    TESTING = True
    #: Tests read the log right after the commits they make; the pace has tests of its own.
    SEQUENCE_AFTER_COMMIT_EVERY_SECONDS = 0
    SECRET_KEY = "testing-only-not-secret"  # noqa: S105 - refused in production
    PARTY_MATCHING_KEY = "testing-only-party-matching-key-00"
    ALLOW_PLAIN_KEYS = True
    DATABASE_POOL_SIZE = 40
    PASSWORD_MEMORY_KIB = 8  # tests sign many users in
    PASSWORD_TIME_COST = 1
    #: Most tests approve claims of SMEs registered a moment before: the tests of the signals
    #: turn them on (tests/e2e/test_signal_pages.py, tests/integration/test_signals.py).
    SIGNALS_ENABLED = False


class ProductionConfig(Config):
    PRODUCTION = True
    JSON_LOGS = True
    SESSION_COOKIE_SECURE = True


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

DEFAULT_SECRET_KEYS = frozenset(
    {
        DevelopmentConfig.SECRET_KEY,
        TestingConfig.SECRET_KEY,
        DevelopmentConfig.PARTY_MATCHING_KEY,
        TestingConfig.PARTY_MATCHING_KEY,
    }
)
