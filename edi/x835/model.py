"""835 data: the dataclasses a remittance is read into and built from, and the balancing rules.

:class:`Remittance835` holds the :class:`Payment` (BPR/TRN), the payer and payee
(:class:`Party`, loops 1000A/1000B), the claims (:class:`ClaimPayment`, loop 2100, with
:class:`ServiceLine` 2110, :class:`Adjustment` CAS and :class:`Name` NM1) and the
:class:`ProviderAdjustment` (PLB). :func:`balance_claim` checks a claim's and its lines' arithmetic
(:class:`BalanceFinding` for what does not add up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

__all__ = [
    "IMPLEMENTATION",
    "Adjustment",
    "BalanceFinding",
    "ClaimPayment",
    "Contact",
    "Name",
    "Party",
    "Payment",
    "ProviderAdjustment",
    "Remittance835",
    "ServiceLine",
    "balance_claim",
]

IMPLEMENTATION = "005010X221A1"
ZERO = Decimal("0.00")
ONE = Decimal("1")
_CENT = Decimal("0.01")

# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payment:
    """BPR and TRN: the money that moved and the trace number that ties it to the deposit."""

    amount: Decimal  # BPR02, unsigned as written
    credit_debit: str  # BPR03: C credit to the payee, D debit
    method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    date: date | None  # BPR16
    trace_number: str  # TRN02
    payer_tax_id: str = ""  # TRN03 (originating company: '1' + EIN)
    handling: str = "I"  # BPR01
    format: str = ""  # BPR05: CCP, CTX
    trace_type: str = "1"  # TRN01
    trace_reference: str = ""  # TRN04
    sender_dfi_qualifier: str = ""  # BPR06
    sender_dfi_id: str = ""  # BPR07
    sender_account_qualifier: str = ""  # BPR08
    sender_account: str = field(default="", repr=False)  # BPR09
    originator_company_id: str = ""  # BPR10
    originator_supplemental: str = ""  # BPR11
    receiver_dfi_qualifier: str = ""  # BPR12
    receiver_dfi_id: str = ""  # BPR13
    receiver_account_qualifier: str = ""  # BPR14
    receiver_account: str = field(default="", repr=False)  # BPR15

    @property
    def signed_amount(self) -> Decimal:
        """BPR02 with its BPR03 sign: negative for a debit."""
        return -self.amount if self.credit_debit == "D" else self.amount


@dataclass(frozen=True, slots=True)
class Contact:
    """PER: a contact function (CX, BL, IC), a name, and (qualifier, number) pairs."""

    function: str
    name: str = ""
    numbers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Party:
    """N1 loop of the payer (1000A, entity PR) or the payee (1000B, entity PE)."""

    entity_code: str
    name: str
    id_qualifier: str = ""  # N103: XV, XX (NPI), FI (tax id)
    id: str = ""  # N104
    address: tuple[str, ...] = ()  # N301, N302
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    references: tuple[tuple[str, str], ...] = ()  # REF (qualifier, value)
    contacts: tuple[Contact, ...] = ()

    @property
    def npi(self) -> str | None:
        """The NPI when N103 is XX."""
        return self.id if self.id_qualifier == "XX" and self.id else None

    def reference(self, qualifier: str) -> str | None:
        """The first REF value with ``qualifier`` (e.g. TJ tax id, 2U payer id)."""
        return next((v for q, v in self.references if q == qualifier), None)


@dataclass(frozen=True, slots=True)
class Name:
    """NM1 in a claim: patient (QC), insured (IL), corrected (74), rendering (82), ... Names are PHI."""

    entity_code: str
    entity_type: str = "1"
    last_name: str = field(default="", repr=False)
    first_name: str = field(default="", repr=False)
    middle_name: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)
    id_qualifier: str = ""
    id: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triple: group (CO, PR, OA, PI, CR), CARC reason, amount, optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """2110 loop: SVC with its dates, adjustments, references, amounts and remarks."""

    procedure: str  # SVC01-2
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    procedure_qualifier: str = "HC"  # SVC01-1
    modifiers: tuple[str, ...] = ()  # SVC01-3..6
    description: str = ""  # SVC01-7
    revenue_code: str = ""  # SVC04
    units: Decimal = ONE  # SVC05 (1 when absent)
    original_qualifier: str = ""  # SVC06-1
    original_procedure: str = ""  # SVC06-2
    original_modifiers: tuple[str, ...] = ()  # SVC06-3..6
    original_units: Decimal | None = None  # SVC07
    dates: tuple[tuple[str, date], ...] = ()  # DTM (472, 150, 151)
    line_control_number: str | None = None  # REF*6R
    references: tuple[tuple[str, str], ...] = ()  # other REF
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # LQ*HE
    other_remarks: tuple[tuple[str, str], ...] = ()  # LQ with another qualifier (RX)
    amounts: tuple[tuple[str, Decimal], ...] = ()  # AMT (B6 allowed, ...)
    quantities: tuple[tuple[str, Decimal], ...] = ()  # QTY
    segment_number: int = field(default=0, compare=False)  # of the SVC in the file

    @property
    def date(self) -> date | None:
        """The service date: DTM*472, else DTM*150 (period start)."""
        for qualifier in ("472", "150"):
            for q, d in self.dates:
                if q == qualifier:
                    return d
        return None

    def amount(self, qualifier: str) -> Decimal | None:
        """The first AMT with ``qualifier`` (B6 is the allowed amount)."""
        return next((a for q, a in self.amounts if q == qualifier), None)


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """2100 loop: one CLP with its adjustments, names, remarks, references, dates and lines."""

    claim_id: str  # CLP01
    status_code: str  # CLP02 (1, 2, 3 primary/secondary/tertiary, 4 denied, 19-21 crossover, 22 reversal)
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal = ZERO  # CLP05 (0.00 when absent)
    filing_indicator: str = ""  # CLP06
    payer_claim_number: str = ""  # CLP07
    facility_code: str = ""  # CLP08 (place of service for professional claims)
    frequency_code: str = ""  # CLP09
    drg_code: str = ""  # CLP11
    header_number: int | None = None  # LX01 of the 2000 loop the claim is in
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    patient: Name | None = None  # NM1*QC
    insured: Name | None = None  # NM1*IL
    other_names: tuple[Name, ...] = ()  # NM1*74, 82, TT, PR, GB
    moa: tuple[str, ...] = ()  # MOA elements as written (MOA01..)
    mia: tuple[str, ...] = ()  # MIA elements as written (MIA01..)
    references: tuple[tuple[str, str], ...] = ()  # REF (qualifier, value)
    dates: tuple[tuple[str, date], ...] = ()  # DTM (232, 233, 036, 050)
    amounts: tuple[tuple[str, Decimal], ...] = ()  # AMT
    quantities: tuple[tuple[str, Decimal], ...] = ()  # QTY
    lines: tuple[ServiceLine, ...] = ()
    segment_number: int = field(default=0, compare=False)  # of the CLP in the file

    @property
    def remarks(self) -> tuple[str, ...]:
        """Claim remark codes: MOA03-07, MIA05 and MIA20-23, in that order."""
        out = [c for c in self.moa[2:7] if c]
        if self.mia:
            out += [c for c in (self.mia[4:5] + self.mia[19:23]) if c]
        return tuple(out)

    @property
    def is_reversal(self) -> bool:
        """CLP02 22: a reversal of a previous payment (amounts negated)."""
        return self.status_code == "22"

    def date(self, qualifier: str) -> date | None:
        """The first DTM with ``qualifier`` (232 statement from, 233 to, 050 received)."""
        return next((d for q, d in self.dates if q == qualifier), None)

    def reference(self, qualifier: str) -> str | None:
        """The first REF value with ``qualifier``."""
        return next((v for q, v in self.references if q == qualifier), None)


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment: reason (PLB03-1) and reference (PLB03-2); positive amounts reduce payment."""

    provider_id: str
    fiscal_date: date | None
    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Remittance835:
    """A whole 835 transaction set, for building (and for :func:`parse_835` on small files)."""

    payment: Payment
    payer: Party
    payee: Party
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    references: tuple[tuple[str, str], ...] = ()  # header REF (EV receiver, F2 version)
    production_date: date | None = None  # DTM*405
    currency: str = ""  # CUR02


@dataclass(frozen=True, slots=True)
class BalanceFinding:
    """Something that does not add up; ``line_index`` is 0-based within the claim's lines."""

    level: Literal["line", "claim", "transaction"]
    claim_id: str | None
    line_index: int | None
    expected: Decimal
    actual: Decimal
    message: str

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------
# Balancing
# --------------------------------------------------------------------------------------------


def _check_claim(c: ClaimPayment, findings: list[BalanceFinding]) -> None:
    claim_adj = ZERO
    for a in c.adjustments:
        claim_adj += a.amount
    line_adj = ZERO
    for idx, line in enumerate(c.lines):
        la = ZERO
        for a in line.adjustments:
            la += a.amount
        line_adj += la
        if line.charge - la != line.paid:
            findings.append(BalanceFinding(
                "line", c.claim_id, idx, line.charge - la, line.paid,
                f"claim {c.claim_id} line {idx + 1}: SVC02 {line.charge} - adjustments {la} = "
                f"{line.charge - la}, SVC03 says {line.paid}"))
    expected = c.charge - claim_adj - line_adj
    if expected != c.paid:
        findings.append(BalanceFinding(
            "claim", c.claim_id, None, expected, c.paid,
            f"claim {c.claim_id}: CLP03 {c.charge} - adjustments {claim_adj + line_adj} = {expected}, "
            f"CLP04 says {c.paid}"))


def balance_claim(claim: ClaimPayment) -> list[BalanceFinding]:
    """The line and claim findings of one claim (empty when it adds up)."""
    out: list[BalanceFinding] = []
    _check_claim(claim, out)
    return out

