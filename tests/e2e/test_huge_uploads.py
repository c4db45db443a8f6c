"""A 3-million-row XLSX of under 1 MB, uploaded as a bank statement and as a list of SMEs for
bulk issuance, over HTTP through a real gunicorn and from the pages: refused at the row limit
(`too_many_rows`) within 2 s of CPU time, the process's memory growing by less than 50 MB, nothing
stored.

Before rows were streamed, such a file was read whole before the limit was checked: it killed a
gunicorn worker, and through the page took 80 s and 740 MB.

The file is a valid XLSX whose every row would be taken, were it short: a Nanshan SME's code (a
voucher would be issued to it), and a ¥1 debit booked on 2026-03-03 under the columns of the
saved mapping (an unmatched statement line would be stored). A three-row file of the same shape
is accepted first — so the refusal is the size's doing — and warms the process up.

Over HTTP the worker's memory is read from /proc: its resident size before the request and its
peak resident size (VmHWM, reset first where the kernel allows) after; the growth is the
difference, an upper bound whatever the warm-up left. From the pages (the test client, the
import running on the app's background threads) memory is traced with tracemalloc on a second
upload, and the time taken from the first, untraced one. Each test prints what it measured
(`pytest -rP` shows it).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
import tracemalloc
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.parsers import expat

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from tests import factories
from tests.bank_files import TWO_COLUMNS
from tests.e2e.accounts import PASSWORD, account, bearer
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, finished, sign_in
from tests.e2e.test_gunicorn_flows import ROOT, Api, Reply, wait_until_healthy
from tests.e2e.test_serve import _free_port
from tests.e2e.uploads import Field, send_form
from tests.harness import ORIGIN
from tests.tables import SHEET_PART, huge_xlsx
from voucher_app.domain.actors import Role
from voucher_app.persistence.models import BankStatement
from voucher_app.services import demo, tasks, vouchers
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import current

ROWS = 3_000_000
#: The row limit as configured by default (`MAX_TABLE_ROWS`); nothing here changes it.
LIMIT = 50_000
#: The CPU time a refusal may take: the process's own work, whatever else loads the machine
#: (wall time is printed too, but a busy machine stretches it).
SECONDS = 2.0
#: The cheapest of up to this many counts (each must stay within the memory bound).
ATTEMPTS = 3
GROWTH = 50_000_000
SHENZHEN = "440300"
MAPPING = "两栏"
#: A column for the SME's code, then the columns `TWO_COLUMNS` maps.
HEADER = ("uscc", "交易日期", "支出金额", "收入金额", "附言", "交易流水号", "对方账号")
#: Each row: SME 7 of Nanshan (registered by each test), booked 2026-03-03, ¥1 paid out.
CELLS = (factories.uscc(7), 20260303, 1)
REFUSAL = f"more than {LIMIT} rows"


@pytest.fixture(scope="session")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Written once: it takes a moment."""
    folder = tmp_path_factory.mktemp("huge-uploads")
    return huge_xlsx(folder / "march.xlsx", ROWS, header=HEADER, cells=CELLS)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three rows of the same kind: accepted."""
    folder = tmp_path_factory.mktemp("small-uploads")
    return huge_xlsx(folder / "week.xlsx", 3, header=HEADER, cells=CELLS)


def data_rows(path: Path) -> int:
    """The rows below the header in the XLSX's one worksheet, read from the file: the part is
    checked to be well-formed XML whose every row is a plain `<row>` element."""
    parser = expat.ParserCreate()
    starts = plain = ends = 0
    tail = b""
    with zipfile.ZipFile(path) as package, package.open(SHEET_PART) as part:
        while piece := part.read(1 << 22):
            parser.Parse(piece, False)
            seen = tail + piece  # a tag may straddle two pieces: count it where it ends
            starts += seen.count(b"<row") - tail.count(b"<row")
            plain += seen.count(b"<row>") - tail.count(b"<row>")
            ends += seen.count(b"</row>") - tail.count(b"</row>")
            tail = piece[-8:]
        parser.Parse(b"", True)
    assert starts == plain == ends
    return plain - 1


def test_the_file_is_under_a_megabyte_and_holds_three_million_rows(huge: Path, small: Path) -> None:
    assert huge.stat().st_size < 1_000_000
    assert data_rows(huge) == ROWS
    assert data_rows(small) == 3


# The shared setup


@dataclasses.dataclass(frozen=True)
class World:
    """The demo, with SME 7 registered in Nanshan and Shenzhen's mapping saved."""

    app: Flask
    programme: uuid.UUID
    sme: str

    def stored(self) -> tuple[int, int]:
        """Bank statements imported, and vouchers SME 7 holds."""
        with self.app.app_context():
            with current().database.engine.connect() as connection:
                count = select(func.count()).select_from(BankStatement)
                statements: int = connection.execute(count).scalar_one()
            held = vouchers.list_vouchers(current().uow(), sme_uscc=self.sme)
        return statements, len(held)


@pytest.fixture
def world(app: Flask, runner: FlaskCliRunner) -> World:
    programme = load_demo(app, runner)
    with app.app_context():
        sme = factories.sme(current().uow(), 7).uscc
    assert sme == CELLS[0]
    finance = bearer(app, Role.CENTER_FINANCE, center=SHENZHEN)
    mapping = {"center": SHENZHEN, "name": MAPPING, **TWO_COLUMNS}
    saved = app.test_client().put("/api/v1/statements/mappings", json=mapping, headers=finance)
    assert saved.status_code == 200, saved.get_json()
    return World(app, programme, sme)


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a table goes: over the API and from the page, and who sends it."""

    role: Role
    api_url: Callable[[World], str]
    api_form: dict[str, str]
    page: str  # the page holding the form
    page_url: str
    page_form: Callable[[World], dict[str, str]]
    file_field: str  # the page form's
    #: What the small file's import answers (API) and its page says.
    accepted_status: int
    accepted: Callable[[dict[str, Any]], bool]
    accepted_page: str


TARGETS = {
    "statement": Target(
        role=Role.CENTER_FINANCE,
        api_url=lambda world: "/api/v1/statements",
        api_form={
            "center": SHENZHEN,
            "mapping": MAPPING,
            "account": demo.FUNDING_ACCOUNT.account_number,
        },
        page=f"/finance/{SHENZHEN}",
        page_url=f"/finance/{SHENZHEN}/statements",
        page_form=lambda world: {
            "mapping": MAPPING,
            "account": demo.FUNDING_ACCOUNT.account_number,
        },
        file_field="statement",
        accepted_status=201,
        accepted=lambda result: result["lines"] == 3 and not result["replayed"],
        accepted_page="对账单已读取：3 条。 未匹配: 3",
    ),
    "issuance": Target(
        role=Role.CENTER_STAFF,
        api_url=lambda world: f"/api/v1/programmes/{world.programme}/issuance",
        api_form={"center": SHENZHEN, "dry_run": "false"},
        page=f"/center/{SHENZHEN}/issuance",
        page_url=f"/center/{SHENZHEN}/issuance",
        page_form=lambda world: {"programme": str(world.programme), "dry_run": "no"},
        file_field="list",
        accepted_status=200,
        accepted=lambda result: (
            [(row["line"], row["outcome"]) for row in result["rows"]]
            == [(2, "would_issue"), (3, "duplicated"), (4, "duplicated")]
        ),
        accepted_page="将发放 1 张",
    ),
}
#: A small list goes in as a dry run (issuing would leave SME 7 a voucher, and a huge list
#: nothing to issue), the huge one for real; a statement has no dry run.
DRY = {"statement": {}, "issuance": {"dry_run": "true"}}
DRY_PAGE = {"statement": {}, "issuance": {"dry_run": "yes"}}


# Over HTTP, through gunicorn


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One refused upload: its wall time, the CPU time it took (the worker's over HTTP, the
    test process's from the page) and, over HTTP, the worker's memory growth."""

    seconds: float
    cpu: float
    growth: int | None = None
    reset: bool | None = None  # whether the worker's peak was reset before it

    def __str__(self) -> str:
        memory = "" if self.growth is None else f", grew {self.growth} bytes"
        peak = "" if self.reset is None else f" (peak reset: {self.reset})"
        return f"{self.seconds:.3f} s ({self.cpu:.2f} s CPU){memory}{peak}"


@dataclasses.dataclass(frozen=True)
class Served:
    base: str
    master: int
    log: Path

    def worker(self) -> int:
        """The one worker's pid, as gunicorn logs it, checked to be the master's child."""
        (pid,) = map(int, re.findall(r"Booting worker with pid: (\d+)", self.log.read_text()))
        assert parent_of(pid) == self.master
        return pid


def parent_of(pid: int) -> int:
    return status_field(pid, "PPid")


def status_field(pid: int, name: str) -> int:
    """A number from /proc/<pid>/status (memory in kB)."""
    found = re.search(rf"^{name}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert found is not None, name
    return int(found.group(1))


def cpu_seconds(pid: int) -> float:
    """The process's CPU time, user and system (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current resident size, where the kernel allows."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextmanager
def one_worker(database_url: str, keys: Path, log: Path) -> Iterator[Served]:
    """Serve `wsgi:app` with one sync worker on a free port; on the way out, stop it and
    demand a clean log (one worker booted: none died and was replaced)."""
    port = _free_port()
    env = {
        **os.environ,
        "VOUCHER_ENV": "development",
        "VOUCHER_DATABASE_URL": database_url,
        "VOUCHER_KEYS_DIR": str(keys),
        "VOUCHER_LEDGER_ORIGIN": ORIGIN,
        "XDG_RUNTIME_DIR": str(log.parent),  # newer gunicorns' control socket, not ~/.gunicorn
    }
    env.pop("VOUCHER_MAX_TABLE_ROWS", None)
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--workers", "1", "--worker-class", "sync", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, log)
        yield Served(base, process.pid, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    assert text.count("Booting worker") == 1, text
    assert "Traceback" not in text and "WORKER TIMEOUT" not in text, text


def backend(database_url: str) -> str:
    return database_url.split(":", 1)[0].split("+", 1)[0]


def too_many_rows(reply: Reply) -> None:
    assert 400 <= reply.status < 500, reply.body[:2000]
    assert reply.headers.get_content_type() == "application/problem+json"
    problem = reply.json()
    assert (problem["code"], problem["limit"]) == ("too_many_rows", LIMIT), problem
    assert REFUSAL in problem["detail"]


@pytest.mark.parametrize("where", sorted(TARGETS))
def test_a_huge_upload_over_http_is_refused_at_the_row_limit_quickly_and_small(
    world: World,
    huge: Path,
    small: Path,
    where: str,
    database_url: str,
    keyring: Keyring,
    tmp_path: Path,
) -> None:
    target = TARGETS[where]
    headers = bearer(world.app, target.role, center=SHENZHEN)
    url = target.api_url(world)
    content = huge.read_bytes()
    attempts: list[Attempt] = []
    with one_worker(database_url, keyring.directory, tmp_path / "gunicorn.log") as served:
        api = Api(served.base)
        form = {**target.api_form, **DRY[where]}
        warm = api.upload(url, form, (small.read_bytes(), "week.xlsx"), headers)
        assert warm.status == target.accepted_status, warm.body.decode()
        assert target.accepted(warm.json()), warm.json()
        before = world.stored()

        worker = served.worker()
        while len(attempts) < ATTEMPTS and not any(a.cpu < SECONDS for a in attempts):
            reset = reset_peak(worker)
            resident, cpu = status_field(worker, "VmRSS"), cpu_seconds(worker)
            started = time.perf_counter()
            reply = api.upload(url, target.api_form, (content, "march.xlsx"), headers)
            seconds = time.perf_counter() - started
            peak = status_field(worker, "VmHWM")
            too_many_rows(reply)
            growth = (peak - resident) * 1024
            attempts.append(Attempt(seconds, cpu_seconds(worker) - cpu, growth, reset))
        assert served.worker() == worker  # the same worker answered each time, and lives
        assert api.get("/healthz").status == 200
    measured = (
        f"{where} over HTTP on {backend(database_url)}, {len(content)} bytes:"
        f" {'; '.join(map(str, attempts))}"
    )
    print(measured)  # pytest -rP shows it
    assert min(a.cpu for a in attempts) < SECONDS, measured
    assert all(a.growth is not None and a.growth < GROWTH for a in attempts), measured
    assert world.stored() == before


# From the pages


def upload_from_the_page(
    client: FlaskClient, world: World, where: str, content: bytes, dry: bool = False
) -> tuple[float, str, str]:
    """Upload `content` from the page; the seconds until the task's page tells the outcome,
    what it says, and the task's error code (its status if it has none)."""
    target = TARGETS[where]
    form: dict[str, Field] = {
        "csrf_token": csrf_token(client, target.page),
        **target.page_form(world),
        **(DRY_PAGE[where] if dry else {}),
        target.file_field: (content, "march.xlsx"),
    }
    started = time.perf_counter()
    sent = send_form(client, target.page_url, form, {})
    assert sent.status_code == 302 and sent.location.startswith("/tasks/"), sent.status_code
    page = finished(client, sent.location)
    seconds = time.perf_counter() - started
    with world.app.app_context():
        task = tasks.get_task(current().uow(), uuid.UUID(sent.location.rsplit("/", 1)[1]))
    return seconds, page, task.error or task.status


@pytest.mark.parametrize("where", sorted(TARGETS))
def test_a_huge_upload_from_the_page_is_refused_at_the_row_limit_quickly_and_small(
    world: World, huge: Path, small: Path, where: str, database_url: str
) -> None:
    target = TARGETS[where]
    client = world.app.test_client()
    sign_in(client, account(world.app, target.role, center=SHENZHEN).username, PASSWORD)
    _, page, outcome = upload_from_the_page(client, world, where, small.read_bytes(), dry=True)
    assert (outcome, target.accepted_page in page) == ("done", True), page
    before = world.stored()
    content = huge.read_bytes()

    attempts: list[Attempt] = []
    while len(attempts) < ATTEMPTS and not any(a.cpu < SECONDS for a in attempts):
        cpu = time.process_time()
        seconds, page, outcome = upload_from_the_page(client, world, where, content)
        assert (outcome, REFUSAL in page) == ("too_many_rows", True), page
        attempts.append(Attempt(seconds, time.process_time() - cpu))
    tracemalloc.start()
    try:
        _, _, outcome = upload_from_the_page(client, world, where, content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome == "too_many_rows"
    measured = (
        f"{where} from the page on {backend(database_url)}, {len(content)} bytes:"
        f" {'; '.join(map(str, attempts))};"
        f" traced peak {peak} bytes"
    )
    print(measured)  # pytest -rP shows it
    assert min(a.cpu for a in attempts) < SECONDS, measured
    assert peak < GROWTH, measured
    assert world.stored() == before
