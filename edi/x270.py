"""270 eligibility inquiry (005010X279A1): builder, parser and ``edi inspect`` JSON.

One functional group per file; in it, transaction sets of this shape::

    2000A information source (payer, HL 20)
      2000B information receiver (practice, HL 21)
        2000C subscriber (HL 22)                  one per inquiry
          2000D dependent (HL 23)                 when the patient is not the subscriber

Every set has one payer, its subscriber-is-patient inquiries first, and at most one dependent
inquiry, last: X12 allows more, but the X279A1 pyx12 map walks its loop areas only forward
(2000A, 2000B, 2000C, 2000D), so neither a second 2000A nor a 2000C after a 2000D validates.
A batch is therefore split into as many sets as it needs (one per payer, plus one per further
dependent inquiry); their ST02s are ``st_control``, ``st_control + 1``, ... (same width). Use
:func:`plan_sets` to know them beforehand.

The person asked about (the subscriber, or the dependent) carries the trace number (TRN), the
date of service (DTP*291) and one EQ per service type (MH, health benefit plan coverage for
mental health, by default).

Parties, subscribers and patients reuse the dataclasses of :mod:`edi.x837p`. The builder names the
guide's loops (``_loop_2000a_information_source``, ...).

Reading: :func:`parse_270` returns an :class:`EligibilityRequest` with one
:class:`EligibilityInquiry` per person asked about (its trace number, subscriber, dependent, date
of service and service types); :func:`inspect_270` is its ``edi inspect`` JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from edi._envelope import (
    EnvelopeSpec,
    Receiver,
    Submitter,
    check_npi,
    clean_text,
    d8,
    demographics,
    envelope_times,
    first_duplicate,
    ident,
    numbered,
    party_ids,
    person_name,
    write_interchange,
)
from edi._read import Entity, Person, entity, error, period, person
from edi._read import demographics as read_demographics
from edi.errors import BuildError
from edi.x12 import Element, Segment, TransactionSet, element, is_digits, parse_d8
from edi.x837p.model import Patient, Payer, Subscriber

__all__ = [
    "IMPLEMENTATION",
    "SERVICE_TYPES",
    "Batch270",
    "EligibilityInquiry",
    "EligibilityRequest",
    "Entity",
    "EnvelopeSpec",
    "InformationReceiver",
    "Inquiry270",
    "Person",
    "build_270",
    "inspect_270",
    "parse_270",
    "plan_sets",
]

IMPLEMENTATION = "005010X279A1"

SERVICE_TYPES = {
    "30": "health benefit plan coverage",
    "MH": "mental health",
    "A4": "psychiatric",
    "A6": "psychotherapy",
    "A7": "psychiatric - inpatient",
    "A8": "psychiatric - outpatient",
    "AI": "substance abuse",
    "AJ": "alcoholism",
    "AK": "drug addiction",
}
"""The service type codes (EQ01) this builder accepts, behavioural-health ones plus 30."""

_TRACE = re.compile(r"^[A-Z0-9-]{1,50}$")


@dataclass(frozen=True, slots=True)
class InformationReceiver:
    """Loop 2100B: the practice asking (NM1*1P with its NPI); ``tax_id`` makes TRN03 (1 + EIN)."""

    name: str
    npi: str
    tax_id: str


@dataclass(frozen=True, slots=True)
class Inquiry270:
    """One person's inquiry. ``patient`` is None when the subscriber is the patient."""

    trace_number: str
    payer: Payer
    subscriber: Subscriber
    service_date: date
    patient: Patient | None = None
    service_types: tuple[str, ...] = ("MH",)


@dataclass(frozen=True, slots=True)
class Batch270:
    submitter: Submitter
    receiver: Receiver
    information_receiver: InformationReceiver
    inquiries: tuple[Inquiry270, ...]
    batch_reference: str


def _inquiry_segments(q: Inquiry270, originator: str) -> tuple[list[list[Element]], list[list[Element]]]:
    """The subscriber's segments after its HL, and the dependent's (empty when there is none).

    The patient (subscriber or dependent) gets the TRN, the DMG, the DTP*291 and the EQs.
    """
    ref = f"trace {q.trace_number}"
    if not _TRACE.match(q.trace_number):
        raise BuildError(f"{ref}: trace number must be 1-50 upper-case letters, digits or dashes",
                         segment_id="TRN", element=2)
    if not q.service_types:
        raise BuildError(f"{ref}: no service type asked", segment_id="EQ", element=1)
    for st in q.service_types:
        if st not in SERVICE_TYPES:
            raise BuildError(f"{ref}: service type {st!r} is not supported", segment_id="EQ", element=1,
                             expected=", ".join(SERVICE_TYPES))
    s = q.subscriber
    trn: list[Element] = ["TRN", "1", q.trace_number, originator]
    last, first = person_name(s.last_name, s.first_name, what="subscriber", claim_id=None)
    nm1: list[Element] = ["NM1", "IL", "1", last, first, None, None, None, "MI",
                          ident(s.member_id, what=f"{ref}: member id")]
    tail: list[list[Element]] = [["DTP", "291", "D8", d8(q.service_date)]]
    tail += [["EQ", st] for st in dict.fromkeys(q.service_types)]
    if q.patient is None:
        segs: list[list[Element]] = [trn, nm1]
        if s.dob is not None:
            segs.append(_dmg(s.dob, s.sex, what=f"{ref}: subscriber"))
        return segs + tail, []
    p = q.patient
    plast, pfirst = person_name(p.last_name, p.first_name, what="patient", claim_id=None)
    dependent: list[list[Element]] = [trn, ["NM1", "03", "1", plast, pfirst],
                                      _dmg(p.dob, p.sex, what=f"{ref}: patient")]
    return [nm1], dependent + tail


def _dmg(dob: date | None, sex: str, *, what: str) -> list[Element]:
    """The 270's DMG: 005010X279A1 allows DMG03 F or M only, so an unknown sex (U) is left out."""
    dmg = demographics(dob, sex, what=what, claim_id=None)
    return dmg if dmg[3] in ("F", "M") else dmg[:3]


def plan_sets(inquiries: Sequence[Inquiry270]) -> list[list[Inquiry270]]:
    """The inquiries of each transaction set, in the order they are written (see the module doc)."""
    by_payer: dict[Payer, list[Inquiry270]] = {}
    for q in inquiries:
        by_payer.setdefault(q.payer, []).append(q)
    sets: list[list[Inquiry270]] = []
    for qs in by_payer.values():
        selfs = [q for q in qs if q.patient is None]
        dependents = [q for q in qs if q.patient is not None]
        sets.append(selfs + dependents[:1])
        sets += [[q] for q in dependents[1:]]
    return sets


def _loop_2000a_information_source(payer: Payer) -> list[list[Element]]:
    payer_name = clean_text(payer.name, 60)
    if not payer_name:
        raise BuildError("payer name is missing", segment_id="NM1", element=3)
    return [["HL", "1", None, "20", "1"],
            ["NM1", "PR", "2", payer_name, None, None, None, None, "PI",
             ident(payer.payer_id, what="payer id", max_len=80)]]


def _loop_2000b_information_receiver(name: str, npi: str) -> list[list[Element]]:
    return [["HL", "2", "1", "21", "1"], ["NM1", "1P", "2", name, None, None, None, None, "XX", npi]]


def _loop_2000c_2000d(inquiries: Sequence[Inquiry270], originator: str) -> list[list[Element]]:
    """The subscribers (HL 22) and dependents (HL 23) of one set, HL numbers from 3."""
    body: list[list[Element]] = []
    hl = 2
    for q in inquiries:
        hl += 1
        sub_hl = hl
        body.append(["HL", str(sub_hl), "2", "22", "1" if q.patient else "0"])
        subscriber_segs, dependent_segs = _inquiry_segments(q, originator)
        body += subscriber_segs
        if dependent_segs:
            hl += 1
            body.append(["HL", str(hl), str(sub_hl), "23", "0"])
            body += dependent_segs
    return body


def build_270(batch: Batch270, *, envelope: EnvelopeSpec, newline: bool = True) -> str:
    """The 270 file for ``batch``: one group, the sets of :func:`plan_sets`, ST02 from ``envelope.st_control`` up."""
    envelope.check()
    if not batch.inquiries:
        raise BuildError("the batch has no inquiries")
    dup = first_duplicate(q.trace_number for q in batch.inquiries)
    if dup is not None:
        raise BuildError(f"trace {dup}: trace number appears twice in the batch", segment_id="TRN", element=2)
    sender, receiver = party_ids(batch)
    ir = batch.information_receiver
    npi = check_npi(ir.npi, what="information receiver")
    tax_id = ir.tax_id.replace("-", "")
    if len(tax_id) != 9 or not is_digits(tax_id):
        raise BuildError("information receiver tax id is not 9 digits", segment_id="TRN", element=3)
    originator = "1" + tax_id
    ir_name = clean_text(ir.name, 60)
    if not ir_name:
        raise BuildError("information receiver name is missing", segment_id="NM1", element=3)
    _isa_date, date8, hhmm = envelope_times(envelope.created)
    reference = ident(batch.batch_reference, what="batch reference", max_len=50)
    bodies: list[list[list[Element]]] = [[["BHT", "0022", "13", reference, date8, hhmm],
               *_loop_2000a_information_source(inquiries[0].payer),
               *_loop_2000b_information_receiver(ir_name, npi),
               *_loop_2000c_2000d(inquiries, originator)]
              for inquiries in plan_sets(batch.inquiries)]
    return write_interchange(envelope, "HS", IMPLEMENTATION, numbered(envelope, "270", bodies, IMPLEMENTATION),
                             sender=sender, receiver=receiver, newline=newline)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EligibilityInquiry:
    """One person asked about: the subscriber (2100C), the dependent (2100D) when there is one,
    the trace (TRN02, and TRN03 who assigned it), the date of service (DTP*291) and the EQ01s."""

    trace_number: str
    subscriber: Person
    patient: Person | None = None
    trace_originator: str | None = None
    service_date: date | None = None
    service_date_end: date | None = None
    service_types: tuple[str, ...] = ()

    @property
    def level(self) -> str:
        """``subscriber`` when the subscriber is the patient, else ``dependent``."""
        return "subscriber" if self.patient is None else "dependent"


@dataclass(frozen=True, slots=True)
class EligibilityRequest:
    """One 270 transaction set: BHT, the payer asked (2100A), the provider asking (2100B), the inquiries."""

    reference: str
    created: date | None
    created_time: str
    source: Entity
    receiver: Entity
    inquiries: tuple[EligibilityInquiry, ...]
    purpose: str = "13"

    @property
    def payer_id(self) -> str:
        return self.source.id or ""


class _Reader:
    """One pass over a 270 set; ``person`` is the subscriber or dependent being read, ``asked`` its inquiry."""

    def __init__(self, ts: TransactionSet) -> None:
        self.n = ts.segment_number - 1
        self.st_number = ts.segment_number
        self.head: dict[str, Any] = {}
        self.level = ""
        self.subscriber: Person | None = None
        self.dependent: Person | None = None
        self.asked: dict[str, Any] | None = None
        self.inquiries: list[EligibilityInquiry] = []

    def read(self, segments: Iterable[Segment]) -> EligibilityRequest:
        for seg in segments:
            self.n += 1
            sid = seg[0]
            if sid == "BHT":
                self.head.update(purpose=element(seg, 2), reference=element(seg, 3), created_time=element(seg, 5),
                                 created=parse_d8(element(seg, 4), self.n, "BHT", 4) if element(seg, 4) else None)
            elif sid == "HL":
                self.close()
                self.level = element(seg, 3)
                self.dependent = None
                if self.level == "22":
                    self.subscriber = None
            elif sid == "NM1":
                self.nm1(seg)
            elif sid == "TRN":
                self.asked = {"trace_number": element(seg, 2), "trace_originator": element(seg, 3) or None,
                              "service_types": [], "n": self.n}
            elif sid == "DMG":
                self.dmg(seg)
            elif sid == "DTP" and element(seg, 1) == "291" and self.asked is not None:
                self.asked["service_date"], self.asked["service_date_end"] = period(seg, self.n)
            elif sid == "EQ" and self.asked is not None:
                self.asked["service_types"].append(element(seg, 1))
        self.close()
        return self.request()

    def nm1(self, seg: Segment) -> None:
        level = self.level
        if level in ("20", "21"):
            self.head["source" if level == "20" else "receiver"] = entity(seg)
        elif level == "22":
            self.subscriber = person(seg)
        elif level == "23":
            self.dependent = person(seg)

    def dmg(self, seg: Segment) -> None:
        target = self.dependent if self.level == "23" else self.subscriber
        if target is None:
            return
        dob, sex = read_demographics(seg, self.n)
        updated = Person(target.last_name, target.first_name, target.member_id, dob, sex)
        if self.level == "23":
            self.dependent = updated
        else:
            self.subscriber = updated

    def close(self) -> None:
        asked, self.asked = self.asked, None
        if asked is None:
            return
        n = asked.pop("n")
        if self.subscriber is None:
            raise error("270 inquiry (TRN) without a subscriber name", n, ["TRN"], 0, "NM1*IL in loop 2100C")
        if not asked["trace_number"]:
            raise error("270 TRN02 is empty", n, ["TRN"], 2, "a trace number")
        asked["service_types"] = tuple(asked["service_types"])
        self.inquiries.append(EligibilityInquiry(subscriber=self.subscriber, patient=self.dependent, **asked))

    def request(self) -> EligibilityRequest:
        st: Segment = ["ST"]
        head = self.head
        if "reference" not in head:
            raise error("270 set has no BHT", self.st_number, st, 0, "BHT")
        for key, loop in (("source", "NM1*PR in loop 2100A"), ("receiver", "NM1*1P in loop 2100B")):
            if key not in head or (key == "source" and not head[key].id):
                raise error(f"270 set has no {'payer id' if key == 'source' else 'information receiver'}",
                            self.st_number, st, 0, loop)
        if not self.inquiries:
            raise error("270 set has no inquiry", self.st_number, st, 0, "TRN in loop 2000C or 2000D")
        return EligibilityRequest(reference=head["reference"], created=head["created"],
                                  created_time=head["created_time"], source=head["source"],
                                  receiver=head["receiver"], inquiries=tuple(self.inquiries), purpose=head["purpose"])


def parse_270(ts: TransactionSet) -> EligibilityRequest:
    """Parse one 270 (005010X279A1) transaction set; TransactionError with the position when it is broken."""
    return _Reader(ts).read(ts.segments)


def inspect_270(ts: TransactionSet) -> dict[str, Any]:
    """The ``edi inspect --json`` form of a 270: the inquiries with their trace numbers (no names)."""
    r = parse_270(ts)
    return {
        "set": "270", "control_number": ts.control_number, "implementation": ts.implementation,
        "reference": r.reference, "created": r.created.isoformat() if r.created else None,
        "payer": {"name": r.source.name, "id": r.source.id},
        "receiver": {"name": r.receiver.name, "id": r.receiver.id},
        "inquiries": [{"trace_number": q.trace_number, "level": q.level,
                       "service_date": q.service_date.isoformat() if q.service_date else None,
                       "service_types": list(q.service_types)} for q in r.inquiries],
    }
