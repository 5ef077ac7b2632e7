"""270 out and 271 in: which pairs are asked, the file and its inquiries, eligibility on file, the scrubber."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from edi.validate import validate_x12
from edi.x12 import open_x12
from edi.x271 import Benefit, BenefitDate, EligibilityResponse, Member, Party, Rejection, Trace, build_271
from models import Claim, Eligibility, File, Inquiry
from pipelines.cli.app import App
from pipelines.cli.claims import cmd_eligibility_request as cmd_request
from pipelines.cli.claims import cmd_eligibility_show as cmd_show
from pipelines.usecases.eligibility import eligibility_on_file, request_eligibility
from pipelines.usecases.ingest import IngestResult, ingest_bytes
from tests.conftest import FIXTURES
from tests.integration.test_responses import add_claim, add_encounter, inbound_isa

AS_OF = date(2026, 11, 20)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def inquiries(app: App) -> list[Inquiry]:
    with app.transaction() as s:
        return list(s.scalars(select(Inquiry).order_by(Inquiry.id)))


def read_file(f: File) -> str:
    return Path(f.archive_path or "").read_text(encoding="latin-1")


def answer(trace: str, *benefits: Benefit, rejections: tuple[Rejection, ...] = (),
           dates: tuple[BenefitDate, ...] = ()) -> str:
    member = Member(level="subscriber", last_name="DOE", first_name="JANE", member_id="W123456789",
                    id_qualifier="MI", traces=(Trace("2", trace, "1123456789"),), dates=dates, benefits=benefits,
                    rejections=rejections)
    r = EligibilityResponse(source=Party("AETNA", "60054", "PI"),
                            receiver=Party("SUNRISE", "1234567893", "XX", entity="1P"), members=(member,),
                            created=AS_OF, reference="X")
    return build_271([r], envelope=inbound_isa("60054", gs=3))


def ingest(app: App, text: str) -> tuple[File, IngestResult]:
    result = IngestResult()
    return ingest_bytes(app.config, app.uow, "271.x12", text.encode("latin-1"), result), result


def shown(app: App, patient_id: str) -> list[dict[str, Any]]:
    """What `edi eligibility show PATIENT_ID --json` lists."""
    out = io.StringIO()
    app.out, app.json = out, True
    assert cmd_show(app, argparse.Namespace(patient_id=patient_id)) == 0
    app.json = False
    data: dict[str, Any] = json.loads(out.getvalue())
    assert data["patient_id"] == patient_id
    rows: list[dict[str, Any]] = data["eligibility"]
    return rows


class TestWhoIsAsked:
    @pytest.mark.parametrize(("setup", "asked"), [
        pytest.param("nothing_on_file", True, id="no_eligibility_on_file"),
        pytest.param("checked_10_days_ago", False, id="fresh_eligibility_on_file"),
        pytest.param("checked_40_days_ago", True, id="eligibility_older_than_max_age"),
        pytest.param("asked_5_days_ago", False, id="inquiry_sent_in_window"),
        pytest.param("asked_in_rejected_file", True, id="inquiry_in_rejected_file_does_not_count"),
        pytest.param("submitted_long_ago", False, id="old_submitted_encounter_only"),
        pytest.param("submitted_recently", True, id="recent_submitted_encounter"),
        pytest.param("payer_not_configured", False, id="unknown_payer_skipped"),
    ])
    def test_pair_selection(self, app: App, setup: str, asked: bool) -> None:
        """A pair is asked when it has no fresh eligibility and no inquiry in the window, for active encounters."""
        app.as_of = AS_OF
        with app.transaction() as s:
            dos = AS_OF - timedelta(days=90 if setup.startswith("submitted_long") else 3)
            enc = add_encounter(s, "E-1", "P-1", dos=dos,
                                payer_id="CIGNA" if setup == "payer_not_configured" else "AETNA")
            if setup.startswith("submitted"):
                add_claim(s, "C000001", enc, status="submitted")
            if setup.startswith("checked"):
                days = 10 if "10" in setup else 40
                s.add(Eligibility(patient_id="P-1", payer_id="AETNA", active=True,
                                  checked_at=at(AS_OF - timedelta(days=days))))
            if setup.startswith("asked"):
                f = File(name="x", direction="out", kind="270", sha256="0" * 64, size=1,
                         state="rejected" if "rejected" in setup else "sent")
                s.add(f)
                s.flush()
                s.add(Inquiry(kind="270", trace="E9999999", patient_id="P-1", payer_id="AETNA", file_id=f.id,
                              created_at=at(AS_OF - timedelta(days=5))))
        built = request_eligibility(app.config, app.uow, as_of=app.as_of)
        assert (built is not None) == asked
        if built is not None:
            assert [(q.patient_id, q.payer_id) for q in inquiries(app) if q.file_id == built.id] == [("P-1", "AETNA")]


class TestRequest:
    def test_one_file_with_unique_traces_that_validates(self, app: App) -> None:
        """Pairs of two payers, one a dependent, make one 270 file that passes pyx12, one Inquiry per pair."""
        app.as_of = AS_OF
        with app.transaction() as s:
            add_encounter(s, "E-1", "P-1")
            add_encounter(s, "E-2", "P-1", dos=AS_OF - timedelta(days=1))  # same pair: asked once
            add_encounter(s, "E-3", "P-2", payer_id="BCBS", relationship="child", member_id="XBC1")
            add_encounter(s, "E-4", "P-3", payer_id="BCBS", relationship="spouse", member_id="XBC2")
        f = request_eligibility(app.config, app.uow, as_of=app.as_of)
        assert f is not None and f.kind == "270" and f.state == "built"
        qs = inquiries(app)
        assert sorted((q.patient_id, q.payer_id) for q in qs) == [("P-1", "AETNA"), ("P-2", "BCBS"), ("P-3", "BCBS")]
        assert len({q.trace for q in qs}) == 3 and {q.file_id for q in qs} == {f.id}
        text = read_file(f)
        result = validate_x12(text)
        assert result.ok, [str(e) for e in result.errors]
        sets = list(open_x12(text))
        with app.transaction() as s:
            recorded = [t.st_control for t in (s.get(File, f.id) or File()).transactions]
        assert recorded == [ts.control_number for ts in sets] and len(sets) == 3  # AETNA; BCBS; 2nd dependent
        assert all(q.trace in text for q in qs)
        assert request_eligibility(app.config, app.uow, as_of=app.as_of) is None  # asked in the window: nothing more to do

    def test_bad_encounter_is_skipped_not_blocking(self, app: App) -> None:
        """A dependent without subscriber name is skipped with a reason; the other pair is still asked."""
        app.as_of = AS_OF
        with app.transaction() as s:
            add_encounter(s, "E-1", "P-1")
            bad = add_encounter(s, "E-2", "P-2", relationship="child")
            bad.subscriber_last_name = ""
        out = io.StringIO()
        app.out, app.json = out, True
        assert cmd_request(app, argparse.Namespace()) == 1
        data = json.loads(out.getvalue())
        assert [q["patient_id"] for q in data["inquiries"]] == ["P-1"]
        assert [(x["patient_id"], "subscriber last name is missing" in x["reason"]) for x in data["skipped"]] == [
            ("P-2", True)]
        assert data["uploaded_file_ids"] == [data["file_id"]]
        mailbox = Path(app.config.transport.url[len("local:"):]) / app.config.transport.upload_dir
        assert (mailbox / data["file_name"]).is_file()


class TestAnswers:
    def test_fixture_active_271_stores_benefits(self, app: App) -> None:
        """The active 271 fixture, tied by its trace, stores coverage dates and MH copay, coinsurance, limits, auth."""
        with app.transaction() as s:
            s.add(Inquiry(kind="270", trace="E0000017", patient_id="P-17", payer_id="AETNA"))
        f = ingest_bytes(app.config, app.uow, "a.x12", (FIXTURES / "271" / "active_mh.x12").read_bytes(), IngestResult())
        assert f.state == "processed", f.error
        (row,) = shown(app, "P-17")
        assert (row["coverage"], row["plan_start"], row["plan_end"]) == ("active", "2026-01-01", "2026-12-31")
        mh = next(b for b in row["benefits"] if b["service_type"] == "MH")
        assert [c["amount"] for c in mh["copay"] if c["in_network"]] == ["25.00"]
        assert [c["percent"] for c in mh["coinsurance"]] == ["20"]
        assert [d["amount"] for d in mh["deductible"]] == ["500.00"]
        assert [d["amount"] for d in mh["deductible_remaining"]] == ["125.00"]
        assert (mh["visit_limit"], mh["visits_remaining"]) == (30, 18)
        assert mh["auth_required_procedures"] == ["90837"]
        assert inquiries(app)[0].answered_at is not None

    def test_fixture_inactive_271_is_on_file_as_inactive(self, app: App) -> None:
        """The inactive 271 fixture stores inactive coverage ending 2026-06-30 for the scrubber."""
        with app.transaction() as s:
            s.add(Inquiry(kind="270", trace="E0000018", patient_id="P-18", payer_id="AETNA"))
        f = ingest_bytes(app.config, app.uow, "i.x12", (FIXTURES / "271" / "inactive.x12").read_bytes(), IngestResult())
        assert f.state == "processed", f.error
        with app.transaction() as s:
            on_file = list(eligibility_on_file(s).values())
        assert [(e.patient_id, e.active, e.end) for e in on_file] == [("P-18", False, date(2026, 6, 30))]

    def test_fixture_aaa_rejections_are_kept_but_not_coverage(self, app: App) -> None:
        """AAA-only answers are stored with their reasons in words, coverage unknown, and the scrubber ignores them."""
        with app.transaction() as s:
            s.add(Inquiry(kind="270", trace="E0000019", patient_id="P-19", payer_id="AETNA"))
            s.add(Inquiry(kind="270", trace="E0000020", patient_id="P-20", payer_id="AETNA"))
        result = IngestResult()
        f = ingest_bytes(app.config, app.uow, "r.x12", (FIXTURES / "271" / "rejected_aaa.x12").read_bytes(), result)
        assert f.state == "processed", f.error
        assert (result.counts["eligibility_unknown"], result.counts["members_unmatched"]) == (2, 1)
        (row,) = shown(app, "P-19")
        assert row["coverage"] == "unknown"
        assert [x["reason_code"] for x in row["rejections"]] == ["72"]
        assert "Invalid/Missing Subscriber/Insured ID" in row["rejections"][0]["text"]
        with app.transaction() as s:
            assert eligibility_on_file(s) == {}

    def test_latest_answer_per_payer_is_shown_and_used(self, app: App) -> None:
        """After an active and then an inactive 271, show and the scrubber's view both say inactive."""
        with app.transaction() as s:
            s.add(Inquiry(kind="270", trace="E0000031", patient_id="P-31", payer_id="AETNA"))
            s.add(Inquiry(kind="270", trace="E0000032", patient_id="P-31", payer_id="AETNA"))
        assert ingest(app, answer("E0000031", Benefit("1", service_types=("MH",))))[0].state == "processed"
        assert ingest(app, answer("E0000032", Benefit("6", service_types=("30",))))[0].state == "processed"
        assert [r["coverage"] for r in shown(app, "P-31")] == ["inactive"]
        with app.transaction() as s:
            assert [e.active for e in eligibility_on_file(s, ["P-31"]).values()] == [False]

    def test_newer_rejection_only_answer_does_not_hide_inactive(self, app: App) -> None:
        """An inactive 271 then a rejection-only 271: show and the scrubber's view still say inactive."""
        with app.transaction() as s:
            s.add(Inquiry(kind="270", trace="E0000033", patient_id="P-33", payer_id="AETNA"))
            s.add(Inquiry(kind="270", trace="E0000034", patient_id="P-33", payer_id="AETNA"))
        assert ingest(app, answer("E0000033", Benefit("6", service_types=("30",))))[0].state == "processed"
        assert ingest(app, answer("E0000034", rejections=(Rejection("72", "C", "2100C"),)))[0].state == "processed"
        assert [r["coverage"] for r in shown(app, "P-33")] == ["inactive"]
        with app.transaction() as s:
            stored = s.scalars(select(Eligibility.active).where(Eligibility.patient_id == "P-33")
                               .order_by(Eligibility.id)).all()
            assert stored == [False, None]  # the newer answer is on file, and says nothing about coverage
            assert [e.active for e in eligibility_on_file(s, ["P-33"]).values()] == [False]

    def test_unknown_trace_is_counted_not_failed(self, app: App) -> None:
        """A 271 member whose trace we never sent is counted unmatched; the file is processed."""
        f, result = ingest(app, answer("E7777777", Benefit("1")))
        assert f.state == "processed" and result.counts["members_unmatched"] == 1

    def test_whole_batch_rejection_answers_every_inquiry_of_the_file(self, app: App) -> None:
        """A 271 with only a source-level AAA, echoing our BHT03, stores the rejection for each inquiry of that 270."""
        app.as_of = AS_OF
        with app.transaction() as s:
            add_encounter(s, "E-1", "P-1")
            add_encounter(s, "E-2", "P-2")
        f = request_eligibility(app.config, app.uow, as_of=app.as_of)
        assert f is not None
        reference = next(seg[3] for seg in (line.split("*") for line in read_file(f).split("~")) if seg[0].strip()
                         == "BHT")
        r = EligibilityResponse(source=Party("AETNA", "60054", "PI"), receiver=None, members=(), created=AS_OF,
                                reference=reference, rejections=(Rejection("42", "R", "2000A"),))
        g, _ = ingest(app, build_271([r], envelope=inbound_isa("60054", gs=4)))
        assert g.state == "processed", g.error
        for patient in ("P-1", "P-2"):
            (row,) = shown(app, patient)
            assert [x["reason_code"] for x in row["rejections"]] == ["42"]


class TestScrubberUsesEligibility:
    @pytest.mark.parametrize("then_rejection_only", [False, True], ids=["inactive", "inactive_then_aaa_only"])
    def test_inactive_271_holds_the_next_encounter(self, app: App, then_rejection_only: bool) -> None:
        """Import encounters, a 271 inactive for one patient and payer, submit: that claim is held ELIGIBILITY_INACTIVE
        (also when a rejection-only 271 came after the inactive one)."""
        claims = pytest.importorskip("pipelines.usecases.claims")
        importer = pytest.importorskip("pipelines.usecases.importer")
        app.as_of = date(2026, 6, 15)
        assert not importer.import_encounters(app.config, app.uow, FIXTURES / "encounters" / "sample.csv").errors
        assert not importer.import_authorizations(app.config, app.uow, FIXTURES / "authorizations" / "sample.csv").errors
        assert request_eligibility(app.config, app.uow, as_of=app.as_of) is not None
        trace = next(q.trace for q in inquiries(app) if (q.patient_id, q.payer_id) == ("P-1001", "AETNA"))
        assert ingest(app, answer(trace, Benefit("6", service_types=("30",))))[0].state == "processed"
        if then_rejection_only:
            with app.transaction() as s:
                s.add(Inquiry(kind="270", trace="E0009999", patient_id="P-1001", payer_id="AETNA"))
            aaa = answer("E0009999", rejections=(Rejection("72", "C", "2100C"),))
            assert ingest(app, aaa)[0].state == "processed"
        with app.transaction() as s:
            claims.code_and_scrub(app.config, s, as_of=app.as_of)
        with app.transaction() as s:
            held = s.scalars(select(Claim).where(Claim.encounter_id == "E-1001")).one()
            others = [c.hold_reasons for c in s.scalars(select(Claim).where(Claim.patient_id != "P-1001"))]
        assert "ELIGIBILITY_INACTIVE" in held.hold_reasons and held.status == "held"
        assert all("ELIGIBILITY_INACTIVE" not in r for r in others)
