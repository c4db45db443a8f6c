"""The access policy as a table: every role against every action, on its own center, a center
below it, a sibling and its parent; SMEs and providers on their own and others' things."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from voucher_app.domain.actors import Role
from voucher_app.domain.errors import NotAuthenticated, PermissionDenied
from voucher_app.domain.policy import ALLOWED, EVERYWHERE, Action, Scope, decide
from voucher_app.domain.users import Principal

# province 1 → cities 2 and 4; city 2 → district 3
PARENT = {1: None, 2: 1, 3: 2, 4: 1}
CITY, DISTRICT, SIBLING, PROVINCE = 2, 3, 4, 1


def within(center: int, root: int) -> bool:
    current: int | None = center
    while current is not None:
        if current == root:
            return True
        current = PARENT[current]
    return False


def principal(
    role: Role,
    *,
    center_id: int | None = None,
    sme_id: int | None = None,
    provider_id: int | None = None,
) -> Principal:
    return Principal(uuid.uuid4(), f"user-{role}", role, center_id, sme_id, provider_id)


def permitted(user: Principal | None, action: Action, scope: Scope) -> bool:
    """Whether `decide` lets the user take the action there (it raises when not)."""
    try:
        decide(user, action, scope, within)
    except (PermissionDenied, NotAuthenticated):
        return False
    return True


CENTER_ACTIONS = [
    Action.READ_CENTER,
    Action.REVIEW,
    Action.ISSUE,
    Action.SETTLE,
    Action.MOVE_BUDGET,
    Action.ADMINISTER,
]
WHERE = {"own": CITY, "below": DISTRICT, "sibling": SIBLING, "parent": PROVINCE}
#: For a user of the city: which actions each center role may take there.
#: Approving and paying are different jobs: reviewers never settle, finance never reviews.
EXPECTED = {
    Role.CENTER_STAFF: {Action.READ_CENTER, Action.REVIEW, Action.ISSUE},
    Role.CENTER_ADMIN: set(CENTER_ACTIONS) - {Action.SETTLE},
    Role.CENTER_FINANCE: {Action.READ_CENTER, Action.SETTLE},
    Role.AUDITOR: {Action.READ_CENTER},
}


@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("action", CENTER_ACTIONS)
@pytest.mark.parametrize("role", list(EXPECTED))
def test_a_center_user_acts_on_its_center_and_below_only(
    role: Role, action: Action, where: str
) -> None:
    user = principal(role, center_id=CITY)
    allowed = action in EXPECTED[role] and where in ("own", "below")
    scope = Scope(center_id=WHERE[where])
    assert permitted(user, action, scope) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):  # a refusal, not a missing sign-in
            decide(user, action, scope, within)


@pytest.mark.parametrize("action", list(Action))
def test_an_admin_may_do_anything_anywhere(action: Action) -> None:
    admin = principal(Role.ADMIN)
    assert permitted(admin, action, Scope())
    assert permitted(admin, action, Scope(center_id=SIBLING, sme_id=8, provider_id=9))


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.READ_PUBLIC])
def test_nobody_signed_in_may_only_read_what_is_public(action: Action) -> None:
    assert permitted(None, Action.READ_PUBLIC, Scope())
    with pytest.raises(NotAuthenticated):
        decide(None, action, Scope(center_id=CITY), within)


@pytest.mark.parametrize(
    ("role", "act", "read", "field"),
    [
        (Role.SME, Action.ACT_AS_SME, Action.READ_AS_SME, "sme_id"),
        (Role.PROVIDER, Action.ACT_AS_PROVIDER, Action.READ_AS_PROVIDER, "provider_id"),
    ],
)
def test_smes_and_providers_act_on_their_own_things_only(
    role: Role, act: Action, read: Action, field: str
) -> None:
    user = principal(role, **{field: 7})
    for action in (act, read):
        assert permitted(user, action, Scope(**{field: 7}))
        for other in (Scope(**{field: 8}), Scope(), Scope(center_id=CITY)):
            with pytest.raises(PermissionDenied):
                decide(user, action, other, within)
    for action in CENTER_ACTIONS:
        with pytest.raises(PermissionDenied):
            decide(user, action, Scope(center_id=CITY), within)


def test_a_read_only_token_reads_but_never_writes() -> None:
    reader = Principal(
        uuid.uuid4(), "r", Role.CENTER_ADMIN, center_id=CITY, scopes=frozenset({"read"})
    )
    assert permitted(reader, Action.READ_CENTER, Scope(center_id=CITY))
    assert permitted(reader, Action.READ_OWN_ACCOUNT, Scope())
    for action in (Action.REVIEW, Action.MOVE_BUDGET, Action.MANAGE_OWN_ACCOUNT):
        with pytest.raises(PermissionDenied, match="only read"):
            decide(reader, action, Scope(center_id=CITY), within)
    admin = Principal(uuid.uuid4(), "a", Role.ADMIN, scopes=frozenset({"read"}))
    with pytest.raises(PermissionDenied):
        decide(admin, Action.ADMINISTER, Scope(), within)


def test_every_action_names_the_roles_that_take_it() -> None:
    assert set(ALLOWED) == set(Action)
    assert all(Role.SYSTEM not in ALLOWED[a] for a in Action if a is not Action.READ_PUBLIC)


A = Action
#: What each role may do where it is concerned (its center, its SME, its provider), written out
#: from the rules in the policy's docstring; READ_PUBLIC is everyone's and not listed.
MAY: dict[Role, set[Action]] = {
    Role.SME: {
        A.READ_OWN_ACCOUNT,
        A.MANAGE_OWN_ACCOUNT,
        A.OBJECT,
        A.READ_CONCERNED,
        A.ACT_AS_SME,
        A.READ_AS_SME,
    },
    Role.PROVIDER: {
        A.READ_OWN_ACCOUNT,
        A.MANAGE_OWN_ACCOUNT,
        A.OBJECT,
        A.READ_CONCERNED,
        A.ACT_AS_PROVIDER,
        A.READ_AS_PROVIDER,
    },
    Role.CENTER_STAFF: {
        A.READ_OWN_ACCOUNT,
        A.MANAGE_OWN_ACCOUNT,
        A.OBJECT,
        A.READ_CENTER,
        A.READ_CONCERNED,
        A.REVIEW,
        A.ISSUE,
    },
    Role.CENTER_ADMIN: {
        A.READ_OWN_ACCOUNT,
        A.MANAGE_OWN_ACCOUNT,
        A.OBJECT,
        A.READ_CENTER,
        A.READ_CONCERNED,
        A.REVIEW,
        A.ISSUE,
        A.MOVE_BUDGET,
        A.ADMINISTER,
    },
    Role.CENTER_FINANCE: {
        A.READ_OWN_ACCOUNT,
        A.MANAGE_OWN_ACCOUNT,
        A.OBJECT,
        A.READ_CENTER,
        A.READ_CONCERNED,
        A.SETTLE,
    },
    Role.AUDITOR: {
        A.READ_OWN_ACCOUNT,
        A.MANAGE_OWN_ACCOUNT,
        A.OBJECT,
        A.READ_CENTER,
        A.READ_CONCERNED,
    },
    Role.SYSTEM: set(),
    Role.ADMIN: set(Action) - {A.READ_PUBLIC},
}
#: A thing that concerns every user below: it is the city's, SME 7's and provider 9's.
THEIRS = Scope(center_id=CITY, sme_id=7, provider_id=9)


def bound(role: Role) -> Principal:
    """A user of the role bound to what THEIRS concerns."""
    return Principal(
        uuid.uuid4(),
        f"user-{role}",
        role,
        center_id=CITY if role not in (Role.SME, Role.PROVIDER, Role.ADMIN, Role.SYSTEM) else None,
        sme_id=7 if role is Role.SME else None,
        provider_id=9 if role is Role.PROVIDER else None,
    )


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.READ_PUBLIC])
@pytest.mark.parametrize("role", list(Role))
def test_each_role_takes_exactly_its_actions_on_what_concerns_it(
    role: Role, action: Action
) -> None:
    user = bound(role)
    if action in MAY[role]:
        decide(user, action, THEIRS, within)
    else:
        with pytest.raises(PermissionDenied) as refused:
            decide(user, action, THEIRS, within)
        assert refused.value.code == "permission_denied"
        assert refused.value.details == {"action": action.value}
        assert str(refused.value) == f"the role {role} may not {action.value}"


@pytest.mark.parametrize("role", list(Role))
def test_everyone_reads_what_is_public(role: Role) -> None:
    assert permitted(bound(role), Action.READ_PUBLIC, EVERYWHERE)
    assert permitted(None, Action.READ_PUBLIC, EVERYWHERE)


def anywhere(center: int, root: int) -> bool:
    """A hierarchy in which every center lies below every other: whatever the policy refuses
    under it, it refuses by its own rules, not because the walk up said no."""
    return True


CENTER_ROLES = [Role.CENTER_STAFF, Role.CENTER_ADMIN, Role.CENTER_FINANCE, Role.AUDITOR]


@pytest.mark.parametrize(
    "scope",
    [EVERYWHERE, Scope(sme_id=7), Scope(provider_id=9), Scope(sme_id=7, provider_id=9)],
    ids=["everywhere", "an-sme", "a-provider", "an-sme-and-provider"],
)
@pytest.mark.parametrize("role", CENTER_ROLES)
def test_a_center_user_never_acts_where_no_center_is_named(role: Role, scope: Scope) -> None:
    """The whole system, or a thing with no center, is an admin's alone: a center user's
    subtree does not reach it, even for reading."""
    user = principal(role, center_id=CITY)
    for action in MAY[role] - {A.READ_OWN_ACCOUNT, A.MANAGE_OWN_ACCOUNT, A.OBJECT}:
        with pytest.raises(PermissionDenied) as refused:
            decide(user, action, scope, anywhere)
        assert refused.value.details == {"action": action.value}
        assert str(refused.value) == f"outside what user-{role} may act on"


@pytest.mark.parametrize("role", CENTER_ROLES)
def test_a_center_user_bound_to_no_center_acts_on_none(role: Role) -> None:
    user = principal(role)
    for action in MAY[role] - {A.READ_OWN_ACCOUNT, A.MANAGE_OWN_ACCOUNT, A.OBJECT}:
        for scope in (Scope(center_id=CITY), Scope(center_id=PROVINCE), EVERYWHERE):
            with pytest.raises(PermissionDenied, match=f"outside what user-{role} may act on"):
                decide(user, action, scope, anywhere)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.SYSTEM])
def test_every_person_reads_and_manages_their_own_account_wherever_they_are_bound(
    role: Role,
) -> None:
    """One's own account is no center's, SME's or provider's: the scope does not matter."""
    for user in (bound(role), principal(role)):
        for scope in (EVERYWHERE, Scope(center_id=SIBLING, sme_id=8, provider_id=10)):
            assert permitted(user, Action.READ_OWN_ACCOUNT, scope)
            decide(user, Action.MANAGE_OWN_ACCOUNT, scope, within)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.SYSTEM])
def test_every_person_signed_in_objects_to_a_claim_on_notice_anywhere(role: Role) -> None:
    """A public notice is everyone's to question (公示): a claim of another center, SME or
    provider is objected to as well as one's own; a read-only token and nobody signed in are not."""
    for user in (bound(role), principal(role)):
        for scope in (EVERYWHERE, Scope(center_id=SIBLING, sme_id=8, provider_id=10)):
            decide(user, Action.OBJECT, scope, within)
    reader = Principal(uuid.uuid4(), "reader", role, scopes=frozenset({"read"}))
    with pytest.raises(PermissionDenied, match="this token may only read"):
        decide(reader, Action.OBJECT, EVERYWHERE, within)
    with pytest.raises(NotAuthenticated):
        decide(None, Action.OBJECT, EVERYWHERE, within)


@pytest.mark.parametrize(
    ("user", "yes", "no"),
    [
        (bound(Role.SME), Scope(sme_id=7), [Scope(sme_id=8), Scope(center_id=CITY, provider_id=9)]),
        (
            bound(Role.PROVIDER),
            Scope(provider_id=9),
            [Scope(provider_id=10), Scope(center_id=CITY, sme_id=7)],
        ),
        (
            bound(Role.AUDITOR),
            Scope(center_id=DISTRICT),
            [Scope(center_id=SIBLING, sme_id=7, provider_id=9), Scope(sme_id=7, provider_id=9)],
        ),
        (
            bound(Role.CENTER_FINANCE),
            Scope(center_id=CITY),
            [Scope(center_id=PROVINCE), EVERYWHERE],
        ),
    ],
    ids=["sme", "provider", "auditor", "finance"],
)
def test_a_thing_is_read_by_everyone_it_concerns_and_nobody_else(
    user: Principal, yes: Scope, no: list[Scope]
) -> None:
    """Its center (and the centers above it), its SME and its provider read it."""
    decide(user, Action.READ_CONCERNED, yes, within)
    for scope in no:
        with pytest.raises(PermissionDenied, match="outside what"):
            decide(user, Action.READ_CONCERNED, scope, within)


@pytest.mark.parametrize("role", [Role.SME, Role.PROVIDER])
def test_an_sme_or_provider_user_bound_to_nothing_acts_on_nothing(role: Role) -> None:
    """A scope without an SME (or provider) is not the one of a user without one."""
    user = principal(role)
    for action in MAY[role] - {A.READ_OWN_ACCOUNT, A.MANAGE_OWN_ACCOUNT, A.OBJECT}:
        for scope in (EVERYWHERE, Scope(center_id=CITY)):
            with pytest.raises(PermissionDenied, match="outside what"):
                decide(user, action, scope, anywhere)


READ_ONLY = frozenset({"read"})


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.READ_PUBLIC])
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.SYSTEM])
def test_a_read_only_token_takes_every_read_and_no_write(role: Role, action: Action) -> None:
    """Reading: the public pages, one's account, a center, what concerns one, one's own SME or
    provider. Everything else changes something and needs a token that may write."""
    reads = {
        A.READ_OWN_ACCOUNT,
        A.READ_CENTER,
        A.READ_CONCERNED,
        A.READ_AS_SME,
        A.READ_AS_PROVIDER,
    }
    user = dataclasses.replace(bound(role), scopes=READ_ONLY)
    if action in reads:
        assert permitted(user, action, THEIRS) is (action in MAY[role])
    else:
        with pytest.raises(PermissionDenied) as refused:
            decide(user, action, THEIRS, within)
        assert refused.value.details == {"action": action.value}
        assert str(refused.value) == "this token may only read"


def test_nobody_signed_in_is_asked_to_sign_in() -> None:
    with pytest.raises(NotAuthenticated) as refused:
        decide(None, Action.READ_CONCERNED, THEIRS, within)
    assert refused.value.code == "not_authenticated"
    assert refused.value.details == {"action": "read_concerned"}
    assert str(refused.value) == "sign in, or send an API token"
