"""Deposit lines and which deposit pays which 835 (pipelines.rules.deposits), as tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipelines.rules.deposits import (
    DepositLine,
    DepositRef,
    DepositRowError,
    RemittanceRef,
    expects_deposit,
    match_deposits,
    normalize_trace,
    parse_amount,
    parse_deposit_date,
    parse_deposit_row,
)

D = Decimal


class TestNormalizeTrace:
    @pytest.mark.parametrize(("reference", "expected"), [
        ("12345", "12345"),
        ("  12345 ", "12345"),
        ("0000012345", "12345"),
        ("eft12345", "EFT12345"),
        (" 000ab 123 ", "AB123"),
        ("1234-5678", "1234-5678"),
        ("100", "100"),
        ("000", ""),
        ("", ""),
    ])
    def test_spaces_case_and_leading_zeros(self, reference: str, expected: str) -> None:
        assert normalize_trace(reference) == expected


class TestParseAmount:
    @pytest.mark.parametrize(("text", "expected"), [
        ("1234.56", D("1234.56")),
        ("1234.5", D("1234.50")),
        ("1234", D("1234.00")),
        ("$1,234.56", D("1234.56")),
        ("1,234,567.00", D("1234567.00")),
        ("-25.00", D("-25.00")),
        ("+25", D("25.00")),
        (" 0.01 ", D("0.01")),
    ])
    def test_good(self, text: str, expected: Decimal) -> None:
        got = parse_amount(text)
        assert got == expected and got.as_tuple().exponent == -2

    @pytest.mark.parametrize(("text", "message"), [
        ("12.345", "more than two decimals"),
        ("1,234.567", "more than two decimals"),
        ("0.00", "zero"),
        ("abc", "not an amount"),
        ("12,34.00", "not an amount"),
        ("1.2.3", "not an amount"),
        ("12e3", "not an amount"),
        ("--5", "not an amount"),
    ])
    def test_bad(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            parse_amount(text)


class TestParseDate:
    @pytest.mark.parametrize(("text", "expected"), [
        ("2026-11-20", date(2026, 11, 20)),
        ("11/20/2026", date(2026, 11, 20)),
        ("1/2/2026", date(2026, 1, 2)),
    ])
    def test_good(self, text: str, expected: date) -> None:
        assert parse_deposit_date(text) == expected

    @pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "20261120", "20/11/2026", "2026/11/20", "x"])
    def test_bad(self, text: str) -> None:
        with pytest.raises(ValueError, match="not a date"):
            parse_deposit_date(text)


class TestParseRow:
    def test_good_row(self) -> None:
        assert parse_deposit_row({"date": "2026-11-20", "amount": "$1,200.00", "reference": " 00EFT77 "}) == \
            DepositLine(date(2026, 11, 20), D("1200.00"), "00EFT77", "EFT77")

    @pytest.mark.parametrize(("row", "fields"), [
        ({"date": "", "amount": "1.00", "reference": "T1"}, ["date"]),
        ({"date": "2026-11-20", "amount": "", "reference": "T1"}, ["amount"]),
        ({"date": "2026-11-20", "amount": "1.00", "reference": " "}, ["reference"]),
        ({"date": "2026-11-20", "amount": "1.00", "reference": "000"}, ["reference"]),
        ({"date": "2026-11-20", "amount": "1.00", "reference": "T" * 81}, ["reference"]),
        ({"date": "soon", "amount": "lots", "reference": None}, ["date", "amount", "reference"]),
    ])
    def test_every_bad_field_is_named(self, row: dict[str, str | None], fields: list[str]) -> None:
        with pytest.raises(DepositRowError) as err:
            parse_deposit_row(row)
        assert err.value.fields == fields


def dep(id: int, trace: str, amount: str, day: int = 20) -> DepositRef:
    return DepositRef(id, date(2026, 11, day), D(amount), normalize_trace(trace))


def rem(id: int, trace: str, amount: str, day: int | None = 18) -> RemittanceRef:
    return RemittanceRef(id, trace, D(amount), date(2026, 11, day) if day else None)


class TestMatch:
    @pytest.mark.parametrize(("deposits", "remittances", "taken", "expected"), [
        pytest.param([dep(1, "EFT1", "100.00")], [rem(10, "EFT1", "100.00")], (), {1: 10}, id="trace_and_amount"),
        pytest.param([dep(1, "EFT1", "100.00")], [rem(10, "EFT1", "100.01")], (), {}, id="amount_differs"),
        pytest.param([dep(1, "EFT1", "100.00")], [rem(10, "EFT2", "100.00")], (), {}, id="trace_differs"),
        pytest.param([dep(1, "0000eft1", "100.00")], [rem(10, "EFT1", "100.00")], (), {1: 10},
                     id="normalized_on_the_bank_side"),
        pytest.param([dep(1, "EFT1", "100.00")], [rem(10, " 00eft1", "100.00")], (), {1: 10},
                     id="normalized_on_the_835_side"),
        pytest.param([dep(1, "EFT1", "-40.00")], [rem(10, "EFT1", "-40.00")], (), {1: 10}, id="debit_matches_debit"),
        pytest.param([dep(1, "EFT1", "40.00")], [rem(10, "EFT1", "-40.00")], (), {}, id="sign_matters"),
        pytest.param([dep(1, "EFT1", "100.00")], [rem(10, "EFT1", "100.00")], (10,), {}, id="835_already_paid"),
        pytest.param([dep(1, "EFT1", "100.00"), dep(2, "EFT1", "100.00", day=21)], [rem(10, "EFT1", "100.00")], (),
                     {1: 10}, id="one_deposit_per_835_earliest_deposit_wins"),
        pytest.param([dep(2, "EFT1", "100.00"), dep(1, "EFT1", "100.00")], [rem(10, "EFT1", "100.00")], (),
                     {1: 10}, id="same_day_lowest_deposit_id_wins"),
        pytest.param([dep(1, "EFT1", "100.00"), dep(2, "EFT1", "100.00", day=21)],
                     [rem(10, "EFT1", "100.00"), rem(11, "EFT1", "100.00")], (), {1: 10, 2: 11},
                     id="two_payers_same_trace_two_deposits"),
        pytest.param([dep(1, "EFT1", "100.00", day=20)],
                     [rem(10, "EFT1", "100.00", day=2), rem(11, "EFT1", "100.00", day=19)], (), {1: 11},
                     id="nearest_payment_date_wins"),
        pytest.param([dep(1, "EFT1", "100.00", day=20)],
                     [rem(10, "EFT1", "100.00", day=None), rem(11, "EFT1", "100.00", day=1)], (), {1: 11},
                     id="missing_payment_date_is_farthest"),
        pytest.param([dep(1, "EFT1", "100.00")],
                     [rem(11, "EFT1", "100.00", day=18), rem(10, "EFT1", "100.00", day=22)], (), {1: 10},
                     id="equal_distance_lowest_835_id"),
        pytest.param([], [rem(10, "EFT1", "100.00")], (), {}, id="no_deposits"),
    ])
    def test_table(self, deposits: list[DepositRef], remittances: list[RemittanceRef], taken: tuple[int, ...],
                   expected: dict[int, int]) -> None:
        assert match_deposits(deposits, remittances, taken) == expected

    def test_an_835_without_money_expects_no_deposit(self) -> None:
        assert not expects_deposit(D("0.00"))
        assert expects_deposit(D("0.01")) and expects_deposit(D("-0.01"))
        assert match_deposits([dep(1, "EFT1", "0.00")], [rem(10, "EFT1", "0.00")]) == {}
