"""Timely filing: a claim's deadline, and which claims are at risk of missing it (CONTRACT section 8).

A claim's deadline is its date of service plus the payer's ``timely_filing_days``; a next-payer leg
counts from the previous payer's 835 date instead. A claim is **at risk** as of a date when it is not
yet adjudicated (held, ready, rejected, or denied and awaiting correction) and its deadline is that
date or within the next ``within_days`` days. A claim already past its deadline is not at risk: the
scrubber holds it ``TIMELY_FILING_EXPIRED`` (the date of service is more than ``timely_filing_days``
before "today", i.e. "today" is after the deadline).

Pure functions: no database, no clock. :func:`service_window` turns the rule into the range of
dates of service a query can filter on, so the report and ``edi claims list --at-risk`` need no
per-claim loop.
"""

from __future__ import annotations

from datetime import date, timedelta

from pipelines.rules.lifecycle import ClaimStatus

__all__ = ["AT_RISK_STATUSES", "DEFAULT_WITHIN_DAYS", "days_left", "deadline", "is_at_risk", "is_expired",
           "service_window"]

DEFAULT_WITHIN_DAYS = 30
AT_RISK_STATUSES = frozenset({ClaimStatus.HELD, ClaimStatus.READY, ClaimStatus.REJECTED, ClaimStatus.DENIED})
"""Statuses a claim may be at risk in: not yet adjudicated, or denied (only while awaiting correction)."""


def deadline(date_of_service: date, timely_filing_days: int, *, previous_payment_date: date | None = None) -> date:
    """The last day the payer takes the claim: the date of service (or, for a next-payer leg, the
    previous payer's 835 date) plus ``timely_filing_days``."""
    if timely_filing_days < 0:
        raise ValueError(f"timely_filing_days must be 0 or more, got {timely_filing_days}")
    start = previous_payment_date if previous_payment_date is not None else date_of_service
    return start + timedelta(days=timely_filing_days)


def days_left(deadline_: date, as_of: date) -> int:
    """Days from ``as_of`` to the deadline (0 on the deadline itself, negative once past it)."""
    return (deadline_ - as_of).days


def is_expired(deadline_: date, as_of: date) -> bool:
    """Whether the deadline has passed as of ``as_of`` (the deadline day itself is still in time)."""
    return as_of > deadline_


def is_at_risk(status: ClaimStatus | str, deadline_: date, as_of: date, *,
               within_days: int = DEFAULT_WITHIN_DAYS, awaiting_correction: bool = True) -> bool:
    """Whether a claim in ``status`` with this deadline is at risk as of ``as_of``.

    ``awaiting_correction`` matters only for a denied claim: one the practice is correcting to
    resubmit is at risk, one that is appealed or written off is not."""
    st = ClaimStatus(status)
    if st not in AT_RISK_STATUSES or (st is ClaimStatus.DENIED and not awaiting_correction):
        return False
    return 0 <= days_left(deadline_, as_of) <= within_days


def service_window(as_of: date, timely_filing_days: int, *,
                   within_days: int = DEFAULT_WITHIN_DAYS) -> tuple[date, date]:
    """The first and last date of service (inclusive) whose deadline falls between ``as_of`` and
    ``as_of + within_days``, for a payer with ``timely_filing_days``."""
    first = as_of - timedelta(days=timely_filing_days)
    return first, first + timedelta(days=within_days)
