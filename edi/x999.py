"""999 Implementation Acknowledgment (005010X231A1) and the TA1 interchange acknowledgment.

Parsing: :func:`parse_999` reads one 999 transaction set into a :class:`GroupAck` (AK1/AK9 with
one :class:`TransactionAck` per AK2 loop, its IK3 segment errors and IK4 element errors);
:func:`parse_ta1` reads a TA1 segment (found in ``Interchange.ta1``) into a :class:`Ta1`.
:func:`inspect_999` and :func:`inspect_ta1` give the JSON shape printed by ``edi inspect``.

Building: :func:`build_999` and :func:`build_ta1` write X12 text through
:func:`edi.x12.build_interchange`; each round-trips with its parser.

The code descriptions are short tables written from the X12 999 guide (IK304, IK403, IK501,
IK502, AK901, AK905) and the interchange control standard (TA104, TA105).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from edi._envelope import EnvelopeSpec, interchange_spec, numbered, write_interchange
from edi.errors import BuildError, TransactionError
from edi.x12 import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Segment,
    TransactionSet,
    build_interchange,
    element,
    format_segment,
    is_digits,
    optional,
)

__all__ = [
    "ACK_CODES",
    "GROUP_ERROR_CODES",
    "ELEMENT_ERROR_CODES",
    "IMPLEMENTATION",
    "SEGMENT_ERROR_CODES",
    "TA1_ACK_CODES",
    "TA1_NOTE_CODES",
    "TRANSACTION_ERROR_CODES",
    "ElementError",
    "EnvelopeSpec",
    "GroupAck",
    "SegmentError",
    "Ta1",
    "TransactionAck",
    "build_999",
    "build_ta1",
    "describe",
    "inspect_999",
    "inspect_ta1",
    "parse_999",
    "parse_ta1",
]

IMPLEMENTATION = "005010X231A1"

ACK_CODES: dict[str, str] = {  # IK501 / AK901
    "A": "Accepted",
    "E": "Accepted but errors were noted",
    "M": "Rejected, message authentication code (MAC) failed",
    "P": "Partially accepted, at least one transaction set was rejected",
    "R": "Rejected",
    "W": "Rejected, assurance failed validity tests",
    "X": "Rejected, content after decryption could not be analyzed",
}

SEGMENT_ERROR_CODES: dict[str, str] = {  # IK304
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
    "I4": "Implementation 'not used' segment present",
    "I6": "Implementation dependent segment missing",
    "I7": "Implementation loop occurs under minimum times",
    "I8": "Implementation segment below minimum use",
    "I9": "Implementation dependent 'not used' segment present",
}

ELEMENT_ERROR_CODES: dict[str, str] = {  # IK403
    "1": "Required data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I6": "Code value not used in implementation",
    "I9": "Implementation dependent data element missing",
    "I10": "Implementation 'not used' data element present",
    "I11": "Implementation too few repetitions",
    "I12": "Implementation pattern match failure",
    "I13": "Implementation dependent 'not used' data element present",
}

TRANSACTION_ERROR_CODES: dict[str, str] = {  # IK502-IK506
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Transaction set control number in header and trailer do not match",
    "4": "Number of included segments does not match actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "8": "Authentication key name unknown",
    "9": "Encryption key name unknown",
    "10": "Requested service (authentication or encryption) not available",
    "11": "Unknown security recipient",
    "12": "Incorrect message length (encryption only)",
    "13": "Message authentication code failed",
    "15": "Unknown security originator",
    "16": "Syntax error in decrypted text",
    "17": "Security not supported",
    "18": "Transaction set not in functional group",
    "19": "Invalid transaction set implementation convention reference",
    "23": "Transaction set control number not unique within the functional group",
    "24": "S3E security end segment missing for S3S security start segment",
    "25": "S3S security start segment missing for S3E security end segment",
    "26": "S4E security end segment missing for S4S security start segment",
    "27": "S4S security start segment missing for S4E security end segment",
    "I5": "Implementation one or more segments in error",
    "I6": "Implementation convention not supported",
}

GROUP_ERROR_CODES: dict[str, str] = {  # AK905-AK909
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control number in the functional group header and trailer do not agree",
    "5": "Number of included transaction sets does not match actual count",
    "6": "Group control number violates syntax",
    "10": "Authentication key name unknown",
    "11": "Encryption key name unknown",
    "12": "Requested service (authentication or encryption) not available",
    "13": "Unknown security recipient",
    "14": "Unknown security originator",
    "15": "Syntax error in decrypted text",
    "16": "Security not supported",
    "17": "Incorrect message length (encryption only)",
    "18": "Message authentication code failed",
    "19": "Functional group control number not unique within interchange",
    "23": "S3E security end segment missing for S3S security start segment",
    "24": "S3S security start segment missing for S3E security end segment",
    "25": "S4E security end segment missing for S4S security start segment",
    "26": "S4S security start segment missing for S4E security end segment",
}

TA1_ACK_CODES: dict[str, str] = {
    "A": "The transmitted interchange control structure header and trailer have been received "
         "and have no errors",
    "E": "The transmitted interchange control structure header and trailer have been received "
         "and are accepted but errors are noted",
    "R": "The transmitted interchange control structure header and trailer are rejected "
         "because of errors",
}

TA1_NOTE_CODES: dict[str, str] = {  # TA105
    "000": "No error",
    "001": "The interchange control number in the header and trailer do not match",
    "002": "This standard as noted in the control standards identifier is not supported",
    "003": "This version of the controls is not supported",
    "004": "The segment terminator is invalid",
    "005": "Invalid interchange ID qualifier for sender",
    "006": "Invalid interchange sender ID",
    "007": "Invalid interchange ID qualifier for receiver",
    "008": "Invalid interchange receiver ID",
    "009": "Unknown interchange receiver ID",
    "010": "Invalid authorization information qualifier value",
    "011": "Invalid authorization information value",
    "012": "Invalid security information qualifier value",
    "013": "Invalid security information value",
    "014": "Invalid interchange date value",
    "015": "Invalid interchange time value",
    "016": "Invalid interchange standards identifier value",
    "017": "Invalid interchange version ID value",
    "018": "Invalid interchange control number value",
    "019": "Invalid acknowledgment requested value",
    "020": "Invalid test indicator value",
    "021": "Invalid number of included groups value",
    "022": "Invalid control structure",
    "023": "Improper (premature) end-of-file (transmission)",
    "024": "Invalid interchange content (e.g., invalid GS segment)",
    "025": "Duplicate interchange control number",
    "026": "Invalid data element separator",
    "027": "Invalid component element separator",
    "028": "Invalid delivery date in deferred delivery request",
    "029": "Invalid delivery time in deferred delivery request",
    "030": "Invalid delivery time code in deferred delivery request",
    "031": "Invalid grade of service code",
}

_UNKNOWN = "description not loaded"


def describe(table: dict[str, str], code: str | None) -> str | None:
    """The description of ``code`` in ``table``; an unknown code is 'description not loaded'."""
    if code is None:
        return None
    return table.get(code, _UNKNOWN)


# --------------------------------------------------------------------------------------------
# Parsed data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElementError:
    """IK4: an error in one data element of the segment named by the enclosing IK3."""

    position: int
    code: str
    component: int | None = None
    repetition: int | None = None
    data_element: str | None = None
    bad_value: str | None = None

    @property
    def description(self) -> str | None:
        return describe(ELEMENT_ERROR_CODES, self.code)


@dataclass(frozen=True, slots=True)
class SegmentError:
    """IK3: an error in a segment of the acknowledged set, with its IK4 element errors.

    ``business_unit`` is the CTX business unit identifier when given (e.g. ``("CLM01", "C000123")``
    names the claim the error is in).
    """

    segment_id: str
    position: int
    loop_id: str | None = None
    code: str | None = None
    elements: tuple[ElementError, ...] = ()
    business_unit: tuple[str, str] | None = None

    @property
    def description(self) -> str | None:
        return describe(SEGMENT_ERROR_CODES, self.code)


@dataclass(frozen=True, slots=True)
class TransactionAck:
    """AK2..IK5: the response for one transaction set of the acknowledged group."""

    set_id: str
    control_number: str
    code: str  # IK501
    implementation: str | None = None
    error_codes: tuple[str, ...] = ()  # IK502-IK506
    segment_errors: tuple[SegmentError, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.code in ("A", "E")

    @property
    def description(self) -> str | None:
        return describe(ACK_CODES, self.code)


@dataclass(frozen=True, slots=True)
class GroupAck:
    """One 999: the response to one functional group (AK1/AK9) and its transaction sets."""

    functional_id: str
    group_control_number: str
    code: str  # AK901
    included: int
    received: int
    accepted: int
    version: str | None = None
    transactions: tuple[TransactionAck, ...] = ()
    error_codes: tuple[str, ...] = ()  # AK905-AK909

    @property
    def description(self) -> str | None:
        return describe(ACK_CODES, self.code)

    @classmethod
    def of(cls, functional_id: str, group_control_number: str, version: str | None,
           transactions: Sequence[TransactionAck], error_codes: Sequence[str] = ()) -> GroupAck:
        """A group response with AK9's code and counts computed from the transaction responses."""
        n = len(transactions)
        ok = sum(1 for t in transactions if t.accepted)
        if ok == 0:
            code = "R"
        elif ok < n:
            code = "P"
        elif any(t.code == "E" for t in transactions):
            code = "E"
        else:
            code = "A"
        return cls(functional_id, group_control_number, code, n, n, ok, version, tuple(transactions),
                   tuple(error_codes))


@dataclass(frozen=True, slots=True)
class Ta1:
    """TA1: the acknowledgment of one interchange's envelope."""

    control_number: str
    date: date
    time: str  # HHMM
    code: str  # TA104: A, E, R
    note_code: str  # TA105

    @property
    def accepted(self) -> bool:
        return self.code in ("A", "E")

    @property
    def description(self) -> str | None:
        return describe(TA1_ACK_CODES, self.code)

    @property
    def note(self) -> str | None:
        return describe(TA1_NOTE_CODES, self.note_code)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------






def _int(seg: Segment, i: int, n: int, what: str) -> int:
    v = element(seg, i)
    if not is_digits(v):
        raise TransactionError(f"{what} is not a number", segment_number=n, segment_id=seg[0], element=i,
                               expected="digits")
    return int(v)


def _opt_int(text: str) -> int | None:
    return int(text) if is_digits(text) else None


def _codes(seg: Segment, start: int, stop: int) -> tuple[str, ...]:
    return tuple(c for c in (element(seg, i) for i in range(start, stop + 1)) if c)


def parse_999(ts: TransactionSet) -> GroupAck:
    """Parse one 999 transaction set; raises TransactionError (with its position) when malformed."""
    comp = ts.delimiters.component
    ak1: Segment | None = None
    ak9: Segment | None = None
    tx: list[TransactionAck] = []
    ak2: Segment | None = None
    seg_errors: list[SegmentError] = []
    ik3: Segment | None = None
    ik3_n = 0
    ik4s: list[ElementError] = []
    unit: tuple[str, str] | None = None
    ak9_n = 0

    def close_ik3() -> None:
        nonlocal ik3, ik4s, unit
        if ik3 is not None:
            seg_errors.append(SegmentError(
                segment_id=element(ik3, 1), position=_int(ik3, 2, ik3_n, "IK302"), loop_id=optional(ik3, 3),
                code=optional(ik3, 4), elements=tuple(ik4s), business_unit=unit))
        ik3, ik4s, unit = None, [], None

    n = ts.segment_number - 1
    for seg in ts.segments:
        n += 1
        sid = seg[0]
        if sid == "AK1":
            ak1 = seg
        elif sid == "AK2":
            close_ik3()
            ak2, seg_errors = seg, []
        elif sid == "IK3":
            close_ik3()
            if ak2 is None:
                raise TransactionError("IK3 outside an AK2 loop", segment_number=n, segment_id=sid,
                                       expected="AK2 first")
            ik3, ik3_n = seg, n
        elif sid == "IK4":
            if ik3 is None:
                raise TransactionError("IK4 outside an IK3 loop", segment_number=n, segment_id=sid,
                                       expected="IK3 first")
            pos = element(seg, 1).split(comp)
            if not is_digits(pos[0]):
                raise TransactionError("IK401 element position is not a number", segment_number=n,
                                       segment_id=sid, element=1, expected="digits")
            ik4s.append(ElementError(
                position=int(pos[0]), code=element(seg, 3),
                component=_opt_int(pos[1]) if len(pos) > 1 else None,
                repetition=_opt_int(pos[2]) if len(pos) > 2 else None,
                data_element=optional(seg, 2), bad_value=seg[4] if len(seg) > 4 and seg[4] else None))
        elif sid == "CTX":
            ctx = element(seg, 1).split(comp)
            if ik3 is not None and not ik4s and len(ctx) > 1 and ctx[0] != "SITUATIONAL TRIGGER":
                unit = (ctx[0], ctx[1])
        elif sid == "IK5":
            close_ik3()
            if ak2 is None:
                raise TransactionError("IK5 without an AK2", segment_number=n, segment_id=sid,
                                       expected="AK2 first")
            tx.append(TransactionAck(
                set_id=element(ak2, 1), control_number=element(ak2, 2), code=element(seg, 1),
                implementation=optional(ak2, 3), error_codes=_codes(seg, 2, 6),
                segment_errors=tuple(seg_errors)))
            ak2, seg_errors = None, []
        elif sid == "AK9":
            if ak2 is not None:
                raise TransactionError("AK2 loop has no IK5", segment_number=n, segment_id=sid,
                                       expected="IK5")
            ak9 = seg
            ak9_n = n
    if ak1 is None:
        raise TransactionError("999 has no AK1 segment", segment_number=ts.segment_number, segment_id="ST",
                               expected="AK1")
    if ak9 is None:
        raise TransactionError("999 has no AK9 segment", segment_number=n, segment_id="SE", expected="AK9")
    return GroupAck(
        functional_id=element(ak1, 1), group_control_number=element(ak1, 2), version=optional(ak1, 3),
        code=element(ak9, 1), included=_int(ak9, 2, ak9_n, "AK902"), received=_int(ak9, 3, ak9_n, "AK903"),
        accepted=_int(ak9, 4, ak9_n, "AK904"), transactions=tuple(tx), error_codes=_codes(ak9, 5, 9))


def _ta1_date(text: str, n: int | None = None) -> date:
    if len(text) != 6 or not is_digits(text):
        raise TransactionError("TA102 is not a YYMMDD date", segment_number=n, segment_id="TA1", element=2,
                               expected="YYMMDD")
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise TransactionError("TA102 is not a valid date", segment_number=n, segment_id="TA1", element=2,
                               expected="YYMMDD") from None


def parse_ta1(segment: Segment, segment_number: int | None = None) -> Ta1:
    """Parse a TA1 segment (element 0 is 'TA1'); ``segment_number`` (its number in the file) goes
    into the errors."""
    if not segment or segment[0] != "TA1" or len(segment) < 6:
        raise TransactionError("not a complete TA1 segment", segment_number=segment_number,
                               segment_id=segment[0] if segment else None, expected="TA1 with 5 elements")
    return Ta1(control_number=element(segment, 1), date=_ta1_date(element(segment, 2), segment_number),
               time=element(segment, 3), code=element(segment, 4), note_code=element(segment, 5))


# --------------------------------------------------------------------------------------------
# Inspect JSON
# --------------------------------------------------------------------------------------------


def _code_list(table: dict[str, str], codes: Iterable[str]) -> list[dict[str, str | None]]:
    return [{"code": c, "description": describe(table, c)} for c in codes]


def _segment_error_json(e: SegmentError) -> dict[str, object]:
    return {
        "segment_id": e.segment_id, "position": e.position, "loop": e.loop_id, "code": e.code,
        "description": e.description,
        "business_unit": {"name": e.business_unit[0], "value": e.business_unit[1]} if e.business_unit else None,
        "elements": [{"position": x.position, "component": x.component, "repetition": x.repetition,
                      "data_element": x.data_element, "code": x.code, "description": x.description,
                      "bad_value": x.bad_value} for x in e.elements],
    }


def _ack_json(ack: GroupAck) -> dict[str, object]:
    return {
        "functional_group": {
            "functional_id": ack.functional_id, "control_number": ack.group_control_number,
            "version": ack.version, "code": ack.code, "description": ack.description,
            "included": ack.included, "received": ack.received, "accepted": ack.accepted,
            "errors": _code_list(GROUP_ERROR_CODES, ack.error_codes),
        },
        "transactions": [{
            "set_id": t.set_id, "control_number": t.control_number, "implementation": t.implementation,
            "code": t.code, "description": t.description, "accepted": t.accepted,
            "errors": _code_list(TRANSACTION_ERROR_CODES, t.error_codes),
            "segment_errors": [_segment_error_json(e) for e in t.segment_errors],
        } for t in ack.transactions],
    }


def inspect_999(ts: TransactionSet) -> dict[str, object]:
    """The ``edi inspect --json`` form of a 999: group response and per-transaction accept/reject."""
    ack = parse_999(ts)
    return {"set": "999", "control_number": ts.control_number, **_ack_json(ack)}


def inspect_ta1(segment: Segment, delimiters: Delimiters = DEFAULT_DELIMITERS,
                segment_number: int | None = None) -> dict[str, object]:
    """The ``edi inspect --json`` form of a TA1 segment."""
    t = parse_ta1(segment, segment_number)
    return {"segment": "TA1", "text": format_segment(segment, delimiters),
            "control_number": t.control_number, "date": t.date.isoformat(), "time": t.time,
            "code": t.code, "description": t.description, "accepted": t.accepted,
            "note_code": t.note_code, "note": t.note}


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------




def _ack_body(ack: GroupAck) -> list[list[str | Sequence[str] | None]]:
    body: list[list[str | Sequence[str] | None]] = [
        ["AK1", ack.functional_id, ack.group_control_number, ack.version]]
    for t in ack.transactions:
        if t.code not in ACK_CODES or t.code == "P":
            raise BuildError(f"IK501 code {t.code!r} is not a 999 transaction acknowledgment code",
                             segment_id="IK5", element=1, expected="A, E, M, R, W or X")
        body.append(["AK2", t.set_id, t.control_number, t.implementation])
        for e in t.segment_errors:
            if e.loop_id is not None and len(e.loop_id) > 4:
                raise BuildError(f"IK303 loop id {e.loop_id!r} is longer than 4 characters", segment_id="IK3",
                                 element=3, expected="the loop number, e.g. 2300")
            body.append(["IK3", e.segment_id, str(e.position), e.loop_id, e.code])
            if e.business_unit is not None:
                body.append(["CTX", list(e.business_unit)])
            for x in e.elements:
                pos = [str(x.position), "" if x.component is None else str(x.component),
                       "" if x.repetition is None else str(x.repetition)]
                body.append(["IK4", pos, x.data_element, x.code, x.bad_value])
        body.append(["IK5", t.code, *t.error_codes[:5]])
    body.append(["AK9", ack.code, str(ack.included), str(ack.received), str(ack.accepted),
                 *ack.error_codes[:5]])
    return body


def build_999(
    acks: Sequence[GroupAck],
    *,
    envelope: EnvelopeSpec,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange with one 999 transaction set per acknowledged functional group."""
    if not acks:
        raise BuildError("a 999 interchange needs at least one group acknowledgment", segment_id="AK1")
    envelope.check()
    bodies = [_ack_body(a) for a in acks]
    return write_interchange(envelope, "FA", IMPLEMENTATION, numbered(envelope, "999", bodies, IMPLEMENTATION),
                             delimiters=delimiters, newline=newline)


def build_ta1(
    ta1: Ta1,
    *,
    envelope: EnvelopeSpec,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """An interchange holding only a TA1 segment (no functional group: ``envelope.gs_control`` is not used)."""
    if ta1.code not in TA1_ACK_CODES:
        raise BuildError(f"TA104 code {ta1.code!r} is not A, E or R", segment_id="TA1", element=4,
                         expected="A, E or R")
    if len(ta1.note_code) != 3 or not is_digits(ta1.note_code):
        raise BuildError("TA105 must be a three-digit note code", segment_id="TA1", element=5,
                         expected="000-031")
    envelope.check()
    text = build_interchange(interchange_spec(envelope), [], delimiters, newline=newline)
    term = delimiters.segment + ("\n" if newline and delimiters.segment != "\n" else "")
    header, _, trailer = text.partition(term)
    seg = format_segment(["TA1", ta1.control_number.zfill(9), ta1.date.strftime("%y%m%d"), ta1.time,
                          ta1.code, ta1.note_code], delimiters)
    return header + term + seg + term + trailer
