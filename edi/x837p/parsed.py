"""What :func:`edi.x837p.parse_837p` returns: an 837P transaction set as the file says it.

:class:`ClaimSubmission` one transaction set (BHT, 1000A submitter, 1000B receiver) holding
:class:`SubmittedClaim` (loop 2300 with its 2000A billing provider, 2000B subscriber and payer,
2000C patient and 2310B rendering provider), each with :class:`SubmittedOtherPayer` (loops 2320,
2330A, 2330B) and :class:`SubmittedLine` (loop 2400) with :class:`SubmittedAdjudication` (loop
2430). CAS triplets are the builder's :class:`edi.x837p.model.CasAdjustment`, so what was built
compares equal to what is read. Amounts are ``Decimal``; codes are as written (diagnoses without
their dot, relationships as SBR02 codes). Names, member ids and dates of birth
(:class:`edi._read.Person`) are PHI and stay out of ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from edi._read import Entity, Person
from edi.x837p.model import CasAdjustment

__all__ = ["ClaimSubmission", "SubmittedAdjudication", "SubmittedClaim", "SubmittedLine", "SubmittedOtherPayer"]

_Day = date  # SubmittedAdjudication has a field named ``date``


@dataclass(frozen=True, slots=True)
class SubmittedAdjudication:
    """Loop 2430: how an earlier payer adjudicated the line (SVD, CAS, DTP*573)."""

    payer_id: str
    paid: Decimal
    procedure: str
    modifiers: tuple[str, ...] = ()
    units: Decimal | None = None
    procedure_qualifier: str = "HC"
    adjustments: tuple[CasAdjustment, ...] = ()
    date: date | None = None

    @property
    def adjudication_date(self) -> _Day | None:
        """DTP*573, under the builder's name (:attr:`edi.x837p.model.LineAdjudication.adjudication_date`)."""
        return self.date


@dataclass(frozen=True, slots=True)
class SubmittedLine:
    """Loop 2400: LX, SV1, DTP*472, REF*6R (line control number), REF*G1, and its 2430 loops."""

    number: int
    procedure: str
    charge: Decimal
    modifiers: tuple[str, ...] = ()
    units: Decimal = Decimal(1)
    unit_basis: str = "UN"
    procedure_qualifier: str = "HC"
    place_of_service: str | None = None
    diagnosis_pointers: tuple[int, ...] = ()
    service_date: date | None = None
    service_date_end: date | None = None
    line_control_number: str | None = None
    prior_auth: str | None = None
    adjudications: tuple[SubmittedAdjudication, ...] = ()


@dataclass(frozen=True, slots=True)
class SubmittedOtherPayer:
    """Loops 2320 (SBR, CAS, AMT*D), 2330A (the other payer's subscriber) and 2330B (NM1*PR, DTP*573).

    ``relationship`` is SBR02, ``group_number`` SBR03, ``filing_indicator`` SBR09.
    """

    sequence: str
    payer: Entity | None = None
    subscriber: Person | None = None
    relationship: str | None = None
    filing_indicator: str | None = None
    paid: Decimal | None = None
    adjustments: tuple[CasAdjustment, ...] = ()
    adjudication_date: date | None = None
    group_number: str | None = None


@dataclass(frozen=True, slots=True)
class SubmittedClaim:
    """Loop 2300 (CLM, REF*G1, REF*F8, HI) with the loops around it.

    ``payer`` is 2010BB, ``payer_sequence`` SBR01 (P, S, T), ``subscriber`` 2010BA, ``patient``
    2010CA (None when the subscriber is the patient), ``billing_provider`` 2010AA (NPI in ``id``).
    """

    claim_id: str
    charge: Decimal
    place_of_service: str
    frequency_code: str
    payer: Entity
    subscriber: Person
    billing_provider: Entity
    diagnoses: tuple[str, ...]
    lines: tuple[SubmittedLine, ...]
    payer_sequence: str = "P"
    filing_indicator: str | None = None
    relationship: str | None = None
    group_number: str | None = None
    patient: Person | None = None
    patient_relationship: str | None = None
    billing_tax_id: str | None = None
    rendering: Entity | None = None
    prior_auth: str | None = None
    payer_claim_number: str | None = None
    other_payers: tuple[SubmittedOtherPayer, ...] = ()

    @property
    def payer_id(self) -> str:
        """2010BB NM109."""
        return self.payer.id or ""

    @property
    def member_id(self) -> str:
        """2010BA NM109."""
        return self.subscriber.member_id or ""

    @property
    def service_dates(self) -> tuple[date | None, date | None]:
        """The first and last line date of service (None, None when no line has one)."""
        days = [d for ln in self.lines for d in (ln.service_date, ln.service_date_end) if d is not None]
        return (min(days), max(days)) if days else (None, None)


@dataclass(frozen=True, slots=True)
class ClaimSubmission:
    """One 837P transaction set: BHT, the submitter (1000A), the receiver (1000B) and the claims."""

    reference: str
    created: date
    created_time: str
    submitter: Entity
    receiver: Entity | None
    claims: tuple[SubmittedClaim, ...]
    purpose: str = "00"
    claim_type: str = "CH"

    @property
    def billing_provider(self) -> Entity:
        """The first claim's billing provider (2010AA)."""
        return self.claims[0].billing_provider
