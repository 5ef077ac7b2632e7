"""What every builder shares: the :class:`EnvelopeSpec`, the 1000A/1000B parties, text and party checks.

* :class:`EnvelopeSpec` is the one way every builder (837P, 270, 276, 271, 277, 277CA, 835, 999,
  TA1) is told its ISA, GS and ST values: ``build_x(data, envelope=EnvelopeSpec(...))``.
  :func:`write_interchange` writes one interchange with one functional group around the sets a
  builder made, and :func:`numbered` numbers those sets' ST02 from ``envelope.st_control`` up.
* :class:`Submitter` (loop 1000A) and :class:`Receiver` (1000B) are the parties of our outbound
  837P, 270 and 276 files.
* Text and party checks of the outbound builders (:func:`clean_text`, :func:`ident`,
  :func:`check_npi`, :func:`person_name`, :func:`address_segments`, :func:`demographics`, ...)
  raise :class:`edi.errors.BuildError` naming the claim or trace and the field, never a patient's data.

Private: the public names are re-exported by :mod:`edi.x837p` (and the set modules that use them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from edi.errors import BuildError
from edi.x12 import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Element,
    GroupSpec,
    InterchangeSpec,
    TransactionSpec,
    build_interchange,
    is_digits,
)

__all__ = ["EnvelopeSpec", "Receiver", "Submitter", "clean_text"]


# --------------------------------------------------------------------------------------------
# The envelope of a built file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvelopeSpec:
    """The ISA, GS and ST values of one file a builder writes.

    ``isa_control`` is ISA13/IEA02, ``gs_control`` GS06/GE02 (None only for a TA1, which has no
    group), ``st_control`` the ST02 of the first set (later sets count up, keeping its width:
    "0009", "0010", ...). ``created`` gives ISA09/10, GS04/05 (and BHT04/05 where a set has one);
    ``usage`` is ISA15 (T test, P production). ``sender``/``receiver`` are ISA06/ISA08 and
    GS02/GS03; the 837P, 270 and 276 builders take them from the batch's submitter and receiver
    when they are left empty.
    """

    isa_control: int
    gs_control: int | None
    created: datetime
    st_control: str = "0001"
    usage: str = "T"
    sender: str = ""
    receiver: str = ""
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"

    def check(self) -> None:
        """BuildError when ISA15 or ST02 cannot be written."""
        if self.usage not in ("T", "P"):
            raise BuildError(f"usage must be T or P, not {self.usage!r}", segment_id="ISA", element=15,
                             expected="T or P")
        st = self.st_control
        if not (4 <= len(st) <= 9) or not is_digits(st):
            raise BuildError("ST02 control number must be 4 to 9 digits", segment_id="ST", element=2,
                             expected="4-9 digits")


def envelope_times(created: datetime) -> tuple[str, str, str]:
    """ISA date (YYMMDD), GS/BHT date (CCYYMMDD) and time (HHMM)."""
    return created.strftime("%y%m%d"), created.strftime("%Y%m%d"), created.strftime("%H%M")


def st_number(st_control: str, offset: int) -> str:
    """The ST02 ``offset`` sets after ``st_control``, as wide as it (BuildError past 9 digits)."""
    number = f"{int(st_control) + offset:0{len(st_control)}d}"
    if len(number) > 9:
        raise BuildError("ST02 control numbers run past 9 digits", segment_id="ST", element=2)
    return number


def numbered(envelope: EnvelopeSpec, set_id: str, bodies: Sequence[Sequence[Sequence[Element]]],
             implementation: str | None) -> list[TransactionSpec]:
    """One transaction set per body, ST02 counted from ``envelope.st_control``; ST03 ``implementation``."""
    return [TransactionSpec(set_id, st_number(envelope.st_control, i), body, implementation)
            for i, body in enumerate(bodies)]


def write_interchange(envelope: EnvelopeSpec, functional_id: str, version: str,
                      transactions: Sequence[TransactionSpec], *, sender: str = "", receiver: str = "",
                      delimiters: Delimiters = DEFAULT_DELIMITERS, newline: bool = True) -> str:
    """One interchange with one group (GS08 ``version``) of ``transactions``.

    ISA06/GS02 is ``envelope.sender`` or else ``sender``; likewise the receiver.
    """
    envelope.check()
    if envelope.gs_control is None:
        raise BuildError("a functional group needs a GS06 control number", segment_id="GS", element=6)
    isa = interchange_spec(envelope, sender=sender, receiver=receiver)
    isa_date, date8, hhmm = envelope_times(envelope.created)
    group = GroupSpec(functional_id=functional_id, sender_code=isa.sender_id, receiver_code=isa.receiver_id,
                      date=date8, time=hhmm, control_number=envelope.gs_control, version=version,
                      transactions=transactions)
    return build_interchange(isa, [group], delimiters, newline=newline)


def interchange_spec(envelope: EnvelopeSpec, *, sender: str = "", receiver: str = "") -> InterchangeSpec:
    """The ISA of ``envelope`` (its sender and receiver, else the ones given)."""
    isa_date, _date8, hhmm = envelope_times(envelope.created)
    sender_id, receiver_id = envelope.sender or sender, envelope.receiver or receiver
    if not sender_id or not receiver_id:
        raise BuildError("the envelope needs a sender and a receiver id", segment_id="ISA",
                         element=6 if not sender_id else 8)
    return InterchangeSpec(sender_id=sender_id, receiver_id=receiver_id, date=isa_date, time=hhmm,
                           control_number=envelope.isa_control, usage=envelope.usage,
                           sender_qualifier=envelope.sender_qualifier,
                           receiver_qualifier=envelope.receiver_qualifier)


# --------------------------------------------------------------------------------------------
# Loops 1000A and 1000B
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submitter:
    """Loop 1000A and the ISA/GS sender."""

    name: str
    id: str
    contact_name: str
    contact_phone: str


@dataclass(frozen=True, slots=True)
class Receiver:
    """Loop 1000B and the ISA/GS receiver."""

    name: str
    id: str


class _Parties(Protocol):
    @property
    def submitter(self) -> Submitter: ...

    @property
    def receiver(self) -> Receiver: ...


def party_ids(batch: _Parties) -> tuple[str, str]:
    """The submitter's and the receiver's ids as written (1000A/1000B NM109, and the ISA/GS default)."""
    return (ident(batch.submitter.id, what="submitter id", max_len=15),
            ident(batch.receiver.id, what="receiver id", max_len=15))


# --------------------------------------------------------------------------------------------
# Text, identifiers and people, checked before anything is written
# --------------------------------------------------------------------------------------------

# X12 basic character set (upper case, digits, space and these specials), minus the delimiters we
# write with (* : ^ ~) so that no value can end an element, a component or a segment.
_BASIC_SPECIALS = "!\"&'()+,-./;?= "
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + _BASIC_SPECIALS)
_PLAIN = re.compile(r"[A-Z0-9!\"&'()+,\-./;?=]+( [A-Z0-9!\"&'()+,\-./;?=]+)*\Z")
_SEX = ("M", "F", "U")


def clean_text(value: str, max_len: int | None = None) -> str:
    """Upper-case ``value``, fold accents, drop characters outside the X12 basic set, squeeze spaces."""
    if not value:
        return ""
    if value.isascii():  # the common case: nothing to fold
        upper = value.upper()
        if upper.isalnum():  # one word of letters and digits (ASCII): nothing to drop or squeeze
            return upper if max_len is None else upper[:max_len]
        if _PLAIN.match(upper):
            return upper if max_len is None else upper[:max_len].rstrip()
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).upper()
    kept = "".join(c if c in _ALLOWED else " " for c in folded)
    text = " ".join(kept.split())
    if max_len is not None:
        text = text[:max_len].rstrip()
    return text


def build_error(message: str, claim_id: str | None, expected: str | None = None) -> BuildError:
    """A BuildError about ``claim_id`` (when given)."""
    prefix = f"claim {claim_id}: " if claim_id else ""
    return BuildError(prefix + message, expected=expected)


_CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    """An X12 R value for a cents amount: 180, 180.5, 180.55 (no trailing zeros)."""
    q = amount.quantize(_CENT)
    text = f"{q:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@lru_cache(maxsize=8192)
def d8(day: date) -> str:
    """CCYYMMDD (remembered: a file repeats a few dates of service and birth dates many times)."""
    return day.strftime("%Y%m%d")


def ident(value: str, *, what: str, claim_id: str | None = None, max_len: int = 80) -> str:
    """An identifier (member id, payer id, auth number): upper case letters, digits and basic specials."""
    text = clean_text(value).replace(" ", "")
    if not text:
        raise build_error(f"{what} is missing", claim_id)
    if len(text) > max_len:
        raise build_error(f"{what} is longer than {max_len} characters", claim_id)
    return text


def check_npi(npi: str, *, what: str, claim_id: str | None = None) -> str:
    if not npi:
        raise build_error(f"{what} NPI is missing", claim_id, "10 digits")
    if len(npi) != 10 or not is_digits(npi):
        raise build_error(f"{what} NPI is not 10 digits", claim_id, "10 digits")
    return npi


def person_name(last: str, first: str, *, what: str, claim_id: str | None) -> tuple[str, str]:
    last_c, first_c = clean_text(last, 60), clean_text(first, 35)
    if not last_c:
        raise build_error(f"{what} last name is missing", claim_id)
    return last_c, first_c


class _Address(Protocol):
    @property
    def line1(self) -> str: ...

    @property
    def line2(self) -> str: ...

    @property
    def city(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def zip(self) -> str: ...


def address_segments(addr: _Address, *, what: str, claim_id: str | None,
                     zip9: bool = False) -> list[list[str]]:
    """N3 and N4 of ``addr``."""
    line1 = clean_text(addr.line1, 55)
    city = clean_text(addr.city, 30)
    state = clean_text(addr.state)
    zipc = addr.zip.replace("-", "").strip()
    if not line1 or not city:
        raise build_error(f"{what} address is incomplete", claim_id)
    if len(state) != 2 or not state.isalpha():
        raise build_error(f"{what} state is not a 2-letter code", claim_id, "2 letters")
    if not is_digits(zipc) or len(zipc) not in ((9,) if zip9 else (5, 9)):
        raise build_error(f"{what} ZIP code is not {'9' if zip9 else '5 or 9'} digits", claim_id)
    n3 = ["N3", line1]
    line2 = clean_text(addr.line2, 55)
    if line2:
        n3.append(line2)
    return [n3, ["N4", city, state, zipc]]


def demographics(dob: date | None, sex: str, *, what: str, claim_id: str | None) -> list[Element]:
    """DMG with the date of birth and sex."""
    return ["DMG", "D8", *birth_date_and_sex(dob, sex, what=what, claim_id=claim_id)]


def birth_date_and_sex(dob: date | None, sex: str, *, what: str, claim_id: str | None) -> tuple[str, str]:
    """DMG02 (CCYYMMDD) and DMG03 (M, F or U), checked."""
    if dob is None:
        raise build_error(f"{what} date of birth is missing", claim_id)
    sex_c = (sex or "U").upper()
    if sex_c not in _SEX:
        raise build_error(f"{what} sex is not M, F or U", claim_id, "M, F or U")
    return d8(dob), sex_c


MAX_CLAIM_ID = 20


def check_claim_id(claim_id: str, segment_id: str) -> None:
    """BuildError unless ``claim_id`` can be CLM01 (and a 276's TRN02): 1-20 upper-case letters or digits."""
    if not claim_id or len(claim_id) > MAX_CLAIM_ID or clean_text(claim_id).replace(" ", "") != claim_id:
        raise BuildError(f"claim id {claim_id!r} must be 1-{MAX_CLAIM_ID} upper-case letters or digits",
                         segment_id=segment_id, element=1 if segment_id == "CLM" else 2)


def first_duplicate(values: Iterable[str]) -> str | None:
    """The first value that appears a second time, or None."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None
