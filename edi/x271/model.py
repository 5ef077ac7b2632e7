"""271 data: the dataclasses an eligibility response is read into and built from, and its code lists.

:class:`EligibilityResponse` (one transaction set) holds the source and receiver (:class:`Party`,
2100A/2100B) and a :class:`Member` per subscriber or dependent (2000C/2000D), each with its
:class:`Trace` (TRN), :class:`BenefitDate` (DTP), :class:`Rejection` (AAA) and :class:`Benefit`
(2110C/D EB with :class:`Limit` HSD). Code lists: :data:`BENEFIT_CODES` (EB01),
:data:`COVERAGE_LEVELS` (EB02), :data:`TIME_PERIODS`, :data:`QUANTITY_QUALIFIERS`,
:data:`REJECT_REASONS` (AAA03), :data:`FOLLOW_UP_CODES` (AAA04).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

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

