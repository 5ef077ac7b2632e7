"""Secondary and tertiary payers end to end (CONTRACT section 7), on SQLite and PostgreSQL.

Encounters with other coverage are imported, the primary claim goes out naming the other payers,
hand-built 835s are ingested, and each next payer's claim is built, validated with pyx12 and read
back with the project's 837P parser.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from edi.validate import validate_x12
from edi.x12 import open_x12
from edi.x276 import parse_276
from edi.x835 import Adjustment as Cas835
from edi.x835 import ClaimPayment as Clp
from edi.x835 import EnvelopeSpec, Name, Remittance835, ServiceLine, build_835, parse_835
from edi.x837p import SubmittedClaim, parse_837p
from models import Claim, CobAdjudication, Denial, Eligibility, File, UnmatchedPayment
from pipelines.cli.app import App
from pipelines.errors import UsageError
from pipelines.rules.lifecycle import ClaimStatus
from pipelines.simulator import payer_rules_from_config, simulate_mailbox
from pipelines.usecases.at_risk import at_risk_claims
from pipelines.usecases.claim_status import request_status
from pipelines.usecases.claim_views import claim_detail, export_claims
from pipelines.usecases.denials import resubmit
from pipelines.usecases.holds import explain_holds
from pipelines.usecases.importer import ENCOUNTER_COLUMNS, import_encounters
from pipelines.usecases.ingest import IngestResult, ingest_bytes, process_file
from pipelines.usecases.ledger import read_archived_bytes
from pipelines.usecases.nightly import nightly_run
from pipelines.usecases.report import build_report
from pipelines.usecases.submit import submit_and_upload
from tests.conftest import FIXTURES

D = Decimal
DOS = date(2026, 5, 4)
PAYER_IDS = {"AETNA": "60054", "MEDICAID": "SKCA0", "BCBS": "00060"}

ROW: dict[str, str] = {
    "encounter_id": "E-1", "patient_id": "P-1", "patient_last_name": "Harlow", "patient_first_name": "Mira",
    "patient_dob": "1985-04-12", "patient_sex": "F", "patient_address": "12 Elm St", "patient_city": "Pasadena",
    "patient_state": "CA", "patient_zip": "91101", "payer_id": "AETNA", "member_id": "W1", "relationship": "self",
    "rendering_npi": "1987654328", "rendering_last_name": "Rivera", "rendering_first_name": "Ana",
    "rendering_credential": "LCSW", "date_of_service": DOS.isoformat(), "start_time": "09:00", "end_time": "09:45",
    "service": "individual_therapy", "interactive_complexity": "Y", "modality": "in_person",
    "patient_location": "office", "diagnoses": "F33.1",
    "secondary_payer_id": "MEDICAID", "secondary_member_id": "M77", "secondary_relationship": "self",
    "tertiary_payer_id": "BCBS", "tertiary_member_id": "B9", "tertiary_relationship": "spouse",
    "tertiary_subscriber_last_name": "Harlow", "tertiary_subscriber_first_name": "Sam",
    "tertiary_subscriber_dob": "1961-02-03", "tertiary_subscriber_sex": "M",
}
NO_TERTIARY = {k: "" for k in ROW if k.startswith("tertiary_")}

# What each payer says, per line (90834 HO 140.00, 90785 HO 25.00): (paid, [(group, reason, amount)]).
P_LINES = [("80.00", [("CO", "45", "40.00"), ("PR", "2", "20.00")]),
           ("10.00", [("CO", "45", "10.00"), ("PR", "3", "5.00")])]
S_LINES = [("15.00", [("OA", "23", "120.00"), ("PR", "1", "5.00")]),
           ("3.00", [("OA", "23", "20.00"), ("PR", "3", "2.00")])]
S_CLAIM_CAS = [("OA", "94", "1.00")]
T_LINES = [("4.00", [("OA", "23", "135.00"), ("PR", "3", "1.00")]),
           ("2.00", [("OA", "23", "23.00")])]


# --- helpers ------------------------------------------------------------------------------------------


def load(app: App, tmp_path: Path, *rows: dict[str, str], name: str = "enc.csv") -> Any:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ENCOUNTER_COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in ENCOUNTER_COLUMNS})
    return import_encounters(app.config, app.uow, path)


def submit(app: App, as_of: date) -> tuple[dict[str, Any], list[bytes]]:
    with app.mailbox() as mailbox:
        data = submit_and_upload(app.config, app.uow, mailbox, as_of=as_of)
    texts = []
    with app.transaction() as s:
        for f in data["files"]:
            row = s.get(File, f["file_id"])
            assert row is not None
            texts.append(read_archived_bytes(row))
    return data, texts


def claims837(text: bytes) -> dict[str, SubmittedClaim]:
    return {c.claim_id: c for ts in open_x12(text) for c in parse_837p(ts).claims}


def assert_valid(text: bytes) -> None:
    result = validate_x12(text)
    assert result.ok and result.errors == [], [str(e) for e in result.errors]


def leg(app: App, sequence: str, encounter_id: str = "E-1") -> Claim:
    with app.transaction() as s:
        c = s.scalars(select(Claim).where(Claim.encounter_id == encounter_id, Claim.payer_sequence == sequence)
                      .order_by(Claim.id.desc())).first()
        assert c is not None, f"no {sequence} leg"
        _ = c.lines
        return c


def legs(app: App, encounter_id: str = "E-1") -> list[Claim]:
    with app.transaction() as s:
        return list(s.scalars(select(Claim).where(Claim.encounter_id == encounter_id).order_by(Claim.id)))


def cas(items: Sequence[tuple[str, str, str]]) -> tuple[Cas835, ...]:
    return tuple(Cas835(g, r, D(a)) for g, r, a in items)


def clp(claim: Claim, spec: Sequence[tuple[str, Sequence[tuple[str, str, str]]]], *, status: str = "1",
        claim_cas: Sequence[tuple[str, str, str]] = (), clp01: str | None = None,
        names: tuple[Name, ...] = ()) -> Clp:
    """An 835 claim paying ``claim`` line by line as ``spec`` says (amounts that balance)."""
    lines = []
    for ln, (paid, adj) in zip(claim.lines, spec, strict=True):
        lines.append(ServiceLine(ln.procedure, ln.charge, D(paid), modifiers=tuple(ln.modifiers), units=D(ln.units),
                                 line_control_number=ln.line_control_number, adjustments=cas(adj),
                                 dates=(("472", DOS),)))
    claim_adj = cas(claim_cas)
    all_cas = [*claim_adj, *(a for ln in lines for a in ln.adjustments)]
    net = sum((ln.paid for ln in lines), D("0.00")) - sum((a.amount for a in claim_adj), D("0.00"))
    pr = sum((a.amount for a in all_cas if a.group == "PR"), D("0.00"))
    return Clp(clp01 or claim.claim_id, status, claim.billed, net, pr, "MC", f"PCN-{claim.claim_id}", "11", "1",
               header_number=1, adjustments=claim_adj, other_names=names, lines=tuple(lines))


def negated(c: Clp) -> Clp:
    def adj(items: tuple[Cas835, ...]) -> tuple[Cas835, ...]:
        return tuple(dataclasses.replace(a, amount=-a.amount) for a in items)

    return dataclasses.replace(
        c, status_code="22", charge=-c.charge, paid=-c.paid, patient_responsibility=-c.patient_responsibility,
        adjustments=adj(c.adjustments),
        lines=tuple(dataclasses.replace(ln, charge=-ln.charge, paid=-ln.paid, units=-ln.units,
                                        adjustments=adj(ln.adjustments)) for ln in c.lines))


_BASE = parse_835(next(iter(open_x12((FIXTURES / "835" / "payer_claim_line_cas.x12").read_bytes()))))
_ISA = iter(range(500, 10_000))


def remittance_set(payer: str, claims: Sequence[Clp], paid_on: date, trace: str) -> Remittance835:
    """An 835 from ``payer`` (its payer_id in N1*PR N104 and REF*2U) dated ``paid_on``."""
    pid = PAYER_IDS[payer]
    party = dataclasses.replace(_BASE.payer, name=f"{payer} PLAN", id=pid, references=(("2U", pid),))
    amount = sum((c.paid for c in claims), D("0.00"))
    payment = dataclasses.replace(_BASE.payment, amount=abs(amount), credit_debit="C" if amount >= 0 else "D",
                                  trace_number=trace, payer_tax_id="1" + pid.rjust(9, "0"), date=paid_on)
    return Remittance835(payment, party, _BASE.payee, tuple(claims))


def x12(*sets: Remittance835) -> bytes:
    isa = next(_ISA)
    return build_835(list(sets), envelope=EnvelopeSpec(isa_control=isa, gs_control=isa,
                                                       created=datetime(2026, 6, 1, 8, 0), sender="PAYERSENDER",
                                                       receiver="SUNRISE01")).encode("latin-1")


def remittance(payer: str, claims: Sequence[Clp], paid_on: date, trace: str) -> bytes:
    return x12(remittance_set(payer, claims, paid_on, trace))


def ingest(app: App, data: bytes, name: str) -> tuple[File, IngestResult]:
    result = IngestResult()
    f = ingest_bytes(app.config, app.uow, name, data, result)
    if f.state != "processed":
        print((f.error_position or {}).get("traceback"))
    assert f.state == "processed", f.error
    return f, result


def exported(app: App) -> dict[str, dict[str, Any]]:
    return {c["claim_id"]: c for c in export_claims(app.uow)}


def adjudicated_as(spec: Sequence[tuple[str, Sequence[tuple[str, str, str]]]]) -> list[tuple[Any, ...]]:
    return [(D(paid), tuple((g, r, D(a)) for g, r, a in adj)) for paid, adj in spec]


def line_2430(claim: SubmittedClaim, payer: str) -> list[tuple[Any, ...]]:
    out = []
    for ln in claim.lines:
        a = next(x for x in ln.adjudications if x.payer_id == PAYER_IDS[payer])
        assert (a.procedure, a.modifiers) == (ln.procedure, ln.modifiers)
        out.append((a.paid, tuple((c.group, c.reason, c.amount) for c in a.adjustments)))
    return out


# --- the chain ----------------------------------------------------------------------------------------


class TestChain:
    def test_primary_secondary_tertiary(self, app: App, tmp_path: Path) -> None:
        """P -> S -> T: each next claim is built after the previous 835 posts, carries every earlier
        payer's 2320/2430 exactly as its 835 said, validates with pyx12, and the balance follows."""
        assert load(app, tmp_path, ROW).errors == []
        data, [text] = submit(app, date(2026, 5, 10))
        assert data["sent"] == 1
        assert_valid(text)
        p = leg(app, "P")
        sent = claims837(text)[p.claim_id]
        assert sent.payer_sequence == "P" and sent.payer_id == "60054"
        assert [(o.sequence, o.payer.id if o.payer else None, o.paid) for o in sent.other_payers] == [
            ("S", "SKCA0", None), ("T", "00060", None)]
        assert all(not ln.adjudications for ln in sent.lines)

        ingest(app, remittance("AETNA", [clp(p, P_LINES)], date(2026, 5, 20), "AET1"), "p.835")
        p = leg(app, "P")
        assert (p.status, p.paid, p.patient_responsibility) == ("paid", D("90.00"), D("25.00"))
        assert exported(app)[p.claim_id]["patient_balance"] == "25.00"

        data, [text] = submit(app, date(2026, 5, 25))
        assert data["next_legs"]["next_legs_created"] == 1 and data["sent"] == 1
        assert_valid(text)
        s = leg(app, "S")
        assert (s.payer_id, s.prior_claim_id, s.prior_payment_date, s.status) == (
            "MEDICAID", p.claim_id, date(2026, 5, 20), "submitted")
        assert [(ln.procedure, ln.charge) for ln in s.lines] == [(ln.procedure, ln.charge) for ln in p.lines]
        assert {ln.line_control_number for ln in s.lines}.isdisjoint(ln.line_control_number for ln in p.lines)
        sent = claims837(text)[s.claim_id]
        assert (sent.payer_sequence, sent.payer_id, sent.member_id, sent.charge) == ("S", "SKCA0", "M77", D("165.00"))
        prim = sent.other_payers[0]
        assert (prim.sequence, prim.payer.id if prim.payer else None, prim.paid, prim.adjudication_date,
                prim.adjustments) == ("P", "60054", D("90.00"), date(2026, 5, 20), ())
        assert prim.subscriber is not None and prim.subscriber.member_id == "W1"
        assert [(o.sequence, o.paid) for o in sent.other_payers[1:]] == [("T", None)]
        assert line_2430(sent, "AETNA") == adjudicated_as(P_LINES)
        assert all(a.adjudication_date == date(2026, 5, 20) for ln in sent.lines for a in ln.adjudications)
        # the open A/R of the secondary leg is what the primary left, not the whole charge again
        assert build_report(app.config, app.uow, as_of=date(2026, 5, 26))["aging"]["total"] == "25.00"

        ingest(app, remittance("MEDICAID", [clp(s, S_LINES, status="2", claim_cas=S_CLAIM_CAS)],
                               date(2026, 6, 2), "MCD1"), "s.835")
        s = leg(app, "S")
        assert (s.status, s.paid, s.patient_responsibility) == ("paid", D("17.00"), D("7.00"))
        assert {c["patient_balance"] for c in exported(app).values()} == {"7.00"}

        data, [text] = submit(app, date(2026, 6, 5))
        assert data["next_legs"]["next_legs_created"] == 1
        assert_valid(text)
        t = leg(app, "T")
        assert (t.payer_id, t.prior_claim_id, t.prior_payment_date) == ("BCBS", s.claim_id, date(2026, 6, 2))
        sent = claims837(text)[t.claim_id]
        assert (sent.payer_sequence, sent.payer_id, sent.member_id) == ("T", "00060", "B9")
        assert [(o.sequence, o.paid, o.adjudication_date) for o in sent.other_payers] == [
            ("P", D("90.00"), date(2026, 5, 20)), ("S", D("17.00"), date(2026, 6, 2))]
        assert [(a.group, a.reason, a.amount) for a in sent.other_payers[1].adjustments] == [("OA", "94", D("1.00"))]
        assert line_2430(sent, "AETNA") == adjudicated_as(P_LINES)
        assert line_2430(sent, "MEDICAID") == adjudicated_as(S_LINES)

        ingest(app, remittance("BCBS", [clp(t, T_LINES, status="3")], date(2026, 6, 20), "BCB1"), "t.835")
        chain = exported(app)
        assert [(c["payer_sequence"], c["payer_id"], c["prior_claim_id"], c["status"], c["patient_balance"])
                for c in chain.values()] == [
            ("P", "AETNA", None, "paid", "1.00"), ("S", "MEDICAID", p.claim_id, "paid", "1.00"),
            ("T", "BCBS", s.claim_id, "paid", "1.00")]
        detail = claim_detail(app.uow, t.claim_id)
        assert (detail["payer_sequence"], detail["prior_claim_id"], detail["patient_balance"]) == (
            "T", s.claim_id, "1.00")
        data, texts = submit(app, date(2026, 6, 25))
        assert texts == [] and len(legs(app)) == 3  # the chain is done: nothing more is built
        # the report bills the service once and counts every payer's money, by sequence
        report = build_report(app.config, app.uow, as_of=date(2026, 6, 25))
        assert report["claims"]["billed"] == {"count": 1, "amount": "165.00"}
        assert report["claims"]["paid"]["amount"] == "113.00"
        assert [(x["payer_sequence"], x["claims"], x["paid"]) for x in report["claims"]["by_payer_sequence"]] == [
            ("P", 1, "90.00"), ("S", 1, "17.00"), ("T", 1, "6.00")]
        assert report["net_collection"]["billed"] == "165.00"
        assert report["net_collection"]["patient_responsibility"] == "1.00"  # only what the last payer left
        assert report["aging"]["total"] == "0.00"

    def test_no_patient_responsibility_no_next_leg(self, app: App, tmp_path: Path) -> None:
        """A primary that pays everything it allows (no PR), or denies with no PR, builds no secondary claim."""
        assert load(app, tmp_path, ROW, ROW | {"encounter_id": "E-2", "start_time": "10:00", "end_time": "10:45",
                                               "patient_id": "P-2"}).errors == []
        submit(app, date(2026, 5, 10))
        p1, p2 = leg(app, "P"), leg(app, "P", "E-2")
        full = [("100.00", [("CO", "45", "40.00")]), ("20.00", [("CO", "45", "5.00")])]
        denied = [("0.00", [("CO", "197", "140.00")]), ("0.00", [("CO", "197", "25.00")])]
        ingest(app, remittance("AETNA", [clp(p1, full), clp(p2, denied, status="4")], date(2026, 5, 20), "AET2"),
               "p.835")
        data, texts = submit(app, date(2026, 5, 25))
        assert texts == [] and not data.get("next_legs")
        assert [c.payer_sequence for c in legs(app) + legs(app, "E-2")] == ["P", "P"]
        assert leg(app, "P", "E-2").status == "denied"
        with app.transaction() as s:
            assert s.scalars(select(Denial).where(Denial.claim_pk == p2.id)).all()  # the denial queue as today


# --- crossover -----------------------------------------------------------------------------------------


class TestCrossover:
    def test_forwarded_claim_crosses_over_and_the_secondary_835_posts_to_it(self, app: App, tmp_path: Path) -> None:
        """CLP02 19 makes the secondary leg crossed_over at once (no 837P); the secondary's 835 naming the
        primary's CLP01 posts to it, even in the same file."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        primary = remittance("AETNA", [clp(p, P_LINES, status="19")], date(2026, 5, 20), "AET3")
        ingest(app, primary, "p.835")
        s = leg(app, "S")
        assert (s.status, s.payer_id, s.prior_claim_id, s.prior_payment_date) == (
            "crossed_over", "MEDICAID", p.claim_id, date(2026, 5, 20))
        secondary = remittance("MEDICAID", [clp(s, S_LINES, status="2", clp01=p.claim_id)], date(2026, 6, 2), "MCD3")
        _, result = ingest(app, secondary, "s.835")
        assert result.counts["claims_posted"] == 1 and result.counts["claims_unmatched"] == 0
        s, p = leg(app, "S"), leg(app, "P")
        assert (s.status, s.paid) == ("paid", D("18.00")) and p.paid == D("90.00")
        data, texts = submit(app, date(2026, 6, 5))
        assert texts == []  # no 837P to a payer that got the claim by crossover

    def test_crossover_carrier_and_both_835s_in_one_file(self, app: App, tmp_path: Path) -> None:
        """An NM1*TT crossover carrier on a CLP02 1 claim crosses it over too; the secondary's 835 in the
        same file, after the primary's, posts to the leg created moments before."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        carrier = Name("TT", "2", "STATE MEDICAID", id_qualifier="PI", id="SKCA0")
        both = x12(remittance_set("AETNA", [clp(p, P_LINES, names=(carrier,))], date(2026, 5, 20), "AET4"),
                   remittance_set("MEDICAID", [clp(p, S_LINES, status="2")], date(2026, 6, 2), "MCD5"))
        _, result = ingest(app, both, "both.835")
        assert (result.counts["legs_crossed_over"], result.counts["claims_posted"],
                result.counts["claims_unmatched"]) == (1, 2, 0)
        s = leg(app, "S")
        assert (s.status, s.paid) == ("paid", D("18.00"))
        assert exported(app)[s.claim_id]["patient_balance"] == "7.00"


# --- holds on the next leg ----------------------------------------------------------------------------------


class TestNextLegHolds:
    def _primary_posted(self, app: App, tmp_path: Path, row: dict[str, str], paid_on: date) -> Claim:
        assert load(app, tmp_path, row).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        ingest(app, remittance("AETNA", [clp(p, P_LINES)], paid_on, f"AET-{paid_on}"), "p.835")
        return p

    def test_member_id_missing(self, app: App, tmp_path: Path) -> None:
        """A secondary coverage without a member id holds the secondary leg MEMBER_ID_MISSING; nothing is sent."""
        self._primary_posted(app, tmp_path, ROW | NO_TERTIARY | {"secondary_member_id": ""}, date(2026, 5, 20))
        data, texts = submit(app, date(2026, 5, 25))
        s = leg(app, "S")
        assert (s.status, s.hold_reasons, texts) == ("held", ["MEMBER_ID_MISSING"], [])
        assert data["next_legs"]["next_legs_held"] == 1
        # at risk: the deadline counts from the primary's 835 date (2026-05-20 + MEDICAID's 365 days)
        risky = at_risk_claims(app.config, app.uow, as_of=date(2027, 5, 1), within_days=30)
        assert [(c["claim_id"], c["deadline"], c["days_left"]) for c in risky] == [(s.claim_id, "2027-05-20", 19)]
        assert at_risk_claims(app.config, app.uow, as_of=date(2027, 4, 1), within_days=30) == []
        # the practice adds the member id and imports the encounter again: only that column changes
        again = load(app, tmp_path, ROW | NO_TERTIARY | {"secondary_member_id": "M88"}, name="fixed.csv")
        assert (again.errors, again.replaced) == ([], 1)
        refused = load(app, tmp_path, ROW | NO_TERTIARY | {"member_id": "W2", "secondary_member_id": "M88"},
                       name="primary.csv")
        assert [e["problems"] for e in refused.errors] == [
            [f"encounter_id was already submitted (claim {leg(app, 'P').claim_id}); it is not replaced"]]
        data, [text] = submit(app, date(2026, 5, 26))
        s = leg(app, "S")
        assert (s.status, s.hold_reasons, data["sent"]) == ("submitted", [], 1)
        assert claims837(text)[s.claim_id].member_id == "M88"
        late = load(app, tmp_path, ROW | NO_TERTIARY | {"secondary_member_id": "M99"}, name="late.csv")
        assert len(late.errors) == 1  # the secondary was billed: its coverage no longer changes

    def test_secondary_payer_corrected_before_it_is_billed(self, app: App, tmp_path: Path) -> None:
        """A held secondary leg follows the encounter when the practice names another secondary payer."""
        self._primary_posted(app, tmp_path, ROW | NO_TERTIARY | {"secondary_member_id": ""}, date(2026, 5, 20))
        submit(app, date(2026, 5, 25))
        fixed = ROW | NO_TERTIARY | {"secondary_payer_id": "BCBS", "secondary_member_id": "B77"}
        assert load(app, tmp_path, fixed, name="fixed.csv").errors == []
        data, [text] = submit(app, date(2026, 5, 26))
        s = leg(app, "S")
        assert (s.payer_id, s.status) == ("BCBS", "submitted")
        assert (claims837(text)[s.claim_id].payer_id, claims837(text)[s.claim_id].member_id) == ("00060", "B77")

    def test_eligibility_inactive_then_active(self, app: App, tmp_path: Path) -> None:
        """An inactive 271 for the secondary payer holds the leg; a newer active one releases it at the next submit."""
        self._primary_posted(app, tmp_path, ROW | NO_TERTIARY, date(2026, 5, 20))
        with app.transaction() as s:
            s.add(Eligibility(patient_id="P-1", payer_id="MEDICAID", active=False, benefits=[], rejections=[],
                              checked_at=datetime(2026, 5, 21, 9, 0).astimezone()))
        _, texts = submit(app, date(2026, 5, 25))
        assert (leg(app, "S").status, leg(app, "S").hold_reasons, texts) == ("held", ["ELIGIBILITY_INACTIVE"], [])
        with app.transaction() as s:
            s.add(Eligibility(patient_id="P-1", payer_id="MEDICAID", active=True, benefits=[], rejections=[],
                              checked_at=datetime(2026, 5, 26, 9, 0).astimezone()))
        data, [text] = submit(app, date(2026, 5, 27))
        assert leg(app, "S").status == "submitted" and data["sent"] == 1
        assert_valid(text)

    def test_timely_filing_counts_from_the_primary_835_date(self, app: App, tmp_path: Path) -> None:
        """The secondary's filing limit (MEDICAID: 365 days) counts from the primary's 835 date, not the
        date of service; past it the leg is held, and the explanation names that deadline."""
        self._primary_posted(app, tmp_path, ROW | NO_TERTIARY, date(2026, 9, 1))
        submit(app, date(2027, 6, 1))  # more than 365 days after the date of service, within 365 of the 835
        assert leg(app, "S").status == "submitted"

    def test_timely_filing_expired(self, app: App, tmp_path: Path) -> None:
        """Past the next payer's limit from the previous 835 date, the leg is held TIMELY_FILING_EXPIRED."""
        self._primary_posted(app, tmp_path, ROW | NO_TERTIARY, date(2026, 5, 20))
        _, texts = submit(app, date(2027, 5, 21))
        s = leg(app, "S")
        assert (s.status, s.hold_reasons, texts) == ("held", ["TIMELY_FILING_EXPIRED"], [])
        assert explain_holds(app.config, app.uow, s.claim_id) == [
            "TIMELY_FILING_EXPIRED: the timely-filing deadline 2027-05-20 has passed"]

    def test_unbalanced_prior_payer_holds_cob_unbalanced(self, app: App, tmp_path: Path) -> None:
        """A primary 835 line whose paid amount plus CAS does not make the charge (forced in) holds the
        secondary leg COB_UNBALANCED with the amounts in its status reason; no file is written."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        bad = clp(p, [("80.00", [("CO", "45", "40.00"), ("PR", "2", "15.00")]), P_LINES[1]])
        f, _ = ingest_forced(app, remittance("AETNA", [bad], date(2026, 5, 20), "AET5"))
        _, texts = submit(app, date(2026, 5, 25))
        s = leg(app, "S")
        assert (s.status, s.hold_reasons, texts) == ("held", ["COB_UNBALANCED"], [])
        assert s.status_reason and "does not balance" in s.status_reason and s.lines[0].line_control_number \
            in s.status_reason


def ingest_forced(app: App, data: bytes) -> tuple[File, dict[str, Any]]:
    """An unbalanced 835 fails on ingest; replayed with --force it posts as it is."""
    result = IngestResult()
    f = ingest_bytes(app.config, app.uow, "forced.835", data, result)
    assert f.state == "failed"
    f, counts = process_file(app.config, app.uow, f.id, force=True, replay=True)
    assert f.state == "processed", f.error
    return f, counts


# --- reversal --------------------------------------------------------------------------------------------


class TestReversal:
    def test_reversal_after_the_secondary_went_out(self, app: App, tmp_path: Path) -> None:
        """The primary's reversal after the secondary claim was sent: a warning on the secondary and a
        coordination_of_benefits work item to correct and resubmit; nothing is sent again."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        paid = clp(p, P_LINES)
        ingest(app, remittance("AETNA", [paid], date(2026, 5, 20), "AET6"), "p.835")
        submit(app, date(2026, 5, 25))
        s = leg(app, "S")
        assert s.status == "submitted"
        ingest(app, remittance("AETNA", [negated(paid)], date(2026, 6, 1), "AET7"), "rev.835")
        assert leg(app, "P").status == "reversed"
        s = leg(app, "S")
        assert (s.status, s.warnings) == ("submitted", ["PRIOR_PAYER_REVERSED"])
        with app.transaction() as db:
            items = db.scalars(select(Denial).where(Denial.claim_pk == s.id)).all()
            assert [(d.category, d.action, d.state, d.amount) for d in items] == [
                ("coordination_of_benefits", "correct_and_resubmit", "open", D("90.00"))]
        _, texts = submit(app, date(2026, 6, 2))
        assert texts == [] and len(legs(app)) == 2

    def test_reversal_before_the_secondary_went_out_holds_it(self, app: App, tmp_path: Path) -> None:
        """A secondary leg held for another reason when the primary is reversed is held PRIOR_PAYER_REVERSED too."""
        assert load(app, tmp_path, ROW | NO_TERTIARY | {"secondary_member_id": ""}).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        paid = clp(p, P_LINES)
        ingest(app, remittance("AETNA", [paid], date(2026, 5, 20), "AET8"), "p.835")
        submit(app, date(2026, 5, 25))
        ingest(app, remittance("AETNA", [negated(paid)], date(2026, 6, 1), "AET9"), "rev.835")
        submit(app, date(2026, 6, 2))
        assert leg(app, "S").hold_reasons == ["MEMBER_ID_MISSING", "PRIOR_PAYER_REVERSED"]


class TestStatusInquiry:
    def test_276_for_a_secondary_claim_names_its_own_coverage(self, app: App, tmp_path: Path) -> None:
        """A 276 for a secondary claim that went quiet asks its payer with the secondary member id."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        ingest(app, remittance("AETNA", [clp(p, P_LINES)], date(2026, 5, 20), "AET13"), "p.835")
        submit(app, date(2026, 5, 25))
        s = leg(app, "S")
        f = request_status(app.config, app.uow, as_of=date.today() + timedelta(days=60))  # submitted_at is now
        assert f is not None
        with app.transaction() as db:
            row = db.get(File, f.id)
            assert row is not None
            text = read_archived_bytes(row)
        asked = {(r.source.id, q.claim_id, q.subscriber.member_id)
                 for ts in open_x12(text) for r in [parse_276(ts)] for q in r.inquiries}
        assert asked == {("SKCA0", s.claim_id, "M77")}


class TestResubmit:
    def test_denied_secondary_is_replaced_as_a_secondary(self, app: App, tmp_path: Path) -> None:
        """`edi denials resubmit` of a denied secondary leg sends a frequency 7 claim to the secondary payer,
        still after the primary's leg and carrying its 2320/2430, valid for pyx12."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        ingest(app, remittance("AETNA", [clp(p, P_LINES)], date(2026, 5, 20), "AET12"), "p.835")
        submit(app, date(2026, 5, 25))
        s = leg(app, "S")
        denied = [("0.00", [("CO", "16", "140.00")]), ("0.00", [("CO", "16", "25.00")])]
        ingest(app, remittance("MEDICAID", [clp(s, denied, status="4")], date(2026, 6, 2), "MCD6"), "s.835")
        assert leg(app, "S").status == "denied"
        with app.mailbox() as mailbox:
            done = resubmit(app.config, app.uow, mailbox, s.claim_id)
        new = leg(app, "S")
        assert (new.claim_id, new.frequency_code, new.payer_id, new.prior_claim_id, new.original_claim_id) == (
            done.replacement_claim_id, "7", "MEDICAID", p.claim_id, s.claim_id)
        with app.transaction() as db:
            f = db.get(File, done.file_id)
            assert f is not None
            text = read_archived_bytes(f)
        assert_valid(text)
        sent = claims837(text)[new.claim_id]
        assert (sent.payer_sequence, sent.payer_id, sent.frequency_code) == ("S", "SKCA0", "7")
        assert [(o.sequence, o.paid) for o in sent.other_payers] == [("P", D("90.00"))]
        assert line_2430(sent, "AETNA") == adjudicated_as(P_LINES)


# --- 835s that find no leg --------------------------------------------------------------------------------


class TestUnmatched:
    def test_835_for_a_leg_that_does_not_exist(self, app: App, tmp_path: Path) -> None:
        """A secondary payer's 835 naming a claim id we never made goes to the unmatched list like today."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        stray = dataclasses.replace(clp(p, S_LINES, status="2"), claim_id="C999999")
        _, result = ingest(app, remittance("MEDICAID", [stray], date(2026, 6, 2), "MCD9"), "s.835")
        assert result.counts["claims_unmatched"] == 1
        assert leg(app, "P").status == "submitted" and len(legs(app)) == 1

    def test_secondary_835_before_the_primary_is_kept_then_replayed(self, app: App, tmp_path: Path) -> None:
        """A crossover payer's 835 that arrives before the primary's is kept unmatched (the primary's claim
        is not touched); once the primary posts, `edi replay` of that file posts it to the secondary leg."""
        assert load(app, tmp_path, ROW | NO_TERTIARY).errors == []
        submit(app, date(2026, 5, 10))
        p = leg(app, "P")
        early = remittance("MEDICAID", [clp(p, S_LINES, status="2")], date(2026, 6, 2), "MCD4")
        f_early, result = ingest(app, early, "s.835")
        assert result.counts["claims_unmatched"] == 1 and result.counts["claims_posted"] == 0
        assert (leg(app, "P").status, leg(app, "P").paid) == ("submitted", D("0.00"))
        ingest(app, remittance("AETNA", [clp(p, P_LINES, status="19")], date(2026, 5, 20), "AET10"), "p.835")
        assert leg(app, "S").status == "crossed_over"
        f, counts = process_file(app.config, app.uow, f_early.id, replay=True)
        assert f.state == "processed" and counts["claims_posted"] == 1
        s = leg(app, "S")
        assert (s.status, s.paid) == ("paid", D("18.00")) and leg(app, "P").paid == D("90.00")
        with app.transaction() as db:
            assert [u.resolved for u in db.scalars(select(UnmatchedPayment))] == [True]
        with pytest.raises(UsageError):  # nothing is left to apply: a second replay is refused
            process_file(app.config, app.uow, f_early.id, replay=True)
        assert leg(app, "S").paid == D("18.00")


# --- recording ------------------------------------------------------------------------------------------------


class TestRecorded:
    def test_only_claims_with_a_next_payer_are_recorded(self, app: App, tmp_path: Path) -> None:
        """What a payer adjudicated is kept only for legs with a next payer (none for a primary-only claim)."""
        solo = {k: "" for k in ROW if k.startswith(("secondary_", "tertiary_"))}
        assert load(app, tmp_path, ROW | solo, ROW | NO_TERTIARY | {"encounter_id": "E-2", "patient_id": "P-2",
                                                                    "start_time": "11:00", "end_time": "11:45"}
                    ).errors == []
        submit(app, date(2026, 5, 10))
        p1, p2 = leg(app, "P"), leg(app, "P", "E-2")
        ingest(app, remittance("AETNA", [clp(p1, P_LINES), clp(p2, P_LINES)], date(2026, 5, 20), "AET11"), "p.835")
        with app.transaction() as s:
            rows = s.scalars(select(CobAdjudication)).all()
            assert [(r.claim_pk, r.forwarded, r.adjudication_date) for r in rows] == [(p2.id, False, date(2026, 5, 20))]
            assert [(ln["procedure"], ln["paid"]) for ln in rows[0].lines] == [("90834", "80.00"), ("90785", "10.00")]
        assert ClaimStatus(leg(app, "P").status) is ClaimStatus.PAID


# --- the chain through the clearinghouse simulator ------------------------------------------------------------


class TestThroughTheSimulator:
    def test_nights_until_every_payer_answered(self, app: App, tmp_path: Path) -> None:
        """Nightly runs against the simulator playing every payer: each next leg follows its previous one
        (forwarded or billed), every 837P we wrote validates with pyx12, every 835 posts, and the patient
        balance of every chain is its last adjudicated payer's patient responsibility."""
        rows = []
        for i in range(12):
            r = ROW | {"encounter_id": f"E-{i}", "patient_id": f"P-{i}", "member_id": f"W{i:06d}",
                       "secondary_member_id": f"M{i:06d}", "tertiary_member_id": f"B{i:06d}",
                       "date_of_service": date(2026, 5, 1 + i).isoformat(), "interactive_complexity": "YN"[i % 2]}
            if i % 3 == 0:
                r |= NO_TERTIARY
            if i % 4 == 1:  # Medicaid primary, Aetna secondary
                r |= {"payer_id": "MEDICAID", "secondary_payer_id": "AETNA"}
            rows.append(r)
        assert load(app, tmp_path, *rows).errors == []
        root = Path(app.config.transport.url[len("local:"):])
        day = date(2026, 5, 20)
        for _ in range(5):
            run, steps = nightly_run(app.config, app.uow, as_of=day)
            assert run.status == "ok", [(s.name, s.error) for s in steps if s.status != "ok"]
            simulate_mailbox(root, seed=7, as_of=day, payers=payer_rules_from_config(app.config))
            day += timedelta(days=5)
        nightly_run(app.config, app.uow, as_of=day)
        with app.transaction() as s:
            sent = [read_archived_bytes(f) for f in s.scalars(select(File).where(File.kind == "837P"))]
            assert not s.scalars(select(File).where(File.state == "failed")).all()
            assert not s.scalars(select(UnmatchedPayment)).all()
        for text in sent:
            assert_valid(text)
        with app.transaction() as s:
            crossed = set(s.scalars(select(Claim.claim_id).where(Claim.payer_sequence != "P", Claim.file_id.is_(None))))
        chains: dict[str, list[dict[str, Any]]] = {}
        for c in export_claims(app.uow):
            chains.setdefault(c["encounter_ids"][0], []).append(c)
        by_id = {c["claim_id"]: c for chain in chains.values() for c in chain}
        seen = {"S": 0, "T": 0}
        for chain in chains.values():
            for c in chain:
                assert c["status"] in ("paid", "denied", "patient_responsibility"), c
                if c["payer_sequence"] == "P":
                    continue
                prev = by_id[c["prior_claim_id"]]
                assert "PST".index(prev["payer_sequence"]) + 1 == "PST".index(c["payer_sequence"])
                assert c["claim_id"] in crossed or Decimal(prev["patient_responsibility"]) > 0, (prev, c)
                seen[c["payer_sequence"]] += 1
            last = max((c for c in chain if c["status"] in ("paid", "denied", "patient_responsibility")),
                       key=lambda c: "PST".index(c["payer_sequence"]))
            assert {c["patient_balance"] for c in chain} == {last["patient_responsibility"]}
        assert seen["S"] >= 8 and seen["T"] >= 2 and crossed, (seen, crossed)
