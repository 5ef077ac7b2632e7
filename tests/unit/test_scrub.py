"""Scrubbing rules of CONTRACT section 5: per-claim and cross-encounter holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from pipelines.rules.coding import (
    DX_INVALID,
    DX_NOT_SUPPORTING,
    TIME_BELOW_MINIMUM,
    CodedClaim,
    PayerRules,
    Session,
    code_session,
)
from pipelines.rules.eligibility import Coverage, on_file
from pipelines.rules.scrub import (
    AUTH_EXHAUSTED,
    AUTH_EXPIRED,
    AUTH_MISSING,
    AUTH_NOT_FOR_SERVICE,
    CODE_CONFLICT,
    DUPLICATE_SESSION,
    ELIGIBILITY_INACTIVE,
    HOLD_ORDER,
    MEMBER_ID_MISSING,
    NPI_INVALID,
    TIMELY_FILING_EXPIRED,
    VISIT_LIMIT_REACHED,
    Authorization,
    Tally,
    scrub,
)
from tests.unit.test_coding import FEES, PAYER, session

BILLING_NPI = "1234567893"
AS_OF = date(2026, 3, 10)
AUTH = Authorization(
    number="A-1",
    patient_id="P-1",
    payer_id="AETNA",
    start_date=date(2026, 1, 1),
    end_date=date(2026, 6, 30),
    visits_authorized=10,
)
PAYERS = {
    "AETNA": PAYER,
    "CIGNA": replace(PAYER, id="CIGNA", auth_required=frozenset(), visit_limit_per_year=0),
}


def coded(s: Session) -> tuple[Session, CodedClaim]:
    return s, code_session(s, PAYERS[s.payer_id], FEES)


def run(
    sessions: Sequence[Session],
    *,
    history: Sequence[Session] = (),
    authorizations: Mapping[str, Authorization] | None = None,
    eligibility: Sequence[Coverage] = (),  # the 271s on file, oldest first
    billing_npi: str = BILLING_NPI,
    as_of: date = AS_OF,
    payers: Mapping[str, PayerRules] = PAYERS,
) -> dict[str, tuple[str, ...]]:
    return scrub(
        [coded(s) for s in sessions],
        payers=payers,
        authorizations={AUTH.number: AUTH} if authorizations is None else authorizations,
        eligibility=on_file(reversed(eligibility)),
        billing_npi=billing_npi,
        as_of=as_of,
        history=[coded(s) for s in history],
    )


def visit(encounter_id: str, day: date, **overrides: Any) -> Session:
    return session(encounter_id=encounter_id, date_of_service=day, **overrides)


class TestPerClaimHolds:
    @pytest.mark.parametrize(
        ("overrides", "scrub_args", "holds"),
        [
            pytest.param({}, {}, (), id="clean_claim"),
            pytest.param({"member_id": ""}, {}, (MEMBER_ID_MISSING,), id="member_id_missing"),
            pytest.param({"member_id": "  "}, {}, (MEMBER_ID_MISSING,), id="member_id_blank"),
            pytest.param({"rendering_npi": "1234567890"}, {}, (NPI_INVALID,), id="npi_invalid_rendering"),
            pytest.param({}, {"billing_npi": "1234567894"}, (NPI_INVALID,), id="npi_invalid_billing"),
            pytest.param(
                {"date_of_service": date(2025, 9, 11)}, {}, (), id="timely_filing_180_days_is_in_time"
            ),
            pytest.param(
                {"date_of_service": date(2025, 9, 10)},
                {},
                (TIMELY_FILING_EXPIRED,),
                id="timely_filing_181_days",
            ),
            pytest.param(
                {"date_of_service": date(2025, 9, 10)},
                {"payers": {"AETNA": replace(PAYER, timely_filing_days=365)}},
                (),
                id="timely_filing_per_payer",
            ),
        ],
    )
    def test_holds(
        self, overrides: dict[str, Any], scrub_args: dict[str, Any], holds: tuple[str, ...]
    ) -> None:
        """Member id, NPIs and timely filing are checked claim by claim."""
        assert run([session(**overrides)], **scrub_args) == {"E-1": holds}

    @pytest.mark.parametrize(
        ("eligibility", "held"),
        [
            pytest.param([], False, id="no_271_on_file"),
            pytest.param([Coverage("P-1", "AETNA", True)], False, id="active_no_dates"),
            pytest.param([Coverage("P-1", "AETNA", False)], True, id="inactive_status"),
            pytest.param(
                [Coverage("P-1", "AETNA", True, date(2026, 3, 3), None)], True, id="before_coverage_start"
            ),
            pytest.param(
                [Coverage("P-1", "AETNA", True, None, date(2026, 3, 1))], True, id="after_coverage_end"
            ),
            pytest.param(
                [Coverage("P-1", "AETNA", True, date(2026, 3, 2), date(2026, 3, 2))],
                False,
                id="dates_inclusive",
            ),
            pytest.param([Coverage("P-1", "CIGNA", False)], False, id="other_payer_ignored"),
            pytest.param([Coverage("P-2", "AETNA", False)], False, id="other_patient_ignored"),
            pytest.param(
                [Coverage("P-1", "AETNA", False), Coverage("P-1", "AETNA", True)],
                False,
                id="latest_271_wins_active",
            ),
            pytest.param(
                [Coverage("P-1", "AETNA", True), Coverage("P-1", "AETNA", False)],
                True,
                id="latest_271_wins_inactive",
            ),
            pytest.param(
                [Coverage("P-1", "AETNA", False), Coverage("P-1", "AETNA", None)],
                True,
                id="newer_rejection_only_271_does_not_hide_inactive",
            ),
            pytest.param([Coverage("P-1", "AETNA", None)], False, id="rejection_only_271_says_nothing"),
        ],
    )
    def test_eligibility(self, eligibility: list[Coverage], held: bool) -> None:
        """A 271 on file showing the coverage inactive on the date of service holds the claim."""
        holds = run([session()], eligibility=eligibility)["E-1"]
        assert holds == ((ELIGIBILITY_INACTIVE,) if held else ())

    def test_unknown_payer_is_refused(self) -> None:
        """A new claim whose payer is not configured is an error naming the encounter."""
        with pytest.raises(ValueError, match="E-1"):
            run([session()], payers={"CIGNA": PAYERS["CIGNA"]})


class TestAuthorization:
    @pytest.mark.parametrize(
        ("overrides", "authorizations", "holds"),
        [
            pytest.param({"minutes": 45}, None, (), id="code_not_auth_required"),
            pytest.param({}, None, (AUTH_MISSING,), id="auth_missing_no_number"),
            pytest.param(
                {"authorization_number": " "}, None, (AUTH_MISSING,), id="auth_missing_blank_number"
            ),
            pytest.param(
                {"authorization_number": "A-9"}, None, (AUTH_MISSING,), id="auth_missing_not_on_file"
            ),
            pytest.param(
                {"authorization_number": "A-1", "patient_id": "P-2"},
                None,
                (AUTH_MISSING,),
                id="auth_other_patient",
            ),
            pytest.param(
                {"authorization_number": "A-1"},
                {"A-1": replace(AUTH, payer_id="CIGNA")},
                (AUTH_MISSING,),
                id="auth_other_payer",
            ),
            pytest.param({"authorization_number": "A-1"}, None, (), id="auth_valid"),
            pytest.param(
                {"authorization_number": "A-1", "date_of_service": date(2025, 12, 31)},
                None,
                (AUTH_EXPIRED,),
                id="auth_expired_before_start",
            ),
            pytest.param(
                {"authorization_number": "A-1", "date_of_service": date(2026, 1, 1)},
                None,
                (),
                id="auth_start_inclusive",
            ),
            pytest.param(
                {"authorization_number": "A-1"},
                {"A-1": replace(AUTH, end_date=date(2026, 3, 1))},
                (AUTH_EXPIRED,),
                id="auth_expired_after_end",
            ),
            pytest.param(
                {"authorization_number": "A-1"},
                {"A-1": replace(AUTH, service_codes=frozenset({"90834"}))},
                (AUTH_NOT_FOR_SERVICE,),
                id="auth_not_for_service",
            ),
            pytest.param(
                {"authorization_number": "A-1"},
                {"A-1": replace(AUTH, service_codes=frozenset({"90837", "90834"}))},
                (),
                id="auth_lists_the_service",
            ),
            pytest.param(
                {"authorization_number": "A-1", "date_of_service": date(2026, 7, 1)},
                {"A-1": replace(AUTH, service_codes=frozenset({"H0015"}))},
                (AUTH_EXPIRED, AUTH_NOT_FOR_SERVICE),
                id="auth_expired_and_not_for_service",
            ),
            pytest.param(
                {"service": "sud_intensive_outpatient", "diagnoses": ("F10.20",)},
                None,
                (AUTH_MISSING,),
                id="auth_missing_h_code",
            ),
            pytest.param({"minutes": 10}, None, (TIME_BELOW_MINIMUM,), id="no_lines_no_auth_check"),
        ],
    )
    def test_auth_rules(
        self,
        overrides: dict[str, Any],
        authorizations: dict[str, Authorization] | None,
        holds: tuple[str, ...],
    ) -> None:
        """Encounters with an auth_required code need an authorization on file, in date, covering the code."""
        overrides = {"minutes": 60, "date_of_service": date(2026, 3, 2), **overrides}
        assert run([session(**overrides)], authorizations=authorizations)["E-1"] == holds

    def test_exhausted_past_visits_authorized(self) -> None:
        """Counting in date then id order, encounters past visits_authorized are held, older history counted."""
        auths = {"A-1": replace(AUTH, visits_authorized=3)}
        kw: dict[str, Any] = {"minutes": 60, "authorization_number": "A-1"}
        history = [visit("H-1", date(2026, 1, 5), **kw)]
        new = [
            visit("E-4", date(2026, 2, 9), **kw),
            visit("E-3", date(2026, 2, 2), rendering_npi="1245319599", **kw),
            visit("E-2", date(2026, 2, 2), **kw),
            visit("E-5", date(2026, 1, 20), minutes=45, authorization_number="A-1"),  # 90834: not counted
        ]
        result = run(new, history=history, authorizations=auths)
        assert result == {"E-4": (AUTH_EXHAUSTED,), "E-3": (), "E-2": (), "E-5": ()}

    def test_history_never_held(self) -> None:
        """History encounters count against the authorization but only new ones are held."""
        auths = {"A-1": replace(AUTH, visits_authorized=1)}
        kw: dict[str, Any] = {"minutes": 60, "authorization_number": "A-1"}
        history = [visit("H-2", date(2026, 3, 1), **kw), visit("H-1", date(2026, 2, 1), **kw)]
        result = run([visit("E-1", date(2026, 1, 15), **kw)], history=history, authorizations=auths)
        assert result == {"E-1": ()}

    def test_held_encounters_still_count(self) -> None:
        """An encounter held for another reason still uses a visit of the authorization."""
        auths = {"A-1": replace(AUTH, visits_authorized=1)}
        kw: dict[str, Any] = {"minutes": 60, "authorization_number": "A-1"}
        new = [visit("E-1", date(2026, 2, 1), member_id="", **kw), visit("E-2", date(2026, 2, 2), **kw)]
        assert run(new, authorizations=auths) == {"E-1": (MEMBER_ID_MISSING,), "E-2": (AUTH_EXHAUSTED,)}


class TestVisitLimit:
    def _payers(self, limit: int) -> dict[str, PayerRules]:
        return {
            "AETNA": replace(PAYER, visit_limit_per_year=limit, auth_required=frozenset()),
            "CIGNA": PAYERS["CIGNA"],
        }

    @pytest.mark.parametrize(
        ("limit", "held"),
        [
            pytest.param(0, [], id="limit_zero_is_none"),
            pytest.param(4, [], id="at_limit_not_held"),
            pytest.param(3, ["E-4"], id="one_past_limit"),
            pytest.param(1, ["E-2", "E-3", "E-4"], id="all_past_limit"),
        ],
    )
    def test_limit(self, limit: int, held: list[str]) -> None:
        """Psychotherapy encounters past visit_limit_per_year in one calendar year are held."""
        new = [
            visit("E-2", date(2026, 2, 1)),
            visit("E-1", date(2026, 1, 5)),
            visit("E-4", date(2026, 2, 1), service="family_therapy_with_patient"),
            visit("E-3", date(2026, 2, 1), service="group_therapy"),
        ]
        result = run(new, payers=self._payers(limit))
        assert sorted(e for e, holds in result.items() if VISIT_LIMIT_REACHED in holds) == held

    @pytest.mark.parametrize(
        ("second", "held"),
        [
            pytest.param({}, True, id="second_therapy_held"),
            pytest.param({"date_of_service": date(2027, 1, 4)}, False, id="new_calendar_year_resets"),
            pytest.param({"patient_id": "P-2"}, False, id="other_patient"),
            pytest.param({"payer_id": "CIGNA"}, False, id="other_payer"),
            pytest.param({"service": "crisis", "minutes": 60}, False, id="crisis_not_counted"),
            pytest.param({"service": "diagnostic_evaluation"}, False, id="evaluation_not_counted"),
            pytest.param({"service": "med_management", "em_code": "99213"}, False, id="em_alone_not_counted"),
            pytest.param(
                {"service": "med_management_with_therapy", "em_code": "99213", "therapy_minutes": 20},
                True,
                id="em_with_addon_counted",
            ),
            pytest.param({"service": "multi_family_group"}, True, id="multi_family_counted"),
        ],
    )
    def test_what_counts(self, second: dict[str, Any], held: bool) -> None:
        """Only the patient's psychotherapy encounters with the same payer in the same year count."""
        history = [visit("H-1", date(2026, 1, 5))]
        overrides: dict[str, Any] = {
            "date_of_service": date(2026, 2, 2),
            "rendering_npi": "1245319599",
            **second,
        }
        result = run(
            [session(encounter_id="E-2", **overrides)],
            history=history,
            payers=self._payers(1),
            as_of=date(2027, 1, 10),
        )
        assert (VISIT_LIMIT_REACHED in result["E-2"]) is held


class TestSameDayConflicts:
    @pytest.mark.parametrize(
        ("first", "second", "reason"),
        [
            pytest.param(
                {"service": "diagnostic_evaluation"}, {"minutes": 45}, CODE_CONFLICT, id="code_conflict_90791"
            ),
            pytest.param(
                {"service": "diagnostic_evaluation_medical"},
                {"service": "group_therapy"},
                CODE_CONFLICT,
                id="code_conflict_90792_group",
            ),
            pytest.param(
                {"service": "diagnostic_evaluation"},
                {"service": "med_management_with_therapy", "em_code": "99213", "therapy_minutes": 20},
                CODE_CONFLICT,
                id="code_conflict_addon",
            ),
            pytest.param({"minutes": 45}, {"minutes": 20}, DUPLICATE_SESSION, id="duplicate_session_timed"),
            pytest.param(
                {"minutes": 60}, {"minutes": 60}, DUPLICATE_SESSION, id="duplicate_session_same_code"
            ),
        ],
    )
    def test_both_held(self, first: dict[str, Any], second: dict[str, Any], reason: str) -> None:
        """Two conflicting encounters for the same patient, date and clinician are both held."""
        new = [session(encounter_id="E-1", **first), session(encounter_id="E-2", **second)]
        result = run(new, payers={"AETNA": PAYERS["CIGNA"]})
        assert result == {"E-1": (reason,), "E-2": (reason,)}

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            pytest.param(
                {"service": "diagnostic_evaluation"}, {"rendering_npi": "1245319599"}, id="other_clinician"
            ),
            pytest.param({"service": "diagnostic_evaluation"}, {"patient_id": "P-2"}, id="other_patient"),
            pytest.param(
                {"service": "diagnostic_evaluation"}, {"date_of_service": date(2026, 3, 3)}, id="other_date"
            ),
            pytest.param(
                {"service": "diagnostic_evaluation"}, {"service": "crisis"}, id="evaluation_and_crisis"
            ),
            pytest.param(
                {"service": "diagnostic_evaluation"},
                {"service": "med_management", "em_code": "99213"},
                id="evaluation_and_em",
            ),
            pytest.param(
                {"minutes": 45},
                {"service": "med_management_with_therapy", "em_code": "99213", "therapy_minutes": 20},
                id="timed_and_addon_not_duplicate",
            ),
            pytest.param({"minutes": 45}, {"service": "group_therapy"}, id="timed_and_group_not_duplicate"),
            pytest.param({"minutes": 45}, {"minutes": 10}, id="short_session_has_no_code"),
        ],
    )
    def test_no_conflict(self, first: dict[str, Any], second: dict[str, Any]) -> None:
        """Different patient, date or clinician, or codes outside the rules, raise no same-day hold."""
        new = [session(encounter_id="E-1", **first), session(encounter_id="E-2", **second)]
        result = run(new, payers={"AETNA": PAYERS["CIGNA"]})
        assert not {CODE_CONFLICT, DUPLICATE_SESSION} & {r for holds in result.values() for r in holds}

    def test_history_conflict_holds_only_new(self) -> None:
        """A conflict with an encounter already submitted holds the new one only."""
        history = [session(encounter_id="H-1", minutes=45)]
        new = [
            session(encounter_id="E-1", minutes=45),
            session(encounter_id="E-2", service="diagnostic_evaluation"),
        ]
        result = run(new, history=history, payers={"AETNA": PAYERS["CIGNA"]})
        assert result == {"E-1": (CODE_CONFLICT, DUPLICATE_SESSION), "E-2": (CODE_CONFLICT,)}

    def test_resubmitted_encounter_does_not_conflict_with_itself(self) -> None:
        """A history entry with a new encounter's id is replaced by it, not counted beside it."""
        history = [session(encounter_id="E-1", minutes=45)]
        result = run(
            [session(encounter_id="E-1", minutes=45)], history=history, payers={"AETNA": PAYERS["CIGNA"]}
        )
        assert result == {"E-1": ()}


class TestHoldOrder:
    def test_every_reason_in_fixed_order(self) -> None:
        """All applicable reasons are reported, coding holds first, then in the contract's table order."""
        s = session(
            minutes=60,
            member_id="",
            rendering_npi="1234567890",
            diagnoses=("XYZ",),
            authorization_number="A-1",
            date_of_service=date(2025, 7, 1),
        )
        result = run([s], eligibility=[Coverage("P-1", "AETNA", False)])
        assert result["E-1"] == (
            DX_INVALID,
            DX_NOT_SUPPORTING,
            MEMBER_ID_MISSING,
            NPI_INVALID,
            AUTH_EXPIRED,
            TIMELY_FILING_EXPIRED,
            ELIGIBILITY_INACTIVE,
        )

    def test_hold_order_lists_each_reason_once(self) -> None:
        """HOLD_ORDER names every reason of section 5 plus FEE_MISSING exactly once."""
        assert len(HOLD_ORDER) == len(set(HOLD_ORDER)) == 16


class TestChunks:
    """Scrubbing a run of claims date by date with one Tally (each date with the history up to it)
    gives the holds of one call over all."""

    AUTHS = {"A-1": replace(AUTH, visits_authorized=3)}
    PAYERS = {"AETNA": replace(PAYER, visit_limit_per_year=5)}

    def _encounters(self) -> tuple[list[Session], list[Session]]:
        kw: dict[str, Any] = {"minutes": 60, "authorization_number": "A-1"}
        history = [visit("H-1", date(2026, 1, 5), **kw), visit("H-2", date(2026, 2, 2), **kw)]
        new = [visit("E-1", date(2026, 1, 12), **kw), visit("E-2", date(2026, 2, 2), rendering_npi="1245319599"),
               visit("E-3", date(2026, 2, 9), **kw), visit("E-4", date(2026, 3, 2), **kw),
               visit("E-5", date(2026, 3, 2), rendering_npi="1245319599", **kw)]
        return history, new

    def _scrub(self, new: Sequence[Session], history: Sequence[Session], tally: Tally | None) -> dict[str, Any]:
        return scrub([coded(s) for s in new], payers=self.PAYERS, authorizations=self.AUTHS, eligibility={},
                     billing_npi=BILLING_NPI, as_of=AS_OF, history=[coded(s) for s in history], tally=tally)

    def test_date_by_date_equals_one_call(self) -> None:
        history, new = self._encounters()
        whole = self._scrub(new, history, None)
        assert whole["E-3"] == (AUTH_EXHAUSTED,)  # H-1, E-1, H-2 used the three visits
        assert whole["E-4"] == whole["E-5"] == (AUTH_EXHAUSTED, VISIT_LIMIT_REACHED)
        tally = Tally()
        chunked: dict[str, Any] = {}
        for day in sorted({s.date_of_service for s in [*history, *new]}):
            chunked |= self._scrub([s for s in new if s.date_of_service == day],
                                   [s for s in history if s.date_of_service <= day], tally)
        assert chunked == whole
        assert tally.authorizations == {"A-1": 4} and tally.visits == {("P-1", "AETNA", 2026): 5}  # new ones

    def test_without_a_tally_each_chunk_counts_from_zero(self) -> None:
        """What the Tally is for: the last chunk alone sees no visit used."""
        history, new = self._encounters()
        assert self._scrub([s for s in new if s.encounter_id in ("E-4", "E-5")], [], None) == {
            "E-4": (), "E-5": ()}
