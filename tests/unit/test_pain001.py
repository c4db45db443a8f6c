"""Credit transfer files (`voucher_app.settlement.pain001`), read back with plain lxml."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from lxml import etree

from voucher_app.domain.errors import InvalidAmount, InvalidInput, InvalidStatement
from voucher_app.settlement.pain001 import (
    NAMESPACE,
    CreditTransfer,
    Party,
    Payment,
    build_pain001,
    parse_pain001,
)

NS = {"p": NAMESPACE}
CHINA = timezone(timedelta(hours=8))

FUNDING = Party(
    name="广东省中小企业发展促进中心服务券专户",
    account="3602000109200123456",
    bank_name="中国工商银行广州第一支行",
    bic="ICBKCNBJGDG",
)


def provider(name: str, account: str, bank: str, bic: str | None = None) -> Party:
    return Party(name=name, account=account, bank_name=bank, bic=bic)


TRANSFER = CreditTransfer(
    message_id="B7Q2",
    created_at=datetime(2026, 3, 2, 16, 30, 5, tzinfo=CHINA),
    initiating_party="广东省中小企业发展促进中心",
    payment_info_id="B7Q2",
    requested_on=date(2026, 3, 3),
    debtor=FUNDING,
    payments=(
        Payment(
            end_to_end_id="B7Q2-0001",
            amount_fen=123_450,
            creditor=provider(
                "广州市云帆信息科技有限公司", "44050158000100002231", "中国建设银行广州天河支行"
            ),
            remittance="中小企业服务券兑付 B7Q2-0001",
        ),
        Payment(
            end_to_end_id="B7Q2-0002",
            amount_fen=200_000,
            creditor=provider(
                "佛山市顺德区德信财务咨询有限公司",
                "80020000012345678",
                "广东顺德农村商业银行大良支行",
                "RCCSCNBS",
            ),
            remittance="中小企业服务券兑付 B7Q2-0002",
        ),
        Payment(
            end_to_end_id="B7Q2-0003",
            amount_fen=46_750,
            creditor=provider(
                "东莞市松湖检测认证有限公司", "2010021509200088776", "东莞银行松山湖支行"
            ),
            remittance="中小企业服务券兑付 B7Q2-0003",
        ),
    ),
)


def built() -> etree._Element:
    return etree.fromstring(build_pain001(TRANSFER))


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.iterfind(path, NS)]


def found(parent: etree._Element, path: str) -> etree._Element:
    element = parent.find(path, NS)
    assert element is not None, path
    return element


def local_names(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


def test_the_document_is_utf8_xml_in_the_pain_001_001_09_namespace() -> None:
    content = build_pain001(TRANSFER)
    assert content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    root = etree.fromstring(content)
    assert root.tag == f"{{{NAMESPACE}}}Document"
    assert root.nsmap == {None: NAMESPACE}
    assert local_names(root) == ["CstmrCdtTrfInitn"]
    assert "广州市云帆信息科技有限公司".encode() in content  # written as UTF-8, not escaped


def test_headers_follow_the_schema_order_and_carry_counts_and_control_sums() -> None:
    root = built()
    header = found(root, "p:CstmrCdtTrfInitn/p:GrpHdr")
    assert local_names(header) == ["MsgId", "CreDtTm", "NbOfTxs", "CtrlSum", "InitgPty"]
    assert texts(header, "p:CreDtTm") == ["2026-03-02T16:30:05+08:00"]
    info = found(root, "p:CstmrCdtTrfInitn/p:PmtInf")
    assert local_names(info) == [
        "PmtInfId",
        "PmtMtd",
        "BtchBookg",
        "NbOfTxs",
        "CtrlSum",
        "ReqdExctnDt",
        "Dbtr",
        "DbtrAcct",
        "DbtrAgt",
        "ChrgBr",
        *["CdtTrfTxInf"] * 3,
    ]
    assert texts(info, "p:PmtMtd") == ["TRF"]
    assert texts(info, "p:BtchBookg") == ["true"]
    assert texts(info, "p:ReqdExctnDt/p:Dt") == ["2026-03-03"]
    assert texts(info, "p:ChrgBr") == ["SLEV"]
    for level in (header, info):
        assert texts(level, "p:NbOfTxs") == ["3"]
        assert texts(level, "p:CtrlSum") == ["3702.00"]  # 1234.50 + 2000.00 + 467.50


def test_each_transaction_follows_the_schema_order() -> None:
    transactions = built().findall(".//p:CdtTrfTxInf", NS)
    assert [local_names(tx) for tx in transactions] == [
        ["PmtId", "Amt", "CdtrAgt", "Cdtr", "CdtrAcct", "RmtInf"]
    ] * 3
    first = transactions[0]
    assert local_names(found(first, "p:PmtId")) == ["InstrId", "EndToEndId"]
    assert local_names(found(first, "p:Amt")) == ["InstdAmt"]
    assert texts(first, "p:Cdtr/p:Nm") == ["广州市云帆信息科技有限公司"]
    assert texts(first, "p:CdtrAcct/p:Id/p:Othr/p:Id") == ["44050158000100002231"]
    assert texts(first, "p:RmtInf/p:Ustrd") == ["中小企业服务券兑付 B7Q2-0001"]


def test_every_end_to_end_id_and_amount_is_written_in_cny_with_two_decimals() -> None:
    root = built()
    assert texts(root, ".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId") == [
        "B7Q2-0001",
        "B7Q2-0002",
        "B7Q2-0003",
    ]
    assert texts(root, ".//p:CdtTrfTxInf/p:PmtId/p:InstrId") == [
        "B7Q2-0001",
        "B7Q2-0002",
        "B7Q2-0003",
    ]
    amounts = root.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)
    assert [(a.get("Ccy"), a.text) for a in amounts] == [
        ("CNY", "1234.50"),
        ("CNY", "2000.00"),
        ("CNY", "467.50"),
    ]


def test_agents_carry_the_bic_when_known_and_notprovided_otherwise() -> None:
    root = built()
    debtor_bank = found(root, ".//p:PmtInf/p:DbtrAgt/p:FinInstnId")
    assert local_names(debtor_bank) == ["BICFI", "Nm"]
    assert texts(debtor_bank, "p:BICFI") == ["ICBKCNBJGDG"]
    agents = root.findall(".//p:CdtTrfTxInf/p:CdtrAgt/p:FinInstnId", NS)
    assert [local_names(agent) for agent in agents] == [
        ["Nm", "Othr"],
        ["BICFI", "Nm"],
        ["Nm", "Othr"],
    ]
    assert texts(agents[0], "p:Othr/p:Id") == ["NOTPROVIDED"]
    assert texts(agents[0], "p:Nm") == ["中国建设银行广州天河支行"]


def test_a_built_file_reads_back_as_the_same_transfer() -> None:
    assert parse_pain001(build_pain001(TRANSFER)) == TRANSFER


def test_a_utc_timestamp_and_fractional_seconds_read_back() -> None:
    transfer = dataclasses.replace(
        TRANSFER, created_at=datetime(2026, 3, 2, 8, 30, 5, 250_000, tzinfo=UTC)
    )
    parsed = parse_pain001(build_pain001(transfer))
    assert parsed == transfer
    assert parsed.created_at.utcoffset() == timedelta(0)


def test_reading_back_checks_the_control_sum() -> None:
    content = build_pain001(TRANSFER).replace(
        b"<CtrlSum>3702.00</CtrlSum>", b"<CtrlSum>3702.01</CtrlSum>", 1
    )
    with pytest.raises(InvalidStatement) as caught:
        parse_pain001(content)
    assert caught.value.details["where"] == "GrpHdr/CtrlSum"


def test_reading_back_refuses_a_file_that_is_not_pain_001_001_09() -> None:
    content = build_pain001(TRANSFER).replace(b"pain.001.001.09", b"pain.001.001.03")
    with pytest.raises(InvalidStatement) as caught:
        parse_pain001(content)
    assert caught.value.details["where"] == "Document"


def payment(number: int, **changes: object) -> Payment:
    return dataclasses.replace(TRANSFER.payments[number], **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"payments": ()}, "payments", id="no-payments"),
        pytest.param({"message_id": "M" * 36}, "message_id", id="long-message-id"),
        pytest.param({"message_id": ""}, "message_id", id="empty-message-id"),
        pytest.param({"payment_info_id": "P" * 36}, "payment_info_id", id="long-payment-info-id"),
        pytest.param({"initiating_party": "中" * 141}, "initiating_party", id="long-party"),
        pytest.param(
            {"created_at": datetime(2026, 3, 2, 16, 30)},  # noqa: DTZ001 - the naive one refused
            "created_at",
            id="naive-created-at",
        ),
        pytest.param(
            {"debtor": dataclasses.replace(FUNDING, account="1" * 35)},
            "debtor.account",
            id="long-account",
        ),
        pytest.param(
            {"debtor": dataclasses.replace(FUNDING, bic="ICBC")}, "debtor.bic", id="bad-bic"
        ),
        pytest.param(
            {"payments": (payment(0, end_to_end_id="E" * 36),)},
            "payments[0].end_to_end_id",
            id="long-end-to-end-id",
        ),
        pytest.param(
            {"payments": (payment(0), payment(1, end_to_end_id="B7Q2-0001"))},
            "payments[1].end_to_end_id",
            id="duplicate-end-to-end-id",
        ),
        pytest.param(
            {"payments": (payment(0), payment(1, remittance="兑" * 141))},
            "payments[1].remittance",
            id="long-remittance",
        ),
        pytest.param(
            {"payments": (payment(0, remittance="兑付\n第二行"),)},
            "payments[0].remittance",
            id="control-character",
        ),
        pytest.param(
            {"payments": (payment(2, creditor=dataclasses.replace(FUNDING, name="")),)},
            "payments[0].creditor.name",
            id="empty-creditor-name",
        ),
    ],
)
def test_refuses_what_the_schema_or_the_bank_would(changes: dict[str, object], field: str) -> None:
    transfer = dataclasses.replace(TRANSFER, **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        build_pain001(transfer)
    assert caught.value.details["field"] == field


@pytest.mark.parametrize("amount", [0, -100])
def test_refuses_a_payment_of_nothing_or_less(amount: int) -> None:
    transfer = dataclasses.replace(TRANSFER, payments=(payment(0), payment(1, amount_fen=amount)))
    with pytest.raises(InvalidAmount) as caught:
        build_pain001(transfer)
    assert caught.value.details["field"] == "payments[1].amount_fen"


def test_texts_at_their_limits_are_written_whole() -> None:
    transfer = dataclasses.replace(
        TRANSFER,
        message_id="M" * 35,
        payments=(payment(0, end_to_end_id="E" * 35, remittance="兑" * 140),),
    )
    assert parse_pain001(build_pain001(transfer)) == transfer
