"""National Provider Identifier check digit.

An NPI is 10 digits; the last is a Luhn check digit computed over the first nine prefixed with the
card-issuer identifier ``80840`` (CMS, "NPI check digit" standard).
"""

from __future__ import annotations

__all__ = ["is_valid_npi", "npi_check_digit"]

_PREFIX = "80840"


def npi_check_digit(first_nine: str) -> int:
    """The Luhn check digit for the nine leading digits of an NPI."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("an NPI check digit needs exactly nine leading digits")
    total = 0
    # Luhn: from the rightmost payload digit leftwards, double every other digit starting with it.
    for position, char in enumerate(reversed(_PREFIX + first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is exactly ten ASCII digits and its last digit is the Luhn check digit."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])
