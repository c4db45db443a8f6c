"""Bank statements in camt.053.001.08 (`voucher_app.settlement.camt053`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from voucher_app.domain.errors import InvalidStatement
from voucher_app.settlement.camt053 import NAMESPACE, Statement, StatementLine, parse_camt053

SAMPLE = Path(__file__).parent.parent / "samples" / "camt053_batch.xml"
NS = {"c": NAMESPACE}


def line(
    where: str,
    end_to_end_id: str | None,
    amount_fen: int,
    booked_on: date,
    bank_reference: str,
    *,
    debit: bool = True,
    return_reason: str | None = None,
    counterparty: str | None = None,
) -> StatementLine:
    return StatementLine(
        where=where,
        end_to_end_id=end_to_end_id,
        amount_fen=amount_fen,
        debit=debit,
        booked_on=booked_on,
        returned=return_reason is not None,
        return_reason=return_reason,
        bank_reference=bank_reference,
        counterparty_account=counterparty,
    )


def test_reads_every_booked_line_of_the_sample() -> None:
    statement = parse_camt053(SAMPLE.read_bytes())
    assert statement == Statement(
        statement_id="3602000109200123456-20260305",
        account="3602000109200123456",
        currency="CNY",
        lines=(
            line(
                "Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]",
                "B7Q2-0001",
                123_450,  # no TxDtls/Amt: the entry's, as it has one transaction
                date(2026, 3, 3),
                "ICBC20260303000117",
                counterparty="44050158000100002231",  # RltdPties/CdtrAcct
            ),
            line(
                "Stmt[1]/Ntry[2]/NtryDtls/TxDtls[1]",
                "B7Q2-0002",
                199_800,  # booked, not the 2000.00 instructed (AmtDtls/InstdAmt)
                date(2026, 3, 3),
                "ICBC20260303000118",
            ),
            line(
                "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[1]",
                "B7Q2-0003",
                46_750,
                date(2026, 3, 4),
                "ICBC20260304000042#1",  # the entry's reference, one per transaction
            ),
            line(
                "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[2]",
                "B7Q2-0004",
                88_000,  # from AmtDtls/TxAmt/Amt
                date(2026, 3, 4),
                "ICBC20260304000042#2",
            ),
            line(
                "Stmt[1]/Ntry[4]/NtryDtls/TxDtls[1]",
                "B7Q2-0003",
                46_750,
                date(2026, 3, 5),  # from BookgDt/DtTm
                "ICBC20260305000009",
                debit=False,
                return_reason="AC04",
            ),
            # Ntry[5] is pending (PDNG): not a line.
            line(
                "Stmt[1]/Ntry[6]/NtryDtls/TxDtls[1]",
                None,  # NOTPROVIDED
                1_500,
                date(2026, 3, 5),
                "ICBC20260305000077",
            ),
        ),
    )


def edited(change: Callable[[etree._Element], None]) -> bytes:
    """The sample after `change` edited its tree."""
    root = etree.fromstring(SAMPLE.read_bytes())
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def element(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, NS)
    assert found is not None, path
    return found


def without(path: str) -> Callable[[etree._Element], None]:
    """An edit that removes the element at `path`."""

    def remove(root: etree._Element) -> None:
        found = element(root, path)
        parent = found.getparent()
        assert parent is not None
        parent.remove(found)

    return remove


def entry(number: int) -> str:
    return f"c:BkToCstmrStmt/c:Stmt/c:Ntry[{number}]"


def refused(content: bytes) -> InvalidStatement:
    with pytest.raises(InvalidStatement) as caught:
        parse_camt053(content)
    error = caught.value
    assert error.code == "invalid_statement"
    assert error.message.startswith(f"{error.details['where']}: ")
    return error


def test_an_amount_with_three_decimals_is_refused_by_its_path() -> None:
    def three_decimals(root: etree._Element) -> None:
        element(root, f"{entry(2)}/c:Amt").text = "12.345"

    error = refused(edited(three_decimals))
    assert error.details["where"] == "Stmt[1]/Ntry[2]/Amt"
    assert error.message == (
        "Stmt[1]/Ntry[2]/Amt: '12.345' is not an amount in yuan with at most two decimals"
    )


@pytest.mark.parametrize("text", ["-12.00", "1,234.50", "1e3", "", "12."])
def test_other_malformed_amounts_are_refused(text: str) -> None:
    def bad(root: etree._Element) -> None:
        element(root, f"{entry(3)}/c:NtryDtls/c:TxDtls[1]/c:Amt").text = text

    assert refused(edited(bad)).details["where"] == "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[1]/Amt"


def test_a_missing_credit_debit_indicator_is_refused() -> None:
    error = refused(edited(without(f"{entry(4)}/c:CdtDbtInd")))
    assert error.details["where"] == "Stmt[1]/Ntry[4]/CdtDbtInd"
    assert error.message == "Stmt[1]/Ntry[4]/CdtDbtInd: missing"


@pytest.mark.parametrize(
    ("path", "where"),
    [
        pytest.param(f"{entry(1)}/c:Amt", "Stmt[1]/Ntry[1]/Amt", id="entry"),
        pytest.param(
            f"{entry(2)}/c:NtryDtls/c:TxDtls/c:Amt",
            "Stmt[1]/Ntry[2]/NtryDtls/TxDtls[1]/Amt",
            id="transaction",
        ),
    ],
)
def test_a_currency_other_than_cny_is_refused(path: str, where: str) -> None:
    def dollars(root: etree._Element) -> None:
        element(root, path).set("Ccy", "USD")

    error = refused(edited(dollars))
    assert error.details["where"] == where
    assert "'USD'" in error.message


def test_an_account_in_another_currency_is_refused() -> None:
    def dollars(root: etree._Element) -> None:
        element(root, "c:BkToCstmrStmt/c:Stmt/c:Acct/c:Ccy").text = "USD"

    assert refused(edited(dollars)).details["where"] == "Stmt[1]/Acct/Ccy"


def test_a_missing_booking_date_or_amount_is_refused() -> None:
    booking_date = edited(without(f"{entry(6)}/c:BookgDt"))
    assert refused(booking_date).details["where"] == "Stmt[1]/Ntry[6]/BookgDt"
    amount = edited(without(f"{entry(1)}/c:Amt"))
    assert refused(amount).details["where"] == "Stmt[1]/Ntry[1]/Amt"


def test_an_unknown_indicator_or_date_is_refused() -> None:
    def sideways(root: etree._Element) -> None:
        element(root, f"{entry(1)}/c:CdtDbtInd").text = "DEBIT"

    def no_such_day(root: etree._Element) -> None:
        element(root, f"{entry(1)}/c:BookgDt/c:Dt").text = "2026-02-30"

    assert refused(edited(sideways)).details["where"] == "Stmt[1]/Ntry[1]/CdtDbtInd"
    assert refused(edited(no_such_day)).details["where"] == "Stmt[1]/Ntry[1]/BookgDt/Dt"


def test_a_batch_whose_transactions_do_not_add_up_is_refused() -> None:
    def short(root: etree._Element) -> None:
        element(root, f"{entry(3)}/c:NtryDtls/c:TxDtls[1]/c:Amt").text = "467.00"

    error = refused(edited(short))
    assert error.details["where"] == "Stmt[1]/Ntry[3]"
    assert "-¥1,347.00" in error.message
    assert "-¥1,347.50" in error.message


def test_a_batch_where_some_transactions_have_amounts_and_others_not_is_refused() -> None:
    content = edited(without(f"{entry(3)}/c:NtryDtls/c:TxDtls[2]/c:AmtDtls"))
    assert refused(content).details["where"] == "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[2]"


def test_a_batch_booked_as_one_entry_is_one_line_naming_its_payments() -> None:
    def booked_whole(root: etree._Element) -> None:
        without(f"{entry(3)}/c:NtryDtls/c:TxDtls[2]/c:AmtDtls")(root)
        without(f"{entry(3)}/c:NtryDtls/c:TxDtls[1]/c:Amt")(root)

    lines = parse_camt053(edited(booked_whole)).lines
    assert [(line.where, line.amount_fen, line.parts) for line in lines if line.parts] == [
        ("Stmt[1]/Ntry[3]", 134_750, ("B7Q2-0003", "B7Q2-0004"))
    ]
    assert lines[2].end_to_end_id is None
    assert lines[2].batch_booked
    assert lines[2].batch_size == 2  # Btch/NbOfTxs


def test_a_batch_count_that_is_not_a_number_is_refused_by_its_path() -> None:
    def counted_in_words(root: etree._Element) -> None:
        without(f"{entry(3)}/c:NtryDtls/c:TxDtls[2]/c:AmtDtls")(root)
        without(f"{entry(3)}/c:NtryDtls/c:TxDtls[1]/c:Amt")(root)
        element(root, f"{entry(3)}/c:NtryDtls/c:Btch/c:NbOfTxs").text = "two"

    error = refused(edited(counted_in_words))
    assert error.details["where"] == "Stmt[1]/Ntry[3]/NtryDtls/Btch/NbOfTxs"
    assert "'two' is not a number of transactions" in error.message


def test_a_payment_reference_is_found_in_a_remark_when_no_end_to_end_id_is_given() -> None:
    def remark_only(root: etree._Element) -> None:
        tx = element(root, f"{entry(2)}/c:NtryDtls/c:TxDtls")
        refs = element(tx, "c:Refs")
        element(refs, "c:EndToEndId").text = "NOTPROVIDED"
        info = etree.SubElement(tx, f"{{{NAMESPACE}}}AddtlTxInf")
        info.text = "服务券兑付B7K2M9QXA-0002款"

    assert parse_camt053(edited(remark_only)).lines[1].end_to_end_id == "B7K2M9QXA-0002"


def test_a_reversal_indicator_marks_a_return_and_the_indicator_gives_the_direction() -> None:
    def reversed_payment(root: etree._Element) -> None:
        amount = element(root, f"{entry(1)}/c:CdtDbtInd")
        amount.text = "CRDT"
        indicator = etree.Element(f"{{{NAMESPACE}}}RvslInd")
        indicator.text = "true"
        amount.addnext(indicator)

    first = parse_camt053(edited(reversed_payment)).lines[0]
    assert (first.debit, first.returned, first.return_reason) == (False, True, "reversal")


def test_a_pending_entry_is_not_read_at_all() -> None:
    def broken_but_pending(root: etree._Element) -> None:
        element(root, f"{entry(5)}/c:Amt").text = "not an amount"

    assert len(parse_camt053(edited(broken_but_pending)).lines) == 6


def test_truncated_xml_is_refused_by_its_line() -> None:
    content = SAMPLE.read_bytes()
    cut = content[: content.index(b"<Ntry>", 3000)] + b"<Ntry><Amt Ccy="
    error = refused(cut)
    last_line = cut.count(b"\n") + 1
    assert error.details["where"] == f"line {last_line}"
    assert error.message.startswith(f"line {last_line}: not well-formed XML")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param("交易日期,金额\n2026-03-03,1234.50\n".encode(), id="csv"),
    ],
)
def test_what_is_not_xml_is_refused_by_line(content: bytes) -> None:
    assert refused(content).details["where"] == "line 1"


def test_a_wrong_namespace_is_refused() -> None:
    content = SAMPLE.read_bytes().replace(b"camt.053.001.08", b"camt.053.001.02")
    error = refused(content)
    assert error.details["where"] == "Document"
    assert "camt.053.001.02" in error.message


def test_a_wrong_root_is_refused() -> None:
    content = (
        SAMPLE.read_bytes()
        .replace(b"<Document ", b"<Statement ")
        .replace(b"</Document>", b"</Statement>")
    )
    assert refused(content).details["where"] == "Document"


def test_a_statement_must_hold_exactly_one_statement() -> None:
    def duplicate(root: etree._Element) -> None:
        message = element(root, "c:BkToCstmrStmt")
        message.append(etree.fromstring(etree.tostring(element(message, "c:Stmt"))))

    assert refused(edited(duplicate)).details["where"] == "BkToCstmrStmt"


ENTITY_EXPANSION = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY a "0123456789012345678901234567890123456789">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt><Stmt><Id>&g;</Id></Stmt></BkToCstmrStmt>
</Document>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt><Stmt><Id>&secret;</Id></Stmt></BkToCstmrStmt>
</Document>
"""


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(ENTITY_EXPANSION, id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, id="external-entity"),
    ],
)
def test_a_dtd_is_refused_without_expanding_anything(content: bytes) -> None:
    error = refused(content)
    # Refused for its DTD, or earlier by libxml2's own amplification limit.
    assert error.details["where"] == "DOCTYPE" or error.details["where"].startswith("line ")
    assert "0123456789" not in error.message
