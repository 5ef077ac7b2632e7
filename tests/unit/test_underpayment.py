"""Underpayment rules (pipelines.rules.underpayment) as tables of cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edi.x835 import Adjustment as Adj
from pipelines.rules.denials import ACTIONS, CATEGORIES
from pipelines.rules.lifecycle import ClaimStatus
from pipelines.rules.underpayment import (
    UNDERPAID,
    UNDERPAID_ACTION,
    Change,
    Item,
    amount_short,
    contract_rate,
    reconcile,
    underpaid_reason,
)

D = Decimal
S = ClaimStatus
RATES = {"90837": D("142.50"), "90834": D("98.00"), "h0004": D("30.00")}


class TestContractRate:
    @pytest.mark.parametrize(("procedure", "expected"), [
        pytest.param("90837", D("142.50"), id="exact"),
        pytest.param(" 90837 ", D("142.50"), id="trimmed"),
        pytest.param("H0004", D("30.00"), id="key_compared_upper_case"),
        pytest.param("90791", None, id="no_rate_for_the_code"),
    ])
    def test_rate(self, procedure: str, expected: Decimal | None) -> None:
        assert contract_rate(RATES, procedure) == expected


class TestAmountShort:
    @pytest.mark.parametrize(("procedure", "units", "paid", "patient", "status", "expected"), [
        pytest.param("90837", 1, "100.00", "20.00", S.PAID, D("22.50"), id="paid_plus_pr_below_rate"),
        pytest.param("90837", 1, "122.50", "20.00", S.PAID, None, id="at_rate"),
        pytest.param("90837", 1, "130.00", "20.00", S.PAID, None, id="above_rate"),
        pytest.param("90837", 1, "122.49", "20.00", S.PAID, None, id="one_cent_short_is_not_short"),
        pytest.param("90837", 1, "122.48", "20.00", S.PAID, D("0.02"), id="two_cents_short"),
        pytest.param("H0004", 4, "100.00", "0", S.PAID, D("20.00"), id="rate_times_units"),
        pytest.param("H0004", 4, "120.00", "0", S.PAID, None, id="rate_times_units_met"),
        pytest.param("90791", 1, "10.00", "0", S.PAID, None, id="no_rate_no_item"),
        pytest.param("90837", 1, "0", "0", S.PAID, None, id="denied_line_of_a_paid_claim"),
        pytest.param("90837", 1, "0", "0", S.DENIED, None, id="denied_claim"),
        pytest.param("90837", 1, "0", "50.00", S.PATIENT_RESPONSIBILITY, D("92.50"),
                     id="all_to_the_deductible_is_allowed"),
        pytest.param("90837", 1, "0", "0", S.REVERSED, None, id="reversed_nets_to_nothing"),
        pytest.param("90837", 1, "100.00", "0", S.REVERSED, None, id="reversed_claim_never_short"),
        pytest.param("90837", 1, "100.00", "0", S.VOID, None, id="void_claim_never_short"),
        pytest.param("90837", 1, "-5.00", "0", S.PAID, None, id="negative_net_is_not_allowed"),
        pytest.param("90837", 0, "100.00", "0", S.PAID, None, id="no_units"),
        pytest.param("90837", 1, "100.00", "0", "paid", D("42.50"), id="status_as_text"),
    ])
    def test_amount_short(self, procedure: str, units: int, paid: str, patient: str, status: ClaimStatus | str,
                          expected: Decimal | None) -> None:
        assert amount_short(RATES, procedure=procedure, units=units, paid=D(paid), patient=D(patient),
                            status=status) == expected


class TestUnderpaidReason:
    @pytest.mark.parametrize(("adjustments", "expected"), [
        pytest.param([Adj("CO", "45", D("60")), Adj("PR", "3", D("20"))], "45", id="contractual"),
        pytest.param([Adj("CO", "45", D("10")), Adj("CO", "253", D("30"))], "253", id="largest_co"),
        pytest.param([Adj("CO", "45", D("10")), Adj("CO", "59", D("10"))], "45", id="first_of_equals"),
        pytest.param([Adj("PR", "1", D("50")), Adj("OA", "23", D("80"))], "45", id="no_co_default_45"),
        pytest.param([Adj("CO", "45", D("-60"))], "45", id="negative_co_ignored"),
        pytest.param([], "45", id="no_adjustments"),
    ])
    def test_reason(self, adjustments: list[Adj], expected: str) -> None:
        assert underpaid_reason(adjustments) == expected


class TestReconcile:
    @pytest.mark.parametrize(("short", "item", "expected"), [
        pytest.param(None, None, None, id="not_short_no_item"),
        pytest.param(D("22.50"), None, Change("open", D("22.50"), "open"), id="short_opens_an_item"),
        pytest.param(D("22.50"), Item(D("22.50"), "open"), None, id="same_amount_nothing_duplicated"),
        pytest.param(D("10.00"), Item(D("22.50"), "open"), Change("update", D("10.00"), "open"),
                     id="amount_follows_the_net"),
        pytest.param(D("10.00"), Item(D("22.50"), "appealed"), Change("update", D("10.00"), "appealed"),
                     id="state_kept_when_amount_changes"),
        pytest.param(D("22.50"), Item(D("22.50"), "appealed"), None, id="appealed_same_amount"),
        pytest.param(None, Item(D("22.50"), "open"), Change("close", D("22.50"), "closed"),
                     id="reversal_or_full_payment_closes"),
        pytest.param(None, Item(D("22.50"), "appealed"), Change("close", D("22.50"), "closed"),
                     id="appeal_won_closes"),
        pytest.param(None, Item(D("22.50"), "closed"), None, id="closed_stays_closed"),
        pytest.param(D("22.50"), Item(D("22.50"), "closed"), Change("update", D("22.50"), "open"),
                     id="short_again_after_a_correction_reopens"),
    ])
    def test_reconcile(self, short: Decimal | None, item: Item | None, expected: Change | None) -> None:
        assert reconcile(short, item) == expected


def test_category_and_action_are_known() -> None:
    """The underpaid item's category and action are in the denial queue's lists."""
    assert UNDERPAID in CATEGORIES and UNDERPAID_ACTION in ACTIONS
