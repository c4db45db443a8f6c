"""Payment instructions to the bank as ISO 20022 pain.001.001.09 credit transfers.

A center pays approved redemptions by handing its bank one file per batch: one debtor (the
programme's funding account), one payment per provider, each carrying an end-to-end id that
comes back on the bank statement (`camt053`) so the center can tell what was paid. Banks
reject a whole file for one over-long field, so every limit of the schema is checked here,
before the file exists, and a value that does not fit is refused rather than cut. Bank details
go through `check_bank_details`, the rules registration applies, so what was accepted when it was
typed is what exports; and every file is validated against the official schema before it is
handed out, so a bug here shows as an error, not as a file the bank refuses.

Chinese banks route CNY payments by the CNAPS code (联行号) of the branch holding the account,
written as the agent's clearing-system member id.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import cache
from importlib import resources

from lxml import etree

from voucher_app.domain.bank import UNWRITABLE, BankDetails, check_bank_details
from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.money import format_amount, require_fen
from voucher_app.settlement.camt053 import CURRENCY, NOT_PROVIDED, XmlNode, read_message

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"

#: The official schema (ISO 20022 Standards Editor build of 2019-02-14), shipped with the package.
SCHEMA_FILE = "xsd/pain.001.001.09.xsd"

# Lengths of the schema's text types.
MAX35 = 35
MAX140 = 140

#: ChrgBr SLEV ("as the service level says") needs a service level. NURG, non-urgent: a batch
#: of payments that CNAPS routes through its bulk system (BEPS, 小额批量支付系统) rather than the
#: real-time gross settlement system for urgent large payments (HVPS, 大额实时支付系统).
SERVICE_LEVEL = "NURG"
#: ISO 20022's external code for China's clearing system; the member id is the CNAPS bank code.
CLEARING_SYSTEM = "CNAPS"

#: China Standard Time, the offset CreDtTm is written in. Asia/Shanghai has been exactly this
#: since 1991, but the zone's history holds offsets xs:dateTime cannot write (+08:05:43 before
#: 1901), so the file's offset does not depend on the date.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class Party:
    """A debtor or creditor with its account. Chinese accounts are not IBANs: `<Othr><Id>`.

    `name` is the account name (户名), `bank_name` the branch holding the account, `cnaps` that
    branch's CNAPS bank code.
    """

    name: str
    account: str
    bank_name: str
    bic: str | None = None
    cnaps: str | None = None

    @classmethod
    def of(cls, details: BankDetails) -> Party:
        """The party whose account `details` describe."""
        return cls(
            name=details.account_name,
            account=details.account_number,
            bank_name=details.bank_name,
            bic=details.bic,
            cnaps=details.cnaps,
        )


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
    """The transfer as a pain.001.001.09 document: UTF-8, with declaration, pretty printed.

    Bank details are written normalised (`check_bank_details`), the timestamp in China time to
    the second. Raises `InvalidInput` naming the field for anything a bank would refuse.
    """
    transfer = _checked(transfer)
    count = str(len(transfer.payments))
    total = format_amount(sum(payment.amount_fen for payment in transfer.payments))
    document = etree.Element(_tag("Document"), nsmap={None: NAMESPACE})
    initiation = _sub(document, "CstmrCdtTrfInitn")

    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", transfer.message_id)
    _sub(header, "CreDtTm", _china_time(transfer.created_at))
    _sub(header, "NbOfTxs", count)
    _sub(header, "CtrlSum", total)
    _sub(_sub(header, "InitgPty"), "Nm", transfer.initiating_party)

    info = _sub(initiation, "PmtInf")
    _sub(info, "PmtInfId", transfer.payment_info_id)
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "BtchBookg", "true")
    _sub(info, "NbOfTxs", count)
    _sub(info, "CtrlSum", total)
    _sub(_sub(_sub(info, "PmtTpInf"), "SvcLvl"), "Cd", SERVICE_LEVEL)
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
    content = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    _require_valid(content)
    return content


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


def _checked(transfer: CreditTransfer) -> CreditTransfer:
    """The transfer with its parties' bank details normalised, once every field is checked."""
    _check_text(transfer.message_id, "message_id", MAX35)
    _check_text(transfer.payment_info_id, "payment_info_id", MAX35)
    _check_text(transfer.initiating_party, "initiating_party", MAX140)
    if transfer.created_at.utcoffset() is None:
        raise InvalidInput("created_at must carry a timezone", field="created_at")
    debtor = _checked_party(transfer.debtor, "debtor")
    if not transfer.payments:
        raise InvalidInput("a credit transfer needs at least one payment", field="payments")
    seen: set[str] = set()
    payments = []
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
        creditor = _checked_party(payment.creditor, f"{field}.creditor")
        _check_text(payment.remittance, f"{field}.remittance", MAX140)
        payments.append(replace(payment, creditor=creditor))
    return replace(transfer, debtor=debtor, payments=tuple(payments))


def _checked_party(party: Party, field: str) -> Party:
    """The party with its bank details as registration would store them; whether a CNAPS code
    is required is the caller's policy, not the file's."""
    details = check_bank_details(
        BankDetails(
            bank_name=party.bank_name,
            account_name=party.name,
            account_number=party.account,
            cnaps=party.cnaps,
            bic=party.bic,
        ),
        require_cnaps=False,
        names={
            "bank_name": f"{field}.bank_name",
            "account_name": f"{field}.name",
            "account_number": f"{field}.account",
            "cnaps": f"{field}.cnaps",
            "bic": f"{field}.bic",
        },
    )
    return Party.of(details)


def _check_text(value: str, field: str, limit: int) -> None:
    if not value.strip() or len(value) > limit:
        raise InvalidInput(
            f"{field} must be 1 to {limit} characters, not {len(value)}",
            field=field,
            limit=limit,
        )
    if UNWRITABLE.search(value):
        raise InvalidInput(f"{field} holds a control character", field=field)


def _china_time(moment: datetime) -> str:
    return moment.astimezone(CHINA_STANDARD_TIME).replace(microsecond=0).isoformat()


@cache
def _schema() -> etree.XMLSchema:
    source = resources.files(__package__).joinpath(SCHEMA_FILE).read_bytes()
    return etree.XMLSchema(etree.fromstring(source, _parser()))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


# One validator is shared, and lxml keeps its error log on it: one validation at a time, so the
# error reported is this file's.
_validating = threading.Lock()


def _require_valid(content: bytes) -> None:
    """Refuse to hand out a file the schema (and so the bank) would reject: that is a bug here."""
    document = etree.fromstring(content, _parser())
    schema = _schema()
    with _validating:
        if schema.validate(document):
            return
        error = schema.error_log[0]
        raise InvalidInput(
            f"the payment file breaks the pain.001.001.09 schema: line {error.line}: "
            f"{error.message}",
            field="pain001",
        )


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
    """The branch holding the account: its BIC and CNAPS code as far as known, and its name."""
    institution = _sub(_sub(parent, name), "FinInstnId")
    # Schema order: BICFI, ClrSysMmbId, LEI, Nm, PstlAdr, Othr.
    if party.bic is not None:
        _sub(institution, "BICFI", party.bic)
    if party.cnaps is not None:
        member = _sub(institution, "ClrSysMmbId")
        _sub(_sub(member, "ClrSysId"), "Cd", CLEARING_SYSTEM)
        _sub(member, "MmbId", party.cnaps)
    _sub(institution, "Nm", party.bank_name)
    if party.bic is None and party.cnaps is None:
        _sub(_sub(institution, "Othr"), "Id", NOT_PROVIDED)


def _read_party(node: XmlNode, role: str) -> Party:
    """The party `role` ("Dbtr" or "Cdtr") with its account (`…Acct`) and agent (`…Agt`)."""
    return Party(
        name=node.text(role, "Nm"),
        account=node.text(f"{role}Acct", "Id", "Othr", "Id"),
        bank_name=node.text(f"{role}Agt", "FinInstnId", "Nm"),
        bic=node.optional_text(f"{role}Agt", "FinInstnId", "BICFI"),
        cnaps=_read_cnaps(node, role),
    )


def _read_cnaps(node: XmlNode, role: str) -> str | None:
    member = node.find(f"{role}Agt", "FinInstnId", "ClrSysMmbId")
    if member is None:
        return None
    system = member.text("ClrSysId", "Cd")
    if system != CLEARING_SYSTEM:
        raise member.error(f"clearing system {system!r}: only {CLEARING_SYSTEM} is read")
    return member.text("MmbId")


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
