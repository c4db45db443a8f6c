"""Bank statements as banks write them, for tests: one list of bank lines, written as a
camt.053.001.08 (valid against the official schema) or as a Chinese bank's CSV export (GB18030,
title and account lines above the header, 借/贷 or two amount columns, thousands separators,
dates written 2026年12月07日, the reference inside a remark, a totals row at the end)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from tests.iso20022 import shared_reference
from voucher_app.domain.money import format_amount

DAY = date(2026, 3, 3)


@dataclass(frozen=True, slots=True)
class BankLine:
    """One booked line of the bank's account."""

    reference: str | None  # a payment's end-to-end id, or a batch's reference
    amount_fen: int
    debit: bool = True
    booked_on: date = DAY
    bank_reference: str | None = None  # AcctSvcrRef in camt.053, 流水号 in the CSV
    returned: bool = False  # marked as a return (RtrInf, RRTN)
    counterparty: str | None = None
    #: A batch booked as one entry: the payments it names, without their amounts.
    parts: tuple[str, ...] = ()
    #: Write the reference only inside a free-text remark, as Chinese banks do.
    in_remark: bool = False
    #: The batch's `NbOfTxs` when it is not the number of `parts`.
    batch_size: int | None = None


def camt053(account: str, lines: Sequence[BankLine], *, statement_id: str = "S1") -> bytes:
    """The lines as a camt.053.001.08 statement of `account`; checked against the official
    schema when the shared reference material is there."""
    entries = "".join(_entry(line) for line in lines)
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{escape(statement_id)}</MsgId><CreDtTm>2026-03-05T18:00:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{escape(statement_id)}</Id>
      <CreDtTm>2026-03-05T18:00:00+08:00</CreDtTm>
      <Acct><Id><Othr><Id>{account}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">100000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-05</Dt></Dt></Bal>
      {entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>""".encode()
    schema = _camt_schema()
    if schema is not None:
        schema.assertValid(etree.fromstring(content))
    return content


def _entry(line: BankLine) -> str:
    amount = format_amount(line.amount_fen)
    direction = "DBIT" if line.debit else "CRDT"
    subfamily = "RRTN" if line.returned else ("DMCT" if line.debit else "RCDT")
    bank_ref = f"<AcctSvcrRef>{line.bank_reference}</AcctSvcrRef>" if line.bank_reference else ""
    details = _batch_details(line) if line.parts else _details(line, amount)
    remark = (
        f"<AddtlNtryInf>服务券兑付 {line.reference}</AddtlNtryInf>"
        if line.in_remark and line.reference and not line.parts
        else ""
    )
    return f"""
      <Ntry>
        <Amt Ccy="CNY">{amount}</Amt>
        <CdtDbtInd>{direction}</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{line.booked_on.isoformat()}</Dt></BookgDt>
        {bank_ref}
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>{subfamily}</SubFmlyCd></Fmly></Domn></BkTxCd>
        {details}
        {remark}
      </Ntry>"""


def _details(line: BankLine, amount: str) -> str:
    if line.in_remark:
        return ""
    refs = f"<Refs><EndToEndId>{line.reference}</EndToEndId></Refs>" if line.reference else ""
    party = ""
    if line.counterparty:
        role = "CdtrAcct" if line.debit else "DbtrAcct"
        account = f"<Id><Othr><Id>{line.counterparty}</Id></Othr></Id>"
        party = f"<RltdPties><{role}>{account}</{role}></RltdPties>"
    returned = "<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>" if line.returned else ""
    return (
        f'<NtryDtls><TxDtls>{refs}<Amt Ccy="CNY">{amount}</Amt>{party}{returned}</TxDtls>'
        "</NtryDtls>"
    )


def _batch_details(line: BankLine) -> str:
    count = len(line.parts) if line.batch_size is None else line.batch_size
    batch = (
        f"<Btch><PmtInfId>{line.reference}</PmtInfId><NbOfTxs>{count}</NbOfTxs></Btch>"
        if line.reference
        else ""
    )
    transactions = "".join(
        f"<TxDtls><Refs><EndToEndId>{part}</EndToEndId></Refs></TxDtls>" for part in line.parts
    )
    return f"<NtryDtls>{batch}{transactions}</NtryDtls>"


@functools.cache
def _camt_schema() -> etree.XMLSchema | None:
    path = shared_reference("reference", "iso20022", "xsd", "camt.053.001.08.xsd")
    return None if path is None else etree.XMLSchema(etree.parse(str(path)))


#: The column mapping of `bank_csv` files, as a center saves it (two amount columns).
TWO_COLUMNS: dict[str, Any] = {
    "booked_on": "交易日期",
    "debit_amount": "支出金额",
    "credit_amount": "收入金额",
    "remarks": ["附言"],
    "bank_reference": "交易流水号",
    "counterparty_account": "对方账号",
}
#: The same with one amount column and a 借/贷 column.
DIRECTION_COLUMN: dict[str, Any] = {
    "booked_on": "交易日期",
    "amount": "交易金额",
    "direction": "借贷标志",
    "remarks": ["附言"],
    "bank_reference": "交易流水号",
    "counterparty_account": "对方账号",
}


def bank_csv(
    account: str,
    lines: Sequence[BankLine],
    *,
    layout: str = "two_columns",
    encoding: str = "gb18030",
    bank_references: bool = True,
) -> bytes:
    """The lines as a Chinese online-banking CSV export: a title, the account and the period
    above the header, a totals row below. Batch-booked lines name their batch in the remark."""
    two = layout == "two_columns"
    header = (
        ["交易日期", "支出金额", "收入金额"] if two else ["交易日期", "借贷标志", "交易金额"]
    ) + ["对方户名", "对方账号", "附言", "交易流水号"]
    rows = [
        ["中国工商银行 账户交易明细"],
        [f"账号：{account}", "", "币种：人民币"],
        ["起止日期：2026年03月01日 至 2026年03月31日"],
        header,
    ]
    paid = received = 0
    for line in lines:
        amount = _grouped(line.amount_fen)
        day = f"{line.booked_on.year}年{line.booked_on.month:02d}月{line.booked_on.day:02d}日"
        if two:
            amounts = [amount, ""] if line.debit else ["", amount]
        else:
            amounts = ["借" if line.debit else "贷", amount]
        remark = f"服务券兑付 {line.reference}" if line.reference else "账户管理费"
        if line.returned:
            remark = f"退汇 {remark}"
        reference = (line.bank_reference or "") if bank_references else ""
        rows.append([day, *amounts, "服务机构", line.counterparty or "", remark, reference])
        paid += line.amount_fen if line.debit else 0
        received += 0 if line.debit else line.amount_fen
    rows.append(["合计", _grouped(paid), _grouped(received)] if two else ["合计", "", ""])
    text = "\r\n".join(",".join(_quoted(cell) for cell in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def _grouped(fen: int) -> str:
    whole, frac = divmod(fen, 100)
    return f"{whole:,}.{frac:02d}"


def _quoted(cell: str) -> str:
    return f'"{cell}"' if "," in cell else cell
