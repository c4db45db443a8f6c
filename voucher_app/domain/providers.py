"""A provider's standing with its center: the transitions allowed and what each needs.

    pending ──approve──► approved ──suspend(reason)──► suspended
       │                    ▲                               │
       └─reject(reason)─►  rejected      └────reinstate─────┘

Only an approved provider redeems vouchers. A rejected provider may apply again.
"""

from __future__ import annotations

from enum import StrEnum

from voucher_app.domain.errors import InvalidTransition
from voucher_app.domain.reasons import require_reason


class ProviderStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class ProviderDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


_S = ProviderStatus
_D = ProviderDecision

#: (from, decision) -> to
TRANSITIONS: dict[tuple[ProviderStatus, ProviderDecision], ProviderStatus] = {
    (_S.PENDING, _D.APPROVE): _S.APPROVED,
    (_S.PENDING, _D.REJECT): _S.REJECTED,
    (_S.APPROVED, _D.SUSPEND): _S.SUSPENDED,
    (_S.SUSPENDED, _D.REINSTATE): _S.APPROVED,
}
NEEDS_REASON = frozenset({_D.REJECT, _D.SUSPEND})


def decide(
    current: ProviderStatus, decision: ProviderDecision, reason: str | None
) -> ProviderStatus:
    """The status after `decision`, or an error naming what is not allowed."""
    target = TRANSITIONS.get((current, decision))
    if target is None:
        raise InvalidTransition(
            f"a provider that is {current} cannot be given the decision {decision}",
            rule="provider_decision",
            status=str(current),
            decision=str(decision),
        )
    require_reason(reason, needed=decision in NEEDS_REASON)
    return target
