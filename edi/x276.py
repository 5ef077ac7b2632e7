"""276 claim status request builder, 005010X212.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edi.errors import BuildError
from edi.x12 import (
    Element,
    TransactionSpec,
)
from edi.x837p import (
    MAX_CLAIM_ID,
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
    ident,
    money,
    person_name,
    write_interchange,
)

__all__ = [
    "IMPLEMENTATION",
    "Batch276",
    "ServiceProvider",
    "StatusRequest276",
    "build_276",
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
    if not cid or len(cid) > MAX_CLAIM_ID or clean_text(cid).replace(" ", "") != cid:
        raise BuildError(f"claim id {cid!r} must be 1-{MAX_CLAIM_ID} upper-case letters or digits",
                         segment_id="TRN", element=2)
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


def _control(st_control: str, offset: int) -> str:
    number = f"{int(st_control) + offset:0{len(st_control)}d}"
    if len(number) > 9:
        raise BuildError("ST02 control numbers run past 9 digits", segment_id="ST", element=2)
    return number


def _by_payer(requests: Sequence[StatusRequest276]) -> dict[Payer, dict[tuple[object, ...], list[StatusRequest276]]]:
    out: dict[Payer, dict[tuple[object, ...], list[StatusRequest276]]] = {}
    for r in requests:
        out.setdefault(r.payer, {}).setdefault((r.subscriber, r.patient), []).append(r)
    return out


def build_276(
    batch: Batch276,
    *,
    isa_control: int,
    gs_control: int,
    st_control: str,
    created: datetime,
    usage: str = "T",
    newline: bool = True,
) -> str:
    """The 276 file for ``batch``: one group, one ST per payer, ST02 from ``st_control`` up."""
    check_usage(usage)
    check_control(st_control)
    if not batch.requests:
        raise BuildError("the batch has no status requests")
    sub = batch.submitter
    sender = ident(sub.id, what="submitter id", max_len=15)
    receiver = ident(batch.receiver.id, what="receiver id", max_len=15)
    npi = check_npi(batch.provider.npi, what="service provider")
    provider_name = clean_text(batch.provider.name, 60)
    submitter_name = clean_text(sub.name, 60) or sender
    if not provider_name:
        raise BuildError("service provider name is missing", segment_id="NM1", element=3)
    reference = ident(batch.batch_reference, what="batch reference", max_len=50)
    isa_date, date8, hhmm = envelope_times(created)

    transactions: list[TransactionSpec] = []
    for n, (payer, people) in enumerate(_by_payer(batch.requests).items()):
        payer_name = clean_text(payer.name, 60)
        if not payer_name:
            raise BuildError("payer name is missing", segment_id="NM1", element=3)
        body: list[list[Element]] = [
            ["BHT", "0010", "13", reference, date8, hhmm],
            ["HL", "1", None, "20", "1"],
            ["NM1", "PR", "2", payer_name, None, None, None, None, "PI",
             ident(payer.payer_id, what="payer id", max_len=80)],
            ["HL", "2", "1", "21", "1"],
            ["NM1", "41", "2", submitter_name, None, None, None, None, "46", sender],
            ["HL", "3", "2", "19", "1"],
            ["NM1", "1P", "2", provider_name, None, None, None, None, "XX", npi],
        ]
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
        transactions.append(TransactionSpec("276", _control(st_control, n), body, IMPLEMENTATION))

    return write_interchange("HR", IMPLEMENTATION, transactions, sender=sender, receiver=receiver,
                             created=created, isa_control=isa_control, gs_control=gs_control, usage=usage,
                             newline=newline)
