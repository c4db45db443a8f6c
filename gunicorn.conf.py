"""gunicorn's settings for the web service: `gunicorn -c gunicorn.conf.py wsgi:app`.

`GUNICORN_WORKERS` (default: two per usable core) and `GUNICORN_BIND` (default 127.0.0.1:8000)
come from the environment; docs/operations.md explains the choices and the signals.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from gunicorn import sock, systemd, util  # type: ignore[import-untyped]

workers = int(os.environ.get("GUNICORN_WORKERS") or 2 * len(os.sched_getaffinity(0)))
worker_class = "sync"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
timeout = 30  # a request still running after this is aborted, then killed
graceful_timeout = 30  # on stop, reload or upgrade: time left to finish the requests in hand
keepalive = 2  # sync workers close each connection after its answer: only other classes use it
# A new worker's first requests compile their statements afresh, some while holding a budget
# shard's row; workers replaced together left one worker serving a rush for seconds
# (bench/http.py's open loop: 163 claims over 250 ms in the 3 s after three replacements).
# Rarer, and spread over half the interval, the replacements come one at a time.
max_requests = 5000
max_requests_jitter = 2500
# The app is built once, in the master: a refused configuration stops the master at once (wsgi.py
# exits 2) instead of workers failing to boot one after another, and workers start by a fork.
# The price: a HUP does not load new code (an upgrade is a USR2, see `when_ready`).
preload_app = True
# gunicorn's own reuse_port gives every worker a socket of its own (gunicorn#2938): each worker
# exit (max_requests, reload) resets the connections queued on it, and while all workers restart
# nothing listens. `on_starting` opens one shared socket with SO_REUSEPORT in the master instead.
reuse_port = False
control_socket_disable = True  # the master is driven by signals (systemd); no second way in
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s "%(a)s"'


_OWN_METRICS_DIRECTORY = f"/tmp/voucher-metrics-{os.getpid()}"  # noqa: S108 - ours, per master


def _metrics_directory() -> None:
    """prometheus_client picks multiprocess mode when it is imported, which preload_app does in
    the master before any server hook runs: so the directory is chosen when this file loads. A
    HUP loads it again and keeps the directory; a new master (a start, a USR2) empties it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    given = os.environ.get("VOUCHER_METRICS_DIR")
    path = Path(given or _OWN_METRICS_DIRECTORY)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # prometheus_client's files only, whatever else is there
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


_metrics_directory()


def on_starting(server: Any) -> None:
    """Listen on one socket per address with SO_REUSEPORT, shared by all workers, so a master
    restarted after a crash binds even while orphaned workers still hold the old socket. Left
    to gunicorn when the sockets are inherited (USR2, systemd socket activation) or when this
    bind fails (another program holds the port): gunicorn then retries and exits with 1."""
    if "GUNICORN_FD" in os.environ or os.environ.get("LISTEN_FDS"):
        return
    listeners: list[Any] = []
    for address in server.cfg.address:
        if not isinstance(address, tuple):  # a Unix socket: nothing to share
            return
        kind = sock.TCP6Socket if util.is_ipv6(address[0]) else sock.TCPSocket
        shared = socket.socket(kind.FAMILY, socket.SOCK_STREAM)
        shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            shared.bind(address)
        except OSError:
            shared.close()
            for listener in listeners:
                listener.close()
            return
        listeners.append(kind(address, server.cfg, server.log, fd=shared.detach()))
    server.LISTENERS = listeners


def when_ready(server: Any) -> None:
    """A master started by USR2 (an upgrade: new code, preloaded) has the old one's sockets and
    its app loaded: it becomes systemd's main process, then stops the old master, whose workers
    finish their requests while new connections wait in the shared backlog."""
    if server.master_pid:
        systemd.sd_notify(f"MAINPID={os.getpid()}", server.log)
        server.log.info("upgrade: stopping the old master %s", server.master_pid)
        os.kill(server.master_pid, signal.SIGTERM)


def post_worker_init(worker: Any) -> None:
    """Exit when the master dies. Left alone, an idle orphan notices only after timeout / 2 (it
    checks its parent between waits), and one stuck in a request never (the master enforces
    `timeout`). The kernel signals the worker when its master dies (PR_SET_PDEATHSIG): it stops
    listening, ends the request in hand and exits, or is ended after graceful_timeout."""
    if not sys.platform.startswith("linux"):
        return

    def master_gone(_signum: int, _frame: object) -> None:
        if os.getppid() == worker.ppid:  # sent by hand (`systemctl kill` without --kill-whom)
            return
        worker.log.warning("master %s is gone: worker %s exits", worker.ppid, worker.pid)
        worker.alive = False
        signal.alarm(max(int(worker.cfg.graceful_timeout), 1))  # SIGALRM ends a stuck request
        # Stop listening (for every orphan: they share the socket), or new connections would
        # still be handed to it, beside the new master's, and wait for a busy orphan.
        for listener in worker.sockets:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RD)

    # Python installs it without SA_RESTART: it runs, and sets the alarm, even in a blocking read.
    signal.signal(signal.SIGUSR2, master_gone)
    if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGUSR2, 0, 0, 0) != 0:  # PDEATHSIG
        worker.log.warning("PR_SET_PDEATHSIG failed: %s", os.strerror(ctypes.get_errno()))
    if os.getppid() != worker.ppid:  # the master died before the kernel was told
        os.kill(os.getpid(), signal.SIGUSR2)


def worker_int(worker: Any) -> None:
    worker.log.warning("worker %s interrupted (INT or QUIT): exiting now", worker.pid)


def worker_abort(worker: Any) -> None:
    worker.log.error(
        "worker %s aborted: a request ran past timeout (%ss)", worker.pid, worker.cfg.timeout
    )


def on_exit(server: Any) -> None:
    """Remove the directory this master made, unless a USR2 master it started lives on."""
    if (
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") == _OWN_METRICS_DIRECTORY
        and not server.reexec_pid
    ):
        shutil.rmtree(_OWN_METRICS_DIRECTORY, ignore_errors=True)


def child_exit(server: Any, worker: Any) -> None:
    """Forget the dead worker's live gauges (its counters stay: they are totals)."""
    from voucher_app.metrics import mark_worker_dead  # noqa: PLC0415 - after the env is set

    mark_worker_dead(worker.pid)
