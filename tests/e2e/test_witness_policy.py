"""The service configured with witnesses (`VOUCHER_WITNESSES_FILE`), two of them served by
`voucher-witness` on localhost and a third that does not answer: `flask ledger cosign` asks
them, the published checkpoint carries the two cosignatures, `/readyz` and `/metrics` say the
checkpoint is short of a quorum of three without taking the service out of rotation, and
`voucher-audit` against the running service passes with a quorum of two."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account, bearer
from tests.e2e.pages import sign_in
from tests.e2e.test_observability import scrape, value
from tests.harness import Databases
from tests.witness_server import Served, served_witnesses
from voucher_app import create_app
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.domain.actors import Role
from voucher_app.services import demo
from voucher_app.services.demo import ENTRIES
from voucher_app.signing.cosignature import cosigned_by
from voucher_app.signing.note import COSIGNATURE, Verifier
from voucher_app.wiring import ConfigurationError

ABSENT = Verifier("univ.gd.example/witness", Ed25519PrivateKey.generate().public_key(), COSIGNATURE)


@pytest.fixture
def served(databases: Databases, verifiers: list[Verifier]) -> Iterator[list[Served]]:
    with served_witnesses(databases, verifiers) as witnesses:
        yield witnesses


def witnesses_file(folder: Path, served: list[Served], quorum: int) -> Path:
    entries = [(s.name, s.url, s.verifier.vkey) for s in served]
    entries.append((ABSENT.name, "http://127.0.0.1:9/", ABSENT.vkey))
    text = f"quorum = {quorum}\n" + "".join(
        f'\n[[witness]]\nname = "{name}"\nurl = "{url}"\nvkey = "{vkey}"\n'
        for name, url, vkey in entries
    )
    path = folder / "witnesses.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def app_config(served: list[Served], tmp_path: Path) -> dict[str, object]:
    return {"WITNESSES_FILE": str(witnesses_file(tmp_path, served, quorum=3))}


def test_cosigned_by_two_of_three_and_reported_short_of_a_quorum_of_three(
    app: Flask,
    runner: FlaskCliRunner,
    served: list[Served],
    live_server: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    result = runner.invoke(args=["ledger", "cosign"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{served[0].name}: cosigned: cosigned",
        f"{served[1].name}: cosigned: cosigned",
        f"{ABSENT.name}: refused (0): unreachable: <urlopen error [Errno 111] Connection refused>",
        f"checkpoint {ENTRIES}: 2 cosignature(s), quorum 3: SHORT OF THE QUORUM",
    ]
    client = app.test_client()
    note = client.get("/api/v1/ledger/checkpoint").get_data(as_text=True)
    found = cosigned_by(note, [s.verifier for s in served] + [ABSENT])
    assert [c.witness for c in found] == [served[0].name, served[1].name]

    ready = client.get("/readyz")
    assert ready.status_code == 200  # a witness down does not take the service down
    check = ready.get_json()["checks"]["witness_quorum"]
    assert check["ok"] is False and check["advisory"] is True and check["value"] == 2
    assert check["detail"].startswith(
        f"checkpoint {ENTRIES}: 2 of a quorum of 3 cosignatures, by {served[0].name}, "
        f"{served[1].name} (not: {ABSENT.name}: 0 unreachable"
    )
    samples = scrape(client, bearer(app, Role.ADMIN))
    assert value(samples, "voucher_ledger_checkpoint_cosignatures") == 2
    assert value(samples, "voucher_ledger_witness_quorum") == 3
    assert value(samples, "voucher_ledger_checkpoint_quorum_met") == 0
    assert value(samples, "voucher_ledger_checkpoint_cosigned", witness=ABSENT.name) == 0
    assert value(samples, "voucher_ledger_checkpoint_cosigned", witness=served[0].name) == 1

    flags = [
        "--vkey",
        runner.invoke(args=["keys", "list"]).output.split("ledger vkey: ")[1].split()[0],
    ]
    for vkey in [s.verifier.vkey for s in served] + [ABSENT.vkey]:
        flags += ["--witness", vkey]
    assert voucher_audit([live_server, *flags, "--quorum", "2"]) == 0
    assert (
        capsys.readouterr().out.rstrip().endswith(f"cosigned by {served[0].name}, {served[1].name}")
    )
    assert voucher_audit([live_server, *flags]) == 1  # the default quorum: every witness given
    assert "carries 2 valid cosignature(s) of the 3 demanded" in capsys.readouterr().out

    # The public ledger page and an SME's vouchers page say who cosigned, in Chinese.
    public = client.get("/ledger", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    sme = demo.SMES[0].uscc
    signed = app.test_client()
    sign_in(signed, account(app, Role.SME, sme=sme).username, PASSWORD)
    own = signed.get(f"/sme/{sme}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    for page in (public, own):
        assert f"最新检查点（共 {ENTRIES} 条记录）已由以下见证方联署：" in page
        assert f"<code>{served[0].name}</code>" in page
        assert f"<code>{served[1].name}</code>" in page
        assert ABSENT.name not in page.split('class="witnesses"')[1].split("</section>")[0]
        assert "已获 2 个联署，账本规则要求 3 个。" in page
    assert f"--witness {ABSENT.vkey}" in public and "--quorum 3" in public
    assert public.count("— ") >= 3  # the note shown is the cosigned one


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("quorum = 2\n", "the quorum is a whole number from 0 to the 0 witnesses"),
        ('[[witness]]\nname = "a"\nurl = "u"\n', "'vkey'"),
        ("quorum = ", "Invalid value"),
        (
            '[[witness]]\nname = "a"\nurl = "u"\nvkey = "a+00+AA=="\n',
            "not an Ed25519 key of signature type 0x04",
        ),
    ],
)
def test_a_witnesses_file_that_does_not_hold_together_stops_start_up(
    database_url: str, tmp_path: Path, text: str, wrong: str
) -> None:
    path = tmp_path / "witnesses.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="VOUCHER_WITNESSES_FILE") as refused:
        create_app("testing", {"DATABASE_URL": database_url, "WITNESSES_FILE": str(path)})
    assert wrong in str(refused.value)
