"""Payment instructions to the bank as ISO 20022 pain.001.001.09 credit transfers.

A center pays approved redemptions by handing its bank one file per batch: one debtor (the
programme's funding account), one payment per provider, each carrying an end-to-end id that
comes back on the bank statement (`camt053`) so the center can tell what was paid. Banks
reject a whole file for one over-long field, so every limit of the schema is checked here,
before the file exists, and a value that does not fit is refused rather than cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.money import format_amount, require_fen
from voucher_app.settlement.camt053 import CURRENCY, NOT_PROVIDED, XmlNode, read_message

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"

# Lengths of the schema's text types.
MAX35 = 35
MAX34 = 34  # account identifiers
MAX140 = 140

_BIC = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# Characters XML 1.0 cannot carry, and line breaks, which no field here may hold.
_UNWRITABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Party:
    """A debtor or creditor with its account. Chinese accounts are not IBANs: `<Othr><Id>`."""

    name: str
    account: str
    bank_name: str
    bic: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    end_to_end_id: str
    amount_fen: int
    creditor: Party
    remittance: str


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    message_id: str
    created_at: datetime  # timezone-aware
    initiating_party: str
    payment_info_id: str
    requested_on: date
    debtor: Party
    payments: tuple[Payment, ...]


def build_pain001(transfer: CreditTransfer) -> bytes:
    """The transfer as a pain.001.001.09 document: UTF-8, with declaration, pretty printed."""
    _check(transfer)
    count = str(len(transfer.payments))
    total = format_amount(sum(payment.amount_fen for payment in transfer.payments))
    document = etree.Element(_tag("Document"), nsmap={None: NAMESPACE})
    initiation = _sub(document, "CstmrCdtTrfInitn")

    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", transfer.message_id)
    _sub(header, "CreDtTm", transfer.created_at.isoformat())
    _sub(header, "NbOfTxs", count)
    _sub(header, "CtrlSum", total)
    _sub(_sub(header, "InitgPty"), "Nm", transfer.initiating_party)

    info = _sub(initiation, "PmtInf")
    _sub(info, "PmtInfId", transfer.payment_info_id)
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "BtchBookg", "true")
    _sub(info, "NbOfTxs", count)
    _sub(info, "CtrlSum", total)
    _sub(_sub(info, "ReqdExctnDt"), "Dt", transfer.requested_on.isoformat())
    _add_name(info, "Dbtr", transfer.debtor)
    _add_account(info, "DbtrAcct", transfer.debtor)
    _add_agent(info, "DbtrAgt", transfer.debtor)
    _sub(info, "ChrgBr", "SLEV")
    for payment in transfer.payments:
        tx = _sub(info, "CdtTrfTxInf")
        ids = _sub(tx, "PmtId")
        _sub(ids, "InstrId", payment.end_to_end_id)
        _sub(ids, "EndToEndId", payment.end_to_end_id)
        _sub(_sub(tx, "Amt"), "InstdAmt", format_amount(payment.amount_fen)).set("Ccy", CURRENCY)
        _add_agent(tx, "CdtrAgt", payment.creditor)
        _add_name(tx, "Cdtr", payment.creditor)
        _add_account(tx, "CdtrAcct", payment.creditor)
        _sub(_sub(tx, "RmtInf"), "Ustrd", payment.remittance)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def parse_pain001(content: bytes) -> CreditTransfer:
    """Read back a file `build_pain001` wrote, checking its counts and control sums.

    Raises `InvalidStatement` naming the element for anything it cannot read.
    """
    message = read_message(content, namespace=NAMESPACE, message="CstmrCdtTrfInitn")
    header = message.require("GrpHdr")
    infos = message.children("PmtInf")
    if len(infos) != 1:
        raise message.error(f"holds {len(infos)} PmtInf: expected one payment batch")
    info = infos[0]
    payments = tuple(
        Payment(
            end_to_end_id=tx.text("PmtId", "EndToEndId"),
            amount_fen=_positive(tx.require("Amt", "InstdAmt")),
            creditor=_read_party(tx, "Cdtr"),
            remittance=tx.text("RmtInf", "Ustrd"),
        )
        for tx in info.children("CdtTrfTxInf")
    )
    for level in (header, info):
        _check_totals(level, payments)
    created = header.require("CreDtTm")
    created_at = created.datetime()
    if created_at.utcoffset() is None:
        raise created.error("has no UTC offset")
    return CreditTransfer(
        message_id=header.text("MsgId"),
        created_at=created_at,
        initiating_party=header.text("InitgPty", "Nm"),
        payment_info_id=info.text("PmtInfId"),
        requested_on=info.require("ReqdExctnDt").date_choice(),
        debtor=_read_party(info, "Dbtr"),
        payments=payments,
    )


def _check(transfer: CreditTransfer) -> None:
    _check_text(transfer.message_id, "message_id", MAX35)
    _check_text(transfer.payment_info_id, "payment_info_id", MAX35)
    _check_text(transfer.initiating_party, "initiating_party", MAX140)
    if transfer.created_at.utcoffset() is None:
        raise InvalidInput("created_at must carry a timezone", field="created_at")
    _check_party(transfer.debtor, "debtor")
    if not transfer.payments:
        raise InvalidInput("a credit transfer needs at least one payment", field="payments")
    seen: set[str] = set()
    for number, payment in enumerate(transfer.payments):
        field = f"payments[{number}]"
        _check_text(payment.end_to_end_id, f"{field}.end_to_end_id", MAX35)
        if payment.end_to_end_id in seen:
            raise InvalidInput(
                f"end-to-end id {payment.end_to_end_id!r} appears twice",
                field=f"{field}.end_to_end_id",
            )
        seen.add(payment.end_to_end_id)
        require_fen(payment.amount_fen, field=f"{field}.amount_fen")
        _check_party(payment.creditor, f"{field}.creditor")
        _check_text(payment.remittance, f"{field}.remittance", MAX140)


def _check_party(party: Party, field: str) -> None:
    _check_text(party.name, f"{field}.name", MAX140)
    _check_text(party.account, f"{field}.account", MAX34)
    _check_text(party.bank_name, f"{field}.bank_name", MAX140)
    if party.bic is not None and not _BIC.fullmatch(party.bic):
        raise InvalidInput(f"{party.bic!r} is not a BIC", field=f"{field}.bic")


def _check_text(value: str, field: str, limit: int) -> None:
    if not value.strip() or len(value) > limit:
        raise InvalidInput(
            f"{field} must be 1 to {limit} characters, not {len(value)}",
            field=field,
            limit=limit,
        )
    if _UNWRITABLE.search(value):
        raise InvalidInput(f"{field} holds a control character", field=field)


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _tag(name))
    element.text = text
    return element


def _add_name(parent: etree._Element, name: str, party: Party) -> None:
    _sub(_sub(parent, name), "Nm", party.name)


def _add_account(parent: etree._Element, name: str, party: Party) -> None:
    _sub(_sub(_sub(_sub(parent, name), "Id"), "Othr"), "Id", party.account)


def _add_agent(parent: etree._Element, name: str, party: Party) -> None:
    institution = _sub(_sub(parent, name), "FinInstnId")
    # Schema order: BICFI, ClrSysMmbId, LEI, Nm, PstlAdr, Othr.
    if party.bic is not None:
        _sub(institution, "BICFI", party.bic)
    _sub(institution, "Nm", party.bank_name)
    if party.bic is None:
        _sub(_sub(institution, "Othr"), "Id", NOT_PROVIDED)


def _read_party(node: XmlNode, role: str) -> Party:
    """The party `role` ("Dbtr" or "Cdtr") with its account (`…Acct`) and agent (`…Agt`)."""
    return Party(
        name=node.text(role, "Nm"),
        account=node.text(f"{role}Acct", "Id", "Othr", "Id"),
        bank_name=node.text(f"{role}Agt", "FinInstnId", "Nm"),
        bic=node.optional_text(f"{role}Agt", "FinInstnId", "BICFI"),
    )


def _positive(amount: XmlNode) -> int:
    fen = amount.amount()
    if fen == 0:
        raise amount.error("must be greater than zero")
    return fen


def _check_totals(level: XmlNode, payments: tuple[Payment, ...]) -> None:
    count = level.require("NbOfTxs")
    if count.element.text != str(len(payments)):
        raise count.error(f"says {count.element.text!r}, the file holds {len(payments)}")
    control = level.require("CtrlSum")
    total = sum(payment.amount_fen for payment in payments)
    if control.yuan() != total:
        raise control.error(
            f"says {control.element.text!r}, the payments add up to {format_amount(total)}"
        )
