"""837P builder (005010X222A1): :func:`build_837p`, one function per loop of the guide.

One interchange, one functional group and one transaction set per batch; the hierarchy is::

    1000A submitter, 1000B receiver       _loop_1000a_submitter, _loop_1000b_receiver
    2000A billing provider (HL 20)        _loop_2000a_billing_provider (2010AA inside)
      2000B subscriber (HL 22)            _loop_2000b_subscriber (2010BA, 2010BB inside)
        2300 claims                       when the subscriber is the patient: _loop_2300_claim
        2000C patient (HL 23)             _loop_2000c_patient (2010CA), when the patient is not the subscriber
          2300 claims                     _loop_2300_claim (2310B rendering, 2400 service lines)
            2320 other payers             _loop_2320_other_payer (2330A _loop_2330a_other_subscriber,
                                          2330B _loop_2330b_other_payer)
            2400 service lines            _loop_2400_service_line (2430 _loop_2430_line_adjudication)

Coordination of benefits: 2000B SBR01 is the claim's ``payer_sequence``. Each other payer gets a 2320
(SBR01 its sequence, OI) with 2330A and 2330B; an earlier payer that adjudicated the claim adds its
claim-level CAS and AMT*D (2320) and DTP*573 (2330B), and each line one 2430 (SVD, CAS, DTP*573)
per such payer. CAS triplets are grouped by group code, six to a segment, at most five segments per
loop; zero amounts are left out (the guide lists only adjustments that change the amount). A claim
whose amounts do not balance (:func:`edi.x837p.model.line_balance_errors`) is refused.

Inputs are checked before anything is written; a problem raises :class:`edi.errors.BuildError`
naming the claim id and the field, never a patient's data. Free text (names, addresses) is
upper-cased and reduced to the X12 basic character set, so no value can collide with a delimiter.

Each loop returns its segments as text (``Segments``), written with the 837P's delimiters (``*``
between elements, ``:`` between components) as :func:`edi.x12.format_segment` would write them: no
trailing empty element or component. Checked values are remembered where a file repeats them
(codes, diagnoses, diagnosis pointers; each rendering provider's 2310B and each payer's 2010BB).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from edi._envelope import (
    EnvelopeSpec,
    Submitter,
    address_segments,
    birth_date_and_sex,
    build_error,
    check_claim_id,
    check_npi,
    clean_text,
    d8,
    envelope_times,
    first_duplicate,
    ident,
    money,
    party_ids,
    person_name,
    write_interchange,
)
from edi.errors import BuildError
from edi.x12 import TransactionSpec, is_digits
from edi.x837p.model import (
    Address,
    Batch837,
    BillingProvider,
    CasAdjustment,
    Claim837,
    LineAdjudication,
    OtherPayer,
    Patient,
    Payer,
    RenderingProvider,
    ServiceLine,
    Subscriber,
    line_balance_errors,
)

__all__ = ["IMPLEMENTATION", "build_837p", "relationship_code"]

IMPLEMENTATION = "005010X222A1"

MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_LINES = 50

MAX_CAS_SEGMENTS = 5
CAS_TRIPLETS = 6
MAX_UNITS = 9999

_DX = re.compile(r"^[A-Z][0-9][0-9A-Z]([0-9A-Z]{1,4})?$")
_CODE = re.compile(r"^[A-Z0-9]+$")
_RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8", "01": "01", "19": "19", "G8": "G8"}
# 2320 SBR02: the patient's relationship to the other payer's subscriber
_OTHER_RELATIONSHIP = {**_RELATIONSHIP, "self": "18", "18": "18", "20": "20", "21": "21", "39": "39", "40": "40",
                       "53": "53"}
_SEQUENCES = ("P", "S", "T")
_CAS_GROUPS = ("CO", "CR", "OA", "PI", "PR")
_CENT = Decimal("0.01")

Segments = list[str]
"""Segment texts without terminators (``*`` between elements, ``:`` between components)."""


def relationship_code(relationship: str, claim_id: str | None = None) -> str:
    """PAT01 code for ``spouse``, ``child``, ``other`` (or the code itself: 01, 19, G8)."""
    key = relationship.strip()
    code = _RELATIONSHIP.get(key.lower()) or _RELATIONSHIP.get(key.upper())
    if code is None or key.lower() == "self":
        raise build_error(f"patient relationship {relationship!r} is not spouse, child or other", claim_id,
                          "spouse, child or other")
    return code


@lru_cache(maxsize=4096)
def _diagnosis_text(code: str) -> str | None:
    """``code`` as HI writes it, or None when it is not an ICD-10-CM code (remembered: files repeat codes)."""
    text = code.replace(".", "").strip().upper()
    return text if _DX.match(text) else None


def _diagnosis(code: str, claim_id: str) -> str:
    text = _diagnosis_text(code)
    if text is None:
        raise build_error("a diagnosis code is not an ICD-10-CM code", claim_id, "ICD-10-CM code, e.g. F33.1")
    return text


@lru_cache(maxsize=4096)
def _code_text(value: str, lengths: tuple[int, ...] | range) -> str | None:
    """``value`` as written, or None when it is not a code of one of ``lengths`` (remembered)."""
    text = value.strip().upper()
    return text if len(text) in lengths and _CODE.match(text) else None


def _code(value: str, *, what: str, claim_id: str | None, lengths: tuple[int, ...] | range) -> str:
    text = _code_text(value, lengths)
    if text is None:
        raise build_error(f"{what} {value!r} is not a valid code", claim_id)
    return text


def _cents(value: Decimal, *, what: str, claim_id: str) -> Decimal:
    """``value`` when it is a finite amount in whole cents (either sign)."""
    if not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(_CENT):
        raise build_error(f"{what} must be an amount in whole cents", claim_id)
    return value


def _sequence(value: str, *, what: str, claim_id: str) -> str:
    if value not in _SEQUENCES:
        raise build_error(f"{what} {value!r} is not P, S or T", claim_id, "P, S or T")
    return value


# --------------------------------------------------------------------------------------------
# Header loops
# --------------------------------------------------------------------------------------------


def _loop_1000a_submitter(sub: Submitter, sender: str, phone: str) -> Segments:
    return [f"NM1*41*2*{clean_text(sub.name, 60) or sender}*****46*{sender}",
            f"PER*IC*{clean_text(sub.contact_name, 60) or 'BILLING'}*TE*{phone}"]


def _loop_1000b_receiver(name: str, receiver: str) -> Segments:
    return [f"NM1*40*2*{clean_text(name, 60) or receiver}*****46*{receiver}"]


def _loop_2010aa_billing_provider(bp: BillingProvider) -> Segments:
    check_npi(bp.npi, what="billing provider")
    tax_id = bp.tax_id.replace("-", "")
    if len(tax_id) != 9 or not is_digits(tax_id):
        raise BuildError("billing provider tax id is not 9 digits", expected="9-digit EIN")
    taxonomy = _code(bp.taxonomy, what="billing provider taxonomy", claim_id=None, lengths=(10,))
    name = clean_text(bp.name, 60)
    if not name:
        raise BuildError("billing provider name is missing")
    return [f"PRV*BI*PXC*{taxonomy}", f"NM1*85*2*{name}*****XX*{bp.npi}",
            *_address(bp.address, what="billing provider", claim_id=None, zip9=True), f"REF*EI*{tax_id}"]


def _loop_2000a_billing_provider(bp: BillingProvider, hl: int) -> Segments:
    return [f"HL*{hl}**20*1", *_loop_2010aa_billing_provider(bp)]


def _address(addr: Address, *, what: str, claim_id: str | None, zip9: bool = False) -> Segments:
    """N3 and N4 (:func:`edi._envelope.address_segments`: every element is text, none empty)."""
    return ["*".join(seg) for seg in address_segments(addr, what=what, claim_id=claim_id, zip9=zip9)]


def _dmg(dob: date | None, sex: str, *, what: str, claim_id: str) -> str:
    """DMG (:func:`edi._envelope.demographics`)."""
    birth_date, sex_code = birth_date_and_sex(dob, sex, what=what, claim_id=claim_id)
    return f"DMG*D8*{birth_date}*{sex_code}"


# --------------------------------------------------------------------------------------------
# Subscriber and patient
# --------------------------------------------------------------------------------------------


def _loop_2010ba_subscriber(s: Subscriber, *, is_patient: bool, cid: str) -> Segments:
    last, firstname = person_name(s.last_name, s.first_name, what="subscriber", claim_id=cid)
    segs: Segments = [f"NM1*IL*1*{last}*{firstname}****MI*{ident(s.member_id, what='member id', claim_id=cid)}"]
    if is_patient:
        if s.address is None:
            raise build_error("subscriber address is missing (required when the subscriber is the patient)", cid)
        segs += _address(s.address, what="subscriber", claim_id=cid)
        segs.append(_dmg(s.dob, s.sex, what="subscriber", claim_id=cid))
    elif s.address is not None:
        segs += _address(s.address, what="subscriber", claim_id=cid)
    return segs


def _loop_2010bb_payer(payer: Payer, cid: str) -> Segments:
    payer_name = clean_text(payer.name, 60)
    if not payer_name:
        raise build_error("payer name is missing", cid)
    return [f"NM1*PR*2*{payer_name}*****PI*{ident(payer.payer_id, what='payer id', claim_id=cid)}"]


def _loop_2000b_subscriber(first: Claim837, hl: int, parent: int, payers: dict[Payer, Segments]) -> Segments:
    """HL 22, SBR, 2010BA and 2010BB for the claims of ``first``'s payer, subscriber and patient.

    ``payers``: the 2010BB of each payer already written in the file.
    """
    patient, s, cid = first.patient, first.subscriber, first.claim_id
    segs: Segments = [f"HL*{hl}*{parent}*22*{'1' if patient else '0'}"]
    filing = _code(first.payer.claim_filing_indicator or "CI", what="claim filing indicator",
                   claim_id=cid, lengths=(1, 2))
    group = ident(s.group_number, what="group number", claim_id=cid, max_len=50) if s.group_number else ""
    sequence = _sequence(first.payer_sequence, what="payer sequence", claim_id=cid)
    segs.append(f"SBR*{sequence}*{'' if patient else '18'}*{group}******{filing}")
    segs += _loop_2010ba_subscriber(s, is_patient=patient is None, cid=cid)
    payer = payers.get(first.payer)
    if payer is None:
        payer = payers[first.payer] = _loop_2010bb_payer(first.payer, cid)
    segs += payer
    return segs


def _loop_2000c_patient(patient: Patient, hl: int, parent: int, cid: str) -> Segments:
    """HL 23, PAT and 2010CA."""
    segs: Segments = [f"HL*{hl}*{parent}*23*0", f"PAT*{relationship_code(patient.relationship, cid)}"]
    plast, pfirst = person_name(patient.last_name, patient.first_name, what="patient", claim_id=cid)
    segs.append(f"NM1*QC*1*{plast}*{pfirst}".rstrip("*"))  # no NM105 when the first name is empty
    segs += _address(patient.address, what="patient", claim_id=cid)
    segs.append(_dmg(patient.dob, patient.sex, what="patient", claim_id=cid))
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
    segs: Segments = [f"NM1*82*1*{last}*{first}****XX*{npi}"]
    if r.taxonomy:
        segs.append(f"PRV*PE*PXC*{_code(r.taxonomy, what='rendering taxonomy', claim_id=cid, lengths=(10,))}")
    return segs


def _loop_2300_claim(claim: Claim837, renderings: dict[RenderingProvider, Segments]) -> Segments:
    """CLM, REF*G1, REF*F8, HI, 2310B, the 2320 other payers and the 2400 lines with their 2430s.

    ``renderings``: the 2310B of each rendering provider already written in the file.
    """
    cid = claim.claim_id
    pos, dx = _check_claim(claim)
    segs: Segments = [f"CLM*{cid}*{money(claim.total_charge)}***{pos}:B:{claim.frequency_code}*Y*A*Y*Y"]
    if claim.prior_auth:
        segs.append(f"REF*G1*{ident(claim.prior_auth, what='prior authorization number', claim_id=cid, max_len=50)}")
    if claim.frequency_code in ("7", "8"):
        if not claim.payer_claim_number:
            raise build_error("frequency 7/8 needs the payer claim number (REF*F8)", cid)
        segs.append(f"REF*F8*{ident(claim.payer_claim_number, what='payer claim number', claim_id=cid, max_len=50)}")
    segs.append("HI*ABK:" + "*ABF:".join(dx))
    if claim.rendering is not None:
        rendering = renderings.get(claim.rendering)
        if rendering is None:
            rendering = renderings[claim.rendering] = _loop_2310b_rendering(claim.rendering, cid)
        segs += rendering
    earlier = _check_other_payers(claim)
    for other in claim.other_payers:
        segs += _loop_2320_other_payer(other, cid)
    problems = line_balance_errors(claim) if earlier or any(line.adjudications for line in claim.lines) else None
    if problems:
        raise BuildError("; ".join(problems), expected="charge = paid + adjustments for every earlier payer")
    seen_lcn: set[str] = set()
    for n, line in enumerate(claim.lines, 1):
        segs += _loop_2400_service_line(line, n, len(dx), cid, seen_lcn)
        for adj in line.adjudications:
            segs += _loop_2430_line_adjudication(adj, earlier[adj.payer_id], line.line_control_number, cid)
    return segs


# --------------------------------------------------------------------------------------------
# Other payers (coordination of benefits)
# --------------------------------------------------------------------------------------------


def _check_other_payers(claim: Claim837) -> dict[str, OtherPayer]:
    """Sequences and amounts of the other payers make sense; returns the earlier payers by payer id.

    Every payer before the billed one (P before S, P and S before T) is listed once and has
    adjudicated the claim (``paid``); a payer after it has not (no amounts). An earlier payer with no
    2430 on any line needs its adjudication date (2330B DTP*573).
    """
    cid, billed = claim.claim_id, claim.payer_sequence
    _sequence(billed, what="payer sequence", claim_id=cid)
    by_sequence: dict[str, OtherPayer] = {}
    payer_ids: set[str] = set()
    for o in claim.other_payers:
        pid = o.payer.payer_id
        seq = _sequence(o.sequence, what=f"other payer {pid} sequence", claim_id=cid)
        if seq == billed:
            raise build_error(f"other payer {pid} has sequence {seq}, the billed payer's", cid, "P, S and T once each")
        if seq in by_sequence:
            raise build_error(f"other payer {pid} has sequence {seq}, as another other payer has", cid,
                              "P, S and T once each")
        if pid in payer_ids:
            raise build_error(f"other payer {pid} is listed twice", cid)
        by_sequence[seq] = o
        payer_ids.add(pid)
        if _SEQUENCES.index(seq) < _SEQUENCES.index(billed):
            if o.paid is None:
                raise build_error(f"other payer {pid} ({seq}) comes before the billed payer ({billed}) but has no "
                                  "paid amount (2320 AMT*D)", cid)
        elif o.paid is not None or o.adjustments or o.adjudication_date is not None:
            raise build_error(f"other payer {pid} ({seq}) comes after the billed payer ({billed}) and cannot have "
                              "adjudicated the claim (no paid amount, CAS or date)", cid)
    for seq in _SEQUENCES[:_SEQUENCES.index(billed)]:
        if seq not in by_sequence:
            raise build_error(f"billed as payer sequence {billed} but no other payer has sequence {seq}", cid)
    earlier = {o.payer.payer_id: o for o in claim.other_payers if o.paid is not None}
    for pid, o in earlier.items():
        if o.adjudication_date is None and not any(a.payer_id == pid for ln in claim.lines for a in ln.adjudications):
            raise build_error(f"other payer {pid} has no adjudication date (2330B DTP*573)", cid)
    return earlier


def _cas_segments(adjustments: Iterable[CasAdjustment], *, where: str, cid: str) -> Segments:
    """CAS segments: one per group code (first-seen order), six triplets each, zero amounts left out."""
    groups: dict[str, list[str]] = {}
    for a in adjustments:
        group = a.group.strip().upper()
        if group not in _CAS_GROUPS:
            raise build_error(f"{where} adjustment group {a.group!r} is not CO, CR, OA, PI or PR", cid,
                              "CO, CR, OA, PI or PR")
        reason = _code(a.reason, what=f"{where} adjustment reason", claim_id=cid, lengths=range(1, 6))
        amount = _cents(a.amount, what=f"{where} adjustment amount", claim_id=cid)
        if amount == 0:
            continue
        quantity = ""
        if a.quantity is not None:
            if not isinstance(a.quantity, Decimal) or not a.quantity.is_finite():
                raise build_error(f"{where} adjustment quantity is not a number", cid)
            quantity = f"{a.quantity.normalize():f}"
        groups.setdefault(group, []).extend([reason, money(amount), quantity])
    # rstrip: an empty quantity is not written last
    segs: Segments = ["*".join(["CAS", group, *triplets[i:i + 3 * CAS_TRIPLETS]]).rstrip("*")
                      for group, triplets in groups.items() for i in range(0, len(triplets), 3 * CAS_TRIPLETS)]
    if len(segs) > MAX_CAS_SEGMENTS:
        raise build_error(f"{where} adjustments need more than {MAX_CAS_SEGMENTS} CAS segments", cid)
    return segs


def _other_relationship(relationship: str, pid: str, cid: str) -> str:
    key = relationship.strip()
    code = _OTHER_RELATIONSHIP.get(key.lower()) or _OTHER_RELATIONSHIP.get(key.upper())
    if code is None:
        raise build_error(f"other payer {pid} relationship {relationship!r} is not self, spouse, child or other",
                          cid, "self, spouse, child, other or an SBR02 code")
    return code


def _loop_2320_other_payer(o: OtherPayer, cid: str) -> Segments:
    """SBR, CAS and AMT*D (when adjudicated), OI, then 2330A and 2330B."""
    pid = ident(o.payer.payer_id, what="other payer id", claim_id=cid)
    s = o.subscriber
    filing = _code(o.payer.claim_filing_indicator or "CI", what=f"other payer {pid} claim filing indicator",
                   claim_id=cid, lengths=(1, 2))
    group = (ident(s.group_number, what=f"other payer {pid} group number", claim_id=cid, max_len=50)
             if s.group_number else "")
    segs: Segments = [f"SBR*{o.sequence}*{_other_relationship(o.relationship, pid, cid)}*{group}******{filing}"]
    if o.paid is not None:
        segs += _cas_segments(o.adjustments, where=f"other payer {pid} claim", cid=cid)
        segs.append(f"AMT*D*{money(_cents(o.paid, what=f'other payer {pid} paid amount', claim_id=cid))}")
    segs.append("OI***Y***Y")  # OI03 and OI06 as CLM08 and CLM09
    segs += _loop_2330a_other_subscriber(s, pid, cid)
    segs += _loop_2330b_other_payer(o, pid, cid)
    return segs


def _loop_2330a_other_subscriber(s: Subscriber, pid: str, cid: str) -> Segments:
    last, first = person_name(s.last_name, s.first_name, what=f"other payer {pid} subscriber", claim_id=cid)
    member_id = ident(s.member_id, what=f"other payer {pid} member id", claim_id=cid)
    segs: Segments = [f"NM1*IL*1*{last}*{first}****MI*{member_id}"]
    if s.address is not None:
        segs += _address(s.address, what=f"other payer {pid} subscriber", claim_id=cid)
    return segs


def _loop_2330b_other_payer(o: OtherPayer, pid: str, cid: str) -> Segments:
    name = clean_text(o.payer.name, 60)
    if not name:
        raise build_error(f"other payer {pid} name is missing", cid)
    segs: Segments = [f"NM1*PR*2*{name}*****PI*{pid}"]
    if o.paid is not None and o.adjudication_date is not None:
        segs.append(f"DTP*573*D8*{d8(o.adjudication_date)}")
    return segs


def _loop_2430_line_adjudication(adj: LineAdjudication, payer: OtherPayer, lcn: str, cid: str) -> Segments:
    """SVD, CAS and DTP*573 of one earlier payer on one line (balance already checked)."""
    where = f"line {lcn} payer {adj.payer_id}"
    proc = _code(adj.procedure, what=f"{where} adjudicated procedure", claim_id=cid, lengths=(5,))
    if len(adj.modifiers) > MAX_MODIFIERS:
        raise build_error(f"{where} has more than {MAX_MODIFIERS} adjudicated modifiers", cid)
    mods = "".join([":" + _code(m, what=f"{where} adjudicated modifier", claim_id=cid, lengths=(2,))
                    for m in adj.modifiers])
    if not isinstance(adj.units, int) or not 0 <= adj.units <= MAX_UNITS:
        raise build_error(f"{where} paid units must be 0-{MAX_UNITS}", cid)
    day = adj.adjudication_date or payer.adjudication_date
    if day is None:
        raise build_error(f"{where} has no adjudication date (2430 DTP*573), nor has its payer", cid)
    pid = ident(adj.payer_id, what="line adjudication payer id", claim_id=cid)
    paid = money(_cents(adj.paid, what=f"{where} paid amount", claim_id=cid))
    return [
        f"SVD*{pid}*{paid}*HC:{proc}{mods}**{adj.units}",
        *_cas_segments(adj.adjustments, where=where, cid=cid),
        f"DTP*573*D8*{d8(day)}",
    ]


@lru_cache(maxsize=1024)
def _pointers_text(pointers: tuple[int, ...]) -> str:
    """SV107, the diagnosis pointers (remembered: lines repeat a few combinations)."""
    return ":".join([str(p) for p in pointers])


def _loop_2400_service_line(line: ServiceLine, n: int, n_dx: int, cid: str, seen_lcn: set[str]) -> Segments:
    """LX, SV1, DTP*472 and REF*6R of line ``n``; adds its control number to ``seen_lcn``."""
    proc = _code(line.procedure, what=f"line {n} procedure", claim_id=cid, lengths=(5,))
    if len(line.modifiers) > MAX_MODIFIERS:
        raise build_error(f"line {n} has more than {MAX_MODIFIERS} modifiers", cid)
    mods = "".join([":" + _code(m, what=f"line {n} modifier", claim_id=cid, lengths=(2,))
                    for m in line.modifiers]) if line.modifiers else ""
    pointers = line.diagnosis_pointers
    if not pointers:
        raise build_error(f"line {n} has no diagnosis pointer", cid)
    if len(pointers) > MAX_POINTERS:
        raise build_error(f"line {n} has more than {MAX_POINTERS} diagnosis pointers", cid)
    if min(pointers) < 1 or max(pointers) > n_dx:
        raise build_error(f"line {n} points to a diagnosis the claim does not have", cid)
    if len(set(pointers)) != len(pointers):
        raise build_error(f"line {n} repeats a diagnosis pointer", cid)
    if line.charge < 0 or line.charge != line.charge.quantize(_CENT):
        raise build_error(f"line {n} charge must be a non-negative cents amount", cid)
    if not isinstance(line.units, int) or line.units < 1 or line.units > 9999:
        raise build_error(f"line {n} units must be 1-9999", cid)
    lcn = ident(line.line_control_number, what=f"line {n} control number", claim_id=cid, max_len=50)
    if lcn in seen_lcn:
        raise build_error(f"line {n} control number is not unique in the claim", cid)
    seen_lcn.add(lcn)
    return [
        f"LX*{n}",
        # SV105 blank: same as CLM05-1
        f"SV1*HC:{proc}{mods}*{money(line.charge)}*UN*{line.units}***{_pointers_text(tuple(pointers))}",
        f"DTP*472*D8*{d8(line.date_of_service)}",
        f"REF*6R*{lcn}",
    ]


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------


def _hierarchy(batch: Batch837) -> dict[BillingProvider, dict[tuple[object, ...], list[Claim837]]]:
    """billing provider -> (payer, subscriber, patient, payer sequence) -> claims, in first-seen order."""
    providers: dict[BillingProvider, dict[tuple[object, ...], list[Claim837]]] = {}
    for claim in batch.claims:
        bp = claim.billing_provider or batch.billing_provider
        key = (claim.payer, claim.subscriber, claim.patient, claim.payer_sequence)
        providers.setdefault(bp, {}).setdefault(key, []).append(claim)
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
        f"BHT*0019*00*{ident(batch.batch_reference, what='batch reference', max_len=50)}*{date8}*{hhmm}*CH",
        *_loop_1000a_submitter(batch.submitter, sender, phone),
        *_loop_1000b_receiver(batch.receiver.name, receiver),
    ]
    hl = 0
    renderings: dict[RenderingProvider, Segments] = {}  # written once per file, then repeated
    payers: dict[Payer, Segments] = {}
    for bp, subscribers in _hierarchy(batch).items():
        hl += 1
        bp_hl = hl
        body += _loop_2000a_billing_provider(bp, bp_hl)
        for claims in subscribers.values():
            first = claims[0]
            hl += 1
            sub_hl = hl
            body += _loop_2000b_subscriber(first, sub_hl, bp_hl, payers)
            if first.patient is not None:
                hl += 1
                body += _loop_2000c_patient(first.patient, hl, sub_hl, first.claim_id)
            for claim in claims:
                body += _loop_2300_claim(claim, renderings)
    return write_interchange(envelope, "HC", IMPLEMENTATION,
                             [TransactionSpec("837", envelope.st_control, body, IMPLEMENTATION)],
                             sender=sender, receiver=receiver, newline=newline)
