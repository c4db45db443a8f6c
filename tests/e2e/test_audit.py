"""`flask ledger export` + `voucher-audit`: an outsider verifies the ledger, and every kind of
edit to the published data is caught with the index where it starts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from tests.harness import ORIGIN, START
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.clock import FrozenClock
from voucher_app.ledger import merkle
from voucher_app.ledger.document import parse_entry
from voucher_app.services import demo
from voucher_app.signing.keyring import KeyPurpose, Keyring
from voucher_app.signing.note import Checkpoint, sign_note

SIZE = demo.ENTRIES  # the demo ledger's entries, all under its one checkpoint


@pytest.fixture
def export(runner: FlaskCliRunner, tmp_path: Path) -> Path:
    for args in (["demo", "load"], ["ledger", "export", str(tmp_path / "export")]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return tmp_path / "export"


def audit(folder: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = voucher_audit([str(folder), "--vkey", str(folder / "ledger.vkey"), *extra])
    return code, capsys.readouterr().out


def read_lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "entries.jsonl").read_text().splitlines()]


def write_lines(folder: Path, lines: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    (folder / "entries.jsonl").write_text(text, encoding="utf-8")


def postings(line: dict[str, object]) -> list[dict[str, int]]:
    entry = line["entry"]
    assert isinstance(entry, dict)
    result: list[dict[str, int]] = entry["postings"]
    return result


def halve_every_posting(lines: list[dict[str, object]]) -> None:
    # Still balanced, and no account goes below zero at this entry (an allocation to shards
    # would: doubling takes more than one shard holds), so only the leaf can tell.
    for posting in postings(lines[6]):
        assert posting["amount_fen"] % 2 == 0
        posting["amount_fen"] //= 2


def bump_one_posting(lines: list[dict[str, object]]) -> None:
    postings(lines[5])[0]["amount_fen"] += 1


def overspend(lines: list[dict[str, object]]) -> None:
    # Entry 5 allocates from Guangzhou to a district; make it take far more than Guangzhou has.
    for posting in postings(lines[5]):
        posting["amount_fen"] *= 1000


def remove_line(lines: list[dict[str, object]]) -> None:
    del lines[4]


def swap_lines(lines: list[dict[str, object]]) -> None:
    lines[3], lines[4] = lines[4], lines[3]


def swap_entries_keep_indexes(lines: list[dict[str, object]]) -> None:
    lines[3]["entry"], lines[4]["entry"] = lines[4]["entry"], lines[3]["entry"]


EDITS: dict[str, tuple[Callable[[list[dict[str, object]]], None], str]] = {
    "edited amount, still balanced": (halve_every_posting, "index 6: entry differs from the leaf"),
    "unbalanced entry": (bump_one_posting, "index 5: postings sum to 1 fen"),
    "negative replayed balance": (overspend, "index 5: account center:440100"),
    "removed line": (remove_line, "index 4: entry missing"),
    "reordered lines": (swap_lines, "index 3: entry missing"),
    "reordered entries, renumbered": (swap_entries_keep_indexes, "index 3: entry differs"),
}


def test_an_untouched_export_verifies(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = audit(export, capsys)
    assert code == 0, out
    assert out.startswith(f"OK {SIZE} entries; 1 checkpoint(s) verified; tree size {SIZE}")


@pytest.mark.parametrize("edit", list(EDITS))
def test_each_kind_of_edit_is_named_at_its_index(
    export: Path, capsys: pytest.CaptureFixture[str], edit: str
) -> None:
    change, expected = EDITS[edit]
    lines = read_lines(export)
    change(lines)
    write_lines(export, lines)
    code, out = audit(export, capsys)
    assert code == 1
    assert out.startswith(f"FAIL {expected}"), out


def test_without_leaf_hashes_an_edit_is_located_between_checkpoints(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = read_lines(export)
    halve_every_posting(lines)
    write_lines(export, lines)
    (export / "leaf-hashes.bin").unlink()
    code, out = audit(export, capsys)
    assert code == 1
    assert out.startswith(f"FAIL between index 0 and {SIZE - 1}: entries do not reproduce"), out


def test_a_forged_checkpoint_is_refused(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    note = next((export / "checkpoints").glob("*.note"))
    text = note.read_text()
    note.write_text(text.replace(f"\n{SIZE}\n", f"\n{SIZE - 1}\n", 1))
    code, out = audit(export, capsys)
    assert code == 1
    assert "invalid signature" in out


def test_a_validly_signed_but_inconsistent_checkpoint_is_caught(
    export: Path, capsys: pytest.CaptureFixture[str], keyring: Keyring
) -> None:
    _record, key = keyring.active(KeyPurpose.LEDGER)
    lying = sign_note(Checkpoint(ORIGIN, SIZE, bytes(32)).text(), ORIGIN, key)
    next((export / "checkpoints").glob("*.note")).write_text(lying)
    code, out = audit(export, capsys)
    assert code == 1
    assert f"entries do not reproduce the signed root of tree size {SIZE}" in out


def test_a_checkpoint_from_another_key_is_not_trusted(
    export: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = Keyring(tmp_path / "other", None, allow_plain=True)
    other.init(FrozenClock(START))
    _record, key = other.active(KeyPurpose.LEDGER)
    leaves = [merkle.leaf_hash(parse_entry(line["entry"])[1]) for line in read_lines(export)]
    forged = sign_note(Checkpoint(ORIGIN, SIZE, merkle.root_of(leaves)).text(), ORIGIN, key)
    next((export / "checkpoints").glob("*.note")).write_text(forged)
    code, out = audit(export, capsys)
    assert code == 1
    assert "no signature by a known key" in out


def test_state_file_demands_that_the_next_log_extends_the_last(
    export: Path, capsys: pytest.CaptureFixture[str], runner: FlaskCliRunner, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    assert audit(export, capsys, "--state", str(state))[0] == 0
    remembered = json.loads(state.read_text())
    assert remembered["size"] == SIZE

    # The ledger grows (the demo's claw-back is reversed); a new export must extend it.
    clawback = read_lines(export)[11]["entry"]  # the demo's claw-back
    assert isinstance(clawback, dict)
    for args in (["ledger", "reverse", clawback["id"]], ["ledger", "checkpoint"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    newer = tmp_path / "newer"
    assert runner.invoke(args=["ledger", "export", str(newer)]).exit_code == 0
    code, out = audit(newer, capsys, "--state", str(state))
    assert code == 0 and "2 checkpoint(s)" in out and f"tree size {SIZE + 1}" in out, out
    assert json.loads(state.read_text())["size"] == SIZE + 1

    # A log rewritten behind the auditor's back is refused even though it is self-consistent.
    remembered["root"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    remembered["size"] = SIZE
    state.write_text(json.dumps(remembered))
    code, out = audit(newer, capsys, "--state", str(state))
    assert code == 1 and f"not consistent with the checkpoint of size {SIZE} verified before" in out


def test_voucher_audit_runs_without_flask_or_sqlalchemy(export: Path) -> None:
    script = (
        "import sys\n"
        "from voucher_app.cli.audit import main\n"
        f"code = main([{str(export)!r}, '--vkey', {str(export / 'ledger.vkey')!r}])\n"
        "loaded = sorted(m for m in ('flask', 'sqlalchemy', 'werkzeug') if m in sys.modules)\n"
        "print('LOADED', loaded)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LOADED []" in result.stdout


def test_voucher_audit_verifies_the_live_service(
    export: Path, live_server: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vkey = (export / "ledger.vkey").read_text().split()[0]
    state = tmp_path / "state.json"
    code = voucher_audit([live_server, "--vkey", vkey, "--state", str(state)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith(f"OK {SIZE} entries; 1 checkpoint(s) verified; tree size {SIZE}")
    assert json.loads(state.read_text())["size"] == SIZE


def test_an_unreachable_source_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert voucher_audit([str(tmp_path / "nothing-here")]) == 2
    assert "no entries.jsonl" in capsys.readouterr().err
