"""`flask serve`, as `make run` starts it: a real server process with the scheduler in-process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.harness import Databases
from voucher_app.signing.keyring import Keyring


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_starts_a_real_server_with_the_scheduler_enabled(
    databases: Databases, keyring: Keyring, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "VOUCHER_ENV": "development",
        "VOUCHER_DATABASE_URL": databases.migrated(),
        "VOUCHER_KEYS_DIR": str(keyring.directory),
    }
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                    body = reply.read()
                break
            except OSError:
                time.sleep(0.1)
        assert body == b'{"database":"ok","status":"ok"}\n'
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "Ignoring a call" not in output
