"""Who may do what, and where: the one place access is decided.

Entry points name the action a request takes and the scope it touches — the center whose
budget, voucher or redemption it is, the SME or provider it belongs to — and ask `decide`. The
rules:

- a center-bound user (staff, admin, finance, auditor) acts on their center and everything below
  it, never on a sibling or a parent;
- an auditor reads everything in their scope and changes nothing: an objection to a claim on
  public notice (公示), which only asks its center to look again, is the one thing anyone
  signed in may file, wherever the claim is, auditors included;
- approving and paying are different jobs (不相容职务分离): reviewers (staff, admins) approve
  redemptions, finance builds and exports the batches that pay them and imports statements; the
  services refuse anyone who would pay money they approved themselves;
- only center admins (and admins) move budget, run programmes and manage accounts;
- an SME user acts only on its own SME's vouchers and redemptions, a provider user only on
  its own provider's redemptions, catalogue and payments;
- an admin may do anything; nobody changes anything with a read-only token.

`within(center, root)` answers whether `center` is `root` or below it; the caller supplies it
(a walk up the hierarchy), so these rules stay plain Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from voucher_app.domain.actors import Role
from voucher_app.domain.errors import NotAuthenticated, PermissionDenied
from voucher_app.domain.redemptions import Step
from voucher_app.domain.users import Principal


class Action(StrEnum):
    # anyone, signed in or not
    READ_PUBLIC = "read_public"
    # any signed-in user, on their own account
    READ_OWN_ACCOUNT = "read_own_account"
    MANAGE_OWN_ACCOUNT = "manage_own_account"
    OBJECT = "object"  # to a claim on public notice, anywhere
    # center roles and auditors, in their subtree
    READ_CENTER = "read_center"
    # everyone a thing concerns: its center (and above), its SME, its provider
    READ_CONCERNED = "read_concerned"
    # center staff and admins, in their subtree
    REVIEW = "review"  # providers' applications, redemptions, complaints
    ISSUE = "issue"  # vouchers, one by one or in bulk; revocation
    # center finance, in their subtree
    SETTLE = "settle"  # settlement batches, bank statements
    # center admins, in their subtree
    MOVE_BUDGET = "move_budget"  # fund, allocate, claw back
    ADMINISTER = "administer"  # programmes, users of the center, reversals
    # SMEs, for themselves
    ACT_AS_SME = "act_as_sme"  # claim a voucher; confirm or dispute a redemption, rate, complain
    READ_AS_SME = "read_as_sme"
    # providers, for themselves
    ACT_AS_PROVIDER = "act_as_provider"  # redeem, resubmit, manage the catalogue
    READ_AS_PROVIDER = "read_as_provider"


_CENTER_ROLES = frozenset({Role.CENTER_STAFF, Role.CENTER_ADMIN})
_READERS = _CENTER_ROLES | {Role.CENTER_FINANCE, Role.AUDITOR}
#: Which roles may take each action (an admin may take every one).
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.READ_PUBLIC: frozenset(Role),
    Action.READ_OWN_ACCOUNT: frozenset(Role) - {Role.SYSTEM},
    Action.MANAGE_OWN_ACCOUNT: frozenset(Role) - {Role.SYSTEM},
    Action.OBJECT: frozenset(Role) - {Role.SYSTEM},
    Action.READ_CENTER: _READERS,
    Action.READ_CONCERNED: _READERS | {Role.SME, Role.PROVIDER},
    Action.REVIEW: _CENTER_ROLES,
    Action.ISSUE: _CENTER_ROLES,
    Action.SETTLE: frozenset({Role.CENTER_FINANCE}),
    Action.MOVE_BUDGET: frozenset({Role.CENTER_ADMIN}),
    Action.ADMINISTER: frozenset({Role.CENTER_ADMIN}),
    Action.ACT_AS_SME: frozenset({Role.SME}),
    Action.READ_AS_SME: frozenset({Role.SME}),
    Action.ACT_AS_PROVIDER: frozenset({Role.PROVIDER}),
    Action.READ_AS_PROVIDER: frozenset({Role.PROVIDER}),
}
#: The action each step of a redemption takes: the SME answers, center staff review, the
#: provider corrects.
REDEMPTION_STEPS: dict[Step, Action] = {
    Step.CONFIRM: Action.ACT_AS_SME,
    Step.DISPUTE: Action.ACT_AS_SME,
    Step.APPROVE: Action.REVIEW,
    Step.REJECT: Action.REVIEW,
    Step.RESUBMIT: Action.ACT_AS_PROVIDER,
}
READS = frozenset(
    {
        Action.READ_PUBLIC,
        Action.READ_OWN_ACCOUNT,
        Action.READ_CENTER,
        Action.READ_CONCERNED,
        Action.READ_AS_SME,
        Action.READ_AS_PROVIDER,
    }
)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a request touches: a center (and so its subtree's owner chain), an SME, a provider.
    An empty scope is the whole system (only an admin acts there, beyond public reads)."""

    center_id: int | None = None
    sme_id: int | None = None
    provider_id: int | None = None


EVERYWHERE = Scope()


def decide(
    principal: Principal | None,
    action: Action,
    scope: Scope,
    within: Callable[[int, int], bool],
) -> None:
    """Return if `principal` may take `action` on `scope`; raise `NotAuthenticated` (nobody
    signed in) or `PermissionDenied` (signed in, not allowed) otherwise."""
    if action is Action.READ_PUBLIC:
        return
    if principal is None:
        raise NotAuthenticated("sign in, or send an API token", action=action.value)
    if action not in READS and "write" not in principal.scopes:
        raise PermissionDenied("this token may only read", action=action.value)
    if principal.role is Role.ADMIN:
        return
    if principal.role not in ALLOWED[action]:
        raise PermissionDenied(
            f"the role {principal.role} may not {action.value}", action=action.value
        )
    if not _in_scope(principal, action, scope, within):
        raise PermissionDenied(f"outside what {principal.username} may act on", action=action.value)


def _in_scope(
    principal: Principal, action: Action, scope: Scope, within: Callable[[int, int], bool]
) -> bool:
    """Whether what the principal is bound to covers the scope: their own SME, their own
    provider, or for a center role the scope's center at or below theirs."""
    if action in (Action.READ_OWN_ACCOUNT, Action.MANAGE_OWN_ACCOUNT, Action.OBJECT):
        return True
    if principal.role is Role.SME:
        return scope.sme_id is not None and scope.sme_id == principal.sme_id
    if principal.role is Role.PROVIDER:
        return scope.provider_id is not None and scope.provider_id == principal.provider_id
    if principal.center_id is None or scope.center_id is None:
        return False
    return within(scope.center_id, principal.center_id)
