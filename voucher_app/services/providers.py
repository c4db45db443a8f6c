"""Providers and their published catalogue ("五公开": content, standard, price, time limit, fees).

A provider applies to a center, which approves, rejects or suspends it (every decision is an
event row with who and why). Approved providers publish service products; the public catalogue
lists the products of approved providers by category and center.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from voucher_app.domain.actors import Actor
from voucher_app.domain.bank import PROVIDER_FIELDS as PROVIDER_BANK_FIELDS
from voucher_app.domain.bank import BankDetails, check_bank_details
from voucher_app.domain.categories import CATEGORY_CODES
from voucher_app.domain.errors import (
    ConcurrentRequest,
    InvalidInput,
    ProviderExists,
    ProviderNotApproved,
    UnknownProduct,
    UnknownProvider,
)
from voucher_app.domain.money import require_fen
from voucher_app.domain.providers import ProviderDecision, ProviderStatus, decide
from voucher_app.domain.sme import parse_uscc
from voucher_app.domain.tracking import RatingSummary
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence import paging
from voucher_app.persistence.database import table_of
from voucher_app.persistence.models import Center, Product, Provider, ProviderEvent
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.transient import labelled, loaded
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import parties, ratings
from voucher_app.services.centers import subtree_ids
from voucher_app.services.parties import NO_DETAILS, PartyDetails


@dataclass(frozen=True, slots=True)
class ProviderApplication:
    uscc: str
    name: str
    service_categories: tuple[str, ...]
    contact_name: str
    contact_phone: str
    contact_email: str
    bank_name: str
    bank_account_name: str
    bank_account_number: str
    center: str
    bank_bic: str | None = None
    bank_cnaps: str | None = None
    #: Where the provider serves (the catalogue shows it); optional for API clients written
    #: before it was asked for, required by the application page.
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderView:
    id: uuid.UUID
    uscc: str
    name: str
    service_categories: tuple[str, ...]
    center: str
    status: ProviderStatus
    status_reason: str | None


@dataclass(frozen=True, slots=True)
class ProductTerms:
    name: str
    category: str
    price_fen: int
    standard: str
    time_limit_days: int
    fee_rules: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductView(ProductTerms):
    """A product in the catalogue: its terms, whose it is, and how it was rated."""

    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    center: str
    #: Where the provider serves and whom to call (None: it registered before addresses were
    #: asked for).
    provider_address: str | None = None
    provider_phone: str = ""
    #: How SMEs rated this product, and the provider over all its services.
    rating: RatingSummary = field(default_factory=RatingSummary)
    provider_rating: RatingSummary = field(default_factory=RatingSummary)


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise InvalidInput(f"{field} needs 1 to {limit} characters", field=field)
    return text


def _categories(values: tuple[str, ...]) -> list[str]:
    unknown = sorted(set(values) - CATEGORY_CODES)
    if unknown or not values:
        raise InvalidInput(f"unknown or missing service categories: {unknown}", field="categories")
    return sorted(set(values))


def provider_view(uow: UnitOfWork, provider: Provider) -> ProviderView:
    """The provider as its readers see it, inside the caller's transaction."""
    center = uow.session.get_one(Center, provider.center_id)
    return ProviderView(
        provider.public_id,
        provider.uscc,
        provider.name,
        tuple(provider.service_categories),
        center.code,
        ProviderStatus(provider.status),
        provider.status_reason,
    )


def _flush_or_rerun(uow: UnitOfWork) -> None:
    """Flush; a concurrent registration of the same code wins, and a rerun sees it."""
    try:
        uow.session.flush()
    except IntegrityError as exc:
        raise ConcurrentRequest("a concurrent request registered this code") from exc


def _record(
    uow: UnitOfWork, provider: Provider, actor: Actor, now: datetime, reason: str | None = None
) -> None:
    uow.session.add(
        ProviderEvent(
            provider_id=provider.id,
            status=provider.status,
            reason=reason or provider.status_reason,
            actor_id=actor.id,
            actor_role=actor.role.value,
            recorded_at=now,
        )
    )


@transaction
def apply_provider(
    uow: UnitOfWork,
    application: ProviderApplication,
    actor: Actor,
    party: PartyDetails = NO_DETAILS,
) -> ProviderView:
    """Register a provider, pending its center's approval (a rejected one may apply again);
    `party`: its legal representative and the related parties it declares."""
    return apply_provider_within(uow, application, actor, party)


def apply_provider_within(
    uow: UnitOfWork,
    application: ProviderApplication,
    actor: Actor,
    party: PartyDetails = NO_DETAILS,
) -> ProviderView:
    """`apply_provider`'s steps inside the caller's open transaction (`registration` records
    the provider and opens its first account in one)."""
    uscc = parse_uscc(application.uscc)
    center = uow.centers.by_code(application.center)
    bank = BankDetails(
        bank_name=application.bank_name,
        account_name=application.bank_account_name,
        account_number=application.bank_account_number,
        cnaps=application.bank_cnaps,
        bic=application.bank_bic,
    )
    fields: dict[str, object] = {
        "name": _text(application.name, "name", 200),
        "service_categories": _categories(application.service_categories),
        "contact_name": _text(application.contact_name, "contact_name", 100),
        "contact_phone": _text(application.contact_phone, "contact_phone", 40),
        "contact_email": _text(application.contact_email, "contact_email", 200),
        "address": None
        if application.address is None
        else _text(application.address, "address", 300),
        **_bank_columns(bank),
        "center_id": center.id,
    }
    if party.legal_rep_digest is not None:
        fields["legal_rep_digest"] = party.legal_rep_digest
    now = uow.clock.now()
    provider = uow.providers.find_by_uscc(uscc)
    if provider is not None and provider.status != ProviderStatus.REJECTED:
        raise ProviderExists(
            f"a provider with code {uscc} is already registered",
            uscc=uscc,
        )
    if provider is None:
        provider = Provider(public_id=uuid.uuid4(), uscc=uscc, applied_at=now, **fields)
        uow.session.add(provider)
    else:
        for name, value in fields.items():
            setattr(provider, name, value)
        provider.applied_at = now
    provider.status, provider.status_reason = ProviderStatus.PENDING, None
    _flush_or_rerun(uow)
    _record(uow, provider, actor, now)
    parties.declare_within(uow, uscc, party.related, actor)
    return provider_view(uow, provider)


def _bank_columns(bank: BankDetails) -> dict[str, str | None]:
    """The provider's bank details, checked as the payment files will check them."""
    checked = check_bank_details(bank, names=PROVIDER_BANK_FIELDS)
    return {
        "bank_name": checked.bank_name,
        "bank_account_name": checked.account_name,
        "bank_account_number": checked.account_number,
        "bank_cnaps": checked.cnaps,
        "bank_bic": checked.bic,
    }


@transaction
def change_bank_account(
    uow: UnitOfWork, provider_id: uuid.UUID, bank: BankDetails, actor: Actor
) -> ProviderView:
    """Change the account a provider is paid to (batches already exported keep the account
    they pay); the change is an event with who made it, like every change of standing."""
    provider = uow.providers.by_public_id(provider_id, lock=True)
    for name, value in _bank_columns(bank).items():
        setattr(provider, name, value)
    _record(uow, provider, actor, uow.clock.now(), reason="bank account changed")
    return provider_view(uow, provider)


@transaction
def decide_provider(
    uow: UnitOfWork,
    provider_id: uuid.UUID,
    decision: ProviderDecision,
    actor: Actor,
    reason: str | None = None,
) -> ProviderView:
    """Approve, reject, suspend or reinstate a provider (`domain.providers` says which apply)."""
    provider = uow.providers.by_public_id(provider_id, lock=True)  # one decision at a time
    target = decide(ProviderStatus(provider.status), decision, reason)
    provider.status = target
    provider.status_reason = (reason or "").strip() or None
    _record(uow, provider, actor, uow.clock.now())
    return provider_view(uow, provider)


@read_only
def public_id_by_code(uow: UnitOfWork, uscc: str) -> uuid.UUID:
    """The public id of the provider registered under this credit code."""
    found = uow.providers.find_by_uscc(parse_uscc(uscc))
    if found is None:
        raise UnknownProvider(f"no provider has the code {uscc}", provider=uscc)
    return found.public_id


@read_only
def public_id_of(uow: UnitOfWork, provider_row_id: int) -> uuid.UUID:
    """The public id of the provider an account is bound to."""
    return uow.session.get_one(Provider, provider_row_id).public_id


@read_only
def products_of(uow: UnitOfWork, provider_id: uuid.UUID) -> list[ProductView]:
    """The provider's products in the catalogue, by name."""
    provider = uow.providers.by_public_id(provider_id)
    center = uow.session.get_one(Center, provider.center_id)
    found = uow.session.scalars(
        select(Product)
        .where(Product.provider_id == provider.id, Product.active)
        .order_by(Product.name)
    )
    return [_product_view(product, provider, center.code) for product in found]


@read_only
def get_provider(uow: UnitOfWork, provider_id: uuid.UUID) -> ProviderView:
    return provider_view(uow, uow.providers.by_public_id(provider_id))


def require_approved(provider: Provider) -> None:
    """Only an approved provider sells under the scheme (suspended ones wait to be reinstated)."""
    if provider.status != ProviderStatus.APPROVED:
        raise ProviderNotApproved(
            f"provider {provider.public_id} is {provider.status}, not approved",
            status=provider.status,
        )


@transaction
def add_product(
    uow: UnitOfWork, provider_id: uuid.UUID, terms: ProductTerms, actor: Actor
) -> ProductView:
    """Publish a service product of an approved provider in one of its categories."""
    return _publish(uow, uow.providers.by_public_id(provider_id), terms)


@transaction
def revise_product(
    uow: UnitOfWork,
    provider_id: uuid.UUID,
    product_id: uuid.UUID,
    terms: ProductTerms,
    actor: Actor,
) -> ProductView:
    """Publish new terms for a product: the old version is withdrawn, not edited, so a redemption
    made under it keeps the price and standard it was made under; the answer is the new one."""
    provider = uow.providers.by_public_id(provider_id)
    active_product(uow, provider, product_id, lock=True).active = False
    return _publish(uow, provider, terms)


@transaction
def withdraw_product(
    uow: UnitOfWork, provider_id: uuid.UUID, product_id: uuid.UUID, actor: Actor
) -> None:
    """Take a product out of the catalogue; redemptions already made under it are unaffected."""
    provider = uow.providers.by_public_id(provider_id)
    active_product(uow, provider, product_id, lock=True).active = False


def active_product(
    uow: UnitOfWork, provider: Provider, product_id: uuid.UUID, *, lock: bool = False
) -> Product:
    """One of the provider's products still in the catalogue: with `lock`, locked and loaded to
    be changed; without, a transient object read at the driver (every submission reads one)."""
    values = {"public_id": product_id, "provider": provider.id}
    product: Product | None
    if lock:
        product = uow.session.scalar(_ACTIVE_PRODUCT_FOR_UPDATE, values)
    else:
        found = _ACTIVE_PRODUCT.run(uow.session.connection(), values).mapping()
        product = None if found is None else loaded(Product, found)
    if product is None:
        raise UnknownProduct(
            f"provider {provider.public_id} offers no product {product_id}",
            product=str(product_id),
        )
    return product


_products = table_of(Product)
_ACTIVE = (
    _products.c.public_id == bindparam("public_id"),
    _products.c.provider_id == bindparam("provider"),
    _products.c.active,
)
_ACTIVE_PRODUCT = Prepared(select(*labelled(Product)).where(*_ACTIVE))
_ACTIVE_PRODUCT_FOR_UPDATE = select(Product).where(*_ACTIVE).with_for_update()


def _publish(uow: UnitOfWork, provider: Provider, terms: ProductTerms) -> ProductView:
    require_approved(provider)
    if terms.category not in provider.service_categories:
        raise InvalidInput(
            f"{provider.name} is not registered for {terms.category}", field="category"
        )
    if isinstance(terms.time_limit_days, bool) or not 0 < terms.time_limit_days <= 3660:
        raise InvalidInput("the time limit is 1 to 3660 days", field="time_limit_days")
    product = Product(
        public_id=uuid.uuid4(),
        provider_id=provider.id,
        name=_text(terms.name, "name", 200),
        category=terms.category,
        price_fen=require_fen(terms.price_fen, field="price_fen"),
        standard=_text(terms.standard, "standard", 4000),
        time_limit_days=terms.time_limit_days,
        fee_rules=_text(terms.fee_rules, "fee_rules", 4000),
        active=True,
        created_at=uow.clock.now(),
    )
    uow.session.add(product)
    uow.session.flush()
    center = uow.session.get_one(Center, provider.center_id)
    return _product_view(product, provider, center.code)


def _product_view(product: Product, provider: Provider, center: str) -> ProductView:
    return ProductView(
        id=product.public_id,
        provider_id=provider.public_id,
        provider_name=provider.name,
        center=center,
        provider_address=provider.address,
        provider_phone=provider.contact_phone,
        name=product.name,
        category=product.category,
        price_fen=product.price_fen,
        standard=product.standard,
        time_limit_days=product.time_limit_days,
        fee_rules=product.fee_rules,
    )


@dataclass(frozen=True, slots=True)
class CatalogueSearch:
    """What an SME looks for: words in a product's name or description (its standard) or its
    provider's name; a service category; a center (the provider's own, or any center above
    it); a price range in fen, both ends included. Every part is optional; together they all
    apply."""

    keyword: str | None = None
    category: str | None = None
    center: str | None = None
    min_price_fen: int | None = None
    max_price_fen: int | None = None

    def __post_init__(self) -> None:
        for name in ("min_price_fen", "max_price_fen"):
            value = getattr(self, name)
            if value is not None:
                require_fen(value, field=name.removesuffix("_fen"), allow_zero=True)
        low, high = self.min_price_fen, self.max_price_fen
        if low is not None and high is not None and low > high:
            raise InvalidInput(
                f"the lowest price ({low} fen) is above the highest ({high} fen)",
                rule="price_range",
                field="max_price",
            )
        if self.keyword is not None and len(self.keyword) > MAX_KEYWORD:
            raise InvalidInput(f"a search has at most {MAX_KEYWORD} characters", field="keyword")


#: Longest search text: a product name is at most 200 characters.
MAX_KEYWORD = 200


@read_only
def catalogue(
    uow: UnitOfWork,
    *,
    category: str | None = None,
    center: str | None = None,
    search: CatalogueSearch | None = None,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[ProductView]:
    """Active products of approved providers that match `search` (or the older `category` and
    `center` alone); by category, provider and name, `limit` at a time after the product
    `after`. An unknown category matches nothing; an unknown center is refused."""
    search = search or CatalogueSearch(category=category, center=center)
    order = (Product.category, Provider.name, Product.name, Product.id)
    query = (
        select(Product, Provider, Center.code)
        .join(Provider, Provider.id == Product.provider_id)
        .join(Center, Center.id == Provider.center_id)
        .where(Product.active, Provider.status == ProviderStatus.APPROVED)
        .order_by(*order)
        .limit(limit)
    )
    if search.category is not None:
        query = query.where(Product.category == search.category)
    if search.center is not None:
        root = uow.centers.by_code(search.center)
        query = query.where(Provider.center_id.in_(subtree_ids(uow.session, root.id)))
    keyword = (search.keyword or "").strip()
    if keyword:
        # A substring, as typed (Chinese has no word breaks to match on); LIKE's wildcards in
        # it are matched as themselves.
        query = query.where(
            or_(
                *(
                    column.icontains(keyword, autoescape=True)
                    for column in (Product.name, Product.standard, Provider.name)
                )
            )
        )
    if search.min_price_fen is not None:
        query = query.where(Product.price_fen >= search.min_price_fen)
    if search.max_price_fen is not None:
        query = query.where(Product.price_fen <= search.max_price_fen)
    anchor = (
        None
        if after is None
        else select(*order)
        .join(Provider, Provider.id == Product.provider_id)
        .where(Product.public_id == after)
    )
    query = paging.after(uow.session, query, order, anchor)
    rows = uow.session.execute(query).all()
    by_product = ratings.by_product(uow, [product.id for product, _, _ in rows])
    by_provider = ratings.by_provider(uow, list({provider.id for _, provider, _ in rows}))
    return [
        dataclasses.replace(
            _product_view(product, provider, code),
            rating=by_product[product.id],
            provider_rating=by_provider[provider.id],
        )
        for product, provider, code in rows
    ]
