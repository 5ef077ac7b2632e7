"""Remittance and acknowledgment rules (pipelines.rules.remittance) as tables of cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from edi.x835 import Adjustment as Adj
from edi.x835 import ClaimPayment as Clp
from edi.x835 import ServiceLine
from pipelines.rules.lifecycle import ClaimStatus, Event
from pipelines.rules.remittance import (
    REASON_MAX,
    DenialItem,
    StoredClaim,
    StoredLine,
    acknowledgment_event,
    claim_key,
    clip_reason,
    control_key,
    denial_items,
    explains_status,
    is_denial,
    match_lines,
    normalize_claim_id,
    patient_share,
    posting_outcome,
    truncated_prefix,
)

D = Decimal
S, E = ClaimStatus, Event


class TestClaimIds:
    @pytest.mark.parametrize(("value", "expected"), [
        pytest.param("C000123", "C123", id="leading_zeros_of_the_number_dropped"),
        pytest.param(" c000123 ", "C123", id="trimmed_and_upper_case"),
        pytest.param("00C000500", "C500", id="zero_padding_dropped"),
        pytest.param("000123", "123", id="all_digits"),
        pytest.param("C10020", "C10020", id="inner_zeros_kept"),
        pytest.param("A0B007", "A0B7", id="every_number_part_a_lone_zero_kept"),
        pytest.param("   ", "", id="blank"),
    ])
    def test_normalize_claim_id(self, value: str, expected: str) -> None:
        """A CLP01 is compared trimmed, upper case, without padding or leading zeros of its numbers."""
        assert normalize_claim_id(value) == expected

    @pytest.mark.parametrize(("value", "expected"), [
        pytest.param(" c000123 ", "C000123", id="trimmed_upper_zeros_kept"),
        pytest.param("C000123", "C000123", id="unchanged"),
    ])
    def test_claim_key(self, value: str, expected: str) -> None:
        """A 277 or 999 claim id is compared with ours trimmed and upper case, zeros kept."""
        assert claim_key(value) == expected

    @pytest.mark.parametrize(("value", "expected"), [
        pytest.param("sunrise000001234", "SUNRISE000001234", id="long_enough"),
        pytest.param(" ab12 ", "AB12", id="four_characters"),
        pytest.param("AB1", None, id="too_short"),
    ])
    def test_truncated_prefix(self, value: str, expected: str | None) -> None:
        """A truncated CLP01 is tried as a prefix only when it has at least four characters."""
        assert truncated_prefix(value) == expected

    @pytest.mark.parametrize(("value", "expected"), [
        pytest.param(" 000001002", "1002", id="padding_dropped"),
        pytest.param("0000", "0", id="zero"),
        pytest.param(1002, "1002", id="int"),
        pytest.param(None, "", id="none"),
        pytest.param("A001", "A001", id="not_a_number_kept"),
    ])
    def test_control_key(self, value: str | int | None, expected: str) -> None:
        """Control numbers are compared without spaces or zero padding."""
        assert control_key(value) == expected

    @pytest.mark.parametrize(("length", "clipped"), [(REASON_MAX, False), (REASON_MAX + 1, True)])
    def test_clip_reason(self, length: int, clipped: bool) -> None:
        """A reason longer than the column is cut to its size and ends in an ellipsis."""
        out = clip_reason("x" * length)
        assert len(out) == min(length, REASON_MAX) and out.endswith("...") is clipped


def _stored(*lines: tuple[str, str, tuple[str, ...], str]) -> StoredClaim:
    return StoredClaim(1, "C1", "1", "submitted", [
        StoredLine(pk, lcn, proc, mods, D(charge), D("0")) for pk, (lcn, proc, mods, charge) in enumerate(lines, 10)])


def _svc(proc: str, charge: str, lcn: str | None = None, mods: tuple[str, ...] = (), paid: str = "0",
         adjustments: tuple[Adj, ...] = (), remarks: tuple[str, ...] = ()) -> ServiceLine:
    return ServiceLine(proc, D(charge), D(paid), modifiers=mods, line_control_number=lcn, adjustments=adjustments,
                       remarks=remarks)


class TestMatchLines:
    @pytest.mark.parametrize(("stored", "lines", "expected"), [
        pytest.param([("L1", "90837", (), "180"), ("L2", "90791", (), "250")],
                     [_svc("90791", "250", "L2"), _svc("90837", "180", "L1")], [11, 10], id="by_ref_6r"),
        pytest.param([("L1", "90837", ("95",), "180")], [_svc("90837", "180", "LX", ("95",))], [10],
                     id="unknown_ref_falls_back_to_procedure_modifiers_charge"),
        pytest.param([("L1", "90837", ("95",), "180")], [_svc("90837", "180", None, ())], [None],
                     id="modifiers_must_match"),
        pytest.param([("L1", "90837", (), "180")], [_svc("90837", "150")], [None], id="charge_must_match"),
        pytest.param([("L1", "90837", (), "180"), ("L2", "90837", (), "180")],
                     [_svc("90837", "180"), _svc("90837", "180"), _svc("90837", "180")], [10, 11, None],
                     id="each_stored_line_used_once"),
        pytest.param([("L1", "90837", (), "180")], [_svc("90837", "-180")], [10], id="reversal_negative_charge"),
    ])
    def test_match_lines(self, stored: list[tuple[str, str, tuple[str, ...], str]], lines: list[ServiceLine],
                         expected: list[int | None]) -> None:
        """Each 835 line finds our line by REF*6R, else by procedure, modifiers and charge, each line once."""
        hits = match_lines(_stored(*stored), lines)
        assert [h.pk if h is not None else None for h in hits] == expected


class TestPostingOutcome:
    @pytest.mark.parametrize(("kwargs", "expected"), [
        pytest.param({"net_paid": D("10")}, E.POSTED_PAID, id="paid_when_net_positive"),
        pytest.param({"net_adjustments": {("CO", "197"): D("180")}}, E.POSTED_DENIED, id="denied_co_other_than_45"),
        pytest.param({"net_adjustments": {("PI", "50"): D("180")}}, E.POSTED_DENIED, id="denied_pi"),
        pytest.param({"net_adjustments": {("OA", "23"): D("-5")}}, E.POSTED_DENIED, id="denied_negative_remaining"),
        pytest.param({"net_adjustments": {("CO", "45"): D("80"), ("PR", "1"): D("100")}, "net_patient": D("100")},
                     E.POSTED_PATIENT_RESPONSIBILITY, id="patient_responsibility_when_rest_is_pr"),
        pytest.param({"net_adjustments": {("CO", "197"): D("0"), ("PR", "1"): D("100")}, "net_patient": D("100")},
                     E.POSTED_PATIENT_RESPONSIBILITY, id="netted_out_denial_does_not_count"),
        pytest.param({"net_adjustments": {("CO", "45"): D("180")}}, E.POSTED_DENIED,
                     id="nothing_paid_nothing_owed_is_denied"),
        pytest.param({"net_adjustments": {("CO", "45"): D("0"), ("PR", "1"): D("0")}, "last_is_reversal": True},
                     E.POSTED_REVERSED, id="reversed_when_last_is_reversal_netting_zero"),
        pytest.param({"net_paid": D("10"), "last_is_reversal": True}, E.POSTED_PAID,
                     id="partial_reversal_leaving_money_is_paid"),
        pytest.param({"net_paid": D("10"), "frequency_code": "8"}, E.POSTED_VOID, id="void_for_frequency_8"),
        pytest.param({"net_paid": D("130"), "last_is_reversal": False}, E.POSTED_PAID, id="correction_after_reversal"),
    ])
    def test_table(self, kwargs: dict[str, Any], expected: Event) -> None:
        """The posting event follows CONTRACT section 6 from the net of every posting."""
        args: dict[str, Any] = {"frequency_code": "1", "net_paid": D("0"), "last_is_reversal": False,
                                "net_adjustments": {}, "net_patient": D("0")} | kwargs
        assert posting_outcome(**args) is expected

    def test_patient_share_is_the_net_of_pr(self) -> None:
        """What the patient owes is the sum of the PR adjustments only."""
        assert patient_share({("PR", "1"): D("100"), ("PR", "2"): D("-20"), ("CO", "45"): D("80")}) == D("80")

    @pytest.mark.parametrize(("group", "reason", "expected"), [
        ("CO", "197", True), ("OA", "23", True), ("PI", "50", True), ("CO", "45", False), ("PR", "1", False),
    ])
    def test_is_denial(self, group: str, reason: str, expected: bool) -> None:
        """CO, OA and PI adjustments deny money, except the contractual CARC 45."""
        assert is_denial(group, reason) is expected


CO197 = Adj("CO", "197", D("180"))
CO45 = Adj("CO", "45", D("30"))


def _clp(*lines: ServiceLine, status: str = "1", adjustments: tuple[Adj, ...] = (),
         remarks: tuple[str, ...] = ()) -> Clp:
    charge = sum((ln.charge for ln in lines), D("0"))
    paid = sum((ln.paid for ln in lines), D("0"))
    return Clp("C1", status, charge, paid, D("0"), "12", "PCN", adjustments=adjustments,
               moa=("", "", *remarks) if remarks else (), lines=lines)  # MOA03.. are the claim's remarks


class TestDenialItems:
    @pytest.mark.parametrize(("clp", "status", "expected"), [
        pytest.param(_clp(_svc("90837", "180", adjustments=(CO197,), remarks=("N54",))), S.DENIED,
                     [DenialItem(0, "CO", "197", D("180"), ("N54",), "authorization", "correct_and_resubmit")],
                     id="denied_line_with_its_remarks"),
        pytest.param(_clp(_svc("90837", "180", adjustments=(CO197,)), adjustments=(Adj("OA", "23", D("5")),),
                          remarks=("MA01",)), S.DENIED,
                     [DenialItem(None, "OA", "23", D("5"), ("MA01",), "coordination_of_benefits",
                                 "verify_eligibility"),
                      DenialItem(0, "CO", "197", D("180"), ("MA01",), "authorization", "correct_and_resubmit")],
                     id="claim_level_first_line_takes_claim_remarks"),
        pytest.param(_clp(_svc("90837", "180", paid="150", adjustments=(CO45,)),
                          _svc("90791", "250", adjustments=(Adj("CO", "50", D("250")),))), S.PAID,
                     [DenialItem(1, "CO", "50", D("250"), (), "medical_necessity", "appeal")],
                     id="paid_claim_only_lines_paid_nothing"),
        pytest.param(_clp(_svc("90837", "180", adjustments=(CO45, Adj("PR", "1", D("150"))))),
                     S.PATIENT_RESPONSIBILITY, [], id="patient_responsibility_opens_none"),
        pytest.param(_clp(_svc("90837", "-180", adjustments=(Adj("CO", "197", D("-180")),)), status="22"),
                     S.DENIED, [], id="reversal_opens_none"),
        pytest.param(_clp(_svc("90837", "180", adjustments=(Adj("CO", "197", D("-5")), CO45))), S.DENIED, [],
                     id="negative_and_contractual_amounts_open_none"),
    ])
    def test_table(self, clp: Clp, status: ClaimStatus, expected: list[DenialItem]) -> None:
        """A posting opens one work item per positive CO/OA/PI adjustment (not CARC 45) the claim's status calls for."""
        assert denial_items(clp, status) == expected


class TestAcknowledgments:
    @pytest.mark.parametrize(("rejected", "categories", "expected"), [
        pytest.param(False, ["A1"], E.ACK_ACCEPTED, id="received"),
        pytest.param(False, ["A2"], E.ACK_ACCEPTED, id="accepted"),
        pytest.param(False, ["A5"], E.ACK_ACCEPTED, id="split"),
        pytest.param(True, ["A3"], E.ACK_REJECTED, id="rejected"),
        pytest.param(True, ["A2", "A7"], E.ACK_REJECTED, id="rejection_wins"),
        pytest.param(False, ["A0"], None, id="forwarded_says_nothing"),
        pytest.param(False, [], None, id="no_status"),
    ])
    def test_acknowledgment_event(self, rejected: bool, categories: list[str], expected: Event | None) -> None:
        """A 277CA rejects a claim on any rejection category, accepts it on A1, A2 or A5, else says nothing."""
        assert acknowledgment_event(rejected=rejected, categories=categories) is expected

    @pytest.mark.parametrize(("status", "rejected", "categories", "expected"), [
        pytest.param("submitted", True, ["A7"], True, id="rejection_on_a_sent_claim"),
        pytest.param("accepted", False, ["F2"], True, id="finalized_denial_on_an_accepted_claim"),
        pytest.param("denied", False, ["F2"], True, id="finalized_denial_on_a_denied_claim"),
        pytest.param("rejected", True, ["A3"], True, id="rejection_on_a_rejected_claim"),
        pytest.param("accepted", False, ["F1"], False, id="finalized_payment_says_nothing"),
        pytest.param("paid", True, ["A7"], False, id="paid_claim_keeps_its_reason"),
        pytest.param("held", True, ["A7"], False, id="unsent_claim_keeps_its_reason"),
    ])
    def test_explains_status(self, status: str, rejected: bool, categories: list[str], expected: bool) -> None:
        """A 277 rejection or finalized denial becomes the reason of a claim sent and not paid, or denied."""
        assert explains_status(status, rejected=rejected, categories=categories) is expected
