"""The README's deployment steps, run as written, in production configuration, on an empty
PostgreSQL database and an empty keys folder: every line exits 0 and the service then answers
`/readyz` as ready.

The lines run literally in one shell, in order, with three stand-ins for what only a real host
has: the checkout is this one (for `git clone … && cd`); the services' user is this test's
(`useradd` is skipped, `chgrp` gives the keys to this test's group); the environment file is
`deploy/voucher.env.example` filled in with this test's database, secrets, folders and port
(for the `install` lines that put it and the units in /etc, and the path the `set -a` line
reads); and `systemctl enable --now` starts the `ExecStart` command of each unit in
`deploy/systemd`, with the unit's working directory and environment. The address in the last
line is this test's.
"""

from __future__ import annotations

import grp
import os
import re
import secrets
import shlex
import signal
import subprocess
import textwrap
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from tests.e2e.test_serve import _free_port
from tests.harness import Databases

pytestmark = pytest.mark.postgres_only  # production runs on PostgreSQL

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = "/etc/voucher/voucher.env"
CHECKOUT = "/opt/voucher"
README_ADDRESS = "127.0.0.1:8000"


def deployment_lines() -> list[str]:
    """The command lines of the README's deployment block, comments dropped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deployment", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the README's deployment section has no ```sh block"
    lines = [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def filled_in(values: dict[str, str]) -> str:
    """deploy/voucher.env.example with this test's values; every name it sets must be one the
    test knows how to fill (so the example cannot gain a setting nobody checked)."""
    lines = []
    for line in (ROOT / "deploy" / "voucher.env.example").read_text().splitlines():
        name, equals, _ = line.partition("=")
        if equals and not line.startswith("#"):
            assert name in values, f"the example sets {name}: fill it in here"
            lines.append(f"{name}={values[name]}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def unit_command(unit: str, runtime: Path) -> str:
    """A systemd unit's ExecStart, as a shell line run in the checkout (its working directory),
    with its Environment= lines (its EnvironmentFile is already exported), in the background;
    its output in `runtime`, its process id in `runtime/pids`."""
    text = (ROOT / "deploy" / "systemd" / unit).read_text()
    settings = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and line[:1].isalpha()
    )
    assert settings["WorkingDirectory"] == CHECKOUT and settings["EnvironmentFile"] == ENV_FILE
    environment = [
        value.replace("/run/voucher-web", str(runtime))
        for line in text.splitlines()
        if line.startswith("Environment=")
        for value in [line.split("=", 1)[1]]
    ]
    command = settings["ExecStart"].replace(CHECKOUT, str(ROOT))
    exports = " ".join(shlex.quote(value) for value in environment)
    log = shlex.quote(str(runtime / f"{unit}.log"))
    return f"env {exports} {command} > {log} 2>&1 < /dev/null & echo $! >> {runtime}/pids"


def test_the_readmes_deployment_lines_run_as_written_and_the_service_is_ready(
    databases: Databases, tmp_path: Path
) -> None:
    database = databases.empty()
    port = _free_port()
    address = f"127.0.0.1:{port}"
    (tmp_path / "run").mkdir()
    env_file = tmp_path / "voucher.env"
    env_file.write_text(
        filled_in(
            {
                "VOUCHER_ENV": "production",
                "VOUCHER_DATABASE_URL": database,
                "VOUCHER_SECRET_KEY": secrets.token_urlsafe(48),
                "VOUCHER_PARTY_MATCHING_KEY": secrets.token_urlsafe(48),
                "VOUCHER_KEY_PASSPHRASE": secrets.token_urlsafe(24),
                "VOUCHER_KEYS_DIR": str(tmp_path / "keys"),
                "VOUCHER_CHECKPOINT_FILE": str(tmp_path / "state" / "published-checkpoint"),
                "VOUCHER_RATELIMIT_STORAGE_URI": os.environ.get(
                    "VOUCHER_TEST_REDIS_URL", "memory://"
                ),
                "GUNICORN_BIND": address,
            }
        )
    )
    script = ["set -euo pipefail", "set -x"]
    for line in deployment_lines():
        if line.startswith("git clone"):
            assert line.endswith(f"{CHECKOUT} && cd {CHECKOUT}"), line
            script.append(f"cd {shlex.quote(str(ROOT))}")
        elif line.startswith("useradd "):
            continue  # the services run as this test's user
        elif line.startswith("install ") and "/etc/" in line:
            continue  # the test's environment file stands in for /etc/voucher/voucher.env, and
            # `systemctl enable` below for the units installed in /etc/systemd
        elif line.startswith("chgrp -R voucher "):
            script.append(
                line.replace(
                    "chgrp -R voucher ", f"chgrp -R {grp.getgrgid(os.getgid()).gr_name} ", 1
                )
            )
        elif line.startswith("systemctl enable --now"):
            units = [f"{name}.service" for name in line.split()[3:]]
            assert units == ["voucher-web.service", "voucher-jobs.service"], line
            script += [unit_command(unit, tmp_path / "run") for unit in units]
        elif line.startswith("curl"):
            script.append(f"wait_until_ready http://{address}/readyz")
            script.append(line.replace(README_ADDRESS, address))
        else:
            script.append(line.replace(ENV_FILE, str(env_file)))
    prelude = textwrap.dedent(
        """\
        wait_until_ready() {  # the units start in the background: what systemd waits for
            for _ in $(seq 150); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
        }
        """
    )
    shell_script = tmp_path / "deploy.sh"
    shell_script.write_text(prelude + "\n".join(script) + "\n")
    password = secrets.token_urlsafe(16)
    ran = subprocess.run(
        ["bash", str(shell_script)],
        cwd=tmp_path,
        input=f"{password}\n{password}\n",
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,  # no terminal: the password prompt reads standard input
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")},
    )
    try:
        logs = "".join(p.read_text() for p in (tmp_path / "run").glob("*.log"))
        assert ran.returncode == 0, ran.stdout + ran.stderr + logs
        assert '"status":"ready"' in ran.stdout.replace(" ", ""), ran.stdout
        checked = re.findall(r"^ok +(\w+)", ran.stdout, re.M)
        assert checked == ["configuration", "database", "keys", "clock", "ledger", "jobs"]
        with urllib.request.urlopen(f"http://{address}/readyz", timeout=10) as reply:
            assert reply.status == 200
    finally:
        pids = tmp_path / "run" / "pids"
        for pid in pids.read_text().split() if pids.exists() else []:
            with suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
