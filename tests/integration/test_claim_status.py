"""276 out for quiet claims and 277 in as status history, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from edi.x12 import open_x12
from edi.x277 import (
    ClaimStatus,
    ClaimStatusReport,
    LineStatus,
    Party,
    Person,
    ProviderStatus,
    Status,
    build_277,
)
from models import Claim, File, Inquiry
from pipelines.cli.app import App
from pipelines.cli.claims import cmd_status_request as cmd_request
from pipelines.usecases.claim_status import request_status
from pipelines.usecases.ingest import IngestResult, ingest_bytes
from tests.conftest import FIXTURES
from tests.integration.test_responses import add_claim, add_encounter, claims, events, inbound_isa

AS_OF = date(2026, 12, 15)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def quiet_claim(app: App, claim_id: str, *, days: int = 40, status: str = "submitted", payer_id: str = "AETNA",
                relationship: str = "self", payer_claim_number: str | None = None) -> None:
    with app.transaction() as s:
        enc = add_encounter(s, f"E-{claim_id}", f"P-{claim_id}", payer_id=payer_id, relationship=relationship,
                            member_id="W1" + claim_id[-4:])
        c = add_claim(s, claim_id, enc, status=status, submitted_at=at(AS_OF - timedelta(days=days)),
                      billed=Decimal("180.00"))
        c.payer_claim_number = payer_claim_number


class TestWhoIsAsked:
    @pytest.mark.parametrize(("status", "days", "inquiry_days", "asked"), [
        pytest.param("submitted", 40, None, True, id="submitted_long_ago"),
        pytest.param("accepted", 40, None, True, id="accepted_long_ago"),
        pytest.param("submitted", 20, None, False, id="submitted_recently"),
        pytest.param("submitted", 30, None, False, id="exactly_status_after_days_is_not_more"),
        pytest.param("paid", 40, None, False, id="paid"),
        pytest.param("denied", 40, None, False, id="denied"),
        pytest.param("rejected", 40, None, False, id="rejected"),
        pytest.param("submitted", 40, 10, False, id="asked_recently"),
        pytest.param("submitted", 40, 35, True, id="asked_long_ago"),
    ])
    def test_quiet_claims(self, app: App, status: str, days: int, inquiry_days: int | None, asked: bool) -> None:
        """A claim submitted more than status_after_days ago, unpaid, and not asked about lately gets a 276."""
        app.as_of = AS_OF
        quiet_claim(app, "C000001", days=days, status=status)
        if inquiry_days is not None:
            with app.transaction() as s:
                pk = s.scalars(select(Claim.id)).one()
                s.add(Inquiry(kind="276", trace="S9999999", patient_id="P-C000001", payer_id="AETNA", claim_pk=pk,
                              created_at=at(AS_OF - timedelta(days=inquiry_days))))
        f = request_status(app.config, app.uow, as_of=app.as_of)
        assert (f is not None) == asked
        if f is not None:
            with app.transaction() as s:
                q = s.scalars(select(Inquiry).where(Inquiry.file_id == f.id)).one()
            assert (q.kind, q.patient_id, q.payer_id) == ("276", "P-C000001", "AETNA")


class TestRequest:
    def test_276_file_names_each_claim_per_payer(self, app: App) -> None:
        """Quiet claims of two payers make one 276 file, one set per payer, each claim by TRN02 and REF*EJ."""
        app.as_of = AS_OF
        quiet_claim(app, "C000001", payer_claim_number="PCN1")
        quiet_claim(app, "C000002", payer_id="BCBS", relationship="child")
        quiet_claim(app, "C000003", payer_id="BCBS")
        f = request_status(app.config, app.uow, as_of=app.as_of)
        assert f is not None and (f.kind, f.state) == ("276", "built")
        text = Path(f.archive_path or "").read_text(encoding="latin-1")
        env = open_x12(text)
        sets = [(ts.control_number, list(ts.segments)) for ts in env]
        with app.transaction() as s:
            recorded = [t.st_control for t in (s.get(File, f.id) or File()).transactions]
        assert recorded == [ctl for ctl, _ in sets] and len(sets) == 2
        trn = [seg[2] for _, segs in sets for seg in segs if seg[0] == "TRN"]
        ej = [seg[2] for _, segs in sets for seg in segs if seg[0] == "REF" and seg[1] == "EJ"]
        assert sorted(trn) == sorted(ej) == ["C000001", "C000002", "C000003"]
        assert ["REF", "1K", "PCN1"] in sets[0][1]
        assert any(seg[:2] == ["HL", "5"] and seg[3] == "23" for _, segs in sets for seg in segs)  # the dependent
        assert env.findings == [] and env.interchanges[0].control_number == (f.isa_control or "")
        with app.transaction() as s:
            qs = list(s.scalars(select(Inquiry).where(Inquiry.kind == "276")))
        assert len(qs) == 3 and len({q.trace for q in qs}) == 3
        assert request_status(app.config, app.uow, as_of=app.as_of) is None

    def test_cmd_uploads_and_prints_summary(self, app: App) -> None:
        """`edi status request --json` builds the 276, uploads it and lists the claims asked about."""
        app.as_of = AS_OF
        quiet_claim(app, "C000009")
        out = io.StringIO()
        app.out, app.json = out, True
        assert cmd_request(app, argparse.Namespace()) == 0
        data = json.loads(out.getvalue())
        assert [q["claim_id"] for q in data["inquiries"]] == ["C000009"]
        mailbox = Path(app.config.transport.url[len("local:"):]) / app.config.transport.upload_dir
        assert (mailbox / data["file_name"]).is_file()
        with app.transaction() as s:
            assert (s.get(File, data["file_id"]) or File()).state == "sent"


def _277(*statuses: ClaimStatus) -> str:
    report = ClaimStatusReport(source=Party("AETNA", "60054"), receiver=Party("SUNRISE", "SUNRISE01", "46"),
                               providers=(ProviderStatus(Party("SUNRISE", "1234567893", "XX"), statuses),),
                               created=AS_OF)
    return build_277([report], envelope=inbound_isa("60054", gs=8))


class TestStatusResponses:
    def test_fixture_277_is_recorded_as_history(self, app: App) -> None:
        """The 277 fixture records claim and line statuses for known claims and counts the unknown one."""
        quiet_claim(app, "C000123", status="accepted", payer_claim_number="26307A00123")
        quiet_claim(app, "C000124")
        with app.transaction() as s:
            pk = s.scalars(select(Claim.id).where(Claim.claim_id == "C000123")).one()
            s.add(Inquiry(kind="276", trace="S0000001", patient_id="P-C000123", payer_id="AETNA", claim_pk=pk))
        result = IngestResult()
        f = ingest_bytes(app.config, app.uow, "277.x12", (FIXTURES / "277" / "status.x12").read_bytes(), result)
        assert f.state == "processed", f.error
        assert (result.counts["claims_matched"], result.counts["claims_unmatched"]) == (2, 1)
        history = events(app, "C000123")
        assert [(e.source, e.category, e.code) for e in history] == [("277", "F1", "65"), ("277", "F1", "65")]
        assert "L000456" in (history[1].description or "")
        assert [(e.category, e.code) for e in events(app, "C000124")] == [("P1", "20")]
        got = claims(app)
        assert (got["C000123"].status, got["C000124"].status) == ("accepted", "submitted")  # payment is the 835's
        assert got["C000124"].payer_claim_number == "26307A00124"
        with app.transaction() as s:
            assert s.scalars(select(Inquiry.answered_at)).one() is not None

    def test_finalized_denial_updates_the_reason_not_the_status(self, app: App) -> None:
        """A 277 F2 denial records the reason in words; the status waits for the 835."""
        quiet_claim(app, "C000201", status="accepted")
        denial = ClaimStatus(trace_number="C000201",
                             statuses=(Status("F2", "88", date=AS_OF, charge=Decimal("180"), payment=Decimal("0")),),
                             patient=Person("DOE", "JANE", "W1"), patient_control_number="C000201",
                             lines=(LineStatus("90837", Decimal("180"), (Status("F2", "88", date=AS_OF),),
                                               service_date=date(2026, 10, 28)),),
                             service_date=date(2026, 10, 28))
        f = ingest_bytes(app.config, app.uow, "d.x12", _277(denial).encode("latin-1"), IngestResult())
        assert f.state == "processed", f.error
        c = claims(app)["C000201"]
        assert c.status == "accepted"
        assert "F2" in (c.status_reason or "") and "Finalized/Denial" in (c.status_reason or "")
