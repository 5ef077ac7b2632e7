"""835 remittance: parsing, balancing, inspect JSON, builder round trips, pyx12 validation."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.errors import BuildError, TransactionError
from edi.x12 import TransactionSet, open_x12
from edi.x835 import (
    Adjustment,
    ClaimPayment,
    Contact,
    EnvelopeSpec,
    Name,
    Party,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServiceLine,
    balance_claim,
    build_835,
    inspect_835,
    parse_835,
    read_835,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "835"
FIXTURE_FILES = sorted(FIXTURES.glob("*.x12"))
D = Decimal

PAYER = Party("PR", "EXAMPLE HEALTH PLAN", "XV", "60054", ("PO BOX 1000",), "HARTFORD", "CT", "061560000",
              references=(("2U", "60054"),), contacts=(Contact("BL", "PROVIDER SERVICES", (("TE", "8005550100"),)),))
PAYEE = Party("PE", "SUNRISE BEHAVIORAL HEALTH", "XX", "1234567893", ("100 MAIN ST",), "LOS ANGELES", "CA",
              "900120000", references=(("TJ", "123456789"),))
CREATED = datetime(2026, 11, 20, 8, 0)


def inspect_file(data: bytes) -> dict[str, Any]:
    """The file-level ``edi inspect --json`` shape around :func:`inspect_835` (CONTRACT.md section 6)."""
    env = open_x12(data)
    tx = [(ts.group, inspect_835(ts)) for ts in env]
    return {"interchanges": [{
        "sender": isa.sender_id, "receiver": isa.receiver_id, "control_number": isa.control_number,
        "groups": [{"functional_id": g.functional_id, "version": g.version,
                    "transactions": [j for grp, j in tx if grp is g]} for g in isa.groups],
    } for isa in env.interchanges]}


def only_835(data: bytes | str) -> Iterator[TransactionSet]:
    return (ts for ts in open_x12(data) if ts.set_id == "835")


def parse_text(data: bytes | str) -> Remittance835:
    return parse_835(next(only_835(data)))


def payment(amount: str, cd: str = "C") -> Payment:
    return Payment(D(amount), cd, "CHK", date(2026, 11, 20), "CHK123", "1123456789")


def remittance(claims: tuple[ClaimPayment, ...], amount: str, plb: tuple[ProviderAdjustment, ...] = (),
               cd: str = "C") -> Remittance835:
    return Remittance835(payment(amount, cd), PAYER, PAYEE, claims, plb)


def build(rem: Remittance835) -> str:
    return build_835(rem, envelope=EnvelopeSpec(isa_control=7, gs_control=7, created=CREATED, sender="PAYER",
                                                receiver="SUNRISE01"))


def line(charge: str, paid: str, *adj: tuple[str, str, str], lcn: str = "L1") -> ServiceLine:
    return ServiceLine("90837", D(charge), D(paid), line_control_number=lcn,
                       adjustments=tuple(Adjustment(g, r, D(a)) for g, r, a in adj), dates=(("472", date(2026, 11, 2)),))


def claim(cid: str, charge: str, paid: str, *adj: tuple[str, str, str], lines: tuple[ServiceLine, ...] = (),
          status: str = "1") -> ClaimPayment:
    return ClaimPayment(cid, status, D(charge), D(paid), filing_indicator="12", payer_claim_number="PCN" + cid,
                        header_number=1, adjustments=tuple(Adjustment(g, r, D(a)) for g, r, a in adj),
                        patient=Name("QC", "1", "DOE", "JANE", id_qualifier="MI", id="W123"), lines=lines)


def recount(text: str) -> str:
    """``text`` with each SE01 recounted, after a test edited the segments of a built file."""
    segs = text.split("~\n")
    out, start = [], 0
    for i, seg in enumerate(segs):
        if seg.startswith("ST*"):
            start = i
        if seg.startswith("SE*"):
            seg = f"SE*{i - start + 1}*{seg.split('*')[2]}"
        out.append(seg)
    return "~\n".join(out)


def pyx12_errors(path: Path) -> tuple[bool, list[str]]:
    """Validate with pyx12's 835 005010X221A1 map; returns its verdict and every error text."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    out = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), io.StringIO(), None, fd_json=out)

    def walk(o: Any) -> Iterator[str]:
        if isinstance(o, dict):
            for e in o.get("errors") or []:
                yield str(e.get("err_str"))
            for v in o.values():
                yield from walk(v)
        elif isinstance(o, list):
            for v in o:
                yield from walk(v)

    return bool(ok), list(walk(json.loads(out.getvalue())))


class TestFixtures:
    @pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
    def test_inspect_matches_expected_json(self, path: Path) -> None:
        """Each fixture's inspect JSON equals the expected JSON stored beside it."""
        expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
        assert inspect_file(path.read_bytes()) == expected

    @pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
    def test_build_of_parse_parses_to_the_same_remittance(self, path: Path) -> None:
        """Writing a parsed fixture with the builder and parsing it again gives equal dataclasses."""
        first = parse_text(path.read_bytes())
        assert parse_text(build(first)) == first

    @pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
    def test_pyx12_finds_no_error(self, path: Path) -> None:
        """pyx12's 835 map accepts every fixture (split_claim: only MA15, missing from pyx12's code list)."""
        ok, errors = pyx12_errors(path)
        if path.stem == "split_claim":
            assert errors and all("(MA15) is not a valid code" in e for e in errors)
        else:
            assert ok and errors == []

    def test_pyx12_accepts_a_builder_written_file(self, tmp_path: Path) -> None:
        """A file the builder wrote (reversal, PLB, several CAS, LQ, MOA) validates with zero pyx12 errors."""
        rev = ClaimPayment("C1", "22", D("-180"), D("-120"), D("-20"), "12", "PCN1", "11", "1", header_number=1,
                           patient=Name("QC", "1", "DOE", "JANE", id_qualifier="MI", id="W1"),
                           moa=("", "", "MA01"),
                           lines=(ServiceLine("90837", D("-180"), D("-120"), modifiers=("HO", "95"), units=D(-1),
                                              line_control_number="L1", dates=(("472", date(2026, 11, 2)),),
                                              adjustments=(Adjustment("CO", "45", D("-40")),
                                                           Adjustment("PR", "3", D("-20"))),
                                              remarks=("N381",), amounts=(("B6", D("-140")),)),))
        cor = dataclasses.replace(rev, status_code="1", charge=D("180"), paid=D("130"), patient_responsibility=D(20),
                                  lines=(line("180", "130", ("CO", "45", "30"), ("PR", "3", "20")),))
        rem = remittance((rev, cor), "8.63", (ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "OVP1",
                                                                 D("2.50")),
                                              ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", "",
                                                                 D("-1.13"))))
        path = tmp_path / "built.x12"
        path.write_text(build(rem))
        ok, errors = pyx12_errors(path)
        assert (ok, errors) == (True, [])
        assert read_835(next(only_835(path.read_bytes()))).balance() == []


class TestParsing:
    def test_header_fields(self) -> None:
        """Payment, payer and payee come from BPR, TRN and the N1 loops, readable before any claim."""
        reader = read_835(next(only_835((FIXTURES / "payer_claim_line_cas.x12").read_bytes())))
        assert reader.payment.amount == D("217.50")
        assert (reader.payment.method, reader.payment.trace_number, reader.payment.payer_tax_id) == (
            "ACH", "EFT0000123", "1123456789")
        assert reader.payment.date == date(2026, 11, 20)
        assert (reader.payer.name, reader.payer.reference("2U")) == ("EXAMPLE HEALTH PLAN", "60054")
        assert (reader.payee.npi, reader.payee.reference("TJ")) == ("1234567893", "123456789")
        assert reader.references == (("EV", "SUNRISE01"),)
        assert reader.production_date == date(2026, 11, 19)

    def test_claim_and_line_detail(self) -> None:
        """Claim names, remarks, dates and references and line modifiers, allowed amount and remarks are kept."""
        c = parse_text((FIXTURES / "payer_claim_line_cas.x12").read_bytes()).claims[0]
        assert c.patient is not None and c.patient.last_name == "DOE" and c.patient.id == "W123456789"
        assert c.insured is not None and c.insured.first_name == "JOHN"
        assert [n.entity_code for n in c.other_names] == ["82"]
        assert c.remarks == ("MA01", "N130")
        assert (c.date("232"), c.date("050")) == (date(2026, 11, 2), date(2026, 11, 5))
        assert c.reference("1L") == "GRP9876"
        first, second = c.lines
        assert (first.modifiers, first.amount("B6"), first.remarks, first.date) == (
            ("HO", "95"), D("120.00"), ("N381",), date(2026, 11, 2))
        assert [(a.group, a.reason, a.amount, a.quantity) for a in second.adjustments] == [
            ("CO", "45", D("62.50"), None), ("CO", "253", D("2.50"), None),
            ("PR", "1", D("40.00"), None), ("PR", "2", D("17.50"), None)]

    def test_names_stay_out_of_repr(self) -> None:
        """A claim's repr shows no patient or insured name or member id."""
        c = parse_text((FIXTURES / "payer_claim_line_cas.x12").read_bytes()).claims[0]
        text = repr(c)
        assert "C000123" in text
        for phi in ("DOE", "JANE", "JOHN", "W123456789"):
            assert phi not in text

    def test_mia_remarks_and_quantities(self) -> None:
        """An institutional claim's MIA and QTY are kept, and a claim without lines has none."""
        c = parse_text((FIXTURES / "ig_example.x12").read_bytes()).claims[0]
        assert c.mia[3] == "138018.4" and c.remarks == ()
        assert c.quantities == (("CA", D(8)),) and c.lines == ()
        assert c.header_number == 110212

    def test_plb_composite_reason_and_reference(self) -> None:
        """Each PLB pair becomes one provider adjustment with the composite's reason and reference."""
        rem = parse_text((FIXTURES / "plb_composite.x12").read_bytes())
        assert [(p.reason, p.reference, p.amount) for p in rem.provider_adjustments] == [
            ("WO", "OVP20260001", D("25.00")), ("L6", "", D("-3.50")), ("72", "RET778", D("10.00"))]
        assert {(p.provider_id, p.fiscal_date) for p in rem.provider_adjustments} == {
            ("1234567893", date(2026, 12, 31))}

    def test_reversal_amounts_stay_negative(self) -> None:
        """A reversal (CLP02 22) is reported with its negated amounts, followed by the correction."""
        rev, cor = parse_text((FIXTURES / "reversal_correction.x12").read_bytes()).claims
        assert rev.is_reversal and not cor.is_reversal
        assert (rev.charge, rev.paid, rev.patient_responsibility) == (D("-180.00"), D("-120.00"), D("-20.00"))
        assert rev.paid + cor.paid == D("10.00")

    def test_six_triples_in_one_cas(self) -> None:
        """One CAS segment with six reason triples gives six adjustments, quantities included."""
        seg = "CAS*PR*1*1**2*2*1*3*3**4*4**5*5**6*6"
        text = build(remittance((claim("C1", "21", "0"),), "0")).replace("CLP*C1*1*21*0*0*12*PCNC1~",
                                                                        f"CLP*C1*1*21*0*0*12*PCNC1~\n{seg}~")
        c = parse_text(recount(text)).claims[0]
        assert [(a.reason, a.amount, a.quantity) for a in c.adjustments] == [
            ("1", D(1), None), ("2", D(2), D(1)), ("3", D(3), None), ("4", D(4), None), ("5", D(5), None),
            ("6", D(6), None)]
        assert balance_claim(c) == []

    def test_units_default_to_one(self) -> None:
        """A line without SVC05 has one unit."""
        text = build(remittance((claim("C1", "100", "100", lines=(line("100", "100"),)),), "100"))
        text = text.replace("SVC*HC:90837*100*100**1~", "SVC*HC:90837*100*100~")
        assert parse_text(text).claims[0].lines[0].units == D(1)

    def test_claims_stream_one_at_a_time(self) -> None:
        """The reader has pulled no segment past the next claim when it hands out a claim."""
        rem = remittance(tuple(claim(f"C{i}", "10", "10") for i in range(50)), "500")
        ts = next(only_835(build(rem)))
        pulled = 0
        inner = ts.segments

        def counting() -> Iterator[list[str]]:
            nonlocal pulled
            for seg in inner:
                pulled += 1
                yield seg

        ts.segments = counting()
        reader = read_835(ts)
        it = iter(reader)
        first = next(it)
        assert first.claim_id == "C0"
        assert pulled < 30  # header + two claims of three segments, not the 150 claim segments
        assert sum(1 for _ in it) == 49
        assert reader.balance() == []

    def test_balance_reads_unread_claims(self) -> None:
        """balance() before iteration reads the claims itself and still reports every finding."""
        reader = read_835(next(only_835((FIXTURES / "unbalanced.x12").read_bytes())))
        assert [f.level for f in reader.balance()] == ["line", "claim", "transaction"]


class TestErrors:
    @pytest.mark.parametrize(("old", "new", "segment_id", "element"), [
        ("CLP*C1*1*100*100*0*12*PCNC1", "CLP*C1*1*1OO*100*0*12*PCNC1", "CLP", 3),
        ("DTM*472*20261102", "DTM*472*2026-11-02", "DTM", 2),
        ("CAS*CO*45*0", "CAS*CO*45*X", "CAS", 3),
    ], ids=["amount_not_a_number", "date_not_ccyymmdd", "cas_amount_not_a_number"])
    def test_malformed_value_names_its_position(self, old: str, new: str, segment_id: str, element: int) -> None:
        """A malformed amount or date raises TransactionError naming segment number, id and element."""
        rem = remittance((claim("C1", "100", "100", ("CO", "45", "0"), lines=(line("100", "100"),)),), "100")
        text = build(rem)
        assert old in text
        ts = next(only_835(text.replace(old, new)))
        with pytest.raises(TransactionError) as err:
            list(read_835(ts))
        assert (err.value.segment_id, err.value.element) == (segment_id, element)
        seg_no = err.value.segment_number
        assert seg_no is not None
        assert text.replace(old, new).split("~\n")[seg_no - 1].startswith(segment_id)
        assert "DOE" not in str(err.value) and "JANE" not in str(err.value)

    @pytest.mark.parametrize("missing", ["BPR", "TRN", "N1*PR", "N1*PE"],
                             ids=["no_bpr", "no_trn", "no_payer", "no_payee"])
    def test_missing_header_segment(self, missing: str) -> None:
        """An 835 without BPR, TRN, payer or payee N1 is refused when its header is read."""
        text = build(remittance((claim("C1", "10", "10"),), "10"))
        segs = text.split("~\n")
        kept = [s for s in segs if not s.startswith(missing + "*")]
        assert len(kept) == len(segs) - 1
        with pytest.raises(TransactionError, match="no "):
            read_835(next(only_835(recount("~\n".join(kept)))))

    def test_other_set_is_refused(self) -> None:
        """read_835 refuses a transaction set that is not an 835."""
        text = build(remittance((), "0")).replace("ST*835*", "ST*277*").replace("GS*HP*", "GS*HN*")
        with pytest.raises(TransactionError, match="not an 835"):
            read_835(next(iter(open_x12(text))))


class TestBalance:
    @pytest.mark.parametrize(("claims", "amount", "cd", "plb", "levels"), [
        ((claim("C1", "180", "120", lines=(line("180", "120", ("CO", "45", "60")),)),), "120", "C", (), []),
        ((claim("C1", "180", "120", lines=(line("180", "125", ("CO", "45", "60")),)),), "120", "C", (), ["line"]),
        ((claim("C1", "180", "125", lines=(line("180", "125", ("CO", "45", "60")),)),), "125", "C", (),
         ["line", "claim"]),
        ((claim("C1", "180", "110", ("OA", "23", "10"), lines=(line("180", "120", ("CO", "45", "60")),)),),
         "110", "C", (), []),
        ((claim("C1", "180", "120", ("OA", "23", "10"), lines=(line("180", "120", ("CO", "45", "60")),)),),
         "120", "C", (), ["claim"]),
        ((claim("C1", "150", "110", ("CO", "45", "40")),), "110", "C", (), []),
        ((claim("C1", "150", "100", ("CO", "45", "40")),), "100", "C", (), ["claim"]),
        ((claim("C1", "100", "100"),), "90", "C", (("WO", "10"),), []),
        ((claim("C1", "100", "100"),), "103.5", "C", (("L6", "-3.5"),), []),
        ((claim("C1", "100", "100"),), "100", "C", (("WO", "10"),), ["transaction"]),
        ((claim("C1", "-100", "-100", status="22"),), "100", "D", (), []),
        ((claim("C1", "-100", "-100", status="22"),), "100", "C", (), ["transaction"]),
    ], ids=["line_balances", "line_paid_off", "line_and_claim_paid_off", "claim_cas_plus_line_cas", "claim_cas_off", "no_lines_balances",
            "no_lines_off", "plb_reduces_payment", "negative_plb_increases", "plb_not_taken", "debit_bpr03_d",
            "debit_written_as_credit"])
    def test_findings(self, claims: tuple[ClaimPayment, ...], amount: str, cd: str,
                      plb: tuple[tuple[str, str], ...], levels: list[str]) -> None:
        """Line, claim and transaction sums that do not add up are reported at their level, nothing else."""
        adjs = tuple(ProviderAdjustment("1234567893", date(2026, 12, 31), r, "X1", D(a)) for r, a in plb)
        reader = read_835(next(only_835(build(remittance(claims, amount, adjs, cd)))))
        claims_read = list(reader)
        assert [f.level for f in reader.balance()] == levels
        assert [c.paid for c in claims_read] == [c.paid for c in claims]  # nothing fixed

    def test_finding_values_and_message(self) -> None:
        """A finding carries the expected and actual amounts and names the claim and line."""
        c = claim("C9", "300", "245", lines=(line("120", "120"), line("180", "125", ("CO", "45", "60"))))
        f = [x for x in balance_claim(c) if x.level == "line"][0]
        assert (f.claim_id, f.line_index, f.expected, f.actual) == ("C9", 1, D("120"), D("125"))
        assert "C9" in str(f) and "line 2" in str(f) and "125" in str(f)


money = st.decimals(min_value=-99999, max_value=99999, places=2, allow_nan=False, allow_infinity=False)
ident = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=12)
adjustment = st.builds(Adjustment, st.sampled_from(["CO", "PR", "OA", "PI"]),
                       st.sampled_from(["1", "2", "3", "45", "197", "253", "23", "96"]), money,
                       st.none() | st.integers(1, 99).map(Decimal))
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
service_line = st.builds(
    ServiceLine, st.sampled_from(["90837", "90834", "90791", "H0004", "99214"]), money, money,
    modifiers=st.lists(st.sampled_from(["HO", "95", "93", "HP", "GT"]), max_size=4).map(tuple),
    units=st.integers(1, 12).map(Decimal),
    dates=st.lists(st.tuples(st.just("472"), dates), max_size=1).map(tuple),
    line_control_number=st.none() | ident,
    references=st.lists(st.tuples(st.sampled_from(["G1", "LU", "0K"]), ident), max_size=2).map(
        lambda refs: tuple(sorted(refs, key=lambda r: r[0] == "0K"))),  # the guide's order: 0K after 6R
    adjustments=st.lists(adjustment, max_size=8).map(tuple),
    remarks=st.lists(st.sampled_from(["N54", "N381", "M15", "MA01"]), max_size=3).map(tuple),
    amounts=st.lists(st.tuples(st.just("B6"), money), max_size=1).map(tuple))
claim_payment = st.builds(
    ClaimPayment, ident, st.sampled_from(["1", "2", "3", "4", "19", "20", "21", "22"]), money, money,
    patient_responsibility=money, filing_indicator=st.sampled_from(["12", "MB", "MC", "HM"]),
    payer_claim_number=ident, facility_code=st.sampled_from(["11", "02", "10"]), frequency_code=st.just("1"),
    header_number=st.just(1), adjustments=st.lists(adjustment, max_size=4).map(tuple),
    patient=st.builds(Name, st.just("QC"), st.just("1"), ident, ident, id_qualifier=st.just("MI"), id=ident),
    moa=st.sampled_from([(), ("", "", "MA01"), ("", "", "MA15", "N130")]),
    references=st.lists(st.tuples(st.just("1L"), ident), max_size=1).map(tuple),
    dates=st.lists(st.tuples(st.sampled_from(["232", "233", "050"]), dates), max_size=2).map(tuple),
    lines=st.lists(service_line, max_size=3).map(tuple))


class TestBuilder:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(claims=st.lists(claim_payment, max_size=5).map(tuple), amount=money.map(abs),
           plb=st.lists(st.builds(ProviderAdjustment, st.just("1234567893"), dates,
                                  st.sampled_from(["WO", "L6", "72", "FB"]), st.just("") | ident, money),
                        max_size=8).map(tuple))
    def test_round_trip(self, claims: tuple[ClaimPayment, ...], amount: Decimal,
                        plb: tuple[ProviderAdjustment, ...]) -> None:
        """Parsing what the builder wrote gives back the same claims, payment and provider adjustments."""
        rem = Remittance835(payment(str(amount)), PAYER, PAYEE, claims, plb, (("EV", "SUNRISE01"),),
                            date(2026, 11, 19))
        assert parse_text(build(rem)) == rem

    def test_envelope_counts_are_computed(self) -> None:
        """SE01 counts the set's segments so the strict envelope check passes."""
        text = build(remittance((claim("C1", "10", "10", lines=(line("10", "10"),)),), "10"))
        body = text.split("ST*835*0001~\n")[1].split("SE*")[0]
        assert f"SE*{body.count('~') + 2}*0001~" in text
        assert len(list(only_835(text))) == 1

    @pytest.mark.parametrize(("value", "where"), [("C*1", "CLP01"), ("C~1", "CLP01"), ("A:B", "CLP01")],
                             ids=["element_separator", "segment_terminator", "component_separator"])
    def test_delimiter_in_value_is_refused(self, value: str, where: str) -> None:
        """A value holding a delimiter raises BuildError instead of writing broken X12."""
        with pytest.raises(BuildError, match=where):
            build(remittance((claim(value, "10", "10"),), "10"))

    def test_amounts_written_without_needless_zeros(self) -> None:
        """Amounts are written as X12 decimals: 120.50 as 120.5, 180.00 as 180, zero as 0."""
        text = build(remittance((claim("C1", "180.00", "120.50", ("CO", "45", "59.50")),), "120.50"))
        assert "CLP*C1*1*180*120.5*0*12*PCNC1~" in text and "CAS*CO*45*59.5~" in text


class TestFrozen:
    def test_parsed_objects_are_immutable_instances_of_the_public_classes(self) -> None:
        """Claims, lines, adjustments and names from the parser are frozen and equal to ones built directly."""
        c = parse_text((FIXTURES / "denial_co197.x12").read_bytes()).claims[0]
        assert type(c) is ClaimPayment and type(c.lines[0]) is ServiceLine
        assert type(c.lines[0].adjustments[0]) is Adjustment and type(c.patient) is Name
        with pytest.raises(dataclasses.FrozenInstanceError):
            c.paid = D("1")  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            c.lines[0].adjustments[0].amount = D("1")  # type: ignore[misc]
        assert c.lines[0].adjustments[0] == Adjustment("CO", "197", D("180.00"))
        assert hash(c.lines[0].adjustments[0]) == hash(Adjustment("CO", "197", D("180.00")))
        assert dataclasses.replace(c) == c
