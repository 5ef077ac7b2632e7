"""TA1/999 and 277CA applied to the file ledger and the claims, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import io
import itertools
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from edi.x12 import InterchangeSpec, build_sets
from edi.x277 import ClaimStatus, ClaimStatusReport, Party, Person, ProviderStatus, Status, build_277ca
from edi.x999 import (
    ElementError,
    EnvelopeSpec,
    GroupAck,
    SegmentError,
    Ta1,
    TransactionAck,
    build_999,
    build_ta1,
)
from models import Claim, ClaimStatusEvent, Encounter, File
from pipelines.cli.app import App
from pipelines.cli.inbound import cmd_show as cmd_file_show
from pipelines.usecases.ingest import IngestResult, ingest_bytes
from pipelines.usecases.ledger import record_outbound
from pipelines.usecases.outbound import allocate_controls, write_outbound
from tests.conftest import FIXTURES

CH, US = "CLEARHOUSE", "SUNRISE01"
_isa = itertools.count(500)


def inbound_isa(sender: str = CH, gs: int | None = None) -> EnvelopeSpec:
    """An envelope from the clearinghouse to us with a fresh control number (distinct file bytes)."""
    return EnvelopeSpec(isa_control=next(_isa), gs_control=gs, created=datetime(2026, 11, 3, 9, 15), sender=sender,
                        receiver=US)


def add_encounter(s: object, encounter_id: str, patient_id: str, *, payer_id: str = "AETNA",
                  dos: date = date(2026, 10, 28), relationship: str = "self",
                  member_id: str = "W123456789") -> Encounter:
    dependent = relationship != "self"
    enc = Encounter(
        encounter_id=encounter_id, patient_id=patient_id, patient_last_name="DOE", patient_first_name="JANE",
        patient_dob=date(1985, 3, 14), patient_sex="F", patient_address="1 MAIN ST", patient_city="LOS ANGELES",
        patient_state="CA", patient_zip="90012", payer_id=payer_id, member_id=member_id,
        relationship=relationship, subscriber_last_name="DOE" if dependent else None,
        subscriber_first_name="JOHN" if dependent else None,
        subscriber_dob=date(1980, 1, 2) if dependent else None, subscriber_sex="M" if dependent else None,
        rendering_npi="1987654328", rendering_last_name="RIVERA", rendering_first_name="ANA",
        rendering_credential="LCSW", date_of_service=dos, start_time=datetime(2026, 1, 1, 9).time(),
        end_time=datetime(2026, 1, 1, 10).time(), service="individual_therapy", modality="in_person",
        patient_location="office", diagnoses=["F33.1"])
    s.add(enc)  # type: ignore[attr-defined]
    s.flush()  # type: ignore[attr-defined]  # claims reference it (no ORM relationship orders the inserts)
    return enc


def add_claim(s: object, claim_id: str, enc: Encounter, *, status: str = "submitted", file_id: int | None = None,
              st_control: str | None = None, submitted_at: datetime | None = None,
              billed: Decimal = Decimal("180.00")) -> Claim:
    c = Claim(claim_id=claim_id, encounter_id=enc.encounter_id, patient_id=enc.patient_id, payer_id=enc.payer_id,
              status=status, place_of_service="11", date_of_service=enc.date_of_service, diagnoses=["F33.1"],
              billed=billed, file_id=file_id, st_control=st_control, submitted_at=submitted_at)
    s.add(c)  # type: ignore[attr-defined]
    return c


def sent_837(app: App, sets: list[list[str]]) -> tuple[int, int, list[str]]:
    """An 837P file in the ledger with one ST per list of claim ids; returns (file id, GS06, ST02s)."""
    with app.transaction() as s:
        controls = allocate_controls(s, US, len(sets))
        sts = [controls.st_control(i) for i in range(len(sets))]
        ch = app.config.clearinghouse
        text = build_sets(
            InterchangeSpec(ch.submitter_id, ch.receiver_id, "261101", "1200", controls.isa, ch.usage),
            functional_id="HC", set_id="837", implementation="005010X222A1",
            bodies=[[["BHT", "0019", "00", "B1", "20261101", "1200", "CH"]] for _ in sts],
            group_control_number=controls.gs, first_transaction_number=controls.st)
        f = write_outbound(app.config, s, kind="837P", text=text, controls=controls, st_controls=[("837", st) for st in sts])
        for st, claim_ids in zip(sts, sets, strict=True):
            for cid in claim_ids:
                enc = add_encounter(s, f"E-{cid}", f"P-{cid}")
                add_claim(s, cid, enc, file_id=f.id, st_control=st)
        s.flush()
        return f.id, controls.gs, sts


def ingest(app: App, text: str, name: str = "in.x12") -> File:
    return ingest_bytes(app.config, app.uow, name, text.encode("latin-1"), IngestResult())


def claims(app: App) -> dict[str, Claim]:
    with app.transaction() as s:
        return {c.claim_id: c for c in s.scalars(select(Claim))}


def events(app: App, claim_id: str) -> list[ClaimStatusEvent]:
    with app.transaction() as s:
        return list(s.scalars(select(ClaimStatusEvent).join(Claim, Claim.id == ClaimStatusEvent.claim_pk)
                              .where(Claim.claim_id == claim_id).order_by(ClaimStatusEvent.id)))


def file_show(app: App, file_id: int) -> dict[str, object]:
    out = io.StringIO()
    app.out, app.json = out, True
    assert cmd_file_show(app, argparse.Namespace(file_id=file_id)) == 0
    app.json = False
    data: dict[str, object] = json.loads(out.getvalue())
    return data


NM1_ERROR = SegmentError("NM1", 21, "2010", "8", (ElementError(9, "I12", data_element="67"),), ("CLM01", "C000002"))


class TestAcknowledgment999:
    def test_rejected_set_rejects_its_claims_with_the_error_in_words(self, app: App) -> None:
        """A 999 rejecting one set rejects that set's claims with the error as reason; the other set's stay submitted."""
        file_id, gs, (st1, st2) = sent_837(app, [["C000001"], ["C000002", "C000003"]])
        ack = GroupAck.of("HC", str(gs), "005010X222A1", [
            TransactionAck("837", st1, "A"),
            TransactionAck("837", st2, "R", error_codes=("I5",), segment_errors=(NM1_ERROR,))])
        inbound = ingest(app, build_999([ack], envelope=inbound_isa(gs=9)))
        assert inbound.state == "processed", inbound.error
        got = claims(app)
        assert got["C000001"].status == "submitted"
        assert {got["C000002"].status, got["C000003"].status} == {"rejected"}
        assert "Implementation pattern match failure" in (got["C000002"].status_reason or "")
        assert "NM109" in (got["C000002"].status_reason or "")
        shown = file_show(app, file_id)
        assert shown["state"] == "partially_accepted"
        sets = {t["st_control"]: t for t in shown["transactions"]}  # type: ignore[attr-defined]
        assert (sets[st1]["state"], sets[st1]["errors"]) == ("accepted", [])
        assert sets[st2]["state"] == "rejected"
        element = next(e for e in sets[st2]["errors"] if e["level"] == "element")
        assert (element["segment_id"], element["position"], element["loop"], element["element"], element["code"]) == (
            "NM1", 21, "2010", 9, "I12")
        assert element["claim_id"] == "C000002" and element["text"].startswith("Segment NM1 at position 21 in loop 2010")
        assert any(e["code"] == "I5" and "segments in error" in e["text"] for e in sets[st2]["errors"])

    @pytest.mark.parametrize(("codes", "file_state", "set_states"), [
        pytest.param(["A", "A"], "accepted", ["accepted", "accepted"], id="all_accepted"),
        pytest.param(["A", "E"], "accepted_with_errors", ["accepted", "accepted_with_errors"], id="errors_noted"),
        pytest.param(["A", "R"], "partially_accepted", ["accepted", "rejected"], id="partial"),
        pytest.param(["R", "R"], "rejected", ["rejected", "rejected"], id="all_rejected"),
    ])
    def test_file_state_follows_ak9(self, app: App, codes: list[str], file_state: str, set_states: list[str]) -> None:
        """The outbound file takes its state from AK9 and each set from its IK5."""
        file_id, gs, sts = sent_837(app, [["C000011"], ["C000012"]])
        ack = GroupAck.of("HC", str(gs), "005010X222A1",
                          [TransactionAck("837", st, code) for st, code in zip(sts, codes, strict=True)])
        assert ingest(app, build_999([ack], envelope=inbound_isa(gs=9))).state == "processed"
        shown = file_show(app, file_id)
        assert shown["state"] == file_state
        assert [t["state"] for t in shown["transactions"]] == set_states  # type: ignore[attr-defined]
        statuses = claims(app)
        assert [statuses[c].status for c in ("C000011", "C000012")] == [
            "rejected" if s == "rejected" else "submitted" for s in set_states]

    def test_fixture_999_attributes_errors_to_the_claim_named_in_ctx(self, app: App) -> None:
        """The fixture's rejected set 0002 rejects its claims, each with the error its CTX names."""
        with app.transaction() as s:
            f = record_outbound(s, name="old.x12", data=b"ISA", kind="837P", archive_dir=app.config.archive_dir,
                                sender=US, receiver=CH, isa_control=42, gs_control=1002,
                                st_controls=[("837", "0001"), ("837", "0002"), ("837", "0003")])
            for cid, st in (("C000123", "0001"), ("C000124", "0002"), ("C000125", "0002")):
                add_claim(s, cid, add_encounter(s, f"E-{cid}", f"P-{cid}"), file_id=f.id, st_control=st)
        data = (FIXTURES / "999" / "rejected_partial.x12").read_bytes()
        assert ingest_bytes(app.config, app.uow, "999.x12", data, IngestResult()).state == "processed"
        got = claims(app)
        assert got["C000123"].status == "submitted"
        assert "NM1" in (got["C000124"].status_reason or "") and "CLM" not in (got["C000124"].status_reason or "")
        assert "CLM" in (got["C000125"].status_reason or "")
        assert {got["C000124"].status, got["C000125"].status} == {"rejected"}

    def test_999_for_a_file_never_sent_fails_naming_the_control_number(self, app: App) -> None:
        """A 999 whose group control number matches no outbound file fails the inbound file, naming GS06."""
        ack = GroupAck.of("HC", "777", "005010X222A1", [TransactionAck("837", "0001", "A")])
        f = ingest(app, build_999([ack], envelope=inbound_isa(gs=9)))
        assert f.state == "failed"
        assert "777" in (f.error or "")

    def test_999_naming_an_unknown_set_fails(self, app: App) -> None:
        """An AK2 whose ST02 is not in the acknowledged file fails the inbound file, naming the ST02."""
        _, gs, _ = sent_837(app, [["C000021"]])
        ack = GroupAck.of("HC", str(gs), "005010X222A1", [TransactionAck("837", "0999", "A")])
        f = ingest(app, build_999([ack], envelope=inbound_isa(gs=9)))
        assert f.state == "failed" and "0999" in (f.error or "")
        assert claims(app)["C000021"].status == "submitted"


class TestTa1:
    def test_rejected_interchange_rejects_file_sets_and_claims(self, app: App) -> None:
        """A TA1 R for our ISA13 rejects the file, its sets and claims, with the note in words."""
        file_id, _, _ = sent_837(app, [["C000031"]])
        with app.transaction() as s:
            isa = (s.get(File, file_id) or File()).isa_control or ""
        ta1 = Ta1(isa, date(2026, 11, 3), "0916", "R", "006")
        assert ingest(app, build_ta1(ta1, envelope=inbound_isa())).state == "processed"
        shown = file_show(app, file_id)
        assert shown["state"] == "rejected"
        assert "Invalid interchange sender ID" in str(shown["error"])
        assert claims(app)["C000031"].status == "rejected"

    def test_accepted_interchange_changes_nothing(self, app: App) -> None:
        """A TA1 A leaves the file waiting for its 999."""
        file_id, _, _ = sent_837(app, [["C000032"]])
        with app.transaction() as s:
            isa = (s.get(File, file_id) or File()).isa_control or ""
        assert ingest(app, build_ta1(Ta1(isa, date(2026, 11, 3), "0916", "A", "000"),
                                     envelope=inbound_isa())).state == "processed"
        assert file_show(app, file_id)["state"] == "built"
        assert claims(app)["C000032"].status == "submitted"

    def test_ta1_for_unknown_interchange_fails(self, app: App) -> None:
        """The fixture TA1 names ISA13 000000042, which we never sent: the file fails naming it."""
        f = ingest_bytes(app.config, app.uow, "ta1.x12", (FIXTURES / "ta1" / "rejected.x12").read_bytes(), IngestResult())
        assert f.state == "failed" and "000000042" in (f.error or "")


def _claim(claim_id: str, *statuses: Status, payer_claim_number: str | None = None) -> ClaimStatus:
    return ClaimStatus(trace_number=claim_id, statuses=statuses, patient=Person("DOE", "JANE", "W1"),
                       payer_claim_number=payer_claim_number, clearinghouse_trace=f"CH-{claim_id}",
                       service_date=date(2026, 10, 28))


def _277ca(*claim_statuses: ClaimStatus) -> str:
    ok = Status("A1", "19", "PR", date(2026, 11, 3), "WQ", Decimal("180"))
    report = ClaimStatusReport(
        source=Party("EXAMPLE CLEARINGHOUSE", CH, "46"), receiver=Party("SUNRISE", US, "46"),
        providers=(ProviderStatus(Party("SUNRISE", "1234567893", "XX"), claim_statuses, "0", (ok,)),),
        created=date(2026, 11, 3), reference="R1", source_trace="T1", receipt_date=date(2026, 11, 2),
        process_date=date(2026, 11, 3), receiver_trace="B1", receiver_statuses=(ok,))
    return build_277ca([report], envelope=inbound_isa(gs=5))


ACCEPT = Status("A2", "20", "PR", date(2026, 11, 3), "WQ", Decimal("180"))
REJECT = Status("A7", "164", "IL", date(2026, 11, 3), "U", Decimal("180"))


class Test277CA:
    def test_fixture_accepts_two_claims_and_rejects_one(self, app: App) -> None:
        """The fixture 277CA accepts C000123 and C000124 with payer claim numbers and rejects C000125 with reasons."""
        sent_837(app, [["C000123", "C000124", "C000125"]])
        f = ingest_bytes(app.config, app.uow, "277ca.x12", (FIXTURES / "277ca" / "accepted_rejected.x12").read_bytes(),
                         IngestResult())
        assert f.state == "processed", f.error
        got = claims(app)
        assert (got["C000123"].status, got["C000123"].payer_claim_number) == ("accepted", "26307A00123")
        assert got["C000123"].accepted_at is not None
        assert (got["C000124"].status, got["C000124"].payer_claim_number) == ("accepted", "26307A00124")
        rejected = got["C000125"]
        assert rejected.status == "rejected" and rejected.accepted_at is None
        assert "A3" in (rejected.status_reason or "") and "A7" in (rejected.status_reason or "")
        assert "L000458" in (rejected.status_reason or "")
        history = events(app, "C000123")
        assert [(e.source, e.category, e.code) for e in history] == [("277CA", "A1", "19"), ("277CA", "A2", "20")]
        assert history[0].trace == "CH-0001-77" and history[0].description

    def test_history_accumulates_and_a_later_acceptance_wins(self, app: App) -> None:
        """A rejection and then an acceptance for one claim keep both events, and the claim ends accepted."""
        sent_837(app, [["C000041"]])
        assert ingest(app, _277ca(_claim("C000041", REJECT))).state == "processed"
        first = claims(app)["C000041"]
        assert first.status == "rejected"
        assert "Acknowledgement/Rejected for Invalid Information" in (first.status_reason or "")
        assert ingest(app, _277ca(_claim("C000041", ACCEPT, payer_claim_number="PCN41"))).state == "processed"
        after = claims(app)["C000041"]
        assert (after.status, after.payer_claim_number, after.status_reason) == ("accepted", "PCN41", None)
        assert [e.category for e in events(app, "C000041")] == ["A7", "A2"]

    @pytest.mark.parametrize("final", ["paid", "denied", "patient_responsibility", "void"])
    def test_claim_already_adjudicated_is_not_moved_backwards(self, app: App, final: str) -> None:
        """A 277CA for a claim already paid, denied or void records history but keeps its status."""
        sent_837(app, [["C000051"]])
        with app.transaction() as s:
            c = s.scalars(select(Claim).where(Claim.claim_id == "C000051")).one()
            c.status = final
        assert ingest(app, _277ca(_claim("C000051", REJECT))).state == "processed"
        assert claims(app)["C000051"].status == final
        assert len(events(app, "C000051")) == 1

    def test_claim_ids_are_matched_without_regard_to_case_or_padding(self, app: App) -> None:
        """TRN02 ' c000061 ' finds claim C000061."""
        sent_837(app, [["C000061"]])
        assert ingest(app, _277ca(_claim(" c000061 ", ACCEPT))).state == "processed"
        assert claims(app)["C000061"].status == "accepted"

    def test_unknown_claim_is_counted_not_failed(self, app: App) -> None:
        """A claim id we never sent is counted unmatched; the known claim is still applied and the file processed."""
        sent_837(app, [["C000071"]])
        result = IngestResult()
        f = ingest_bytes(app.config, app.uow, "x.x12", _277ca(_claim("C000071", ACCEPT), _claim("C999999", ACCEPT)).encode(), result)
        assert f.state == "processed"
        assert result.counts["claims_unmatched"] == 1 and result.counts["claims_accepted"] == 1
        assert claims(app)["C000071"].status == "accepted"
