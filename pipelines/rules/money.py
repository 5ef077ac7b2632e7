"""Money as the contract writes it: ``Decimal`` quantized to cents, printed with two decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = ["CENT", "ZERO", "cents", "money", "money_or_none", "usd"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Any) -> Decimal:
    """``value`` (Decimal, int, str or None) as a Decimal quantized to cents; None is zero."""
    if value is None:
        return ZERO
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any) -> str:
    """The JSON form of an amount: a string with two decimals ("0.00" for None)."""
    return f"{cents(value):.2f}"


def money_or_none(value: Any) -> str | None:
    """Like :func:`money`, but None stays None (an amount the file did not give)."""
    return None if value is None else money(value)

def usd(amount: Any) -> str:
    """``"1234.5"`` -> ``"$1,234.50"``; ``-25`` -> ``"-$25.00"``; None or "" -> ``""``."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount).replace("$", "").replace(",", ""))
    except InvalidOperation:
        return str(amount)
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"
