"""Reasons people give for decisions (a rejection, a suspension, a revocation): required where
the decision affects someone, and short enough to show them."""

from __future__ import annotations

from voucher_app.domain.errors import InvalidInput

MAX_REASON = 500


def require_reason(text: str | None, *, needed: bool = True) -> str | None:
    """The reason, stripped; refused when missing (if `needed`) or too long."""
    reason = (text or "").strip()
    if needed and not reason:
        raise InvalidInput(
            "say why: this decision needs a reason", rule="reason_missing", field="reason"
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"a reason has at most {MAX_REASON} characters",
            rule="reason_too_long",
            extra={"limit": MAX_REASON},
            field="reason",
        )
    return reason or None
