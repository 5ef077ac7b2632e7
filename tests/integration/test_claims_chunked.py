"""Claims out in chunks (import, code and scrub): the same claims as in one pass, on SQLite and PostgreSQL.

The chunk sizes are made tiny here (one row, one date of service) so that every boundary is crossed:
limits counted across chunks (VISIT_LIMIT_REACHED over 21 weekly sessions), history submitted in an
earlier chunk, same-day rules inside a chunk, CLM01s and line control numbers in date order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from models import Claim, ClaimLine, Encounter
from pipelines.cli.app import App
from pipelines.usecases import claims as claims_module
from pipelines.usecases import importer as importer_module
from pipelines.usecases.bulk import read_columns
from pipelines.usecases.claims import code_and_scrub
from pipelines.usecases.importer import import_encounters
from pipelines.usecases.submit import submit_all
from tests.integration.test_claims_pipeline import (
    ENCOUNTERS,
    EXPECTED,
    claims_by_encounter,
    loaded,
    sample_rows,
    write_csv,
)


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims_module, "CODE_CHUNK", 1)  # every date of service a chunk of its own
    monkeypatch.setattr(importer_module, "IMPORT_CHUNK", 2)


def _code(app: App) -> dict[str, object]:
    with app.transaction() as s:
        return code_and_scrub(app.config, s, as_of=app.as_of)


@pytest.mark.usefixtures("tiny_chunks")
class TestChunkedCoding:
    def test_every_claim_is_coded_and_held_as_in_one_pass(self, app: App) -> None:
        """One date per chunk gives the sample's expected holds and lines, the visit limit included."""
        counts = _code(loaded(app))
        by_encounter = claims_by_encounter(app)
        assert counts["coded"] == len(sample_rows()) == len(by_encounter)
        for encounter_id, (holds, lines, pos) in EXPECTED.items():
            c = by_encounter[encounter_id]
            assert (encounter_id, c.hold_reasons, c.place_of_service) == (encounter_id, holds, pos)
            assert [(ln.procedure, ln.modifiers, ln.units) for ln in c.lines] == [tuple(x) for x in lines]

    def test_claim_ids_and_line_numbers_follow_date_then_encounter(self, app: App) -> None:
        """CLM01s and line control numbers are handed out in date of service / encounter_id order."""
        _code(loaded(app))
        with app.transaction() as s:
            rows = s.execute(select(Claim.claim_id, Claim.date_of_service, Claim.encounter_id)).all()
            lcns = s.execute(select(ClaimLine.line_control_number, Claim.date_of_service, Claim.encounter_id,
                                    ClaimLine.line_number).join(Claim, Claim.id == ClaimLine.claim_pk)).all()
        in_order = sorted(rows, key=lambda r: (r.date_of_service, r.encounter_id))
        assert [r.claim_id for r in in_order] == sorted(r.claim_id for r in rows)
        lines_in_order = sorted(lcns, key=lambda r: (r.date_of_service, r.encounter_id, r.line_number))
        assert [r.line_control_number for r in lines_in_order] == sorted(r.line_control_number for r in lcns)

    def test_history_in_earlier_chunks_still_counts(self, app: App) -> None:
        """Recoding the held claims after the others went out: the 21st session stays over the limit
        although the 20 sent before it are history spread over chunks the patient has no claim in."""
        _code(loaded(app))
        first = {e: c.hold_reasons for e, c in claims_by_encounter(app).items()}
        assert submit_all(app.config, app.uow, as_of=app.as_of)
        counts = _code(app)
        held = {e for e, holds in first.items() if holds}
        assert counts["coded"] == len(held)
        by_encounter = claims_by_encounter(app)
        assert by_encounter["E-2021"].hold_reasons == ["VISIT_LIMIT_REACHED"]
        assert {e: c.hold_reasons for e, c in by_encounter.items() if e in held} == {e: first[e] for e in held}
        assert {e for e, c in by_encounter.items() if c.status == "submitted"} == set(first) - held


@pytest.mark.usefixtures("tiny_chunks")
class TestChunkedImport:
    def test_sample_is_stored_two_rows_at_a_time(self, app: App) -> None:
        result = import_encounters(app.config, app.uow, ENCOUNTERS)
        assert (result.inserted, result.replaced, result.errors) == (len(sample_rows()), 0, [])
        with app.transaction() as s:
            assert len(s.scalars(select(Encounter.encounter_id)).all()) == len(sample_rows())

    def test_repeated_id_in_a_later_chunk_is_refused(self, app: App, tmp_path: Path) -> None:
        """The second row of an id is refused even when the first went in with an earlier chunk."""
        rows = sample_rows()[:5]
        again = rows[0] | {"end_time": "10:30"}
        result = import_encounters(app.config, app.uow, write_csv(tmp_path / "e.csv", [*rows, again]))
        assert result.inserted == 5
        assert [(e["line"], e["encounter_id"]) for e in result.errors] == [(7, rows[0]["encounter_id"])]
        assert "appears twice in the file (first on line 2)" in result.errors[0]["problems"][0]

    def test_submitted_and_unsent_encounters_in_later_chunks(self, app: App, tmp_path: Path) -> None:
        """Each chunk sorts its rows: new ones stored, unsent ones replaced, submitted ones refused."""
        _code(loaded(app))
        assert submit_all(app.config, app.uow, as_of=app.as_of)
        by_encounter = claims_by_encounter(app)
        sent = sorted(e for e, c in by_encounter.items() if c.status == "submitted")[:3]
        held = sorted(e for e, c in by_encounter.items() if c.status == "held")[:3]
        rows = {r["encounter_id"]: r for r in sample_rows()}
        new = [rows["E-1001"] | {"encounter_id": f"E-90{i}"} for i in range(3)]
        path = write_csv(tmp_path / "e.csv", [*new, *(rows[e] for e in sent), *(rows[e] for e in held)])
        result = import_encounters(app.config, app.uow, path)
        assert (result.inserted, result.replaced) == (3, 3)
        assert sorted(e["encounter_id"] for e in result.errors) == sent
        assert all("already submitted" in e["problems"][0] for e in result.errors)


def test_read_columns_match_the_orm_and_hand_out_new_lists(app: App) -> None:
    """read_columns gives every column with the ORM's values; each JSON list is a list of its own."""
    _code(loaded(app))
    line_t = ClaimLine.__table__
    with app.transaction() as s:
        orm = {ln.id: ln for ln in s.scalars(select(ClaimLine))}
        rows = s.execute(select(*read_columns(line_t)).order_by(line_t.c.id)).all()
        assert [c.name for c in line_t.columns] == list(rows[0]._fields)
        for r in rows:
            ln = orm[r.id]
            assert (r.modifiers, r.diagnosis_pointers, r.charge) == (ln.modifiers, ln.diagnosis_pointers, ln.charge)
    same = [r.diagnosis_pointers for r in rows if r.diagnosis_pointers == [1]]
    assert len(same) > 1 and same[0] is not same[1]
    same[0].append(9)
    assert same[1] == [1]
