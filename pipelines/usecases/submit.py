"""Submit: the ready claims written as 837P files, recorded in the ledger, marked submitted.

:func:`submit_ready` writes up to :data:`MAX_CLAIMS_PER_FILE` ready claims into one 837P in one
transaction (the file record, state ``built``, and the claims' status, file, ST02 and submission
time together); :func:`submit_all` repeats it until no claim is ready. Uploading is a separate
step (:func:`pipelines.usecases.outbound.upload_pending`); :func:`submit_and_upload` is
`edi claims submit`: code and scrub, submit, upload. :func:`build_claim_batch` maps stored
claims and their encounters to the 837P builder's input (also used for replacement claims).

Choice where the contract is silent: a claim the 837P builder refuses (a value the X12 cannot
carry) is held ``DATA_INVALID`` with the builder's message in ``status_reason``; the rest of the
batch is sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from edi.errors import BuildError
from edi.x837p import (
    Address,
    Batch837,
    BillingProvider,
    Claim837,
    Patient,
    Payer,
    Receiver,
    RenderingProvider,
    ServiceLine,
    Submitter,
    Subscriber,
    build_837p,
)
from models import Claim, ClaimLine, Encounter, File, utcnow
from pipelines.config import Config
from pipelines.logs import get_logger
from pipelines.rules import cob
from pipelines.rules.lifecycle import ClaimStatus, Event, transition
from pipelines.usecases.bulk import (
    chunks,
    collector_paused,
    in_list,
    is_pg,
    read_columns,
    record_type,
    records,
)
from pipelines.usecases.claims import DATA_INVALID, code_and_scrub
from pipelines.usecases.legs import prior_adjudications
from pipelines.usecases.outbound import (
    Controls,
    allocate_controls,
    check_envelope,
    outbound_lock,
    upload_pending,
    write_outbound,
)
from pipelines.usecases.uow import UnitOfWork
from transports import Mailbox
from transports.errors import TransportError

__all__ = ["MAX_CLAIMS_PER_FILE", "build_claim_batch", "submit_all", "submit_and_upload", "submit_ready"]

log = get_logger("edi")

MAX_CLAIMS_PER_FILE = 5000
"""The 837P guide recommends at most 5,000 claims per transaction set; one file holds one set."""


def build_claim_batch(config: Config, claims: Sequence[Any], encounters: Mapping[str, Any], *,
                      batch_reference: str, payer_claim_numbers: Mapping[str, str] | None = None,
                      lines: Mapping[int, Sequence[Any]] | None = None,
                      priors: Mapping[str, Sequence[cob.PriorAdjudication]] | None = None) -> Batch837:
    """The 837P batch of ``claims`` from the encounters they were coded from.

    ``claims`` and ``encounters`` are ORM objects or rows with the same attribute names; the lines
    are ``lines[claim.id]`` when given, else ``claim.lines``.

    Coordination of benefits (CONTRACT section 7): 2000B is the coverage of the claim's
    ``payer_sequence`` (P when absent); the encounter's other coverages are 2320/2330A/2330B, with
    the amounts of each earlier payer and a 2430 per line from ``priors[claim.claim_id]``
    (:func:`pipelines.usecases.legs.prior_adjudications`; needed for a secondary or tertiary claim).

    REF*G1 carries the claim's authorization number. For a replacement or void claim (frequency 7
    or 8), REF*F8 is ``payer_claim_numbers[claim.claim_id]`` when given, else the claim's own
    ``payer_claim_number``.
    """
    p = config.practice
    ch = config.clearinghouse
    billing = BillingProvider(name=p.name, npi=p.billing_npi, tax_id=p.tax_id, taxonomy=p.taxonomy,
                              address=Address(p.address, p.city, p.state, p.zip))
    payers = {pc.id: Payer(pc.name, pc.payer_id, pc.claim_filing_indicator) for pc in config.payers.values()}
    numbers = payer_claim_numbers or {}
    # the parties many claims share, made once: each patient (as the subscriber of their own
    # coverage) and each rendering provider
    patients: dict[tuple[Any, ...], Subscriber] = {}
    renderings: dict[tuple[str, str, str], RenderingProvider] = {}
    out: list[Claim837] = []
    for claim in map(_record, claims):
        claim_id = claim.claim_id
        e = _record(encounters[claim.encounter_id])
        person = (e.patient_last_name, e.patient_first_name, e.patient_dob, e.patient_sex,
                  e.patient_address, e.patient_city, e.patient_state, e.patient_zip)
        me = patients.get(person)
        if me is None:
            last, first, dob, sex, line1, city, state, zip_code = person
            me = patients[person] = Subscriber(last, first, "", dob, sex, Address(line1, city, state, zip_code))
        sequence = getattr(claim, "payer_sequence", None) or "P"
        chain = cob.coverages(e)
        coverage = next((c for c in chain if c.sequence == sequence), None)
        if coverage is None:
            raise KeyError(f"encounter {claim.encounter_id} has no coverage {sequence} for claim {claim_id}")
        subscriber = cob.subscriber_of(coverage, me)
        patient: Patient | None = None
        if coverage.relationship != "self":
            patient = Patient(*person[:4], Address(*person[4:]), coverage.relationship)
        rendering_key = (e.rendering_npi, e.rendering_last_name, e.rendering_first_name)
        rendering = renderings.get(rendering_key)
        if rendering is None:
            rendering = renderings[rendering_key] = RenderingProvider(*rendering_key)
        earlier = list(priors.get(claim_id, ())) if priors else []
        day = claim.date_of_service
        service_lines = tuple([ServiceLine(procedure=ln.procedure, charge=ln.charge, date_of_service=day,
                                           line_control_number=ln.line_control_number,
                                           diagnosis_pointers=tuple(ln.diagnosis_pointers),
                                           modifiers=tuple(ln.modifiers), units=ln.units,
                                           adjudications=cob.line_adjudications(ln.line_number, earlier, payers)
                                           if earlier else ())
                               for ln in map(_record, lines[claim.id] if lines is not None else claim.lines)])
        out.append(Claim837(
            claim_id=claim_id, place_of_service=claim.place_of_service, diagnoses=tuple(claim.diagnoses),
            subscriber=subscriber, payer=payers[claim.payer_id], lines=service_lines, patient=patient,
            rendering=rendering, frequency_code=claim.frequency_code, prior_auth=claim.authorization_number or "",
            payer_claim_number=numbers.get(claim_id, claim.payer_claim_number or ""), payer_sequence=sequence,
            other_payers=cob.other_payers(sequence, chain, payers, {a.sequence: a for a in earlier}, me)))
    return Batch837(submitter=Submitter(p.name, ch.submitter_id, p.contact_name, p.contact_phone),
                    receiver=Receiver(ch.receiver_name, ch.receiver_id), billing_provider=billing,
                    claims=tuple(out), batch_reference=batch_reference)


def _record(row: Any) -> Any:
    """A SQLAlchemy ``Row`` as a named tuple (:func:`pipelines.usecases.bulk.records`); anything else
    (an ORM object, a named tuple already) as it is."""
    return record_type(row._fields)._make(row) if isinstance(row, Row) else row


def _refused(config: Config, claims: Sequence[Any], encounters: Mapping[str, Any],
             created: datetime, lines: Mapping[int, Sequence[Any]] | None = None,
             priors: Mapping[str, Sequence[cob.PriorAdjudication]] | None = None) -> dict[str, str]:
    """Claims the builder refuses on their own, with its message (found one claim at a time)."""
    refused: dict[str, str] = {}
    for claim in claims:
        try:
            build_837p(build_claim_batch(config, [claim], encounters, batch_reference="CHECK", lines=lines,
                                         priors=priors),
                       envelope=check_envelope(created))
        except (BuildError, KeyError) as exc:
            refused[claim.claim_id] = str(exc) if isinstance(exc, BuildError) else "payer is not configured"
    return refused


def _hold_refused(session: Session, claims: Sequence[Any], refused: Mapping[str, str], now: datetime) -> None:
    """Hold the refused claims DATA_INVALID with the builder's message."""
    for c in claims:
        if c.claim_id in refused:
            status = transition(c.status, Event.BUILD_REFUSED, claim_id=c.claim_id)
            session.execute(update(Claim).where(Claim.id == c.id).values(
                status=status.value, status_reason=refused[c.claim_id],
                hold_reasons=[*(c.hold_reasons or []), DATA_INVALID], updated_at=now),
                execution_options={"synchronize_session": False})
            log.warning("claim_refused_by_builder", claim_id=c.claim_id)


# Columns the 837P does not need, left out of the bulk reads below (fewer values to convert; the
# rows keep every other column, so that nothing build_claim_batch reads is missing).
_UNREAD = {
    "claims": frozenset({"patient_id", "status_reason", "warnings", "billed", "paid", "patient_responsibility",
                         "original_claim_id", "prior_payment_date", "file_id", "st_control", "created_at",
                         "updated_at", "submitted_at", "accepted_at", "paid_at"}),
    "claim_lines": frozenset({"id", "paid"}),
    "encounters": frozenset({"start_time", "end_time", "service", "em_code", "therapy_minutes",
                             "interactive_complexity", "modality", "patient_location", "diagnoses",
                             "authorization_number", "rendering_credential", "source_file", "source_line",
                             "imported_at"}),
}


def _read_columns(table: Any) -> list[Any]:
    """The columns of ``table`` the 837P needs (:func:`pipelines.usecases.bulk.read_columns`)."""
    return [c for c in read_columns(table) if c.name not in _UNREAD[table.name]]


def _ready_claims(session: Session, limit: int) -> list[Any]:
    """Up to ``limit`` ready claims as plain rows, locked with SKIP LOCKED."""
    claim_t = Claim.__table__
    return records(session.connection().execute(
        select(*_read_columns(claim_t)).where(claim_t.c.status == ClaimStatus.READY.value).order_by(claim_t.c.id)
        .limit(limit).with_for_update(skip_locked=True)))


def _lines_and_encounters(session: Session, claims: Sequence[Any]) -> tuple[dict[int, list[Any]], dict[str, Any]]:
    """The claims' lines (by claim pk, in line order) and their encounters (by encounter_id), as
    named tuples (:func:`pipelines.usecases.bulk.records`)."""
    line_t, enc_t = ClaimLine.__table__, Encounter.__table__
    lines_by_claim: dict[int, list[Any]] = defaultdict(list)
    encounters: dict[str, Any] = {}
    pg = is_pg(session)
    for chunk in chunks([c.id for c in claims], MAX_CLAIMS_PER_FILE):
        for ln in records(session.connection().execute(
                select(*_read_columns(line_t)).where(in_list(line_t.c.claim_pk, chunk, pg))
                .order_by(line_t.c.claim_pk, line_t.c.line_number))):
            lines_by_claim[ln.claim_pk].append(ln)
    for chunk in chunks(sorted({c.encounter_id for c in claims}), MAX_CLAIMS_PER_FILE):
        encounters.update((e.encounter_id, e) for e in records(session.connection().execute(
            select(*_read_columns(enc_t)).where(in_list(enc_t.c.encounter_id, chunk, pg)))))
    return lines_by_claim, encounters


def _mark_submitted(session: Session, claims: Sequence[Any], f: File, st: str, now: datetime) -> None:
    """The claims written into ``f``: submitted, with their file and ST02 (one UPDATE per chunk)."""
    submitted = transition(ClaimStatus.READY, Event.SENT)  # every claim here was read as ready
    pg = is_pg(session)
    for chunk in chunks([c.id for c in claims], MAX_CLAIMS_PER_FILE):
        session.execute(update(Claim).where(in_list(Claim.id, chunk, pg))
                        .values(status=submitted.value, file_id=f.id, st_control=st, submitted_at=now,
                                updated_at=now),
                        execution_options={"synchronize_session": False})


def submit_ready(config: Config, uow: UnitOfWork, *, as_of: date, run_id: int | None = None,
                 limit: int = MAX_CLAIMS_PER_FILE) -> File | None:
    """Write up to ``limit`` ready claims into one 837P, recorded in the ledger; they become submitted.

    One transaction: the file record (state ``built``, archived, control numbers kept) and the claims'
    status, file_id, st_control and submitted_at. Returns the file, or None when no claim is ready.
    Claims are read as plain rows (not ORM objects). Workers sharing the database take turns
    (:func:`pipelines.usecases.outbound.outbound_lock`), so each ready claim goes into one file and
    no coder puts it back to ready meanwhile; the claims read are also row-locked (SKIP LOCKED).
    ``as_of`` (the run's "today") does not change the file: its dates are the time it is written.
    """
    with collector_paused(), uow.transaction() as session:
        outbound_lock(session, "837P")  # no claim is coded again while it is being sent
        claims = _ready_claims(session, limit)
        if not claims:
            return None
        lines_by_claim, encounters = _lines_and_encounters(session, claims)
        priors = prior_adjudications(session, claims)  # secondary/tertiary claims' earlier payers
        controls = allocate_controls(session, config.clearinghouse.submitter_id)
        created = utcnow()
        st = controls.st_control()
        build = _builder(config, encounters, lines_by_claim, controls, created, priors)
        refused: dict[str, str] = {}
        try:
            text = build(claims)
        except (BuildError, KeyError):
            refused = _refused(config, claims, encounters, created, lines_by_claim, priors)
            _hold_refused(session, claims, refused, created)
            claims = [c for c in claims if c.claim_id not in refused]
            if not claims:
                return None
            text = build(claims)
        f = write_outbound(config, session, kind="837P", text=text, controls=controls, st_controls=[("837", st)],
                           run_id=run_id)
        _mark_submitted(session, claims, f, st, created)
        log.info("claims_submitted", file_id=f.id, claims=len(claims), isa_control=controls.isa,
                 refused=len(refused))
        return f


def _builder(config: Config, encounters: Mapping[str, Any], lines: Mapping[int, Sequence[Any]], controls: Controls,
             created: datetime, priors: Mapping[str, Sequence[cob.PriorAdjudication]] | None = None
             ) -> Callable[[Sequence[Any]], str]:
    """Builds the 837P text of some of the batch's claims with the file's control numbers."""
    def build(batch_claims: Sequence[Any]) -> str:
        batch = build_claim_batch(config, batch_claims, encounters, batch_reference=f"{controls.isa:09d}",
                                  lines=lines, priors=priors)
        return build_837p(batch, envelope=controls.envelope(created=created, usage=config.clearinghouse.usage))
    return build


def submit_all(config: Config, uow: UnitOfWork, *, as_of: date, run_id: int | None = None) -> list[File]:
    """Every ready claim, in 837P files of at most MAX_CLAIMS_PER_FILE claims each."""
    files: list[File] = []
    while (f := submit_ready(config, uow, as_of=as_of, run_id=run_id)) is not None:
        files.append(f)
    return files


def submit_and_upload(config: Config, uow: UnitOfWork, mailbox: Mailbox, *, as_of: date) -> dict[str, Any]:
    """`edi claims submit`: code and scrub (one transaction), write every ready claim as 837Ps, upload.

    Returns the coding counts with ``sent`` (claims in the new files), ``file`` (the first file),
    ``files``, ``uploaded`` (file ids) and ``upload_error`` (None, or why the upload failed: the
    files stay ``built`` and the next run uploads them); ``next_legs`` when secondary or tertiary
    claims were created or scrubbed (:func:`pipelines.usecases.cob.create_next_legs`, run first).
    """
    from pipelines.usecases.cob import create_next_legs  # cob builds 837P claims with this module

    with uow.transaction() as session:
        legs = create_next_legs(config, session, as_of=as_of)  # secondary/tertiary claims (CONTRACT section 7)
        counts = code_and_scrub(config, session, as_of=as_of) | ({"next_legs": legs} if legs else {})
    files = submit_all(config, uow, as_of=as_of)
    sent = 0
    if files:
        with uow.transaction() as session:
            sent = session.scalar(select(func.count()).select_from(Claim)
                                  .where(Claim.file_id.in_([f.id for f in files]))) or 0
    upload_error = None
    try:
        uploaded = upload_pending(config, uow, mailbox)
    except (TransportError, OSError) as exc:
        uploaded, upload_error = [], str(exc)
        log.error("upload_failed", error=type(exc).__name__)
    return {**counts, "sent": sent, "file": {"file_id": files[0].id, "name": files[0].name} if files else None,
            "files": [{"file_id": f.id, "name": f.name} for f in files], "uploaded": uploaded,
            "upload_error": upload_error}
