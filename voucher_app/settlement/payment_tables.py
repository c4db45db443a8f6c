"""A batch's payments as tables, for treasury systems and banks that do not take pain.001.

Two files carry the same payments as the pain.001 transfer:

- the payment list (CSV, UTF-8 with a BOM so Excel and WPS in China open it without mojibake):
  one row per payment with the provider *and* its account, for people and treasury systems;
- a Chinese bank's bulk-transfer sheet (批量转账): the columns online banking asks for, in
  GB18030, one row per payment, ready to upload.

Both are written by `tabular.writing`, so no cell a provider or a bank named runs as a formula.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voucher_app.domain.money import yuan_decimal
from voucher_app.settlement.camt053 import CURRENCY
from voucher_app.settlement.pain001 import CreditTransfer
from voucher_app.tabular.writing import csv_bytes

PAYMENT_COLUMNS = (
    "端到端编号",
    "服务机构",
    "统一社会信用代码",
    "收款人户名",
    "收款人账号",
    "开户行名称",
    "收款行行号",
    "BIC",
    "金额",
    "币种",
    "用途",
)
BULK_TRANSFER_COLUMNS = ("收款人账号", "收款人户名", "收款行行号", "开户行名称", "金额", "用途")


@dataclass(frozen=True, slots=True)
class Payee:
    """Who a payment is for, beyond the account it goes to."""

    name: str
    uscc: str


def payments_csv(transfer: CreditTransfer, payees: Mapping[str, Payee]) -> bytes:
    """The payment list; `payees` names the provider of each payment by end-to-end id."""
    return csv_bytes(
        PAYMENT_COLUMNS,
        (
            (
                payment.end_to_end_id,
                payees[payment.end_to_end_id].name,
                payees[payment.end_to_end_id].uscc,
                payment.creditor.name,
                payment.creditor.account,
                payment.creditor.bank_name,
                payment.creditor.cnaps,
                payment.creditor.bic,
                yuan_decimal(payment.amount_fen),
                CURRENCY,
                payment.remittance,
            )
            for payment in transfer.payments
        ),
    )


def bulk_transfer_sheet(transfer: CreditTransfer, payees: Mapping[str, Payee]) -> bytes:
    """The bank's bulk-transfer sheet: its purpose (用途) names the provider and the payment."""
    return csv_bytes(
        BULK_TRANSFER_COLUMNS,
        (
            (
                payment.creditor.account,
                payment.creditor.name,
                payment.creditor.cnaps,
                payment.creditor.bank_name,
                yuan_decimal(payment.amount_fen),
                f"服务券兑付 {payment.end_to_end_id} {payees[payment.end_to_end_id].name}",
            )
            for payment in transfer.payments
        ),
        encoding="gb18030",
    )
