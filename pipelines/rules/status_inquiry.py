"""Which submitted claims went quiet and are due a 276 claim status inquiry (pure).

A claim is quiet when it was submitted before the first moment of the day ``status_after_days``
before "today", is still awaiting an answer (:data:`pipelines.rules.lifecycle.AWAITING_ANSWER`:
submitted or accepted), has nothing paid, its payer is configured, and no 276 about it (in a file
that was not rejected) was made since the day after that cut-off. Days start at midnight UTC.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from pipelines.rules.lifecycle import AWAITING_ANSWER, ClaimStatus

__all__ = ["QUIET_STATUSES", "QuietWindow", "is_quiet", "quiet_window", "start_of"]

QUIET_STATUSES: frozenset[ClaimStatus] = AWAITING_ANSWER


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class QuietWindow:
    submitted_before: datetime  # a claim submitted before this has waited long enough
    asked_since: datetime  # a 276 made since this still counts


def quiet_window(as_of: date, status_after_days: int) -> QuietWindow:
    """The cut-offs for "today" ``as_of``."""
    cutoff = as_of - timedelta(days=status_after_days)
    return QuietWindow(start_of(cutoff), start_of(cutoff + timedelta(days=1)))


def is_quiet(*, status: str, submitted_at: datetime | None, paid: Decimal | None, payer_id: str,
             window: QuietWindow, payers: Collection[str], asked: bool) -> bool:
    """Whether a claim is due a 276 (``asked``: a 276 about it counts in the window)."""
    return (status in QUIET_STATUSES and submitted_at is not None and submitted_at < window.submitted_before
            and not asked and (paid or Decimal("0")) == 0 and payer_id in payers)
