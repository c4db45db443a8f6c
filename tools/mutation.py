#!/usr/bin/env python3
"""`make mutation`: mutmut over the pure modules, held to a 100% behavioural mutation score.

Line coverage says a line ran; a mutation score says the tests would notice if it were wrong.
mutmut (configured in pyproject's [tool.mutmut]) changes the scope's code one small edit at a
time and runs the unit tests that cover it. This tool is the part mutmut does not do for us:

* chooses the modules: all of the scope, `--modules PATH...`, or `--changed-since REV` (the
  scope's modules that git says changed between REV and HEAD, and those whose unit tests
  changed: a new test is a reason to look again);
* keeps to a budget: when mutants x seconds per mutant (measured by the last run, else assumed)
  exceed `--budget`, it runs a seeded random sample that fits, and prints the seed so the same
  sample can be run again with `--seed`;
* resumes: mutmut keeps every verdict in mutants/ and reruns only what a source change touched.
  It does not notice a changed test, so this tool fingerprints the unit tests and, when one
  changed, sends back the mutants that test covered and every survivor, and has mutmut collect
  again which tests cover what (a changed helper or conftest sends back everything);
* bounds memory: RLIMIT_AS is set on the mutmut process before it starts. mutmut forks one
  process per mutant, and a fork inherits the limit as its own: each mutant may use
  `--memory-mb`, not all of them together, and one that allocates without end dies alone, as a
  kill. Runaway loops are mutmut's own business: each mutant has a wall-clock limit of
  (its tests' time + timeout_constant) x timeout_multiplier and a CPU limit twice that;
* reports: per module, the mutants, killed (timeouts included), equivalent (listed in
  tests/mutation_equivalents.txt), surviving (mutants no test covers included) and the score
  (killed + equivalent) / mutants; then each undocumented survivor with its diff, and each
  stale line of the equivalents file (no such mutant, or a test now kills it). It exits 1 when
  there is either, 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS_FILE = Path("tests/mutation_equivalents.txt")
MUTANTS_DIR = Path("mutants")
TOOL_STATE_FILE = MUTANTS_DIR / "mutation-tool.json"
MUTMUT_STATS_FILE = MUTANTS_DIR / "mutmut-stats.json"
UNIT_TESTS_DIR = Path("tests/unit")

# Until a run on this machine has measured them: ~4 mutants/s on two cores, and the fixed cost of
# a run (generating mutants, collecting which unit tests cover what, the clean run).
ASSUMED_SECONDS_PER_MUTANT = 0.25
ASSUMED_OVERHEAD_SECONDS = 150.0
DEFAULT_MEMORY_MB = 2048

# mutmut's statuses (mutmut.stats.status_by_exit_code), as this tool counts them.
KILLED_STATUSES = frozenset({"killed", "timeout", "segfault", "caught by type check"})
NOT_RUN_STATUSES = frozenset({"not checked", "skipped"})
# Not verdicts: an interrupted run leaves these behind. They are tried again on the next run,
# and counted as survivors when they remain.
RETRIED_STATUSES = frozenset({"suspicious", "check was interrupted by user"})

MUTANT_NAME = re.compile(r"^[A-Za-z_][\w.]*\.x(?:_|ǁ)\S*__mutmut_\d+$")
EQUIVALENT_LINE = re.compile(r"^(?P<name>\S+) {2,}(?P<reason>\S.*)$")


class ToolError(Exception):
    """A refusal the user must act on: printed, and the tool exits 2."""


# --- tests/mutation_equivalents.txt ----------------------------------------------------------


@dataclass(frozen=True)
class Equivalent:
    """One line of the equivalents file: a surviving mutant claimed to behave like the code."""

    name: str
    reason: str
    line: int


def parse_equivalents(text: str) -> dict[str, Equivalent]:
    """The file's entries by mutant name; refuses the whole file on any malformed line."""
    entries: dict[str, Equivalent] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line or line.lstrip().startswith("#"):
            continue
        match = EQUIVALENT_LINE.match(line)
        if match is None:
            problems.append(f"line {number}: expected '<mutant name>  <reason>' (two spaces)")
            continue
        name, reason = match["name"], match["reason"].strip()
        if not MUTANT_NAME.match(name):
            problems.append(f"line {number}: {name!r} is not a mutant name as mutmut prints it")
        elif name in entries:
            problems.append(f"line {number}: {name} is already listed on line {entries[name].line}")
        else:
            entries[name] = Equivalent(name=name, reason=reason, line=number)
    if problems:
        raise ToolError(f"{EQUIVALENTS_FILE} is malformed:\n  " + "\n  ".join(problems))
    return entries


def module_of_mutant(mutant_name: str) -> str:
    """`voucher_app.domain.money.x_f__mutmut_3` -> `voucher_app.domain.money`."""
    function_key = mutant_name.partition("__mutmut_")[0]
    parts = function_key.split(".")
    for index in range(len(parts) - 1, -1, -1):
        if parts[index].startswith(("x_", "xǁ")):
            return ".".join(parts[:index])
    return function_key.rpartition(".")[0]


def module_name_of_path(path: Path) -> str:
    """The dotted name mutmut gives a module's mutants (a package's `__init__` is the package)."""
    dotted = ".".join(path.with_suffix("").parts)
    return dotted.removesuffix(".__init__")


# --- choosing what to run --------------------------------------------------------------------


def scope_modules_touched(
    changed_files: Iterable[str], scope: Sequence[Path], changed_tests: Mapping[str, str]
) -> list[Path]:
    """The scope's modules among the changed files, and those a changed unit test imports.

    `changed_tests` maps each changed test file to its source (a deleted one is left out).
    """
    by_name = {module_name_of_path(path): path for path in scope}
    touched = {Path(name) for name in changed_files} & set(scope)
    for source in changed_tests.values():
        for imported in modules_imported_by(source):
            if imported in by_name:
                touched.add(by_name[imported])
    return sorted(touched)


def modules_imported_by(source: str) -> set[str]:
    """The modules a test file imports, `from package import module` counted as the module."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    return imported


@dataclass(frozen=True)
class Plan:
    """The mutants one run will test, and why that many."""

    mutants: tuple[str, ...]
    pending: int
    estimated_seconds: float
    sampled: bool
    seed: str


def plan_run(
    pending: Iterable[str],
    *,
    seconds_per_mutant: float,
    overhead_seconds: float,
    budget_seconds: float | None,
    seed: str,
) -> Plan:
    """All pending mutants, or, when they would not fit the budget, a sample that does.

    The sample is `random.Random(seed).sample` over the sorted names: the same seed and the same
    mutants give the same sample on any machine.
    """
    names = sorted(set(pending))
    estimate = overhead_seconds + len(names) * seconds_per_mutant if names else 0.0
    if budget_seconds is None or estimate <= budget_seconds:
        return Plan(tuple(names), len(names), estimate, sampled=False, seed=seed)
    fitting = max(1, int((budget_seconds - overhead_seconds) / seconds_per_mutant))
    sampler = random.Random(seed)  # noqa: S311 (a reproducible sample, not a secret)
    chosen = sorted(sampler.sample(names, min(fitting, len(names))))
    estimate = overhead_seconds + len(chosen) * seconds_per_mutant
    return Plan(tuple(chosen), len(names), estimate, sampled=True, seed=seed)


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class ModuleScore:
    """One row of the table."""

    module: str
    killed: int = 0
    equivalent: int = 0
    surviving: list[str] = field(default_factory=list)
    not_run: int = 0

    @property
    def mutants(self) -> int:
        return self.killed + self.equivalent + len(self.surviving)

    @property
    def score(self) -> float | None:
        return (self.killed + self.equivalent) / self.mutants if self.mutants else None


@dataclass(frozen=True)
class StaleEquivalent:
    """A line of the equivalents file that no longer describes a surviving mutant."""

    entry: Equivalent
    why: str


def score_modules(
    statuses_by_module: Mapping[str, Mapping[str, str]], equivalents: Mapping[str, Equivalent]
) -> list[ModuleScore]:
    """Counts per module from mutmut's statuses (`killed`, `survived`, `no tests`, ...)."""
    scores = []
    for module, statuses in sorted(statuses_by_module.items()):
        row = ModuleScore(module)
        for name, status in sorted(statuses.items()):
            if status in KILLED_STATUSES:
                row.killed += 1
            elif status in NOT_RUN_STATUSES:
                row.not_run += 1
            elif name in equivalents:
                row.equivalent += 1
            else:
                row.surviving.append(name)
        scores.append(row)
    return scores


def stale_equivalents(
    equivalents: Mapping[str, Equivalent],
    statuses_by_module: Mapping[str, Mapping[str, str]],
    scope_module_names: Iterable[str],
) -> list[StaleEquivalent]:
    """Entries naming no mutant, or one a test now kills.

    Only modules whose results are at hand can be judged; an entry for a module outside the
    scope names no mutant whatever was run.
    """
    in_scope = set(scope_module_names)
    stale = []
    for entry in sorted(equivalents.values(), key=lambda entry: entry.line):
        module = module_of_mutant(entry.name)
        if module not in in_scope:
            stale.append(StaleEquivalent(entry, f"{module} is not in the mutation scope"))
            continue
        statuses = statuses_by_module.get(module)
        if statuses is None:
            continue
        status = statuses.get(entry.name)
        if status is None:
            stale.append(StaleEquivalent(entry, "no such mutant"))
        elif status in KILLED_STATUSES:
            stale.append(StaleEquivalent(entry, f"a test now kills it ({status})"))
    return stale


def format_table(scores: Sequence[ModuleScore]) -> str:
    header = ("module", "mutants", "killed", "equivalent", "surviving", "not run", "score")
    rows: list[tuple[str, ...]] = [header]
    total = ModuleScore("total")
    for row in scores:
        rows.append(_table_row(row))
        total.killed += row.killed
        total.equivalent += row.equivalent
        total.surviving += row.surviving
        total.not_run += row.not_run
    rows.append(_table_row(total))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines)


def _table_row(row: ModuleScore) -> tuple[str, ...]:
    score = "-" if row.score is None else f"{row.score:.1%}"
    counts = (row.mutants, row.killed, row.equivalent, len(row.surviving), row.not_run)
    return (row.module, *(str(count) for count in counts), score)


# --- noticing changed tests ------------------------------------------------------------------


def fingerprint_tests(root: Path) -> dict[str, str]:
    """A hash of each Python file the unit tests run: the tests and the helpers beside them."""
    files = sorted((root / UNIT_TESTS_DIR).rglob("*.py")) + sorted((root / "tests").glob("*.py"))
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in files
    }


@dataclass(frozen=True)
class Invalidation:
    """What a change of tests sends back to be run again."""

    everything: bool = False
    functions: frozenset[str] = frozenset()
    survivors: bool = False

    @property
    def anything(self) -> bool:
        return self.everything or self.survivors


def invalidation_for_test_changes(
    old: Mapping[str, str], new: Mapping[str, str], tests_by_function: Mapping[str, Iterable[str]]
) -> Invalidation:
    """Which cached verdicts a change of test files makes unsafe to keep.

    A changed test file may now kill a survivor, and may no longer kill what it covered: both
    go back. A changed helper (anything not named test_*.py) may change any test: all go back.
    `tests_by_function` is mutmut's record of the tests that ran each mutated function.
    """
    if not old:
        return Invalidation()
    changed = {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}
    if not changed:
        return Invalidation()
    if any(not Path(path).name.startswith("test_") for path in changed):
        return Invalidation(everything=True)
    functions = frozenset(
        function
        for function, tests in tests_by_function.items()
        if any(test.partition("::")[0] in changed for test in tests)
    )
    return Invalidation(functions=functions, survivors=True)


def should_reset(invalidation: Invalidation, mutant_name: str, status: str) -> bool:
    if status in RETRIED_STATUSES or invalidation.everything:
        return True
    if invalidation.survivors and status not in KILLED_STATUSES | NOT_RUN_STATUSES:
        return True
    return mutant_name.partition("__mutmut_")[0] in invalidation.functions


# --- mutmut's state under mutants/ -----------------------------------------------------------


def scope_files() -> list[Path]:
    """Every module [tool.mutmut] mutates, as mutmut walks them."""
    from mutmut.utils.file_utils import walk_mutatable_files  # noqa: PLC0415 (reads pyproject)

    return sorted(walk_mutatable_files())


def expected_mutants(path: Path) -> dict[str, int | None]:
    """The mutants mutmut will have for this module, with the exit codes it will keep.

    When mutants/ holds an up-to-date copy (mutmut's own test: the source is older than it),
    that is the answer. Otherwise this mutates the source as mutmut will and, like mutmut,
    keeps a verdict only for functions whose hash is unchanged.
    """
    from mutmut.mutation.data import SourceFileMutationData  # noqa: PLC0415
    from mutmut.mutation.file_mutation import mutate_file_contents  # noqa: PLC0415
    from mutmut.utils.format_utils import get_mutant_name  # noqa: PLC0415

    data = SourceFileMutationData(path=path)
    data.load()
    mutated_copy = MUTANTS_DIR / path
    if (
        data.exit_code_by_key
        and mutated_copy.exists()
        and path.stat().st_mtime < mutated_copy.stat().st_mtime
    ):
        return dict(data.exit_code_by_key)
    mutated = mutate_file_contents(str(path), path.read_text(encoding="utf-8"))
    hashes = mutated.hash_by_function_name
    expected: dict[str, int | None] = {}
    for mutant in mutated.mutant_names:
        key = get_mutant_name(path, mutant)
        function = key.partition("__mutmut_")[0].rpartition(".")[2]
        unchanged = (
            function in hashes and data.hash_by_function_name.get(function) == hashes[function]
        )
        expected[key] = data.exit_code_by_key.get(key) if unchanged else None
    return expected


def reset_verdicts(paths: Iterable[Path], invalidation: Invalidation) -> int:
    """Send verdicts back to 'not checked' in mutmut's own files; returns how many."""
    from mutmut.mutation.data import SourceFileMutationData  # noqa: PLC0415
    from mutmut.stats import status_by_exit_code  # noqa: PLC0415

    reset = 0
    for path in paths:
        data = SourceFileMutationData(path=path)
        if not data.meta_path.exists():
            continue
        data.load()
        names = [
            name
            for name, code in data.exit_code_by_key.items()
            if code is not None and should_reset(invalidation, name, status_by_exit_code[code])
        ]
        for name in names:
            data.exit_code_by_key[name] = None
        if names:
            data.save()
            reset += len(names)
    return reset


def read_statuses(paths: Iterable[Path]) -> dict[str, dict[str, str]]:
    """Each module's mutants and mutmut's status for them, from mutmut's .meta files."""
    from mutmut.mutation.data import SourceFileMutationData  # noqa: PLC0415
    from mutmut.stats import status_by_exit_code  # noqa: PLC0415

    statuses = {}
    for path in paths:
        data = SourceFileMutationData(path=path)
        data.load()
        statuses[module_name_of_path(path)] = {
            name: status_by_exit_code[code] for name, code in data.exit_code_by_key.items()
        }
    return statuses


def mutant_diff(name: str, path: Path) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415

    try:
        return get_diff_for_mutant(name, path=path)
    except (OSError, KeyError) as exc:
        return f"(no diff: {exc})"


def load_tool_state() -> dict[str, object]:
    try:
        state = json.loads(TOOL_STATE_FILE.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def save_tool_state(state: Mapping[str, object]) -> None:
    MUTANTS_DIR.mkdir(exist_ok=True)
    TOOL_STATE_FILE.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")


def tests_by_function() -> dict[str, list[str]]:
    try:
        stats = json.loads(MUTMUT_STATS_FILE.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    mapping = stats.get("tests_by_mangled_function_name", {})
    return mapping if isinstance(mapping, dict) else {}


def apply_test_changes(state: dict[str, object], scope: Sequence[Path]) -> None:
    """Reset what changed tests make stale, then record the tests as they are now."""
    new = fingerprint_tests(Path.cwd())
    old = state.get("tests")
    old_fingerprint = old if isinstance(old, dict) else {}
    invalidation = invalidation_for_test_changes(old_fingerprint, new, tests_by_function())
    reset = reset_verdicts(scope, invalidation)
    if invalidation.anything:
        # mutmut only learns what *new* tests cover; a changed one may cover other code now.
        MUTMUT_STATS_FILE.unlink(missing_ok=True)
        print(f"unit tests changed since the last run: {reset} verdicts will be run again")
    elif reset:
        print(f"{reset} unfinished verdicts from an interrupted run will be run again")
    state["tests"] = new
    save_tool_state(state)


# --- running mutmut --------------------------------------------------------------------------


def limit_address_space(memory_mb: int) -> None:
    """Runs in the child between fork and exec: mutmut and each of its forks get this limit."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_mutmut(names: Sequence[str], memory_mb: int) -> None:
    """`mutmut run` over the named mutants (no names: every pending mutant of the scope)."""
    mutmut = Path(sys.executable).parent / "mutmut"
    command = [str(mutmut), "run", *names]
    completed = subprocess.run(  # noqa: S603 (preexec_fn: this tool starts no threads)
        command, check=False, preexec_fn=lambda: limit_address_space(memory_mb)
    )
    if completed.returncode != 0:
        raise ToolError(f"mutmut run failed with status {completed.returncode}")


def changed_files_since(revision: str) -> list[str]:
    def git(*args: str) -> str:
        result = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ToolError(f"git {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    git("rev-parse", "--verify", f"{revision}^{{commit}}")
    return [
        line for line in git("diff", "--name-only", revision, "HEAD", "--").splitlines() if line
    ]


def head_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else "0"


def choose_modules(arguments: argparse.Namespace, scope: Sequence[Path]) -> list[Path]:
    if arguments.modules:
        chosen = [Path(os.path.normpath(module)) for module in arguments.modules]
        outside = [str(module) for module in chosen if module not in scope]
        if outside:
            raise ToolError(f"not in [tool.mutmut] only_mutate: {', '.join(outside)}")
        return sorted(set(chosen))
    if arguments.changed_since:
        changed = changed_files_since(arguments.changed_since)
        tests = {
            name: Path(name).read_text(encoding="utf-8")
            for name in changed
            if name.startswith(f"{UNIT_TESTS_DIR.as_posix()}/")
            and name.endswith(".py")
            and Path(name).exists()
        }
        return scope_modules_touched(changed, scope, tests)
    return list(scope)


def measured_speed(state: Mapping[str, object]) -> tuple[float, float, str]:
    seconds = state.get("seconds_per_mutant")
    overhead = state.get("overhead_seconds")
    if isinstance(seconds, float) and isinstance(overhead, float):
        return seconds, overhead, "measured by the last run here"
    return ASSUMED_SECONDS_PER_MUTANT, ASSUMED_OVERHEAD_SECONDS, "assumed: no run measured yet"


def record_speed(state: dict[str, object], mutants_run: int, elapsed: float) -> None:
    """Seconds per mutant from mutmut's own durations (spread over its workers), and the rest
    of the run's wall-clock time as the fixed cost."""
    if mutants_run < 20:
        return  # too few to say anything about the next run
    from mutmut.mutation.data import SourceFileMutationData  # noqa: PLC0415

    durations = []
    for path in scope_files():
        data = SourceFileMutationData(path=path)
        data.load()
        durations += list(data.durations_by_key.values())
    if not durations:
        return
    workers = os.cpu_count() or 1
    per_mutant = sum(durations) / len(durations) / workers
    state["seconds_per_mutant"] = per_mutant
    state["overhead_seconds"] = max(30.0, elapsed - per_mutant * mutants_run)
    save_tool_state(state)


def report(
    chosen: Sequence[Path], scope: Sequence[Path], equivalents: Mapping[str, Equivalent]
) -> int:
    statuses = read_statuses(chosen)
    scores = [row for row in score_modules(statuses, equivalents) if row.mutants or row.not_run]
    stale = stale_equivalents(equivalents, statuses, (module_name_of_path(path) for path in scope))
    print()
    print(format_table(scores))
    paths = {module_name_of_path(path): path for path in chosen}
    survivors = [(row.module, name) for row in scores for name in row.surviving]
    if survivors:
        print(f"\n{len(survivors)} surviving mutants (a test is missing, or the mutant is")
        print(f"equivalent and belongs in {EQUIVALENTS_FILE} with the reason):")
        for module, name in survivors:
            print(f"\n# {name}: {statuses[module][name]}")
            print(mutant_diff(name, paths[module]))
    if stale:
        print(f"\n{len(stale)} stale entries in {EQUIVALENTS_FILE}:")
        for item in stale:
            print(f"error: line {item.entry.line}: {item.entry.name}: {item.why}")
    return 1 if survivors or stale else 0


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tools/mutation.py",
        description="Mutation testing of the pure modules (see docs/testing.md).",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--modules", nargs="+", metavar="PATH", help="these modules of the scope")
    which.add_argument(
        "--changed-since",
        metavar="REV",
        help="the scope's modules changed between REV and HEAD, or whose unit tests changed",
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="above this estimate, run a seeded sample of the pending mutants that fits",
    )
    parser.add_argument("--seed", help="the sample's seed (default: HEAD's commit id)")
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=DEFAULT_MEMORY_MB,
        help=f"address-space limit of each mutant's process (default {DEFAULT_MEMORY_MB})",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="read the results of earlier runs; run nothing"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    os.chdir(PROJECT_ROOT)
    try:
        equivalents = parse_equivalents(EQUIVALENTS_FILE.read_text(encoding="utf-8"))
        scope = scope_files()
        chosen = choose_modules(arguments, scope)
        if not chosen:
            print("no module of the mutation scope changed: nothing to run")
            return 0
        if not arguments.report_only:
            run(arguments, chosen, scope)
        return report(chosen, scope, equivalents)
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run(arguments: argparse.Namespace, chosen: Sequence[Path], scope: Sequence[Path]) -> None:
    state = load_tool_state()
    apply_test_changes(state, scope)
    pending = [
        name for path in chosen for name, code in expected_mutants(path).items() if code is None
    ]
    seconds_per_mutant, overhead, source = measured_speed(state)
    plan = plan_run(
        pending,
        seconds_per_mutant=seconds_per_mutant,
        overhead_seconds=overhead,
        budget_seconds=arguments.budget,
        seed=arguments.seed or head_commit(),
    )
    print(f"modules: {', '.join(str(path) for path in chosen)}")
    if not plan.mutants:
        print("every mutant of these modules has a verdict already (mutants/): nothing to run")
        return
    print(
        f"{plan.pending} mutants to run, ~{overhead + plan.pending * seconds_per_mutant:.0f} s "
        f"at {seconds_per_mutant:.2f} s/mutant + {overhead:.0f} s ({source})"
    )
    if plan.sampled:
        print(
            f"over the {arguments.budget:.0f} s budget: a sample of {len(plan.mutants)} of "
            f"{plan.pending} (~{plan.estimated_seconds:.0f} s); "
            f"the same sample again: --seed {plan.seed}"
        )
    whole_scope = list(chosen) == list(scope) and not plan.sampled
    started = time.monotonic()
    run_mutmut([] if whole_scope else plan.mutants, arguments.memory_mb)
    record_speed(state, len(plan.mutants), time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
