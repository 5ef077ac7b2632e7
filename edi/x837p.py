"""837P professional claim builder, 005010X222A1.

Plain frozen dataclasses in, X12 text out (through :func:`edi.x12.build_interchange`, which counts
SE01/GE01/IEA01). One interchange, one functional group and one transaction set per batch; the
hierarchy is::

    2000A billing provider (HL 20)        once per billing provider
      2000B subscriber (HL 22)            once per payer + subscriber (+ patient)
        2300 claims                       when the subscriber is the patient
        2000C patient (HL 23)             when the patient is not the subscriber
          2300 claims

Inputs are checked before anything is written; a problem raises :class:`edi.errors.BuildError`
naming the claim id and the field, never a patient's data. Free text (names, addresses) is
upper-cased and reduced to the X12 basic character set, so no value can collide with a delimiter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edi.errors import BuildError
from edi.x12 import (
    DEFAULT_DELIMITERS,
    Element,
    GroupSpec,
    InterchangeSpec,
    TransactionSpec,
    build_interchange,
)

__all__ = [
    "IMPLEMENTATION",
    "Address",
    "Batch837",
    "BillingProvider",
    "Claim837",
    "Patient",
    "Payer",
    "Receiver",
    "RenderingProvider",
    "ServiceLine",
    "Submitter",
    "Subscriber",
    "build_837p",
    "clean_text",
    "relationship_code",
]

IMPLEMENTATION = "005010X222A1"

MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_CLAIM_ID = 20
MAX_LINES = 50

# X12 basic character set (upper case, digits, space and these specials), minus the delimiters we
# write with (* : ^ ~) so that no value can end an element, a component or a segment.
_BASIC_SPECIALS = "!\"&'()+,-./;?= "
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + _BASIC_SPECIALS)
_DX = re.compile(r"^[A-Z][0-9][0-9A-Z]([0-9A-Z]{1,4})?$")
_CODE = re.compile(r"^[A-Z0-9]+$")
_RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8", "01": "01", "19": "19", "G8": "G8"}
_SEX = ("M", "F", "U")


_PLAIN = re.compile(r"[A-Z0-9!\"&'()+,\-./;?=]+( [A-Z0-9!\"&'()+,\-./;?=]+)*\Z")


def clean_text(value: str, max_len: int | None = None) -> str:
    """Upper-case ``value``, fold accents, drop characters outside the X12 basic set, squeeze spaces."""
    if value.isascii():  # the common case: nothing to fold
        upper = value.upper()
        if _PLAIN.match(upper):
            return upper if max_len is None else upper[:max_len].rstrip()
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).upper()
    kept = "".join(c if c in _ALLOWED else " " for c in folded)
    text = " ".join(kept.split())
    if max_len is not None:
        text = text[:max_len].rstrip()
    return text


def relationship_code(relationship: str, claim_id: str | None = None) -> str:
    """PAT01 code for ``spouse``, ``child``, ``other`` (or the code itself: 01, 19, G8)."""
    key = relationship.strip()
    code = _RELATIONSHIP.get(key.lower()) or _RELATIONSHIP.get(key.upper())
    if code is None or key.lower() == "self":
        raise _err(f"patient relationship {relationship!r} is not spouse, child or other", claim_id,
                   "spouse, child or other")
    return code


# --------------------------------------------------------------------------------------------
# Input data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str
    line2: str = ""


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


# --------------------------------------------------------------------------------------------
# Formatting helpers shared by the outbound builders
# --------------------------------------------------------------------------------------------


def money(amount: Decimal) -> str:
    """An X12 R value for a cents amount: 180, 180.5, 180.55 (no trailing zeros)."""
    q = amount.quantize(Decimal("0.01"))
    text = f"{q:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def ident(value: str, *, what: str, claim_id: str | None = None, max_len: int = 80) -> str:
    """An identifier (member id, payer id, auth number): upper case letters, digits and basic specials."""
    text = clean_text(value).replace(" ", "")
    if not text:
        raise _err(f"{what} is missing", claim_id)
    if len(text) > max_len:
        raise _err(f"{what} is longer than {max_len} characters", claim_id)
    return text


def _err(message: str, claim_id: str | None, expected: str | None = None) -> BuildError:
    prefix = f"claim {claim_id}: " if claim_id else ""
    return BuildError(prefix + message, expected=expected)


def check_npi(npi: str, *, what: str, claim_id: str | None = None) -> str:
    if not npi:
        raise _err(f"{what} NPI is missing", claim_id, "10 digits")
    if len(npi) != 10 or not npi.isdigit():
        raise _err(f"{what} NPI is not 10 digits", claim_id, "10 digits")
    return npi


def person_name(last: str, first: str, *, what: str, claim_id: str | None) -> tuple[str, str]:
    last_c, first_c = clean_text(last, 60), clean_text(first, 35)
    if not last_c:
        raise _err(f"{what} last name is missing", claim_id)
    return last_c, first_c


def address_segments(addr: Address, *, what: str, claim_id: str | None,
                     zip9: bool = False) -> list[list[Element]]:
    line1 = clean_text(addr.line1, 55)
    city = clean_text(addr.city, 30)
    state = clean_text(addr.state)
    zipc = addr.zip.replace("-", "").strip()
    if not line1 or not city:
        raise _err(f"{what} address is incomplete", claim_id)
    if len(state) != 2 or not state.isalpha():
        raise _err(f"{what} state is not a 2-letter code", claim_id, "2 letters")
    if not zipc.isdigit() or len(zipc) not in ((9,) if zip9 else (5, 9)):
        raise _err(f"{what} ZIP code is not {'9' if zip9 else '5 or 9'} digits", claim_id)
    n3: list[Element] = ["N3", line1]
    line2 = clean_text(addr.line2, 55)
    if line2:
        n3.append(line2)
    return [n3, ["N4", city, state, zipc]]


def demographics(dob: date | None, sex: str, *, what: str, claim_id: str | None) -> list[Element]:
    if dob is None:
        raise _err(f"{what} date of birth is missing", claim_id)
    sex_c = (sex or "U").upper()
    if sex_c not in _SEX:
        raise _err(f"{what} sex is not M, F or U", claim_id, "M, F or U")
    return ["DMG", "D8", d8(dob), sex_c]


def envelope_times(created: datetime) -> tuple[str, str, str]:
    """ISA date (YYMMDD), GS/BHT date (CCYYMMDD) and time (HHMM)."""
    return created.strftime("%y%m%d"), created.strftime("%Y%m%d"), created.strftime("%H%M")


def write_interchange(functional_id: str, version: str, transactions: Sequence[TransactionSpec], *,
                      sender: str, receiver: str, created: datetime, isa_control: int, gs_control: int,
                      usage: str, newline: bool) -> str:
    """Our outbound interchange: one group of ``transactions`` from ``sender`` to ``receiver``."""
    isa_date, date8, hhmm = envelope_times(created)
    spec = InterchangeSpec(sender_id=sender, receiver_id=receiver, date=isa_date, time=hhmm,
                           control_number=isa_control, usage=usage)
    group = GroupSpec(functional_id=functional_id, sender_code=sender, receiver_code=receiver, date=date8,
                      time=hhmm, control_number=gs_control, version=version, transactions=transactions)
    return build_interchange(spec, [group], DEFAULT_DELIMITERS, newline=newline)


def first_duplicate(values: Iterable[str]) -> str | None:
    """The first value that appears a second time, or None."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None


def check_usage(usage: str) -> None:
    if usage not in ("T", "P"):
        raise BuildError(f"usage must be T or P, not {usage!r}", segment_id="ISA", element=15, expected="T or P")


def check_control(st_control: str) -> None:
    if not (4 <= len(st_control) <= 9) or not st_control.isdigit():
        raise BuildError("ST02 control number must be 4 to 9 digits", segment_id="ST", element=2,
                         expected="4-9 digits")


def _diagnosis(code: str, claim_id: str) -> str:
    text = code.replace(".", "").strip().upper()
    if not _DX.match(text):
        raise _err("a diagnosis code is not an ICD-10-CM code", claim_id, "ICD-10-CM code, e.g. F33.1")
    return text


def _code(value: str, *, what: str, claim_id: str | None, lengths: Iterable[int]) -> str:
    text = value.strip().upper()
    if not _CODE.match(text) or len(text) not in set(lengths):
        raise _err(f"{what} {value!r} is not a valid code", claim_id)
    return text


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


def _billing_provider_segments(bp: BillingProvider) -> list[list[Element]]:
    check_npi(bp.npi, what="billing provider")
    tax_id = bp.tax_id.replace("-", "")
    if len(tax_id) != 9 or not tax_id.isdigit():
        raise BuildError("billing provider tax id is not 9 digits", expected="9-digit EIN")
    taxonomy = _code(bp.taxonomy, what="billing provider taxonomy", claim_id=None, lengths=(10,))
    name = clean_text(bp.name, 60)
    if not name:
        raise BuildError("billing provider name is missing")
    segs: list[list[Element]] = [
        ["PRV", "BI", "PXC", taxonomy],
        ["NM1", "85", "2", name, None, None, None, None, "XX", bp.npi],
    ]
    segs += address_segments(bp.address, what="billing provider", claim_id=None, zip9=True)
    segs.append(["REF", "EI", tax_id])
    return segs


def _claim_segments(claim: Claim837) -> list[list[Element]]:
    cid = claim.claim_id
    if not cid or len(cid) > MAX_CLAIM_ID or clean_text(cid).replace(" ", "") != cid:
        raise BuildError(f"claim id {cid!r} must be 1-{MAX_CLAIM_ID} upper-case letters or digits",
                         segment_id="CLM", element=1)
    if not claim.lines:
        raise _err("has no service lines", cid)
    if len(claim.lines) > MAX_LINES:
        raise _err(f"has more than {MAX_LINES} service lines", cid)
    if claim.frequency_code not in ("1", "7", "8"):
        raise _err("frequency code must be 1, 7 or 8", cid, "1, 7 or 8")
    pos = _code(claim.place_of_service, what="place of service", claim_id=cid, lengths=(2,))
    if not claim.diagnoses:
        raise _err("has no diagnosis", cid)
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        raise _err(f"has more than {MAX_DIAGNOSES} diagnoses", cid)
    dx = [_diagnosis(c, cid) for c in claim.diagnoses]

    segs: list[list[Element]] = [[
        "CLM", cid, money(claim.total_charge), None, None, [pos, "B", claim.frequency_code],
        "Y", "A", "Y", "Y",
    ]]
    if claim.prior_auth:
        segs.append(["REF", "G1", ident(claim.prior_auth, what="prior authorization number", claim_id=cid,
                                        max_len=50)])
    if claim.frequency_code in ("7", "8"):
        if not claim.payer_claim_number:
            raise _err("frequency 7/8 needs the payer claim number (REF*F8)", cid)
        segs.append(["REF", "F8", ident(claim.payer_claim_number, what="payer claim number", claim_id=cid,
                                        max_len=50)])
    segs.append(["HI", ["ABK", dx[0]], *(["ABF", c] for c in dx[1:])])

    if claim.rendering is not None:
        r = claim.rendering
        npi = check_npi(r.npi, what="rendering provider", claim_id=cid)
        last, first = person_name(r.last_name, r.first_name, what="rendering provider", claim_id=cid)
        segs.append(["NM1", "82", "1", last, first, None, None, None, "XX", npi])
        if r.taxonomy:
            segs.append(["PRV", "PE", "PXC", _code(r.taxonomy, what="rendering taxonomy", claim_id=cid,
                                                   lengths=(10,))])

    seen_lcn: set[str] = set()
    for n, line in enumerate(claim.lines, 1):
        proc = _code(line.procedure, what=f"line {n} procedure", claim_id=cid, lengths=(5,))
        if len(line.modifiers) > MAX_MODIFIERS:
            raise _err(f"line {n} has more than {MAX_MODIFIERS} modifiers", cid)
        mods = [_code(m, what=f"line {n} modifier", claim_id=cid, lengths=(2,)) for m in line.modifiers]
        if not line.diagnosis_pointers:
            raise _err(f"line {n} has no diagnosis pointer", cid)
        if len(line.diagnosis_pointers) > MAX_POINTERS:
            raise _err(f"line {n} has more than {MAX_POINTERS} diagnosis pointers", cid)
        if any(not 1 <= p <= len(dx) for p in line.diagnosis_pointers):
            raise _err(f"line {n} points to a diagnosis the claim does not have", cid)
        if len(set(line.diagnosis_pointers)) != len(line.diagnosis_pointers):
            raise _err(f"line {n} repeats a diagnosis pointer", cid)
        if line.charge < 0 or line.charge != line.charge.quantize(Decimal("0.01")):
            raise _err(f"line {n} charge must be a non-negative cents amount", cid)
        if not isinstance(line.units, int) or line.units < 1 or line.units > 9999:
            raise _err(f"line {n} units must be 1-9999", cid)
        lcn = ident(line.line_control_number, what=f"line {n} control number", claim_id=cid, max_len=50)
        if lcn in seen_lcn:
            raise _err(f"line {n} control number is not unique in the claim", cid)
        seen_lcn.add(lcn)
        segs += [
            ["LX", str(n)],
            ["SV1", ["HC", proc, *mods], money(line.charge), "UN", str(line.units),
             None, None, [str(p) for p in line.diagnosis_pointers]],  # SV105 blank: same as CLM05-1
            ["DTP", "472", "D8", d8(line.date_of_service)],
            ["REF", "6R", lcn],
        ]
    return segs


def _subscriber_key(claim: Claim837) -> tuple[object, ...]:
    return (claim.payer, claim.subscriber, claim.patient)


def build_837p(
    batch: Batch837,
    *,
    isa_control: int,
    gs_control: int,
    st_control: str,
    created: datetime,
    usage: str = "T",
    newline: bool = True,
) -> str:
    """The 837P file for ``batch``: one ST with every claim, HLs grouped as in the module docstring."""
    check_usage(usage)
    check_control(st_control)
    if not batch.claims:
        raise BuildError("the batch has no claims")
    dup = first_duplicate(c.claim_id for c in batch.claims)
    if dup is not None:
        raise BuildError(f"claim {dup}: claim id appears twice in the batch", segment_id="CLM", element=1)
    sub = batch.submitter
    sender = ident(sub.id, what="submitter id", max_len=15)
    receiver = ident(batch.receiver.id, what="receiver id", max_len=15)
    phone = "".join(ch for ch in sub.contact_phone if ch.isdigit())
    if len(phone) != 10:
        raise BuildError("submitter contact phone is not 10 digits", segment_id="PER", element=4)
    isa_date, date8, hhmm = envelope_times(created)
    body: list[list[Element]] = [
        ["BHT", "0019", "00", ident(batch.batch_reference, what="batch reference", max_len=50), date8, hhmm,
         "CH"],
        ["NM1", "41", "2", clean_text(sub.name, 60) or sender, None, None, None, None, "46", sender],
        ["PER", "IC", clean_text(sub.contact_name, 60) or "BILLING", "TE", phone],
        ["NM1", "40", "2", clean_text(batch.receiver.name, 60) or receiver, None, None, None, None, "46",
         receiver],
    ]

    # Group: billing provider -> (payer, subscriber, patient) -> claims, in first-seen order.
    providers: dict[BillingProvider, dict[tuple[object, ...], list[Claim837]]] = {}
    for claim in batch.claims:
        bp = claim.billing_provider or batch.billing_provider
        providers.setdefault(bp, {}).setdefault(_subscriber_key(claim), []).append(claim)

    hl = 0
    for bp, subscribers in providers.items():
        hl += 1
        bp_hl = hl
        body.append(["HL", str(bp_hl), None, "20", "1"])
        body += _billing_provider_segments(bp)
        for claims in subscribers.values():
            first = claims[0]
            patient = first.patient
            s = first.subscriber
            cid = first.claim_id
            hl += 1
            sub_hl = hl
            body.append(["HL", str(sub_hl), str(bp_hl), "22", "1" if patient else "0"])
            filing = _code(first.payer.claim_filing_indicator or "CI", what="claim filing indicator",
                           claim_id=cid, lengths=(1, 2))
            group = ident(s.group_number, what="group number", claim_id=cid, max_len=50) if s.group_number else None
            body.append(["SBR", "P", None if patient else "18", group, None, None, None, None, None, filing])
            last, firstname = person_name(s.last_name, s.first_name, what="subscriber", claim_id=cid)
            body.append(["NM1", "IL", "1", last, firstname, None, None, None, "MI",
                         ident(s.member_id, what="member id", claim_id=cid)])
            if patient is None:
                if s.address is None:
                    raise _err("subscriber address is missing (required when the subscriber is the patient)", cid)
                body += address_segments(s.address, what="subscriber", claim_id=cid)
                body.append(demographics(s.dob, s.sex, what="subscriber", claim_id=cid))
            elif s.address is not None:
                body += address_segments(s.address, what="subscriber", claim_id=cid)
            payer_name = clean_text(first.payer.name, 60)
            if not payer_name:
                raise _err("payer name is missing", cid)
            body.append(["NM1", "PR", "2", payer_name, None, None, None, None, "PI",
                         ident(first.payer.payer_id, what="payer id", claim_id=cid)])
            if patient is not None:
                hl += 1
                body.append(["HL", str(hl), str(sub_hl), "23", "0"])
                body.append(["PAT", relationship_code(patient.relationship, cid)])
                plast, pfirst = person_name(patient.last_name, patient.first_name, what="patient", claim_id=cid)
                body.append(["NM1", "QC", "1", plast, pfirst])
                body += address_segments(patient.address, what="patient", claim_id=cid)
                body.append(demographics(patient.dob, patient.sex, what="patient", claim_id=cid))
            for claim in claims:
                body += _claim_segments(claim)

    return write_interchange("HC", IMPLEMENTATION, [TransactionSpec("837", st_control, body, IMPLEMENTATION)],
                             sender=sender, receiver=receiver, created=created, isa_control=isa_control,
                             gs_control=gs_control, usage=usage, newline=newline)
