"""Related parties: what SMEs and providers declare about themselves, the relations a center
records, and the check every redemption passes before it is submitted or approved.

The rule of what relates two parties is `domain.parties`; this module reads the two parties and
the relations between them and refuses with `related_party` (naming what they share) unless the
voucher's programme allows redemptions between related parties. A center that learns of a
relation after the fact records it here and gets back the redemptions between the two that were
approved already, for review: from then on, nothing more is submitted or approved between them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, or_, select

from voucher_app.domain.actors import Actor
from voucher_app.domain.errors import InvalidInput, RelatedParty
from voucher_app.domain.parties import (
    LegalRepresentative,
    MatchingKey,
    Party,
    Relation,
    Shared,
    legal_rep_digest,
    shared,
)
from voucher_app.domain.reasons import require_reason
from voucher_app.domain.sme import parse_uscc
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import insert_ignoring_duplicates, table_of
from voucher_app.persistence.models import (
    PartyRelation,
    Programme,
    Provider,
    Redemption,
    Sme,
    Voucher,
)
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.uow import read_only, transaction


@dataclass(frozen=True, slots=True)
class DeclaredRelation:
    """A relation a party declares: `uscc` is its shareholder, under common control, …"""

    uscc: str
    relation: str


@dataclass(frozen=True, slots=True)
class PartyDetails:
    """What a registration declares about the party beyond its own record: its legal
    representative, already reduced to a digest (`details`), and its related parties."""

    legal_rep_digest: bytes | None = field(default=None, repr=False)
    related: tuple[DeclaredRelation, ...] = ()


NO_DETAILS = PartyDetails()


def details(
    key: MatchingKey,
    representative: tuple[str, str] | None,
    related: Iterable[tuple[str, str]] = (),
) -> PartyDetails:
    """A registration's party details from what was typed: the representative (name, ID
    number) keyed into its digest at once, the related parties as (credit code, relation)."""
    digest = None
    if representative is not None:
        digest = legal_rep_digest(key, LegalRepresentative(*representative))
    return PartyDetails(digest, tuple(DeclaredRelation(*pair) for pair in related))


@dataclass(frozen=True, slots=True)
class RelationView:
    party: str
    related: str
    relation: Relation
    reason: str | None
    recorded_by: str
    recorded_role: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class ToReview:
    """A redemption between two parties found related after it was approved."""

    id: uuid.UUID
    status: str
    sme: str
    provider: str
    subsidy_fen: int
    invoice_number: str


@dataclass(frozen=True, slots=True)
class RelationRecorded:
    relation: RelationView
    to_review: list[ToReview]


_relations, _smes, _providers = table_of(PartyRelation), table_of(Sme), table_of(Provider)
#: One relation per recorder's role: what a party declared and what its center found are two
#: facts, each with who recorded it and why.
_KEY = ("party_uscc", "related_uscc", "relation", "actor_role")
_redemptions, _vouchers = table_of(Redemption), table_of(Voucher)

#: The two parties of a redemption, as `domain.parties.Party` compares them.
_TWO_PARTIES = select(
    _smes.c.uscc.label("sme_uscc"),
    _smes.c.legal_rep_digest.label("sme_rep"),
    _smes.c.address.label("sme_address"),
    _smes.c.contact_phone.label("sme_phone"),
    _smes.c.bank_account_number.label("sme_account"),
    _providers.c.uscc.label("provider_uscc"),
    _providers.c.legal_rep_digest.label("provider_rep"),
    _providers.c.address.label("provider_address"),
    _providers.c.contact_phone.label("provider_phone"),
    _providers.c.bank_account_number.label("provider_account"),
).where(_smes.c.id == bindparam("sme_id"), _providers.c.id == bindparam("provider_id"))
_PARTIES = Prepared(_TWO_PARTIES)
#: At approval, with shared locks: a relation being recorded (which locks the SME's row) waits
#: for the approval's commit and then lists it, or the approval waits and then sees it.
_PARTIES_LOCKED = Prepared(_TWO_PARTIES.with_for_update(read=True))
_BETWEEN = or_(
    and_(
        _relations.c.party_uscc == bindparam("one"), _relations.c.related_uscc == bindparam("other")
    ),
    and_(
        _relations.c.party_uscc == bindparam("other"), _relations.c.related_uscc == bindparam("one")
    ),
)
_RELATIONS_BETWEEN = Prepared(select(_relations.c.relation).where(_BETWEEN))


def require_unrelated(
    uow: UnitOfWork,
    *,
    sme_id: int,
    provider_id: int,
    programme: Programme,
    approving: bool = False,
) -> None:
    """Refuse (`related_party`) a redemption between the SME and the provider (row ids) when
    they are related and the programme does not allow it; `approving`: at approval, holding
    the two parties' rows against a relation recorded meanwhile."""
    if programme.related_parties_allowed:
        return
    sme, provider, shares = _compared(uow, sme_id, provider_id, lock=approving)
    if shares:
        raise RelatedParty(
            f"the SME {sme} and the provider {provider} are related parties "
            f"({', '.join(shares)}), and programme {programme.public_id} does not allow "
            "redemptions between related parties",
            shares=[str(kind) for kind in shares],
            sme=sme,
            provider=provider,
        )


def related_pairs(
    uow: UnitOfWork, pairs: Iterable[tuple[int, int]], programme: Programme
) -> set[tuple[int, int]]:
    """Which of the (SME, provider) row-id pairs are related parties the programme may not pay:
    a batch leaves their approved redemptions out (a relation recorded after approval)."""
    if programme.related_parties_allowed:
        return set()
    return {pair for pair in set(pairs) if _compared(uow, *pair)[2]}


def _compared(
    uow: UnitOfWork, sme_id: int, provider_id: int, *, lock: bool = False
) -> tuple[str, str, tuple[Shared, ...]]:
    """The two parties' credit codes and what they share (`domain.parties.shared`)."""
    connection = uow.session.connection()
    read = _PARTIES_LOCKED if lock else _PARTIES
    row = read.run(connection, {"sme_id": sme_id, "provider_id": provider_id}).mapping()
    assert row is not None  # a voucher's SME and a redemption's provider: foreign keys
    sme = Party(
        row["sme_uscc"], row["sme_rep"], row["sme_address"], row["sme_phone"], row["sme_account"]
    )
    provider = Party(
        row["provider_uscc"],
        row["provider_rep"],
        row["provider_address"],
        row["provider_phone"],
        row["provider_account"],
    )
    between = _RELATIONS_BETWEEN.run(connection, {"one": sme.uscc, "other": provider.uscc})
    relations = frozenset(Relation(name) for (name,) in between)
    return sme.uscc, provider.uscc, shared(sme, provider, relations)


def declare_within(
    uow: UnitOfWork,
    party_uscc: str,
    declared: Iterable[DeclaredRelation],
    actor: Actor,
    *,
    reason: str | None = None,
) -> list[RelationView]:
    """Record the relations `party_uscc` has (or a center found), inside the caller's
    transaction; one already on record stays as it was."""
    party = parse_uscc(party_uscc)
    now = uow.clock.now()
    rows = []
    for one in declared:
        related = parse_uscc(one.uscc)
        if related == party:
            raise InvalidInput(
                "a party is not its own related party", rule="self_relation", field="related_uscc"
            )
        try:
            relation = Relation(one.relation)
        except ValueError:
            raise InvalidInput(
                f"a relation is one of {', '.join(Relation)}",
                rule="unknown_relation",
                field="relation",
            ) from None
        rows.append(
            {
                "party_uscc": party,
                "related_uscc": related,
                "relation": relation.value,
                "reason": require_reason(reason, needed=False),
                "actor_id": actor.id,
                "actor_role": actor.role.value,
                "recorded_at": now,
            }
        )
    insert_ignoring_duplicates(uow.session, _relations, rows, key=_KEY)
    return [_stored(uow, row) for row in rows]


def _stored(uow: UnitOfWork, row: Mapping[str, Any]) -> RelationView:
    """The relation as it is on record: the one asked for, or the same one recorded before."""
    stored = (
        uow.session.execute(
            select(_relations).where(*(_relations.c[name] == row[name] for name in _KEY))
        )
        .mappings()
        .one()
    )
    return _view(stored)


def _view(row: Mapping[str, Any] | RowMapping) -> RelationView:
    return RelationView(
        row["party_uscc"],
        row["related_uscc"],
        Relation(row["relation"]),
        row["reason"],
        row["actor_id"],
        row["actor_role"],
        row["recorded_at"],
    )


@transaction
def record_relation(
    uow: UnitOfWork,
    party_uscc: str,
    declared: DeclaredRelation,
    reason: str,
    actor: Actor,
) -> RelationRecorded:
    """A center records a relation it learned of, saying how: from now on no redemption
    between the two is submitted or approved, and those approved already are listed."""
    # The SME's row, locked (if it is registered): an approval in flight between the two
    # (which holds it shared) commits first and is listed, or waits and then sees this relation.
    uow.smes.find_by_uscc(parse_uscc(party_uscc), lock=True)
    [view] = declare_within(uow, party_uscc, [declared], actor, reason=require_reason(reason))
    return RelationRecorded(view, approved_between(uow, view.party, view.related))


def approved_between(uow: UnitOfWork, one: str, other: str) -> list[ToReview]:
    """The redemptions between the two parties (either may be the SME) that were approved,
    paid or not."""
    pairs = or_(
        and_(_smes.c.uscc == one, _providers.c.uscc == other),
        and_(_smes.c.uscc == other, _providers.c.uscc == one),
    )
    rows = uow.session.execute(
        select(
            _redemptions.c.public_id,
            _redemptions.c.status,
            _smes.c.uscc.label("sme"),
            _providers.c.uscc.label("provider"),
            _redemptions.c.subsidy_fen,
            _redemptions.c.invoice_number,
        )
        .join(_vouchers, _vouchers.c.id == _redemptions.c.voucher_id)
        .join(_smes, _smes.c.id == _vouchers.c.sme_id)
        .join(_providers, _providers.c.id == _redemptions.c.provider_id)
        .where(pairs, _redemptions.c.status.in_(["approved", "settled"]))
        .order_by(_redemptions.c.submitted_at, _redemptions.c.id)
    )
    return [ToReview(*row) for row in rows]


@read_only
def relations_of(uow: UnitOfWork, uscc: str) -> list[RelationView]:
    """Every relation on record that names the party, whichever side declared it."""
    code = parse_uscc(uscc)
    rows = uow.session.execute(
        select(_relations)
        .where(or_(_relations.c.party_uscc == code, _relations.c.related_uscc == code))
        .order_by(_relations.c.id)
    ).mappings()
    return [_view(row) for row in rows]
