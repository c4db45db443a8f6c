"""Evidence files of a redemption (`services.evidence`): kept in the database under the SHA-256
of their bytes, named by that digest in the submission's event and its `redeem` entry's refs,
served back byte for byte to a reader of that redemption only; a file of the wrong type, too
large or empty is refused with its code and leaves nothing stored; the same file attached
twice is kept once. And what the SME's page shows of the requests to answer a redemption: each
links to it, and goes once the redemption moved on."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from tests.integration.ledger_state import snapshot
from tests.integration.test_redemptions import PROVIDER, SME, STAFF, World, build
from voucher_app.clock import FrozenClock
from voucher_app.domain.entries import EntryKind
from voucher_app.domain.errors import (
    EvidenceEmpty,
    EvidenceTooLarge,
    EvidenceTypeRefused,
    InvalidEvidence,
    UnknownEvidence,
)
from voucher_app.domain.evidence import EvidenceKind
from voucher_app.ledger.tables import JournalEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import EvidenceFile, Redemption, RedemptionEvent
from voucher_app.persistence.uow import read_only
from voucher_app.services import (
    evidence,
    notifications,
    redemption_record,
    redemptions,
    vouchers,
)
from voucher_app.services.evidence import Attachment, Evidence
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(40)
#: An HTML page named like a PDF: its name and the browser's type say PDF, its bytes do not.
DISGUISED = b"<html><script>alert(1)</script></html>"
LIMIT = 1024


@pytest.fixture
def world(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> World:
    return build(uow, voucher_keys, voucher_signer)


def submit(world: World, *files: Attachment, invoice: str = "INV-E1") -> RedemptionView:
    return redemptions.submit_redemption(
        world.uow,
        provider_id=world.provider.id,
        proof=VoucherProof(token=world.voucher.token),
        service=Service(
            invoice_number=invoice,
            invoiced_fen=400_000,
            delivered_on=date(2026, 3, 2),
            category="accounting_tax",
            description="年度汇算清缴",
        ),
        actor=PROVIDER,
        public_keys=world.keys,
        evidence=Evidence(files, max_bytes=LIMIT),
    )


@read_only
def stored(uow: UnitOfWork) -> tuple[int, int, int]:
    """How many evidence files, redemptions and redemption events there are."""
    session = uow.session
    return (
        session.scalar(select(func.count()).select_from(EvidenceFile)) or 0,
        session.scalar(select(func.count()).select_from(Redemption)) or 0,
        session.scalar(select(func.count()).select_from(RedemptionEvent)) or 0,
    )


@read_only
def redeem_refs(uow: UnitOfWork, redemption: RedemptionView) -> dict[str, str]:
    refs = uow.session.scalars(
        select(JournalEntry.refs).where(
            JournalEntry.kind == EntryKind.REDEEM.value,
            JournalEntry.refs["redemption"].as_string() == str(redemption.id),
        )
    ).one()
    return dict(refs)


def test_the_digest_in_the_event_and_the_ledger_is_the_digest_of_the_bytes_served(
    world: World,
) -> None:
    redemption = submit(
        world,
        Attachment(EvidenceKind.INVOICE, "发票 2026-03.pdf", PDF),
        Attachment(EvidenceKind.CONTRACT, "C:\\合同\\contract.png", PNG),
    )
    [event] = redemptions.redemption_history(world.uow, redemption.id)
    recorded = {file["kind"]: file for file in event["details"]["evidence"]}
    refs = redeem_refs(world.uow, redemption)
    for kind, content, media_type in (
        ("invoice", PDF, "application/pdf"),
        ("contract", PNG, "image/png"),
    ):
        digest = recorded[kind]["sha256"]
        assert refs[f"{kind}_file"] == digest
        served = evidence.evidence_file(world.uow, redemption.id, digest)
        assert hashlib.sha256(served.content).hexdigest() == digest
        assert served.content == content
        assert served.media_type == media_type == recorded[kind]["media_type"]
        assert served.filename == f"{kind}-{digest[:16]}.{media_type.split('/')[1]}"
    assert recorded["invoice"]["name"] == "发票 2026-03.pdf"
    assert recorded["contract"]["name"] == "contract.png"  # the name only, no path
    record = redemption_record.redemption_record(world.uow, redemption.id)
    assert [(f.kind, f.sha256) for f in record.evidence] == [
        ("invoice", recorded["invoice"]["sha256"]),
        ("contract", recorded["contract"]["sha256"]),
    ]


@pytest.mark.parametrize(
    ("content", "refusal", "code"),
    [
        (DISGUISED, EvidenceTypeRefused, "evidence_type_refused"),
        (b"%PDF-" + b"0" * LIMIT, EvidenceTooLarge, "evidence_too_large"),
        (b"", EvidenceEmpty, "evidence_empty"),
    ],
    ids=["wrong type", "too large", "empty"],
)
def test_a_refused_file_is_refused_with_its_code_and_leaves_nothing_stored(
    world: World, content: bytes, refusal: type[InvalidEvidence], code: str
) -> None:
    before, ledger_before = stored(world.uow), snapshot(world.uow)
    with pytest.raises(refusal) as refused:
        submit(
            world,
            Attachment(EvidenceKind.INVOICE, "invoice.pdf", PDF),  # a good file beside it
            Attachment(EvidenceKind.CONTRACT, "contract.pdf", content),
        )
    assert refused.value.code == code
    assert refused.value.details["field"] == "contract"
    assert stored(world.uow) == before  # neither file, nor a redemption, nor an event
    assert snapshot(world.uow) == ledger_before


def test_a_file_of_exactly_the_limit_is_kept(world: World) -> None:
    exactly = b"%PDF-" + b"0" * (LIMIT - 5)
    submit(world, Attachment(EvidenceKind.INVOICE, "invoice.pdf", exactly))
    assert stored(world.uow)[0] == 1


def test_two_files_of_one_kind_are_refused(world: World) -> None:
    with pytest.raises(InvalidEvidence) as refused:
        submit(
            world,
            Attachment(EvidenceKind.INVOICE, "a.pdf", PDF),
            Attachment(EvidenceKind.INVOICE, "b.jpg", JPEG),
        )
    assert refused.value.code == "invalid_evidence"
    assert stored(world.uow)[0] == 0


def test_the_same_file_attached_twice_is_stored_once(world: World) -> None:
    first = submit(world, Attachment(EvidenceKind.INVOICE, "scan.jpg", JPEG), invoice="INV-A")
    second = submit(
        world,
        Attachment(EvidenceKind.INVOICE, "scan again.jpg", JPEG),
        Attachment(EvidenceKind.CONTRACT, "the same scan.jpg", JPEG),
        invoice="INV-B",
    )
    digest = hashlib.sha256(JPEG).hexdigest()
    assert stored(world.uow)[0] == 1
    assert redeem_refs(world.uow, first)["invoice_file"] == digest
    assert redeem_refs(world.uow, second)["contract_file"] == digest
    for redemption in (first, second):
        assert evidence.evidence_file(world.uow, redemption.id, digest).content == JPEG


def test_a_file_is_served_only_through_a_redemption_that_attached_it(world: World) -> None:
    with_file = submit(world, Attachment(EvidenceKind.INVOICE, "invoice.pdf", PDF), invoice="A")
    without = submit(world, invoice="B")
    digest = hashlib.sha256(PDF).hexdigest()
    with pytest.raises(UnknownEvidence):
        evidence.evidence_file(world.uow, without.id, digest)
    with pytest.raises(UnknownEvidence):
        evidence.evidence_file(world.uow, with_file.id, "0" * 64)


def test_a_resubmission_records_its_new_evidence_in_its_event_and_entry(world: World) -> None:
    redemption = submit(world, Attachment(EvidenceKind.INVOICE, "wrong.pdf", PDF))
    redemptions.reject_redemption(world.uow, redemption.id, "发票金额不符", STAFF)
    corrected = redemptions.resubmit_redemption(
        world.uow,
        redemption.id,
        Service("INV-E1", 300_000, date(2026, 3, 2), category="accounting_tax", description="x"),
        PROVIDER,
        Evidence((Attachment(EvidenceKind.INVOICE, "right.png", PNG),), LIMIT),
    )
    history = redemptions.redemption_history(world.uow, corrected.id)
    assert history[-1]["details"]["evidence"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    record = redemption_record.redemption_record(world.uow, corrected.id)
    assert [moment.what for moment in record.timeline] == ["submitted", "rejected", "resubmitted"]
    assert record.timeline[1].reason == "发票金额不符"
    assert {file.name for file in record.evidence} == {"wrong.pdf", "right.png"}


def test_a_request_to_answer_links_to_the_redemption_and_goes_once_it_is_answered(
    world: World, clock: FrozenClock
) -> None:
    recipient = f"sme:{factory_uscc(world)}"
    first = submit(world, invoice="INV-R1")
    second = submit(world, invoice="INV-R2")
    assert redemptions.queue_confirmation_reminders(world.uow, timedelta(days=30)) == 2
    shown = notifications.reminders_for(world.uow, recipient)
    assert sorted(str(r.redemption_id) for r in shown) == sorted(
        2 * [str(first.id), str(second.id)]
    )
    redemptions.confirm_redemption(world.uow, first.id, SME)
    shown = notifications.reminders_for(world.uow, recipient)
    assert {r.redemption_id for r in shown} == {second.id}
    redemptions.dispute_redemption(world.uow, second.id, "没有收到服务", SME)
    assert notifications.reminders_for(world.uow, recipient) == []
    # Corrected and submitted again: a new request, for the new submission only.
    clock.advance(timedelta(minutes=5))
    redemptions.resubmit_redemption(
        world.uow,
        second.id,
        Service("INV-R2", 400_000, date(2026, 3, 2), category="accounting_tax", description="y"),
        PROVIDER,
    )
    assert [r.redemption_id for r in notifications.reminders_for(world.uow, recipient)] == [
        second.id
    ]


def factory_uscc(world: World) -> str:
    return vouchers.get_voucher(world.uow, world.voucher.id).sme_uscc
