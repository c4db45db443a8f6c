"""The log's tiles as an outsider gets them: `ledger export-tiles` run as a command, the folder
served by a plain static web server (the standard library's, which knows nothing of the log),
and `voucher-audit --tiles` reading it, and the service's own tile routes, over HTTP."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from voucher_app.cli.audit import main as voucher_audit
from voucher_app.ledger import tiles
from voucher_app.services.demo import ENTRIES


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder and the URL a plain static web server serves it at."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def vkey(runner: FlaskCliRunner) -> str:
    listed = runner.invoke(args=["keys", "list"]).output
    return next(line for line in listed.splitlines() if line.startswith("ledger vkey: "))[13:]


def test_an_exported_folder_served_as_is_passes_the_audit(
    runner: FlaskCliRunner,
    demo: None,
    static_server: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, url = static_server
    exported = runner.invoke(args=["ledger", "export-tiles", str(folder)])
    assert exported.exit_code == 0, exported.output
    wanted = tiles.tiles_for(ENTRIES)
    assert f"at checkpoint {ENTRIES} (was 0): {len(wanted)} files written" in exported.output
    again = runner.invoke(args=["ledger", "export-tiles", str(folder)])
    assert f"(was {ENTRIES}): 0 files written" in again.output

    code = voucher_audit([url, "--tiles", "--vkey", vkey(runner)])
    output = capsys.readouterr().out
    assert code == 0, output
    assert output.startswith(f"OK {ENTRIES} entries; 1 checkpoint(s) verified")


def test_the_services_own_tiles_pass_the_audit(
    runner: FlaskCliRunner, demo: None, live_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = voucher_audit([f"{live_server}/api/v1/ledger", "--tiles", "--vkey", vkey(runner)])
    output = capsys.readouterr().out
    assert code == 0, output
    assert output.startswith(f"OK {ENTRIES} entries")


def test_tiles_without_a_pinned_key_are_not_audited(
    demo: None, live_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert voucher_audit([f"{live_server}/api/v1/ledger/", "--tiles"]) == 2
    assert "give the ledger's --vkey" in capsys.readouterr().err


def test_a_folder_that_is_not_a_tiled_log_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert voucher_audit([str(tmp_path), "--tiles", "--vkey", "x+00000000+AA=="]) == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "checkpoint").write_text("not a checkpoint\n")
    assert voucher_audit([str(tmp_path), "--tiles", "--vkey", "x+00000000+AA=="]) == 2
    assert "is not a checkpoint" in capsys.readouterr().err
    (tmp_path / "checkpoint").write_bytes(b"\xff\xfe\n")
    assert voucher_audit([str(tmp_path), "--tiles", "--vkey", "x+00000000+AA=="]) == 2
    assert "is not a checkpoint" in capsys.readouterr().err


def test_a_quorum_beyond_the_witnesses_given_is_refused(
    runner: FlaskCliRunner, demo: None, live_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for quorum in ("-1", "1"):
        args = [live_server, "--vkey", vkey(runner), "--quorum", quorum]
        assert voucher_audit(args) == 2
        assert "--quorum is 0 to the 0 --witness keys given" in capsys.readouterr().err
