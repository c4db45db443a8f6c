"""The access policy as a table: every role against every action, on its own center, a center
below it, a sibling and its parent; SMEs and providers on their own and others' things."""

from __future__ import annotations

import uuid

import pytest

from voucher_app.domain.actors import Role
from voucher_app.domain.errors import NotAuthenticated, PermissionDenied
from voucher_app.domain.policy import ALLOWED, Action, Scope, decide
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
