"""Money in the simulator: Decimal cents (``CENT``, ``ZERO``), half-up rounding and lenient parsing.

(The simulator imports nothing of ``pipelines``, so it keeps these few lines of its own.)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CENT", "ZERO", "parse_amount", "round_cents"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def parse_amount(text: str) -> Decimal | None:
    """``text`` as an amount in cents, or None when it is not a finite number."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    return value.quantize(CENT) if value.is_finite() else None


def round_cents(d: Decimal) -> Decimal:
    """``d`` rounded half-up to the cent."""
    return d.quantize(CENT, rounding=ROUND_HALF_UP)
