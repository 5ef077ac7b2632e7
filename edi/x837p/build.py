"""837P builder (005010X222A1): :func:`build_837p`, one function per loop of the guide.

One interchange, one functional group and one transaction set per batch; the hierarchy is::

    1000A submitter, 1000B receiver       _loop_1000a_submitter, _loop_1000b_receiver
    2000A billing provider (HL 20)        _loop_2000a_billing_provider (2010AA inside)
      2000B subscriber (HL 22)            _loop_2000b_subscriber (2010BA, 2010BB inside)
        2300 claims                       when the subscriber is the patient: _loop_2300_claim
        2000C patient (HL 23)             _loop_2000c_patient (2010CA), when the patient is not the subscriber
          2300 claims                     _loop_2300_claim (2310B rendering, 2400 service lines)

Inputs are checked before anything is written; a problem raises :class:`edi.errors.BuildError`
naming the claim id and the field, never a patient's data. Free text (names, addresses) is
upper-cased and reduced to the X12 basic character set, so no value can collide with a delimiter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from edi._envelope import (
    EnvelopeSpec,
    Submitter,
    address_segments,
    build_error,
    check_claim_id,
    check_npi,
    clean_text,
    d8,
    demographics,
    envelope_times,
    first_duplicate,
    ident,
    money,
    party_ids,
    person_name,
    write_interchange,
)
from edi.errors import BuildError
from edi.x12 import Element, TransactionSpec, is_digits
from edi.x837p.model import (
    Batch837,
    BillingProvider,
    Claim837,
    Patient,
    Payer,
    RenderingProvider,
    ServiceLine,
    Subscriber,
)

__all__ = ["IMPLEMENTATION", "build_837p", "relationship_code"]

IMPLEMENTATION = "005010X222A1"

MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_LINES = 50

_DX = re.compile(r"^[A-Z][0-9][0-9A-Z]([0-9A-Z]{1,4})?$")
_CODE = re.compile(r"^[A-Z0-9]+$")
_RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8", "01": "01", "19": "19", "G8": "G8"}

Segments = list[list[Element]]


def relationship_code(relationship: str, claim_id: str | None = None) -> str:
    """PAT01 code for ``spouse``, ``child``, ``other`` (or the code itself: 01, 19, G8)."""
    key = relationship.strip()
    code = _RELATIONSHIP.get(key.lower()) or _RELATIONSHIP.get(key.upper())
    if code is None or key.lower() == "self":
        raise build_error(f"patient relationship {relationship!r} is not spouse, child or other", claim_id,
                          "spouse, child or other")
    return code


def _diagnosis(code: str, claim_id: str) -> str:
    text = code.replace(".", "").strip().upper()
    if not _DX.match(text):
        raise build_error("a diagnosis code is not an ICD-10-CM code", claim_id, "ICD-10-CM code, e.g. F33.1")
    return text


def _code(value: str, *, what: str, claim_id: str | None, lengths: Iterable[int]) -> str:
    text = value.strip().upper()
    if not _CODE.match(text) or len(text) not in set(lengths):
        raise build_error(f"{what} {value!r} is not a valid code", claim_id)
    return text


# --------------------------------------------------------------------------------------------
# Header loops
# --------------------------------------------------------------------------------------------


def _loop_1000a_submitter(sub: Submitter, sender: str, phone: str) -> Segments:
    return [["NM1", "41", "2", clean_text(sub.name, 60) or sender, None, None, None, None, "46", sender],
            ["PER", "IC", clean_text(sub.contact_name, 60) or "BILLING", "TE", phone]]


def _loop_1000b_receiver(name: str, receiver: str) -> Segments:
    return [["NM1", "40", "2", clean_text(name, 60) or receiver, None, None, None, None, "46", receiver]]


def _loop_2010aa_billing_provider(bp: BillingProvider) -> Segments:
    check_npi(bp.npi, what="billing provider")
    tax_id = bp.tax_id.replace("-", "")
    if len(tax_id) != 9 or not is_digits(tax_id):
        raise BuildError("billing provider tax id is not 9 digits", expected="9-digit EIN")
    taxonomy = _code(bp.taxonomy, what="billing provider taxonomy", claim_id=None, lengths=(10,))
    name = clean_text(bp.name, 60)
    if not name:
        raise BuildError("billing provider name is missing")
    segs: Segments = [
        ["PRV", "BI", "PXC", taxonomy],
        ["NM1", "85", "2", name, None, None, None, None, "XX", bp.npi],
    ]
    segs += address_segments(bp.address, what="billing provider", claim_id=None, zip9=True)
    segs.append(["REF", "EI", tax_id])
    return segs


def _loop_2000a_billing_provider(bp: BillingProvider, hl: int) -> Segments:
    return [["HL", str(hl), None, "20", "1"], *_loop_2010aa_billing_provider(bp)]


# --------------------------------------------------------------------------------------------
# Subscriber and patient
# --------------------------------------------------------------------------------------------


def _loop_2010ba_subscriber(s: Subscriber, *, is_patient: bool, cid: str) -> Segments:
    last, firstname = person_name(s.last_name, s.first_name, what="subscriber", claim_id=cid)
    segs: Segments = [["NM1", "IL", "1", last, firstname, None, None, None, "MI",
                       ident(s.member_id, what="member id", claim_id=cid)]]
    if is_patient:
        if s.address is None:
            raise build_error("subscriber address is missing (required when the subscriber is the patient)", cid)
        segs += address_segments(s.address, what="subscriber", claim_id=cid)
        segs.append(demographics(s.dob, s.sex, what="subscriber", claim_id=cid))
    elif s.address is not None:
        segs += address_segments(s.address, what="subscriber", claim_id=cid)
    return segs


def _loop_2010bb_payer(payer: Payer, cid: str) -> Segments:
    payer_name = clean_text(payer.name, 60)
    if not payer_name:
        raise build_error("payer name is missing", cid)
    return [["NM1", "PR", "2", payer_name, None, None, None, None, "PI",
             ident(payer.payer_id, what="payer id", claim_id=cid)]]


def _loop_2000b_subscriber(first: Claim837, hl: int, parent: int) -> Segments:
    """HL 22, SBR, 2010BA and 2010BB for the claims of ``first``'s payer, subscriber and patient."""
    patient, s, cid = first.patient, first.subscriber, first.claim_id
    segs: Segments = [["HL", str(hl), str(parent), "22", "1" if patient else "0"]]
    filing = _code(first.payer.claim_filing_indicator or "CI", what="claim filing indicator",
                   claim_id=cid, lengths=(1, 2))
    group = ident(s.group_number, what="group number", claim_id=cid, max_len=50) if s.group_number else None
    segs.append(["SBR", "P", None if patient else "18", group, None, None, None, None, None, filing])
    segs += _loop_2010ba_subscriber(s, is_patient=patient is None, cid=cid)
    segs += _loop_2010bb_payer(first.payer, cid)
    return segs


def _loop_2000c_patient(patient: Patient, hl: int, parent: int, cid: str) -> Segments:
    """HL 23, PAT and 2010CA."""
    segs: Segments = [["HL", str(hl), str(parent), "23", "0"], ["PAT", relationship_code(patient.relationship, cid)]]
    plast, pfirst = person_name(patient.last_name, patient.first_name, what="patient", claim_id=cid)
    segs.append(["NM1", "QC", "1", plast, pfirst])
    segs += address_segments(patient.address, what="patient", claim_id=cid)
    segs.append(demographics(patient.dob, patient.sex, what="patient", claim_id=cid))
    return segs


# --------------------------------------------------------------------------------------------
# Claim and lines
# --------------------------------------------------------------------------------------------


def _check_claim(claim: Claim837) -> tuple[str, list[str]]:
    """The claim's checks before any segment; returns its place of service and diagnoses as written."""
    cid = claim.claim_id
    check_claim_id(cid, "CLM")
    if not claim.lines:
        raise build_error("has no service lines", cid)
    if len(claim.lines) > MAX_LINES:
        raise build_error(f"has more than {MAX_LINES} service lines", cid)
    if claim.frequency_code not in ("1", "7", "8"):
        raise build_error("frequency code must be 1, 7 or 8", cid, "1, 7 or 8")
    pos = _code(claim.place_of_service, what="place of service", claim_id=cid, lengths=(2,))
    if not claim.diagnoses:
        raise build_error("has no diagnosis", cid)
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        raise build_error(f"has more than {MAX_DIAGNOSES} diagnoses", cid)
    return pos, [_diagnosis(c, cid) for c in claim.diagnoses]


def _loop_2310b_rendering(r: RenderingProvider, cid: str) -> Segments:
    npi = check_npi(r.npi, what="rendering provider", claim_id=cid)
    last, first = person_name(r.last_name, r.first_name, what="rendering provider", claim_id=cid)
    segs: Segments = [["NM1", "82", "1", last, first, None, None, None, "XX", npi]]
    if r.taxonomy:
        segs.append(["PRV", "PE", "PXC", _code(r.taxonomy, what="rendering taxonomy", claim_id=cid, lengths=(10,))])
    return segs


def _loop_2300_claim(claim: Claim837) -> Segments:
    """CLM, REF*G1, REF*F8, HI, 2310B and the 2400 lines."""
    cid = claim.claim_id
    pos, dx = _check_claim(claim)
    segs: Segments = [["CLM", cid, money(claim.total_charge), None, None, [pos, "B", claim.frequency_code],
                       "Y", "A", "Y", "Y"]]
    if claim.prior_auth:
        segs.append(["REF", "G1", ident(claim.prior_auth, what="prior authorization number", claim_id=cid,
                                        max_len=50)])
    if claim.frequency_code in ("7", "8"):
        if not claim.payer_claim_number:
            raise build_error("frequency 7/8 needs the payer claim number (REF*F8)", cid)
        segs.append(["REF", "F8", ident(claim.payer_claim_number, what="payer claim number", claim_id=cid,
                                        max_len=50)])
    segs.append(["HI", ["ABK", dx[0]], *(["ABF", c] for c in dx[1:])])
    if claim.rendering is not None:
        segs += _loop_2310b_rendering(claim.rendering, cid)
    seen_lcn: set[str] = set()
    for n, line in enumerate(claim.lines, 1):
        segs += _loop_2400_service_line(line, n, len(dx), cid, seen_lcn)
    return segs


def _loop_2400_service_line(line: ServiceLine, n: int, n_dx: int, cid: str, seen_lcn: set[str]) -> Segments:
    """LX, SV1, DTP*472 and REF*6R of line ``n``; adds its control number to ``seen_lcn``."""
    proc = _code(line.procedure, what=f"line {n} procedure", claim_id=cid, lengths=(5,))
    if len(line.modifiers) > MAX_MODIFIERS:
        raise build_error(f"line {n} has more than {MAX_MODIFIERS} modifiers", cid)
    mods = [_code(m, what=f"line {n} modifier", claim_id=cid, lengths=(2,)) for m in line.modifiers]
    pointers = line.diagnosis_pointers
    if not pointers:
        raise build_error(f"line {n} has no diagnosis pointer", cid)
    if len(pointers) > MAX_POINTERS:
        raise build_error(f"line {n} has more than {MAX_POINTERS} diagnosis pointers", cid)
    if any(not 1 <= p <= n_dx for p in pointers):
        raise build_error(f"line {n} points to a diagnosis the claim does not have", cid)
    if len(set(pointers)) != len(pointers):
        raise build_error(f"line {n} repeats a diagnosis pointer", cid)
    if line.charge < 0 or line.charge != line.charge.quantize(Decimal("0.01")):
        raise build_error(f"line {n} charge must be a non-negative cents amount", cid)
    if not isinstance(line.units, int) or line.units < 1 or line.units > 9999:
        raise build_error(f"line {n} units must be 1-9999", cid)
    lcn = ident(line.line_control_number, what=f"line {n} control number", claim_id=cid, max_len=50)
    if lcn in seen_lcn:
        raise build_error(f"line {n} control number is not unique in the claim", cid)
    seen_lcn.add(lcn)
    return [
        ["LX", str(n)],
        ["SV1", ["HC", proc, *mods], money(line.charge), "UN", str(line.units),
         None, None, [str(p) for p in pointers]],  # SV105 blank: same as CLM05-1
        ["DTP", "472", "D8", d8(line.date_of_service)],
        ["REF", "6R", lcn],
    ]


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------


def _hierarchy(batch: Batch837) -> dict[BillingProvider, dict[tuple[object, ...], list[Claim837]]]:
    """billing provider -> (payer, subscriber, patient) -> claims, in first-seen order."""
    providers: dict[BillingProvider, dict[tuple[object, ...], list[Claim837]]] = {}
    for claim in batch.claims:
        bp = claim.billing_provider or batch.billing_provider
        providers.setdefault(bp, {}).setdefault((claim.payer, claim.subscriber, claim.patient), []).append(claim)
    return providers


def build_837p(batch: Batch837, *, envelope: EnvelopeSpec, newline: bool = True) -> str:
    """The 837P file for ``batch``: one ST with every claim, HLs grouped as in the module docstring.

    ISA06/ISA08 are ``envelope.sender``/``receiver``, or the submitter's and receiver's ids.
    """
    envelope.check()
    if not batch.claims:
        raise BuildError("the batch has no claims")
    dup = first_duplicate(c.claim_id for c in batch.claims)
    if dup is not None:
        raise BuildError(f"claim {dup}: claim id appears twice in the batch", segment_id="CLM", element=1)
    sender, receiver = party_ids(batch)
    phone = "".join(ch for ch in batch.submitter.contact_phone if is_digits(ch))
    if len(phone) != 10:
        raise BuildError("submitter contact phone is not 10 digits", segment_id="PER", element=4)
    _isa_date, date8, hhmm = envelope_times(envelope.created)
    body: Segments = [
        ["BHT", "0019", "00", ident(batch.batch_reference, what="batch reference", max_len=50), date8, hhmm, "CH"],
        *_loop_1000a_submitter(batch.submitter, sender, phone),
        *_loop_1000b_receiver(batch.receiver.name, receiver),
    ]
    hl = 0
    for bp, subscribers in _hierarchy(batch).items():
        hl += 1
        bp_hl = hl
        body += _loop_2000a_billing_provider(bp, bp_hl)
        for claims in subscribers.values():
            first = claims[0]
            hl += 1
            sub_hl = hl
            body += _loop_2000b_subscriber(first, sub_hl, bp_hl)
            if first.patient is not None:
                hl += 1
                body += _loop_2000c_patient(first.patient, hl, sub_hl, first.claim_id)
            for claim in claims:
                body += _loop_2300_claim(claim)
    return write_interchange(envelope, "HC", IMPLEMENTATION,
                             [TransactionSpec("837", envelope.st_control, body, IMPLEMENTATION)],
                             sender=sender, receiver=receiver, newline=newline)
