"""Service tracking (服务跟踪): what an SME may say about a service it received, and how the
scores add up. The center reads ratings and complaints to evaluate providers; the public
catalogue shows each provider's and product's average.
"""

from __future__ import annotations

from dataclasses import dataclass

from voucher_app.domain.errors import InvalidRating

LOWEST, HIGHEST = 1, 5
MAX_COMMENT = 1000
#: A redemption is rated once the center approved it: the service was delivered and accepted.
RATEABLE = frozenset({"approved", "settled"})


def check_rating(score: int, comment: str | None) -> str | None:
    """The comment, stripped (None when empty); refused if the score is not 1 to 5 or the
    comment is too long."""
    if type(score) is not int or not LOWEST <= score <= HIGHEST:
        raise InvalidRating(f"a score is a whole number from {LOWEST} to {HIGHEST}", field="score")
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidRating(f"a comment has at most {MAX_COMMENT} characters", field="comment")
    return text or None


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """How many ratings and their average, to one decimal as a catalogue shows it."""

    count: int = 0
    total: int = 0

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 1) if self.count else None
