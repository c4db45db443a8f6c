"""Prove that each money rule of the services has a test that fails without it.

Mutation testing over the services that move money is too slow to run whole, so the rules are
listed by hand in `tests/money_rules.toml`: the source text that implements each one (found as
text, not by line number, so the list survives edits) and the tests that must fail when it is
gone. For each rule this script breaks the text — deletes it, or replaces it with the entry's
`broken` version — in a temporary copy of the tree (so the checkout is never touched and other
work goes on meanwhile), checks the file still compiles, runs the named tests there and puts
the file back, whatever happens; `git diff` confirms the checkout is as it was at the end.

A rule is "caught" when its tests fail without it; "NOT CAUGHT" makes the run exit 1. The
named tests are first run once with every rule intact: a test that fails then proves nothing.

    python tools/rule_check.py             # every rule, on SQLite
    python tools/rule_check.py --only ID   # one rule (repeatable)
    python tools/rule_check.py --jobs 2    # two copies of the tree, two rules at a time

Rules marked `backend = "postgresql"` (row locks: SQLite has none, it runs one writer at a
time) run their tests on PostgreSQL, and only when VOUCHER_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "tests" / "money_rules.toml"
POSTGRES_ENV = "VOUCHER_TEST_POSTGRES_URL"
TEST_TIMEOUT_SECONDS = 600
_FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    file: str
    rule: str
    text: str
    broken: str | None  # None: delete the text
    tests: tuple[str, ...]
    backend: str  # "sqlite" or "postgresql"

    @property
    def node_ids(self) -> tuple[str, ...]:
        """The tests as pytest names them on this rule's database."""
        if self.backend == "sqlite":
            return self.tests
        return tuple(test.replace("[sqlite", f"[{self.backend}") for test in self.tests)


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: Rule
    verdict: str  # caught, NOT CAUGHT, needs PostgreSQL, test fails intact, does not compile
    seconds: float
    detail: str = ""


class RuleListError(Exception):
    """The rule list does not say what it must (an entry's text missing, or not unique)."""


def load_rules(path: Path = RULES) -> list[Rule]:
    """Every entry of the rule list, checked: ids unique, text found exactly once, tests named."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["rule"]
    rules = []
    seen = set()
    for entry in entries:
        rule = Rule(
            id=entry["id"],
            file=entry["file"],
            rule=entry["rule"],
            text=entry["text"],
            broken=entry.get("broken"),
            tests=tuple(entry["tests"]),
            backend=entry.get("backend", "sqlite"),
        )
        if rule.id in seen:
            raise RuleListError(f"{rule.id}: the id is used twice")
        seen.add(rule.id)
        if not rule.tests:
            raise RuleListError(f"{rule.id}: no test named")
        found = (ROOT / rule.file).read_text(encoding="utf-8").count(rule.text)
        if found != 1:
            raise RuleListError(
                f"{rule.id}: its text occurs {found} times in {rule.file}, not once"
            )
        rules.append(rule)
    return rules


def broken_sources(rule: Rule, source: str) -> Iterator[str]:
    """The file without the rule: its `broken` version, or the text deleted — and when a bare
    deletion leaves an empty block, the text replaced by `pass`."""
    if rule.broken is not None:
        yield source.replace(rule.text, rule.broken, 1)
        return
    yield source.replace(rule.text, "", 1)
    first_line = rule.text.lstrip("\n")
    indent = first_line[: len(first_line) - len(first_line.lstrip(" "))]
    start = source.index(rule.text)
    at_line_start = start == 0 or source[start - 1] == "\n"
    prefix = indent if at_line_start else ""
    ending = "\n" if rule.text.endswith("\n") else ""
    yield source.replace(rule.text, f"{prefix}pass{ending}", 1)


def compiles(source: str, path: Path) -> bool:
    try:
        compile(source, str(path), "exec")
    except SyntaxError:
        return False
    return True


#: What a copy of the tree leaves out: history, caches, and the virtualenv (linked instead).
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "instance",
    "node_modules",
)


@contextmanager
def tree_copy() -> Iterator[Path]:
    """A throwaway copy of the checkout (its compiled translations included) to break rules in."""
    with tempfile.TemporaryDirectory(prefix="rule-check-") as parent:
        copy = Path(parent) / ROOT.name
        shutil.copytree(ROOT, copy, ignore=_NOT_COPIED, symlinks=True)
        if (ROOT / ".venv").exists():
            (copy / ".venv").symlink_to((ROOT / ".venv").resolve())
        yield copy


@contextmanager
def rule_removed(rule: Rule, tree: Path) -> Iterator[bool]:
    """The rule's file in `tree` without the rule for the duration (yields whether it
    compiles); the original is written back on the way out, even on Ctrl-C or SIGTERM."""
    path = tree / rule.file
    original = path.read_bytes()
    source = original.decode("utf-8")
    broken = next((s for s in broken_sources(rule, source) if compiles(s, path)), None)
    try:
        if broken is not None:
            path.write_text(broken, encoding="utf-8")
        yield broken is not None
    finally:
        path.write_bytes(original)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise KeyboardInterrupt


def run_tests(node_ids: Sequence[str], tree: Path, *, stop_at_first: bool) -> tuple[int, str]:
    """Run the tests in a fresh interpreter that imports `tree`'s code and writes no bytecode
    (a broken file must never leave a cached copy behind)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE"]
    if stop_at_first:
        command.append("-x")
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [*command, *node_ids],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=TEST_TIMEOUT_SECONDS,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def failing_intact(rules: Sequence[Rule], tree: Path) -> dict[str, str]:
    """The named tests that are missing or fail with every rule in place, each with why (one
    pytest run to collect their files, one to run them all)."""
    named = sorted({node for rule in rules for node in rule.node_ids})
    if not named:
        return {}
    files = sorted({node.split("::")[0] for node in named})
    files = [file for file in files if (tree / file).is_file()]
    _, listing = run_tests(["--collect-only", *files], tree, stop_at_first=False)
    collected = set(listing.splitlines()) if files else set()
    bad = {node: "not found" for node in named if node not in collected}
    present = [node for node in named if node in collected]
    print(f"checking the {len(present)} named tests pass with every rule intact…", flush=True)
    code, output = run_tests(present, tree, stop_at_first=False) if present else (0, "")
    if code != 0:
        failed = set(_FAILED_LINE.findall(output)) or set(present)
        if not _FAILED_LINE.search(output):  # not a test failing: collection or usage
            print(output[-4000:], file=sys.stderr)
        bad |= {node: "fails intact" for node in present if node in failed}
    return bad


def check(rule: Rule, tree: Path, failing: dict[str, str], postgres: bool) -> Outcome:
    started = time.monotonic()
    if rule.backend == "postgresql" and not postgres:
        return Outcome(rule, "needs PostgreSQL", 0.0, f"set {POSTGRES_ENV}")
    bad = [f"{node.split('::')[-1]} {failing[node]}" for node in rule.node_ids if node in failing]
    if bad:
        return Outcome(rule, "test not usable", 0.0, "; ".join(bad))
    with rule_removed(rule, tree) as ok:
        if not ok:
            return Outcome(rule, "does not compile", 0.0, "give the entry a `broken` version")
        code, output = run_tests(rule.node_ids, tree, stop_at_first=True)
    seconds = time.monotonic() - started
    if code == 0:
        return Outcome(rule, "NOT CAUGHT", seconds)
    if code != 1:  # 2 interrupted, 3 internal error, 4 usage, 5 no tests: not a test failing
        tail = output.strip().splitlines()[-1:] or [""]
        return Outcome(rule, f"pytest exit {code}", seconds, tail[0])
    return Outcome(rule, "caught", seconds)


def check_all(rules: Sequence[Rule], postgres: bool, *, jobs: int) -> list[Outcome]:
    """Each rule's outcome, in the list's order; `jobs` copies of the tree take rules in turn."""
    with tree_copy() as first:
        failing = failing_intact([r for r in rules if r.backend == "sqlite" or postgres], first)
    todo: queue.Queue[tuple[int, Rule]] = queue.Queue()
    for number, rule in enumerate(rules):
        todo.put((number, rule))
    results: dict[int, Outcome] = {}
    stop = threading.Event()

    def worker() -> None:
        with tree_copy() as tree:
            while not stop.is_set():
                try:
                    number, rule = todo.get_nowait()
                except queue.Empty:
                    return
                results[number] = outcome = check(rule, tree, failing, postgres)
                print(f"[{len(results)}/{len(rules)}] {rule.id}: {outcome.verdict}", flush=True)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(jobs)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        print("interrupted: the rules checked so far", file=sys.stderr)
    return [results[number] for number in sorted(results)]


def tree_is_clean(files: Sequence[str]) -> bool:
    done = subprocess.run(["git", "diff", "--quiet", "--", *files], cwd=ROOT, check=False)
    return done.returncode == 0


def table(outcomes: Sequence[Outcome]) -> str:
    width = max((len(o.rule.id) for o in outcomes), default=4)
    lines = [f"{'rule':<{width}}  {'result':<18} {'secs':>6}  tests"]
    for o in outcomes:
        tests = ", ".join(t.split("::")[-1] for t in o.rule.node_ids)
        note = f"  ({o.detail})" if o.detail else ""
        lines.append(f"{o.rule.id:<{width}}  {o.verdict:<18} {o.seconds:6.1f}  {tests}{note}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="ID", help="check this rule only")
    parser.add_argument("--list", action="store_true", help="list the rules and stop")
    parser.add_argument("--jobs", type=int, default=1, help="rules checked at a time")
    args = parser.parse_args(argv)
    rules = load_rules()
    if args.only:
        unknown = set(args.only) - {rule.id for rule in rules}
        if unknown:
            parser.error(f"no rule {', '.join(sorted(unknown))}")
        rules = [rule for rule in rules if rule.id in args.only]
    if args.list:
        for rule in rules:
            print(f"{rule.id}: {rule.rule}")
        return 0
    signal.signal(signal.SIGTERM, _raise_interrupt)
    postgres = bool(os.environ.get(POSTGRES_ENV))
    started = time.monotonic()
    files = sorted({rule.file for rule in rules})
    outcomes = check_all(rules, postgres, jobs=max(1, args.jobs))
    clean = tree_is_clean(files)
    print()
    print(table(outcomes))
    counts = {v: sum(o.verdict == v for o in outcomes) for v in {o.verdict for o in outcomes}}
    print()
    print(", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items())))
    print(f"{len(outcomes)} rules in {time.monotonic() - started:.0f} s")
    if not clean:
        print(f"the services differ from git after the run: {', '.join(files)}", file=sys.stderr)
        return 2
    return 1 if any(o.verdict not in {"caught", "needs PostgreSQL"} for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
