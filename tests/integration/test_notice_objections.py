"""The public notice list (公示) and objections, on both databases.

Approval in a programme with a notice period publishes the claim on its center's list of the
day, masked, and its `approve` entry carries the published item's digest; the list cannot be
changed afterwards (the table refuses it, and `voucher-audit --notice` finds any list that
differs from what the log published). Anyone signed in objects while the notice runs; the claim
is then held out of every batch until every objection to it is resolved.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.integration.ledger_state import snapshot
from tests.integration.test_redemptions import SME, STAFF, World, build
from voucher_app.cli.audit import FolderSource
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.clock import FrozenClock
from voucher_app.domain import notice as published
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import InvalidInput, InvalidTransition, NotOnNotice
from voucher_app.ledger.audit import audit
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.tables import JournalEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import Complaint, Redemption
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import ledger, notice, redemptions, settlement, tracking
from voucher_app.services.redemptions import RedemptionView
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

FINANCE = Actor("finance-officer", Role.CENTER_FINANCE)
NEIGHBOUR = Actor("another-sme-clerk", Role.SME)  # anyone signed in, of no party to the claim
ISSUER = "440305"  # the voucher's center: the SME's home, Nanshan
MONDAY = date(2026, 3, 2)


@pytest.fixture
def on_notice(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> World:
    return build(uow, voucher_keys, voucher_signer, notice_working_days=5)


def approved(world: World, invoice: str = "INV-001", invoiced_fen: int = 400_000) -> RedemptionView:
    redemption = world.submit(invoice=invoice, invoiced_fen=invoiced_fen)
    redemptions.confirm_redemption(world.uow, redemption.id, SME)
    return redemptions.approve_redemption(world.uow, redemption.id, STAFF)


@read_only
def approve_entry_refs(uow: UnitOfWork, redemption: RedemptionView) -> dict[str, str]:
    entries = uow.session.scalars(select(JournalEntry).where(JournalEntry.kind == "approve")).all()
    [refs] = [e.refs for e in entries if e.refs["redemption"] == str(redemption.id)]
    return dict(refs)


def build_batch(world: World) -> int:
    """The total of the batch finance builds now, 0 when there is nothing to pay."""
    try:
        return settlement.build_batch(world.uow, world.programme, "440300", FINANCE).total_fen
    except InvalidInput:
        return 0


def test_approval_publishes_the_claim_masked_and_the_approve_entry_commits_to_it(
    on_notice: World, clock: FrozenClock
) -> None:
    world = on_notice
    claim = approved(world)
    listed = notice.notice_list(world.uow, ISSUER, MONDAY)
    item = {
        "redemption": str(claim.id),
        "center": ISSUER,
        "sme": "测" + published.HIDDEN,  # 测试企业 1: no place, no form: its first character
        "provider": "测试服务机构 1",  # in full: providers are public (the catalogue)
        "category": "accounting_tax",
        "subsidy_fen": 200_000,
        "approved_on": "2026-03-02",
        "notice_ends_on": "2026-03-09",
    }
    assert listed.document["items"] == [item]
    digest = published.item_digest(item)
    assert listed.document["digest"] == published.list_digest([digest]).hex()
    assert [(line.running, line.held) for line in listed.lines] == [(True, False)]
    assert listed.days == [MONDAY]
    refs = approve_entry_refs(world.uow, claim)
    assert refs["notice_list"] == f"{ISSUER}:2026-03-02"
    assert refs["notice_item"] == digest.hex()
    clock.advance(timedelta(days=8))  # Tuesday 10 March: the notice is over
    assert [line.running for line in notice.notice_list(world.uow, ISSUER, MONDAY).lines] == [False]
    assert notice.notice_list(world.uow, ISSUER).document["items"] == []  # today's list


def test_without_a_notice_period_nothing_is_published(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    world = build(uow, voucher_keys, voucher_signer)
    claim = approved(world)
    assert notice.notice_list(world.uow, ISSUER, MONDAY).document["items"] == []
    assert set(approve_entry_refs(world.uow, claim)) == {
        "programme",
        "voucher",
        "provider",
        "redemption",
    }


@transaction
def _change(uow: UnitOfWork, statement: str) -> None:
    uow.session.execute(text(statement))


def test_what_was_published_cannot_be_changed_or_deleted(on_notice: World) -> None:
    world = on_notice
    approved(world)
    for statement in ("UPDATE notice_items SET document = '{}'", "DELETE FROM notice_items"):
        with pytest.raises(DBAPIError, match="append-only"):
            _change(world.uow, statement)
    assert len(notice.notice_list(world.uow, ISSUER, MONDAY).document["items"]) == 1


def test_an_objection_holds_the_claim_out_of_every_batch_until_it_is_resolved(
    on_notice: World, clock: FrozenClock
) -> None:
    world = on_notice
    claim = approved(world)
    objection = tracking.object_to(
        world.uow, claim.id, "该企业与服务机构为同一实际控制人", NEIGHBOUR
    )
    assert (objection.kind, objection.status, objection.center) == ("objection", "open", ISSUER)
    assert [line.held for line in notice.notice_list(world.uow, ISSUER, MONDAY).lines] == [True]
    clock.advance(timedelta(days=8))  # the notice is over, the objection is not
    assert build_batch(world) == 0
    clock.advance(timedelta(days=30))
    assert build_batch(world) == 0
    tracking.resolve_complaint(world.uow, objection.id, "核查工商登记，二者无关联", STAFF)
    assert build_batch(world) == claim.subsidy_fen


def test_a_claim_with_two_objections_is_held_until_both_are_resolved(
    on_notice: World, clock: FrozenClock
) -> None:
    world = on_notice
    claim = approved(world)
    first = tracking.object_to(world.uow, claim.id, "发票金额明显高于市场价", NEIGHBOUR)
    second = tracking.object_to(world.uow, claim.id, "服务未实际提供", SME)
    clock.advance(timedelta(days=8))
    tracking.resolve_complaint(world.uow, first.id, "价格与备案一致", STAFF)
    assert build_batch(world) == 0
    tracking.resolve_complaint(world.uow, second.id, "企业确认服务已完成", STAFF)
    assert build_batch(world) == claim.subsidy_fen
    with pytest.raises(InvalidTransition):
        tracking.resolve_complaint(world.uow, second.id, "again", STAFF)


def test_resolving_a_service_complaint_does_not_release_a_held_claim(
    on_notice: World, clock: FrozenClock
) -> None:
    world = on_notice
    claim = approved(world)
    tracking.object_to(world.uow, claim.id, "服务未实际提供", NEIGHBOUR)
    complaint = tracking.file_complaint(world.uow, claim.id, "报告迟交", SME)
    assert complaint.kind == "service"
    tracking.resolve_complaint(world.uow, complaint.id, "已督促机构补交", STAFF)
    clock.advance(timedelta(days=8))
    assert build_batch(world) == 0


def test_objections_are_refused_outside_the_notice_and_leave_nothing(
    on_notice: World,
    clock: FrozenClock,
    uow: UnitOfWork,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    world = on_notice
    waiting = world.submit(invoice="INV-WAIT", invoiced_fen=100_000)  # not approved yet
    claim = approved(world)
    clock.advance(timedelta(days=7))  # Monday 9 March: the notice's last day, still open
    tracking.object_to(world.uow, claim.id, "最后一天提出异议", NEIGHBOUR)
    clock.advance(timedelta(days=1))  # Tuesday 10 March: over
    before = snapshot(world.uow), _complaints(world.uow)
    for target in (claim, waiting):
        with pytest.raises(NotOnNotice) as refused:
            tracking.object_to(world.uow, target.id, "太晚了", NEIGHBOUR)
        assert refused.value.code == "not_on_notice"
        assert refused.value.details == {}  # neither the claim's status nor its notice
    for blank in ("", "   ", "x" * (tracking.MAX_COMPLAINT + 1)):
        with pytest.raises(InvalidInput):
            tracking.object_to(world.uow, claim.id, blank, NEIGHBOUR)
    assert (snapshot(world.uow), _complaints(world.uow)) == before
    assert _held(world.uow) == [False, True]  # the waiting claim untouched; the objected one held


@read_only
def _held(uow: UnitOfWork) -> list[bool]:
    return list(uow.session.scalars(select(Redemption.held).order_by(Redemption.id)))


@read_only
def _complaints(uow: UnitOfWork) -> list[tuple[str, str]]:
    return [
        (c.kind, c.status) for c in uow.session.scalars(select(Complaint).order_by(Complaint.id))
    ]


def test_an_objection_to_a_claim_a_batch_took_is_refused(
    uow: UnitOfWork,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
    clock: FrozenClock,
) -> None:
    """A claim a batch took is past its notice (the day after its last), and refused as such."""
    world = build(uow, voucher_keys, voucher_signer, notice_working_days=1)
    claim = approved(world)
    clock.advance(timedelta(days=2))  # Wednesday: Tuesday was the notice
    assert build_batch(world) == claim.subsidy_fen
    with pytest.raises(NotOnNotice):
        tracking.object_to(world.uow, claim.id, "已付款的", NEIGHBOUR)


def exported(
    world: World, folder: Path, signer: CheckpointSigner, verifiers: list[Verifier]
) -> Path:
    """The ledger as it stands, under a new checkpoint, exported to `folder`."""
    ledger.sequence_log(world.uow)
    ledger.sign_checkpoint(world.uow, signer)
    ledger.export_ledger(world.uow, folder, [v.vkey for v in verifiers])
    return folder


def audit_with(
    world: World,
    folder: Path,
    lists: list[dict[str, object]],
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    export = folder / "export"
    if not export.exists():
        exported(world, export, signer, verifiers)
    else:
        ledger.sequence_log(world.uow)
        ledger.sign_checkpoint(world.uow, signer)
    files = []
    for number, document in enumerate(lists):
        path = folder / f"notice-{number}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        files += ["--notice", str(path)]
    code = voucher_audit([str(export), "--vkey", str(export / "ledger.vkey"), *files])
    return code, capsys.readouterr().out


def test_voucher_audit_finds_a_published_list_changed_afterwards(
    on_notice: World,
    clock: FrozenClock,
    tmp_path: Path,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = on_notice
    first = approved(world, "INV-A", 200_000)
    second = approved(world, "INV-B", 300_000)
    clock.advance(timedelta(days=1))
    third = approved(world, "INV-C", 100_000)  # Tuesday's list
    monday = notice.notice_list(world.uow, ISSUER, MONDAY).document
    tuesday = notice.notice_list(world.uow, ISSUER, date(2026, 3, 3)).document
    assert len(monday["items"]) == 2
    code, out = audit_with(world, tmp_path, [monday, tuesday], signer, verifiers, capsys)
    assert (code, out.startswith("OK"), "2 notice list(s) agree with it" in out) == (0, True, True)

    def audited(document: dict[str, object]) -> str:
        code, out = audit_with(world, tmp_path, [document], signer, verifiers, capsys)
        assert code == 1
        return out

    changed = json.loads(json.dumps(monday))
    changed["items"][0]["subsidy_fen"] += 1
    assert f"claim {changed['items'][0]['redemption']} is shown otherwise" in audited(changed)
    shortened = json.loads(json.dumps(monday))
    gone = shortened["items"].pop()
    shortened["digest"] = published.list_digest(
        published.item_digest(i) for i in shortened["items"]
    ).hex()
    assert f"claim {gone['redemption']} was published and is missing" in audited(shortened)
    backdated = json.loads(json.dumps(monday))
    moved = dict(tuesday["items"][0], approved_on="2026-03-02")
    backdated["items"].append(moved)
    assert f"claim {third.id} is listed, and no approval in the ledger" in audited(backdated)
    restated = dict(monday, digest="00" * 32)
    assert "the list's digest is not the digest of what the ledger holds" in audited(restated)
    assert {str(first.id), str(second.id)} == {item["redemption"] for item in monday["items"]}


def test_a_second_objection_by_the_same_person_answers_the_first(on_notice: World) -> None:
    world = on_notice
    claim = approved(world)
    first = tracking.object_to(world.uow, claim.id, "服务未实际提供", NEIGHBOUR)
    again = tracking.object_to(world.uow, claim.id, "再次提出", NEIGHBOUR)
    other = tracking.object_to(world.uow, claim.id, "价格虚高", SME)
    assert again == first and other.id != first.id
    assert _complaints(world.uow) == [("objection", "open"), ("objection", "open")]


def test_voucher_audit_reads_a_list_of_a_day_not_over_as_possibly_incomplete(
    on_notice: World,
    clock: FrozenClock,
    tmp_path: Path,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A copy saved in the morning lacks the afternoon's approvals: while the log has not gone
    past that day nothing is missing yet; once it has, the copy is short and said to be."""
    world = on_notice
    approved(world, "INV-A", 200_000)
    morning = notice.notice_list(world.uow, ISSUER, MONDAY).document
    later = approved(world, "INV-B", 300_000)
    code, out = audit_with(world, tmp_path / "monday", [morning], signer, verifiers, capsys)
    assert (code, "1 notice list(s) agree with it" in out) == (0, True), out
    clock.advance(timedelta(days=1))
    approved(world, "INV-C", 100_000)  # Tuesday: the log has gone past Monday
    code, out = audit_with(world, tmp_path / "tuesday", [morning], signer, verifiers, capsys)
    assert code == 1
    assert f"claim {later.id} was published and is missing from the list" in out


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("[]", "an object with a list of items"),
        ('{"center": "440305", "day": "2026-03-02", "items": [1]}', "each item"),
        ('{"items": []}', "names its center and its day"),
        ("not json", "cannot read the notice list"),
    ],
)
def test_voucher_audit_refuses_what_is_not_a_notice_list_as_unreadable(
    on_notice: World,
    tmp_path: Path,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    capsys: pytest.CaptureFixture[str],
    content: str,
    why: str,
) -> None:
    world = on_notice
    approved(world)
    export = exported(world, tmp_path / "export", signer, verifiers)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(content, encoding="utf-8")
    code = voucher_audit(
        [str(export), "--vkey", str(export / "ledger.vkey"), "--notice", str(wrong)]
    )
    assert code == 2
    assert why in capsys.readouterr().err


def test_voucher_audit_names_a_claim_listed_twice(
    on_notice: World,
    tmp_path: Path,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = on_notice
    claim = approved(world)
    document = notice.notice_list(world.uow, ISSUER, MONDAY).document
    twice = {k: v for k, v in document.items() if k != "digest"}
    twice["items"] = document["items"] * 2
    code, out = audit_with(world, tmp_path, [twice], signer, verifiers, capsys)
    assert code == 1 and f"claim {claim.id} is listed twice" in out


def test_voucher_audit_finds_an_approval_that_names_a_list_of_another_day(
    on_notice: World,
    clock: FrozenClock,
    tmp_path: Path,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
) -> None:
    """An entry slipped into the log on Tuesday claiming Monday's list (here: an approval's time
    moved a day on in the export) is named, besides the broken leaf it also is."""
    world = on_notice
    approved(world)
    monday = notice.notice_list(world.uow, ISSUER, MONDAY).document
    clock.advance(timedelta(days=1))
    approved(world, "INV-TUE")
    export = exported(world, tmp_path / "export", signer, verifiers)
    lines = [json.loads(line) for line in (export / "entries.jsonl").read_text().splitlines()]
    [moved] = [
        line
        for line in lines
        if line["entry"]["refs"].get("notice_list", "").endswith("2026-03-02")
    ]
    moved["entry"]["created_at"] = moved["entry"]["created_at"].replace("2026-03-02", "2026-03-03")
    source = FolderSource(export)
    source_lines = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    (export / "entries.jsonl").write_text(source_lines, encoding="utf-8")
    report = audit(source.entries(), source.notes(), verifiers, notice_lists=[monday])
    reasons = [str(failure) for failure in report.failures]
    late = f"index {moved['index']}: an approval made on 2026-03-03 names the notice list"
    assert any(reason.startswith(late) for reason in reasons), reasons


@pytest.mark.parametrize("round_", range(3))
def test_an_objection_at_midnight_and_the_next_days_batch_never_both_win(
    on_notice: World, database: Database, round_: int
) -> None:
    """The objection is filed a moment before the notice ends, the batch built a moment after,
    at once: either the claim is held and no batch has it, or a batch has it and the objection
    was refused; never an open objection on a claim a batch will pay."""
    world = on_notice
    claim = approved(world)  # Monday 2 March: the notice ends on Monday 9 March
    last_moment = datetime(2026, 3, 9, 15, 59, 59, 900_000, tzinfo=UTC)  # 23:59:59.9 in China
    objecting = unit_of_work(database, FrozenClock(last_moment))
    batching = unit_of_work(database, FrozenClock(last_moment + timedelta(seconds=1)))
    start = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def objection() -> None:
        start.wait()
        try:
            outcome["objection"] = tracking.object_to(objecting, claim.id, "虚假服务", NEIGHBOUR)
        except NotOnNotice as refused:
            outcome["objection"] = refused

    def batch() -> None:
        start.wait()
        outcome["batch"] = build_batch(
            World(batching, world.keys, world.provider, world.voucher, world.programme)
        )

    threads = [threading.Thread(target=objection), threading.Thread(target=batch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    objected = not isinstance(outcome["objection"], NotOnNotice)
    assert outcome["batch"] == (0 if objected else claim.subsidy_fen), outcome
    assert _held(world.uow) == [objected]
