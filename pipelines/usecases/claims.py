"""Claims out: code and scrub encounters, write the ready claims as one 837P, list/show/export claims.

`edi claims submit` = :func:`code_and_scrub` (one transaction) then :func:`submit_ready` (one
transaction: the 837P is recorded in the file ledger and its claims marked submitted together)
then the upload of every built file. The nightly run calls the same two functions.

Every encounter with no submitted claim is coded and scrubbed again at each submit, so that fixed
data and newly loaded authorizations apply. Its claim keeps its CLM01 (``C`` + 6 digits from the
``claim`` counter) and, line by line, its line item control numbers (``L`` + 6 digits from the
``line`` counter). The cross-encounter rules see as history the patients' encounters already
submitted (claims not held, ready, rejected, void or reversed). Work is done in bulk: a few
queries load everything needed and claims and lines are written with executemany statements.

Choices where the contract is silent:

* A claim the 837P builder refuses (a value the X12 cannot carry) is held ``DATA_INVALID`` with the
  builder's message in ``status_reason``; the rest of the batch is sent.
* Authorizations are looked up by number (CONTRACT section 5); if two patients share a number, the
  one imported last is used.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, object_session, selectinload

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
from models import (
    Adjustment,
    Authorization,
    Claim,
    ClaimLine,
    ClaimStatusEvent,
    Eligibility,
    Encounter,
    File,
    Remark,
    utcnow,
)
from pipelines.cli.app import App
from pipelines.cli.table import render_table
from pipelines.config import Config
from pipelines.errors import NotFound
from pipelines.rules import coding, scrub
from pipelines.usecases.bulk import insert_rows, is_pg, new_ids, update_rows
from pipelines.usecases.ledger import next_control
from pipelines.usecases.outbound import allocate_controls, upload_pending, write_outbound

__all__ = [
    "DATA_INVALID",
    "UNSENT",
    "build_claim_batch",
    "claim_json",
    "cmd_export",
    "cmd_list",
    "cmd_show",
    "cmd_submit",
    "code_and_scrub",
    "payer_rules",
    "submit_all",
    "submit_ready",
]

UNSENT = ("held", "ready")
# Submitted claims that do not count as history for the cross-encounter rules.
_NOT_HISTORY = ("held", "ready", "rejected", "void", "reversed")
DATA_INVALID = "DATA_INVALID"
_CHUNK = 2000
_ZERO = Decimal("0.00")


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _money(amount: Decimal | None) -> str:
    return f"{(amount or _ZERO).quantize(Decimal('0.01')):.2f}"


def payer_rules(config: Config) -> dict[str, coding.PayerRules]:
    """The coding/scrubbing rules of every configured payer, keyed by its configuration id."""
    return {p.id: coding.PayerRules(
        id=p.id, telehealth_modifier=p.telehealth_modifier, audio_only_modifier=p.audio_only_modifier,
        credential_modifiers=dict(p.credential_modifiers), auth_required=p.auth_required,
        visit_limit_per_year=p.visit_limit_per_year, timely_filing_days=p.timely_filing_days)
        for p in config.payers.values()}


def _session_of(e: Any) -> coding.Session:
    return coding.Session(
        encounter_id=e.encounter_id, patient_id=e.patient_id, payer_id=e.payer_id,
        date_of_service=e.date_of_service, start_time=e.start_time, end_time=e.end_time, service=e.service,
        em_code=e.em_code, therapy_minutes=e.therapy_minutes, interactive_complexity=bool(e.interactive_complexity),
        modality=e.modality, patient_location=e.patient_location, rendering_npi=e.rendering_npi,
        rendering_credential=e.rendering_credential, diagnoses=tuple(e.diagnoses or ()),
        member_id=e.member_id or "", authorization_number=e.authorization_number)


# ------------------------------------------------------------------------------------------------
# Code and scrub
# ------------------------------------------------------------------------------------------------


def settled() -> ColumnElement[bool]:
    """A claim that keeps its encounter from being coded again: anything sent, except a claim the
    clearinghouse or payer rejected (999/277CA) when the encounter was re-imported after it -
    the operator's correction, which goes out as a new original claim."""
    return or_(Claim.status.notin_((*UNSENT, "rejected")),
               and_(Claim.status == "rejected", Claim.updated_at >= Encounter.imported_at))


def code_and_scrub(app: App, session: Session) -> dict[str, Any]:
    """Code and scrub every encounter with no submitted claim; store its claim held or ready.

    Returns counts: ``coded``, ``ready``, ``held``, ``hold_reasons`` {reason: claims}.
    """
    config = app.config
    enc = Encounter.__table__
    sent = exists().where(Claim.encounter_id == Encounter.encounter_id, settled())
    pending_rows = session.execute(select(enc).where(~sent).order_by(enc.c.date_of_service,
                                                                     enc.c.encounter_id)).all()
    counts: dict[str, Any] = {"coded": 0, "ready": 0, "held": 0, "hold_reasons": {}}
    if not pending_rows:
        return counts
    patients = select(Encounter.patient_id).where(~sent).distinct()
    payers = payer_rules(config)

    # History: encounters of these patients already submitted, with the codes of their newest claim.
    history_claims = session.execute(
        select(enc, Claim.id.label("claim_pk"), Claim.place_of_service.label("claim_pos"))
        .join(Claim, Claim.encounter_id == enc.c.encounter_id)
        .where(Claim.status.notin_(_NOT_HISTORY), enc.c.patient_id.in_(patients))
        .order_by(Claim.id)).all()
    procedures: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for pk, proc, units in session.execute(
            select(ClaimLine.claim_pk, ClaimLine.procedure, ClaimLine.units)
            .join(Claim, Claim.id == ClaimLine.claim_pk).join(Encounter, Encounter.encounter_id == Claim.encounter_id)
            .where(Claim.status.notin_(_NOT_HISTORY), Encounter.patient_id.in_(patients))):
        procedures[pk].append((proc, units))
    history_by_enc: dict[str, tuple[coding.Session, coding.CodedClaim]] = {}
    for h in history_claims:
        s = _session_of(h)
        done = tuple(coding.CodedLine(p, (), u, _ZERO, ()) for p, u in procedures.get(h.claim_pk, ()))
        history_by_enc[s.encounter_id] = (s, coding.CodedClaim(s.encounter_id, done, h.claim_pos,
                                                               tuple(h.diagnoses or ()), (), ()))

    authorizations = {a.authorization_number: scrub.Authorization(
        number=a.authorization_number, patient_id=a.patient_id, payer_id=a.payer_id, start_date=a.start_date,
        end_date=a.end_date, visits_authorized=a.visits_authorized, service_codes=frozenset(a.service_codes or ()))
        for a in session.scalars(select(Authorization).where(Authorization.patient_id.in_(patients))
                                 .order_by(Authorization.imported_at, Authorization.id))}
    eligibility = [scrub.Eligibility(patient_id=e.patient_id, payer_id=e.payer_id, active=e.active,
                                     start=e.plan_start, end=e.plan_end)
                   for e in session.execute(
                       select(Eligibility.patient_id, Eligibility.payer_id, Eligibility.active,
                              Eligibility.plan_start, Eligibility.plan_end)
                       .where(Eligibility.patient_id.in_(patients))
                       .order_by(Eligibility.checked_at, Eligibility.id))]

    # The unsent claims of these encounters (kept: their CLM01 and line control numbers).
    unsent: dict[str, tuple[int, str]] = {}
    for pk, claim_id, encounter_id in session.execute(
            select(Claim.id, Claim.claim_id, Claim.encounter_id)
            .where(Claim.status.in_(UNSENT), Claim.encounter_id.in_(select(Encounter.encounter_id).where(~sent)))
            .order_by(Claim.id)):
        unsent.setdefault(encounter_id, (pk, claim_id))
    old_lcns: dict[int, list[str]] = defaultdict(list)
    unsent_pks = select(Claim.id).where(Claim.status.in_(UNSENT),
                                        Claim.encounter_id.in_(select(Encounter.encounter_id).where(~sent)))
    for pk, lcn in session.execute(select(ClaimLine.claim_pk, ClaimLine.line_control_number)
                                   .where(ClaimLine.claim_pk.in_(unsent_pks))
                                   .order_by(ClaimLine.claim_pk, ClaimLine.line_number)):
        old_lcns[pk].append(lcn)

    # Code.
    fees = config.fees
    coded: list[tuple[coding.Session, coding.CodedClaim]] = []
    invalid: dict[str, str] = {}
    for row in pending_rows:
        s = _session_of(row)
        try:
            claim = coding.code_session(s, payers[s.payer_id], fees)
        except (ValueError, KeyError) as exc:  # data the importer should have refused
            invalid[s.encounter_id] = str(exc) if isinstance(exc, ValueError) else "payer is not configured"
            claim = coding.CodedClaim(s.encounter_id, (), "11", tuple(s.diagnoses), (DATA_INVALID,), ())
        coded.append((s, claim))

    # Scrub.
    history = list(history_by_enc.values())
    scrubbable = [(s, c) for s, c in coded if s.encounter_id not in invalid]
    holds = scrub.scrub(scrubbable, payers=payers, authorizations=authorizations, eligibility=eligibility,
                        billing_npi=config.practice.billing_npi, as_of=app.as_of, history=history)
    for encounter_id in invalid:
        holds[encounter_id] = (DATA_INVALID,)

    # Numbers: new CLM01s, and line control numbers for lines beyond those an unsent claim had.
    submitter = config.clearinghouse.submitter_id
    n_new_claims = sum(1 for s, _ in coded if s.encounter_id not in unsent)
    next_claim = next_control(session, submitter, "claim", n_new_claims) if n_new_claims else 0
    n_new_lines = sum(max(0, len(c.lines) - len(old_lcns.get(unsent[s.encounter_id][0], ())))
                      if s.encounter_id in unsent else len(c.lines) for s, c in coded)
    next_line = next_control(session, submitter, "line", n_new_lines) if n_new_lines else 0

    now = utcnow()
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    lines_for: dict[str, list[dict[str, Any]]] = {}
    reasons: Counter[str] = Counter()
    for s, c in coded:
        reasons_of = holds.get(s.encounter_id, ())
        reasons.update(reasons_of)
        values = {
            "encounter_id": s.encounter_id, "patient_id": s.patient_id, "payer_id": s.payer_id,
            "status": "held" if reasons_of else "ready",
            "status_reason": invalid.get(s.encounter_id), "hold_reasons": list(reasons_of),
            "warnings": list(c.warnings), "frequency_code": "1", "place_of_service": c.place_of_service,
            "date_of_service": s.date_of_service, "diagnoses": list(c.diagnoses),
            "authorization_number": s.authorization_number,
            "billed": sum((ln.charge for ln in c.lines), _ZERO), "updated_at": now,
        }
        kept: list[str] = []
        if s.encounter_id in unsent:
            pk, _claim_id = unsent[s.encounter_id]
            kept = old_lcns.get(pk, [])
            updates.append(values | {"id": pk})
        else:
            values["claim_id"] = f"C{next_claim:06d}"
            next_claim += 1
            values["created_at"] = now
            inserts.append(values)
        lines: list[dict[str, Any]] = []
        for n, ln in enumerate(c.lines, 1):
            if n <= len(kept):
                lcn = kept[n - 1]
            else:
                lcn = f"L{next_line:06d}"
                next_line += 1
            lines.append({"line_number": n, "line_control_number": lcn, "procedure": ln.procedure,
                          "modifiers": list(ln.modifiers), "units": ln.units, "charge": ln.charge,
                          "diagnosis_pointers": list(ln.diagnosis_pointers), "paid": _ZERO})
        lines_for[s.encounter_id] = lines

    # Store: old lines out, claims updated or inserted, lines in.
    session.execute(delete(ClaimLine).where(ClaimLine.claim_pk.in_(unsent_pks)),
                    execution_options={"synchronize_session": False})
    pk_of = {enc_id: pk for enc_id, (pk, _) in unsent.items()}
    if is_pg(session):  # unnest-array statements: short SQL text whatever the batch size
        if updates:
            update_rows(session, Claim, updates, [k for k in updates[0] if k != "id"])
        if inserts:
            for ins, pk in zip(inserts, new_ids(session, Claim, len(inserts)), strict=True):
                ins["id"] = pk
                pk_of[str(ins["encounter_id"])] = pk
            insert_rows(session, Claim, inserts)
    else:
        for chunk in _chunks(updates):
            session.execute(update(Claim), list(chunk))
        for chunk in _chunks(inserts):
            for pk, encounter_id in session.execute(
                    insert(cast(Table, Claim.__table__)).returning(Claim.id, Claim.encounter_id), list(chunk)):
                pk_of[encounter_id] = pk
    all_lines = [ln | {"claim_pk": pk_of[enc_id]} for enc_id, lines in lines_for.items() for ln in lines]
    if is_pg(session):
        insert_rows(session, ClaimLine, all_lines)
    else:
        for chunk in _chunks(all_lines):
            session.execute(insert(cast(Table, ClaimLine.__table__)), list(chunk))

    held = sum(1 for s, _ in coded if holds.get(s.encounter_id))
    counts.update(coded=len(coded), ready=len(coded) - held, held=held,
                  hold_reasons={r: reasons[r] for r in (*scrub.HOLD_ORDER, DATA_INVALID) if reasons[r]})
    for encounter_id in invalid:
        app.log.warning("encounter_not_codable", encounter_id=encounter_id)
    app.log.info("claims_coded", coded=len(coded), ready=counts["ready"], held=held,
                 new_claims=len(inserts), recoded=len(updates))
    return counts


# ------------------------------------------------------------------------------------------------
# 837P
# ------------------------------------------------------------------------------------------------


def build_claim_batch(config: Config, claims: Sequence[Any], encounters: Mapping[str, Any], *,
                      batch_reference: str, payer_claim_numbers: Mapping[str, str] | None = None,
                      lines: Mapping[int, Sequence[Any]] | None = None) -> Batch837:
    """The 837P batch of ``claims`` from the encounters they were coded from.

    ``claims`` and ``encounters`` are ORM objects or rows with the same attribute names; the lines
    are ``lines[claim.id]`` when given, else ``claim.lines``.

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
    out: list[Claim837] = []
    for claim in claims:
        e = encounters[claim.encounter_id]
        address = Address(e.patient_address, e.patient_city, e.patient_state, e.patient_zip)
        patient: Patient | None = None
        if e.relationship == "self":
            subscriber = Subscriber(e.patient_last_name, e.patient_first_name, e.member_id, e.patient_dob,
                                    e.patient_sex, address)
        else:
            subscriber = Subscriber(e.subscriber_last_name or "", e.subscriber_first_name or "", e.member_id,
                                    e.subscriber_dob, e.subscriber_sex or "U")
            patient = Patient(e.patient_last_name, e.patient_first_name, e.patient_dob, e.patient_sex, address,
                              e.relationship)
        service_lines = tuple(ServiceLine(procedure=ln.procedure, charge=ln.charge, date_of_service=claim.date_of_service,
                                  line_control_number=ln.line_control_number,
                                  diagnosis_pointers=tuple(ln.diagnosis_pointers), modifiers=tuple(ln.modifiers),
                                  units=ln.units)
                      for ln in (lines[claim.id] if lines is not None else claim.lines))
        out.append(Claim837(
            claim_id=claim.claim_id, place_of_service=claim.place_of_service, diagnoses=tuple(claim.diagnoses),
            subscriber=subscriber, payer=payers[claim.payer_id], lines=service_lines, patient=patient,
            rendering=RenderingProvider(e.rendering_npi, e.rendering_last_name, e.rendering_first_name),
            frequency_code=claim.frequency_code, prior_auth=claim.authorization_number or "",
            payer_claim_number=numbers.get(claim.claim_id, claim.payer_claim_number or "")))
    return Batch837(submitter=Submitter(p.name, ch.submitter_id, p.contact_name, p.contact_phone),
                    receiver=Receiver(ch.receiver_name, ch.receiver_id), billing_provider=billing,
                    claims=tuple(out), batch_reference=batch_reference)


def _refused(config: Config, claims: Sequence[Any], encounters: Mapping[str, Any],
             created: datetime, lines: Mapping[int, Sequence[Any]] | None = None) -> dict[str, str]:
    """Claims the builder refuses on their own, with its message (found one claim at a time)."""
    refused: dict[str, str] = {}
    for claim in claims:
        try:
            build_837p(build_claim_batch(config, [claim], encounters, batch_reference="CHECK", lines=lines),
                       isa_control=1, gs_control=1, st_control="0001", created=created)
        except (BuildError, KeyError) as exc:
            refused[claim.claim_id] = str(exc) if isinstance(exc, BuildError) else "payer is not configured"
    return refused


MAX_CLAIMS_PER_FILE = 5000
"""The 837P guide recommends at most 5,000 claims per transaction set; one file holds one set."""


def submit_ready(app: App, run_id: int | None = None, *, limit: int = MAX_CLAIMS_PER_FILE) -> File | None:
    """Write up to ``limit`` ready claims into one 837P, recorded in the ledger; they become submitted.

    One transaction: the file record (state ``built``, archived, control numbers kept) and the claims'
    status, file_id, st_control and submitted_at. Returns the file, or None when no claim is ready.
    Claims are read as plain rows (not ORM objects) and locked with SKIP LOCKED, so two processes
    sharing PostgreSQL build disjoint files. Uploading is a separate step
    (:func:`pipelines.outbound.upload_pending`).
    """
    config = app.config
    claim_t, line_t, enc_t = Claim.__table__, ClaimLine.__table__, Encounter.__table__
    with app.transaction() as session:
        claims: list[Any] = list(session.execute(
            select(claim_t).where(claim_t.c.status == "ready").order_by(claim_t.c.id).limit(limit)
            .with_for_update(skip_locked=True)).all())
        if not claims:
            return None
        lines_by_claim: dict[int, list[Any]] = defaultdict(list)
        encounters: dict[str, Any] = {}
        for chunk in _chunks([c.id for c in claims]):
            for ln in session.execute(select(line_t).where(line_t.c.claim_pk.in_(chunk))
                                      .order_by(line_t.c.claim_pk, line_t.c.line_number)):
                lines_by_claim[ln.claim_pk].append(ln)
        for chunk in _chunks(sorted({c.encounter_id for c in claims})):
            encounters.update((e.encounter_id, e) for e in session.execute(
                select(enc_t).where(enc_t.c.encounter_id.in_(chunk))))

        controls = allocate_controls(session, config.clearinghouse.submitter_id)
        created = utcnow()
        st = controls.st_control()

        def build(batch_claims: Sequence[Any]) -> str:
            batch = build_claim_batch(config, batch_claims, encounters, batch_reference=f"{controls.isa:09d}",
                                      lines=lines_by_claim)
            return build_837p(batch, isa_control=controls.isa, gs_control=controls.gs, st_control=st,
                              created=created, usage=config.clearinghouse.usage)

        refused: dict[str, str] = {}
        try:
            text = build(claims)
        except (BuildError, KeyError):
            refused = _refused(config, claims, encounters, created, lines_by_claim)
            for c in claims:
                if c.claim_id in refused:
                    session.execute(update(Claim).where(Claim.id == c.id).values(
                        status="held", status_reason=refused[c.claim_id],
                        hold_reasons=[*(c.hold_reasons or []), DATA_INVALID], updated_at=created),
                        execution_options={"synchronize_session": False})
                    app.log.warning("claim_refused_by_builder", claim_id=c.claim_id)
            claims = [c for c in claims if c.claim_id not in refused]
            if not claims:
                return None
            text = build(claims)
        f = write_outbound(app, session, kind="837P", text=text, controls=controls, st_controls=[("837", st)],
                           run_id=run_id)
        ids = [c.id for c in claims]
        for chunk in _chunks(ids):
            session.execute(update(Claim).where(Claim.id.in_(chunk))
                            .values(status="submitted", file_id=f.id, st_control=st, submitted_at=created,
                                    updated_at=created),
                            execution_options={"synchronize_session": False})
        app.log.info("claims_submitted", file_id=f.id, claims=len(ids), isa_control=controls.isa,
                     refused=len(refused))
        return f


def submit_all(app: App, run_id: int | None = None) -> list[File]:
    """Every ready claim, in 837P files of at most MAX_CLAIMS_PER_FILE claims each."""
    files: list[File] = []
    while (f := submit_ready(app, run_id)) is not None:
        files.append(f)
    return files


# ------------------------------------------------------------------------------------------------
# JSON and commands
# ------------------------------------------------------------------------------------------------


def _adjustments(items: Iterable[Adjustment]) -> list[dict[str, str]]:
    return [{"group": a.group, "reason": a.reason, "amount": _money(a.amount)} for a in items]


def claim_json(claim: Claim, adjustments: Sequence[Adjustment] | None = None,
               remarks: Sequence[Remark] | None = None) -> dict[str, Any]:
    """One claim in the shape of CONTRACT section 6.

    ``adjustments`` and ``remarks`` are the claim's rows of those tables (claim and line level);
    when not given they are read through the claim's session.
    """
    if adjustments is None or remarks is None:
        db = object_session(claim)
        if db is not None:
            adjustments = list(db.scalars(select(Adjustment).where(Adjustment.claim_pk == claim.id)
                                          .order_by(Adjustment.id)))
            remarks = list(db.scalars(select(Remark).where(Remark.claim_pk == claim.id).order_by(Remark.id)))
    adjustments, remarks = adjustments or [], remarks or []
    adj_by: dict[int | None, list[Adjustment]] = defaultdict(list)
    rem_by: dict[int | None, list[str]] = defaultdict(list)
    for a in adjustments:
        adj_by[a.line_pk].append(a)
    for r in remarks:
        if r.code not in rem_by[r.line_pk]:
            rem_by[r.line_pk].append(r.code)
    return {
        "claim_id": claim.claim_id, "encounter_ids": [claim.encounter_id], "patient_id": claim.patient_id,
        "payer_id": claim.payer_id, "status": claim.status, "hold_reasons": list(claim.hold_reasons or []),
        "warnings": list(claim.warnings or []), "frequency_code": claim.frequency_code,
        "place_of_service": claim.place_of_service, "date_of_service": claim.date_of_service.isoformat(),
        "billed": _money(claim.billed), "paid": _money(claim.paid),
        "patient_responsibility": _money(claim.patient_responsibility),
        "payer_claim_number": claim.payer_claim_number, "diagnoses": list(claim.diagnoses or []),
        "lines": [{"line_control_number": ln.line_control_number, "procedure": ln.procedure,
                   "modifiers": list(ln.modifiers or []), "units": ln.units, "charge": _money(ln.charge),
                   "diagnosis_pointers": list(ln.diagnosis_pointers or []), "paid": _money(ln.paid),
                   "adjustments": _adjustments(adj_by.get(ln.id, [])), "remarks": rem_by.get(ln.id, [])}
                  for ln in claim.lines],
        "adjustments": _adjustments(adj_by.get(None, [])), "remarks": rem_by.get(None, []),
    }


def _claims_json(session: Session, status: str | None) -> list[dict[str, Any]]:
    stmt = select(Claim).order_by(Claim.id).options(selectinload(Claim.lines))
    adj_stmt = select(Adjustment).order_by(Adjustment.id)
    rem_stmt = select(Remark).order_by(Remark.id)
    if status:
        stmt = stmt.where(Claim.status == status)
        chosen = select(Claim.id).where(Claim.status == status)
        adj_stmt = adj_stmt.where(Adjustment.claim_pk.in_(chosen))
        rem_stmt = rem_stmt.where(Remark.claim_pk.in_(chosen))
    adjustments: dict[int, list[Adjustment]] = defaultdict(list)
    remarks: dict[int, list[Remark]] = defaultdict(list)
    for a in session.scalars(adj_stmt):
        adjustments[a.claim_pk].append(a)
    for r in session.scalars(rem_stmt):
        remarks[r.claim_pk].append(r)
    return [claim_json(c, adjustments.get(c.id, []), remarks.get(c.id, [])) for c in session.scalars(stmt)]


def cmd_submit(app: App, args: argparse.Namespace) -> int:
    """`edi claims submit`: code and scrub, write the ready claims as one 837P, upload it."""
    from transports.errors import TransportError

    with app.transaction() as session:
        counts = code_and_scrub(app, session)
    files = submit_all(app)
    sent = 0
    file_info: dict[str, Any] | None = None
    if files:
        with app.transaction() as session:
            sent = session.scalar(select(func.count()).select_from(Claim)
                                  .where(Claim.file_id.in_([f.id for f in files]))) or 0
        file_info = {"file_id": files[0].id, "name": files[0].name}
    upload_error = None
    try:
        uploaded = upload_pending(app)
    except (TransportError, OSError) as exc:
        uploaded, upload_error = [], str(exc)
        app.log.error("upload_failed", error=type(exc).__name__)
    data = {**counts, "sent": sent, "file": file_info, "files": [{"file_id": f.id, "name": f.name} for f in files],
            "uploaded": uploaded, "upload_error": upload_error}

    def text() -> str:
        out = [f"coded {counts['coded']}: {counts['ready']} ready, {counts['held']} held"]
        for reason, n in counts["hold_reasons"].items():
            out.append(f"  held {reason}: {n}")
        out.append(f"sent {sent} claims in {', '.join(f.name for f in files)}" if files
                   else "no ready claims: no file written")
        if upload_error:
            out.append(f"upload failed ({upload_error}); the file is kept and the next run uploads it")
        return "\n".join(out)

    app.emit(data, text)
    if upload_error and not app.json:
        print(f"edi: upload failed: {upload_error}", file=sys.stderr)
    return 1 if upload_error else 0


def cmd_list(app: App, args: argparse.Namespace) -> int:
    """`edi claims list [--status S]`."""
    with app.transaction() as session:
        stmt = select(Claim).order_by(Claim.id)
        if args.status:
            stmt = stmt.where(Claim.status == args.status)
        rows = [{"claim_id": c.claim_id, "encounter_id": c.encounter_id, "payer_id": c.payer_id,
                 "date_of_service": c.date_of_service.isoformat(), "status": c.status,
                 "billed": _money(c.billed), "paid": _money(c.paid), "hold_reasons": list(c.hold_reasons or [])}
                for c in session.scalars(stmt)]
    app.emit({"claims": rows}, lambda: render_table(
        ["claim", "encounter", "payer", "date", "status", "billed", "paid", "holds"],
        [[r["claim_id"], r["encounter_id"], r["payer_id"], r["date_of_service"], r["status"], r["billed"],
          r["paid"], ",".join(r["hold_reasons"])] for r in rows]) if rows else "no claims")
    return 0


def cmd_show(app: App, args: argparse.Namespace) -> int:
    """`edi claims show CLAIM_ID`: the claim, its lines, adjustments and status history."""
    with app.transaction() as session:
        claim = session.scalars(select(Claim).where(Claim.claim_id == args.claim_id)
                                .options(selectinload(Claim.lines))).first()
        if claim is None:
            raise NotFound(f"no claim with id {args.claim_id}")
        d = claim_json(claim)
        d["status_reason"] = claim.status_reason
        d["submitted_at"] = claim.submitted_at.isoformat() if claim.submitted_at else None
        d["file_id"] = claim.file_id
        d["history"] = [{"source": ev.source, "category": ev.category, "code": ev.code,
                         "date": ev.status_date.isoformat() if ev.status_date else None,
                         "description": ev.description, "file_id": ev.file_id}
                        for ev in session.scalars(select(ClaimStatusEvent).where(ClaimStatusEvent.claim_pk == claim.id)
                                                  .order_by(ClaimStatusEvent.id))]

    def text() -> str:
        out = [f"claim {d['claim_id']} (encounter {', '.join(d['encounter_ids'])}) payer {d['payer_id']}",
               f"  status {d['status']}" + (f" ({', '.join(d['hold_reasons'])})" if d["hold_reasons"] else "")
               + (f": {d['status_reason']}" if d["status_reason"] else ""),
               f"  date {d['date_of_service']}  POS {d['place_of_service']}  frequency {d['frequency_code']}"
               f"  billed {d['billed']}  paid {d['paid']}  patient {d['patient_responsibility']}"]
        if d["warnings"]:
            out.append(f"  warnings: {', '.join(d['warnings'])}")
        if d["lines"]:
            out.append(render_table(
                ["line", "control", "code", "modifiers", "units", "charge", "pointers", "paid", "adjustments"],
                [[i, ln["line_control_number"], ln["procedure"], ",".join(ln["modifiers"]), ln["units"], ln["charge"],
                  ",".join(map(str, ln["diagnosis_pointers"])), ln["paid"],
                  " ".join(f"{a['group']}-{a['reason']} {a['amount']}" for a in ln["adjustments"])]
                 for i, ln in enumerate(d["lines"], 1)]))
        for a in d["adjustments"]:
            out.append(f"  claim adjustment {a['group']}-{a['reason']} {a['amount']}")
        for ev in d["history"]:
            out.append(f"  {ev['source']} {ev['category'] or ''} {ev['code'] or ''} {ev['description'] or ''}".rstrip())
        return "\n".join(out)

    app.emit(d, text)
    return 0


def cmd_export(app: App, args: argparse.Namespace) -> int:
    """`edi claims export --json`: every claim as CONTRACT section 6 (JSON even without --json)."""
    import json

    with app.transaction() as session:
        claims = _claims_json(session, getattr(args, "status", None))
    app.out.write(json.dumps({"claims": claims}, indent=2) + "\n")
    return 0
