"""270 eligibility inquiry builder, 005010X279A1.

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

Parties, subscribers and patients reuse the dataclasses of :mod:`edi.x837p`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from edi.errors import BuildError
from edi.x12 import (
    Element,
    TransactionSpec,
)
from edi.x837p import (
    Patient,
    Payer,
    Receiver,
    Submitter,
    Subscriber,
    check_control,
    check_npi,
    check_usage,
    clean_text,
    d8,
    demographics,
    envelope_times,
    first_duplicate,
    ident,
    person_name,
    write_interchange,
)

__all__ = [
    "IMPLEMENTATION",
    "SERVICE_TYPES",
    "Batch270",
    "InformationReceiver",
    "Inquiry270",
    "build_270",
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
            segs.append(demographics(s.dob, s.sex, what=f"{ref}: subscriber", claim_id=None))
        return segs + tail, []
    p = q.patient
    plast, pfirst = person_name(p.last_name, p.first_name, what="patient", claim_id=None)
    dependent: list[list[Element]] = [trn, ["NM1", "03", "1", plast, pfirst],
                                      demographics(p.dob, p.sex, what=f"{ref}: patient", claim_id=None)]
    return [nm1], dependent + tail


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


def _control(st_control: str, offset: int) -> str:
    number = f"{int(st_control) + offset:0{len(st_control)}d}"
    if len(number) > 9:
        raise BuildError("ST02 control numbers run past 9 digits", segment_id="ST", element=2)
    return number


def build_270(
    batch: Batch270,
    *,
    isa_control: int,
    gs_control: int,
    st_control: str,
    created: datetime,
    usage: str = "T",
    newline: bool = True,
) -> str:
    """The 270 file for ``batch``: one group, the sets of :func:`plan_sets`, ST02 from ``st_control`` up."""
    check_usage(usage)
    check_control(st_control)
    if not batch.inquiries:
        raise BuildError("the batch has no inquiries")
    dup = first_duplicate(q.trace_number for q in batch.inquiries)
    if dup is not None:
        raise BuildError(f"trace {dup}: trace number appears twice in the batch", segment_id="TRN", element=2)
    sender = ident(batch.submitter.id, what="submitter id", max_len=15)
    receiver = ident(batch.receiver.id, what="receiver id", max_len=15)
    ir = batch.information_receiver
    npi = check_npi(ir.npi, what="information receiver")
    tax_id = ir.tax_id.replace("-", "")
    if len(tax_id) != 9 or not tax_id.isdigit():
        raise BuildError("information receiver tax id is not 9 digits", segment_id="TRN", element=3)
    originator = "1" + tax_id
    ir_name = clean_text(ir.name, 60)
    if not ir_name:
        raise BuildError("information receiver name is missing", segment_id="NM1", element=3)
    isa_date, date8, hhmm = envelope_times(created)
    reference = ident(batch.batch_reference, what="batch reference", max_len=50)
    transactions: list[TransactionSpec] = []
    for n, inquiries in enumerate(plan_sets(batch.inquiries)):
        payer = inquiries[0].payer
        payer_name = clean_text(payer.name, 60)
        if not payer_name:
            raise BuildError("payer name is missing", segment_id="NM1", element=3)
        body: list[list[Element]] = [
            ["BHT", "0022", "13", reference, date8, hhmm],
            ["HL", "1", None, "20", "1"],
            ["NM1", "PR", "2", payer_name, None, None, None, None, "PI",
             ident(payer.payer_id, what="payer id", max_len=80)],
            ["HL", "2", "1", "21", "1"],
            ["NM1", "1P", "2", ir_name, None, None, None, None, "XX", npi],
        ]
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
        transactions.append(TransactionSpec("270", _control(st_control, n), body, IMPLEMENTATION))

    return write_interchange("HS", IMPLEMENTATION, transactions, sender=sender, receiver=receiver,
                             created=created, isa_control=isa_control, gs_control=gs_control, usage=usage,
                             newline=newline)
