"""276 claim status request (005010X212): builder, parser and ``edi inspect`` JSON.

One functional group per file, one transaction set per payer (ST02 ``st_control``,
``st_control + 1``, ... in first-seen payer order, as in :mod:`edi.x270`)::

    2000A information source (payer, HL 20)          2100A NM1*PR with PI payer id
      2000B information receiver (HL 21)             2100B NM1*41 with 46 submitter id
        2000C service provider (HL 19)               2100C NM1*1P with XX NPI
          2000D subscriber (HL 22) + DMG when the subscriber is the patient
            2100D NM1*IL with MI member id
            2200D claim status tracking              TRN*1, REF*1K, REF*EJ, AMT*T3, DTP*472 RD8
          2000E dependent (HL 23) + DMG              when the patient is not the subscriber
            2100E NM1*QC
            2200E claim status tracking

One 2000D per payer + subscriber + patient, with every claim of that person under it.
Parties, subscribers and patients reuse the dataclasses of :mod:`edi.x837p`.

Reading: :func:`parse_276` returns a :class:`ClaimStatusRequest` with one :class:`ClaimInquiry`
per claim asked about (trace number, claim id, charge, dates, subscriber and patient);
:func:`inspect_276` is its ``edi inspect`` JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from edi._envelope import (
    EnvelopeSpec,
    Receiver,
    Submitter,
    check_claim_id,
    check_npi,
    clean_text,
    d8,
    demographics,
    envelope_times,
    ident,
    money,
    numbered,
    party_ids,
    person_name,
    write_interchange,
)
from edi._read import Entity, Person, entity, error, opt_amount, period, person
from edi._read import demographics as read_demographics
from edi.errors import BuildError
from edi.x12 import Element, Segment, TransactionSet, element, parse_d8
from edi.x837p.model import Patient, Payer, Subscriber

__all__ = [
    "IMPLEMENTATION",
    "Batch276",
    "ClaimInquiry",
    "ClaimStatusRequest",
    "Entity",
    "EnvelopeSpec",
    "Person",
    "ServiceProvider",
    "StatusRequest276",
    "build_276",
    "inspect_276",
    "parse_276",
]

IMPLEMENTATION = "005010X212"


@dataclass(frozen=True, slots=True)
class ServiceProvider:
    """Loop 2100C: the billing provider whose claims are asked about."""

    name: str
    npi: str


@dataclass(frozen=True, slots=True)
class StatusRequest276:
    """One claim asked about. ``claim_id`` is CLM01 as sent: TRN02 and REF*EJ."""

    claim_id: str
    payer: Payer
    subscriber: Subscriber
    total_charge: Decimal
    service_from: date
    service_to: date
    patient: Patient | None = None
    payer_claim_number: str = ""


@dataclass(frozen=True, slots=True)
class Batch276:
    submitter: Submitter
    receiver: Receiver
    provider: ServiceProvider
    requests: tuple[StatusRequest276, ...]
    batch_reference: str


def _claim_segments(r: StatusRequest276) -> list[list[Element]]:
    cid = r.claim_id
    check_claim_id(cid, "TRN")
    if r.total_charge < 0 or r.total_charge != r.total_charge.quantize(Decimal("0.01")):
        raise BuildError(f"claim {cid}: total charge must be a non-negative cents amount", segment_id="AMT",
                         element=2)
    if r.service_to < r.service_from:
        raise BuildError(f"claim {cid}: service dates end before they start", segment_id="DTP", element=3)
    segs: list[list[Element]] = [["TRN", "1", cid]]
    if r.payer_claim_number:
        segs.append(["REF", "1K", ident(r.payer_claim_number, what="payer claim number", claim_id=cid,
                                        max_len=50)])
    segs.append(["REF", "EJ", cid])
    segs.append(["AMT", "T3", money(r.total_charge)])
    segs.append(["DTP", "472", "RD8", f"{d8(r.service_from)}-{d8(r.service_to)}"])
    return segs


def _by_payer(requests: Sequence[StatusRequest276]) -> dict[Payer, dict[tuple[object, ...], list[StatusRequest276]]]:
    out: dict[Payer, dict[tuple[object, ...], list[StatusRequest276]]] = {}
    for r in requests:
        out.setdefault(r.payer, {}).setdefault((r.subscriber, r.patient), []).append(r)
    return out


def _loop_2000a_to_2000c(payer: Payer, submitter_name: str, sender: str, provider_name: str,
                         npi: str) -> list[list[Element]]:
    """Information source (payer), information receiver (us) and service provider, HL 1 to 3."""
    payer_name = clean_text(payer.name, 60)
    if not payer_name:
        raise BuildError("payer name is missing", segment_id="NM1", element=3)
    return [
        ["HL", "1", None, "20", "1"],
        ["NM1", "PR", "2", payer_name, None, None, None, None, "PI", ident(payer.payer_id, what="payer id", max_len=80)],
        ["HL", "2", "1", "21", "1"],
        ["NM1", "41", "2", submitter_name, None, None, None, None, "46", sender],
        ["HL", "3", "2", "19", "1"],
        ["NM1", "1P", "2", provider_name, None, None, None, None, "XX", npi],
    ]


def _loop_2000d_2000e(people: dict[tuple[object, ...], list[StatusRequest276]]) -> list[list[Element]]:
    """Each subscriber (HL 22, 2100D) and dependent (HL 23, 2100E) with their 2200D/2200E claims."""
    body: list[list[Element]] = []
    hl = 3
    for (s, patient), requests in people.items():
        assert isinstance(s, Subscriber)
        cid = requests[0].claim_id
        hl += 1
        sub_hl = hl
        body.append(["HL", str(sub_hl), "3", "22", "1" if patient is not None else "0"])
        if patient is None:
            body.append(demographics(s.dob, s.sex, what="subscriber", claim_id=cid))
        last, first = person_name(s.last_name, s.first_name, what="subscriber", claim_id=cid)
        body.append(["NM1", "IL", "1", last, first, None, None, None, "MI",
                     ident(s.member_id, what="member id", claim_id=cid)])
        if patient is not None:
            assert isinstance(patient, Patient)
            hl += 1
            body.append(["HL", str(hl), str(sub_hl), "23"])
            body.append(demographics(patient.dob, patient.sex, what="patient", claim_id=cid))
            plast, pfirst = person_name(patient.last_name, patient.first_name, what="patient", claim_id=cid)
            body.append(["NM1", "QC", "1", plast, pfirst])
        for r in requests:
            body += _claim_segments(r)
    return body


def build_276(batch: Batch276, *, envelope: EnvelopeSpec, newline: bool = True) -> str:
    """The 276 file for ``batch``: one group, one ST per payer, ST02 from ``envelope.st_control`` up."""
    envelope.check()
    if not batch.requests:
        raise BuildError("the batch has no status requests")
    sender, receiver = party_ids(batch)
    npi = check_npi(batch.provider.npi, what="service provider")
    provider_name = clean_text(batch.provider.name, 60)
    submitter_name = clean_text(batch.submitter.name, 60) or sender
    if not provider_name:
        raise BuildError("service provider name is missing", segment_id="NM1", element=3)
    reference = ident(batch.batch_reference, what="batch reference", max_len=50)
    _isa_date, date8, hhmm = envelope_times(envelope.created)
    bodies: list[list[list[Element]]] = [[["BHT", "0010", "13", reference, date8, hhmm],
               *_loop_2000a_to_2000c(payer, submitter_name, sender, provider_name, npi),
               *_loop_2000d_2000e(people)]
              for payer, people in _by_payer(batch.requests).items()]
    return write_interchange(envelope, "HR", IMPLEMENTATION, numbered(envelope, "276", bodies, IMPLEMENTATION),
                             sender=sender, receiver=receiver, newline=newline)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimInquiry:
    """One claim asked about (loop 2200D or 2200E): TRN02 trace (our CLM01), REF*EJ, REF*1K,
    AMT*T3 and DTP*472, with the subscriber (2100D) and the dependent patient (2100E) if any."""

    trace_number: str
    subscriber: Person
    patient: Person | None = None
    claim_id: str | None = None
    payer_claim_number: str | None = None
    charge: Decimal | None = None
    service_from: date | None = None
    service_to: date | None = None

    @property
    def level(self) -> str:
        """``subscriber`` when the subscriber is the patient, else ``dependent``."""
        return "subscriber" if self.patient is None else "dependent"


@dataclass(frozen=True, slots=True)
class ClaimStatusRequest:
    """One 276 transaction set: BHT, the payer (2100A), us (2100B), the provider (2100C), the claims."""

    reference: str
    created: date | None
    created_time: str
    source: Entity
    receiver: Entity | None
    provider: Entity | None
    inquiries: tuple[ClaimInquiry, ...]
    purpose: str = "13"

    @property
    def payer_id(self) -> str:
        return self.source.id or ""


class _Reader:
    """One pass over a 276 set; ``claim`` is the 2200D/2200E loop being read."""

    def __init__(self, ts: TransactionSet) -> None:
        self.n = ts.segment_number - 1
        self.st_number = ts.segment_number
        self.head: dict[str, Any] = {}
        self.level = ""
        self.subscriber: Person | None = None
        self.dependent: Person | None = None
        self.claim: dict[str, Any] | None = None
        self.inquiries: list[ClaimInquiry] = []

    def read(self, segments: Iterable[Segment]) -> ClaimStatusRequest:
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
                self.head.pop("dmg", None)
                if self.level == "22":
                    self.subscriber = None
            elif sid == "NM1":
                self.nm1(seg)
            elif sid == "DMG":
                self.dmg(seg)
            elif sid == "TRN" and self.level in ("22", "23"):
                self.close()
                self.claim = {"trace_number": element(seg, 2), "n": self.n}
            elif self.claim is not None:
                self.claim_segment(seg)
        self.close()
        return self.request()

    def nm1(self, seg: Segment) -> None:
        key = {"20": "source", "21": "receiver", "19": "provider"}.get(self.level)
        if key is not None:
            self.head[key] = entity(seg)
        elif self.level == "22":
            self.subscriber = self.with_dmg(person(seg))
        elif self.level == "23":
            self.dependent = self.with_dmg(person(seg))

    def with_dmg(self, p: Person) -> Person:
        """The person with the DMG read before its NM1 (the 276 puts the DMG first)."""
        dmg = self.head.pop("dmg", None)
        return p if dmg is None else Person(p.last_name, p.first_name, p.member_id, *dmg)

    def dmg(self, seg: Segment) -> None:
        self.head["dmg"] = read_demographics(seg, self.n)

    def claim_segment(self, seg: Segment) -> None:
        claim = self.claim
        assert claim is not None
        sid, q = seg[0], element(seg, 1)
        if sid == "REF" and q in ("EJ", "1K"):
            claim["claim_id" if q == "EJ" else "payer_claim_number"] = element(seg, 2)
        elif sid == "AMT" and q == "T3":
            claim["charge"] = opt_amount(seg, 2, self.n)
        elif sid == "DTP" and q == "472":
            start, end = period(seg, self.n)
            claim["service_from"], claim["service_to"] = start, end or start

    def close(self) -> None:
        claim, self.claim = self.claim, None
        if claim is None:
            return
        n = claim.pop("n")
        if self.subscriber is None:
            raise error("276 claim (TRN) without a subscriber name", n, ["TRN"], 0, "NM1*IL in loop 2100D")
        if not claim["trace_number"]:
            raise error("276 TRN02 is empty", n, ["TRN"], 2, "a trace number")
        self.inquiries.append(ClaimInquiry(subscriber=self.subscriber, patient=self.dependent, **claim))

    def request(self) -> ClaimStatusRequest:
        st: Segment = ["ST"]
        head = self.head
        if "reference" not in head:
            raise error("276 set has no BHT", self.st_number, st, 0, "BHT")
        if "source" not in head or not head["source"].id:
            raise error("276 set has no payer id", self.st_number, st, 0, "NM1*PR in loop 2100A")
        if not self.inquiries:
            raise error("276 set has no claim", self.st_number, st, 0, "TRN in loop 2200D or 2200E")
        return ClaimStatusRequest(reference=head["reference"], created=head["created"],
                                  created_time=head["created_time"], source=head["source"],
                                  receiver=head.get("receiver"), provider=head.get("provider"),
                                  inquiries=tuple(self.inquiries), purpose=head["purpose"])


def parse_276(ts: TransactionSet) -> ClaimStatusRequest:
    """Parse one 276 (005010X212) transaction set; TransactionError with the position when it is broken."""
    return _Reader(ts).read(ts.segments)


def inspect_276(ts: TransactionSet) -> dict[str, Any]:
    """The ``edi inspect --json`` form of a 276: the claims asked about with their trace numbers (no names)."""
    r = parse_276(ts)
    return {
        "set": "276", "control_number": ts.control_number, "implementation": ts.implementation,
        "reference": r.reference, "created": r.created.isoformat() if r.created else None,
        "payer": {"name": r.source.name, "id": r.source.id},
        "provider": None if r.provider is None else {"name": r.provider.name, "npi": r.provider.id},
        "inquiries": [{"trace_number": q.trace_number, "level": q.level, "claim_id": q.claim_id,
                       "payer_claim_number": q.payer_claim_number,
                       "charge": None if q.charge is None else f"{q.charge:.2f}",
                       "service_from": q.service_from.isoformat() if q.service_from else None,
                       "service_to": q.service_to.isoformat() if q.service_to else None} for q in r.inquiries],
    }
