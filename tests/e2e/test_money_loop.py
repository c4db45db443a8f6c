"""The whole money loop as the people who run it see it: vouchers claimed and redeemed,
redemptions confirmed and approved, a settlement batch built and exported by command, the bank
statement imported by command, the spend report equal to the journal's replay — and at the end an
outsider's `voucher-audit` of the exported ledger."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from lxml import etree

from tests import factories
from tests.integration import spend_replay
from tests.integration.test_settlement import FUNDING, camt053, entry
from tests.iso20022 import assert_valid_pain001
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.services import redemptions, reports, vouchers
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.wiring import current

PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}"
PROVIDER = Actor("provider-desk", Role.PROVIDER)
SME = Actor("sme-clerk", Role.SME)
STAFF = Actor("center-reviewer", Role.CENTER_STAFF)


def invoke(runner: FlaskCliRunner, *args: str) -> Result:
    result = runner.invoke(args=list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_redemptions_are_paid_reconciled_and_the_published_ledger_verifies(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with app.app_context():
        parts = current()
        uow = parts.uow()
        factories.guangdong(uow)
        programme = factories.voucher_programme(uow, vouchers=4)
        provider = factories.provider(uow, 1)
        keys = dict(parts.voucher_keys())
        today = local_date(datetime.now(UTC))
        for serial in (1, 2):
            sme = factories.sme(uow, serial)
            voucher = vouchers.claim_voucher(
                uow,
                programme_id=programme.id,
                sme_uscc=sme.uscc,
                actor=STAFF,
                signer=parts.voucher_signer(),
            )
            redemption = redemptions.submit_redemption(
                uow,
                provider_id=provider.id,
                proof=VoucherProof(token=voucher.token),
                service=Service(
                    f"INV-{serial}", 300_000, today, category="legal", description="合同审查"
                ),
                actor=PROVIDER,
                public_keys=keys,
            )
            redemptions.confirm_redemption(uow, redemption.id, SME)
            redemptions.approve_redemption(uow, redemption.id, STAFF)

    pid = str(programme.id)
    invoke(runner, "settlement", "funding-account", "--programme", pid, "--bank", FUNDING.bank_name,
           "--name", FUNDING.account_name, "--number", FUNDING.account_number)  # fmt: skip
    built = invoke(runner, "settlement", "build", "--programme", pid, "--center", "440305")
    assert "1 payments, ¥3,000.00" in built.output
    batch_id = built.output.split("(", 1)[1].split(")", 1)[0]
    # Whoever built a batch does not give it its second approval.
    refused = runner.invoke(args=["settlement", "approve", batch_id])
    assert (refused.exit_code, "duties_not_separated") == (1, refused.output.split(":")[1].strip())
    invoke(runner, "settlement", "export", batch_id, "--out", str(tmp_path / "pay"))
    files = sorted(path.name.split(".", 1)[1] for path in (tmp_path / "pay").iterdir())
    assert files == ["bulk-transfer.csv", "csv", "pain.001.xml"]
    (pain,) = (tmp_path / "pay").glob("*.pain.001.xml")
    assert_valid_pain001(pain.read_bytes())
    reference = etree.fromstring(pain.read_bytes()).findtext(f".//{PAIN}EndToEndId")
    assert reference

    fees = invoke(runner, "statements", "account", "--center", "440305", "--bank",
                  "中国银行深圳南山支行", "--name", "南山区中小企业服务中心", "--number",
                  "7440 0000 0000 0099", "--cnaps", "104584000003")  # fmt: skip
    assert "center 440305 holds account 7440000000000099" in fees.output
    bank = tmp_path / "statement.xml"
    bank.write_bytes(camt053("S-MARCH", [entry(reference, "3000.00")]))
    imported = invoke(runner, "statements", "import", str(bank))
    assert "1 paid" in imported.output
    again = invoke(runner, "statements", "import", str(bank))
    assert "already imported" in again.output
    report = invoke(runner, "statements", "report", "--center", "440000")
    assert f"{reference}  paid" in report.output
    written = tmp_path / "nanshan.csv"
    invoke(runner, "reports", "spend", "--center", "440305", "--out", str(written))
    nanshan = next(csv.DictReader(written.read_text(encoding="utf-8-sig").splitlines()))
    assert (nanshan["section"], nanshan["paid_cny"]) == ("total", "3000.00")
    with app.app_context():
        uow = current().uow()
        for center in ("440000", "440305"):
            spend_replay.assert_matches_replay(uow, reports.spend_report(uow, center))

    for args in (["ledger", "sequence"], ["ledger", "checkpoint"]):
        invoke(runner, *args)
    invoke(runner, "ledger", "export", str(tmp_path / "ledger"))
    code = voucher_audit(
        [str(tmp_path / "ledger"), "--vkey", str(tmp_path / "ledger" / "ledger.vkey")]
    )
    assert code == 0, capsys.readouterr().out
