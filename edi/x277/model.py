"""277CA and 277 data: the dataclasses a claim status report is read into and built from, and the
status category codes (:data:`CATEGORY_CODES`, :data:`REJECTED_CATEGORIES`).

:class:`ClaimStatusReport` (one transaction set) holds the source and receiver (:class:`Party`,
2100A/2100B), the :class:`ProviderStatus` (2000C) with their :class:`ClaimStatus` (2200D/2200E) and
:class:`LineStatus` (2220D/2220E); each status is an STC, :class:`Status`. Member ids and names
(:class:`Person`) are PHI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from edi import codes

__all__ = [
    "CATEGORY_CODES",
    "REJECTED_CATEGORIES",
    "X212",
    "X214",
    "ClaimStatus",
    "ClaimStatusReport",
    "LineStatus",
    "Party",
    "Person",
    "ProviderStatus",
    "Status",
    "StatusCode",
]

X214 = "005010X214"
X212 = "005010X212"

CATEGORY_CODES: dict[str, str] = {  # STC01-1, code source 507 (short forms)
    "A0": "Acknowledgement/Forwarded",
    "A1": "Acknowledgement/Receipt",
    "A2": "Acknowledgement/Acceptance into adjudication system",
    "A3": "Acknowledgement/Returned as unprocessable claim",
    "A4": "Acknowledgement/Not Found",
    "A5": "Acknowledgement/Split Claim",
    "A6": "Acknowledgement/Rejected for Missing Information",
    "A7": "Acknowledgement/Rejected for Invalid Information",
    "A8": "Acknowledgement/Rejected for relational field in error",
    "P0": "Pending: Adjudication/Details",
    "P1": "Pending/In Process",
    "P2": "Pending/Payer Review",
    "P3": "Pending/Provider Requested Information",
    "P4": "Pending/Patient Requested Information",
    "P5": "Pending/Payer Administrative/System hold",
    "F0": "Finalized",
    "F1": "Finalized/Payment",
    "F2": "Finalized/Denial",
    "F3": "Finalized/Revised",
    "F3F": "Finalized/Forwarded",
    "F3N": "Finalized/Not Forwarded",
    "F4": "Finalized/Adjudication Complete - No payment forthcoming",
    "R0": "Requests for additional Information/General Requests",
    "R1": "Requests for additional Information/Entity Requests",
    "R3": "Requests for additional Information/Claim/Line",
    "R4": "Requests for additional Information/Documentation",
    "R5": "Request for additional information/more specific detail",
    "E0": "Response not possible - error on submitted request data",
    "E1": "Response not possible - System Status",
    "E2": "Information Holder is not responding; resubmit at a later time",
    "E3": "Correction required - relational fields in error",
    "E4": "Trading partner agreement specific requirement not met",
    "D0": "Data Search Unsuccessful",
}


REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8", "E0", "E3", "E4"})
"""Category codes meaning the claim was not taken into adjudication."""



@dataclass(frozen=True, slots=True)
class Party:
    """An organisation or person named in an NM1 (source, receiver, provider)."""

    name: str
    id: str
    id_qualifier: str = "PI"
    entity_type: str = "2"
    first_name: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A patient, subscriber or dependent (PHI)."""

    last_name: str
    first_name: str | None = None
    member_id: str | None = None
    id_qualifier: str = "MI"


@dataclass(frozen=True, slots=True)
class StatusCode:
    """An STC01/STC10/STC11 composite: category, status code, entity."""

    category: str
    code: str
    entity: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """One STC segment."""

    category: str
    code: str
    entity: str | None = None
    date: dt.date | None = None  # STC02
    action_code: str | None = None  # STC03 (277CA: WQ accepted, U rejected)
    charge: Decimal | None = None  # STC04
    payment: Decimal | None = None  # STC05
    finalized_date: dt.date | None = None  # STC06
    payment_method: str | None = None  # STC07
    remittance_date: dt.date | None = None  # STC08
    remittance_trace: str | None = None  # STC09
    additional: tuple[StatusCode, ...] = ()  # STC10, STC11
    message: str | None = None  # STC12

    @property
    def category_description(self) -> str:
        short = CATEGORY_CODES.get(self.category)
        return short if short is not None else codes.claim_status_categories().describe(self.category)

    @property
    def code_description(self) -> str:
        """From the claim status code list (508) in :mod:`edi.codes`; unknown codes say so."""
        return codes.claim_status_codes().describe(self.code)

    @property
    def rejected(self) -> bool:
        return self.category in REJECTED_CATEGORIES


@dataclass(frozen=True, slots=True)
class LineStatus:
    """2220D/2220E: the status of one service line."""

    procedure: str
    charge: Decimal
    statuses: tuple[Status, ...]
    qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    paid: Decimal | None = None  # SVC03
    revenue_code: str | None = None
    units: Decimal | None = None  # SVC07
    line_control_number: str | None = None  # REF*FJ
    service_date: date | None = None
    service_date_end: date | None = None


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """2200D/2200E: the status of one claim."""

    trace_number: str  # TRN02
    statuses: tuple[Status, ...]
    patient: Person
    subscriber: Person | None = None  # set when the claim is at the dependent level (277 2000E)
    patient_control_number: str | None = None  # REF*EJ (277)
    payer_claim_number: str | None = None  # REF*1K
    clearinghouse_trace: str | None = None  # REF*D9
    bill_type: str | None = None  # REF*BLT
    service_date: date | None = None
    service_date_end: date | None = None
    lines: tuple[LineStatus, ...] = ()

    @property
    def claim_id(self) -> str:
        """Our claim id (CLM01): REF*EJ when given, else TRN02."""
        return self.patient_control_number or self.trace_number

    @property
    def member_id(self) -> str | None:
        if self.patient.member_id:
            return self.patient.member_id
        return self.subscriber.member_id if self.subscriber else None

    @property
    def rejected(self) -> bool:
        """True when any claim-level status has a rejection category (A3, A4, A6, A7, A8, E0, E3, E4)."""
        return any(s.rejected for s in self.statuses)


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """2000C: a billing/service provider with its own status and its claims."""

    provider: Party | None
    claims: tuple[ClaimStatus, ...] = ()
    trace: str | None = None  # 2200C TRN02
    statuses: tuple[Status, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimStatusReport:
    """One 277CA or 277 transaction set."""

    source: Party
    receiver: Party
    providers: tuple[ProviderStatus, ...]
    created: date
    created_time: str = "1200"
    reference: str = ""  # BHT03
    source_trace: str | None = None  # 2200A TRN02 (277CA)
    receipt_date: date | None = None  # 2200A DTP*050
    process_date: date | None = None  # 2200A DTP*009
    receiver_trace: str | None = None  # 2200B TRN02 (our batch / 837 BHT03)
    receiver_statuses: tuple[Status, ...] = ()
    payer_contact: tuple[str, ...] = field(default=())  # 277 2100A PER (raw elements), not PHI

    @property
    def claims(self) -> tuple[ClaimStatus, ...]:
        return tuple(c for p in self.providers for c in p.claims)
