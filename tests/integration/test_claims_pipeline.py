"""Import, code, scrub and submit on SQLite and PostgreSQL: encounters in, one 837P out, claims exported."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from edi.validate import validate_x12
from edi.x12 import read_segments
from models import Authorization, Claim, ClaimLine, Encounter, File
from pipelines.cli.app import App
from pipelines.cli.claims import cmd_export, cmd_list, cmd_show, cmd_submit
from pipelines.errors import InputError, NotFound
from pipelines.usecases.claims import code_and_scrub
from pipelines.usecases.importer import import_authorizations, import_encounters
from pipelines.usecases.submit import submit_all, submit_ready
from tests.conftest import FIXTURES

ENCOUNTERS = FIXTURES / "encounters" / "sample.csv"
BAD_ROWS = FIXTURES / "encounters" / "bad_rows.csv"
AUTHS = FIXTURES / "authorizations" / "sample.csv"
AS_OF = date(2026, 6, 15)

# encounter -> (hold reasons, [(procedure, modifiers, units)], place of service) for the sample file.
EXPECTED: dict[str, tuple[list[str], list[tuple[str, list[str], int]], str]] = {
    "E-1001": ([], [("90837", ["HO", "95"], 1)], "10"),
    "E-1002": (["AUTH_EXPIRED"], [("90837", ["HO"], 1)], "11"),
    "E-1003": (["MEMBER_ID_MISSING"], [("90834", [], 1)], "11"),
    "E-1004": (["TIME_BELOW_MINIMUM"], [], "11"),
    "E-1005": (["NPI_INVALID"], [("90834", [], 1)], "11"),
    "E-1006": (["DX_INVALID"], [("90834", [], 1)], "11"),
    "E-1007": (["DUPLICATE_SESSION"], [("90834", [], 1)], "11"),
    "E-1008": (["DUPLICATE_SESSION"], [("90834", [], 1)], "11"),
    "E-1009": (["DX_EXCLUDES1"], [("90834", [], 1)], "11"),
    "E-1010": ([], [("90839", [], 1), ("90840", [], 1)], "11"),
    "E-1011": ([], [("99214", [], 1), ("90833", [], 1)], "11"),
    "E-1012": ([], [("90847", [], 1)], "11"),
    "E-1013": ([], [("90834", ["AJ", "93"], 1)], "10"),
    "E-1014": ([], [("90834", ["HO", "95"], 1)], "02"),
    "E-1015": ([], [("90791", [], 1), ("90785", [], 1)], "11"),
    "E-1016": ([], [("H0004", ["HF"], 3)], "11"),
    "E-1017": (["CODE_CONFLICT"], [("90791", [], 1)], "11"),
    "E-1018": (["CODE_CONFLICT"], [("90834", [], 1)], "11"),
    "E-1019": (["TIMELY_FILING_EXPIRED"], [("90834", [], 1)], "11"),
    "E-1020": ([], [("99213", [], 1)], "11"),
    "E-2001": ([], [("90853", ["AJ"], 1)], "11"),
    "E-2021": (["VISIT_LIMIT_REACHED"], [("90853", ["AJ"], 1)], "11"),
}


def args(**kw: Any) -> argparse.Namespace:
    return argparse.Namespace(**({"status": None, "json": True} | kw))


def captured(app: App) -> io.StringIO:
    out = io.StringIO()
    app.out, app.json = out, True
    return out


def loaded(app: App) -> App:
    app.as_of = AS_OF
    assert not import_authorizations(app.config, app.uow, AUTHS).errors
    assert not import_encounters(app.config, app.uow, ENCOUNTERS).errors
    return app


def claims_by_encounter(app: App) -> dict[str, Claim]:
    with app.transaction() as s:
        claims = s.scalars(select(Claim)).all()
        for c in claims:
            _ = c.lines
        return {c.encounter_id: c for c in claims}


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header or list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def sample_rows() -> list[dict[str, str]]:
    with ENCOUNTERS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class TestImportEncounters:
    def test_sample_is_stored(self, app: App) -> None:
        """Every good row is stored with normalized diagnoses."""
        result = import_encounters(app.config, app.uow, ENCOUNTERS)
        assert (result.inserted, result.replaced, result.errors) == (len(sample_rows()), 0, [])
        with app.transaction() as s:
            e = s.get(Encounter, "E-1001")
            assert e is not None and e.diagnoses == ["F33.1", "F10.20"]

    def test_bad_rows_reported_and_not_stored(self, app: App) -> None:
        """Bad rows are reported by line and encounter_id, the good row is stored, the extra column named."""
        result = import_encounters(app.config, app.uow, BAD_ROWS)
        assert result.inserted == 1
        assert result.ignored_columns == ["notes"]
        by_line = {e["line"]: e for e in result.errors}
        assert by_line[3]["encounter_id"] == "B-02"
        assert by_line[3]["problems"] == ["patient_dob is not YYYY-MM-DD"]
        assert "appears twice" in by_line[14]["problems"][0]
        with app.transaction() as s:
            assert s.scalars(select(Encounter.encounter_id)).all() == ["B-01"]

    def test_missing_columns_refuse_the_file(self, app: App, tmp_path: Path) -> None:
        """A file without required columns is an InputError naming them, and nothing is stored."""
        rows = [{k: v for k, v in r.items() if k not in ("service", "patient_dob")} for r in sample_rows()]
        path = write_csv(tmp_path / "x.csv", rows)
        with pytest.raises(InputError, match="patient_dob, service"):
            import_encounters(app.config, app.uow, path)
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Encounter)) == 0

    def test_reimport_replaces_an_unsent_encounter_and_keeps_its_claim_id(self, app: App, tmp_path: Path) -> None:
        """Re-importing a held encounter replaces its data; the next submit recodes the same claim id."""
        loaded(app)
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        before = claims_by_encounter(app)["E-1003"]
        assert before.hold_reasons == ["MEMBER_ID_MISSING"]
        fixed = [r | {"member_id": "XBC900000003"} for r in sample_rows() if r["encounter_id"] == "E-1003"]
        result = import_encounters(app.config, app.uow, write_csv(tmp_path / "fix.csv", fixed))
        assert (result.inserted, result.replaced) == (0, 1)
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        after = claims_by_encounter(app)["E-1003"]
        assert (after.claim_id, after.status, after.hold_reasons) == (before.claim_id, "ready", [])
        assert [ln.line_control_number for ln in after.lines] == [ln.line_control_number for ln in before.lines]

    def test_reimport_of_a_submitted_encounter_is_refused(self, app: App, tmp_path: Path) -> None:
        """An encounter whose claim was submitted is not replaced; the row is reported."""
        loaded(app)
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        assert submit_ready(app.config, app.uow, as_of=app.as_of) is not None
        again = [r | {"end_time": "10:30"} for r in sample_rows() if r["encounter_id"] == "E-1001"]
        result = import_encounters(app.config, app.uow, write_csv(tmp_path / "again.csv", again))
        assert result.inserted == result.replaced == 0
        assert "already submitted" in result.errors[0]["problems"][0]
        with app.transaction() as s:
            e = s.get(Encounter, "E-1001")
            assert e is not None and e.end_time.isoformat() == "09:55:00"

    def test_rejected_claim_is_corrected_by_reimport_and_sent_as_a_new_claim(self, app: App, tmp_path: Path) -> None:
        """A claim the clearinghouse rejected stays rejected; re-importing its encounter sends a new original claim."""
        loaded(app)
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        assert submit_ready(app.config, app.uow, as_of=app.as_of) is not None
        with app.transaction() as s:
            first = s.scalars(select(Claim).where(Claim.encounter_id == "E-1001")).one()
            first.status, first.status_reason = "rejected", "277CA A7:562 entity's member id invalid"
            first_id = first.claim_id
        with app.transaction() as s:  # without a correction, nothing is re-sent
            code_and_scrub(app.config, s, as_of=app.as_of)
            assert s.scalar(select(func.count()).select_from(Claim).where(Claim.encounter_id == "E-1001")) == 1
        fixed = [r | {"member_id": "W999999999"} for r in sample_rows() if r["encounter_id"] == "E-1001"]
        result = import_encounters(app.config, app.uow, write_csv(tmp_path / "fixed.csv", fixed))
        assert (result.replaced, result.errors) == (1, [])
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        assert submit_ready(app.config, app.uow, as_of=app.as_of) is not None
        with app.transaction() as s:
            claims = {c.claim_id: c for c in s.scalars(select(Claim).where(Claim.encounter_id == "E-1001"))}
        assert claims[first_id].status == "rejected"
        (new,) = [c for cid, c in claims.items() if cid != first_id]
        assert (new.status, new.frequency_code) == ("submitted", "1")


class TestImportAuthorizations:
    def test_reimport_replaces(self, app: App, tmp_path: Path) -> None:
        """An authorization imported again (same number, patient, payer) replaces the stored one."""
        assert import_authorizations(app.config, app.uow, AUTHS).inserted == 3
        path = write_csv(tmp_path / "a.csv", [{
            "authorization_number": "AUTH-200", "patient_id": "P-1002", "payer_id": "AETNA",
            "start_date": "2026-01-01", "end_date": "2026-12-31", "visits_authorized": "5", "service_codes": ""}])
        result = import_authorizations(app.config, app.uow, path)
        assert (result.inserted, result.replaced) == (0, 1)
        with app.transaction() as s:
            a = s.scalars(select(Authorization).where(Authorization.authorization_number == "AUTH-200")).one()
            assert (a.end_date, a.visits_authorized) == (date(2026, 12, 31), 5)

    def test_bad_rows(self, app: App) -> None:
        """Bad authorization rows are reported by line; the good one is stored."""
        result = import_authorizations(app.config, app.uow, FIXTURES / "authorizations" / "bad_rows.csv")
        assert result.inserted == 1
        assert [e["line"] for e in result.errors] == [3, 4]


class TestCodeAndScrub:
    @pytest.fixture
    def coded(self, app: App) -> dict[str, Claim]:
        loaded(app)
        with app.transaction() as s:
            counts = code_and_scrub(app.config, s, as_of=app.as_of)
        assert counts["coded"] == len(sample_rows())
        return claims_by_encounter(app)

    @pytest.mark.parametrize("encounter_id", list(EXPECTED))
    def test_codes_and_holds(self, coded: dict[str, Claim], encounter_id: str) -> None:
        """Each sample encounter gets the codes, modifiers, units, place of service and holds of the contract."""
        holds, lines, pos = EXPECTED[encounter_id]
        claim = coded[encounter_id]
        assert claim.hold_reasons == holds
        assert claim.status == ("held" if holds else "ready")
        assert [(ln.procedure, ln.modifiers, ln.units) for ln in claim.lines] == lines
        assert claim.place_of_service == pos

    def test_numbers_are_unique_and_shaped(self, coded: dict[str, Claim]) -> None:
        """CLM01 is C + 6 digits and every line control number L + 6 digits, all unique."""
        ids = [c.claim_id for c in coded.values()]
        lcns = [ln.line_control_number for c in coded.values() for ln in c.lines]
        assert len(set(ids)) == len(ids) and all(len(i) == 7 and i.startswith("C") for i in ids)
        assert len(set(lcns)) == len(lcns) and all(x.startswith("L") and x[1:].isdigit() for x in lcns)

    def test_recoding_is_stable(self, app: App, coded: dict[str, Claim]) -> None:
        """Coding again changes no claim id, line control number or hold, and adds no claim."""
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        again = claims_by_encounter(app)
        assert {k: (c.claim_id, c.hold_reasons, [ln.line_control_number for ln in c.lines])
                for k, c in again.items()} == {
            k: (c.claim_id, c.hold_reasons, [ln.line_control_number for ln in c.lines]) for k, c in coded.items()}

    def test_pointers_and_warnings(self, coded: dict[str, Claim]) -> None:
        """The H-code line points first to the SUD diagnosis; crisis with interactive complexity warns."""
        assert coded["E-1016"].lines[0].diagnosis_pointers == [1, 2]
        assert coded["E-1001"].lines[0].diagnosis_pointers == [1, 2]
        assert coded["E-1010"].warnings == ["ADDON_NOT_ALLOWED"]


class TestSubmit:
    def test_submit_writes_one_valid_837p(self, app: App) -> None:
        """Submit sends every ready claim in one 837P that pyx12 validates, and marks them submitted."""
        loaded(app)
        out = captured(app)
        assert cmd_submit(app, args()) == 0
        summary = json.loads(out.getvalue())
        ready = [k for k, v in EXPECTED.items() if not v[0]] + [f"E-20{i:02d}" for i in range(2, 21)]
        assert summary["sent"] == len(set(ready)) == summary["ready"]
        assert summary["hold_reasons"]["DUPLICATE_SESSION"] == 2
        folder = Path(app.config.transport.url[len("local:"):]) / app.config.transport.upload_dir
        files = list(folder.iterdir())
        assert [f.name for f in files] == [summary["file"]["name"]]
        result = validate_x12(files[0])
        assert result.ok and result.errors == [], [str(e) for e in result.errors]
        segments = read_segments(files[0].read_bytes())
        claim_ids = [seg[1] for seg in segments if seg[0] == "CLM"]
        by_enc = claims_by_encounter(app)
        assert sorted(claim_ids) == sorted(by_enc[e].claim_id for e in set(ready))
        assert ["REF", "G1", "AUTH-100"] in [list(seg) for seg in segments]
        with app.transaction() as s:
            f = s.get(File, summary["file"]["file_id"])
            assert f is not None and (f.kind, f.state, f.direction) == ("837P", "sent", "out")
            statuses = dict(s.execute(select(Claim.status, func.count()).group_by(Claim.status)).all())
            assert statuses == {"submitted": len(set(ready)), "held": len(EXPECTED) - len(
                [k for k, v in EXPECTED.items() if not v[0]])}
            st = {c.st_control for c in s.scalars(select(Claim).where(Claim.status == "submitted"))}
            assert st == {f.transactions[0].st_control}

    def test_claims_are_split_into_files_of_at_most_the_limit(self, app: App) -> None:
        """Ready claims beyond one file's limit go into further files; each claim is sent once."""
        loaded(app)
        with app.transaction() as s:
            ready = code_and_scrub(app.config, s, as_of=app.as_of)["ready"]
        first = submit_ready(app.config, app.uow, as_of=app.as_of, limit=10)
        rest = submit_all(app.config, app.uow, as_of=app.as_of)
        assert first is not None and rest
        with app.transaction() as s:
            per_file = dict(s.execute(select(Claim.file_id, func.count()).where(Claim.status == "submitted")
                                      .group_by(Claim.file_id)).all())
        assert per_file[first.id] == 10
        assert sum(per_file.values()) == ready
        assert set(per_file) == {first.id, *(f.id for f in rest)}

    def test_second_submit_sends_nothing(self, app: App) -> None:
        """A second submit with nothing new writes no file and leaves the submitted claims alone."""
        loaded(app)
        assert cmd_submit(app, args()) == 0
        out = captured(app)
        assert cmd_submit(app, args()) == 0
        summary = json.loads(out.getvalue())
        assert (summary["sent"], summary["file"], summary["ready"]) == (0, None, 0)
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(File)) == 1

    def test_claim_the_builder_refuses_is_held_and_the_rest_sent(self, app: App, tmp_path: Path) -> None:
        """A claim whose data X12 cannot carry is held DATA_INVALID; the other ready claims still go out."""
        loaded(app)
        odd = [r | {"member_id": "***"} for r in sample_rows() if r["encounter_id"] == "E-1012"]
        import_encounters(app.config, app.uow, write_csv(tmp_path / "odd.csv", odd))
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        f = submit_ready(app.config, app.uow, as_of=app.as_of)
        assert f is not None
        claim = claims_by_encounter(app)["E-1012"]
        assert (claim.status, claim.hold_reasons) == ("held", ["DATA_INVALID"])
        assert claim.status_reason is not None and "member id" in claim.status_reason
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Claim).where(Claim.file_id == f.id)) == len(
                [k for k, v in EXPECTED.items() if not v[0]]) + 19 - 1

    def test_history_counts_for_cross_encounter_rules(self, app: App, tmp_path: Path) -> None:
        """An encounter imported after its duplicate was submitted is held against the history."""
        loaded(app)
        assert submit_ready(app.config, app.uow, as_of=app.as_of) is None  # nothing coded yet
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        assert submit_ready(app.config, app.uow, as_of=app.as_of) is not None
        twin = [r | {"encounter_id": "E-9001", "start_time": "13:00", "end_time": "13:45"}
                for r in sample_rows() if r["encounter_id"] == "E-1001"]
        import_encounters(app.config, app.uow, write_csv(tmp_path / "twin.csv", twin))
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        assert claims_by_encounter(app)["E-9001"].hold_reasons == ["DUPLICATE_SESSION"]


class TestOutput:
    def test_export_shape(self, app: App) -> None:
        """Export prints every claim in the CONTRACT section 6 shape, amounts as strings."""
        loaded(app)
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        out = captured(app)
        assert cmd_export(app, args()) == 0
        claims = {c["encounter_ids"][0]: c for c in json.loads(out.getvalue())["claims"]}
        assert len(claims) == len(sample_rows())
        c = claims["E-1001"]
        assert set(c) == {"claim_id", "encounter_ids", "patient_id", "payer_id", "status", "hold_reasons",
                          "warnings", "frequency_code", "place_of_service", "date_of_service", "billed", "paid",
                          "patient_responsibility", "payer_claim_number", "diagnoses", "lines", "adjustments",
                          "remarks", "payer_sequence", "prior_claim_id", "patient_balance"}
        assert (c["billed"], c["paid"], c["date_of_service"], c["diagnoses"]) == (
            "180.00", "0.00", "2026-05-04", ["F33.1", "F10.20"])
        assert (c["payer_sequence"], c["prior_claim_id"], c["patient_balance"]) == ("P", None, "0.00")
        assert c["lines"][0] == {"line_control_number": c["lines"][0]["line_control_number"], "procedure": "90837",
                                 "modifiers": ["HO", "95"], "units": 1, "charge": "180.00",
                                 "diagnosis_pointers": [1, 2], "paid": "0.00", "adjustments": [], "remarks": []}
        assert claims["E-1016"]["lines"][0]["charge"] == "90.00"

    def test_list_filters_by_status_and_show_finds_a_claim(self, app: App) -> None:
        """List with --status gives only those claims; show gives one claim and refuses an unknown id."""
        loaded(app)
        with app.transaction() as s:
            code_and_scrub(app.config, s, as_of=app.as_of)
        out = captured(app)
        assert cmd_list(app, args(status="held")) == 0
        held = json.loads(out.getvalue())["claims"]
        assert {r["encounter_id"] for r in held} == {k for k, v in EXPECTED.items() if v[0]}
        out = captured(app)
        assert cmd_show(app, args(claim_id=held[0]["claim_id"])) == 0
        assert json.loads(out.getvalue())["status"] == "held"
        with pytest.raises(NotFound):
            cmd_show(app, args(claim_id="C999999"))

    def test_lines_are_stored_once(self, app: App) -> None:
        """Recoding replaces lines instead of adding to them."""
        loaded(app)
        for _ in range(2):
            with app.transaction() as s:
                code_and_scrub(app.config, s, as_of=app.as_of)
        with app.transaction() as s:
            n = s.scalar(select(func.count()).select_from(ClaimLine))
        assert n == sum(len(c.lines) for c in claims_by_encounter(app).values())
