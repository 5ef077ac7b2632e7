"""Reading helpers shared by the 837P, 270 and 276 parsers: parties, people and typed values.

:class:`Entity` is an organisation or provider named by an NM1 (a payer, a submitter, a billing
provider); :class:`Person` a subscriber or patient (NM1 with DMG). The value readers raise
:class:`edi.errors.TransactionError` naming the segment number, segment id and element, never the
value itself (it may be PHI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from edi.errors import TransactionError
from edi.x12 import Segment, element, optional, parse_d8

__all__ = ["Entity", "Person"]


@dataclass(frozen=True, slots=True)
class Entity:
    """An NM1 naming an organisation or a provider: NM101 entity code, NM103 name, NM109 id."""

    entity: str
    name: str
    id: str | None = None
    id_qualifier: str | None = None
    first_name: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A subscriber or patient: NM1 (name, NM109 member id) and DMG (date of birth, sex). PHI."""

    last_name: str
    first_name: str | None = None
    member_id: str | None = None
    birth_date: date | None = None
    sex: str | None = None

    def __repr__(self) -> str:  # names and member ids stay out of logs and tracebacks
        return "Person(...)"


def entity(seg: Segment) -> Entity:
    """The :class:`Entity` an NM1 names."""
    return Entity(entity=element(seg, 1), name=element(seg, 3), id=optional(seg, 9), id_qualifier=optional(seg, 8),
                  first_name=optional(seg, 4))


def person(seg: Segment) -> Person:
    """The :class:`Person` an NM1 names (date of birth and sex come later, from a DMG)."""
    return Person(last_name=element(seg, 3), first_name=optional(seg, 4), member_id=optional(seg, 9))


def error(message: str, n: int, seg: Segment | None, element_position: int = 0,
          expected: str | None = None) -> TransactionError:
    """A TransactionError at file segment ``n``."""
    return TransactionError(message, segment_number=n, segment_id=seg[0] if seg else None,
                            element=element_position, expected=expected)


def amount(seg: Segment, i: int, n: int) -> Decimal:
    """A required amount, quantized to cents."""
    value = opt_amount(seg, i, n)
    if value is None:
        raise error(f"{seg[0]}{i:02d} is empty", n, seg, i, "an amount")
    return value


def opt_amount(seg: Segment, i: int, n: int) -> Decimal | None:
    """An amount quantized to cents, or None when the element is empty."""
    value = opt_number(seg, i, n)
    return None if value is None else value.quantize(Decimal("0.01"))


def opt_number(seg: Segment, i: int, n: int) -> Decimal | None:
    """A decimal number as written, or None when the element is empty."""
    text = element(seg, i)
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise error(f"{seg[0]}{i:02d} is not a number", n, seg, i, "a decimal number")
    return value


def period(seg: Segment, n: int) -> tuple[date, date | None]:
    """A DTP's date (D8) or date range (RD8), from DTP02 and DTP03."""
    fmt, value = element(seg, 2), element(seg, 3)
    if fmt == "RD8":
        start, _, end = value.partition("-")
        return parse_d8(start, n, seg[0], 3), parse_d8(end, n, seg[0], 3)
    return parse_d8(value, n, seg[0], 3), None


def demographics(seg: Segment, n: int) -> tuple[date | None, str | None]:
    """A DMG's date of birth (DMG02) and sex (DMG03)."""
    dob = element(seg, 2)
    return (parse_d8(dob, n, "DMG", 2) if dob else None), optional(seg, 3)
