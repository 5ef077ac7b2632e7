"""Row checks of the encounters and authorizations CSV (CONTRACT section 2), without a database."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from pipelines.usecases.importer import RowError, parse_authorization_row, parse_encounter_row

PAYERS = frozenset({"AETNA", "BCBS"})

GOOD: dict[str, str | None] = {
    "encounter_id": "E-1", "patient_id": "P-1", "patient_last_name": "Harlow", "patient_first_name": "Mira",
    "patient_dob": "1985-04-12", "patient_sex": "F", "patient_address": "12 Elm St", "patient_city": "Pasadena",
    "patient_state": "CA", "patient_zip": "91101", "payer_id": "AETNA", "member_id": "W1", "relationship": "self",
    "subscriber_last_name": "", "subscriber_first_name": "", "subscriber_dob": "", "subscriber_sex": "",
    "rendering_npi": "1987654328", "rendering_last_name": "Rivera", "rendering_first_name": "Ana",
    "rendering_credential": "LCSW", "date_of_service": "2026-05-04", "start_time": "09:00", "end_time": "09:55",
    "service": "individual_therapy", "em_code": "", "therapy_minutes": "", "interactive_complexity": "",
    "modality": "video", "patient_location": "home", "diagnoses": "f331; F10.20", "authorization_number": "",
}
CHILD = {"relationship": "child", "subscriber_last_name": "Harlow", "subscriber_first_name": "Rowan",
         "subscriber_dob": "1960-01-01", "subscriber_sex": "M"}


def row(**changes: str | None) -> dict[str, str | None]:
    return GOOD | changes


class TestEncounterRowAccepted:
    def test_good_row_gives_typed_values(self) -> None:
        """A good row becomes typed column values with dotted diagnoses and no subscriber fields."""
        v = parse_encounter_row(row(), PAYERS)
        assert v["patient_dob"] == date(1985, 4, 12)
        assert (v["start_time"], v["end_time"]) == (time(9, 0), time(9, 55))
        assert v["diagnoses"] == ["F33.1", "F10.20"]
        assert v["interactive_complexity"] is False
        assert v["subscriber_last_name"] is None and v["authorization_number"] is None

    @pytest.mark.parametrize(("changes", "column", "expected"), [
        pytest.param({"interactive_complexity": "y"}, "interactive_complexity", True, id="ic_lower_case_y"),
        pytest.param({"patient_sex": "m"}, "patient_sex", "M", id="sex_upper_cased"),
        pytest.param({"member_id": ""}, "member_id", "", id="empty_member_id_is_a_hold_not_an_error"),
        pytest.param({"diagnoses": "Q99.99X"}, "diagnoses", ["Q99.99X"], id="unknown_dx_is_a_hold_not_an_error"),
        pytest.param({"patient_zip": "91101-1234"}, "patient_zip", "911011234", id="zip9_with_dash"),
        pytest.param({"rendering_npi": "1234567890"}, "rendering_npi", "1234567890",
                     id="bad_check_digit_is_a_hold_not_an_error"),
        pytest.param({"service": "med_management_with_therapy", "em_code": "99214", "therapy_minutes": "30"},
                     "therapy_minutes", 30, id="med_management_with_therapy"),
        pytest.param({"em_code": "99214"}, "em_code", None, id="em_code_ignored_outside_med_management"),
        pytest.param(CHILD, "subscriber_dob", date(1960, 1, 1), id="subscriber_when_not_self"),
        pytest.param({"authorization_number": " A-9 "}, "authorization_number", "A-9", id="auth_number_trimmed"),
    ])
    def test_accepted_values(self, changes: dict[str, str], column: str, expected: Any) -> None:
        """Values the contract allows are stored in their normalized form."""
        assert parse_encounter_row(row(**changes), PAYERS)[column] == expected


class TestEncounterRowRefused:
    @pytest.mark.parametrize(("changes", "problem"), [
        pytest.param({"patient_dob": "12/04/1985"}, "patient_dob is not YYYY-MM-DD", id="dob_format"),
        pytest.param({"patient_dob": "1985-02-30"}, "patient_dob is not YYYY-MM-DD", id="dob_not_a_day"),
        pytest.param({"date_of_service": ""}, "date_of_service is empty", id="dos_empty"),
        pytest.param({"start_time": "9am"}, "start_time is not HH:MM (24-hour)", id="time_format"),
        pytest.param({"end_time": "08:59"}, "end_time is not after start_time", id="end_before_start"),
        pytest.param({"end_time": "09:00"}, "end_time is not after start_time", id="end_equals_start"),
        pytest.param({"patient_sex": "X"}, "patient_sex is not one of M, F, U", id="sex"),
        pytest.param({"relationship": "cousin"}, "relationship is not one of self, spouse, child, other",
                     id="relationship"),
        pytest.param({"relationship": "spouse"}, "subscriber_dob is empty", id="subscriber_needed_when_not_self"),
        pytest.param(CHILD | {"subscriber_sex": "Q"}, "subscriber_sex is not one of M, F, U", id="subscriber_sex"),
        pytest.param({"service": "massage"}, "service is not a known service", id="unknown_service"),
        pytest.param({"service": "med_management"}, "em_code is required for med_management",
                     id="em_code_required"),
        pytest.param({"service": "med_management", "em_code": "99211"},
                     "em_code is not one of 99202-99205, 99212-99215", id="em_code_value"),
        pytest.param({"service": "med_management_with_therapy", "em_code": "99213"}, "therapy_minutes is empty",
                     id="therapy_minutes_required"),
        pytest.param({"service": "med_management_with_therapy", "em_code": "99213", "therapy_minutes": "-5"},
                     "therapy_minutes is not a whole number from 0 to 999", id="therapy_minutes_number"),
        pytest.param({"modality": "phone"}, "modality is not one of in_person, video, audio_only", id="modality"),
        pytest.param({"patient_location": "car"}, "patient_location is not one of office, home, other",
                     id="location"),
        pytest.param({"payer_id": "CIGNA"}, "payer_id is not a payer in the configuration", id="payer_unknown"),
        pytest.param({"interactive_complexity": "maybe"}, "interactive_complexity is not one of Y, N",
                     id="interactive_complexity"),
        pytest.param({"patient_state": "California"}, "patient_state is not a 2-letter code", id="state"),
        pytest.param({"patient_zip": "9110"}, "patient_zip is not 5 or 9 digits", id="zip"),
        pytest.param({"encounter_id": ""}, "encounter_id is empty", id="encounter_id_required"),
        pytest.param({"patient_last_name": "x" * 61}, "patient_last_name is longer than 60 characters",
                     id="name_too_long"),
        pytest.param({"rendering_npi": "12345678901"}, "rendering_npi is longer than 10 characters", id="npi_long"),
        pytest.param({"diagnoses": " ; "}, "diagnoses is empty", id="no_diagnosis"),
        pytest.param({"patient_city": None}, "the row has fewer fields than the header", id="short_row"),
    ])
    def test_refused(self, changes: dict[str, str | None], problem: str) -> None:
        """A bad value refuses the row with a message that names the field."""
        with pytest.raises(RowError) as info:
            parse_encounter_row(row(**changes), PAYERS)
        assert problem in info.value.problems

    def test_every_problem_is_reported_without_values(self) -> None:
        """All the problems of a row are listed, and none quotes the PHI value it refused."""
        with pytest.raises(RowError) as info:
            parse_encounter_row(row(patient_dob="1985/04/12", patient_sex="Z", end_time="08:00"), PAYERS)
        assert len(info.value.problems) == 3
        assert "1985/04/12" not in str(info.value)


PAYERS3 = frozenset({"AETNA", "BCBS", "MEDICAID"})
SECONDARY = {"secondary_payer_id": "MEDICAID", "secondary_member_id": "M77", "secondary_relationship": "self"}
SECONDARY_CHILD = {"secondary_payer_id": "MEDICAID", "secondary_member_id": "M77", "secondary_relationship": "child",
                   "secondary_subscriber_last_name": "Harlow", "secondary_subscriber_first_name": "Rowan",
                   "secondary_subscriber_dob": "1960-01-01", "secondary_subscriber_sex": "m"}
TERTIARY = {"tertiary_payer_id": "BCBS", "tertiary_member_id": "B9", "tertiary_relationship": "spouse",
            "tertiary_subscriber_last_name": "Harlow", "tertiary_subscriber_first_name": "Sam",
            "tertiary_subscriber_dob": "1961-02-03", "tertiary_subscriber_sex": "F"}


class TestOtherCoverage:
    def test_absent_or_empty_columns_mean_no_other_coverage(self) -> None:
        """A row without the secondary/tertiary columns, or with them all empty, stores no other coverage."""
        for r in (row(), row(**{"secondary_payer_id": " ", "secondary_relationship": "", "tertiary_member_id": ""})):
            v = parse_encounter_row(r, PAYERS3)
            assert all(v[p + "payer_id"] is None and v[p + "member_id"] is None for p in ("secondary_", "tertiary_"))

    def test_secondary_and_tertiary_are_stored(self) -> None:
        """Secondary (subscriber a parent) and tertiary coverage are stored in their normalized form."""
        v = parse_encounter_row(row(**SECONDARY_CHILD, **TERTIARY), PAYERS3)
        assert (v["secondary_payer_id"], v["secondary_member_id"], v["secondary_relationship"]) == (
            "MEDICAID", "M77", "child")
        assert (v["secondary_subscriber_dob"], v["secondary_subscriber_sex"]) == (date(1960, 1, 1), "M")
        assert (v["tertiary_payer_id"], v["tertiary_relationship"], v["tertiary_subscriber_first_name"]) == (
            "BCBS", "spouse", "Sam")

    def test_self_subscriber_fields_are_not_kept(self) -> None:
        """With relationship self the secondary subscriber is the patient: its subscriber columns stay empty."""
        v = parse_encounter_row(row(**SECONDARY, secondary_subscriber_last_name="X"), PAYERS3)
        assert v["secondary_subscriber_last_name"] is None and v["secondary_member_id"] == "M77"

    def test_empty_secondary_member_id_is_a_hold_not_an_error(self) -> None:
        """An empty secondary member id is accepted (the secondary leg is held MEMBER_ID_MISSING)."""
        assert parse_encounter_row(row(**(SECONDARY | {"secondary_member_id": ""})), PAYERS3)["secondary_member_id"] == ""

    @pytest.mark.parametrize(("changes", "problem"), [
        pytest.param(SECONDARY | {"secondary_payer_id": "CIGNA"},
                     "secondary_payer_id is not a payer in the configuration", id="secondary_payer_unknown"),
        pytest.param(SECONDARY | TERTIARY | {"tertiary_payer_id": "NOPE"},
                     "tertiary_payer_id is not a payer in the configuration", id="tertiary_payer_unknown"),
        pytest.param({"secondary_member_id": "M77", "secondary_relationship": "self"}, "secondary_payer_id is empty",
                     id="secondary_fields_without_payer"),
        pytest.param({"secondary_payer_id": "MEDICAID"}, "secondary_relationship is empty",
                     id="secondary_relationship_required"),
        pytest.param(SECONDARY | {"secondary_relationship": "friend"},
                     "secondary_relationship is not one of self, spouse, child, other", id="secondary_relationship"),
        pytest.param(SECONDARY | {"secondary_relationship": "spouse"}, "secondary_subscriber_dob is empty",
                     id="secondary_subscriber_needed_when_not_self"),
        pytest.param(SECONDARY_CHILD | {"secondary_subscriber_dob": "01/01/1960"},
                     "secondary_subscriber_dob is not YYYY-MM-DD", id="secondary_subscriber_dob"),
        pytest.param(SECONDARY_CHILD | {"secondary_subscriber_sex": "Q"},
                     "secondary_subscriber_sex is not one of M, F, U", id="secondary_subscriber_sex"),
        pytest.param(SECONDARY | TERTIARY | {"tertiary_subscriber_last_name": ""},
                     "tertiary_subscriber_last_name is empty", id="tertiary_subscriber_name"),
        pytest.param(SECONDARY | {"secondary_member_id": "M" * 81}, "secondary_member_id is longer than 80 characters",
                     id="secondary_member_id_long"),
        pytest.param(SECONDARY | {"secondary_payer_id": "AETNA"}, "secondary_payer_id names the same payer as payer_id",
                     id="secondary_same_as_primary"),
        pytest.param(SECONDARY | TERTIARY | {"tertiary_payer_id": "AETNA"},
                     "tertiary_payer_id names the same payer as payer_id", id="tertiary_same_as_primary"),
        pytest.param(SECONDARY | TERTIARY | {"tertiary_payer_id": "MEDICAID"},
                     "tertiary_payer_id names the same payer as secondary_payer_id", id="tertiary_same_as_secondary"),
        pytest.param(TERTIARY, "tertiary_payer_id is given without a secondary_payer_id", id="tertiary_without_secondary"),
    ])
    def test_refused(self, changes: dict[str, str], problem: str) -> None:
        """A bad other-coverage value refuses the row naming the field, checked like the primary's."""
        with pytest.raises(RowError) as info:
            parse_encounter_row(row(**changes), PAYERS3)
        assert problem in info.value.problems
        assert "Harlow" not in str(info.value) and "M77" not in str(info.value)


class TestAuthorizationRow:
    GOOD_AUTH: dict[str, str | None] = {
        "authorization_number": "A-1", "patient_id": "P-1", "payer_id": "AETNA", "start_date": "2026-01-01",
        "end_date": "2026-06-30", "visits_authorized": "12", "service_codes": "90837; h0015"}

    def test_good_row(self) -> None:
        """A good authorization gives dates, a visit count and upper-cased service codes."""
        v = parse_authorization_row(self.GOOD_AUTH, PAYERS)
        assert (v["start_date"], v["end_date"], v["visits_authorized"]) == (date(2026, 1, 1), date(2026, 6, 30), 12)
        assert v["service_codes"] == ["90837", "H0015"]

    @pytest.mark.parametrize(("changes", "problem"), [
        pytest.param({"end_date": "2025-12-31"}, "end_date is before start_date", id="end_before_start"),
        pytest.param({"start_date": "soon"}, "start_date is not YYYY-MM-DD", id="date_format"),
        pytest.param({"visits_authorized": "ten"}, "visits_authorized is not a whole number from 0 to 100000",
                     id="visits_number"),
        pytest.param({"payer_id": "NOPE"}, "payer_id is not a payer in the configuration", id="payer"),
        pytest.param({"service_codes": "9083"}, "service_codes has a value that is not a 5-character code",
                     id="service_code_shape"),
        pytest.param({"authorization_number": ""}, "authorization_number is empty", id="number_required"),
    ])
    def test_refused(self, changes: dict[str, str], problem: str) -> None:
        """A bad authorization row is refused naming the field."""
        with pytest.raises(RowError) as info:
            parse_authorization_row(self.GOOD_AUTH | changes, PAYERS)
        assert problem in info.value.problems
