"""Bank statements (ISO 20022 camt.053.001.08) read into lines a center can reconcile.

A center pays providers by a pain.001 file and learns what the bank actually booked from the
statement: which end-to-end ids left the account, for how much, and which came back. Reading
is all or nothing — a file with one bad element raises `InvalidStatement` naming that element,
never a partial statement — because a silently dropped line would show up later as a payment
that "never happened".

The module also holds the hardened ISO 20022 reading (`read_message`, `XmlNode`) that
`pain001.parse_pain001` shares: no DTDs, no entity expansion, no network, and every problem
reported by the element's path in the message.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from voucher_app.domain.bank import normalize_account_number
from voucher_app.domain.errors import InvalidStatement
from voucher_app.domain.money import MAX_FEN, format_yuan
from voucher_app.domain.payments import find_reference, is_batch_reference

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
CURRENCY = "CNY"
NOT_PROVIDED = "NOTPROVIDED"  # what ISO 20022 files write for an id the sender did not have

#: Bank transaction sub-family codes (BkTxCd/Domn/Fmly/SubFmlyCd) that book a payment coming
#: back: a return, an ACH return.
RETURN_SUBFAMILIES = frozenset({"RRTN", "ARET"})

#: Elements that repeat in the schema keep their index in a path even when alone, so a path
#: reads the same whether an entry has one transaction or several.
_ALWAYS_INDEXED = frozenset({"Stmt", "Ntry", "TxDtls", "PmtInf", "CdtTrfTxInf"})

_YUAN = re.compile(r"(?P<whole>[0-9]{1,16})(?:\.(?P<frac>[0-9]{1,2}))?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class StatementLine:
    where: str  # the element path ("Stmt[1]/Ntry[3]/NtryDtls/TxDtls[1]") or "line 7"
    end_to_end_id: str | None  # the payment's reference: its EndToEndId, or found in a remark
    amount_fen: int
    debit: bool  # money left the account: CdtDbtInd, never the sign of a number
    booked_on: date
    returned: bool  # the bank says it is a return (RtrInf, a return code, RvslInd)
    return_reason: str | None
    bank_reference: str | None  # the bank's own reference of the line (AcctSvcrRef)
    counterparty_account: str | None = None
    #: A batch booked as one entry: the batch it names (PmtInfId), and the end-to-end ids it
    #: lists without amounts; `end_to_end_id` is then None.
    batch_reference: str | None = None
    parts: tuple[str, ...] = ()
    #: How many payments the bank says the batch entry holds (`Btch/NbOfTxs`), when it says.
    batch_size: int | None = None

    @property
    def batch_booked(self) -> bool:
        return self.batch_reference is not None or bool(self.parts)


@dataclass(frozen=True, slots=True)
class Statement:
    statement_id: str
    account: str
    currency: str
    lines: tuple[StatementLine, ...]
    source: str = "camt053"  # which kind of file: its bank references are comparable


@dataclass(frozen=True, slots=True)
class XmlNode:
    """An element of an ISO 20022 message that names itself by its path when it is wrong.

    The path is worked out only when it is asked for (a line's position, an error): reading a
    statement of ten thousand lines walks tens of thousands of elements."""

    element: etree._Element
    parent: XmlNode | None = None
    name: str = ""  # the element's name as a step of the path; "" for the message element
    number: int = 1  # its place among its parent's children of that name
    namespace: str = ""  # as a tag's prefix ("{urn:…}"): every element of a message has it

    @property
    def path(self) -> str:
        """Where the element is ("Stmt[1]/Ntry[3]/NtryDtls/TxDtls[1]"); "" for the message."""
        if self.parent is None:
            return ""
        step = self.name
        siblings = self.parent.element.iterchildren(self.namespace + self.name)
        if self.name in _ALWAYS_INDEXED or sum(1 for _ in siblings) > 1:
            step = f"{self.name}[{self.number}]"
        return self.parent._join(step)

    @property
    def where(self) -> str:
        return self.path or etree.QName(self.element).localname

    def error(self, problem: str) -> InvalidStatement:
        return InvalidStatement(f"{self.where}: {problem}", where=self.where)

    def children(self, name: str) -> list[XmlNode]:
        tag = self.namespace + name
        return [
            XmlNode(element, self, name, number, self.namespace)
            for number, element in enumerate(self.element.iterchildren(tag), start=1)
        ]

    def find(self, *names: str) -> XmlNode | None:
        """The first element down the path `names`, or None if one step is absent."""
        node = self
        for name in names:
            # iterchildren, not find: lxml's find compiles a path expression on every call.
            element = next(node.element.iterchildren(self.namespace + name), None)
            if element is None:
                return None
            node = XmlNode(element, node, name, 1, self.namespace)
        return node

    def require(self, *names: str) -> XmlNode:
        node = self
        for name in names:
            found = node.find(name)
            if found is None:
                where = node._join(name)
                raise InvalidStatement(f"{where}: missing", where=where)
            node = found
        return node

    def text(self, *names: str) -> str:
        node = self.require(*names)
        value = (node.element.text or "").strip()
        if not value:
            raise node.error("is empty")
        return value

    def optional_text(self, *names: str) -> str | None:
        element = self.element
        for name in names:  # the elements alone: a missing text names no path
            child = next(element.iterchildren(self.namespace + name), None)
            if child is None:
                return None
            element = child
        return (element.text or "").strip() or None

    def yuan(self) -> int:
        """The element's text, a decimal amount in yuan, as fen: exact, at most two decimals."""
        text = (self.element.text or "").strip()
        match = _YUAN.fullmatch(text)
        if match is None:
            raise self.error(f"{text!r} is not an amount in yuan with at most two decimals")
        fen = int(match["whole"]) * 100 + int((match["frac"] or "0").ljust(2, "0"))
        if fen > MAX_FEN:
            raise self.error(f"{text!r} is beyond any amount the ledger holds")
        return fen

    def amount(self) -> int:
        """An amount element with a `Ccy` attribute, which must be CNY, as fen."""
        currency = self.element.get("Ccy")
        if currency != CURRENCY:
            raise self.error(f"currency {currency!r}: only {CURRENCY} is accepted")
        return self.yuan()

    def date_choice(self) -> date:
        """A DateAndDateTime2Choice (`Dt` or `DtTm`): the date, as written in its own offset."""
        if (day := self.find("Dt")) is not None:
            text = (day.element.text or "").strip()
            if _ISO_DATE.fullmatch(text):
                try:
                    return date.fromisoformat(text)
                except ValueError:
                    pass
            raise day.error(f"{text!r} is not a date (YYYY-MM-DD)")
        moment = self.require("DtTm")
        return moment.datetime().date()

    def datetime(self) -> datetime:
        text = (self.element.text or "").strip()
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise self.error(f"{text!r} is not an ISO date and time") from None

    def _join(self, step: str) -> str:
        path = self.path
        return f"{path}/{step}" if path else step


def read_message(content: bytes, *, namespace: str, message: str) -> XmlNode:
    """The message element (e.g. `BkToCstmrStmt`) of an ISO 20022 `Document` in `namespace`.

    Refuses any DTD: these messages never need one, and refusing it is what keeps entity
    expansion ("billion laughs") and external entities out, beyond the parser settings.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        where = f"line {exc.lineno}"
        raise InvalidStatement(f"{where}: not well-formed XML: {exc.msg}", where=where) from None
    if root.getroottree().docinfo.doctype:
        raise InvalidStatement("DOCTYPE: a DTD is not allowed in this file", where="DOCTYPE")
    expected = f"{{{namespace}}}Document"
    if root.tag != expected:
        raise InvalidStatement(
            f"Document: the root element is {root.tag!s}, expected {expected}", where="Document"
        )
    body = root.find(f"{{{namespace}}}{message}")
    if body is None:
        where = f"Document/{message}"
        raise InvalidStatement(f"{where}: missing", where=where)
    return XmlNode(body, namespace=f"{{{namespace}}}")


def parse_camt053(content: bytes) -> Statement:
    """The booked lines of a camt.053.001.08 statement of one CNY account, in file order."""
    message = read_message(content, namespace=NAMESPACE, message="BkToCstmrStmt")
    statements = message.children("Stmt")
    if len(statements) != 1:
        raise message.error(f"holds {len(statements)} statements: send one statement per file")
    statement = statements[0]
    account = statement.require("Acct")
    if (currency := account.find("Ccy")) is not None and currency.element.text != CURRENCY:
        raise currency.error(f"currency {currency.element.text!r}: only {CURRENCY} is accepted")
    for balance in statement.children("Bal"):  # a statement without entries still says its own
        amount = balance.require("Amt")
        if amount.element.get("Ccy") != CURRENCY:
            raise amount.error(
                f"currency {amount.element.get('Ccy')!r}: only {CURRENCY} is accepted"
            )
    return Statement(
        statement_id=statement.text("Id"),
        account=_account_id(account) or account.text("Id", "Othr", "Id"),
        currency=CURRENCY,
        lines=tuple(line for entry in statement.children("Ntry") for line in _entry_lines(entry)),
    )


def _entry_lines(entry: XmlNode) -> list[StatementLine]:
    """One line per transaction of a booked entry; one for an entry without details, and one
    for a batch booked as a whole (its transactions name payments but carry no amounts)."""
    status = entry.require("Sts")
    code = status.optional_text("Cd") or status.optional_text("Prtry")
    if code is None:
        raise status.error("missing Cd")
    if code != "BOOK":
        return []
    debit = _is_debit(entry.require("CdtDbtInd"))
    batch = entry.find("NtryDtls", "Btch")
    whole = StatementLine(
        where=entry.path,
        end_to_end_id=None,
        amount_fen=entry.require("Amt").amount(),
        debit=debit,
        booked_on=entry.require("BookgDt").date_choice(),
        returned=_subfamily(entry) in RETURN_SUBFAMILIES or _reversal(entry),
        return_reason="reversal" if _reversal(entry) else None,
        bank_reference=entry.optional_text("AcctSvcrRef"),
    )
    transactions = [tx for part in entry.children("NtryDtls") for tx in part.children("TxDtls")]
    if not transactions:
        remark = entry.optional_text("AddtlNtryInf") or ""
        if batch is None:
            return [_referenced(whole, None, remark)]
        line = _referenced(whole, batch.optional_text("PmtInfId"), remark)
        return [dataclasses.replace(line, batch_size=_batch_size(batch))]
    without_amount = [tx for tx in transactions if _tx_amount(tx) is None]
    if without_amount and (len(transactions) > 1 or batch is not None):
        if len(without_amount) != len(transactions):
            raise without_amount[0].error(
                "missing Amt: each transaction of a batch entry needs its amount, or none does"
            )
        return [_batch_line(whole, batch, transactions)]
    lines = [
        _transaction_line(tx, whole, number, alone=len(transactions) == 1)
        for number, tx in enumerate(transactions, start=1)
    ]
    if sum(map(_signed, lines)) != _signed(whole):
        raise entry.error(
            f"its transactions add up to {format_yuan(sum(map(_signed, lines)))}, "
            f"its Amt and CdtDbtInd to {format_yuan(_signed(whole))}"
        )
    return lines


def _batch_line(
    entry: StatementLine, batch: XmlNode | None, transactions: list[XmlNode]
) -> StatementLine:
    """A whole batch booked as one entry, naming its payments without their amounts."""
    parts = tuple(reference for tx in transactions if (reference := _end_to_end_id(tx)) is not None)
    return dataclasses.replace(
        entry,
        batch_reference=None if batch is None else batch.optional_text("PmtInfId"),
        parts=parts,
        counterparty_account=None,
        batch_size=_batch_size(batch),
    )


def _batch_size(batch: XmlNode | None) -> int | None:
    """`Btch/NbOfTxs`: a count of payments, when the bank gives it."""
    count = None if batch is None else batch.find("NbOfTxs")
    if count is None:
        return None
    text = (count.element.text or "").strip()
    if not text.isascii() or not text.isdigit():
        raise count.error(f"{text!r} is not a number of transactions")
    return int(text)


def _transaction_line(
    tx: XmlNode, entry: StatementLine, number: int, *, alone: bool
) -> StatementLine:
    """A TxDtls as a line; what it leaves out comes from its entry."""
    amount = _tx_amount(tx)
    indicator = tx.find("CdtDbtInd")
    debit = entry.debit if indicator is None else _is_debit(indicator)
    return_info = tx.find("RtrInf")
    subfamily = _subfamily(tx)
    bank_reference = tx.optional_text("Refs", "AcctSvcrRef")
    if bank_reference is None and entry.bank_reference is not None:
        bank_reference = entry.bank_reference if alone else f"{entry.bank_reference}#{number}"
    line = dataclasses.replace(
        entry,
        where=tx.path,
        amount_fen=entry.amount_fen if amount is None else amount.amount(),
        debit=debit,
        returned=return_info is not None
        or (entry.returned if subfamily is None else subfamily in RETURN_SUBFAMILIES),
        return_reason=entry.return_reason
        if return_info is None
        else return_info.optional_text("Rsn", "Cd") or return_info.optional_text("Rsn", "Prtry"),
        bank_reference=bank_reference,
        counterparty_account=_counterparty(tx, debit=debit),
    )
    if (reference := _end_to_end_id(tx)) is not None:
        return _classified(line, reference)
    remarks = (tx.optional_text("RmtInf", "Ustrd"), tx.optional_text("AddtlTxInf"))
    return _referenced(line, None, " ".join(text for text in remarks if text))


def _referenced(line: StatementLine, batch_id: str | None, remark: str) -> StatementLine:
    """The line with the payment or batch its remark names, when it names exactly one."""
    if batch_id is not None:
        return dataclasses.replace(line, batch_reference=batch_id)
    reference = find_reference(remark)
    return line if reference is None else _classified(line, reference)


def _classified(line: StatementLine, reference: str) -> StatementLine:
    """A reference names one payment, or (without an item number) a whole batch."""
    if is_batch_reference(reference):
        return dataclasses.replace(line, batch_reference=reference)
    return dataclasses.replace(line, end_to_end_id=reference)


def _end_to_end_id(tx: XmlNode) -> str | None:
    reference = tx.optional_text("Refs", "EndToEndId")
    return None if reference == NOT_PROVIDED else reference


def _tx_amount(tx: XmlNode) -> XmlNode | None:
    return tx.find("Amt") or tx.find("AmtDtls", "TxAmt", "Amt")


def _account_id(account: XmlNode) -> str | None:
    """An account's IBAN or other id, without the spaces some banks print in it."""
    text = account.optional_text("Id", "IBAN") or account.optional_text("Id", "Othr", "Id")
    return None if text is None else normalize_account_number(text)


def _counterparty(tx: XmlNode, *, debit: bool) -> str | None:
    """The other side's account: the creditor of a payment out, the debtor of money in."""
    party = tx.find("RltdPties", "CdtrAcct" if debit else "DbtrAcct")
    return None if party is None else _account_id(party)


def _reversal(entry: XmlNode) -> bool:
    return (entry.optional_text("RvslInd") or "").lower() == "true"


def _signed(line: StatementLine) -> int:
    return -line.amount_fen if line.debit else line.amount_fen


def _is_debit(indicator: XmlNode) -> bool:
    value = (indicator.element.text or "").strip()
    if value not in {"DBIT", "CRDT"}:
        raise indicator.error(f"{value!r} is neither DBIT nor CRDT")
    return value == "DBIT"


def _subfamily(node: XmlNode) -> str | None:
    return node.optional_text("BkTxCd", "Domn", "Fmly", "SubFmlyCd")
