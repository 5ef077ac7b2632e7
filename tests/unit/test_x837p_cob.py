"""837P coordination of benefits: loops 2320/2330A/2330B (other payers) and 2430 (line adjudication).

Tables for each rule (which segments a primary with other coverage, a secondary and a tertiary claim
carry; SBR01/SBR02; CAS grouping; AMT*D; DTP*573; SVD), the balancing refusals, the pure
``line_balance_errors``, round trips through ``parse_837p``, the inspect JSON, and pyx12 (zero
errors) on fixed and hypothesis-generated P -> S -> T chains.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.errors import BuildError
from edi.inspect import inspect_stream
from edi.validate import validate_x12
from edi.x12 import Segment
from edi.x837p import (
    Address,
    Batch837,
    CasAdjustment,
    Claim837,
    LineAdjudication,
    OtherPayer,
    Payer,
    ServiceLine,
    SubmittedClaim,
    Subscriber,
    clean_text,
    line_balance_errors,
)
from tests.unit.test_x837p import MODIFIERS, NAMES, S, build, check_hierarchy, parse, segs

CIGNA = Payer("Cigna", "62308", "CI")
P_DAY, S_DAY = date(2026, 11, 20), date(2026, 12, 4)
ROE = Subscriber("Roe", "John", "W900800700", date(1975, 7, 30), "M", S.HOME, group_number="GRP100")
MEDI = Subscriber("Doe", "Jane", "91234567A", date(1980, 1, 2), "F", S.HOME)
PHI = ("Doe", "DOE", "Jane", "JANE", "Roe", "ROE", "John", "JOHN", "W100200300", "W900800700", "91234567A", "Oak",
       "OAK", "19800102", "1980-01-02")  # case-sensitive: "DOE" is a name, "does" is not
# SBR02 codes, written out here rather than taken from the builder
SBR02 = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}


def cas(*triplets: tuple[str, str, str]) -> tuple[CasAdjustment, ...]:
    return tuple(CasAdjustment(g, r, D(a)) for g, r, a in triplets)


def base_claim(claim_id: str = "C000201") -> Claim837:
    """Three lines (160 + 140 + 25 = 325.00) for JANE, first billed to AETNA."""
    claim: Claim837 = replace(S.CLAIMS_837["dual_diagnosis_multi_line"].claims[0], claim_id=claim_id)
    return claim


def adjudicate(line: ServiceLine, payer_id: str, paid: str, adjustments: tuple[CasAdjustment, ...],
               **kw: Any) -> ServiceLine:
    adj = LineAdjudication(payer_id, D(paid), line.procedure, line.modifiers, line.units, adjustments=adjustments)
    return replace(line, adjudications=(*line.adjudications, replace(adj, **kw)))


# Aetna (P) on the three lines: paid 96 + 84 + 15 = 195.00; CO 45 and PR 2 make up the rest.
P_LINES = (("96.00", cas(("CO", "45", "40.00"), ("PR", "2", "24.00"))),
           ("84.00", cas(("CO", "45", "35.00"), ("PR", "2", "21.00"))),
           ("15.00", cas(("CO", "45", "6.25"), ("PR", "2", "3.75"))))
# Medi-Cal (S) on the same lines: OA 23 for the primary's share, pays some of the PR, leaves PR 1.
S_LINES = (("20.00", cas(("OA", "23", "136.00"), ("PR", "1", "4.00"))),
           ("21.00", cas(("OA", "23", "119.00"))),
           ("0.00", cas(("OA", "23", "21.25"), ("CO", "96", "3.75"))))


def aetna_primary(paid: str = "195.00", **kw: Any) -> OtherPayer:
    return replace(OtherPayer("P", "self", S.JANE, S.AETNA, D(paid), P_DAY), **kw)


def medi_secondary(paid: str = "41.00", **kw: Any) -> OtherPayer:
    return replace(OtherPayer("S", "self", replace(MEDI, address=None), S.MEDICAID, D(paid), S_DAY), **kw)


def primary_with_other_coverage() -> Claim837:
    """Billed to Aetna (P); Medi-Cal (S) and Cigna (T) are known, nothing adjudicated yet."""
    return replace(base_claim(), other_payers=(
        OtherPayer("S", "self", MEDI, S.MEDICAID),
        OtherPayer("T", "spouse", ROE, CIGNA)))


def secondary() -> Claim837:
    """Billed to Medi-Cal (S) after Aetna (P) paid 195.00."""
    c = base_claim("C000201S")
    lines = tuple(adjudicate(ln, "60054", paid, adjs) for ln, (paid, adjs) in zip(c.lines, P_LINES, strict=True))
    return replace(c, payer=S.MEDICAID, subscriber=MEDI, payer_sequence="S", lines=lines,
                   other_payers=(replace(aetna_primary(), subscriber=S.JANE),))


def tertiary() -> Claim837:
    """Billed to Cigna (T, through John Roe's plan) after Aetna (P) paid 195.00 and Medi-Cal (S) 41.00."""
    c = secondary()
    lines = tuple(adjudicate(ln, "610442", paid, adjs) for ln, (paid, adjs) in zip(c.lines, S_LINES, strict=True))
    return replace(c, claim_id="C000201T", payer=CIGNA, subscriber=ROE, patient=S.SPOUSE, payer_sequence="T",
                   lines=lines, other_payers=(aetna_primary(relationship="spouse"), medi_secondary()))


def batch(*claims: Claim837) -> Batch837:
    out: Batch837 = replace(S.CLAIMS_837["dual_diagnosis_multi_line"], claims=claims)
    return out


def text_of(claim: Claim837) -> str:
    return build(batch(claim))


def loops(text: str) -> dict[str, Any]:
    """One claim's 2000B SBR, its 2320 loops (SBR to the next SBR or LX, 2330A/B included) and its
    lines (the 2400 segments and the 2430 loops, each SVD to the next SVD or LX)."""
    out: dict[str, Any] = {"sbr": None, "2320": [], "lines": []}
    in_claim = False
    for seg in segs(text):
        sid = seg[0]
        if sid in ("SE", "GE", "IEA"):
            break
        if sid == "CLM":
            in_claim = True
        elif sid == "SBR" and not in_claim:
            out["sbr"] = seg
        elif sid == "SBR":
            out["2320"].append([seg])
        elif sid == "LX":
            out["lines"].append({"2400": [seg], "2430": []})
        elif sid == "SVD":
            out["lines"][-1]["2430"].append([seg])
        elif out["lines"] and out["lines"][-1]["2430"]:
            out["lines"][-1]["2430"][-1].append(seg)
        elif out["lines"]:
            out["lines"][-1]["2400"].append(seg)
        elif out["2320"]:
            out["2320"][-1].append(seg)
    return out


def ids(loop: list[Segment]) -> list[str]:
    """Segment ids with their qualifier (AMT*D, NM1*IL, DTP*573) where it tells loops apart."""
    return [s[0] + (f"*{s[1]}" if s[0] in ("AMT", "NM1", "DTP") else "") for s in loop]


def assert_valid(text: str) -> None:
    result = validate_x12(text)
    assert [str(e) for e in result.errors] == []
    assert result.ok


# --------------------------------------------------------------------------------------------
# Which segments each kind of claim carries
# --------------------------------------------------------------------------------------------

SHAPES = [
    ("primary_with_other_coverage", primary_with_other_coverage, "P", [
        ["SBR", "OI", "NM1*IL", "N3", "N4", "NM1*PR"],                            # Medi-Cal: no amounts
        ["SBR", "OI", "NM1*IL", "N3", "N4", "NM1*PR"],                            # Cigna: no amounts
    ], 0),
    ("secondary", secondary, "S", [
        ["SBR", "AMT*D", "OI", "NM1*IL", "N3", "N4", "NM1*PR", "DTP*573"],        # Aetna adjudicated
    ], 1),
    ("tertiary", tertiary, "T", [
        ["SBR", "AMT*D", "OI", "NM1*IL", "N3", "N4", "NM1*PR", "DTP*573"],        # Aetna
        ["SBR", "AMT*D", "OI", "NM1*IL", "NM1*PR", "DTP*573"],                    # Medi-Cal (no address)
    ], 2),
]


class TestShapes:
    @pytest.mark.parametrize(("make", "sbr01", "shape", "n_2430"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
    def test_segments_present_and_absent(self, make: Any, sbr01: str, shape: list[list[str]], n_2430: int) -> None:
        """2000B SBR01 is the billed payer's sequence; each 2320 has exactly these segments; each line
        has one 2430 (SVD, CAS..., DTP*573) per earlier payer and none on a primary claim."""
        got = loops(text_of(make()))
        assert got["sbr"][1] == sbr01
        assert [ids(loop) for loop in got["2320"]] == shape
        for line in got["lines"]:
            assert len(line["2430"]) == n_2430
            for loop in line["2430"]:
                assert loop[0][0] == "SVD" and loop[-1][:2] == ["DTP", "573"]
                assert {s[0] for s in loop[1:-1]} <= {"CAS"}
            assert "AMT" not in [s[0] for s in line["2400"]]

    @pytest.mark.parametrize(("make", "sbr01s"), [
        (primary_with_other_coverage, [("S", "18", "MC"), ("T", "01", "CI")]),
        (secondary, [("P", "18", "CI")]),
        (tertiary, [("P", "01", "CI"), ("S", "18", "MC")]),
    ], ids=["primary", "secondary", "tertiary"])
    def test_2320_sbr(self, make: Any, sbr01s: list[tuple[str, str, str]]) -> None:
        """2320 SBR01 is the other payer's sequence, SBR02 the patient's relationship to its subscriber,
        SBR09 its claim filing indicator; OI says benefits assigned (OI03) and release on file (OI06)."""
        got = loops(text_of(make()))
        assert [(lp[0][1], lp[0][2], lp[0][9]) for lp in got["2320"]] == sbr01s
        assert all(["OI", "", "", "Y", "", "", "Y"] in lp for lp in got["2320"])

    def test_2320_group_number_and_2330a_2330b(self) -> None:
        """SBR03 is the other subscriber's group number; 2330A names that subscriber with MI, 2330B the
        payer with PI and its payer id."""
        (medi, cigna) = loops(text_of(primary_with_other_coverage()))["2320"]
        assert medi[0][3] == "" and cigna[0][3] == "GRP100"
        assert ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "91234567A"] in medi
        assert ["NM1", "PR", "2", "MEDI-CAL", "", "", "", "", "PI", "610442"] in medi
        assert ["NM1", "IL", "1", "ROE", "JOHN", "", "", "", "MI", "W900800700"] in cigna
        assert ["N3", "42 OAK AVE APT 3"] in cigna
        assert ["NM1", "PR", "2", "CIGNA", "", "", "", "", "PI", "62308"] in cigna

    @pytest.mark.parametrize(("relationship", "code"), [
        ("self", "18"), ("spouse", "01"), ("Child", "19"), ("other", "G8"), ("G8", "G8"), ("20", "20"), ("53", "53"),
    ])
    def test_2320_relationship_codes(self, relationship: str, code: str) -> None:
        """SBR02 takes self, spouse, child, other or any code of the guide's list."""
        claim = replace(primary_with_other_coverage(), other_payers=(
            OtherPayer("S", relationship, MEDI, S.MEDICAID),))
        assert loops(text_of(claim))["2320"][0][0][2] == code

    def test_line_charges_and_clm02_stay_the_original_ones(self) -> None:
        """A secondary or tertiary claim bills the original charges, whatever the earlier payers paid."""
        plain = loops(text_of(base_claim()))
        for make in (secondary, tertiary):
            text = text_of(make())
            assert segs(text, "CLM")[0][2] == "325"
            assert [ln["2400"][1] for ln in loops(text)["lines"]] == [ln["2400"][1] for ln in plain["lines"]]

    def test_primary_and_secondary_of_one_subscriber_get_their_own_2000b(self) -> None:
        """Claims to the same payer for the same person but with a different sequence do not share an HL."""
        sec = secondary()
        first = replace(base_claim("C000202"), payer=S.MEDICAID, subscriber=MEDI, other_payers=(
            OtherPayer("S", "self", S.JANE, S.AETNA),))
        text = build(batch(first, sec))
        check_hierarchy(text)
        assert [s[1] for s in segs(text, "SBR")] == ["P", "S", "S", "P"]  # 2000B, 2320, 2000B, 2320
        assert len([h for h in segs(text, "HL") if h[3] == "22"]) == 2
        assert_valid(text)


# --------------------------------------------------------------------------------------------
# CAS, AMT*D, DTP*573 and SVD
# --------------------------------------------------------------------------------------------


def one_line_secondary(line_adjs: tuple[CasAdjustment, ...], claim_adjs: tuple[CasAdjustment, ...] = (),
                       **adj_kw: Any) -> Claim837:
    """One 180.00 line billed to Medi-Cal (S); Aetna's SVD02 and AMT*D are whatever balances."""
    line = ServiceLine("90837", D("180.00"), date(2026, 11, 2), "L000301", modifiers=("HO",))
    svd02 = D("180.00") - sum((a.amount for a in line_adjs), D(0))
    paid = svd02 - sum((a.amount for a in claim_adjs), D(0))
    line = adjudicate(line, "60054", str(svd02), line_adjs, **adj_kw)
    return replace(base_claim("C000301"), diagnoses=("F33.1",), lines=(line,), payer=S.MEDICAID,
                   payer_sequence="S", other_payers=(aetna_primary(str(paid), adjustments=claim_adjs),))


SEVEN_PR = tuple(CasAdjustment("PR", r, D("1.00")) for r in ("1", "2", "3", "4", "5", "6", "7"))
CAS_GROUPING = [
    ("one_group", cas(("CO", "45", "40.00")), [["CAS", "CO", "45", "40"]]),
    ("groups_in_first_seen_order", cas(("PR", "2", "5.00"), ("CO", "45", "10.00"), ("PR", "1", "2.50")),
     [["CAS", "PR", "2", "5", "", "1", "2.5"], ["CAS", "CO", "45", "10"]]),
    ("six_triplets_then_a_new_segment", SEVEN_PR,
     [["CAS", "PR", *[x for r in "123456" for x in (r, "1", "")]][:-1], ["CAS", "PR", "7", "1"]]),
    ("quantity", (CasAdjustment("PR", "1", D("5.00"), D("2")),), [["CAS", "PR", "1", "5", "2"]]),
    ("zero_amounts_left_out", cas(("CO", "45", "40.00"), ("OA", "23", "0.00"), ("CO", "253", "0")),
     [["CAS", "CO", "45", "40"]]),
    ("all_five_groups", cas(("CO", "45", "1"), ("CR", "45", "1"), ("OA", "23", "1"), ("PI", "104", "1"),
                            ("PR", "3", "1")),
     [["CAS", g, r, "1"] for g, r in (("CO", "45"), ("CR", "45"), ("OA", "23"), ("PI", "104"), ("PR", "3"))]),
    ("negative_amount", cas(("CO", "45", "50.00"), ("OA", "94", "-10.00")),
     [["CAS", "CO", "45", "50"], ["CAS", "OA", "94", "-10"]]),
]


class TestAmounts:
    @pytest.mark.parametrize(("adjs", "expected"), [c[1:] for c in CAS_GROUPING], ids=[c[0] for c in CAS_GROUPING])
    def test_line_cas_grouping(self, adjs: tuple[CasAdjustment, ...], expected: list[list[str]]) -> None:
        """2430 CAS: one segment per group code, up to six reason triplets each, zero amounts left out."""
        text = text_of(one_line_secondary(adjs))
        ((svd_loop,),) = [ln["2430"] for ln in loops(text)["lines"]]
        assert [s for s in svd_loop if s[0] == "CAS"] == expected
        assert_valid(text)

    @pytest.mark.parametrize(("adjs", "expected"), [c[1:] for c in CAS_GROUPING], ids=[c[0] for c in CAS_GROUPING])
    def test_claim_cas_grouping(self, adjs: tuple[CasAdjustment, ...], expected: list[list[str]]) -> None:
        """2320 CAS follows the same grouping, between SBR and AMT*D."""
        text = text_of(one_line_secondary((), adjs))
        (loop,) = loops(text)["2320"]
        assert [s for s in loop if s[0] == "CAS"] == expected
        assert [s[0] for s in loop[:len(expected) + 2]] == ["SBR", *["CAS"] * len(expected), "AMT"]
        assert_valid(text)

    @pytest.mark.parametrize(("claim_adjs", "amt"), [
        ((), "180"),
        (cas(("CO", "45", "30.00"), ("PR", "2", "30.00")), "120"),
        (cas(("CO", "45", "30.00"), ("PR", "3", "29.50")), "120.5"),
        (cas(("CO", "197", "180.00")), "0"),
    ], ids=["paid_in_full", "whole_dollars", "cents", "denied_paid_zero"])
    def test_amt_d_is_what_the_payer_paid(self, claim_adjs: tuple[CasAdjustment, ...], amt: str) -> None:
        """AMT*D is the earlier payer's claim payment (zero for a denial), written like every X12 amount."""
        (loop,) = loops(text_of(one_line_secondary((), claim_adjs)))["2320"]
        assert ["AMT", "D", amt] in loop

    @pytest.mark.parametrize(("line_day", "payer_day", "dtp_2330b", "dtp_2430"), [
        (None, P_DAY, ["DTP", "573", "D8", "20261120"], ["DTP", "573", "D8", "20261120"]),
        (date(2026, 11, 21), P_DAY, ["DTP", "573", "D8", "20261120"], ["DTP", "573", "D8", "20261121"]),
        (date(2027, 1, 9), None, None, ["DTP", "573", "D8", "20270109"]),
    ], ids=["line_uses_payer_date", "line_date_of_its_own", "only_line_dates"])
    def test_dtp_573(self, line_day: date | None, payer_day: date | None, dtp_2330b: list[str] | None,
                     dtp_2430: list[str]) -> None:
        """2330B DTP*573 (D8) is the payer's 835 date when known; 2430 DTP*573 is the line's or else the payer's."""
        claim = one_line_secondary(cas(("CO", "45", "60.00")), adjudication_date=line_day)
        claim = replace(claim, other_payers=(replace(claim.other_payers[0], adjudication_date=payer_day),))
        text = text_of(claim)
        (loop,) = loops(text)["2320"]
        assert [s for s in loop if s[0] == "DTP"] == ([dtp_2330b] if dtp_2330b else [])
        assert loops(text)["lines"][0]["2430"][0][-1] == dtp_2430
        assert_valid(text)

    @pytest.mark.parametrize(("kw", "svd"), [
        ({}, ["SVD", "60054", "120", "HC:90837:HO", "", "1"]),
        ({"procedure": "90834", "modifiers": ()}, ["SVD", "60054", "120", "HC:90834", "", "1"]),
        ({"modifiers": ("HO", "95", "GT", "59"), "units": 2}, ["SVD", "60054", "120", "HC:90837:HO:95:GT:59", "", "2"]),
        ({"units": 0}, ["SVD", "60054", "120", "HC:90837:HO", "", "0"]),
    ], ids=["as_billed", "procedure_changed", "four_modifiers_two_units", "zero_units"])
    def test_svd(self, kw: dict[str, Any], svd: list[str]) -> None:
        """SVD01 the payer id, SVD02 the line paid, SVD03 the procedure and modifiers as adjudicated, SVD05 units."""
        text = text_of(one_line_secondary(cas(("CO", "45", "60.00")), **kw))
        assert text.count("SVD*") == 1
        assert loops(text)["lines"][0]["2430"][0][0] == svd
        assert_valid(text)


# --------------------------------------------------------------------------------------------
# Refusals and the balancing helper
# --------------------------------------------------------------------------------------------


def _line_paid(claim: Claim837, n: int, paid: str) -> Claim837:
    lines = list(claim.lines)
    first, *rest = lines[n].adjudications
    lines[n] = replace(lines[n], adjudications=(replace(first, paid=D(paid)), *rest))
    return replace(claim, lines=tuple(lines))


def _other(claim: Claim837, n: int, **kw: Any) -> Claim837:
    others = list(claim.other_payers)
    others[n] = replace(others[n], **kw)
    return replace(claim, other_payers=tuple(others))


REFUSALS = [
    ("unbalanced_line", lambda: _line_paid(secondary(), 1, "85.00"),
     ["C000201S", "line L000105", "payer 60054", "charge 140.00", "paid 85.00", "adjustments 56.00"]),
    ("claim_paid_differs_from_lines", lambda: _other(secondary(), 0, paid=D("190.00")),
     ["C000201S", "payer 60054", "charge 325.00", "paid 190.00", "line adjustments 130.00"]),
    ("line_for_a_payer_not_on_the_claim", lambda: replace(secondary(), lines=(
        adjudicate(secondary().lines[0], "99999", "0", ()), *secondary().lines[1:])),
     ["C000201S", "line L000104", "payer 99999"]),
    ("two_2430_for_one_payer", lambda: replace(secondary(), lines=(
        adjudicate(secondary().lines[0], "60054", "160.00", ()), *secondary().lines[1:])),
     ["C000201S", "line L000104", "more than one 2430", "60054"]),
    ("line_for_an_unadjudicated_payer", lambda: replace(
        primary_with_other_coverage(), lines=(adjudicate(base_claim().lines[0], "610442", "160", ()),
                                              *base_claim().lines[1:])),
     ["C000201", "line L000104", "payer 610442"]),
    ("secondary_without_primary", lambda: replace(secondary(), other_payers=(), lines=base_claim().lines),
     ["C000201S", "no other payer has sequence P"]),
    ("earlier_payer_without_amt_d", lambda: _other(secondary(), 0, paid=None, adjudication_date=None),
     ["C000201S", "60054", "no paid amount"]),
    ("later_payer_with_amounts", lambda: _other(primary_with_other_coverage(), 0, paid=D("0")),
     ["C000201", "610442", "after the billed payer"]),
    ("two_payers_one_sequence", lambda: _other(primary_with_other_coverage(), 1, sequence="S"),
     ["C000201", "62308", "sequence S"]),
    ("other_payer_with_billed_sequence", lambda: _other(primary_with_other_coverage(), 0, sequence="P"),
     ["C000201", "610442", "sequence P"]),
    ("one_payer_twice", lambda: _other(primary_with_other_coverage(), 1, payer=S.MEDICAID),
     ["C000201", "610442", "listed twice"]),
    ("bad_sequence", lambda: replace(secondary(), payer_sequence="X"), ["C000201S", "'X'", "P, S or T"]),
    ("no_adjudication_date", lambda: replace(
        _other(secondary(), 0, adjudication_date=None), lines=tuple(
            replace(ln, adjudications=()) for ln in secondary().lines)),
     ["C000201S", "60054", "adjudication date"]),
    ("line_without_any_date", lambda: _other(secondary(), 0, adjudication_date=None),
     ["C000201S", "line L000104", "adjudication date"]),
    ("bad_cas_group", lambda: one_line_secondary(cas(("XX", "45", "60.00"))), ["C000301", "group 'XX'"]),
    ("more_than_five_cas_segments", lambda: one_line_secondary(
        tuple(CasAdjustment("PR", str(r), D("1.00")) for r in range(1, 32))), ["C000301", "more than 5 CAS"]),
    ("fractional_cents", lambda: one_line_secondary(cas(("CO", "45", "60.005"))), ["C000301", "whole cents"]),
    ("bad_relationship", lambda: _other(secondary(), 0, relationship="cousin"), ["C000201S", "relationship"]),
    ("bad_adjudicated_modifier", lambda: one_line_secondary((), modifiers=("H",)), ["C000301", "modifier"]),
    ("too_many_paid_units", lambda: one_line_secondary((), units=10000), ["C000301", "paid units"]),
    ("other_subscriber_without_member_id", lambda: _other(secondary(), 0, subscriber=replace(S.JANE, member_id="")),
     ["C000201S", "60054", "member id"]),
]


class TestRefusals:
    @pytest.mark.parametrize(("make", "fragments"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
    def test_refused_with_a_typed_error(self, make: Any, fragments: list[str]) -> None:
        """The builder refuses the claim (BuildError) naming the claim, the line or payer and the amounts,
        without patient data, and writes nothing."""
        claim = make()
        with pytest.raises(BuildError) as err:
            text_of(claim)
        message = str(err.value)
        for fragment in fragments:
            assert fragment in message
        for phi in PHI:
            assert phi not in message

    def test_the_message_is_line_balance_errors(self) -> None:
        """The builder refuses with exactly what line_balance_errors finds, so a caller holding a claim
        on those messages and the builder agree."""
        claim = _line_paid(_line_paid(tertiary(), 0, "90.00"), 2, "10.00")
        with pytest.raises(BuildError) as err:
            text_of(claim)
        assert err.value.message == "; ".join(line_balance_errors(claim))

    def test_one_bad_claim_refuses_the_file(self) -> None:
        """A file with one unbalanced claim among good ones is not written at all."""
        with pytest.raises(BuildError, match="C000201S"):
            build(batch(base_claim("C000299"), _line_paid(secondary(), 0, "95.00")))


class TestLineBalanceErrors:
    @pytest.mark.parametrize("make", [base_claim, primary_with_other_coverage, secondary, tertiary],
                             ids=["no_other_payer", "primary", "secondary", "tertiary"])
    def test_balanced_claims_have_none(self, make: Any) -> None:
        assert line_balance_errors(make()) == []

    def test_every_problem_is_listed(self) -> None:
        """Each unbalanced line per payer and each payer's claim totals get a message of their own."""
        claim = _line_paid(_line_paid(tertiary(), 0, "90.00"), 2, "10.00")
        errors = line_balance_errors(claim)
        assert errors == [
            "claim C000201T: line L000104 does not balance for payer 60054: charge 160.00 != paid 90.00 "
            "+ adjustments 64.00",
            "claim C000201T: line L000106 does not balance for payer 60054: charge 25.00 != paid 10.00 "
            "+ adjustments 10.00",
            "claim C000201T: payer 60054 paid 195.00 is not its line payments 184.00 - claim adjustments 0.00",
        ]

    def test_claim_level_rules(self) -> None:
        """CLM02 = AMT*D + 2320 CAS + 2430 CAS, and AMT*D = sum of SVD02 - 2320 CAS (each per payer)."""
        ok = one_line_secondary(cas(("CO", "45", "60.00")), cas(("PR", "3", "20.00")))
        assert line_balance_errors(ok) == []
        assert line_balance_errors(_other(ok, 0, paid=D("120.00"))) == [
            "claim C000301: payer 60054 does not balance: charge 180.00 != paid 120.00 + claim adjustments 20.00 "
            "+ line adjustments 60.00",
            "claim C000301: payer 60054 paid 120.00 is not its line payments 120.00 - claim adjustments 20.00",
        ]

    def test_a_line_left_out_of_the_payer_does_not_balance_the_claim(self) -> None:
        """An earlier payer with 2430s must account for every line's charge."""
        c = secondary()
        claim = replace(c, lines=(*c.lines[:2], replace(c.lines[2], adjudications=())))
        claim = _other(claim, 0, paid=D("180.00"))
        assert line_balance_errors(claim) == [
            "claim C000201S: payer 60054 does not balance: charge 325.00 != paid 180.00 + claim adjustments 0.00 "
            "+ line adjustments 120.00"]

    def test_claim_level_only_payer(self) -> None:
        """A payer that adjudicated at claim level only balances CLM02 = AMT*D + its CAS."""
        claim = replace(base_claim(), payer=S.MEDICAID, payer_sequence="S",
                        other_payers=(aetna_primary("300.00", adjustments=cas(("PR", "2", "25.00"))),))
        assert line_balance_errors(claim) == []
        assert_valid(text_of(claim))
        assert "DTP*573*D8*20261120" in text_of(claim) and "SVD" not in text_of(claim)
        assert line_balance_errors(_other(claim, 0, paid=D("299.99")))[0].startswith(
            "claim C000201: payer 60054 does not balance: charge 325.00 != paid 299.99")


# --------------------------------------------------------------------------------------------
# Round trip, inspect, pyx12
# --------------------------------------------------------------------------------------------


def _as_written(adjs: tuple[CasAdjustment, ...]) -> tuple[CasAdjustment, ...]:
    """CAS triplets in the order the builder writes them: grouped by group code in first-seen order,
    zero amounts left out."""
    groups = list(dict.fromkeys(a.group for a in adjs))
    return tuple(sorted((a for a in adjs if a.amount != 0), key=lambda a: groups.index(a.group)))


def cob_built(claim: Claim837) -> dict[str, Any]:
    """The coordination-of-benefits data of ``claim`` as the builder writes it."""
    dates = {o.payer.payer_id: o.adjudication_date for o in claim.other_payers}
    return {
        "claim_id": claim.claim_id, "charge": claim.total_charge, "payer_sequence": claim.payer_sequence,
        "payer": claim.payer.payer_id,
        "other_payers": [(o.sequence, SBR02.get(o.relationship, o.relationship), o.payer.payer_id,
                          clean_text(o.payer.name), o.payer.claim_filing_indicator, o.subscriber.member_id,
                          clean_text(o.subscriber.last_name), clean_text(o.subscriber.first_name) or None,
                          o.subscriber.group_number or None, o.paid,
                          o.adjudication_date if o.paid is not None else None, _as_written(o.adjustments))
                         for o in claim.other_payers],
        "lines": [(ln.line_control_number, ln.charge, [
            (a.payer_id, a.paid, a.procedure, a.modifiers, D(a.units), a.adjudication_date or dates[a.payer_id],
             _as_written(a.adjustments)) for a in ln.adjudications]) for ln in claim.lines],
    }


def cob_read(claim: SubmittedClaim) -> dict[str, Any]:
    """The same data as parse_837p read it back."""
    others = []
    for o in claim.other_payers:
        assert o.payer is not None and o.subscriber is not None
        others.append((o.sequence, o.relationship, o.payer.id, o.payer.name, o.filing_indicator,
                       o.subscriber.member_id, o.subscriber.last_name, o.subscriber.first_name, o.group_number,
                       o.paid, o.adjudication_date, o.adjustments))
    return {
        "claim_id": claim.claim_id, "charge": claim.charge, "payer_sequence": claim.payer_sequence,
        "payer": claim.payer.id, "other_payers": others,
        "lines": [(ln.line_control_number, ln.charge, [
            (a.payer_id, a.paid, a.procedure, a.modifiers, a.units, a.adjudication_date, a.adjustments)
            for a in ln.adjudications]) for ln in claim.lines],
    }


class TestRoundTrip:
    @pytest.mark.parametrize("make", [primary_with_other_coverage, secondary, tertiary],
                             ids=["primary", "secondary", "tertiary"])
    def test_build_then_parse(self, make: Any) -> None:
        """Every other payer (sequence, relationship, subscriber, payer, AMT*D, CAS, date) and every 2430
        (payer, paid, procedure, modifiers, units, CAS, date) is read back as built."""
        claim = make()
        (sub,) = parse(text_of(claim))
        (read,) = sub.claims
        assert cob_read(read) == cob_built(claim)
        assert read.lines[0].adjudications == () or read.lines[0].adjudications[0].date is not None

    def test_cas_read_back_as_the_builders_type(self) -> None:
        """The parser's CAS triplets are CasAdjustment, so built and read adjustments compare equal."""
        claim = tertiary()
        (sub,) = parse(text_of(claim))
        read = sub.claims[0]
        assert read.lines[2].adjudications[1].adjustments == claim.lines[2].adjudications[1].adjustments
        assert type(read.other_payers[0].adjustments) is tuple

    def test_inspect_shows_other_payers_and_2430_without_phi(self) -> None:
        """`edi inspect --json` lists each claim's other payers and each line's 2430s, never a name or member id."""
        doc = inspect_stream(io.BytesIO(text_of(tertiary()).encode()))
        (tx,) = doc["interchanges"][0]["groups"][0]["transactions"]
        (claim,) = tx["claims"]
        assert claim["payer_sequence"] == "T"
        assert claim["other_payers"] == [
            {"sequence": "P", "payer": {"name": "AETNA", "id": "60054"}, "filing_indicator": "CI", "paid": "195.00",
             "adjustments": [], "date": "2026-11-20"},
            {"sequence": "S", "payer": {"name": "MEDI-CAL", "id": "610442"}, "filing_indicator": "MC",
             "paid": "41.00", "adjustments": [], "date": "2026-12-04"}]
        assert claim["lines"][0]["adjudications"] == [
            {"payer_id": "60054", "paid": "96.00", "procedure": "99214", "modifiers": [], "units": 1,
             "adjustments": [{"group": "CO", "reason": "45", "amount": "40.00"},
                             {"group": "PR", "reason": "2", "amount": "24.00"}], "date": "2026-11-20"},
            {"payer_id": "610442", "paid": "20.00", "procedure": "99214", "modifiers": [], "units": 1,
             "adjustments": [{"group": "OA", "reason": "23", "amount": "136.00"},
                             {"group": "PR", "reason": "1", "amount": "4.00"}], "date": "2026-12-04"}]
        dumped = json.dumps(doc)
        for phi in PHI:
            assert phi not in dumped


class TestPyx12:
    @pytest.mark.parametrize("make", [primary_with_other_coverage, secondary, tertiary],
                             ids=["primary_with_other_coverage", "secondary", "tertiary"])
    def test_validates_with_zero_errors(self, make: Any) -> None:
        text = text_of(make())
        assert_valid(text)
        check_hierarchy(text)


# --------------------------------------------------------------------------------------------
# Random chains
# --------------------------------------------------------------------------------------------

CODES = ["90791", "90832", "90834", "90837", "90785", "99214", "H0004", "90853"]
REASONS = {"CO": ["45", "253", "97", "197"], "PR": ["1", "2", "3"], "OA": ["23", "94"], "PI": ["45", "104"]}
CHAIN_PAYERS = (S.AETNA, S.MEDICAID, CIGNA)
CHAIN_DAYS = (P_DAY, S_DAY, date(2027, 1, 15))


@st.composite
def split(draw: st.DrawFn, cents: int) -> tuple[CasAdjustment, ...]:
    """``cents`` as 0-5 CAS triplets of random groups and reasons (no zero amounts; sometimes a
    negative OA 94 offset by a larger first triplet, as after a reversal)."""
    if cents == 0:
        return ()
    cuts = sorted(draw(st.lists(st.integers(1, cents - 1), unique=True, max_size=min(3, cents - 1)))
                  if cents > 1 else [])
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, cents], strict=True)]
    out = []
    for part in parts:
        group = draw(st.sampled_from(sorted(REASONS)))
        out.append(CasAdjustment(group, draw(st.sampled_from(REASONS[group])), D(part).scaleb(-2)))
    if draw(st.integers(0, 4)) == 0:
        offset = D(draw(st.integers(1, 5000))).scaleb(-2)
        out = [replace(out[0], amount=out[0].amount + offset), *out[1:], CasAdjustment("OA", "94", -offset)]
    return tuple(out)


@st.composite
def adjudication(draw: st.DrawFn, line: ServiceLine, payer_id: str, day: date) -> LineAdjudication:
    charge = int(line.charge * 100)
    paid = draw(st.sampled_from([0, charge, draw(st.integers(0, charge))]))  # paid-0 and paid-in-full lines
    return LineAdjudication(
        payer_id, D(paid).scaleb(-2), draw(st.sampled_from([line.procedure, *CODES])),
        tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True))), draw(st.integers(0, 12)),
        draw(st.sampled_from([None, day, date(2026, 12, 31)])), draw(split(charge - paid)))


@st.composite
def chains(draw: st.DrawFn) -> Claim837:
    """A claim billed to the 2nd or 3rd payer of a chain, every line adjudicated by each earlier payer."""
    earlier = draw(st.integers(1, 2))
    lines = []
    for n in range(draw(st.integers(1, 6))):
        lines.append(ServiceLine(draw(st.sampled_from(CODES)), D(draw(st.integers(1, 90_000))).scaleb(-2),
                                 date(2026, 11, 2), f"L{n}", (1,),
                                 tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True))),
                                 draw(st.integers(1, 12))))
    others = []
    for k in range(earlier):
        payer, day = CHAIN_PAYERS[k], CHAIN_DAYS[k]
        adjs = [draw(adjudication(ln, payer.payer_id, day)) for ln in lines]
        lines = [replace(ln, adjudications=(*ln.adjudications, a)) for ln, a in zip(lines, adjs, strict=True)]
        line_paid = sum((a.paid for a in adjs), D(0))
        claim_cas = draw(split(draw(st.integers(0, int(line_paid * 100)))))
        subscriber = Subscriber(draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES)), f"M{k}X",
                                address=draw(st.sampled_from([None, S.HOME, Address("1 Elm", "Reno", "NV", "89501")])),
                                group_number=draw(st.sampled_from(["", "G7"])))
        others.append(OtherPayer("PST"[k], draw(st.sampled_from(["self", "spouse", "child", "other"])), subscriber,
                                 payer, line_paid - sum((a.amount for a in claim_cas), D(0)),
                                 draw(st.sampled_from([day, None])) if all(a.adjudication_date for a in adjs)
                                 else day, claim_cas))
    if earlier == 1 and draw(st.booleans()):  # the tertiary coverage is known, not yet billed
        others.append(OtherPayer("T", "other", ROE, CIGNA))
    patient = draw(st.sampled_from([None, S.CHILD]))
    return Claim837("C000900", "11", ("F33.1",), S.JANE if patient is None else ROE, CHAIN_PAYERS[earlier],
                    tuple(lines), patient=patient, rendering=S.LCSW, payer_sequence="PST"[earlier],
                    other_payers=tuple(others))


class TestRandomChains:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(chains())
    def test_random_chain_validates_balances_and_round_trips(self, claim: Claim837) -> None:
        """Any balanced secondary or tertiary claim (1-6 lines, CAS mixes over CO/PR/OA/PI, random
        modifiers, paid-0 lines, 1-2 earlier payers) builds a file pyx12 accepts with zero errors, whose
        every line balances per earlier payer as written, and which parses back to the same data."""
        assert line_balance_errors(claim) == []
        text = text_of(claim)
        assert_valid(text)
        (sub,) = parse(text)
        (read,) = sub.claims
        assert cob_read(read) == cob_built(claim)
        for line in read.lines:
            assert len(line.adjudications) == len(claim.other_payers) - (claim.other_payers[-1].paid is None)
            for a in line.adjudications:
                assert line.charge == a.paid + sum((x.amount for x in a.adjustments), D(0))
        for o in read.other_payers:
            if o.paid is not None:
                assert o.payer is not None
                assert read.charge == o.paid + sum((x.amount for x in o.adjustments), D(0)) + sum(
                    (x.amount for ln in read.lines for a in ln.adjudications if a.payer_id == o.payer.id
                     for x in a.adjustments), D(0))
