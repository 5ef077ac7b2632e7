"""NPI check digit (Luhn over the prefix 80840)."""

from __future__ import annotations

import pytest

from pipelines.rules.npi import is_valid_npi, npi_check_digit


class TestNpiCheckDigit:
    @pytest.mark.parametrize(
        ("npi", "valid"),
        [
            pytest.param("1234567893", True, id="cms_example_valid"),
            pytest.param("1245319599", True, id="second_valid_npi"),
            pytest.param("1234567890", False, id="wrong_check_digit"),
            pytest.param("1234567894", False, id="check_digit_off_by_one"),
            pytest.param("123456789", False, id="nine_digits"),
            pytest.param("12345678931", False, id="eleven_digits"),
            pytest.param("12345678a3", False, id="letter_inside"),
            pytest.param("", False, id="empty"),
            pytest.param("１２３４５６７８９３", False, id="non_ascii_digits"),
        ],
    )
    def test_validity(self, npi: str, valid: bool) -> None:
        """An NPI is valid only when it is ten ASCII digits ending in the Luhn digit of 80840 + first nine."""
        assert is_valid_npi(npi) is valid

    def test_check_digit_completes_a_valid_npi(self) -> None:
        """The computed check digit appended to nine digits gives a valid NPI."""
        for first_nine in ("123456789", "987654321", "100000000"):
            assert is_valid_npi(first_nine + str(npi_check_digit(first_nine)))

    def test_check_digit_refuses_wrong_length(self) -> None:
        """Asking for the check digit of anything but nine digits is an error."""
        with pytest.raises(ValueError):
            npi_check_digit("12345678")
