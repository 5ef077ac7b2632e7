"""Which submitted claims went quiet and are due a 276 (pipelines.rules.status_inquiry)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.rules.status_inquiry import QUIET_STATUSES, is_quiet, quiet_window

AS_OF = date(2026, 12, 15)
WINDOW = quiet_window(AS_OF, 30)


class TestQuietWindow:
    def test_cutoffs(self) -> None:
        """Submitted before midnight UTC 30 days back; a 276 since the day after counts."""
        assert WINDOW.submitted_before == datetime(2026, 11, 15, tzinfo=UTC)
        assert WINDOW.asked_since == datetime(2026, 11, 16, tzinfo=UTC)

    def test_quiet_statuses_are_those_awaiting_an_answer(self) -> None:
        """Submitted and accepted claims can go quiet; nothing else."""
        assert sorted(QUIET_STATUSES) == ["accepted", "submitted"]


class TestIsQuiet:
    @pytest.mark.parametrize(("kw", "quiet"), [
        pytest.param({}, True, id="submitted_long_ago"),
        pytest.param({"status": "accepted"}, True, id="accepted_long_ago"),
        pytest.param({"status": "paid"}, False, id="paid_status"),
        pytest.param({"status": "rejected"}, False, id="rejected"),
        pytest.param({"submitted_at": datetime(2026, 11, 15, tzinfo=UTC)}, False, id="on_the_cutoff_is_not_more"),
        pytest.param({"submitted_at": None}, False, id="never_submitted"),
        pytest.param({"paid": Decimal("10.00")}, False, id="something_paid"),
        pytest.param({"paid": None}, True, id="paid_unknown_is_zero"),
        pytest.param({"payer_id": "CIGNA"}, False, id="payer_not_configured"),
        pytest.param({"asked": True}, False, id="asked_in_window"),
    ])
    def test_table(self, kw: dict[str, Any], quiet: bool) -> None:
        """A claim awaiting an answer, submitted before the cut-off, unpaid and not asked about is quiet."""
        args: dict[str, Any] = {"status": "submitted", "submitted_at": datetime(2026, 11, 1, 12, tzinfo=UTC),
                                "paid": Decimal("0.00"), "payer_id": "AETNA", "asked": False} | kw
        assert is_quiet(window=WINDOW, payers={"AETNA"}, **args) is quiet
