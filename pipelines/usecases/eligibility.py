"""270 out, eligibility on file: which patient/payer pairs need an inquiry, and what the 271s said.

A pair (patient, configured payer) seen in the encounters needs a 270 when one of its encounters
is not yet submitted or has a date of service within ``eligibility_max_age_days`` of "today"
(recent or upcoming), and it has neither an Eligibility row nor a 270 Inquiry (in a file that was
not rejected) from that window (:func:`pipelines.rules.eligibility.pairs_due`). The inquiry asks
about "today" (``as_of``) for the mental health service type (MH). Each inquiry gets a unique
trace number (TRN02), which the 271 echoes; the file's BHT03 is ``ELIG-<ISA13>`` so a 271 rejected
as a whole (no subscriber loop) still finds its inquiries.

:func:`request_eligibility` records the file (``built``) and its Inquiry rows in one transaction;
the upload is a separate step (the nightly run's, or `edi eligibility request`'s).
:func:`eligibility_on_file` is the scrubber's view and :func:`eligibility_of_patient` what
`edi eligibility show` lists; both choose the answer with :mod:`pipelines.rules.eligibility`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from edi.errors import BuildError
from edi.x270 import Batch270, InformationReceiver, Inquiry270, build_270, plan_sets
from edi.x837p import Address, Patient, Payer, Receiver, Submitter, Subscriber
from models import Claim, Eligibility, Encounter, File, Inquiry, utcnow
from pipelines.config import Config, PayerConfig
from pipelines.errors import NotFound
from pipelines.logs import get_logger
from pipelines.rules import eligibility as rules
from pipelines.rules.lifecycle import UNSENT
from pipelines.usecases.bulk import chunks, in_list, is_pg
from pipelines.usecases.ledger import next_control
from pipelines.usecases.outbound import (
    InquiryFile,
    allocate_controls,
    check_envelope,
    outbound_lock,
    write_outbound,
)
from pipelines.usecases.uow import UnitOfWork

__all__ = [
    "SERVICE_TYPES",
    "batch_reference",
    "build_eligibility_requests",
    "eligibility_dict",
    "eligibility_of_patient",
    "eligibility_on_file",
    "isa_of_reference",
    "request_eligibility",
    "x12_payer",
    "x12_people",
]

log = get_logger("edi")

SERVICE_TYPES: tuple[str, ...] = ("MH",)
_REFERENCE_PREFIX = "ELIG-"


def batch_reference(isa_control: int) -> str:
    """BHT03 of a 270 file: ``ELIG-`` and its ISA13."""
    return f"{_REFERENCE_PREFIX}{isa_control:09d}"


def isa_of_reference(reference: str) -> str | None:
    """The ISA13 a 271's BHT03 names, when it echoes one of our 270 references."""
    ref = reference.strip().upper()
    if ref.startswith(_REFERENCE_PREFIX) and ref[len(_REFERENCE_PREFIX):].isdigit():
        return ref[len(_REFERENCE_PREFIX):]
    return None


# --------------------------------------------------------------------------------------------
# Which pairs need a 270
# --------------------------------------------------------------------------------------------


def _pairs_due(session: Session, config: Config, as_of: date) -> list[Encounter]:
    """The latest encounter of each patient/payer pair that needs an inquiry, in a stable order."""
    since = rules.inquiry_since(as_of, config.eligibility_max_age_days)
    # The encounters that count, filtered in SQL (a configured payer; not submitted, or recent) and read
    # as narrow rows; only the chosen ones are loaded whole (a practice has far fewer pairs than encounters).
    submitted = exists().where(Claim.encounter_id == Encounter.encounter_id, Claim.status.not_in(sorted(UNSENT)))
    counting = session.execute(
        select(Encounter.encounter_id, Encounter.patient_id, Encounter.payer_id, Encounter.date_of_service)
        .where(Encounter.payer_id.in_(sorted(config.payers)), or_(Encounter.date_of_service >= since, ~submitted))
        .order_by(Encounter.date_of_service, Encounter.encounter_id)).all()
    checked = {(e.patient_id, e.payer_id) for e in session.execute(
        select(Eligibility.patient_id, Eligibility.payer_id).where(Eligibility.checked_at >= _start_of(since)))}
    asked = {(patient, payer) for patient, payer, state in session.execute(
        select(Inquiry.patient_id, Inquiry.payer_id, File.state).outerjoin(File, File.id == Inquiry.file_id)
        .where(Inquiry.kind == "270", Inquiry.created_at >= _start_of(since))) if state != "rejected"}
    due = rules.pairs_due(counting, since=since, payers=config.payers, submitted=(), checked=checked, asked=asked)
    whole: dict[str, Encounter] = {}
    for chunk in chunks([e.encounter_id for e in due], 5000):
        whole.update((e.encounter_id, e) for e in session.scalars(select(Encounter).where(
            in_list(Encounter.encounter_id, chunk, is_pg(session)))))
    return [whole[e.encounter_id] for e in due]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def x12_payer(pc: PayerConfig) -> Payer:
    """The X12 payer party of a configured payer."""
    return Payer(name=pc.name, payer_id=pc.payer_id, claim_filing_indicator=pc.claim_filing_indicator)


def x12_people(enc: Encounter, sequence: str = "P") -> tuple[Subscriber, Patient | None]:
    """The subscriber, and the patient when not the subscriber, as the 270/276 builders take them;
    ``sequence`` S or T: of the encounter's secondary or tertiary coverage (CONTRACT section 7)."""
    prefix = {"S": "secondary_", "T": "tertiary_"}.get(sequence, "")
    relationship = (getattr(enc, prefix + "relationship") or "self").strip().lower()
    member_id = getattr(enc, prefix + "member_id") or ""
    if relationship == "self":
        return Subscriber(enc.patient_last_name, enc.patient_first_name, member_id, enc.patient_dob,
                          enc.patient_sex), None
    sub = Subscriber(getattr(enc, prefix + "subscriber_last_name") or "",
                     getattr(enc, prefix + "subscriber_first_name") or "", member_id,
                     getattr(enc, prefix + "subscriber_dob"), getattr(enc, prefix + "subscriber_sex") or "U")
    patient = Patient(enc.patient_last_name, enc.patient_first_name, enc.patient_dob, enc.patient_sex,
                      Address(enc.patient_address, enc.patient_city, enc.patient_state, enc.patient_zip),
                      relationship)
    return sub, patient


def _batch(config: Config, inquiries: Sequence[Inquiry270], reference: str) -> Batch270:
    p, ch = config.practice, config.clearinghouse
    return Batch270(
        submitter=Submitter(p.name, ch.submitter_id, p.contact_name, p.contact_phone),
        receiver=Receiver(ch.receiver_name, ch.receiver_id),
        information_receiver=InformationReceiver(p.name, p.billing_npi, p.tax_id),
        inquiries=tuple(inquiries), batch_reference=reference)


def _inquiries(config: Config, due: Sequence[Encounter], first_trace: int, as_of: date, result: InquiryFile
               ) -> list[tuple[Encounter, Inquiry270]]:
    """The 270 inquiry of each pair due; one the builder refuses is skipped (``result.skipped``)."""
    ready: list[tuple[Encounter, Inquiry270]] = []
    for i, enc in enumerate(due):
        subscriber, patient = x12_people(enc)
        q = Inquiry270(trace_number=f"E{first_trace + i:07d}", payer=x12_payer(config.payer(enc.payer_id)),
                       subscriber=subscriber, service_date=as_of, patient=patient, service_types=SERVICE_TYPES)
        try:  # one bad encounter must not stop the others: build it alone first
            build_270(_batch(config, [q], "CHECK"), envelope=check_envelope(utcnow(), config.clearinghouse.usage))
        except BuildError as exc:
            result.skipped.append({"patient_id": enc.patient_id, "payer_id": enc.payer_id, "reason": str(exc)})
            log.warning("eligibility_inquiry_skipped", patient_id=enc.patient_id, payer_id=enc.payer_id,
                        encounter_id=enc.encounter_id, error=str(exc))
            continue
        ready.append((enc, q))
    return ready


def build_eligibility_requests(config: Config, uow: UnitOfWork, *, as_of: date, run_id: int | None = None
                               ) -> InquiryFile:
    """Build one 270 file for every pair that needs an inquiry; record it (``built``) with its
    Inquiry rows in one transaction; do not upload. Returns the file (None when no pair needs one),
    the inquiries and the pairs skipped."""
    ch = config.clearinghouse
    result = InquiryFile(None)
    with uow.transaction() as session:
        outbound_lock(session, "270")  # two workers at once would ask about the same pairs
        due = _pairs_due(session, config, as_of)
        if not due:
            return result
        ready = _inquiries(config, due, next_control(session, ch.submitter_id, "trace", len(due)), as_of, result)
        if not ready:
            return result
        inquiries = [q for _, q in ready]
        n_sets = len(plan_sets(inquiries))
        controls = allocate_controls(session, ch.submitter_id, n_sets)
        text = build_270(_batch(config, inquiries, batch_reference(controls.isa)),
                         envelope=controls.envelope(created=utcnow(), usage=ch.usage))
        f = write_outbound(config, session, kind="270", text=text, controls=controls,
                           st_controls=[("270", controls.st_control(i)) for i in range(n_sets)], run_id=run_id)
        for enc, q in ready:
            session.add(Inquiry(kind="270", trace=q.trace_number, patient_id=enc.patient_id,
                                payer_id=enc.payer_id, file_id=f.id))
            result.sent.append({"patient_id": enc.patient_id, "payer_id": enc.payer_id, "trace": q.trace_number})
        session.flush()
        result.file = f
    log.info("eligibility_requested", file_id=f.id, inquiries=len(result.sent), transaction_sets=n_sets,
             skipped=len(result.skipped))
    return result


def request_eligibility(config: Config, uow: UnitOfWork, *, as_of: date, run_id: int | None = None) -> File | None:
    """:func:`build_eligibility_requests`' file: the 270 built, or None when no pair needs one."""
    return build_eligibility_requests(config, uow, as_of=as_of, run_id=run_id).file


# --------------------------------------------------------------------------------------------
# Eligibility on file
# --------------------------------------------------------------------------------------------


def eligibility_on_file(session: Session, patients: Collection[str] | Select[Any] | None = None
                        ) -> dict[tuple[str, str], rules.Coverage]:
    """The coverage on file per (patient, payer) (:func:`pipelines.rules.eligibility.on_file`):
    the newest 271 that states coverage; a rejection-only answer never hides an earlier one.

    ``patients``: patient ids, or a query of them; None for every patient. The form
    :func:`pipelines.rules.scrub.scrub` takes for ELIGIBILITY_INACTIVE.
    """
    stmt = (select(Eligibility.patient_id, Eligibility.payer_id, Eligibility.active, Eligibility.plan_start,
                   Eligibility.plan_end)
            .order_by(Eligibility.checked_at.desc(), Eligibility.id.desc()))
    if patients is not None:
        stmt = stmt.where(Eligibility.patient_id.in_(patients if isinstance(patients, Select) else list(patients)))
    return {pair: rules.Coverage(r.patient_id, r.payer_id, r.active, r.plan_start, r.plan_end)
            for pair, r in rules.on_file(session.execute(stmt)).items()}


def eligibility_dict(row: Eligibility, config: Config | None = None) -> dict[str, Any]:
    payer = config.payers.get(row.payer_id) if config else None
    return {
        "patient_id": row.patient_id, "payer_id": row.payer_id, "payer_name": payer.name if payer else None,
        "coverage": {True: "active", False: "inactive", None: "unknown"}[row.active], "active": row.active,
        "plan_start": row.plan_start.isoformat() if row.plan_start else None,
        "plan_end": row.plan_end.isoformat() if row.plan_end else None,
        "checked_at": row.checked_at.isoformat() if row.checked_at else None, "file_id": row.file_id,
        "benefits": row.benefits or [], "rejections": row.rejections or [],
    }


def eligibility_of_patient(config: Config, uow: UnitOfWork, patient_id: str) -> list[dict[str, Any]]:
    """`edi eligibility show`: per payer, the answer on file (else the newest, with its rejections),
    sorted by payer. NotFound when the patient is in neither the encounters nor the 271s."""
    with uow.transaction() as session:
        by_payer: dict[str, list[Eligibility]] = {}
        for row in session.scalars(select(Eligibility).where(Eligibility.patient_id == patient_id)
                                   .order_by(Eligibility.checked_at.desc(), Eligibility.id.desc())):
            by_payer.setdefault(row.payer_id, []).append(row)
        shown = {payer: rules.answer_to_show(rows) for payer, rows in by_payer.items()}
        rows = [eligibility_dict(row, config) for _, row in sorted(shown.items()) if row is not None]
        known = bool(rows) or session.scalars(
            select(Encounter.encounter_id).where(Encounter.patient_id == patient_id).limit(1)).first() is not None
    if not known:
        raise NotFound(f"no patient {patient_id!r} in the encounters and no eligibility on file for it")
    return rows
