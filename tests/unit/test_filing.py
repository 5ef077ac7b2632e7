"""Timely filing deadlines and at-risk claims (pipelines.rules.filing), as tables."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipelines.rules.filing import (
    AT_RISK_STATUSES,
    days_left,
    deadline,
    is_at_risk,
    is_expired,
    service_window,
)
from pipelines.rules.lifecycle import ClaimStatus

AS_OF = date(2026, 12, 1)


class TestDeadline:
    @pytest.mark.parametrize(("dos", "days", "previous", "expected"), [
        pytest.param(date(2026, 1, 1), 90, None, date(2026, 4, 1), id="dos_plus_days"),
        pytest.param(date(2026, 1, 1), 365, None, date(2027, 1, 1), id="a_year"),
        pytest.param(date(2024, 2, 28), 1, None, date(2024, 2, 29), id="leap_day"),
        pytest.param(date(2026, 1, 1), 0, None, date(2026, 1, 1), id="zero_days_is_the_date_itself"),
        pytest.param(date(2026, 1, 1), 90, date(2026, 3, 15), date(2026, 6, 13), id="next_payer_from_835_date"),
    ])
    def test_table(self, dos: date, days: int, previous: date | None, expected: date) -> None:
        """The deadline is the date of service (or the previous payer's 835 date) plus the payer's days."""
        assert deadline(dos, days, previous_payment_date=previous) == expected

    def test_negative_days_refused(self) -> None:
        """A negative filing limit is a configuration error, not a deadline in the past."""
        with pytest.raises(ValueError, match="timely_filing_days"):
            deadline(date(2026, 1, 1), -1)


class TestExpiredAndDaysLeft:
    @pytest.mark.parametrize(("offset", "left", "expired"), [
        pytest.param(10, 10, False, id="ten_days_ahead"),
        pytest.param(0, 0, False, id="deadline_today_still_in_time"),
        pytest.param(-1, -1, True, id="yesterday_expired"),
    ])
    def test_table(self, offset: int, left: int, expired: bool) -> None:
        """Days left count to the deadline; the deadline day itself is not yet expired."""
        d = AS_OF + timedelta(days=offset)
        assert (days_left(d, AS_OF), is_expired(d, AS_OF)) == (left, expired)

    def test_agrees_with_the_scrubber(self) -> None:
        """Expired exactly when the scrubber holds TIMELY_FILING_EXPIRED: more than N days since the service."""
        for age in (89, 90, 91):
            dos = AS_OF - timedelta(days=age)
            assert is_expired(deadline(dos, 90), AS_OF) == ((AS_OF - dos).days > 90)


class TestAtRisk:
    @pytest.mark.parametrize(("status", "offset", "awaiting", "within", "expected"), [
        pytest.param("held", 0, True, 30, True, id="held_deadline_today"),
        pytest.param("ready", 30, True, 30, True, id="ready_deadline_at_window_end"),
        pytest.param("ready", 31, True, 30, False, id="ready_deadline_past_window"),
        pytest.param("rejected", 5, True, 30, True, id="rejected_soon"),
        pytest.param("held", -1, True, 30, False, id="past_deadline_is_not_at_risk"),
        pytest.param("denied", 5, True, 30, True, id="denied_awaiting_correction"),
        pytest.param("denied", 5, False, 30, False, id="denied_appealed_or_written_off"),
        pytest.param("submitted", 5, True, 30, False, id="submitted_is_with_the_payer"),
        pytest.param("accepted", 5, True, 30, False, id="accepted_is_with_the_payer"),
        pytest.param("paid", 5, True, 30, False, id="paid_is_adjudicated"),
        pytest.param("patient_responsibility", 5, True, 30, False, id="pr_is_adjudicated"),
        pytest.param("held", 10, True, 7, False, id="narrower_window"),
        pytest.param(ClaimStatus.HELD, 7, True, 7, True, id="enum_member"),
    ])
    def test_table(self, status: str, offset: int, awaiting: bool, within: int, expected: bool) -> None:
        """Not yet adjudicated claims whose deadline is today or within N days are at risk."""
        d = AS_OF + timedelta(days=offset)
        assert is_at_risk(status, d, AS_OF, within_days=within, awaiting_correction=awaiting) is expected

    def test_statuses(self) -> None:
        """The at-risk statuses are the contract's: held, ready, rejected, denied."""
        assert {s.value for s in AT_RISK_STATUSES} == {"held", "ready", "rejected", "denied"}

    def test_unknown_status_refused(self) -> None:
        """A status that is not a ClaimStatus is an error, not silently 'not at risk'."""
        with pytest.raises(ValueError):
            is_at_risk("lost", AS_OF, AS_OF)


class TestServiceWindow:
    @pytest.mark.parametrize(("days", "within"), [(90, 30), (180, 30), (365, 7), (0, 30)])
    def test_window_matches_the_rule(self, days: int, within: int) -> None:
        """Dates of service inside the window are exactly those whose deadline is at risk."""
        first, last = service_window(AS_OF, days, within_days=within)
        for offset in range(-3, days + within + 4):
            dos = AS_OF - timedelta(days=days) + timedelta(days=offset - 1)
            inside = first <= dos <= last
            assert inside == is_at_risk("held", deadline(dos, days), AS_OF, within_days=within), dos
