"""835 posting against stored claims, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from edi.x12 import open_x12
from edi.x835 import Adjustment as Adj835
from edi.x835 import ClaimPayment as Clp
from edi.x835 import EnvelopeSpec, Remittance835, ServiceLine, build_835, parse_835
from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    ClaimStatusEvent,
    Denial,
    Encounter,
    File,
    ProviderAdjustment,
    Remark,
    Remittance,
    UnmatchedPayment,
)
from pipelines.cli.app import App
from pipelines.rules.lifecycle import ClaimStatus, transition
from pipelines.rules.remittance import posting_outcome
from pipelines.usecases.codes import describe
from pipelines.usecases.ingest import IngestResult, ingest_bytes, process_file
from tests.conftest import FIXTURES

D = Decimal
LineSpec = tuple[str, str, tuple[str, ...], str]  # lcn, procedure, modifiers, charge


# --- a small factory --------------------------------------------------------------------------------


def add_claim(s: Session, claim_id: str, lines: list[LineSpec], *, status: str = "submitted",
              frequency_code: str = "1", payer_id: str = "AETNA", dos: date = date(2026, 11, 2),
              submitted_at: datetime | None = None, encounter_id: str | None = None) -> Claim:
    """One encounter with one claim and its lines (the encounter is coded as a 60-minute video session)."""
    eid = encounter_id or f"E-{claim_id}"
    if s.get(Encounter, eid) is None:
        s.add(Encounter(
            encounter_id=eid, patient_id=f"P-{claim_id}", patient_last_name="DOE", patient_first_name="JANE",
            patient_dob=date(1985, 3, 14), patient_sex="F", patient_address="1 MAIN ST",
            patient_city="LOS ANGELES", patient_state="CA", patient_zip="90012", payer_id=payer_id,
            member_id="W123456789", relationship="self", rendering_npi="1679576722",
            rendering_last_name="RIVERA", rendering_first_name="ANA", rendering_credential="LCSW",
            date_of_service=dos, start_time=time(9, 0), end_time=time(10, 0), service="individual_therapy",
            modality="video", patient_location="office", diagnoses=["F33.1"]))
        s.flush()
    claim = Claim(claim_id=claim_id, encounter_id=eid, patient_id=f"P-{claim_id}", payer_id=payer_id, status=status,
                  frequency_code=frequency_code, place_of_service="02", date_of_service=dos, diagnoses=["F33.1"],
                  billed=sum((D(ln[3]) for ln in lines), D("0.00")),
                  submitted_at=submitted_at or datetime(2026, 11, 5, 12, 0, tzinfo=UTC),
                  lines=[ClaimLine(line_number=n, line_control_number=lcn, procedure=proc, modifiers=list(mods),
                                   units=1, charge=D(charge), diagnosis_pointers=[1])
                         for n, (lcn, proc, mods, charge) in enumerate(lines, 1)])
    s.add(claim)
    s.flush()
    return claim


def fixture(name: str) -> bytes:
    return (FIXTURES / "835" / f"{name}.x12").read_bytes()


def ingest(app: App, data: bytes, name: str = "in.835") -> tuple[File, IngestResult]:
    result = IngestResult()
    f = ingest_bytes(app.config, app.uow, name, data, result)
    return f, result


def one(app: App, claim_id: str) -> Claim:
    with app.transaction() as s:
        c = s.scalar(select(Claim).where(Claim.claim_id == claim_id))
        assert c is not None
        _ = c.lines
        return c


def count(app: App, model: Any, *where: Any) -> int:
    with app.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def remittance_text(claims: list[Clp], trace: str, amount: Decimal, isa: int) -> bytes:
    """An 835 from the fixture payer with these claims (the payer and payee of the IG-style fixtures)."""
    base = parse_835(next(iter(open_x12(fixture("payer_claim_line_cas")))))
    payment = dataclasses.replace(base.payment, amount=abs(amount), credit_debit="C" if amount >= 0 else "D",
                                  trace_number=trace)
    rem = Remittance835(payment, base.payer, base.payee, tuple(claims))
    return build_835(rem, envelope=EnvelopeSpec(isa_control=isa, gs_control=isa, created=datetime(2026, 11, 21, 8, 0),
                                                sender="PAYERSENDER", receiver="SUNRISE01")).encode("latin-1")


def negated(c: Clp, status: str) -> Clp:
    def adj(items: tuple[Adj835, ...]) -> tuple[Adj835, ...]:
        return tuple(dataclasses.replace(a, amount=-a.amount) for a in items)

    return dataclasses.replace(
        c, status_code=status, charge=-c.charge, paid=-c.paid, patient_responsibility=-c.patient_responsibility,
        adjustments=adj(c.adjustments),
        lines=tuple(dataclasses.replace(ln, charge=-ln.charge, paid=-ln.paid, units=-ln.units,
                                        adjustments=adj(ln.adjustments)) for ln in c.lines))


PAID_LINES: list[LineSpec] = [("L000456", "90837", ("HO", "95"), "180.00"), ("L000457", "90791", (), "250.00")]


# --- posting each fixture ---------------------------------------------------------------------------


class TestPostingFixtures:
    def test_paid_claim_posts_amounts_adjustments_remarks_and_payer_claim_number(self, app: App) -> None:
        """A paid claim gets its net payment, PR, line payments, every CAS and remark, and the CLP07."""
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        f, result = ingest(app, fixture("payer_claim_line_cas"))
        assert f.state == "processed" and result.counts["claims_posted"] == 1
        c = one(app, "C000123")
        assert (c.status, c.paid, c.patient_responsibility) == ("paid", D("217.50"), D("77.50"))
        assert c.payer_claim_number == "PCN77001"
        assert c.paid_at is not None and c.paid_at.date() == date(2026, 11, 20)
        assert [ln.paid for ln in c.lines] == [D("100.00"), D("127.50")]
        with app.transaction() as s:
            adjs = s.execute(select(Adjustment.line_pk, Adjustment.group, Adjustment.reason, Adjustment.amount,
                                    Adjustment.quantity).order_by(Adjustment.id)).all()
            remarks = s.execute(select(Remark.line_pk, Remark.code).order_by(Remark.id)).all()
        l1, l2 = (ln.id for ln in c.lines)
        assert [tuple(a) for a in adjs] == [
            (None, "OA", "94", D("10.00"), None), (l1, "CO", "45", D("60.00"), None),
            (l1, "PR", "3", D("20.00"), None), (l2, "CO", "45", D("62.50"), None),
            (l2, "CO", "253", D("2.50"), None), (l2, "PR", "1", D("40.00"), None),
            (l2, "PR", "2", D("17.50"), None)]
        assert [tuple(r) for r in remarks] == [(None, "MA01"), (None, "N130"), (l1, "N381")]
        assert count(app, Denial) == 0
        assert count(app, ClaimStatusEvent, ClaimStatusEvent.source == "835") == 1

    def test_zero_pay_co197_is_denied_with_an_authorization_work_item(self, app: App) -> None:
        """A CO 197 + N54 zero payment leaves the claim denied with an authorization denial to correct."""
        with app.transaction() as s:
            add_claim(s, "C000500", [("L000800", "90837", ("95",), "180.00")])
        ingest(app, fixture("denial_co197"))
        c = one(app, "C000500")
        assert (c.status, c.paid) == ("denied", D("0.00"))
        with app.transaction() as s:
            d = s.scalars(select(Denial)).one()
            assert (d.line_pk, d.group, d.reason, d.amount, d.remarks) == (c.lines[0].id, "CO", "197",
                                                                           D("180.00"), ["N54"])
            assert (d.category, d.action, d.state) == ("authorization", "correct_and_resubmit", "open")

    def test_reversal_and_correction_net_out(self, app: App) -> None:
        """A payment, its reversal (CLP02 22) and the correction net to the corrected amounts."""
        with app.transaction() as s:
            add_claim(s, "C000200", [("L000500", "90837", (), "180.00")])
        rc = parse_835(next(iter(open_x12(fixture("reversal_correction")))))
        original = negated(rc.claims[0], "1")
        ingest(app, remittance_text([original], "EFT0000100", D("120"), 801))
        assert (one(app, "C000200").paid, one(app, "C000200").status) == (D("120.00"), "paid")
        ingest(app, fixture("reversal_correction"))
        c = one(app, "C000200")
        assert (c.status, c.paid, c.patient_responsibility) == ("paid", D("130.00"), D("20.00"))
        assert c.lines[0].paid == D("130.00")
        assert c.payer_claim_number == "PCN80002"
        with app.transaction() as s:
            paid = s.scalars(select(ClaimPayment.paid).order_by(ClaimPayment.id)).all()
        assert paid == [D("120.00"), D("-120.00"), D("130.00")]
        # a posting is undone by a reversal, never by a delete: claim payments are append-only (migration
        # 0005), since their adjustments and remarks name them without a foreign key
        with pytest.raises(DBAPIError, match="rows of claim_payments are never deleted"), app.engine.begin() as conn:
            conn.execute(delete(ClaimPayment))
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(ClaimPayment)) == 3

    def test_reversal_alone_leaves_the_claim_reversed(self, app: App) -> None:
        """A reversal that takes back the only payment leaves the claim reversed with nothing paid."""
        with app.transaction() as s:
            add_claim(s, "C000200", [("L000500", "90837", (), "180.00")])
        rc = parse_835(next(iter(open_x12(fixture("reversal_correction")))))
        ingest(app, remittance_text([negated(rc.claims[0], "1")], "EFT0000101", D("120"), 802))
        ingest(app, remittance_text([rc.claims[0]], "EFT0000102", D("-120"), 803))
        c = one(app, "C000200")
        assert (c.status, c.paid, c.patient_responsibility, c.lines[0].paid) == (
            "reversed", D("0.00"), D("0.00"), D("0.00"))

    def test_split_claim_payments_add_up(self, app: App) -> None:
        """Two CLPs for one claim (MA15) add up to the claim's paid amount, each line paid once."""
        with app.transaction() as s:
            add_claim(s, "C000400", [("L000700", "90791", (), "250.00"), ("L000701", "99214", (), "160.00")])
        ingest(app, fixture("split_claim"))
        c = one(app, "C000400")
        assert (c.status, c.paid) == ("paid", D("280.00"))
        assert [ln.paid for ln in c.lines] == [D("160.00"), D("120.00")]
        assert count(app, ClaimPayment) == 2

    def test_crossover_status_codes_are_kept(self, app: App) -> None:
        """Crossover payments (CLP02 19, 20, 21) post with their status code stored."""
        with app.transaction() as s:
            for cid, charge in (("C000601", "180.00"), ("C000602", "150.00"), ("C000603", "95.00")):
                add_claim(s, cid, [(f"L{cid}", "90837", (), charge)])
        ingest(app, fixture("crossover"))
        with app.transaction() as s:
            rows = s.execute(select(Claim.claim_id, ClaimPayment.status_code, Claim.paid, Claim.status)
                             .join(ClaimPayment, ClaimPayment.claim_pk == Claim.id).order_by(Claim.claim_id)).all()
        assert [tuple(r) for r in rows] == [("C000601", "19", D("100.00"), "paid"),
                                            ("C000602", "20", D("120.00"), "paid"),
                                            ("C000603", "21", D("25.00"), "paid")]

    def test_plb_adjustments_are_stored_against_the_remittance(self, app: App) -> None:
        """Every PLB adjustment is a ProviderAdjustment row of the posted remittance."""
        with app.transaction() as s:
            add_claim(s, "C000300", [("L000600", "90834", (), "150.00"), ("L000601", "90834", (), "150.00")])
        ingest(app, fixture("plb_composite"))
        with app.transaction() as s:
            rem = s.scalars(select(Remittance)).one()
            plb = s.execute(select(ProviderAdjustment.reason, ProviderAdjustment.reference, ProviderAdjustment.amount,
                                   ProviderAdjustment.remittance_id).order_by(ProviderAdjustment.id)).all()
        assert (rem.trace_number, rem.amount, rem.balanced) == ("CHK000777", D("250.00"), True)
        assert [tuple(p) for p in plb] == [("WO", "OVP20260001", D("25.00"), rem.id), ("L6", None, D("-3.50"), rem.id),
                                           ("72", "RET778", D("10.00"), rem.id)]
        assert one(app, "C000300").paid == D("281.50")

    def test_unknown_carc_and_rarc_are_stored_as_they_are(self, app: App) -> None:
        """A CARC 999 and RARC N9999 are stored, described as not loaded, and do not fail the file."""
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        data = fixture("payer_claim_line_cas").replace(b"CAS*OA*94*10", b"CAS*OA*999*10").replace(
            b"LQ*HE*N381", b"LQ*HE*N9999")
        f, _ = ingest(app, data)
        assert f.state == "processed"
        with app.transaction() as s:
            assert s.scalar(select(Adjustment.amount).where(Adjustment.reason == "999")) == D("10.00")
            assert s.scalar(select(Remark.code).where(Remark.code == "N9999")) == "N9999"
            assert describe(s, "carc", "999") == "description not loaded"


# --- file-level rules -------------------------------------------------------------------------------


class TestFileRules:
    def test_unbalanced_file_fails_naming_the_claim_and_posts_nothing(self, app: App) -> None:
        """An unbalanced 835 fails the file with the claim and amounts, and posts nothing."""
        with app.transaction() as s:
            add_claim(s, "C000900", [("L000900", "90837", (), "180.00")])
            add_claim(s, "C000901", [("L000901", "90834", (), "150.00")])
        f, result = ingest(app, fixture("unbalanced"))
        assert f.state == "failed" and result.failed == [f.id]
        assert f.error is not None and "C000900" in f.error and "125" in f.error
        assert count(app, Remittance) == 0 and count(app, ClaimPayment) == 0
        assert one(app, "C000900").status == "submitted"

    def test_unbalanced_file_posts_when_forced(self, app: App) -> None:
        """Replaying an unbalanced 835 with --force posts it and records the findings."""
        with app.transaction() as s:
            add_claim(s, "C000900", [("L000900", "90837", (), "180.00")])
            add_claim(s, "C000901", [("L000901", "90834", (), "150.00")])
        f, _ = ingest(app, fixture("unbalanced"))
        f2, counts = process_file(app.config, app.uow, f.id, force=True)
        assert f2.state == "processed" and counts["remittances_forced"] == 1
        with app.transaction() as s:
            rem = s.scalars(select(Remittance)).one()
            assert (rem.balanced, rem.forced) == (False, True)
            assert any("C000900" in e for e in rem.balance_errors)
        assert one(app, "C000900").paid == D("120.00")
        assert one(app, "C000901").paid == D("100.00")

    def test_same_file_twice_changes_nothing(self, app: App) -> None:
        """The same 835 ingested again, or replayed, posts nothing more."""
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        f, _ = ingest(app, fixture("payer_claim_line_cas"))
        _, again = ingest(app, fixture("payer_claim_line_cas"))
        assert again.duplicates == [f.id]
        _, counts = process_file(app.config, app.uow, f.id)
        assert counts["duplicate_remittances"] == 1 and counts["claims_posted"] == 0
        assert count(app, ClaimPayment) == 1 and count(app, Adjustment) == 7
        assert one(app, "C000123").paid == D("217.50")

    def test_same_trace_from_the_same_payer_in_another_file_is_not_posted(self, app: App) -> None:
        """A different file carrying an already posted TRN02 from the same payer is a no-op."""
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        ingest(app, fixture("payer_claim_line_cas"))
        other = fixture("payer_claim_line_cas").replace(b"000000902", b"000000992").replace(b"*902*", b"*992*").replace(
            b"GE*1*902~", b"GE*1*992~")
        f, result = ingest(app, other, "other.835")
        assert f.state == "processed" and result.counts["duplicate_remittances"] == 1
        assert count(app, ClaimPayment) == 1 and one(app, "C000123").paid == D("217.50")

    def test_claim_we_never_sent_goes_to_the_unmatched_list(self, app: App) -> None:
        """An 835 claim matching no stored claim is kept as an UnmatchedPayment and counted."""
        to_us = fixture("ig_example").replace(b"N1*PE*REGIONAL HOPE HOSPITAL*XX*6543210903",
                                              b"N1*PE*REGIONAL HOPE HOSPITAL*XX*1234567893")  # the practice's NPI
        f, result = ingest(app, to_us)
        assert f.state == "processed" and result.counts["claims_unmatched"] == 1
        with app.transaction() as s:
            u = s.scalars(select(UnmatchedPayment)).one()
        assert (u.claim_id, u.paid, u.payer_claim_number, u.resolved) == ("666123", D("138018.40"),
                                                                          "1999999444444", False)


# --- matching ---------------------------------------------------------------------------------------


class TestMatching:
    @pytest.mark.parametrize(("stored", "echoed", "matches"), [
        pytest.param("C000500", "c000500", True, id="case_insensitive"),
        pytest.param("C000500", "C500", True, id="leading_zeros_dropped"),
        pytest.param("C000500", "00C000500", True, id="padded_with_zeros"),
        pytest.param("SUNRISE0000012345", "SUNRISE000001234", True, id="truncated_unique_prefix"),
        pytest.param("C000500", "C000501", False, id="different_claim"),
    ])
    def test_clp01_matching(self, app: App, stored: str, echoed: str, matches: bool) -> None:
        """CLP01 finds our claim despite case, padding, zeros or truncation, and nothing else."""
        with app.transaction() as s:
            add_claim(s, stored, [("L000800", "90837", ("95",), "180.00")])
        ingest(app, fixture("denial_co197").replace(b"CLP*C000500*", f"CLP*{echoed}*".encode()))
        assert (one(app, stored).status == "denied") is matches
        assert count(app, UnmatchedPayment) == (0 if matches else 1)

    def test_ambiguous_truncated_prefix_is_unmatched(self, app: App) -> None:
        """A truncated CLP01 that two of our claims start with is left unmatched."""
        with app.transaction() as s:
            add_claim(s, "SUNRISE0000012345", [("L1", "90837", ("95",), "180.00")])
            add_claim(s, "SUNRISE0000012346", [("L2", "90837", ("95",), "180.00")])
        ingest(app, fixture("denial_co197").replace(b"CLP*C000500*", b"CLP*SUNRISE000001234*"))
        assert count(app, UnmatchedPayment) == 1 and count(app, ClaimPayment) == 0

    def test_line_without_a_known_ref_6r_matches_by_procedure_modifiers_and_charge(self, app: App) -> None:
        """A line whose REF*6R we do not know is matched by procedure, modifiers and charge."""
        with app.transaction() as s:
            add_claim(s, "C000500", [("L000799", "90791", (), "180.00"), ("L000800", "90837", ("95",), "180.00")])
        ingest(app, fixture("denial_co197").replace(b"REF*6R*L000800", b"REF*6R*LUNKNOWN"))
        c = one(app, "C000500")
        with app.transaction() as s:
            assert s.scalar(select(Adjustment.line_pk)) == c.lines[1].id


# --- status -----------------------------------------------------------------------------------------


class TestStatusRules:
    @pytest.mark.parametrize(("kwargs", "expected"), [
        pytest.param({"net_paid": D("10")}, "paid", id="paid_when_net_positive"),
        pytest.param({"net_adjustments": {("CO", "197"): D("180")}}, "denied", id="denied_co_other_than_45"),
        pytest.param({"net_adjustments": {("PI", "50"): D("180")}}, "denied", id="denied_pi"),
        pytest.param({"net_adjustments": {("CO", "45"): D("80"), ("PR", "1"): D("100")}, "net_patient": D("100")},
                     "patient_responsibility", id="patient_responsibility_when_rest_is_pr"),
        pytest.param({"net_adjustments": {("CO", "45"): D("0"), ("PR", "1"): D("0")}, "last_is_reversal": True},
                     "reversed", id="reversed_when_last_is_reversal_netting_zero"),
        pytest.param({"net_paid": D("10"), "frequency_code": "8"}, "void", id="void_for_frequency_8"),
        pytest.param({"net_paid": D("130"), "last_is_reversal": False}, "paid", id="correction_after_reversal"),
    ])
    def test_claim_status(self, kwargs: dict[str, Any], expected: str) -> None:
        """The status after posting follows CONTRACT section 6."""
        args: dict[str, Any] = {"frequency_code": "1", "net_paid": D("0"), "last_is_reversal": False,
                                "net_adjustments": {}, "net_patient": D("0")} | kwargs
        assert transition(ClaimStatus.SUBMITTED, posting_outcome(**args)) == expected

    def test_patient_responsibility_claim_posts_with_that_status(self, app: App) -> None:
        """A zero payment where the rest is PR leaves the claim patient_responsibility."""
        with app.transaction() as s:
            add_claim(s, "C000700", [("L000700", "90834", (), "140.00")])
        line = ServiceLine("90834", D("140"), D("0"), adjustments=(Adj835("CO", "45", D("40")),
                                                                    Adj835("PR", "1", D("100"))),
                           line_control_number="L000700")
        clp = Clp("C000700", "1", D("140"), D("0"), D("100"), "12", "PCN7", lines=(line,))
        ingest(app, remittance_text([clp], "EFT700", D("0"), 810))
        c = one(app, "C000700")
        assert (c.status, c.patient_responsibility) == ("patient_responsibility", D("100.00"))
        assert count(app, Denial) == 0

    def test_void_claim_posts_as_void(self, app: App) -> None:
        """A frequency 8 claim is void after its 835 posts."""
        with app.transaction() as s:
            add_claim(s, "C000500", [("L000800", "90837", ("95",), "180.00")], frequency_code="8")
        ingest(app, fixture("denial_co197"))
        assert one(app, "C000500").status == "void"

    def test_later_payment_closes_open_denials(self, app: App) -> None:
        """Paying a previously denied claim closes its open denials."""
        with app.transaction() as s:
            add_claim(s, "C000500", [("L000800", "90837", ("95",), "180.00")])
        ingest(app, fixture("denial_co197"))
        line = ServiceLine("90837", D("180"), D("150"), modifiers=("95",),
                           adjustments=(Adj835("CO", "45", D("30")),), line_control_number="L000800")
        ingest(app, remittance_text([Clp("C000500", "1", D("180"), D("150"), D("0"), "12", "PCN50002",
                                         lines=(line,))], "EFT501", D("150"), 811))
        c = one(app, "C000500")
        assert (c.status, c.paid) == ("paid", D("150.00"))
        with app.transaction() as s:
            assert s.scalars(select(Denial.state)).all() == ["closed"]
