"""Process supervision (issue 13): `gunicorn.conf.py` and the systemd units, as deployed.

Real gunicorn masters are started with the deployment's command (`gunicorn -c gunicorn.conf.py
wsgi:app`) and `GUNICORN_*` / `VOUCHER_*` variables on a free port, on PostgreSQL when
VOUCHER_TEST_POSTGRES_URL is set (and on SQLite): a master killed with SIGKILL is replaced at once
by the same command and its orphaned workers leave (a busy one after answering); the master
binds beside a socket an orphan still holds, but not beside another program's; a refused
configuration stops the master with status 2 and one line; a USR2 upgrade hands over without
refusing a request; the app needs no writable and executable memory. Each server
runs in a session of its own, and its whole process group is killed on the way out.

The settings and the units are checked against what docs/operations.md says.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.e2e.test_serve import _free_port
from tests.harness import ORIGIN, POSTGRES_ENV
from voucher_app.signing.keyring import Keyring

ROOT = Path(__file__).resolve().parents[2]
#: The venv's `gunicorn` script: what the unit runs (and what a USR2 upgrade executes again).
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
COMMAND = [GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"]
OPERATIONS = ROOT / "docs" / "operations.md"
UNITS = ROOT / "deploy" / "systemd"
ENV_EXAMPLE = ROOT / "deploy" / "voucher.env.example"

#: Bounds, measured on this project's 2-core machine while other tests ran: a new master listened
#: 3-6 s after the old one was killed (building the app is most of it); orphaned workers said
#: they exit at once and were gone 1.3-4 s later (Python's own shutdown, then their reaping);
#: a refused configuration ended the master in 4-5 s. Before gunicorn.conf.py: idle orphans
#: stayed 15-17 s (timeout / 2), the new master exited after 5 s ("Connection in use"), and a
#: refused configuration booted workers in a loop (7 in 30 s) without ever exiting.
RESTART_SECONDS = 30.0
ORPHAN_SECONDS = 10.0
REFUSAL_SECONDS = 30.0


# --- processes ----------------------------------------------------------------------------------


def environment(database_url: str, keys: Path, home: Path, port: int) -> dict[str, str]:
    """A production-like environment (VOUCHER_ENV=testing for the test keys), and nothing of the
    caller's VOUCHER_*, GUNICORN_* or metrics variables."""
    own = ("VOUCHER_", "GUNICORN_", "PROMETHEUS_", "prometheus_", "NOTIFY_SOCKET", "LISTEN_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(own)}
    return {
        **env,
        "VOUCHER_ENV": "testing",
        "VOUCHER_DATABASE_URL": database_url,
        "VOUCHER_KEYS_DIR": str(keys),
        "VOUCHER_LEDGER_ORIGIN": ORIGIN,
        "VOUCHER_CHECKPOINT_FILE": str(home / "published-checkpoint"),
        "VOUCHER_METRICS_DIR": str(home / "metrics"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
    }


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start the deployment's command in a session of its own; on the way out, kill the whole
    process group (the master, its workers, orphans, a USR2 master and its workers)."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            COMMAND,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def wait_for(what: str, ready: Callable[[], bool], seconds: float, log: Path) -> float:
    """Poll until `ready()`; the seconds it took. Fails with the server's log past `seconds`."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > seconds:
            pytest.fail(f"{what}: not within {seconds} s\n{log.read_text()}")
        time.sleep(0.05)
    return time.monotonic() - start


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, pgrp, …]; None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def gone(pid: int) -> bool:
    """Exited: no process, or a zombie (it holds no socket; its new parent reaps it)."""
    fields = _stat(pid)
    return fields is None or fields[0] == "Z"


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[0] != "Z" and int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def sockets(port: int, state: str, remote_port: int | None = None) -> set[str]:
    """The TCP sockets on local `port` in `state` (0A listening, 01 established), as the link
    names of their file descriptors."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote = (int(field.rsplit(":", 1)[1], 16) for field in fields[1:3])
                if fields[3] == state and local == port and remote_port in (None, remote):
                    found.add(f"socket:[{fields[9]}]")
    return found


def holders(links: set[str]) -> set[int]:
    """The processes holding any of these sockets."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                if any(os.readlink(fd) in links for fd in (entry / "fd").iterdir()):
                    found.add(int(entry.name))
    return found


def listening(port: int) -> set[int]:
    return holders(sockets(port, "0A"))


def workers_listening(master: subprocess.Popen[bytes], port: int, log: Path) -> set[int]:
    """Wait until the master and its two workers listen on `port`; the workers."""

    def ready() -> bool:
        assert master.poll() is None, f"the master exited:\n{log.read_text()}"
        workers = children(master.pid)
        return len(workers) == 2 and workers | {master.pid} <= listening(port)

    wait_for(f"master {master.pid} and its workers listening", ready, RESTART_SECONDS, log)
    return children(master.pid)


# --- gunicorn.conf.py as loaded by gunicorn -----------------------------------------------------

#: Loads the configuration the way `gunicorn -c gunicorn.conf.py wsgi:app` does (gunicorn's own
#: WSGIApplication and Config), in a process of its own: loading it sets PROMETHEUS_MULTIPROC_DIR.
LOAD = """
import json, os, sys
from gunicorn.app.wsgiapp import WSGIApplication

sys.argv = ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
cfg = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg
names = sys.stdin.read().split()
values = {name: cfg.settings[name].get() for name in names}
values["bind"] = ",".join(values["bind"])
hooks = {
    hook: cfg.settings[hook].get().__code__.co_filename
    for hook in ("on_starting", "when_ready", "post_worker_init", "worker_int", "worker_abort",
                 "child_exit", "on_exit")
}
print(json.dumps({"settings": values, "hooks": hooks,
                  "metrics": os.environ.get("PROMETHEUS_MULTIPROC_DIR")}))
"""


def documented_settings() -> dict[str, str]:
    """docs/operations.md's table of gunicorn.conf.py: setting name -> its value column."""
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \|", OPERATIONS.read_text(), re.MULTILINE)
    return dict(rows)


def loaded(tmp_path: Path, **variables: str) -> dict[str, object]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GUNICORN_", "PROMETHEUS_", "prometheus_", "VOUCHER_METRICS"))
    }
    env.update(variables, VOUCHER_METRICS_DIR=str(tmp_path / "metrics"))
    result = subprocess.run(
        [sys.executable, "-c", LOAD],
        cwd=ROOT,
        env=env,
        input=" ".join(documented_settings()),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_gunicorn_loads_the_settings_docs_operations_describes(tmp_path: Path) -> None:
    documented = documented_settings()
    assert {"workers", "bind", "preload_app", "reuse_port", "max_requests", "timeout"} <= set(
        documented
    )
    chosen = loaded(tmp_path, GUNICORN_WORKERS="3", GUNICORN_BIND="127.0.0.1:8123")
    defaults = loaded(tmp_path)
    settings, fallback = chosen["settings"], defaults["settings"]
    assert isinstance(settings, dict) and isinstance(fallback, dict)
    for name, value in documented.items():
        variable = re.fullmatch(r"`\$(GUNICORN_\w+)`, else `(.+)`", value)
        if variable is None:
            literal = re.fullmatch(r"`([^`]+)`(?: .*)?", value)
            assert literal is not None, (name, value)
            assert str(settings[name]) == literal.group(1), name
            continue
        # From the environment, else the documented default.
        assert str(settings[name]) == {"workers": "3", "bind": "127.0.0.1:8123"}[name]
        default = variable.group(2)
        if default == "2 \N{MULTIPLICATION SIGN} cores":
            default = str(2 * len(os.sched_getaffinity(0)))
        assert str(fallback[name]) == default, name
    hooks = chosen["hooks"]
    assert isinstance(hooks, dict)
    assert {Path(file).name for file in hooks.values()} == {"gunicorn.conf.py"}, hooks
    # Chosen while the file loads, before preload_app imports the app (and prometheus_client).
    assert chosen["metrics"] == str(tmp_path / "metrics")
    assert (tmp_path / "metrics").is_dir()


def test_check_config_builds_the_app_with_the_settings(keyring: Keyring, tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'db.sqlite3'}", keyring.directory, tmp_path, 8000)
    checked = subprocess.run(
        [GUNICORN, "--check-config", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


# --- the drills ---------------------------------------------------------------------------------


def test_a_killed_master_is_replaced_at_once_and_its_orphaned_workers_leave(
    database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(database_url, keyring.directory, tmp_path, port)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with serving(env, first_log) as first, socket.socket() as slow:
        workers = workers_listening(first, port, first_log)
        assert answers(base)
        # A request in hand when the master dies: its headers are not finished yet.
        slow.settimeout(30)
        slow.connect(("127.0.0.1", port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        client_port = slow.getsockname()[1]

        def reading() -> set[int]:  # a socket gets its inode when accepted: look each time
            return holders(sockets(port, "01", client_port)) & workers

        wait_for("a worker reads it", lambda: bool(reading()), 10, first_log)
        (busy,) = reading()
        (idle,) = workers - {busy}

        os.kill(first.pid, signal.SIGKILL)
        killed = time.monotonic()
        first.wait(timeout=10)
        with serving(env, second_log) as second:
            # No other request until the new master listens: one could land on the idle orphan,
            # which would then notice by itself that its master is gone.
            idle_left = restarted = None
            while idle_left is None or restarted is None:
                elapsed = time.monotonic() - killed
                if idle_left is None and gone(idle):
                    idle_left = elapsed
                if restarted is None:
                    assert second.poll() is None, (
                        f"the new master exited:\n{second_log.read_text()}"
                    )
                    own = children(second.pid)
                    if len(own) == 2 and own | {second.pid} <= listening(port):
                        restarted = elapsed
                if elapsed > max(RESTART_SECONDS, ORPHAN_SECONDS):
                    pytest.fail(
                        f"idle orphan gone after {idle_left} s, new master listening after "
                        f"{restarted} s\n{first_log.read_text()}\n{second_log.read_text()}"
                    )
                time.sleep(0.05)
            assert answers(base)
            answered = time.monotonic() - killed
            # The busy orphan answers the request in hand, then leaves; its socket no longer
            # listens (it would be handed new connections beside the new master's).
            assert not gone(busy)
            assert busy not in listening(port)
            slow.sendall(b"\r\n")
            reply = b""
            while chunk := slow.recv(65536):
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 200 "), reply
            busy_left = wait_for(
                "the busy orphan leaves", lambda: gone(busy), ORPHAN_SECONDS, first_log
            )
            print(
                f"idle orphan gone after {idle_left:.2f} s, the busy one {busy_left:.2f} s after "
                f"its answer; new master listening after {restarted:.2f} s, answered after "
                f"{answered:.2f} s"
            )
            assert idle_left <= ORPHAN_SECONDS
            assert restarted <= RESTART_SECONDS
            # Only the new master's workers are left to answer.
            assert listening(port) == {second.pid, *children(second.pid)}
            assert answers(base)
    first_text, second_text = first_log.read_text(), second_log.read_text()
    for pid in workers:
        assert f"worker {pid} exits" in first_text, first_text
    assert "Connection in use" not in second_text, second_text
    assert "Traceback" not in first_text + second_text
    assert "Control socket" not in first_text + second_text


def test_the_master_binds_beside_a_socket_orphans_still_hold_but_not_beside_another_program(
    keyring: Keyring, tmp_path: Path
) -> None:
    """An orphan that has not left yet holds a socket with SO_REUSEPORT, like the master's: the
    new master binds beside it. A program whose socket lacks it keeps the port: gunicorn says
    "Connection in use", retries and exits 1 (gunicorn's own reuse_port would boot workers
    that fail to bind, in a loop). No request is sent: the database is never opened."""
    url = os.environ.get(POSTGRES_ENV) or f"sqlite:///{tmp_path / 'db.sqlite3'}"
    port = _free_port()
    log = tmp_path / "beside.log"
    with socket.socket() as stale:
        stale.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        stale.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        stale.bind(("127.0.0.1", port))
        stale.listen()
        with serving(environment(url, keyring.directory, tmp_path, port), log) as master:
            workers_listening(master, port, log)
    assert "Connection in use" not in log.read_text()

    port = _free_port()
    log = tmp_path / "taken.log"
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", port))
        other.listen()
        with serving(environment(url, keyring.directory, tmp_path, port), log) as master:
            assert master.wait(timeout=RESTART_SECONDS + 10) == 1, log.read_text()
    text = log.read_text()
    assert "Connection in use" in text
    assert "Booting worker" not in text


def test_a_refused_configuration_stops_the_master_with_status_2_and_one_line(
    keyring: Keyring, tmp_path: Path
) -> None:
    """Production without VOUCHER_SECRET_KEY. The app refuses before it opens the database, so
    the URL only has to look like production's (PostgreSQL when there is one)."""
    url = os.environ.get(POSTGRES_ENV) or f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {
        **environment(url, keyring.directory, tmp_path, _free_port()),
        "VOUCHER_ENV": "production",
        "VOUCHER_KEY_PASSPHRASE": "not-used-before-the-refusal",
    }
    start = time.monotonic()
    process = subprocess.Popen(
        COMMAND,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=REFUSAL_SECONDS)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    elapsed = time.monotonic() - start
    print(f"refused and exited 2 after {elapsed:.2f} s")
    assert process.returncode == 2, out + err
    assert err.splitlines() == [
        "configuration error: set VOUCHER_SECRET_KEY to a random value of 32+ characters"
    ], err
    assert "Traceback" not in out + err
    assert "Booting worker" not in out + err

    checked = subprocess.run(
        [GUNICORN, "--check-config", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 2
    assert checked.stderr.startswith("configuration error: set VOUCHER_SECRET_KEY")


def test_a_usr2_upgrade_hands_over_to_a_new_master_without_refusing_a_request(
    database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    """What `systemctl kill -s USR2 --kill-whom=main voucher-web` does: the new master builds
    the app, tells systemd (a stand-in notify socket here) it is the main process, and stops the
    old one; requests sent all along are all answered. The signal goes to the workers too, as
    without --kill-whom: they ignore it (their master is alive)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    name = f"voucher-notify-{uuid.uuid4().hex}"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(f"\0{name}")
    notify.settimeout(0.1)
    env = {
        **environment(database_url, keyring.directory, tmp_path, port),
        "NOTIFY_SOCKET": f"@{name}",
    }
    log = tmp_path / "gunicorn.log"
    outcomes: Counter[str] = Counter()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=30) as reply:
                    reply.read()
                    outcomes[str(reply.status)] += 1
            except OSError as error:  # HTTPError included
                outcomes[repr(error)] += 1

    clients = [threading.Thread(target=client) for _ in range(3)]
    with notify, serving(env, log) as old:
        old_workers = workers_listening(old, port, log)
        assert answers(base)
        for thread in clients:
            thread.start()
        try:
            messages: list[str] = []

            def handed_over() -> bool:
                with suppress(TimeoutError):
                    messages.append(notify.recv(4096).decode())
                return old.poll() is not None and any(m.startswith("MAINPID=") for m in messages)

            os.killpg(old.pid, signal.SIGUSR2)
            took = wait_for("the upgrade", handed_over, RESTART_SECONDS + 30, log)
            print(f"USR2 upgrade handed over in {took:.2f} s")
            time.sleep(1)  # requests keep going to the new master alone
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=60)
        assert old.returncode == 0, log.read_text()
        new = int(next(m for m in messages if m.startswith("MAINPID="))[len("MAINPID=") :])
        assert not gone(new)
        # On a busy machine the new master may still be forking its second worker.
        wait_for("the new master's two workers", lambda: len(children(new)) == 2, 10, log)
        workers = children(new)
        assert not workers & old_workers
        assert all(gone(pid) for pid in old_workers)
        # A worker may be between its fork and its first accept (or be recycled meanwhile).
        wait_for(
            "the new workers listen", lambda: listening(port) == {new, *children(new)}, 10, log
        )
        assert answers(base)
        wait_for("the new master is promoted", lambda: "promoted" in log.read_text(), 10, log)
    assert set(outcomes) == {"200"}, outcomes
    assert outcomes["200"] > 0
    text = log.read_text()
    assert text.count("Starting gunicorn") == 2  # the new master built the app itself
    assert "Traceback" not in text


def test_workers_count_into_the_metrics_directory_chosen_before_the_app_is_preloaded(
    database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    """prometheus_client is imported by the preloaded app in the master; the workers' counts
    still go to files of their own in the shared directory (multiprocess mode)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(database_url, keyring.directory, tmp_path, port)
    stale = tmp_path / "metrics" / "counter_1.db"
    stale.parent.mkdir()
    stale.write_bytes(b"a previous server's")
    log = tmp_path / "gunicorn.log"
    with serving(env, log) as master:
        workers = workers_listening(master, port, log)
        assert not stale.exists()

        def counted() -> bool:
            answers(base)
            files = {path.name for path in (tmp_path / "metrics").glob("counter_*.db")}
            return any(f"counter_{pid}.db" in files for pid in workers)

        wait_for("a worker's counter file", counted, 30, log)


# --- systemd ------------------------------------------------------------------------------------


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections: key -> every value given (systemd allows repeats)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(service: dict[str, list[str]], key: str) -> str:
    values = service.get(key, [])
    assert len(values) == 1, (key, values)
    return values[0]


def documented_processes() -> dict[str, str]:
    """docs/operations.md's table of processes: unit -> command."""
    rows = re.findall(
        r"^\| \w+ \| `([^`]+)` \| `([\w-]+\.service)` \|", OPERATIONS.read_text(), re.M
    )
    return {name: command for command, name in rows}


HARDENING = {
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
}


@pytest.mark.parametrize("name", ["voucher-web.service", "voucher-jobs.service"])
def test_the_units_run_what_the_docs_say_restarted_and_confined(name: str) -> None:
    service = unit(name)["Service"]
    assert one(service, "Restart") == "always"
    assert one(service, "RestartPreventExitStatus") == "2"  # wsgi.py's refused configuration
    assert one(service, "EnvironmentFile") == "/etc/voucher/voucher.env"
    assert one(service, "User") == "voucher"
    assert one(service, "WorkingDirectory") == "/opt/voucher"
    assert one(service, "ExecStart") == "/opt/voucher/.venv/bin/" + documented_processes()[name]
    for key, value in HARDENING.items():
        assert one(service, key) == value, key
    assert one(service, "StateDirectory") == "voucher"  # /var/lib/voucher, writable


def test_the_web_unit_reloads_gracefully_and_lets_an_upgrade_take_over() -> None:
    service = unit("voucher-web.service")["Service"]
    assert one(service, "Type") == "notify"  # gunicorn says READY=1 once the app is built
    assert one(service, "NotifyAccess") == "all"  # the USR2 master sends MAINPID=
    assert one(service, "ExecReload") == "/bin/kill -s HUP $MAINPID"
    assert one(service, "KillMode") == "mixed"
    assert int(one(service, "TimeoutStopSec")) > 30  # graceful_timeout, then a margin
    metrics = one(service, "Environment")
    assert metrics == f"VOUCHER_METRICS_DIR=/run/{one(service, 'RuntimeDirectory')}"
    text = OPERATIONS.read_text()
    assert "systemctl reload voucher-web" in text
    assert "systemctl kill -s USR2 --kill-whom=main voucher-web" in text
    assert "ExecReload" in (UNITS / "voucher-web.service").read_text()


def test_the_readme_installs_and_starts_the_documented_units() -> None:
    deployment = (ROOT / "README.md").read_text().split("## Deployment", 1)[1]
    units = sorted(documented_processes())
    assert units == ["voucher-jobs.service", "voucher-web.service"]
    assert "install -m 0644 deploy/systemd/voucher-*.service /etc/systemd/system/" in deployment
    assert "systemctl enable --now voucher-web voucher-jobs" in deployment


def test_the_environment_example_sets_what_production_requires() -> None:
    import config  # noqa: PLC0415 - the project's settings, for the names

    settings = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    required = {
        "VOUCHER_ENV",
        "VOUCHER_DATABASE_URL",
        "VOUCHER_SECRET_KEY",
        "VOUCHER_PARTY_MATCHING_KEY",
        "VOUCHER_KEY_PASSPHRASE",
        "VOUCHER_KEYS_DIR",
        "VOUCHER_RATELIMIT_STORAGE_URI",
    }
    assert required <= settings
    known = {f"VOUCHER_{name}" for name in dir(config.Config) if name.isupper()}
    assert settings - {"GUNICORN_BIND"} <= known | {"VOUCHER_ENV"}, settings - known
    # The services see the system read-only but for their StateDirectory.
    assert "VOUCHER_CHECKPOINT_FILE=/var/lib/voucher/" in ENV_EXAMPLE.read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    """Verified as installed, but with the checkout here instead of /opt/voucher (systemd
    checks that the commands exist): no warning at all, since unknown keys or bad values are
    only warnings."""
    names = ["voucher-web.service", "voucher-jobs.service"]
    for name in names:
        text = (UNITS / name).read_text().replace("/opt/voucher", str(ROOT))
        (tmp_path / name).write_text(text)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / name) for name in names)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ours = [
        line
        for line in (verified.stdout + verified.stderr).splitlines()
        if "voucher-" in line or str(tmp_path) in line
    ]
    assert verified.returncode == 0 and not ours, verified.stdout + verified.stderr


# --- MemoryDenyWriteExecute ---------------------------------------------------------------------

#: In a process under the kernel's W^X rule (PR_SET_MDWE, like systemd's MemoryDenyWriteExecute):
#: build the app and use what maps code: argon2 (cffi), Ed25519 (cryptography), lxml, openpyxl,
#: the database driver.
UNDER_MDWE = """
import ctypes, io, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit(f"unsupported: {os.strerror(ctypes.get_errno())}")
import mmap
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("W^X not enforced")
except PermissionError:
    pass
import wsgi, openpyxl
from lxml import etree
from voucher_app.signing.keyring import KeyPurpose
parts = wsgi.app.extensions["voucher_app"]
assert parts.hasher.verify(parts.hasher.hash("pw"), "pw")
parts.keyring.active(KeyPurpose.LEDGER)[1].sign(b"note")
etree.fromstring(b"<a><b/></a>")
openpyxl.Workbook().save(io.BytesIO())
assert parts.database.answers()
print("ok")
"""


def test_the_app_works_without_writable_executable_memory(
    database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    env = environment(database_url, keyring.directory, tmp_path, 8000)
    ran = subprocess.run(
        [sys.executable, "-c", UNDER_MDWE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if ran.returncode == 1 and ran.stderr.startswith("unsupported"):
        pytest.skip(f"PR_SET_MDWE (Linux 6.3+): {ran.stderr.strip()}")
    assert (ran.returncode, ran.stdout) == (0, "ok\n"), ran.stderr
