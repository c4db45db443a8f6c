"""A provider's standing with its center, as the module's diagram draws it: approved from
pending, rejected from pending with a reason, suspended with a reason once approved, reinstated
from suspension; nothing else."""

from __future__ import annotations

import pytest

from tests.words import said
from voucher_app.domain.errors import InvalidInput, InvalidTransition
from voucher_app.domain.providers import ProviderDecision, ProviderStatus, decide

S, D = ProviderStatus, ProviderDecision
#: Written out from the diagram: (from, decision) -> to. Every other pair is refused.
STANDING = {
    (S.PENDING, D.APPROVE): S.APPROVED,
    (S.PENDING, D.REJECT): S.REJECTED,
    (S.APPROVED, D.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, D.REINSTATE): S.APPROVED,
}


@pytest.mark.parametrize("decision", list(ProviderDecision))
@pytest.mark.parametrize("current", list(ProviderStatus))
def test_each_decision_moves_a_provider_only_as_the_diagram_allows(
    current: ProviderStatus, decision: ProviderDecision
) -> None:
    if (current, decision) in STANDING:
        assert decide(current, decision, "documents checked") is STANDING[current, decision]
    else:
        with pytest.raises(InvalidTransition) as refused:
            decide(current, decision, "documents checked")
        assert refused.value.code == "invalid_transition"
        assert refused.value.details == {"status": current.value, "decision": decision.value}
        assert str(refused.value) == (
            f"a provider that is {current.value} cannot be given the decision {decision.value}"
        )
        assert said(refused.value) == "服务机构当前状态不允许该操作"


@pytest.mark.parametrize(("current", "decision"), [(S.PENDING, D.REJECT), (S.APPROVED, D.SUSPEND)])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_rejecting_or_suspending_a_provider_needs_a_reason(
    current: ProviderStatus, decision: ProviderDecision, reason: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        decide(current, decision, reason)
    assert refused.value.code == "invalid_input"
    assert refused.value.details == {"field": "reason"}


@pytest.mark.parametrize(
    ("current", "decision", "after"),
    [(S.PENDING, D.APPROVE, S.APPROVED), (S.SUSPENDED, D.REINSTATE, S.APPROVED)],
)
def test_approving_or_reinstating_a_provider_needs_no_reason(
    current: ProviderStatus, decision: ProviderDecision, after: ProviderStatus
) -> None:
    assert decide(current, decision, None) is after
    assert decide(current, decision, "") is after


def test_a_decision_its_status_does_not_allow_is_refused_as_such_even_without_a_reason() -> None:
    with pytest.raises(InvalidTransition):
        decide(S.REJECTED, D.SUSPEND, None)


def test_a_reason_too_long_to_show_is_refused_even_where_none_is_needed() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide(S.PENDING, D.APPROVE, "x" * 501)
    assert refused.value.details == {"field": "reason"}
    assert decide(S.PENDING, D.APPROVE, "x" * 500) is S.APPROVED
