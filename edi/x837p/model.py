"""837P builder input: the claims to write and the parties around them (plain frozen dataclasses).

Loop by loop: :class:`BillingProvider` 2000A/2010AA, :class:`Subscriber` 2010BA, :class:`Payer`
2010BB, :class:`Patient` 2000C/2010CA, :class:`Claim837` 2300, :class:`RenderingProvider` 2310B,
:class:`OtherPayer` 2320/2330A/2330B, :class:`ServiceLine` 2400, :class:`LineAdjudication` 2430
(:class:`CasAdjustment` one CAS triplet), :class:`Batch837` one file. The submitter (1000A) and
receiver (1000B) are :class:`edi._envelope.Submitter` and :class:`edi._envelope.Receiver`.

Coordination of benefits: a claim billed to its primary payer (``payer_sequence`` "P") lists the
other coverage it knows as :class:`OtherPayer` without amounts; a claim billed to a later payer
("S", "T") lists each earlier payer with what it paid (AMT*D), its claim-level CAS and date, and each
line carries one :class:`LineAdjudication` per earlier payer. :func:`line_balance_errors` says
which amounts do not add up (the guide's balancing rules); the builder refuses such a claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from edi._envelope import Receiver, Submitter

__all__ = [
    "Address",
    "Batch837",
    "BillingProvider",
    "CasAdjustment",
    "Claim837",
    "LineAdjudication",
    "OtherPayer",
    "Patient",
    "Payer",
    "RenderingProvider",
    "ServiceLine",
    "Subscriber",
    "line_balance_errors",
]

_ZERO = Decimal("0.00")


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
class CasAdjustment:
    """One CAS triplet: group (CO, PR, OA, PI, CR), reason (CARC), amount and an optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """Loop 2430: how one earlier payer adjudicated one line (SVD, its CAS, DTP*573).

    ``payer_id`` is SVD01 and must be the ``payer_id`` of an adjudicated :class:`OtherPayer` of the
    claim; ``procedure``, ``modifiers`` and ``units`` are as that payer adjudicated them.
    ``adjudication_date`` None: the other payer's ``adjudication_date`` is written.
    """

    payer_id: str
    paid: Decimal
    procedure: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    adjudication_date: date | None = None
    adjustments: tuple[CasAdjustment, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """Loops 2320 (SBR, CAS, AMT*D, OI), 2330A (its subscriber) and 2330B (NM1*PR, DTP*573).

    ``sequence`` is that payer's SBR01 (P, S, T); ``relationship`` the patient's relationship to
    ``subscriber`` (self, spouse, child, other, or the SBR02 code). ``paid`` None: the payer has not
    adjudicated the claim (no CAS, AMT*D or DTP*573 is written); otherwise it is AMT*D,
    ``adjustments`` the claim-level CAS and ``adjudication_date`` its 835 date (2330B DTP*573).
    """

    sequence: str
    relationship: str
    subscriber: Subscriber
    payer: Payer
    paid: Decimal | None = None
    adjudication_date: date | None = None
    adjustments: tuple[CasAdjustment, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """Loop 2400. ``diagnosis_pointers`` are 1-based indexes into the claim's diagnoses.

    ``adjudications``: one 2430 per earlier payer that adjudicated the line (secondary and later claims).
    """

    procedure: str
    charge: Decimal
    date_of_service: date
    line_control_number: str
    diagnosis_pointers: tuple[int, ...] = (1,)
    modifiers: tuple[str, ...] = ()
    units: int = 1
    adjudications: tuple[LineAdjudication, ...] = ()


@dataclass(frozen=True, slots=True)
class Claim837:
    """Loop 2300. ``diagnoses`` are ICD-10-CM codes with or without the dot, principal first.

    ``frequency_code`` 1 original, 7 replacement, 8 void; 7 and 8 need ``payer_claim_number``.
    ``billing_provider`` overrides the batch's for this claim. ``payer_sequence`` is 2000B SBR01 for
    ``payer`` (P, S, T); ``other_payers`` are the other coverages (loops 2320/2330A/2330B).
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
    payer_sequence: str = "P"
    other_payers: tuple[OtherPayer, ...] = ()

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00")).quantize(Decimal("0.01"))


def _total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, _ZERO)


def line_balance_errors(claim: Claim837) -> list[str]:
    """What does not add up in ``claim``'s earlier-payer amounts; empty when everything balances.

    The 005010X222A1 balancing rules, for each earlier payer (an :class:`OtherPayer` with ``paid``):

    * every line with a 2430 for it: line charge = SVD02 + that 2430's CAS amounts;
    * the claim: CLM02 = AMT*D + its 2320 CAS + its 2430 CAS on every line, and, when it has any
      2430, AMT*D = the sum of its SVD02 - its 2320 CAS.

    A 2430 must name an earlier payer of the claim (SVD01 = its 2330B payer id), at most once per
    line. Each message names the claim, the line control number or the payer, and the amounts (no
    patient data), so a caller can hold the claim with it instead of refusing a whole file.
    """
    cid = claim.claim_id
    errors: list[str] = []
    adjudicated = {o.payer.payer_id: o for o in claim.other_payers if o.paid is not None}
    line_paid: dict[str, list[Decimal]] = {pid: [] for pid in adjudicated}
    line_cas: dict[str, list[Decimal]] = {pid: [] for pid in adjudicated}
    for line in claim.lines:
        lcn = line.line_control_number
        seen: set[str] = set()
        for adj in line.adjudications:
            pid = adj.payer_id
            if pid not in adjudicated:
                errors.append(f"claim {cid}: line {lcn} has a 2430 for payer {pid}, which is not an earlier payer "
                              "of the claim with a paid amount (2320 AMT*D)")
                continue
            if pid in seen:
                errors.append(f"claim {cid}: line {lcn} has more than one 2430 for payer {pid}")
                continue
            seen.add(pid)
            cas = _total(a.amount for a in adj.adjustments)
            line_paid[pid].append(adj.paid)
            line_cas[pid].append(cas)
            if line.charge != adj.paid + cas:
                errors.append(f"claim {cid}: line {lcn} does not balance for payer {pid}: charge {line.charge:.2f} "
                              f"!= paid {adj.paid:.2f} + adjustments {cas:.2f}")
    for pid, other in adjudicated.items():
        paid = other.paid if other.paid is not None else _ZERO
        claim_cas = _total(a.amount for a in other.adjustments)
        lines_cas = _total(line_cas[pid])
        if claim.total_charge != paid + claim_cas + lines_cas:
            errors.append(f"claim {cid}: payer {pid} does not balance: charge {claim.total_charge:.2f} != paid "
                          f"{paid:.2f} + claim adjustments {claim_cas:.2f} + line adjustments {lines_cas:.2f}")
        if line_paid[pid] and paid != _total(line_paid[pid]) - claim_cas:
            errors.append(f"claim {cid}: payer {pid} paid {paid:.2f} is not its line payments "
                          f"{_total(line_paid[pid]):.2f} - claim adjustments {claim_cas:.2f}")
    return errors


@dataclass(frozen=True, slots=True)
class Batch837:
    """One file: the claims, the parties around them and BHT03 (``batch_reference``)."""

    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    claims: tuple[Claim837, ...]
    batch_reference: str
