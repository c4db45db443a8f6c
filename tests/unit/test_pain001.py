"""Credit transfer files (`voucher_app.settlement.pain001`), read back with plain lxml.

Every file built here that is meant to succeed is also validated against the shared official
schema (`tests.iso20022`), not only the copy the package ships.
"""

from __future__ import annotations

import dataclasses
import string
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from lxml import etree

from tests.iso20022 import (
    PAIN001_XSD,
    VENDORED_PAIN001_XSD,
    assert_valid_pain001,
    shared_reference,
)
from voucher_app.domain.bank import BankDetails, check_bank_details
from voucher_app.domain.errors import (
    InvalidAmount,
    InvalidBankDetails,
    InvalidInput,
    InvalidStatement,
)
from voucher_app.settlement import pain001
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
    cnaps="102581000018",
)


def provider(
    name: str, account: str, bank: str, bic: str | None = None, cnaps: str | None = None
) -> Party:
    return Party(name=name, account=account, bank_name=bank, bic=bic, cnaps=cnaps)


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
                "广州市云帆信息科技有限公司",
                "44050158000100002231",
                "中国建设银行广州天河支行",
                cnaps="105581000123",
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


def build(transfer: CreditTransfer) -> bytes:
    """`build_pain001`, and the file checked against the shared official schema."""
    content = build_pain001(transfer)
    assert_valid_pain001(content)
    return content


def built() -> etree._Element:
    return etree.fromstring(build(TRANSFER))


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.iterfind(path, NS)]


def found(parent: etree._Element, path: str) -> etree._Element:
    element = parent.find(path, NS)
    assert element is not None, path
    return element


def local_names(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


def test_the_document_is_utf8_xml_in_the_pain_001_001_09_namespace() -> None:
    content = build(TRANSFER)
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
        "PmtTpInf",
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


def test_the_payments_ask_for_the_non_urgent_service_level_that_slev_charges_refer_to() -> None:
    info = found(built(), "p:CstmrCdtTrfInitn/p:PmtInf")
    assert local_names(found(info, "p:PmtTpInf")) == ["SvcLvl"]
    assert texts(info, "p:PmtTpInf/p:SvcLvl/p:Cd") == ["NURG"]
    assert texts(info, "p:ChrgBr") == ["SLEV"]
    assert info.findall(".//p:CdtTrfTxInf/p:PmtTpInf", NS) == []  # said once, for the batch


def test_agents_carry_the_bic_and_the_cnaps_code_when_known_and_notprovided_otherwise() -> None:
    root = built()
    debtor_bank = found(root, ".//p:PmtInf/p:DbtrAgt/p:FinInstnId")
    assert local_names(debtor_bank) == ["BICFI", "ClrSysMmbId", "Nm"]
    assert texts(debtor_bank, "p:BICFI") == ["ICBKCNBJGDG"]
    assert texts(debtor_bank, "p:ClrSysMmbId/p:MmbId") == ["102581000018"]
    assert texts(debtor_bank, "p:Nm") == ["中国工商银行广州第一支行"]
    agents = root.findall(".//p:CdtTrfTxInf/p:CdtrAgt/p:FinInstnId", NS)
    assert [local_names(agent) for agent in agents] == [
        ["ClrSysMmbId", "Nm"],
        ["BICFI", "Nm"],
        ["Nm", "Othr"],
    ]
    assert texts(agents[0], "p:Nm") == ["中国建设银行广州天河支行"]
    assert texts(agents[1], "p:BICFI") == ["RCCSCNBS"]
    assert texts(agents[2], "p:Othr/p:Id") == ["NOTPROVIDED"]
    assert texts(agents[2], "p:Nm") == ["东莞银行松山湖支行"]


def test_the_cnaps_code_is_the_clearing_system_member_id_of_the_cnaps_system() -> None:
    creditor_bank = built().findall(".//p:CdtTrfTxInf/p:CdtrAgt/p:FinInstnId", NS)[0]
    member = found(creditor_bank, "p:ClrSysMmbId")
    assert local_names(member) == ["ClrSysId", "MmbId"]
    assert local_names(found(member, "p:ClrSysId")) == ["Cd"]
    assert texts(member, "p:ClrSysId/p:Cd") == ["CNAPS"]
    assert texts(member, "p:MmbId") == ["105581000123"]


def test_a_built_file_reads_back_as_the_same_transfer() -> None:
    assert parse_pain001(build(TRANSFER)) == TRANSFER


def test_the_creation_time_is_written_in_china_time_to_the_second() -> None:
    transfer = dataclasses.replace(
        TRANSFER, created_at=datetime(2026, 3, 2, 8, 30, 5, 250_000, tzinfo=UTC)
    )
    root = etree.fromstring(build(transfer))
    assert texts(root, ".//p:GrpHdr/p:CreDtTm") == ["2026-03-02T16:30:05+08:00"]
    parsed = parse_pain001(build(transfer))
    assert parsed == dataclasses.replace(
        transfer, created_at=datetime(2026, 3, 2, 8, 30, 5, tzinfo=UTC)
    )
    assert parsed.created_at.utcoffset() == timedelta(hours=8)


def test_a_time_just_before_midnight_utc_is_the_next_day_in_china() -> None:
    transfer = dataclasses.replace(
        TRANSFER, created_at=datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    )
    root = etree.fromstring(build(transfer))
    assert texts(root, ".//p:GrpHdr/p:CreDtTm") == ["2027-01-01T07:59:59+08:00"]


def test_the_offset_is_plus_eight_hours_whatever_the_zone_database_says_of_the_date() -> None:
    transfer = dataclasses.replace(TRANSFER, created_at=datetime(1900, 1, 1, tzinfo=UTC))
    root = etree.fromstring(build(transfer))  # Asia/Shanghai: +08:05:43, not an xs:dateTime
    assert texts(root, ".//p:GrpHdr/p:CreDtTm") == ["1900-01-01T08:00:00+08:00"]


def test_reading_back_checks_the_control_sum() -> None:
    content = build(TRANSFER).replace(
        b"<CtrlSum>3702.00</CtrlSum>", b"<CtrlSum>3702.01</CtrlSum>", 1
    )
    with pytest.raises(InvalidStatement) as caught:
        parse_pain001(content)
    assert caught.value.details["where"] == "GrpHdr/CtrlSum"


def test_reading_back_refuses_a_file_that_is_not_pain_001_001_09() -> None:
    content = build(TRANSFER).replace(b"pain.001.001.09", b"pain.001.001.03")
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
            {"debtor": dataclasses.replace(FUNDING, cnaps="10258100001")},
            "debtor.cnaps",
            id="short-cnaps",
        ),
        pytest.param(
            {"debtor": dataclasses.replace(FUNDING, bank_name="")},
            "debtor.bank_name",
            id="no-debtor-bank",
        ),
        pytest.param(
            {"payments": (payment(1, creditor=dataclasses.replace(FUNDING, account="6222x1234")),)},
            "payments[0].creditor.account",
            id="letter-in-account",
        ),
        pytest.param(
            {"payments": (payment(0, creditor=dataclasses.replace(FUNDING, bank_name="支\n行")),)},
            "payments[0].creditor.bank_name",
            id="line-break-in-bank-name",
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


def test_bank_details_are_refused_by_the_rules_registration_applies() -> None:
    creditor = dataclasses.replace(FUNDING, cnaps="1025810000189")
    transfer = dataclasses.replace(TRANSFER, payments=(payment(0, creditor=creditor),))
    with pytest.raises(InvalidBankDetails) as caught:
        build_pain001(transfer)
    assert caught.value.code == "invalid_bank_details"
    assert caught.value.details["field"] == "payments[0].creditor.cnaps"


def full_width(text: str) -> str:
    """`text` as a Chinese input method types it in full-width mode."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


def test_bank_details_are_written_as_registration_would_store_them() -> None:
    typed = Party(
        name=" 广州市云帆信息科技有限公司 ",
        account=full_width("4405 0158-0001 0000 2231"),
        bank_name="中国建设银行广州天河支行",
        bic=full_width("pcbccnbjgzh"),
        cnaps=full_width("1055 8100 0123"),
    )
    transfer = dataclasses.replace(TRANSFER, payments=(payment(0, creditor=typed),))
    creditor = parse_pain001(build(transfer)).payments[0].creditor
    assert creditor == Party(
        name="广州市云帆信息科技有限公司",
        account="44050158000100002231",
        bank_name="中国建设银行广州天河支行",
        bic="PCBCCNBJGZH",
        cnaps="105581000123",
    )


def test_a_file_the_schema_refuses_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pain001, "SERVICE_LEVEL", "URGENT")  # a code is at most 4 characters
    with pytest.raises(InvalidInput) as caught:
        build_pain001(TRANSFER)
    assert caught.value.details["field"] == "pain001"
    assert "pain.001.001.09 schema" in caught.value.message
    assert "Cd" in caught.value.message


def test_reading_back_refuses_an_agent_of_another_clearing_system() -> None:
    content = build(TRANSFER).replace(b"<Cd>CNAPS</Cd>", b"<Cd>USABA</Cd>", 1)
    with pytest.raises(InvalidStatement) as caught:
        parse_pain001(content)
    assert caught.value.details["where"] == "PmtInf[1]/DbtrAgt/FinInstnId/ClrSysMmbId"


def test_the_vendored_schema_is_the_official_one() -> None:
    shared = shared_reference(*PAIN001_XSD)
    if shared is None:
        pytest.skip("the shared reference folder (../shared/reference/iso20022) is not here")
    assert VENDORED_PAIN001_XSD.read_bytes() == shared.read_bytes()


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
    assert parse_pain001(build(transfer)) == transfer


# ---------------------------------------------------------------------------------------------
# Any valid transfer


IDS = st.text(string.ascii_uppercase + string.digits + "-", min_size=1, max_size=35)
#: Any character a free-text field may hold.
TEXT = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufffe\uffff"
)
#: A free text as it reads back: parse_pain001 strips what it reads.
FREE_TEXT = st.text(TEXT, min_size=1, max_size=140).map(str.strip).filter(bool)
#: Naive bounds, as st.datetimes takes them; the times drawn are UTC. Before 1901 Asia/Shanghai
#: was +08:05:43; a day short of the end leaves room to add eight hours.
EARLIEST = datetime(1900, 1, 1)  # noqa: DTZ001
LATEST = datetime(9999, 12, 30)  # noqa: DTZ001


@st.composite
def parties(draw: st.DrawFn) -> Party:
    """A party as registration stores it: typed details, normalised by check_bank_details."""
    typed = BankDetails(
        bank_name=draw(st.text(TEXT, min_size=1, max_size=140)),
        account_name=draw(st.text(TEXT, min_size=1, max_size=140)),
        account_number=draw(st.text("0123456789", min_size=8, max_size=32)),
        cnaps=draw(st.none() | st.text("0123456789", min_size=12, max_size=12)),
        bic=draw(
            st.none()
            | st.from_regex(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?", fullmatch=True)
        ),
    )
    try:
        details = check_bank_details(typed, require_cnaps=False)
    except InvalidBankDetails:
        reject()
    return Party(
        name=details.account_name,
        account=details.account_number,
        bank_name=details.bank_name,
        bic=details.bic,
        cnaps=details.cnaps,
    )


@st.composite
def transfers(draw: st.DrawFn) -> CreditTransfer:
    references = draw(st.lists(IDS, min_size=1, max_size=4, unique=True))
    payments = tuple(
        Payment(
            end_to_end_id=reference,
            amount_fen=draw(st.integers(1, 10**12)),
            creditor=draw(parties()),
            remittance=draw(FREE_TEXT),
        )
        for reference in references
    )
    return CreditTransfer(
        message_id=draw(IDS),
        created_at=draw(st.datetimes(EARLIEST, LATEST, timezones=st.just(UTC))).replace(
            microsecond=0
        ),
        initiating_party=draw(FREE_TEXT),
        payment_info_id=draw(IDS),
        requested_on=draw(st.dates()),
        debtor=draw(parties()),
        payments=payments,
    )


@given(transfers())
def test_any_valid_transfer_makes_a_schema_valid_file_that_reads_back(
    transfer: CreditTransfer,
) -> None:
    assert parse_pain001(build(transfer)) == transfer
