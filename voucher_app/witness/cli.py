"""`voucher-witness`: make a witness key, set up its database, and serve it.

    voucher-witness keygen NAME KEYFILE    a new Ed25519 key (PEM); prints its vkey (type 0x04)
    voucher-witness vkey                   the vkey of the configured witness
    voucher-witness migrate                create or upgrade the witness's own database
    voucher-witness serve [--port 8021]    a development server; in production run gunicorn
                                           'voucher_app.witness.app:create_witness_app()'

Every command but `keygen` reads the settings file named by `VOUCHER_WITNESS_CONFIG`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from werkzeug.serving import run_simple

from voucher_app.signing.note import COSIGNATURE, NoteError, Verifier
from voucher_app.witness import state
from voucher_app.witness.app import (
    CONFIG_ENV,
    PASSPHRASE_ENV,
    WitnessConfigError,
    create_witness_app,
    read_settings,
)


def _settings_path() -> Path:
    where = os.environ.get(CONFIG_ENV)
    if not where:
        raise WitnessConfigError(f"set {CONFIG_ENV} to the witness's settings file")
    return Path(where)


def keygen(name: str, key_file: Path) -> str:
    """Write a new key to `key_file` (encrypted when the passphrase variable is set) and
    return its vkey; an existing file is never overwritten."""
    if key_file.exists():
        raise WitnessConfigError(f"{key_file} exists: a witness key is never replaced in place")
    key = Ed25519PrivateKey.generate()
    passphrase = os.environ.get(PASSPHRASE_ENV)
    protection = BestAvailableEncryption(passphrase.encode()) if passphrase else NoEncryption()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, protection))
    return Verifier(name, key.public_key(), COSIGNATURE).vkey


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voucher-witness", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("keygen", help="make a witness key and print its vkey")
    made.add_argument("name", help="the witness's name, e.g. audit.gd.example/witness")
    made.add_argument("key_file", type=Path)
    commands.add_parser("vkey", help="print the configured witness's vkey")
    commands.add_parser("migrate", help="create or upgrade the witness's database")
    serve = commands.add_parser("serve", help="serve the witness (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8021)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "keygen":
            print(keygen(args.name, args.key_file))
            return 0
        settings = read_settings(_settings_path())
        if args.command == "vkey":
            print(settings.verifier.vkey)
        elif args.command == "migrate":
            state.migrate(settings.database_url)
            print(f"the witness's database is ready: {settings.database_url}")
        else:
            run_simple(args.host, args.port, create_witness_app(settings), threaded=True)
    except (WitnessConfigError, NoteError, OSError) as exc:
        print(f"voucher-witness: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
