"""Coordination-of-benefits rules (CONTRACT section 7) as tables: the next-leg decision, what an earlier
payer adjudicated, the 2320/2430 data of a next leg, its balance, holds, deadline and the patient balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from edi.x837p import CasAdjustment, Claim837, Payer, ServiceLine, Subscriber, line_balance_errors
from pipelines.rules import cob
from pipelines.rules.cob import Coverage, NextLeg, PostedLine, Posting
from pipelines.rules.lifecycle import ClaimStatus

D = Decimal
S = ClaimStatus
PAYERS = {"AETNA": Payer("Aetna", "60054"), "MEDICAID": Payer("State Medicaid", "SKCA0", "MC"),
          "BCBS": Payer("Blue Cross", "00060")}
ME = Subscriber("HARLOW", "MIRA", "", date(1985, 4, 12), "F")
CHAIN = (Coverage("P", "AETNA", "W1", "self"), Coverage("S", "MEDICAID", "M77", "self"),
         Coverage("T", "BCBS", "B9", "spouse", "HARLOW", "SAM", date(1961, 2, 3), "M"))


def c(group: str, reason: str, amount: str) -> CasAdjustment:
    return CasAdjustment(group, reason, D(amount))


class TestNextLegDecision:
    @pytest.mark.parametrize(("status", "pr", "forwarded", "has_next", "expected"), [
        pytest.param(S.PAID, "25.00", False, True, NextLeg.BUILD, id="paid_with_pr_builds"),
        pytest.param(S.PATIENT_RESPONSIBILITY, "165.00", False, True, NextLeg.BUILD, id="all_pr_builds"),
        pytest.param(S.DENIED, "10.00", False, True, NextLeg.BUILD, id="denied_with_pr_builds"),
        pytest.param(S.PAID, "25.00", True, True, NextLeg.CROSSED_OVER, id="forwarded_crosses_over"),
        pytest.param(S.PAID, "0.00", True, True, NextLeg.CROSSED_OVER, id="forwarded_without_pr_crosses_over"),
        pytest.param(S.DENIED, "0.00", False, True, NextLeg.NONE, id="denied_without_pr_denial_queue"),
        pytest.param(S.PAID, "0.00", False, True, NextLeg.NONE, id="paid_without_pr_nothing"),
        pytest.param(S.PAID, "25.00", False, False, NextLeg.NONE, id="no_next_coverage"),
        pytest.param(S.PAID, "25.00", True, False, NextLeg.NONE, id="forwarded_but_no_next_coverage"),
        pytest.param(S.REVERSED, "0.00", True, True, NextLeg.NONE, id="reversed"),
        pytest.param(S.VOID, "0.00", False, True, NextLeg.NONE, id="void"),
        pytest.param(S.SUBMITTED, "0.00", False, True, NextLeg.NONE, id="not_adjudicated"),
    ])
    def test_decision(self, status: S, pr: str, forwarded: bool, has_next: bool, expected: NextLeg) -> None:
        """The next leg is built for PR left and not forwarded, crossed over when forwarded, else nothing."""
        assert cob.next_leg(status, patient_responsibility=D(pr), forwarded=forwarded,
                            has_next_coverage=has_next) is expected

    @pytest.mark.parametrize(("code", "names", "expected"), [
        ("19", (), True), ("20", (), True), ("21", (), True), (" 19 ", (), True),
        ("1", ("TT",), True), ("2", ("QC", "TT"), True),
        ("1", (), False), ("2", ("QC", "IL", "PR"), False), ("22", (), False), ("4", (), False),
    ])
    def test_forwarded(self, code: str, names: tuple[str, ...], expected: bool) -> None:
        """CLP02 19/20/21 or a crossover carrier (NM1*TT) says the payer forwarded the claim."""
        assert cob.is_forwarded(code, names) is expected

    @pytest.mark.parametrize(("seq", "nxt"), [("P", "S"), ("S", "T"), ("T", None)])
    def test_next_sequence(self, seq: str, nxt: str | None) -> None:
        """P is followed by S, S by T, T by nobody."""
        assert cob.next_sequence(seq) == nxt


class TestCoverages:
    def test_reads_the_encounter_in_payer_order(self) -> None:
        """Primary, then the secondary and tertiary columns; a missing secondary ends the chain."""
        enc = SimpleNamespace(payer_id="AETNA", member_id="W1", relationship="self",
                              secondary_payer_id="MEDICAID", secondary_member_id="", secondary_relationship="child",
                              secondary_subscriber_last_name="HARLOW", secondary_subscriber_first_name="ROWAN",
                              secondary_subscriber_dob=date(1960, 1, 1), secondary_subscriber_sex="M",
                              tertiary_payer_id=None)
        got = cob.coverages(enc)
        assert [(x.sequence, x.payer_key, x.member_id, x.relationship) for x in got] == [
            ("P", "AETNA", "W1", "self"), ("S", "MEDICAID", "", "child")]
        assert cob.coverages(SimpleNamespace(payer_id="AETNA", member_id="W1", relationship="self",
                                             secondary_payer_id=None, tertiary_payer_id="BCBS"))[-1].sequence == "P"

    def test_subscriber_is_the_patient_when_self(self) -> None:
        """Self: the patient's name and demographics with the coverage's member id; else the coverage's subscriber."""
        assert cob.subscriber_of(CHAIN[1], ME) == Subscriber("HARLOW", "MIRA", "M77", date(1985, 4, 12), "F")
        assert cob.subscriber_of(CHAIN[2], ME) == Subscriber("HARLOW", "SAM", "B9", date(1961, 2, 3), "M")


def posting(paid: str, lines: list[tuple[int | None, str, tuple[str, ...], int, str, tuple[CasAdjustment, ...]]],
            claim_cas: tuple[CasAdjustment, ...] = (), on: date | None = date(2026, 5, 20),
            reversal: bool = False) -> Posting:
    return Posting(reversal, D(paid), on, claim_cas,
                   tuple(PostedLine(n, proc, mods, units, D(p), adj) for n, proc, mods, units, p, adj in lines))


PAID = posting("90.00", [(1, "90834", ("HO",), 1, "80.00", (c("CO", "45", "40.00"), c("PR", "2", "20.00"))),
                         (2, "90785", ("HO",), 1, "10.00", (c("CO", "45", "10.00"), c("PR", "3", "5.00")))])
REVERSAL = posting("-90.00", [(1, "90834", ("HO",), -1, "-80.00", (c("CO", "45", "-40.00"), c("PR", "2", "-20.00"))),
                              (2, "90785", ("HO",), -1, "-10.00", (c("CO", "45", "-10.00"), c("PR", "3", "-5.00")))],
                   on=date(2026, 6, 1), reversal=True)
CORRECTED = posting("95.00", [(1, "90834", ("HO", "95"), 1, "85.00", (c("CO", "45", "40.00"), c("PR", "2", "15.00"))),
                              (2, "90785", ("HO",), 1, "10.00", (c("CO", "45", "10.00"), c("PR", "3", "5.00")))],
                    on=date(2026, 6, 1))


class TestNetAdjudication:
    def test_one_posting(self) -> None:
        """One posting is taken as it is: AMT*D its paid, lines as its SVC, the 835 date."""
        net = cob.net_adjudication("P", "AETNA", [PAID])
        assert (net.paid, net.adjudication_date, net.adjustments) == (D("90.00"), date(2026, 5, 20), ())
        assert net.lines[1] == cob.LineResult("90834", ("HO",), 1, D("80.00"),
                                              (c("CO", "45", "40.00"), c("PR", "2", "20.00")))

    def test_reversal_and_correction_net_out(self) -> None:
        """Payment, its reversal and a correction: the net amounts, the correction's line shape and date."""
        net = cob.net_adjudication("P", "AETNA", [PAID, REVERSAL, CORRECTED])
        assert (net.paid, net.adjudication_date) == (D("95.00"), date(2026, 6, 1))
        assert net.lines[1] == cob.LineResult("90834", ("HO", "95"), 1, D("85.00"),
                                              (c("CO", "45", "40.00"), c("PR", "2", "15.00")))

    def test_reversal_alone_nets_to_nothing(self) -> None:
        """A payment and its reversal leave nothing paid and no adjustment (zero sums are dropped)."""
        net = cob.net_adjudication("P", "AETNA", [PAID, REVERSAL])
        assert net.paid == D("0.00") and net.lines[1].adjustments == () and net.lines[1].units == 1

    def test_claim_level_cas_and_unmatched_lines(self) -> None:
        """Claim-level CAS is netted by group and reason; an 835 line matching none of ours is left out."""
        p1 = posting("17.00", [(1, "90834", (), 1, "15.00", ()), (None, "99999", (), 1, "3.00", ())],
                     claim_cas=(c("OA", "94", "0.50"), c("OA", "94", "0.50"), c("PR", "1", "0.00")))
        net = cob.net_adjudication("S", "MEDICAID", [p1])
        assert net.adjustments == (c("OA", "94", "1.00"),) and set(net.lines) == {1}

    def test_no_posting(self) -> None:
        """A leg never posted adjudicated nothing: no lines, nothing paid, no date."""
        net = cob.net_adjudication("P", "AETNA", [])
        assert (net.paid, net.adjudication_date, dict(net.lines)) == (D("0.00"), None, {})


PRIOR_P = cob.net_adjudication("P", "AETNA", [PAID])
PRIOR_S = cob.net_adjudication("S", "MEDICAID", [posting(
    "17.00", [(1, "90834", ("HO",), 1, "15.00", (c("OA", "23", "120.00"), c("PR", "1", "5.00"))),
              (2, "90785", ("HO",), 1, "3.00", (c("OA", "23", "20.00"), c("PR", "3", "2.00")))],
    claim_cas=(c("OA", "94", "1.00"),), on=date(2026, 6, 2))])


class TestOtherPayers:
    @pytest.mark.parametrize(("billed", "priors", "expected"), [
        pytest.param("P", {}, [("S", "SKCA0", None, None), ("T", "00060", None, None)], id="primary_names_both"),
        pytest.param("S", {"P": PRIOR_P}, [("P", "60054", D("90.00"), date(2026, 5, 20)), ("T", "00060", None, None)],
                     id="secondary_earlier_with_amounts_later_without"),
        pytest.param("T", {"P": PRIOR_P, "S": PRIOR_S},
                     [("P", "60054", D("90.00"), date(2026, 5, 20)), ("S", "SKCA0", D("17.00"), date(2026, 6, 2))],
                     id="tertiary_both_earlier"),
    ])
    def test_loops_2320(self, billed: str, priors: dict[str, cob.PriorAdjudication],
                        expected: list[tuple[Any, ...]]) -> None:
        """Every other coverage in payer order: earlier payers with AMT*D and date, later ones without amounts."""
        got = cob.other_payers(billed, CHAIN, PAYERS, priors, ME)
        assert [(o.sequence, o.payer.payer_id, o.paid, o.adjudication_date) for o in got] == expected

    def test_claim_cas_relationship_and_subscriber(self) -> None:
        """2320 carries the payer's claim-level CAS; 2330A the coverage's subscriber and relationship."""
        got = cob.other_payers("T", CHAIN, PAYERS, {"P": PRIOR_P, "S": PRIOR_S}, ME)
        assert got[1].adjustments == (c("OA", "94", "1.00"),) and got[0].adjustments == ()
        assert (got[0].relationship, got[0].subscriber.member_id, got[0].payer.claim_filing_indicator) == (
            "self", "W1", "CI")
        spouse = cob.other_payers("S", CHAIN, PAYERS, {"P": PRIOR_P}, ME)[1]
        assert (spouse.relationship, spouse.subscriber.first_name) == ("spouse", "SAM")

    def test_later_coverage_without_member_id_is_left_out(self) -> None:
        """A later coverage with no member id cannot fill 2330A: it is not listed (its own leg is held)."""
        chain = (CHAIN[0], Coverage("S", "MEDICAID", " ", "self"))
        assert cob.other_payers("P", chain, PAYERS, {}, ME) == ()

    def test_unknown_payer_raises(self) -> None:
        """A coverage whose payer is not configured cannot be written."""
        with pytest.raises(KeyError):
            cob.other_payers("P", (CHAIN[0], Coverage("S", "CIGNA", "X1", "self")), PAYERS, {}, ME)


class TestLineAdjudications:
    def test_one_2430_per_earlier_payer(self) -> None:
        """Each earlier payer that adjudicated the line gives a 2430 with its payer id, SVC shape, paid, CAS, date."""
        got = cob.line_adjudications(1, [PRIOR_P, PRIOR_S], PAYERS)
        assert [(a.payer_id, a.procedure, a.modifiers, a.units, a.paid, a.adjudication_date) for a in got] == [
            ("60054", "90834", ("HO",), 1, D("80.00"), date(2026, 5, 20)),
            ("SKCA0", "90834", ("HO",), 1, D("15.00"), date(2026, 6, 2))]
        assert got[1].adjustments == (c("OA", "23", "120.00"), c("PR", "1", "5.00"))

    def test_a_line_the_payer_did_not_adjudicate_has_no_2430(self) -> None:
        """A line an earlier payer's 835 did not mention gets no 2430 from it."""
        assert cob.line_adjudications(3, [PRIOR_P], PAYERS) == ()


def claim(billed: str, lines: list[tuple[str, int]], priors: list[cob.PriorAdjudication]) -> Claim837:
    chain = tuple(x for x in CHAIN if x.sequence in {p.sequence for p in priors} | {billed})
    return Claim837(
        claim_id="C1", place_of_service="11", diagnoses=("F331",), subscriber=ME, payer=PAYERS["MEDICAID"],
        payer_sequence=billed, other_payers=cob.other_payers(billed, chain, PAYERS, {p.sequence: p for p in priors}, ME),
        lines=tuple(ServiceLine("90834", D(charge), date(2026, 5, 4), f"L{n}",
                                adjudications=cob.line_adjudications(n, priors, PAYERS))
                    for charge, n in lines))


class TestBalance:
    @pytest.mark.parametrize(("billed", "lines", "priors", "balanced"), [
        pytest.param("S", [("140.00", 1), ("25.00", 2)], [PRIOR_P], True, id="secondary_balances"),
        pytest.param("T", [("140.00", 1), ("25.00", 2)], [PRIOR_P, PRIOR_S], True, id="tertiary_with_claim_cas"),
        pytest.param("S", [("150.00", 1), ("25.00", 2)], [PRIOR_P], False, id="line_charge_differs"),
        pytest.param("S", [("140.00", 1), ("25.00", 2), ("25.00", 3)], [PRIOR_P], False,
                     id="line_the_payer_did_not_adjudicate"),
        pytest.param("S", [("140.00", 1), ("25.00", 2)], [cob.net_adjudication("P", "AETNA", [PAID, REVERSAL])],
                     False, id="reversed_prior_nets_to_nothing"),
    ])
    def test_line_balance(self, billed: str, lines: list[tuple[str, int]], priors: list[cob.PriorAdjudication],
                          balanced: bool) -> None:
        """A next leg balances when each line's charge = SVD02 + its CAS for every earlier payer (the 837P
        builder's rule, :func:`edi.x837p.line_balance_errors`), else it would be held COB_UNBALANCED."""
        errors = line_balance_errors(claim(billed, lines, priors))
        assert (errors == []) is balanced, errors
        holds = cob.next_leg_holds(member_id="M77", deadline=date(2027, 1, 1), as_of=date(2026, 6, 1),
                                   eligibility_inactive=False, balance_errors=errors)
        assert holds == (() if balanced else (cob.COB_UNBALANCED,))


class TestHolds:
    @pytest.mark.parametrize(("kw", "expected"), [
        pytest.param({}, (), id="none"),
        pytest.param({"member_id": " "}, ("MEMBER_ID_MISSING",), id="member_id_missing"),
        pytest.param({"as_of": date(2027, 1, 2)}, ("TIMELY_FILING_EXPIRED",), id="past_deadline"),
        pytest.param({"as_of": date(2027, 1, 1)}, (), id="on_the_deadline_is_in_time"),
        pytest.param({"eligibility_inactive": True}, ("ELIGIBILITY_INACTIVE",), id="inactive"),
        pytest.param({"prior_reversed": True}, ("PRIOR_PAYER_REVERSED",), id="prior_reversed"),
        pytest.param({"member_id": "", "eligibility_inactive": True, "balance_errors": ["x"],
                      "as_of": date(2027, 2, 1)},
                     ("MEMBER_ID_MISSING", "TIMELY_FILING_EXPIRED", "ELIGIBILITY_INACTIVE", "COB_UNBALANCED"),
                     id="all_in_order"),
    ])
    def test_next_leg_holds(self, kw: dict[str, Any], expected: tuple[str, ...]) -> None:
        """Every hold that applies to a next leg, against its own payer, in the listed order."""
        args: dict[str, Any] = {"member_id": "M77", "deadline": date(2027, 1, 1), "as_of": date(2026, 6, 1),
                                "eligibility_inactive": False, "balance_errors": []} | kw
        assert cob.next_leg_holds(**args) == expected

    @pytest.mark.parametrize(("prior", "days", "expected"), [
        (date(2026, 9, 1), 365, date(2027, 9, 1)),
        (None, 365, date(2027, 5, 4)),
        (date(2026, 5, 20), 90, date(2026, 8, 18)),
    ])
    def test_deadline_counts_from_the_previous_835(self, prior: date | None, days: int, expected: date) -> None:
        """A next leg's deadline is the previous payer's 835 date (else the date of service) + the next payer's days."""
        assert cob.next_leg_deadline(date(2026, 5, 4), days, prior) == expected


class TestPatientBalance:
    @pytest.mark.parametrize(("legs", "expected"), [
        pytest.param([], "0.00", id="no_leg"),
        pytest.param([(1, "P", "submitted", "0.00")], "0.00", id="nothing_adjudicated"),
        pytest.param([(1, "P", "paid", "25.00")], "25.00", id="primary_only"),
        pytest.param([(1, "P", "paid", "25.00"), (2, "S", "submitted", "0.00")], "25.00",
                     id="secondary_not_adjudicated_yet"),
        pytest.param([(1, "P", "paid", "25.00"), (2, "S", "paid", "7.00")], "7.00", id="after_secondary"),
        pytest.param([(1, "P", "paid", "25.00"), (2, "S", "patient_responsibility", "25.00"),
                      (3, "T", "paid", "1.00")], "1.00", id="after_tertiary"),
        pytest.param([(1, "P", "paid", "25.00"), (2, "S", "crossed_over", "0.00")], "25.00", id="crossed_over_awaits"),
        pytest.param([(1, "P", "denied", "0.00"), (5, "P", "paid", "20.00")], "20.00", id="newest_of_a_sequence"),
        pytest.param([(1, "P", "paid", "25.00"), (2, "S", "reversed", "0.00")], "25.00", id="reversed_is_not_last"),
    ])
    def test_balance(self, legs: list[tuple[int, str, str, str]], expected: str) -> None:
        """The patient owes the patient responsibility of the last payer in the chain that adjudicated."""
        assert cob.patient_balance((pk, seq, st, D(pr)) for pk, seq, st, pr in legs) == D(expected)
