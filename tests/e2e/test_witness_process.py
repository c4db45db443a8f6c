"""`voucher-witness` as its operator runs it, in processes of its own: `keygen`, `migrate`, then
gunicorn serving `voucher_app.witness.app:create_witness_app()`, configured for another
project's log (a Sigsum log from FiloSottile/torchwood's witness tests) and sent that project's
request: it cosigns it, and the cosignature verifies under the vkey `keygen` printed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.e2e.test_serve import _free_port
from tests.harness import Databases
from tests.unit.test_witness_protocol import (
    TORCHWOOD_LOG_KEY,
    TORCHWOOD_ORIGIN,
    TORCHWOOD_REQUEST,
)
from voucher_app.ledger.witnesses import http_post
from voucher_app.signing.cosignature import cosigned_by
from voucher_app.signing.note import COSIGNATURE, Verifier, parse_vkey

NAME = "witness.gd.example/test"


def witness_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voucher_app.witness.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_witness_run_by_its_operator_cosigns_another_projects_log(
    databases: Databases, tmp_path: Path
) -> None:
    log_vkey = Verifier(TORCHWOOD_ORIGIN, Ed25519PublicKey.from_public_bytes(TORCHWOOD_LOG_KEY))
    settings = tmp_path / "witness.toml"
    settings.write_text(
        f'name = "{NAME}"\nkey = "witness.pem"\ndatabase_url = "{databases.empty()}"\n\n'
        f'[[log]]\norigin = "{TORCHWOOD_ORIGIN}"\nvkey = "{log_vkey.vkey}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "VOUCHER_WITNESS_CONFIG": str(settings)}
    made = witness_command("keygen", NAME, str(tmp_path / "witness.pem"), env=env)
    assert made.returncode == 0, made.stderr
    vkey = parse_vkey(made.stdout.strip(), COSIGNATURE)
    assert witness_command("vkey", env=env).stdout.strip() == vkey.vkey
    again = witness_command("keygen", NAME, str(tmp_path / "witness.pem"), env=env)
    assert again.returncode == 2 and "is never replaced in place" in again.stderr
    migrated = witness_command("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr

    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "voucher_app.witness.app:create_witness_app()"],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
        answer = http_post(f"{base}/add-checkpoint", TORCHWOOD_REQUEST)
        assert answer.status == 200, answer.body
        note = TORCHWOOD_REQUEST.decode().partition("\n\n")[2] + answer.body
        [cosignature] = cosigned_by(note, [vkey])
        assert cosignature.witness == NAME
        assert abs(cosignature.timestamp - time.time()) < 120
        # Sent again from old size 0, the witness now holds 1: 409 with the size.
        stale = http_post(f"{base}/add-checkpoint", TORCHWOOD_REQUEST)
        assert (stale.status, stale.content_type, stale.body) == (409, "text/x.tlog.size", "1\n")
        raw = urllib.request.Request(f"{base}/add-checkpoint", TORCHWOOD_REQUEST, method="POST")
        try:
            urllib.request.urlopen(raw, timeout=10)
        except urllib.error.HTTPError as conflict:  # the header exactly, no charset appended
            assert conflict.headers["Content-Type"] == "text/x.tlog.size"
        else:
            raise AssertionError("the stale request was answered 200")
    finally:
        process.terminate()
        process.wait(timeout=30)
