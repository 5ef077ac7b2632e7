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
from edi.x999 import SegmentError
from pipelines.simulator.amounts import ZERO, parse_amount

__all__ = ["FileUnreadable", "Inquiry", "InquiryPerson", "ReceivedGroup", "ReceivedSet", "SetRejected",
           "SubmittedBatch", "SubmittedClaim", "SubmittedLine", "isa_ids", "read_837", "read_file",
           "read_inquiry"]


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
class SubmittedLine:
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: date | None
    control_number: str | None
    auth: str | None


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

    @property
    def service_dates(self) -> tuple[date | None, date | None]:
        days = [ln.service_date for ln in self.lines if ln.service_date is not None]
        return (min(days), max(days)) if days else (None, None)

    @property
    def patient(self) -> tuple[str, str]:
        return self.patient_name or self.subscriber_name


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


class _Reader837:
    """Walks an 837P set's segments once: the header parties, subscribers, claims and lines."""

    def __init__(self, comp: str) -> None:
        self.comp = comp
        self.head: dict[str, str] = {}
        self.claims: list[SubmittedClaim] = []
        self.sub: dict[str, Any] = {}
        self.claim: dict[str, Any] | None = None
        self.line: dict[str, Any] | None = None
        self.errors: list[SegmentError] = []

    def close_line(self) -> None:
        claim, line = self.claim, self.line
        if claim is not None and line is not None:
            if "procedure" not in line:
                self.errors.append(_missing("SV1", line["pos"], "2400"))
            else:
                claim["lines"].append(SubmittedLine(line["procedure"], line["modifiers"], line["charge"],
                                                    line["units"], line.get("date"), line.get("control"),
                                                    line.get("auth")))
        self.line = None

    def close_claim(self) -> None:
        self.close_line()
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
            lines=tuple(claim["lines"])))
        self.claim = None

    def name(self, seg: Segment) -> None:
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
                      "freq": comp_pos[2] if len(comp_pos) > 2 else "1", "lines": [], "has_hi": False,
                      "pos": pos}

    def in_claim(self, claim: dict[str, Any], pos: int, seg: Segment) -> None:
        """A segment of the 2300/2400 loops."""
        sid, line = seg[0], self.line
        if sid == "HI":
            claim["has_hi"] = True
        elif sid == "REF" and _el(seg, 1) == "G1":
            (line if line is not None else claim)["auth"] = _el(seg, 2)
        elif sid == "REF" and _el(seg, 1) == "F8":
            claim["f8"] = _el(seg, 2)
        elif sid == "LX":
            self.close_line()
            self.line = {"pos": pos}
        elif sid == "SV1" and line is not None:
            proc = _el(seg, 1).split(self.comp)
            charge = parse_amount(_el(seg, 2))
            units = parse_amount(_el(seg, 4) or "1")
            if len(proc) < 2 or charge is None or units is None:
                self.errors.append(SegmentError("SV1", pos, "2400", "8"))
                return
            line.update(procedure=proc[1], modifiers=tuple(m for m in proc[2:6] if m), charge=charge,
                        units=units.normalize())
        elif sid == "DTP" and _el(seg, 1) == "472" and line is not None:
            line["date"] = _d8(_el(seg, 3))
        elif sid == "REF" and _el(seg, 1) == "6R" and line is not None:
            line["control"] = _el(seg, 2)

    def feed(self, pos: int, seg: Segment) -> None:
        sid = seg[0]
        if sid == "BHT":
            self.head["reference"] = _el(seg, 3)
        elif sid == "NM1":
            self.name(seg)
        elif sid == "HL":
            self.close_claim()
            if _el(seg, 3) == "22":
                self.sub = {}
            elif _el(seg, 3) == "23":
                self.sub.pop("patient", None)
        elif sid == "SBR":
            self.sub["filing"] = _el(seg, 9)
        elif sid == "REF" and _el(seg, 1) == "EI" and "billing_tax_id" not in self.head:
            self.head["billing_tax_id"] = _el(seg, 2)
        elif sid == "CLM":
            self.open_claim(pos, seg)
        elif self.claim is not None:
            self.in_claim(self.claim, pos, seg)

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
