"""The bank accounts centers hold: the only accounts whose statements move a center's books.

A statement is the bank's word about one account. If any account's statement could be
imported, a provider's own statement (which shows the same payments arriving) would move the
programme's books a second time. So a center registers the accounts it holds — a programme's
funding account is registered for its owner when it is set — and a statement of any other
account is refused whole (`foreign_account`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from voucher_app.domain.actors import Actor
from voucher_app.domain.bank import BankDetails, check_bank_details, normalize_account_number
from voucher_app.domain.errors import AccountRegistered, ForeignAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import BankAccount, Center
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services.centers import is_within


@dataclass(frozen=True, slots=True)
class AccountView:
    center: str
    details: BankDetails


@transaction
def register_account(
    uow: UnitOfWork, center_code: str, details: BankDetails, actor: Actor
) -> AccountView:
    """Register (or correct the details of) an account the center holds."""
    center = uow.centers.by_code(center_code)
    checked = check_bank_details(details, require_cnaps=False)
    register_within(uow, center, checked, actor)
    return AccountView(center.code, checked)


def register_within(uow: UnitOfWork, center: Center, details: BankDetails, actor: Actor) -> None:
    """Register checked details for `center` inside the caller's transaction; an account is
    one center's."""
    row = uow.session.scalar(
        select(BankAccount).where(BankAccount.account_number == details.account_number)
    )
    if row is None:
        row = BankAccount(
            center_id=center.id,
            account_number=details.account_number,
            registered_at=uow.clock.now(),
            registered_by=actor.id,
        )
        uow.session.add(row)
    elif row.center_id != center.id:
        owner = uow.session.get_one(Center, row.center_id).code
        raise AccountRegistered(
            f"account {details.account_number} is registered by center {owner}",
            field="account_number",
            center=owner,
        )
    row.account_name = details.account_name
    row.bank_name = details.bank_name
    row.cnaps = details.cnaps
    row.bic = details.bic
    uow.session.flush()


def statement_account(uow: UnitOfWork, account_number: str, center: Center | None) -> BankAccount:
    """The registered account a statement is of, locked for the import (so two imports of one
    account take turns); refused when no center registered it, or (for an import by a center)
    when the center that did is neither above nor below the importer."""
    number = normalize_account_number(account_number)
    row = uow.session.scalar(
        select(BankAccount).where(BankAccount.account_number == number).with_for_update()
    )
    related = row is not None and (
        center is None
        or is_within(uow.session, row.center_id, center.id)
        or is_within(uow.session, center.id, row.center_id)
    )
    if row is None or not related:
        raise ForeignAccount(
            f"account {number} is not an account of this center's programmes: a statement "
            "moves the books only of an account a center registered",
            account=number,
        )
    return row


@read_only
def accounts_of(uow: UnitOfWork, center_code: str) -> list[AccountView]:
    center = uow.centers.by_code(center_code)
    rows = uow.session.scalars(
        select(BankAccount)
        .where(BankAccount.center_id == center.id)
        .order_by(BankAccount.account_number)
    )
    return [
        AccountView(
            center.code,
            BankDetails(row.bank_name, row.account_name, row.account_number, row.cnaps, row.bic),
        )
        for row in rows
    ]
