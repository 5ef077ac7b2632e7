"""271 eligibility benefit response (005010X279A1): parser, inspect JSON and builder.

Structure read::

    2000A information source (payer)       AAA, NM1 (2100A), AAA
    2000B information receiver (provider)  NM1 (2100B), AAA
    2000C subscriber                       TRN, NM1 (2100C), REF, AAA, DMG, DTP, 2110C benefits
    2000D dependent                        TRN, NM1 (2100D), REF, AAA, DMG, DTP, 2110D benefits
          2110C/D: EB, HSD, REF, DTP, AAA, MSG, and 2115/2120 (III, LS, NM1, LE)

:func:`parse_271` returns an :class:`EligibilityResponse` with one :class:`Member` per subscriber or
dependent; :func:`inspect_271` gives its JSON form; :func:`build_271` writes the dataclasses back.

Member ids, names and dates of birth are PHI: they are fields here because matching needs them,
and no error message of this module contains them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from edi import codes
from edi.errors import BuildError, TransactionError
from edi.x12 import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Element,
    InterchangeSpec,
    Segment,
    TransactionSet,
    build_sets,
    element,
    optional,
    parse_d8,
)

__all__ = [
    "ACTIVE_CODES",
    "BENEFIT_CODES",
    "COVERAGE_LEVELS",
    "FOLLOW_UP_CODES",
    "INACTIVE_CODES",
    "IMPLEMENTATION",
    "QUANTITY_QUALIFIERS",
    "REJECT_REASONS",
    "TIME_PERIODS",
    "Benefit",
    "BenefitDate",
    "EligibilityResponse",
    "Limit",
    "Member",
    "Party",
    "Rejection",
    "Trace",
    "build_271",
    "inspect_271",
    "parse_271",
]

IMPLEMENTATION = "005010X279A1"

BENEFIT_CODES: dict[str, str] = {  # EB01
    "1": "Active Coverage",
    "2": "Active - Full Risk Capitation",
    "3": "Active - Services Capitated",
    "4": "Active - Services Capitated to Primary Care Physician",
    "5": "Active - Pending Investigation",
    "6": "Inactive",
    "7": "Inactive - Pending Eligibility Update",
    "8": "Inactive - Pending Investigation",
    "A": "Co-Insurance",
    "B": "Co-Payment",
    "C": "Deductible",
    "CB": "Coverage Basis",
    "D": "Benefit Description",
    "E": "Exclusions",
    "F": "Limitations",
    "G": "Out of Pocket (Stop Loss)",
    "H": "Unlimited",
    "I": "Non-Covered",
    "J": "Cost Containment",
    "K": "Reserve",
    "L": "Primary Care Provider",
    "M": "Pre-existing Condition",
    "MC": "Managed Care Coordinator",
    "N": "Services Restricted to Following Provider",
    "O": "Not Deemed a Medical Necessity",
    "P": "Benefit Disclaimer",
    "Q": "Second Surgical Opinion Required",
    "R": "Other or Additional Payor",
    "S": "Prior Year(s) History",
    "T": "Card(s) Reported Lost/Stolen",
    "U": "Contact Following Entity for Eligibility or Benefit Information",
    "V": "Cannot Process",
    "W": "Other Source of Data",
    "X": "Health Care Facility",
    "Y": "Spend Down",
}

ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})
INACTIVE_CODES = frozenset({"6", "7", "8"})

COVERAGE_LEVELS: dict[str, str] = {  # EB02
    "CHD": "Children Only", "DEP": "Dependents Only", "ECH": "Employee and Children",
    "EMP": "Employee Only", "ESP": "Employee and Spouse", "FAM": "Family", "IND": "Individual",
    "SPC": "Spouse and Children", "SPO": "Spouse Only",
}

TIME_PERIODS: dict[str, str] = {  # EB06 / HSD05
    "6": "Hour", "7": "Day", "13": "24 Hours", "21": "Years", "22": "Service Year",
    "23": "Calendar Year", "24": "Year to Date", "25": "Contract", "26": "Episode", "27": "Visit",
    "28": "Outlier", "29": "Remaining", "30": "Exceeded", "31": "Not Exceeded", "32": "Lifetime",
    "33": "Lifetime Remaining", "34": "Month", "35": "Week", "36": "Admission",
}

QUANTITY_QUALIFIERS: dict[str, str] = {  # EB09 / HSD01
    "8H": "Minimum", "99": "Quantity Used", "CA": "Covered - Actual", "CE": "Covered - Estimated",
    "D3": "Number of Co-insurance Days", "DB": "Deductible Blood Units", "DY": "Days", "FL": "Units",
    "HS": "Hours", "LA": "Life-time Reserve - Actual", "LE": "Life-time Reserve - Estimated",
    "M2": "Maximum", "MN": "Month", "P6": "Number of Services or Procedures", "QA": "Quantity Approved",
    "S7": "Age, High Value", "S8": "Age, Low Value", "VS": "Visits", "YY": "Years",
}

REJECT_REASONS: dict[str, str] = {  # AAA03
    "04": "Authorized Quantity Exceeded",
    "15": "Required application data missing",
    "33": "Input Errors",
    "35": "Out of Network",
    "41": "Authorization/Access Restrictions",
    "42": "Unable to Respond at Current Time",
    "43": "Invalid/Missing Provider Identification",
    "44": "Invalid/Missing Provider Name",
    "45": "Invalid/Missing Provider Specialty",
    "46": "Invalid/Missing Provider Phone Number",
    "47": "Invalid/Missing Provider State",
    "48": "Invalid/Missing Referring Provider Identification Number",
    "49": "Provider is Not Primary Care Physician",
    "50": "Provider Ineligible for Inquiries",
    "51": "Provider Not on File",
    "52": "Service Dates Not Within Provider Plan Enrollment",
    "53": "Inquired Benefit Inconsistent with Provider Type",
    "54": "Inappropriate Product/Service ID Qualifier",
    "55": "Inappropriate Product/Service ID",
    "56": "Inappropriate Date",
    "57": "Invalid/Missing Date(s) of Service",
    "58": "Invalid/Missing Date-of-Birth",
    "60": "Date of Birth Follows Date(s) of Service",
    "61": "Date of Death Precedes Date(s) of Service",
    "62": "Date of Service Not Within Allowable Inquiry Period",
    "63": "Date of Service in Future",
    "64": "Invalid/Missing Patient ID",
    "65": "Invalid/Missing Patient Name",
    "66": "Invalid/Missing Patient Gender Code",
    "67": "Patient Not Found",
    "68": "Duplicate Patient ID Number",
    "69": "Inconsistent with Patient's Age",
    "70": "Inconsistent with Patient's Gender",
    "71": "Patient Birth Date Does Not Match That for the Patient on the Database",
    "72": "Invalid/Missing Subscriber/Insured ID",
    "73": "Invalid/Missing Subscriber/Insured Name",
    "74": "Invalid/Missing Subscriber/Insured Gender Code",
    "75": "Subscriber/Insured Not Found",
    "76": "Duplicate Subscriber/Insured ID Number",
    "77": "Subscriber Found, Patient Not Found",
    "78": "Subscriber/Insured Not in Group/Plan Identified",
    "79": "Invalid Participant Identification",
    "80": "No Response received - Transaction Terminated",
    "97": "Invalid or Missing Provider Address",
    "98": "Experimental Service or Procedure",
    "AA": "Authorization Number Not Found",
    "AE": "Requires Primary Care Physician Authorization",
    "AF": "Invalid/Missing Diagnosis Code(s)",
    "AG": "Invalid/Missing Procedure Code(s)",
    "AO": "Additional Patient Condition Information Required",
    "CI": "Certification Information Does Not Match Patient",
    "E8": "Requires Medical Review",
    "IA": "Invalid Authorization Number Format",
    "MA": "Missing Authorization",
    "T4": "Payer Name or Identifier Missing",
}

FOLLOW_UP_CODES: dict[str, str] = {  # AAA04
    "C": "Please Correct and Resubmit",
    "N": "Resubmission Not Allowed",
    "P": "Please Resubmit Original Transaction",
    "R": "Resubmission Allowed",
    "S": "Do Not Resubmit; Inquiry Initiated to a Third Party",
    "W": "Please Wait 30 Days and Resubmit",
    "X": "Please Wait 10 Days and Resubmit",
    "Y": "Do Not Resubmit; We Will Hand Deliver",
}

_UNKNOWN = "description not loaded"
_YES_NO = {"Y": True, "N": False}


def _describe(table: dict[str, str], code: str | None) -> str | None:
    return None if code is None else table.get(code, _UNKNOWN)


# --------------------------------------------------------------------------------------------
# Parsed data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """The payer (2100A), the provider asking (2100B), or a benefit-related entity (2120)."""

    name: str
    id: str | None = None
    id_qualifier: str | None = None
    entity: str = "PR"  # NM101
    entity_type: str = "2"  # NM102
    first_name: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """AAA: the request, or part of it, could not be answered."""

    reason_code: str  # AAA03
    follow_up_code: str  # AAA04
    loop: str  # where it was: 2000A, 2100A, 2100B, 2100C, 2110C, 2100D, 2110D
    valid_request: bool = False  # AAA01

    @property
    def reason(self) -> str | None:
        return _describe(REJECT_REASONS, self.reason_code)

    @property
    def follow_up(self) -> str | None:
        return _describe(FOLLOW_UP_CODES, self.follow_up_code)


@dataclass(frozen=True, slots=True)
class Trace:
    """TRN: TRN01 '2' is the trace we sent in the 270, echoed back; '1' one the payer assigned."""

    type: str
    number: str
    assigner: str
    additional: str | None = None


@dataclass(frozen=True, slots=True)
class BenefitDate:
    """DTP: a date (D8) or a period (RD8) with its qualifier (346 plan begin, 291 plan, ...)."""

    qualifier: str
    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    """HSD: delivery limits, e.g. 30 visits (VS) per calendar year (HSD05 23)."""

    quantity_qualifier: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None  # HSD03
    sample_modulus: Decimal | None = None  # HSD04
    time_period: str | None = None  # HSD05
    period_count: Decimal | None = None  # HSD06
    frequency: str | None = None  # HSD07
    pattern: str | None = None  # HSD08

    @property
    def time_period_description(self) -> str | None:
        return _describe(TIME_PERIODS, self.time_period)


@dataclass(frozen=True, slots=True)
class Benefit:
    """EB (2110C/2110D) with its limits, dates, messages and rejections."""

    code: str  # EB01
    coverage_level: str | None = None  # EB02
    service_types: tuple[str, ...] = ()  # EB03, repeating
    insurance_type: str | None = None  # EB04
    plan_description: str | None = None  # EB05
    time_period: str | None = None  # EB06
    amount: Decimal | None = None  # EB07
    percent: Decimal | None = None  # EB08 (0.20 is 20 percent)
    quantity_qualifier: str | None = None  # EB09
    quantity: Decimal | None = None  # EB10
    auth_indicator: str | None = None  # EB11: Y, N, U
    network_indicator: str | None = None  # EB12: Y, N, U, W
    procedure: tuple[str, ...] = ()  # EB13 components, e.g. ("HC", "90837")
    limits: tuple[Limit, ...] = ()
    dates: tuple[BenefitDate, ...] = ()
    messages: tuple[str, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    references: tuple[tuple[str, str], ...] = ()  # 2110 REF (qualifier, value)
    related: tuple[Party, ...] = ()  # 2120 NM1 inside LS/LE

    @property
    def description(self) -> str | None:
        return _describe(BENEFIT_CODES, self.code)

    @property
    def auth_required(self) -> bool | None:
        """EB11: True (Y), False (N), None when unknown (U) or not given."""
        return _YES_NO.get(self.auth_indicator or "")

    @property
    def in_network(self) -> bool | None:
        """EB12: True (Y), False (N), None when unknown (U), not applicable (W) or not given."""
        return _YES_NO.get(self.network_indicator or "")

    @property
    def time_period_description(self) -> str | None:
        return _describe(TIME_PERIODS, self.time_period)


@dataclass(frozen=True, slots=True)
class Member:
    """A subscriber (2000C) or dependent (2000D) with coverage, benefits and rejections."""

    level: str  # "subscriber" or "dependent"
    last_name: str | None = None
    first_name: str | None = None
    member_id: str | None = None
    id_qualifier: str | None = None
    traces: tuple[Trace, ...] = ()
    birth_date: date | None = None
    gender: str | None = None
    dates: tuple[BenefitDate, ...] = ()
    benefits: tuple[Benefit, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    references: tuple[tuple[str, str], ...] = ()  # 2100 REF (6P group number, 18 plan, ...)
    subscriber_member_id: str | None = None  # for a dependent: the subscriber's id

    @property
    def trace(self) -> str | None:
        """Our trace number from the 270 (TRN01 = 2), else the first trace."""
        for t in self.traces:
            if t.type == "2":
                return t.number
        return self.traces[0].number if self.traces else None

    @property
    def coverage(self) -> str | None:
        """'active' (an EB01 of 1-5), 'inactive' (6-8 and none active), or None (no answer)."""
        codes = {b.code for b in self.benefits}
        if codes & ACTIVE_CODES:
            return "active"
        if codes & INACTIVE_CODES:
            return "inactive"
        return None

    def _date(self, *qualifiers: str) -> BenefitDate | None:
        for q in qualifiers:
            for d in self.dates:
                if d.qualifier == q:
                    return d
        return None

    @property
    def coverage_period(self) -> tuple[date | None, date | None]:
        """Plan or eligibility dates: DTP*291 (plan), else 346/347, else 307, else 356/357."""
        for single in ("291", "307"):
            p = self._date(single)
            if p is not None:
                return p.start, p.end
        begin, end = self._date("346"), self._date("347")
        if begin is None and end is None:
            begin, end = self._date("356"), self._date("357")
        return (begin.start if begin else None), (end.start if end else None)

    def is_active_on(self, day: date) -> bool | None:
        """Whether the coverage was active on ``day``; None when the response gives no coverage."""
        cov = self.coverage
        if cov is None:
            return None
        if cov == "inactive":
            return False
        start, end = self.coverage_period
        return (start is None or start <= day) and (end is None or day <= end)

    @property
    def visit_limits(self) -> tuple[Benefit, ...]:
        """Limitation benefits (EB01 F) counted in visits (EB09 VS or an HSD with VS)."""
        return tuple(b for b in self.benefits if b.code == "F" and (
            b.quantity_qualifier == "VS" or any(x.quantity_qualifier == "VS" for x in b.limits)))


@dataclass(frozen=True, slots=True)
class EligibilityResponse:
    """One 271 transaction set."""

    source: Party
    receiver: Party | None
    members: tuple[Member, ...]
    created: date
    created_time: str = "1200"
    reference: str | None = None  # BHT03, echoes the 270's
    purpose: str = "11"  # BHT02: 11 response, 06 confirmation
    rejections: tuple[Rejection, ...] = ()  # 2000A, 2100A, 2100B


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------








def _num(seg: Segment, i: int, n: int, *, money: bool = False) -> Decimal | None:
    v = element(seg, i)
    if not v:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise TransactionError("not a number", segment_number=n, segment_id=seg[0], element=i,
                               expected="a decimal number") from None
    return d.quantize(Decimal("0.01")) if money else d


def _dtp(seg: Segment, n: int) -> BenefitDate:
    q, fmt, value = element(seg, 1), element(seg, 2), element(seg, 3)
    if fmt == "RD8":
        a, _, b = value.partition("-")
        return BenefitDate(q, parse_d8(a, n, "DTP", 3), parse_d8(b, n, "DTP", 3))
    return BenefitDate(q, parse_d8(value, n, "DTP", 3))


def _aaa(seg: Segment, loop: str) -> Rejection:
    return Rejection(reason_code=element(seg, 3), follow_up_code=element(seg, 4), loop=loop,
                     valid_request=element(seg, 1) == "Y")


def _party(seg: Segment) -> Party:
    return Party(name=element(seg, 3), id=optional(seg, 9), id_qualifier=optional(seg, 8), entity=element(seg, 1),
                 entity_type=element(seg, 2) or "2", first_name=optional(seg, 4))


class _MemberAcc:
    def __init__(self, level: str, subscriber_id: str | None) -> None:
        self.level = level
        self.fields: dict[str, object] = {"subscriber_member_id": subscriber_id}
        self.traces: list[Trace] = []
        self.dates: list[BenefitDate] = []
        self.benefits: list[Benefit] = []
        self.rejections: list[Rejection] = []
        self.references: list[tuple[str, str]] = []

    def freeze(self) -> Member:
        f = self.fields

        def s(key: str) -> str | None:
            v = f.get(key)
            return v if isinstance(v, str) else None

        dob = f.get("birth_date")
        return Member(
            level=self.level, last_name=s("last_name"), first_name=s("first_name"), member_id=s("member_id"),
            id_qualifier=s("id_qualifier"), traces=tuple(self.traces),
            birth_date=dob if isinstance(dob, date) else None, gender=s("gender"), dates=tuple(self.dates),
            benefits=tuple(self.benefits), rejections=tuple(self.rejections),
            references=tuple(self.references), subscriber_member_id=s("subscriber_member_id"))


class _BenefitAcc:
    def __init__(self, eb: Benefit) -> None:
        self.eb = eb
        self.limits: list[Limit] = []
        self.dates: list[BenefitDate] = []
        self.messages: list[str] = []
        self.rejections: list[Rejection] = []
        self.references: list[tuple[str, str]] = []
        self.related: list[Party] = []

    def freeze(self) -> Benefit:
        e = self.eb
        return Benefit(
            code=e.code, coverage_level=e.coverage_level, service_types=e.service_types,
            insurance_type=e.insurance_type, plan_description=e.plan_description, time_period=e.time_period,
            amount=e.amount, percent=e.percent, quantity_qualifier=e.quantity_qualifier, quantity=e.quantity,
            auth_indicator=e.auth_indicator, network_indicator=e.network_indicator, procedure=e.procedure,
            limits=tuple(self.limits), dates=tuple(self.dates), messages=tuple(self.messages),
            rejections=tuple(self.rejections), references=tuple(self.references), related=tuple(self.related))


def _eb(seg: Segment, d: Delimiters, n: int) -> Benefit:
    code = element(seg, 1)
    if not code:
        raise TransactionError("EB01 is empty", segment_number=n, segment_id="EB", element=1,
                               expected="an eligibility or benefit code")
    st = element(seg, 3)
    types = tuple(t for t in (st.split(d.repetition) if d.repetition else [st]) if t)
    return Benefit(
        code=code, coverage_level=optional(seg, 2), service_types=types, insurance_type=optional(seg, 4),
        plan_description=optional(seg, 5), time_period=optional(seg, 6), amount=_num(seg, 7, n, money=True),
        percent=_num(seg, 8, n), quantity_qualifier=optional(seg, 9), quantity=_num(seg, 10, n),
        auth_indicator=optional(seg, 11), network_indicator=optional(seg, 12),
        procedure=tuple(element(seg, 13).split(d.component)) if element(seg, 13) else ())


def parse_271(ts: TransactionSet) -> EligibilityResponse:
    """Parse one 271 transaction set."""
    d = ts.delimiters
    source: Party | None = None
    receiver: Party | None = None
    created: date | None = None
    created_time, reference, purpose = "", None, ""
    top_rejections: list[Rejection] = []
    members: list[Member] = []
    member: _MemberAcc | None = None
    benefit: _BenefitAcc | None = None
    subscriber_id: str | None = None
    level = ""
    in_ls = False
    n = ts.segment_number - 1

    def close_benefit() -> None:
        nonlocal benefit, in_ls
        if benefit is not None and member is not None:
            member.benefits.append(benefit.freeze())
        benefit, in_ls = None, False

    def close_member() -> None:
        nonlocal member
        close_benefit()
        if member is not None:
            members.append(member.freeze())
        member = None

    for seg in ts.segments:
        n += 1
        sid = seg[0]
        if sid == "BHT":
            purpose, reference = element(seg, 2), optional(seg, 3)
            created = parse_d8(element(seg, 4), n, "BHT", 4)
            created_time = element(seg, 5)
        elif sid == "HL":
            close_member()
            level = element(seg, 3)
            if level == "22":
                member = _MemberAcc("subscriber", None)
            elif level == "23":
                member = _MemberAcc("dependent", subscriber_id)
        elif sid == "LS":
            in_ls = True
        elif sid == "LE":
            in_ls = False
        elif sid == "NM1":
            if benefit is not None:
                if in_ls:
                    benefit.related.append(_party(seg))
            elif level == "20":
                source = _party(seg)
            elif level == "21":
                receiver = _party(seg)
            elif member is not None:
                member.fields.update(last_name=optional(seg, 3), first_name=optional(seg, 4), member_id=optional(seg, 9),
                                     id_qualifier=optional(seg, 8))
                if member.level == "subscriber":
                    subscriber_id = optional(seg, 9)
        elif sid == "TRN" and member is not None:
            member.traces.append(Trace(element(seg, 1), element(seg, 2), element(seg, 3), optional(seg, 4)))
        elif sid == "AAA":
            if benefit is not None and member is not None:
                benefit.rejections.append(_aaa(seg, "2110C" if member.level == "subscriber" else "2110D"))
            elif member is not None:
                member.rejections.append(_aaa(seg, "2100C" if member.level == "subscriber" else "2100D"))
            elif level == "20":
                top_rejections.append(_aaa(seg, "2100A" if source is not None else "2000A"))
            else:
                top_rejections.append(_aaa(seg, "2100B"))
        elif sid == "DMG" and member is not None and benefit is None:
            if element(seg, 2):
                member.fields["birth_date"] = parse_d8(element(seg, 2), n, "DMG", 2)
            member.fields["gender"] = optional(seg, 3)
        elif sid == "REF":
            pair = (element(seg, 1), element(seg, 2))
            if benefit is not None:
                benefit.references.append(pair)
            elif member is not None:
                member.references.append(pair)
        elif sid == "DTP":
            if benefit is not None:
                benefit.dates.append(_dtp(seg, n))
            elif member is not None:
                member.dates.append(_dtp(seg, n))
        elif sid == "EB":
            if member is None:
                raise TransactionError("EB outside a subscriber or dependent loop", segment_number=n,
                                       segment_id="EB", expected="HL 22 or 23 first")
            close_benefit()
            benefit = _BenefitAcc(_eb(seg, d, n))
        elif sid == "HSD" and benefit is not None:
            benefit.limits.append(Limit(
                quantity_qualifier=optional(seg, 1), quantity=_num(seg, 2, n), unit=optional(seg, 3),
                sample_modulus=_num(seg, 4, n), time_period=optional(seg, 5), period_count=_num(seg, 6, n),
                frequency=optional(seg, 7), pattern=optional(seg, 8)))
        elif sid == "MSG" and benefit is not None:
            benefit.messages.append(seg[1] if len(seg) > 1 else "")
    close_member()
    if source is None:
        raise TransactionError("271 has no information source name (2100A NM1)",
                               segment_number=ts.segment_number, segment_id="ST", expected="NM1*PR")
    if created is None:
        raise TransactionError("271 has no BHT", segment_number=ts.segment_number, segment_id="ST",
                               expected="BHT")
    return EligibilityResponse(source=source, receiver=receiver, members=tuple(members), created=created,
                               created_time=created_time, reference=reference, purpose=purpose,
                               rejections=tuple(top_rejections))


# --------------------------------------------------------------------------------------------
# Inspect JSON
# --------------------------------------------------------------------------------------------


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _money(d: Decimal | None) -> str | None:
    return None if d is None else f"{d:.2f}"


def _qty(d: Decimal | None) -> str | None:
    return None if d is None else f"{d.normalize():f}"


def _rejection_json(r: Rejection) -> dict[str, object]:
    return {"loop": r.loop, "reason_code": r.reason_code, "reason": r.reason,
            "follow_up_code": r.follow_up_code, "follow_up": r.follow_up, "valid_request": r.valid_request}


def _dates_json(ds: Sequence[BenefitDate]) -> list[dict[str, str | None]]:
    return [{"qualifier": x.qualifier, "start": _iso(x.start), "end": _iso(x.end)} for x in ds]


def _party_json(p: Party | None) -> dict[str, object] | None:
    if p is None:
        return None
    return {"entity": p.entity, "name": p.name if not p.first_name else f"{p.name}, {p.first_name}",
            "id": p.id, "id_qualifier": p.id_qualifier}


def _benefit_json(b: Benefit) -> dict[str, object]:
    return {
        "code": b.code, "description": b.description, "coverage_level": b.coverage_level,
        "service_types": list(b.service_types),
        "service_type_descriptions": [codes.service_types().describe(t) for t in b.service_types],
        "insurance_type": b.insurance_type,
        "plan_description": b.plan_description, "time_period": b.time_period,
        "time_period_description": b.time_period_description, "amount": _money(b.amount),
        "percent": _qty(b.percent), "quantity_qualifier": b.quantity_qualifier, "quantity": _qty(b.quantity),
        "auth_required": b.auth_required, "in_network": b.in_network,
        "procedure": list(b.procedure) or None,
        "limits": [{"quantity_qualifier": x.quantity_qualifier, "quantity": _qty(x.quantity), "unit": x.unit,
                    "time_period": x.time_period, "time_period_description": x.time_period_description,
                    "period_count": _qty(x.period_count)} for x in b.limits],
        "dates": _dates_json(b.dates), "messages": list(b.messages),
        "rejections": [_rejection_json(r) for r in b.rejections],
        "related": [_party_json(p) for p in b.related],
    }


def inspect_271(ts: TransactionSet) -> dict[str, object]:
    """The ``edi inspect --json`` form of a 271: coverage, benefits and limits per member."""
    r = parse_271(ts)
    members = []
    for m in r.members:
        start, end = m.coverage_period
        members.append({
            "level": m.level, "trace": m.trace,
            "traces": [{"type": t.type, "number": t.number, "assigner": t.assigner} for t in m.traces],
            "member_id": m.member_id, "subscriber_member_id": m.subscriber_member_id,
            "last_name": m.last_name, "first_name": m.first_name, "birth_date": _iso(m.birth_date),
            "coverage": m.coverage, "coverage_period": {"start": _iso(start), "end": _iso(end)},
            "dates": _dates_json(m.dates),
            "references": [{"qualifier": q, "value": v} for q, v in m.references],
            "rejections": [_rejection_json(x) for x in m.rejections],
            "benefits": [_benefit_json(b) for b in m.benefits],
        })
    return {
        "set": "271", "control_number": ts.control_number, "reference": r.reference,
        "created": _iso(r.created), "source": _party_json(r.source), "receiver": _party_json(r.receiver),
        "rejections": [_rejection_json(x) for x in r.rejections], "members": members,
    }


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def _x12_num(d: Decimal | None) -> str | None:
    if d is None:
        return None
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fmt_d8(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def _dtp_seg(x: BenefitDate) -> list[Element]:
    if x.end is None:
        return ["DTP", x.qualifier, "D8", _fmt_d8(x.start)]
    return ["DTP", x.qualifier, "RD8", f"{_fmt_d8(x.start)}-{_fmt_d8(x.end)}"]


def _aaa_seg(r: Rejection) -> list[Element]:
    return ["AAA", "Y" if r.valid_request else "N", None, r.reason_code, r.follow_up_code]


def _nm1(p: Party) -> list[Element]:
    return ["NM1", p.entity, p.entity_type, p.name, p.first_name, None, None, None, p.id_qualifier, p.id]


def _benefit_segs(b: Benefit, d: Delimiters) -> list[list[Element]]:
    if len(b.service_types) > 1 and not d.repetition:
        raise BuildError("EB03 repeats but the interchange has no repetition separator", segment_id="EB",
                         element=3, expected="ISA11 repetition separator")
    out: list[list[Element]] = [[
        "EB", b.code, b.coverage_level, d.repetition.join(b.service_types) or None, b.insurance_type,
        b.plan_description, b.time_period, _x12_num(b.amount), _x12_num(b.percent), b.quantity_qualifier,
        _x12_num(b.quantity), b.auth_indicator, b.network_indicator, list(b.procedure) or None]]
    for x in b.limits:
        out.append(["HSD", x.quantity_qualifier, _x12_num(x.quantity), x.unit, _x12_num(x.sample_modulus),
                    x.time_period, _x12_num(x.period_count), x.frequency, x.pattern])
    out += [["REF", q, v] for q, v in b.references]
    out += [_dtp_seg(x) for x in b.dates]
    out += [_aaa_seg(r) for r in b.rejections]
    out += [["MSG", m] for m in b.messages]
    if b.related:
        out.append(["LS", "2120"])
        out += [_nm1(p) for p in b.related]
        out.append(["LE", "2120"])
    return out


def _body(r: EligibilityResponse, d: Delimiters) -> list[list[Element]]:
    def at(loop: str) -> list[list[Element]]:
        return [_aaa_seg(x) for x in r.rejections if x.loop == loop]

    body: list[list[Element]] = [
        ["BHT", "0022", r.purpose, r.reference, _fmt_d8(r.created), r.created_time],
        ["HL", "1", None, "20", "1" if r.receiver is not None else "0"], *at("2000A"), _nm1(r.source),
        *at("2100A")]
    if r.receiver is None:
        if r.members:
            raise BuildError("a 271 with subscribers needs the information receiver (2100B)", segment_id="NM1")
        return body
    body += [["HL", "2", "1", "21", "1" if r.members else "0"], _nm1(r.receiver), *at("2100B")]
    hl, sub_hl = 2, None
    for i, m in enumerate(r.members):
        hl += 1
        nxt = r.members[i + 1] if i + 1 < len(r.members) else None
        if m.level == "subscriber":
            sub_hl = hl
            has_dep = nxt is not None and nxt.level == "dependent"
            body.append(["HL", str(hl), "2", "22", "1" if has_dep else "0"])
            entity = "IL"
        elif m.level == "dependent":
            if sub_hl is None:
                raise BuildError("a dependent must follow its subscriber", segment_id="HL")
            body.append(["HL", str(hl), str(sub_hl), "23", "0"])
            entity = "03"
        else:
            raise BuildError(f"member level {m.level!r} is neither subscriber nor dependent", segment_id="HL")
        body += [["TRN", t.type, t.number, t.assigner, t.additional] for t in m.traces]
        body.append(["NM1", entity, "1", m.last_name, m.first_name, None, None, None, m.id_qualifier,
                     m.member_id])
        body += [["REF", q, v] for q, v in m.references]
        body += [_aaa_seg(x) for x in m.rejections]
        if m.birth_date is not None or m.gender is not None:
            body.append(["DMG", "D8" if m.birth_date else None,
                         _fmt_d8(m.birth_date) if m.birth_date else None, m.gender])
        body += [_dtp_seg(x) for x in m.dates]
        for b in m.benefits:
            body += _benefit_segs(b, d)
    return body


def build_271(
    responses: Sequence[EligibilityResponse],
    *,
    interchange: InterchangeSpec,
    group_control_number: int,
    first_transaction_number: int = 1,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange of 271 transaction sets (005010X279A1), one per response."""
    if not responses:
        raise BuildError("nothing to write: no 271 response given", segment_id="ST")
    return build_sets(interchange, functional_id="HB", set_id="271", implementation=IMPLEMENTATION,
                      bodies=[_body(r, delimiters) for r in responses], group_control_number=group_control_number,
                      first_transaction_number=first_transaction_number, delimiters=delimiters, newline=newline)
