"""Eligibility rules: which 271 answer is on file, coverage on a date, pairs due a 270, benefit summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from pipelines.rules.coding import code_session
from pipelines.rules.eligibility import (
    Coverage,
    answer_on_file,
    answer_to_show,
    benefit_summary,
    inquiry_since,
    on_file,
    pairs_due,
)
from pipelines.rules.scrub import ELIGIBILITY_INACTIVE, scrub
from tests.unit.test_coding import FEES, PAYER, session

ACTIVE, INACTIVE, REJECTED = True, False, None


def answers(*states: bool | None, patient: str = "P-1", payer: str = "AETNA") -> list[Coverage]:
    """One pair's 271 answers, newest first."""
    return [Coverage(patient, payer, s) for s in states]


class TestAnswerOnFile:
    @pytest.mark.parametrize(("newest_first", "expected"), [
        pytest.param((), None, id="nothing_on_file"),
        pytest.param((ACTIVE,), 0, id="one_active"),
        pytest.param((INACTIVE, ACTIVE), 0, id="newest_inactive_wins"),
        pytest.param((ACTIVE, INACTIVE), 0, id="newest_active_wins"),
        pytest.param((REJECTED, INACTIVE), 1, id="rejection_only_does_not_hide_inactive"),
        pytest.param((REJECTED, REJECTED, ACTIVE), 2, id="several_rejections_skipped"),
        pytest.param((REJECTED,), None, id="only_rejections_say_nothing"),
    ])
    def test_newest_answer_that_states_coverage(self, newest_first: tuple[bool | None, ...],
                                                expected: int | None) -> None:
        """The answer on file is the newest that says active or inactive; AAA-only answers are skipped."""
        given = answers(*newest_first)
        found = answer_on_file(given)
        assert (found is None) if expected is None else (found is given[expected])

    @pytest.mark.parametrize(("newest_first", "expected"), [
        pytest.param((), None, id="nothing"),
        pytest.param((REJECTED, INACTIVE), 1, id="the_answer_on_file"),
        pytest.param((REJECTED, REJECTED), 0, id="else_the_newest_rejection"),
    ])
    def test_answer_to_show(self, newest_first: tuple[bool | None, ...], expected: int | None) -> None:
        """`eligibility show` lists the answer on file, else the newest answer (its rejections)."""
        given = answers(*newest_first)
        found = answer_to_show(given)
        assert (found is None) if expected is None else (found is given[expected])

    def test_on_file_per_pair(self) -> None:
        """Answers of many pairs, newest first: one answer per pair, chosen as for one pair."""
        rows = [Coverage("P-1", "AETNA", None), Coverage("P-2", "AETNA", True), Coverage("P-1", "BCBS", True),
                Coverage("P-1", "AETNA", False), Coverage("P-2", "AETNA", False), Coverage("P-3", "AETNA", None)]
        assert on_file(rows) == {("P-1", "AETNA"): rows[3], ("P-2", "AETNA"): rows[1], ("P-1", "BCBS"): rows[2]}

    def test_rows_with_other_fields_are_kept_as_given(self) -> None:
        """The rule works on any answer with patient, payer and active (e.g. stored rows)."""
        @dataclass
        class Row:
            patient_id: str
            payer_id: str
            active: bool | None
            benefits: list[Any]

        rows = [Row("P-1", "AETNA", None, []), Row("P-1", "AETNA", True, [{"x": 1}])]
        assert answer_on_file(rows) is rows[1]


class TestScrubberUsesTheAnswerOnFile:
    def test_newer_rejection_only_271_does_not_hide_inactive_coverage(self) -> None:
        """An inactive 271 followed by a rejection-only 271 still holds the claim ELIGIBILITY_INACTIVE."""
        s = session()
        newest_first = [Coverage("P-1", "AETNA", None), Coverage("P-1", "AETNA", False)]
        holds = scrub([(s, code_session(s, PAYER, FEES))], payers={"AETNA": PAYER}, authorizations={},
                      eligibility=on_file(newest_first), billing_npi="1234567893", as_of=date(2026, 3, 10))
        assert ELIGIBILITY_INACTIVE in holds[s.encounter_id]


class TestCoverageOnADate:
    @pytest.mark.parametrize(("active", "start", "end", "day", "inactive"), [
        (True, None, None, date(2026, 5, 1), False),
        (True, date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1), True),
        (True, date(2026, 1, 1), None, date(2025, 12, 31), True),
        (False, None, None, date(2026, 5, 1), True),
        (False, date(2026, 1, 1), date(2026, 6, 30), date(2026, 5, 1), False),
        (False, date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1), True),
        (None, None, None, date(2026, 5, 1), False),
    ], ids=["active-no-dates", "active-after-end", "active-before-start", "inactive-no-dates",
            "inactive-inside-ended-coverage", "inactive-after-coverage-ended", "rejection-only-says-nothing"])
    def test_inactive_on(self, active: bool | None, start: date | None, end: date | None, day: date,
                         inactive: bool) -> None:
        """A 271 makes a date of service inactive by its status and the coverage dates it gives."""
        assert Coverage("P1", "AETNA", active, start, end).inactive_on(day) is inactive


@dataclass(frozen=True)
class Enc:
    encounter_id: str
    patient_id: str
    payer_id: str
    date_of_service: date


SINCE = date(2026, 10, 21)


class TestPairsDue:
    def test_window(self) -> None:
        """The window starts max_age_days before today."""
        assert inquiry_since(date(2026, 11, 20), 30) == SINCE

    @pytest.mark.parametrize(("kw", "due"), [
        pytest.param({}, True, id="unsent_encounter"),
        pytest.param({"submitted": {"E-1"}}, False, id="submitted_before_the_window"),
        pytest.param({"submitted": {"E-1"}, "dos": SINCE}, True, id="submitted_within_the_window"),
        pytest.param({"payers": {"BCBS"}}, False, id="payer_not_configured"),
        pytest.param({"checked": {("P-1", "AETNA")}}, False, id="271_on_file_in_window"),
        pytest.param({"asked": {("P-1", "AETNA")}}, False, id="270_sent_in_window"),
        pytest.param({"checked": {("P-1", "BCBS")}}, True, id="other_pair_checked"),
    ])
    def test_pair_selection(self, kw: dict[str, Any], due: bool) -> None:
        """A configured pair with a current encounter is due unless checked or asked in the window."""
        enc = Enc("E-1", "P-1", "AETNA", kw.pop("dos", date(2026, 9, 1)))
        found = pairs_due([enc], since=SINCE, payers=kw.pop("payers", {"AETNA"}),
                          submitted=kw.pop("submitted", set()), checked=kw.pop("checked", set()),
                          asked=kw.pop("asked", set()))
        assert found == ([enc] if due else [])

    def test_latest_encounter_per_pair_in_pair_order(self) -> None:
        """Each pair is asked once, with its latest encounter, pairs ordered by patient then payer."""
        encs = [Enc("E-1", "P-2", "AETNA", date(2026, 11, 1)), Enc("E-2", "P-1", "BCBS", date(2026, 11, 2)),
                Enc("E-3", "P-2", "AETNA", date(2026, 11, 3))]
        found = pairs_due(encs, since=SINCE, payers={"AETNA", "BCBS"}, submitted=set(), checked=set(), asked=set())
        assert [e.encounter_id for e in found] == ["E-2", "E-3"]


class TestBenefitSummary:
    @pytest.mark.parametrize(("benefit", "text"), [
        pytest.param({"service_type": "MH", "description": "Mental Health"}, "MH Mental Health", id="bare"),
        pytest.param({"service_type": "MH", "description": "Mental Health", "coverage": "Active Coverage",
                      "copay": [{"amount": "25.00", "in_network": True}, {"amount": "50.00", "in_network": False}],
                      "coinsurance": [{"percent": "20", "in_network": None}]},
                     "MH Mental Health; Active Coverage; copay 25.00 in-network, 50.00 out-of-network; "
                     "coinsurance 20%", id="amounts_with_network"),
        pytest.param({"service_type": "30", "description": "Plan", "deductible": [{"amount": "500.00"}],
                      "deductible_remaining": [{"amount": "125.00"}], "visit_limit": 30, "visits_remaining": 18},
                     "30 Plan; deductible 500.00; deductible remaining 125.00; visit limit 30; visits remaining 18",
                     id="deductibles_and_visits"),
        pytest.param({"service_type": "MH", "description": "Mental Health", "auth_required": False,
                      "auth_required_procedures": ["90837"]},
                     "MH Mental Health; no auth required; auth required for 90837", id="authorization"),
        pytest.param({"service_type": "MH", "description": "Mental Health", "visit_limit": 0,
                      "auth_required": True}, "MH Mental Health; visit limit 0; auth required", id="zero_limit"),
    ])
    def test_summary(self, benefit: dict[str, Any], text: str) -> None:
        """A stored benefit reads as one line: type, coverage, amounts by network, limits, authorization."""
        assert benefit_summary(benefit) == text
