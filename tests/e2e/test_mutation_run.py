"""tools/mutation.py for real: mutmut run on a project of one small module, resumed, and the
report's exit status following the survivors and the equivalents file. (The project's own
scope takes minutes: a tiny copy of its layout keeps this under a minute.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "mutation.py"
MUTMUT = Path(sys.executable).parent / "mutmut"

PYPROJECT = """\
[tool.mutmut]
source_paths = ["tiny/"]
only_mutate = ["tiny/*"]
pytest_add_cli_args_test_selection = ["tests/unit"]
pytest_add_cli_args = ["-p", "no:cacheprovider"]
"""

ARITH = """\
def clamp(value: int, low: int, high: int) -> int:
    if value < low:
        return low
    if value > high:
        return high
    return value


def scaled(value: int) -> int:
    return value * 3
"""

CLAMP_TESTS = """\
from tiny.arith import clamp


def test_below() -> None:
    assert clamp(-1, 0, 10) == 0


def test_inside() -> None:
    assert clamp(5, 0, 10) == 5
"""

SCALED_TESTS = """\
from tiny.arith import scaled


def test_scaled() -> None:
    assert scaled(2) == 6
"""

EQUIVALENTS = """\
# clamp returns the bound itself when value equals it.
tiny.arith.x_clamp__mutmut_1  value == low returns low, which is value
tiny.arith.x_clamp__mutmut_2  value == high returns high, which is value
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if not MUTMUT.exists():
        pytest.skip("mutmut is not installed beside this Python")
    (tmp_path / "tools").mkdir()
    shutil.copy(TOOL, tmp_path / "tools" / "mutation.py")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "__init__.py").write_text("")
    (tmp_path / "tiny" / "arith.py").write_text(ARITH)
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_clamp.py").write_text(CLAMP_TESTS)
    (tmp_path / "tests" / "mutation_equivalents.txt").write_text("# none yet\n")
    return tmp_path


def run_tool(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(project / "tools" / "mutation.py"), *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_survivors_fail_the_run_until_tested_or_documented_and_a_resumed_run_reruns_nothing(
    project: Path,
) -> None:
    first = run_tool(project)

    assert first.returncode == 1, first.stdout + first.stderr
    assert "tiny.arith.x_scaled__mutmut_1: no tests" in first.stdout
    assert "-    if value < low:\n+    if value <= low:" in first.stdout

    # A new test and two documented equivalents: the survivors are run again, not taken from
    # the cache, because a test changed.
    (project / "tests" / "unit" / "test_scaled.py").write_text(SCALED_TESTS)
    (project / "tests" / "mutation_equivalents.txt").write_text(EQUIVALENTS)
    second = run_tool(project)

    assert second.returncode == 0, second.stdout + second.stderr
    assert "unit tests changed since the last run" in second.stdout
    table = {line.split()[0]: line.split() for line in second.stdout.splitlines() if line}
    assert table["tiny.arith"][1:] == ["4", "2", "2", "0", "0", "100.0%"]

    resumed = run_tool(project)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "nothing to run" in resumed.stdout

    # Claiming that a killed mutant is equivalent is an error.
    with (project / "tests" / "mutation_equivalents.txt").open("a") as equivalents:
        equivalents.write("tiny.arith.x_scaled__mutmut_1  claimed, wrongly\n")
    stale = run_tool(project, "--report-only")

    assert stale.returncode == 1
    assert "x_scaled__mutmut_1: a test now kills it (killed)" in stale.stdout
