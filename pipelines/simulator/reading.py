"""Reading what the clearinghouse receives: the interchange and its groups and sets (with the envelope
errors a 999 or TA1 reports), and the 837P, 270 and 276 content the payers answer.

Everything the simulator knows of the incoming X12 goes through this module, so that moving to the
edi parsers is a change here only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from edi.errors import EdiError, EnvelopeError
from edi.x12 import FunctionalGroup, Interchange, Segment, TransactionSet, open_x12
from edi.x835 import Adjustment
from edi.x999 import SegmentError
from pipelines.simulator.amounts import ZERO, parse_amount

__all__ = ["FileUnreadable", "Inquiry", "InquiryPerson", "OtherPayer", "PriorLine", "ReceivedGroup", "ReceivedSet",
           "SetRejected", "SubmittedBatch", "SubmittedClaim", "SubmittedLine", "isa_ids", "read_837", "read_file",
           "read_inquiry"]

SEQUENCE_ORDER = "PSTABCDEFGH"  # SBR01 payer responsibility: primary, secondary, tertiary, then A..H


def _d8(text: str) -> date | None:
    text = text.split("-")[0]
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _el(seg: Segment, i: int) -> str:
    return seg[i].strip() if len(seg) > i else ""


class SetRejected(Exception):
    """A transaction set the clearinghouse rejects: the 999 IK3/IK5 content."""

    def __init__(self, segment_errors: Sequence[SegmentError], codes: Sequence[str] = ("5",)) -> None:
        super().__init__("rejected")
        self.segment_errors = tuple(segment_errors)
        self.codes = tuple(codes)


def _missing(segment_id: str, position: int, loop: str | None) -> SegmentError:
    return SegmentError(segment_id=segment_id, position=position, loop_id=loop, code="3")


# --------------------------------------------------------------------------------------------
# The envelope: interchange, groups, sets
# --------------------------------------------------------------------------------------------


@dataclass
class ReceivedSet:
    """One transaction set: its id, ST02, ST03, the segments between ST and SE, SE findings as 999 codes."""

    ts_set_id: str
    control_number: str
    implementation: str
    segments: list[Segment]
    comp: str
    findings: list[str]


@dataclass
class ReceivedGroup:
    """One functional group, its sets, and its GE findings as 999 AK9 codes."""

    group: FunctionalGroup
    sets: list[ReceivedSet] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


class FileUnreadable(Exception):
    """An interchange the clearinghouse cannot take: ``note`` is the TA1 note code."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


def isa_ids(data: bytes) -> tuple[str, str, str]:
    """(ISA06 sender, ISA08 receiver, ISA13 control number) read loosely from a file's start."""
    head = data.lstrip()[:120].decode("latin-1")
    if head.startswith("ISA") and len(head) > 4:
        parts = head.split(head[3])
        if len(parts) > 13:
            control = parts[13].strip()
            return (parts[6].strip() or "SUBMITTER", parts[8].strip() or "CLEARINGHOUSE",
                    control if control.isdigit() and len(control) <= 9 else "0")
    return "SUBMITTER", "CLEARINGHOUSE", "0"


def read_file(data: bytes) -> tuple[Interchange, list[ReceivedGroup]]:
    """The interchange and its groups; FileUnreadable (with a TA1 note code) when it cannot be read."""
    if not data.strip():
        raise FileUnreadable("023")  # an empty file: premature end of file (the reader refuses it)
    env = open_x12(data, strict=False)
    groups: list[ReceivedGroup] = []
    by_id: dict[int, ReceivedGroup] = {}
    last: ReceivedGroup | None = None

    def take(start: int) -> None:
        for f in env.findings[start:]:
            if f.segment_id == "IEA":
                raise FileUnreadable("001" if f.element == 2 else "021")
            if last is not None:  # GE: 3 trailer missing, 4 control number, 5 count
                last.findings.append({0: "3", 2: "4"}.get(f.element, "5"))

    try:
        it: Iterator[TransactionSet] = iter(env)
        while True:
            n0 = len(env.findings)
            try:
                ts = next(it)
            except StopIteration:
                take(n0)
                break
            take(n0)
            g = by_id.get(id(ts.group))
            if g is None:
                g = by_id[id(ts.group)] = ReceivedGroup(ts.group)
                groups.append(g)
            last = g
            n1 = len(env.findings)
            segs = list(ts.segments)
            # SE: 2 trailer missing, 3 control number, 4 count
            tx_findings = [{0: "2", 2: "3"}.get(f.element, "4") for f in env.findings[n1:]]
            g.sets.append(ReceivedSet(ts.set_id, ts.control_number, ts.implementation, segs[1:-1] if segs and
                                      segs[-1][0] == "SE" else segs[1:], ts.delimiters.component, tx_findings))
    except EnvelopeError:
        raise FileUnreadable("024") from None
    except EdiError:
        raise FileUnreadable("022") from None
    if not env.interchanges:
        raise FileUnreadable("023")
    if len(env.interchanges) > 1:
        raise FileUnreadable("024")  # one interchange per file is what this clearinghouse takes
    return env.interchanges[0], groups


# --------------------------------------------------------------------------------------------
# 837P
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorLine:
    """Loop 2430: what an earlier payer did with a line (SVD, its CAS, DTP*573)."""

    payer_id: str  # SVD01, the 2330B NM109 of that payer
    paid: Decimal  # SVD02
    procedure: str  # SVD03-2, as that payer adjudicated it
    modifiers: tuple[str, ...]
    units: Decimal  # SVD05
    adjustments: tuple[Adjustment, ...] = ()
    adjudicated: date | None = None  # DTP*573

    @property
    def patient_responsibility(self) -> Decimal:
        """What this payer left to the patient on the line: its PR adjustments."""
        return sum((a.amount for a in self.adjustments if a.group == "PR"), ZERO)


@dataclass(frozen=True)
class OtherPayer:
    """Loops 2320/2330A/2330B: another coverage of the claim; adjudicated when ``paid`` (AMT*D) is known."""

    sequence: str  # its SBR01: P, S, T
    payer_id: str  # 2330B NM109
    payer_name: str
    member_id: str  # 2330A NM109
    subscriber_name: tuple[str, str]  # 2330A NM103, NM104
    filing_indicator: str  # its SBR09
    paid: Decimal | None = None  # AMT*D
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    adjudicated: date | None = None  # 2330B DTP*573

    @property
    def rank(self) -> int:
        """Its place in the order of payers (P first)."""
        return SEQUENCE_ORDER.find(self.sequence) if self.sequence in SEQUENCE_ORDER else len(SEQUENCE_ORDER)


@dataclass(frozen=True)
class SubmittedLine:
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: date | None
    control_number: str | None
    auth: str | None
    prior: tuple[PriorLine, ...] = ()  # 2430 per earlier payer


@dataclass(frozen=True)
class SubmittedClaim:
    claim_id: str
    charge: Decimal
    place_of_service: str
    frequency: str
    auth: str | None
    original_payer_claim_number: str | None
    payer_id: str
    payer_name: str
    filing_indicator: str
    member_id: str
    subscriber_name: tuple[str, str]
    patient_name: tuple[str, str] | None  # None: the subscriber is the patient
    lines: tuple[SubmittedLine, ...]
    payer_sequence: str = "P"  # 2000B SBR01 of the payer billed
    other_payers: tuple[OtherPayer, ...] = ()  # 2320/2330 in the order written
    crossover_from: str = ""  # payer id of the payer that forwarded this claim (no 837P was sent to us)

    @property
    def service_dates(self) -> tuple[date | None, date | None]:
        days = [ln.service_date for ln in self.lines if ln.service_date is not None]
        return (min(days), max(days)) if days else (None, None)

    @property
    def patient(self) -> tuple[str, str]:
        return self.patient_name or self.subscriber_name

    @property
    def state_key(self) -> str:
        """Where the payer's memory of this claim is kept: the claim id, plus the payer for a crossover
        (whose CLP01 is the forwarding payer's claim id)."""
        return f"{self.claim_id}>{self.payer_id}" if self.crossover_from else self.claim_id

    @property
    def rank(self) -> int:
        """The billed payer's place in the order of payers (P first)."""
        seq = self.payer_sequence
        return SEQUENCE_ORDER.find(seq) if seq and seq in SEQUENCE_ORDER else 0

    def next_payer(self) -> OtherPayer | None:
        """The coverage after the billed payer that has not adjudicated yet (where a crossover goes)."""
        later = [o for o in self.other_payers if o.rank > self.rank and o.paid is None and o.payer_id]
        return min(later, key=lambda o: o.rank) if later else None


@dataclass(frozen=True)
class SubmittedBatch:
    reference: str
    submitter_name: str
    submitter_id: str
    receiver_name: str
    billing_name: str
    billing_npi: str
    billing_tax_id: str
    claims: tuple[SubmittedClaim, ...]


def _cas(seg: Segment) -> tuple[Adjustment, ...] | None:
    """The triples of a CAS segment (group, then up to six reason/amount/quantity); None when unreadable."""
    group, out = _el(seg, 1), []
    for i in range(2, min(len(seg), 20), 3):
        reason, amount = _el(seg, i), parse_amount(_el(seg, i + 1))
        if not reason and not _el(seg, i + 1):
            continue
        if not reason or amount is None:
            return None
        quantity = parse_amount(_el(seg, i + 2)) if _el(seg, i + 2) else None
        out.append(Adjustment(group, reason, amount, quantity))
    return tuple(out) if group and out else None


class _Reader837:
    """Walks an 837P set's segments once: the header parties, subscribers, claims, their other payers
    (2320/2330A/2330B) and lines with what earlier payers did with them (2430)."""

    def __init__(self, comp: str) -> None:
        self.comp = comp
        self.head: dict[str, str] = {}
        self.claims: list[SubmittedClaim] = []
        self.sub: dict[str, Any] = {}
        self.claim: dict[str, Any] | None = None
        self.other: dict[str, Any] | None = None  # the 2320 being read
        self.line: dict[str, Any] | None = None
        self.prior: dict[str, Any] | None = None  # the 2430 being read
        self.errors: list[SegmentError] = []

    def close_prior(self) -> None:
        line, prior = self.line, self.prior
        if line is not None and prior is not None:
            line["prior"].append(PriorLine(prior["payer_id"], prior["paid"], prior["procedure"], prior["modifiers"],
                                           prior["units"], tuple(prior["adjustments"]), prior.get("date")))
        self.prior = None

    def close_line(self) -> None:
        self.close_prior()
        claim, line = self.claim, self.line
        if claim is not None and line is not None:
            if "procedure" not in line:
                self.errors.append(_missing("SV1", line["pos"], "2400"))
            else:
                claim["lines"].append(SubmittedLine(line["procedure"], line["modifiers"], line["charge"],
                                                    line["units"], line.get("date"), line.get("control"),
                                                    line.get("auth"), tuple(line["prior"])))
        self.line = None

    def close_other(self) -> None:
        claim, other = self.claim, self.other
        if claim is not None and other is not None:
            if not other.get("payer_id"):
                self.errors.append(_missing("NM1", other["pos"], "2330B"))
            else:
                claim["others"].append(OtherPayer(
                    other["sequence"], other["payer_id"], other.get("payer_name", ""), other.get("member_id", ""),
                    other.get("name", ("", "")), other["filing"], other.get("paid"), tuple(other["adjustments"]),
                    other.get("date")))
        self.other = None

    def close_claim(self) -> None:
        self.close_line()
        self.close_other()
        claim, sub = self.claim, self.sub
        if claim is None:
            return
        if not claim["has_hi"]:
            self.errors.append(_missing("HI", claim["pos"], "2300"))
        if not claim["lines"]:
            self.errors.append(_missing("LX", claim["pos"], "2400"))
        if not sub.get("payer_id"):
            self.errors.append(_missing("NM1", claim["pos"], "2010"))
        self.claims.append(SubmittedClaim(
            claim_id=claim["id"], charge=claim["charge"], place_of_service=claim["pos_code"],
            frequency=claim["freq"], auth=claim.get("auth"), original_payer_claim_number=claim.get("f8"),
            payer_id=sub.get("payer_id", ""), payer_name=sub.get("payer_name", ""),
            filing_indicator=sub.get("filing", ""), member_id=sub.get("member_id", ""),
            subscriber_name=sub.get("name", ("", "")), patient_name=sub.get("patient"),
            lines=tuple(claim["lines"]), payer_sequence=sub.get("sequence") or "P",
            other_payers=tuple(claim["others"])))
        self.claim = None

    def name(self, seg: Segment) -> None:
        """NM1 of the header and 2000B/2000C loops (a claim's own NM1s go to :meth:`in_claim`)."""
        entity, head, sub = _el(seg, 1), self.head, self.sub
        if entity == "41":
            head["submitter_name"], head["submitter_id"] = _el(seg, 3), _el(seg, 9)
        elif entity == "40":
            head["receiver_name"] = _el(seg, 3)
        elif entity == "85":
            head["billing_name"], head["billing_npi"] = _el(seg, 3), _el(seg, 9)
        elif entity == "IL":
            sub["name"], sub["member_id"] = (_el(seg, 3), _el(seg, 4)), _el(seg, 9)
        elif entity == "QC":
            sub["patient"] = (_el(seg, 3), _el(seg, 4))
        elif entity == "PR":
            sub["payer_name"], sub["payer_id"] = _el(seg, 3), _el(seg, 9)

    def open_claim(self, pos: int, seg: Segment) -> None:
        self.close_claim()
        comp_pos = _el(seg, 5).split(self.comp)
        charge = parse_amount(_el(seg, 2))
        if not _el(seg, 1) or charge is None:
            self.errors.append(SegmentError("CLM", pos, "2300", "8"))
            charge = ZERO
        self.claim = {"id": _el(seg, 1), "charge": charge, "pos_code": comp_pos[0],
                      "freq": comp_pos[2] if len(comp_pos) > 2 else "1", "lines": [], "others": [],
                      "has_hi": False, "pos": pos}

    def in_other(self, other: dict[str, Any], pos: int, seg: Segment) -> None:
        """A segment of the 2320/2330 loops of one other payer."""
        sid, code = seg[0], _el(seg, 1)
        if sid == "CAS":
            adjs = _cas(seg)
            if adjs is None:
                self.errors.append(SegmentError("CAS", pos, "2320", "8"))
            else:
                other["adjustments"] += adjs
        elif sid == "AMT" and code == "D":
            paid = parse_amount(_el(seg, 2))
            if paid is None:
                self.errors.append(SegmentError("AMT", pos, "2320", "8"))
            other["paid"] = paid if paid is not None else ZERO
        elif sid == "NM1" and code == "IL":
            other["name"], other["member_id"] = (_el(seg, 3), _el(seg, 4)), _el(seg, 9)
        elif sid == "NM1" and code == "PR":
            other["payer_name"], other["payer_id"] = _el(seg, 3), _el(seg, 9)
        elif sid == "DTP" and code == "573":
            other["date"] = _d8(_el(seg, 3))

    def in_prior(self, line: dict[str, Any], pos: int, seg: Segment) -> None:
        """SVD opens a 2430; its CAS and DTP*573 follow."""
        sid = seg[0]
        if sid == "SVD":
            self.close_prior()
            proc = _el(seg, 3).split(self.comp)
            paid = parse_amount(_el(seg, 2))
            units = parse_amount(_el(seg, 5) or "1")
            if not _el(seg, 1) or len(proc) < 2 or paid is None or units is None:
                self.errors.append(SegmentError("SVD", pos, "2430", "8"))
                return
            self.prior = {"payer_id": _el(seg, 1), "paid": paid, "procedure": proc[1],
                          "modifiers": tuple(m for m in proc[2:6] if m), "units": units.normalize(),
                          "adjustments": []}
        elif self.prior is None:
            return
        elif sid == "CAS":
            adjs = _cas(seg)
            if adjs is None:
                self.errors.append(SegmentError("CAS", pos, "2430", "8"))
            else:
                self.prior["adjustments"] += adjs
        elif sid == "DTP" and _el(seg, 1) == "573":
            self.prior["date"] = _d8(_el(seg, 3))

    def in_claim(self, claim: dict[str, Any], pos: int, seg: Segment) -> None:
        """A segment of the 2300/2320/2330/2400/2430 loops."""
        sid, line = seg[0], self.line
        if sid == "SBR":  # 2320: another payer of this claim
            self.close_other()
            self.other = {"sequence": _el(seg, 1), "filing": _el(seg, 9), "adjustments": [], "pos": pos}
        elif sid == "LX":
            self.close_line()
            self.close_other()
            self.line = {"pos": pos, "prior": []}
        elif line is None and self.other is not None:
            self.in_other(self.other, pos, seg)
        elif sid == "HI":
            claim["has_hi"] = True
        elif sid == "REF" and _el(seg, 1) == "G1" and self.prior is None:
            (line if line is not None else claim)["auth"] = _el(seg, 2)
        elif sid == "REF" and _el(seg, 1) == "F8" and line is None:
            claim["f8"] = _el(seg, 2)
        elif line is None:
            return
        elif sid == "SV1":
            proc = _el(seg, 1).split(self.comp)
            charge = parse_amount(_el(seg, 2))
            units = parse_amount(_el(seg, 4) or "1")
            if len(proc) < 2 or charge is None or units is None:
                self.errors.append(SegmentError("SV1", pos, "2400", "8"))
                return
            line.update(procedure=proc[1], modifiers=tuple(m for m in proc[2:6] if m), charge=charge,
                        units=units.normalize())
        elif sid in ("SVD", "CAS") or (sid == "DTP" and _el(seg, 1) == "573"):
            self.in_prior(line, pos, seg)
        elif sid == "DTP" and _el(seg, 1) == "472" and self.prior is None:
            line["date"] = _d8(_el(seg, 3))
        elif sid == "REF" and _el(seg, 1) == "6R" and self.prior is None:
            line["control"] = _el(seg, 2)

    def feed(self, pos: int, seg: Segment) -> None:
        sid = seg[0]
        if sid == "BHT":
            self.head["reference"] = _el(seg, 3)
        elif sid == "HL":
            self.close_claim()
            if _el(seg, 3) == "22":
                self.sub = {}
            elif _el(seg, 3) == "23":
                self.sub.pop("patient", None)
        elif sid == "CLM":
            self.open_claim(pos, seg)
        elif self.claim is not None:
            self.in_claim(self.claim, pos, seg)
        elif sid == "NM1":
            self.name(seg)
        elif sid == "SBR":  # 2000B: the payer billed and its place in the order of payers
            self.sub["sequence"], self.sub["filing"] = _el(seg, 1), _el(seg, 9)
        elif sid == "REF" and _el(seg, 1) == "EI" and "billing_tax_id" not in self.head:
            self.head["billing_tax_id"] = _el(seg, 2)

    def finish(self, n_segments: int) -> SubmittedBatch:
        self.close_claim()
        head = self.head
        for key, sid, loop in (("reference", "BHT", None), ("submitter_id", "NM1", "1000"),
                               ("billing_npi", "NM1", "2010")):
            if not head.get(key):
                self.errors.append(_missing(sid, 1, loop))
        if not self.claims:
            self.errors.append(_missing("CLM", n_segments, "2300"))
        if self.errors:
            raise SetRejected(self.errors)
        return SubmittedBatch(reference=head["reference"], submitter_name=head.get("submitter_name", ""),
                              submitter_id=head["submitter_id"], receiver_name=head.get("receiver_name", ""),
                              billing_name=head.get("billing_name", ""), billing_npi=head["billing_npi"],
                              billing_tax_id=head.get("billing_tax_id", ""), claims=tuple(self.claims))


def read_837(segments: list[Segment], comp: str) -> SubmittedBatch:
    """The claims of an 837P set (segments between ST and SE); SetRejected with the 999 errors."""
    reader = _Reader837(comp)
    for pos, seg in enumerate(segments, 1):
        reader.feed(pos, seg)
    return reader.finish(len(segments))


# --------------------------------------------------------------------------------------------
# 270 and 276
# --------------------------------------------------------------------------------------------


@dataclass
class InquiryPerson:
    level: str  # subscriber or dependent
    last: str
    first: str
    member_id: str
    trace: tuple[str, str] | None = None  # TRN02, TRN03
    birth_date: date | None = None
    gender: str | None = None
    service_types: list[str] = field(default_factory=list)
    # 276 only
    claim_id: str | None = None
    payer_claim_number: str | None = None
    charge: Decimal | None = None
    service_from: date | None = None
    service_to: date | None = None


@dataclass
class Inquiry:
    """A 270 or 276 set: payer, receiver, provider and the people asked about, in order."""

    reference: str = ""
    payer_name: str = ""
    payer_id: str = ""
    receiver_name: str = ""
    receiver_id: str = ""
    provider_name: str = ""
    provider_npi: str = ""
    people: list[InquiryPerson] = field(default_factory=list)


def _about_person(person: InquiryPerson, seg: Segment) -> None:
    """A segment of a person's loop after the name: EQ (270), REF, AMT and DTP (276)."""
    sid = seg[0]
    if sid == "EQ":
        person.service_types.append(_el(seg, 1))
    elif sid == "REF" and _el(seg, 1) == "EJ":
        person.claim_id = _el(seg, 2)
    elif sid == "REF" and _el(seg, 1) == "1K":
        person.payer_claim_number = _el(seg, 2)
    elif sid == "AMT" and _el(seg, 1) == "T3":
        person.charge = parse_amount(_el(seg, 2))
    elif sid == "DTP" and _el(seg, 1) in ("472", "291"):
        days = _el(seg, 3).split("-")
        person.service_from = _d8(days[0])
        person.service_to = _d8(days[-1])


def _check_inquiry(q: Inquiry, n_segments: int) -> Inquiry:
    errors: list[SegmentError] = []
    if not q.payer_id:
        errors.append(_missing("NM1", 1, "2100"))
    if not q.reference:
        errors.append(_missing("BHT", 1, None))
    asked = [p for p in q.people if p.trace is not None]
    if not asked:
        errors.append(_missing("TRN", n_segments, "2000"))
    if errors:
        raise SetRejected(errors)
    return q


def read_inquiry(segments: list[Segment], set_id: str) -> Inquiry:
    """The people a 270 or 276 set (``set_id``) asks about; SetRejected with the 999 errors."""
    q = Inquiry()
    person: InquiryPerson | None = None
    subscriber: InquiryPerson | None = None
    pending: dict[str, Any] = {}
    for seg in segments:
        sid = seg[0]
        if sid == "BHT":
            q.reference = _el(seg, 3)
        elif sid == "HL":
            person = None
            level = _el(seg, 3)
            pending = {"level": "subscriber" if level == "22" else "dependent" if level == "23" else ""}
        elif sid == "NM1":
            entity = _el(seg, 1)
            if entity == "PR":
                q.payer_name, q.payer_id = _el(seg, 3), _el(seg, 9)
            elif entity == "41":
                q.receiver_name, q.receiver_id = _el(seg, 3), _el(seg, 9)
            elif entity == "1P":
                q.provider_name, q.provider_npi = _el(seg, 3), _el(seg, 9)
                if set_id == "270":
                    q.receiver_name, q.receiver_id = q.provider_name, q.provider_npi
            elif entity in ("IL", "03", "QC") and pending.get("level"):
                person = InquiryPerson(pending["level"], _el(seg, 3), _el(seg, 4), _el(seg, 9),
                                       trace=pending.get("trace"), birth_date=pending.get("dob"),
                                       gender=pending.get("sex"))
                if person.level == "subscriber":
                    subscriber = person
                elif subscriber is not None:
                    person.member_id = person.member_id or subscriber.member_id
                q.people.append(person)
        elif sid == "TRN":
            trace = (_el(seg, 2), _el(seg, 3))
            if person is not None:
                person.trace = trace
            else:
                pending["trace"] = trace
        elif sid == "DMG":
            dob, sex = _d8(_el(seg, 2)), _el(seg, 3) or None
            if person is not None:
                person.birth_date, person.gender = dob, sex
            else:
                pending["dob"], pending["sex"] = dob, sex
        elif person is not None:
            _about_person(person, seg)
    return _check_inquiry(q, len(segments))
