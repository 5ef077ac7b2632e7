"""837P builder input: the claims to write and the parties around them (plain frozen dataclasses).

Loop by loop: :class:`BillingProvider` 2000A/2010AA, :class:`Subscriber` 2010BA, :class:`Payer`
2010BB, :class:`Patient` 2000C/2010CA, :class:`Claim837` 2300, :class:`RenderingProvider` 2310B,
:class:`ServiceLine` 2400, :class:`Batch837` one file. The submitter (1000A) and receiver (1000B)
are :class:`edi._envelope.Submitter` and :class:`edi._envelope.Receiver`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from edi._envelope import Receiver, Submitter

__all__ = [
    "Address",
    "Batch837",
    "BillingProvider",
    "Claim837",
    "Patient",
    "Payer",
    "RenderingProvider",
    "ServiceLine",
    "Subscriber",
]


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str
    line2: str = ""


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """Loop 2000A/2010AA: an organisation with an NPI, an EIN and a taxonomy code."""

    name: str
    npi: str
    tax_id: str
    taxonomy: str
    address: Address


@dataclass(frozen=True, slots=True)
class Payer:
    """Loop 2010BB; ``claim_filing_indicator`` is SBR09 (CI commercial, MC Medicaid, ...)."""

    name: str
    payer_id: str
    claim_filing_indicator: str = "CI"


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Loop 2010BA. ``address``, ``dob`` and ``sex`` are required when the subscriber is the patient."""

    last_name: str
    first_name: str
    member_id: str
    dob: date | None = None
    sex: str = "U"
    address: Address | None = None
    group_number: str = ""


@dataclass(frozen=True, slots=True)
class Patient:
    """Loop 2000C/2010CA, used when the patient is not the subscriber."""

    last_name: str
    first_name: str
    dob: date
    sex: str
    address: Address
    relationship: str  # spouse, child, other (or 01, 19, G8)


@dataclass(frozen=True, slots=True)
class RenderingProvider:
    """Loop 2310B: the clinician, a person."""

    npi: str
    last_name: str
    first_name: str
    taxonomy: str = ""


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """Loop 2400. ``diagnosis_pointers`` are 1-based indexes into the claim's diagnoses."""

    procedure: str
    charge: Decimal
    date_of_service: date
    line_control_number: str
    diagnosis_pointers: tuple[int, ...] = (1,)
    modifiers: tuple[str, ...] = ()
    units: int = 1


@dataclass(frozen=True, slots=True)
class Claim837:
    """Loop 2300. ``diagnoses`` are ICD-10-CM codes with or without the dot, principal first.

    ``frequency_code`` 1 original, 7 replacement, 8 void; 7 and 8 need ``payer_claim_number``.
    ``billing_provider`` overrides the batch's for this claim.
    """

    claim_id: str
    place_of_service: str
    diagnoses: tuple[str, ...]
    subscriber: Subscriber
    payer: Payer
    lines: tuple[ServiceLine, ...]
    patient: Patient | None = None
    rendering: RenderingProvider | None = None
    frequency_code: str = "1"
    prior_auth: str = ""
    payer_claim_number: str = ""
    billing_provider: BillingProvider | None = None

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00")).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class Batch837:
    """One file: the claims, the parties around them and BHT03 (``batch_reference``)."""

    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    claims: tuple[Claim837, ...]
    batch_reference: str
