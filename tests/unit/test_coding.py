"""Coding rules of CONTRACT section 4: codes, units, modifiers, place of service, pointers, holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.rules.coding import (
    ADDON_NOT_ALLOWED,
    DX_EXCLUDES1,
    DX_INVALID,
    DX_NOT_SUPPORTING,
    DX_TRUNCATED,
    FEE_MISSING,
    SERVICES,
    TIME_BELOW_MINIMUM,
    CodedClaim,
    PayerRules,
    Session,
    code_session,
)

PAYER = PayerRules(
    id="AETNA",
    telehealth_modifier="95",
    audio_only_modifier="93",
    credential_modifiers={"LCSW": "HO", "LMFT": "HO", "PhD": "HP"},
    auth_required=frozenset({"90837", "H0015"}),
    visit_limit_per_year=30,
    timely_filing_days=180,
)
FEES = {
    code: Decimal(amount)
    for code, amount in {
        "90791": "250.00",
        "90792": "275.00",
        "90832": "100.00",
        "90833": "80.00",
        "90834": "140.00",
        "90836": "110.00",
        "90837": "180.00",
        "90838": "150.00",
        "90839": "200.00",
        "90840": "95.50",
        "90846": "150.00",
        "90847": "160.00",
        "90849": "70.00",
        "90853": "60.00",
        "90785": "25.00",
        "99213": "120.00",
        "99214": "170.00",
        "H0001": "130.00",
        "H0004": "32.25",
        "H0005": "45.00",
        "H0015": "210.00",
    }.items()
}
START = time(9, 0)


def session(minutes: int = 50, **overrides: Any) -> Session:
    """A clean in-person individual therapy session of ``minutes``, with overrides."""
    end = (datetime.combine(date(2026, 3, 2), START) + timedelta(minutes=minutes)).time()
    fields: dict[str, Any] = {
        "encounter_id": "E-1",
        "patient_id": "P-1",
        "payer_id": "AETNA",
        "date_of_service": date(2026, 3, 2),
        "start_time": START,
        "end_time": end,
        "service": "individual_therapy",
        "em_code": None,
        "therapy_minutes": None,
        "interactive_complexity": False,
        "modality": "in_person",
        "patient_location": "office",
        "rendering_npi": "1234567893",
        "rendering_credential": "MD",
        "diagnoses": ("F33.1",),
        "member_id": "M1",
        "authorization_number": None,
    }
    fields.update(overrides)
    return Session(**fields)


def lines(claim: CodedClaim) -> list[tuple[str, int]]:
    return [(line.procedure, line.units) for line in claim.lines]


class TestTimedServices:
    @pytest.mark.parametrize(
        ("minutes", "expected"),
        [
            pytest.param(15, [], id="individual_15_below_minimum"),
            pytest.param(16, [("90832", 1)], id="individual_16_is_90832"),
            pytest.param(37, [("90832", 1)], id="individual_37_is_90832"),
            pytest.param(38, [("90834", 1)], id="individual_38_is_90834"),
            pytest.param(52, [("90834", 1)], id="individual_52_is_90834"),
            pytest.param(53, [("90837", 1)], id="individual_53_is_90837"),
            pytest.param(120, [("90837", 1)], id="individual_120_is_90837"),
        ],
    )
    def test_individual_therapy(self, minutes: int, expected: list[tuple[str, int]]) -> None:
        """Individual therapy is coded by its minutes, and under 16 minutes it is held."""
        claim = code_session(session(minutes), PAYER, FEES)
        assert lines(claim) == expected
        assert (TIME_BELOW_MINIMUM in claim.holds) is (not expected)

    @pytest.mark.parametrize(
        ("service", "minutes", "expected"),
        [
            pytest.param("family_therapy_without_patient", 25, [], id="family_without_25_below_minimum"),
            pytest.param(
                "family_therapy_without_patient", 26, [("90846", 1)], id="family_without_26_is_90846"
            ),
            pytest.param("family_therapy_with_patient", 25, [], id="family_with_25_below_minimum"),
            pytest.param("family_therapy_with_patient", 26, [("90847", 1)], id="family_with_26_is_90847"),
            pytest.param("family_therapy_with_patient", 90, [("90847", 1)], id="family_with_90_one_unit"),
        ],
    )
    def test_family_therapy(self, service: str, minutes: int, expected: list[tuple[str, int]]) -> None:
        """Family therapy needs 26 minutes and is one unit however long."""
        claim = code_session(session(minutes, service=service), PAYER, FEES)
        assert lines(claim) == expected
        assert (TIME_BELOW_MINIMUM in claim.holds) is (not expected)

    @pytest.mark.parametrize(
        ("minutes", "expected"),
        [
            pytest.param(15, [], id="crisis_15_below_minimum_as_individual"),
            pytest.param(16, [("90832", 1)], id="crisis_16_as_individual_90832"),
            pytest.param(29, [("90832", 1)], id="crisis_29_as_individual_90832"),
            pytest.param(30, [("90839", 1)], id="crisis_30_is_90839"),
            pytest.param(74, [("90839", 1)], id="crisis_74_is_90839"),
            pytest.param(75, [("90839", 1), ("90840", 1)], id="crisis_75_adds_one_90840"),
            pytest.param(104, [("90839", 1), ("90840", 1)], id="crisis_104_one_90840"),
            pytest.param(105, [("90839", 1), ("90840", 2)], id="crisis_105_two_90840"),
            pytest.param(134, [("90839", 1), ("90840", 2)], id="crisis_134_two_90840"),
            pytest.param(135, [("90839", 1), ("90840", 3)], id="crisis_135_three_90840"),
        ],
    )
    def test_crisis(self, minutes: int, expected: list[tuple[str, int]]) -> None:
        """Crisis is 90839 from 30 minutes plus a 90840 unit per further 30 from 75; shorter is individual."""
        claim = code_session(session(minutes, service="crisis"), PAYER, FEES)
        assert lines(claim) == expected
        assert (TIME_BELOW_MINIMUM in claim.holds) is (not expected)

    @pytest.mark.parametrize(
        ("minutes", "units"),
        [
            pytest.param(7, 0, id="h0004_7_below_minimum"),
            pytest.param(8, 1, id="h0004_8_one_unit"),
            pytest.param(22, 1, id="h0004_22_one_unit"),
            pytest.param(23, 2, id="h0004_23_two_units"),
            pytest.param(37, 2, id="h0004_37_two_units"),
            pytest.param(38, 3, id="h0004_38_three_units"),
        ],
    )
    def test_sud_individual_counseling(self, minutes: int, units: int) -> None:
        """H0004 is one unit per 15 minutes, a unit needing 8 minutes; under 8 minutes it is held."""
        claim = code_session(
            session(minutes, service="sud_individual_counseling", diagnoses=("F10.20",)), PAYER, FEES
        )
        assert lines(claim) == ([("H0004", units)] if units else [])
        assert (TIME_BELOW_MINIMUM in claim.holds) is (units == 0)

    @pytest.mark.parametrize(
        ("therapy_minutes", "expected"),
        [
            pytest.param(None, [("99214", 1)], id="med_therapy_no_minutes_em_alone"),
            pytest.param(15, [("99214", 1)], id="med_therapy_15_em_alone"),
            pytest.param(16, [("99214", 1), ("90833", 1)], id="med_therapy_16_adds_90833"),
            pytest.param(37, [("99214", 1), ("90833", 1)], id="med_therapy_37_adds_90833"),
            pytest.param(38, [("99214", 1), ("90836", 1)], id="med_therapy_38_adds_90836"),
            pytest.param(52, [("99214", 1), ("90836", 1)], id="med_therapy_52_adds_90836"),
            pytest.param(53, [("99214", 1), ("90838", 1)], id="med_therapy_53_adds_90838"),
        ],
    )
    def test_med_management_with_therapy(
        self, therapy_minutes: int | None, expected: list[tuple[str, int]]
    ) -> None:
        """The add-on follows therapy_minutes, not the visit length, and under 16 the E/M code stands alone."""
        claim = code_session(
            session(
                10, service="med_management_with_therapy", em_code="99214", therapy_minutes=therapy_minutes
            ),
            PAYER,
            FEES,
        )
        assert lines(claim) == expected
        assert claim.holds == ()


class TestUntimedServices:
    @pytest.mark.parametrize(
        ("service", "code", "diagnoses"),
        [
            pytest.param("diagnostic_evaluation", "90791", ("F33.1",), id="diagnostic_evaluation_90791"),
            pytest.param("diagnostic_evaluation_medical", "90792", ("F33.1",), id="evaluation_medical_90792"),
            pytest.param("group_therapy", "90853", ("F33.1",), id="group_therapy_90853"),
            pytest.param("multi_family_group", "90849", ("F33.1",), id="multi_family_group_90849"),
            pytest.param("sud_assessment", "H0001", ("F10.20",), id="sud_assessment_h0001"),
            pytest.param("sud_group_counseling", "H0005", ("F10.20",), id="sud_group_h0005"),
            pytest.param("sud_intensive_outpatient", "H0015", ("F10.20",), id="sud_iop_h0015"),
        ],
    )
    def test_one_line_one_unit(self, service: str, code: str, diagnoses: tuple[str, ...]) -> None:
        """Untimed services are one line of one unit whatever the minutes."""
        claim = code_session(session(5, service=service, diagnoses=diagnoses), PAYER, FEES)
        assert lines(claim) == [(code, 1)]
        assert claim.holds == ()

    def test_med_management_is_em_code_alone(self) -> None:
        """A med_management visit is billed with the clinician's E/M code only."""
        claim = code_session(session(25, service="med_management", em_code="99213"), PAYER, FEES)
        assert lines(claim) == [("99213", 1)]

    def test_med_management_without_em_code_is_refused(self) -> None:
        """A med_management session without an E/M code is a programming error, not a claim."""
        with pytest.raises(ValueError, match="E-1"):
            code_session(session(25, service="med_management", em_code=None), PAYER, FEES)

    def test_unknown_service_is_refused(self) -> None:
        """A service outside section 4 is refused."""
        with pytest.raises(ValueError):
            code_session(session(25, service="massage"), PAYER, FEES)


class TestInteractiveComplexity:
    @pytest.mark.parametrize(
        ("overrides", "expected", "warned"),
        [
            pytest.param({"service": "diagnostic_evaluation"}, ["90791", "90785"], False, id="beside_90791"),
            pytest.param(
                {"service": "diagnostic_evaluation_medical"}, ["90792", "90785"], False, id="beside_90792"
            ),
            pytest.param({"minutes": 20}, ["90832", "90785"], False, id="beside_90832"),
            pytest.param({"minutes": 45}, ["90834", "90785"], False, id="beside_90834"),
            pytest.param({"minutes": 60}, ["90837", "90785"], False, id="beside_90837"),
            pytest.param({"service": "group_therapy"}, ["90853", "90785"], False, id="beside_90853"),
            pytest.param(
                {"service": "med_management_with_therapy", "em_code": "99214", "therapy_minutes": 20},
                ["99214", "90833", "90785"],
                False,
                id="after_addon_90833",
            ),
            pytest.param(
                {"service": "med_management_with_therapy", "em_code": "99214", "therapy_minutes": 40},
                ["99214", "90836", "90785"],
                False,
                id="after_addon_90836",
            ),
            pytest.param(
                {"service": "med_management_with_therapy", "em_code": "99214", "therapy_minutes": 60},
                ["99214", "90838", "90785"],
                False,
                id="after_addon_90838",
            ),
            pytest.param(
                {"service": "med_management_with_therapy", "em_code": "99214", "therapy_minutes": 10},
                ["99214"],
                True,
                id="not_allowed_em_alone_short_therapy",
            ),
            pytest.param(
                {"service": "med_management", "em_code": "99213"}, ["99213"], True, id="not_allowed_em_alone"
            ),
            pytest.param({"service": "crisis", "minutes": 45}, ["90839"], True, id="not_allowed_crisis"),
            pytest.param(
                {"service": "crisis", "minutes": 80}, ["90839", "90840"], True, id="not_allowed_crisis_long"
            ),
            pytest.param(
                {"service": "crisis", "minutes": 20}, ["90832", "90785"], False, id="short_crisis_as_90832"
            ),
            pytest.param(
                {"service": "family_therapy_with_patient"}, ["90847"], True, id="not_allowed_family_with"
            ),
            pytest.param(
                {"service": "family_therapy_without_patient"},
                ["90846"],
                True,
                id="not_allowed_family_without",
            ),
            pytest.param({"service": "multi_family_group"}, ["90849"], True, id="not_allowed_multi_family"),
            pytest.param(
                {"service": "sud_individual_counseling", "diagnoses": ("F10.20",)},
                ["H0004"],
                True,
                id="not_allowed_h_code",
            ),
        ],
    )
    def test_placement(self, overrides: dict[str, Any], expected: list[str], warned: bool) -> None:
        """90785 goes last, only beside the codes section 4 lists; elsewhere it is dropped with a warning."""
        overrides = {"minutes": 50, **overrides, "interactive_complexity": True}
        claim = code_session(session(**overrides), PAYER, FEES)
        assert [line.procedure for line in claim.lines] == expected
        assert (ADDON_NOT_ALLOWED in claim.warnings) is warned

    def test_no_complexity_no_addon(self) -> None:
        """Without interactive complexity no 90785 line and no warning appear."""
        claim = code_session(session(service="crisis"), PAYER, FEES)
        assert "90785" not in claim.procedures
        assert claim.warnings == ()


class TestModifiers:
    @pytest.mark.parametrize(
        ("credential", "modality", "modifiers"),
        [
            pytest.param("MD", "in_person", (), id="no_credential_modifier_in_person"),
            pytest.param("LCSW", "in_person", ("HO",), id="credential_only"),
            pytest.param("phd", "in_person", ("HP",), id="credential_case_insensitive"),
            pytest.param("MD", "video", ("95",), id="telehealth_only"),
            pytest.param("MD", "audio_only", ("93",), id="audio_only"),
            pytest.param("LCSW", "video", ("HO", "95"), id="credential_then_telehealth"),
            pytest.param("PhD", "audio_only", ("HP", "93"), id="credential_then_audio"),
        ],
    )
    def test_order(self, credential: str, modality: str, modifiers: tuple[str, ...]) -> None:
        """The credential modifier comes first, then the telehealth or audio-only modifier, with no gaps."""
        claim = code_session(
            session(
                service="med_management_with_therapy",
                em_code="99214",
                therapy_minutes=40,
                interactive_complexity=True,
                rendering_credential=credential,
                modality=modality,
            ),
            PAYER,
            FEES,
        )
        assert len(claim.lines) == 3
        assert all(line.modifiers == modifiers for line in claim.lines)

    @pytest.mark.parametrize(
        ("payer", "modality", "modifiers"),
        [
            pytest.param(
                replace(PAYER, telehealth_modifier=""), "video", ("HO",), id="no_telehealth_modifier"
            ),
            pytest.param(
                replace(PAYER, audio_only_modifier=""), "audio_only", ("HO",), id="no_audio_modifier"
            ),
            pytest.param(replace(PAYER, credential_modifiers={}), "video", ("95",), id="no_credential_map"),
            pytest.param(
                replace(PAYER, credential_modifiers={"LCSW": ""}),
                "video",
                ("95",),
                id="empty_credential_modifier",
            ),
            pytest.param(
                replace(PAYER, credential_modifiers={"LCSW": "95"}), "video", ("95",), id="same_modifier_once"
            ),
        ],
    )
    def test_empty_slots_are_closed(
        self, payer: PayerRules, modality: str, modifiers: tuple[str, ...]
    ) -> None:
        """An unconfigured modifier leaves no empty slot and a modifier is never repeated."""
        claim = code_session(session(rendering_credential="LCSW", modality=modality), payer, FEES)
        assert claim.lines[0].modifiers == modifiers


class TestPlaceOfService:
    @pytest.mark.parametrize(
        ("modality", "location", "pos"),
        [
            pytest.param("in_person", "office", "11", id="in_person_office_11"),
            pytest.param("in_person", "home", "11", id="in_person_home_11"),
            pytest.param("video", "home", "10", id="video_home_10"),
            pytest.param("audio_only", "home", "10", id="audio_home_10"),
            pytest.param("video", "office", "02", id="video_office_02"),
            pytest.param("video", "other", "02", id="video_other_02"),
            pytest.param("audio_only", "other", "02", id="audio_other_02"),
        ],
    )
    def test_pos(self, modality: str, location: str, pos: str) -> None:
        """In person is 11; telehealth is 10 with the patient at home, else 02."""
        claim = code_session(session(modality=modality, patient_location=location), PAYER, FEES)
        assert claim.place_of_service == pos


class TestDiagnosisPointers:
    @pytest.mark.parametrize(
        ("service", "diagnoses", "pointers"),
        [
            pytest.param("individual_therapy", ("F33.1",), (1,), id="single_code"),
            pytest.param("individual_therapy", ("F33.1", "F41.1", "Z63.0"), (1, 2, 3), id="claim_order"),
            pytest.param(
                "individual_therapy", ("F10.20", "F33.1", "F41.1"), (2, 1, 3), id="therapy_skips_sud_first"
            ),
            pytest.param(
                "individual_therapy",
                ("Z63.0", "F10.20", "F41.1"),
                (3, 1, 2),
                id="therapy_first_non_sud_f_code",
            ),
            pytest.param(
                "individual_therapy",
                ("Z63.0", "F10.20", "F11.20"),
                (1, 2, 3),
                id="therapy_no_non_sud_f_first_code",
            ),
            pytest.param(
                "sud_individual_counseling", ("F33.1", "F41.1", "F10.20"), (3, 1, 2), id="h_code_sud_first"
            ),
            pytest.param(
                "sud_individual_counseling",
                ("F33.1", "F11.20", "F10.20"),
                (2, 1, 3),
                id="h_code_first_sud_code",
            ),
            pytest.param(
                "sud_group_counseling",
                ("F33.1", "F41.1", "F43.10", "F90.0", "F10.20", "Z63.0"),
                (5, 1, 2, 3),
                id="max_four_pointers",
            ),
            pytest.param(
                "individual_therapy",
                ("F33.1", "F41.1", "F43.10", "F90.0", "F10.20"),
                (1, 2, 3, 4),
                id="max_four_pointers_claim_order",
            ),
        ],
    )
    def test_pointers(self, service: str, diagnoses: tuple[str, ...], pointers: tuple[int, ...]) -> None:
        """H-code lines point first to the first F10-F19 code, others to the first other F-code, then claim order."""
        claim = code_session(session(service=service, diagnoses=diagnoses), PAYER, FEES)
        assert [line.diagnosis_pointers for line in claim.lines] == [pointers]

    def test_every_line_gets_its_pointers(self) -> None:
        """The E/M, add-on and 90785 lines all carry pointers by the non-H rule."""
        claim = code_session(
            session(
                service="med_management_with_therapy",
                em_code="99214",
                therapy_minutes=40,
                interactive_complexity=True,
                diagnoses=("F10.20", "F33.1"),
            ),
            PAYER,
            FEES,
        )
        assert [line.diagnosis_pointers for line in claim.lines] == [(2, 1)] * 3


class TestDiagnoses:
    def test_dotted_and_deduplicated(self) -> None:
        """Diagnoses are dotted, upper-case and each kept once in its first place."""
        claim = code_session(session(diagnoses=("f331", "F41.1", "F33.1", " ")), PAYER, FEES)
        assert claim.diagnoses == ("F33.1", "F41.1")

    def test_more_than_twelve_keeps_first_twelve(self) -> None:
        """Past 12 codes the first 12 are kept and the claim is warned."""
        codes = (
            "F33.1",
            "F41.1",
            "F43.10",
            "F90.0",
            "F42.2",
            "F50.00",
            "F60.3",
            "F84.0",
            "F40.10",
            "F41.0",
            "F43.21",
            "Z63.0",
            "Z91.19",
            "F17.210",
        )
        claim = code_session(session(diagnoses=codes), PAYER, FEES)
        assert claim.diagnoses == codes[:12]
        assert DX_TRUNCATED in claim.warnings
        assert claim.holds == ()

    @pytest.mark.parametrize(
        ("service", "diagnoses", "holds"),
        [
            pytest.param("individual_therapy", ("F33.1",), (), id="clean"),
            pytest.param("individual_therapy", ("F33",), (DX_INVALID,), id="dx_invalid_category"),
            pytest.param("individual_therapy", ("F33.1", "F99.99"), (DX_INVALID,), id="dx_invalid_unknown"),
            pytest.param("individual_therapy", (), (DX_INVALID, DX_NOT_SUPPORTING), id="dx_invalid_none"),
            pytest.param("individual_therapy", ("Z63.0",), (DX_NOT_SUPPORTING,), id="therapy_without_f_code"),
            pytest.param("individual_therapy", ("F10.20",), (), id="therapy_sud_code_is_f_code"),
            pytest.param(
                "diagnostic_evaluation", ("Z63.0",), (DX_NOT_SUPPORTING,), id="evaluation_without_f_code"
            ),
            pytest.param("crisis", ("R45.851",), (DX_NOT_SUPPORTING,), id="crisis_without_f_code"),
            pytest.param(
                "family_therapy_with_patient", ("Z63.0",), (DX_NOT_SUPPORTING,), id="family_without_f"
            ),
            pytest.param("group_therapy", ("Z63.0",), (DX_NOT_SUPPORTING,), id="group_without_f_code"),
            pytest.param("sud_assessment", ("F33.1",), (DX_NOT_SUPPORTING,), id="h_code_without_sud_code"),
            pytest.param("sud_assessment", ("F33.1", "F12.20"), (), id="h_code_with_sud_code"),
            pytest.param(
                "individual_therapy", ("F32.9", "F33.1"), (DX_EXCLUDES1,), id="dx_excludes1_f32_f33"
            ),
            pytest.param(
                "sud_group_counseling", ("F10.20", "F10.10"), (DX_EXCLUDES1,), id="dx_excludes1_subcategory"
            ),
        ],
    )
    def test_diagnosis_holds(self, service: str, diagnoses: tuple[str, ...], holds: tuple[str, ...]) -> None:
        """Invalid, unsupporting or mutually excluded diagnoses hold the claim."""
        claim = code_session(session(service=service, diagnoses=diagnoses), PAYER, FEES)
        assert claim.holds == holds

    @pytest.mark.parametrize(
        ("overrides", "held"),
        [
            pytest.param(
                {"service": "med_management", "em_code": "99213"}, False, id="em_alone_needs_no_f_code"
            ),
            pytest.param(
                {"service": "med_management_with_therapy", "em_code": "99213", "therapy_minutes": 30},
                True,
                id="em_with_therapy_addon_needs_f_code",
            ),
            pytest.param({"minutes": 10}, True, id="short_therapy_still_checked"),
            pytest.param(
                {"minutes": 5, "service": "sud_individual_counseling"}, True, id="short_h0004_still_checked"
            ),
        ],
    )
    def test_support_by_line(self, overrides: dict[str, Any], held: bool) -> None:
        """Only psychotherapy, evaluation, crisis and H-code lines (or the code a short session would get) need support."""
        claim = code_session(session(**{"diagnoses": ("Z63.0",), **overrides}), PAYER, FEES)
        assert (DX_NOT_SUPPORTING in claim.holds) is held

    def test_coding_holds_in_fixed_order(self) -> None:
        """Several coding holds are reported in the fixed order DX_INVALID, DX_NOT_SUPPORTING, DX_EXCLUDES1, TIME."""
        claim = code_session(
            session(5, service="sud_individual_counseling", diagnoses=("F32.9", "XYZ", "F33.1")), PAYER, FEES
        )
        assert claim.holds == (DX_INVALID, DX_NOT_SUPPORTING, DX_EXCLUDES1, TIME_BELOW_MINIMUM)


class TestCharges:
    @pytest.mark.parametrize(
        ("overrides", "charges"),
        [
            pytest.param({"minutes": 60}, [Decimal("180.00")], id="fee_times_one"),
            pytest.param(
                {"service": "crisis", "minutes": 140},
                [Decimal("200.00"), Decimal("286.50")],
                id="90840_fee_times_3",
            ),
            pytest.param(
                {"service": "sud_individual_counseling", "minutes": 40, "diagnoses": ("F10.20",)},
                [Decimal("96.75")],
                id="h0004_fee_times_units",
            ),
        ],
    )
    def test_charge_is_fee_times_units(self, overrides: dict[str, Any], charges: list[Decimal]) -> None:
        """Each line's charge is the code's fee times its units, in cents."""
        claim = code_session(session(**overrides), PAYER, FEES)
        assert [line.charge for line in claim.lines] == charges
        assert all(line.charge.as_tuple().exponent == -2 for line in claim.lines)

    def test_missing_fee_holds(self) -> None:
        """A code without a fee keeps its line at 0.00 and holds the claim FEE_MISSING."""
        fees = {code: fee for code, fee in FEES.items() if code != "90785"}
        claim = code_session(session(interactive_complexity=True), PAYER, fees)
        assert [line.charge for line in claim.lines] == [Decimal("140.00"), Decimal("0.00")]
        assert claim.holds == (FEE_MISSING,)


DX_POOL = ["F33.1", "F41.1", "F43.10", "F10.20", "F11.20", "F12.20", "Z63.0", "F90.0", "R45.851", "F32.A"]


@st.composite
def valid_sessions(draw: st.DrawFn) -> Session:
    service = draw(st.sampled_from(sorted(SERVICES)))
    return session(
        draw(st.integers(min_value=1, max_value=240)),
        service=service,
        em_code=draw(st.sampled_from(["99213", "99214"])),
        therapy_minutes=draw(st.none() | st.integers(min_value=0, max_value=120)),
        interactive_complexity=draw(st.booleans()),
        modality=draw(st.sampled_from(["in_person", "video", "audio_only"])),
        patient_location=draw(st.sampled_from(["office", "home", "other"])),
        rendering_credential=draw(st.sampled_from(["MD", "LCSW", "PhD", "LPC"])),
        diagnoses=tuple(draw(st.lists(st.sampled_from(DX_POOL), min_size=1, max_size=14))),
    )


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(valid_sessions())
    def test_lines_are_well_formed(self, s: Session) -> None:
        """Any valid session gives lines with pointers into the diagnoses, at most 4 modifiers and positive charges."""
        claim = code_session(s, PAYER, FEES)
        assert 1 <= len(claim.diagnoses) <= 12
        assert claim.place_of_service in {"11", "10", "02"}
        for line in claim.lines:
            assert 1 <= len(line.diagnosis_pointers) <= 4
            assert len(set(line.diagnosis_pointers)) == len(line.diagnosis_pointers)
            assert all(1 <= p <= len(claim.diagnoses) for p in line.diagnosis_pointers)
            assert len(line.modifiers) <= 4 and all(line.modifiers)
            assert line.units >= 1
            assert line.charge > 0
        assert bool(claim.lines) is (TIME_BELOW_MINIMUM not in claim.holds)
