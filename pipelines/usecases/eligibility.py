"""270 out, eligibility on file: which patient/payer pairs need an inquiry, and what the 271s said.

A pair (patient, configured payer) seen in the encounters needs a 270 when one of its encounters
is not yet submitted or has a date of service within ``eligibility_max_age_days`` of "today"
(recent or upcoming), and it has neither an Eligibility row nor a 270 Inquiry (in a file that was
not rejected) from that window. The inquiry asks about "today" (``app.as_of``) for the mental
health service type (MH). Each inquiry gets a unique trace number (TRN02), which the 271 echoes;
the file's BHT03 is ``ELIG-<ISA13>`` so a 271 rejected as a whole (no subscriber loop) still finds
its inquiries.

:func:`request_eligibility` records the file (``built``) and its Inquiry rows in one transaction;
the upload is a separate step (the nightly run's, or :func:`cmd_request`'s).
:func:`eligibility_on_file` gives the scrubber's view: the newest 271 with coverage per pair.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.errors import BuildError
from edi.x270 import Batch270, InformationReceiver, Inquiry270, build_270, plan_sets
from edi.x837p import Address, Patient, Payer, Receiver, Submitter, Subscriber
from models import Claim, Eligibility, Encounter, File, Inquiry, utcnow
from pipelines.cli.app import App
from pipelines.cli.table import render_table
from pipelines.config import Config, PayerConfig
from pipelines.errors import NotFound
from pipelines.rules import scrub
from pipelines.usecases.ledger import next_control
from pipelines.usecases.outbound import allocate_controls, report_request, write_outbound

__all__ = [
    "SERVICE_TYPES",
    "batch_reference",
    "cmd_request",
    "cmd_show",
    "eligibility_dict",
    "eligibility_on_file",
    "isa_of_reference",
    "request_eligibility",
    "x12_payer",
    "x12_people",
]

SERVICE_TYPES: tuple[str, ...] = ("MH",)
_UNSUBMITTED = ("held", "ready")
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
    since = as_of - timedelta(days=config.eligibility_max_age_days)
    submitted = set(session.scalars(select(Claim.encounter_id).where(Claim.status.not_in(_UNSUBMITTED))))
    latest: dict[tuple[str, str], Encounter] = {}
    for enc in session.scalars(select(Encounter).order_by(Encounter.date_of_service, Encounter.encounter_id)):
        if enc.payer_id not in config.payers:
            continue
        if enc.encounter_id in submitted and enc.date_of_service < since:
            continue
        latest[(enc.patient_id, enc.payer_id)] = enc
    if not latest:
        return []
    checked = {(e.patient_id, e.payer_id) for e in session.scalars(
        select(Eligibility).where(Eligibility.checked_at >= _start_of(since)))}
    asked = {(q.patient_id, q.payer_id) for q, state in session.execute(
        select(Inquiry, File.state).outerjoin(File, File.id == Inquiry.file_id)
        .where(Inquiry.kind == "270", Inquiry.created_at >= _start_of(since))) if state != "rejected"}
    return [enc for key, enc in sorted(latest.items()) if key not in checked and key not in asked]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def x12_payer(pc: PayerConfig) -> Payer:
    """The X12 payer party of a configured payer."""
    return Payer(name=pc.name, payer_id=pc.payer_id, claim_filing_indicator=pc.claim_filing_indicator)


def x12_people(enc: Encounter) -> tuple[Subscriber, Patient | None]:
    """The subscriber, and the patient when not the subscriber, as the 270/276 builders take them."""
    if enc.relationship.strip().lower() == "self":
        return Subscriber(enc.patient_last_name, enc.patient_first_name, enc.member_id, enc.patient_dob,
                          enc.patient_sex), None
    sub = Subscriber(enc.subscriber_last_name or "", enc.subscriber_first_name or "", enc.member_id,
                     enc.subscriber_dob, enc.subscriber_sex or "U")
    patient = Patient(enc.patient_last_name, enc.patient_first_name, enc.patient_dob, enc.patient_sex,
                      Address(enc.patient_address, enc.patient_city, enc.patient_state, enc.patient_zip),
                      enc.relationship)
    return sub, patient


def _batch(config: Config, inquiries: Sequence[Inquiry270], reference: str) -> Batch270:
    p, ch = config.practice, config.clearinghouse
    return Batch270(
        submitter=Submitter(p.name, ch.submitter_id, p.contact_name, p.contact_phone),
        receiver=Receiver(ch.receiver_name, ch.receiver_id),
        information_receiver=InformationReceiver(p.name, p.billing_npi, p.tax_id),
        inquiries=tuple(inquiries), batch_reference=reference)


def _request(app: App, run_id: int | None) -> tuple[File | None, list[dict[str, Any]], list[dict[str, Any]]]:
    config, as_of = app.config, app.as_of
    ch = config.clearinghouse
    sent: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    with app.transaction() as session:
        due = _pairs_due(session, config, as_of)
        if not due:
            return None, sent, skipped
        first = next_control(session, ch.submitter_id, "trace", len(due))
        ready: list[tuple[Encounter, Inquiry270]] = []
        for i, enc in enumerate(due):
            subscriber, patient = x12_people(enc)
            q = Inquiry270(trace_number=f"E{first + i:07d}", payer=x12_payer(config.payer(enc.payer_id)),
                           subscriber=subscriber, service_date=as_of, patient=patient,
                           service_types=SERVICE_TYPES)
            try:  # one bad encounter must not stop the others: build it alone first
                build_270(_batch(config, [q], "CHECK"), isa_control=1, gs_control=1, st_control="0001",
                          created=utcnow(), usage=ch.usage)
            except BuildError as exc:
                skipped.append({"patient_id": enc.patient_id, "payer_id": enc.payer_id, "reason": str(exc)})
                app.log.warning("eligibility_inquiry_skipped", patient_id=enc.patient_id, payer_id=enc.payer_id,
                                encounter_id=enc.encounter_id, error=str(exc))
                continue
            ready.append((enc, q))
        if not ready:
            return None, sent, skipped
        inquiries = [q for _, q in ready]
        n_sets = len(plan_sets(inquiries))
        controls = allocate_controls(session, ch.submitter_id, n_sets)
        text = build_270(_batch(config, inquiries, batch_reference(controls.isa)), isa_control=controls.isa,
                         gs_control=controls.gs, st_control=controls.st_control(), created=utcnow(),
                         usage=ch.usage)
        f = write_outbound(app, session, kind="270", text=text, controls=controls,
                           st_controls=[("270", controls.st_control(i)) for i in range(n_sets)], run_id=run_id)
        for enc, q in ready:
            session.add(Inquiry(kind="270", trace=q.trace_number, patient_id=enc.patient_id,
                                payer_id=enc.payer_id, file_id=f.id))
            sent.append({"patient_id": enc.patient_id, "payer_id": enc.payer_id, "trace": q.trace_number})
        session.flush()
    app.log.info("eligibility_requested", file_id=f.id, inquiries=len(sent), transaction_sets=n_sets,
                 skipped=len(skipped))
    return f, sent, skipped


def request_eligibility(app: App, run_id: int | None = None) -> File | None:
    """Build one 270 file for every pair that needs an inquiry; record it (``built``), do not upload.

    Returns the file, or None when no pair needs one.
    """
    return _request(app, run_id)[0]


def cmd_request(app: App, args: argparse.Namespace) -> int:
    """`edi eligibility request`: build the 270 file and upload what is waiting."""
    f, sent, skipped = _request(app, None)
    return report_request(
        app, f, sent, skipped, nothing="no patient/payer pair needs an eligibility inquiry",
        heading=lambda f: f"270 file {f.id} ({f.name}): {len(sent)} inquiry(ies)",
        sent_line=lambda s: f"  {s['patient_id']} / {s['payer_id']}  trace {s['trace']}",
        skipped_line=lambda s: f"  skipped {s['patient_id']} / {s['payer_id']}: {s['reason']}")


# --------------------------------------------------------------------------------------------
# Eligibility on file
# --------------------------------------------------------------------------------------------


def _newest_first(session: Session, patient_ids: Iterable[str] | None) -> list[Eligibility]:
    stmt = select(Eligibility).order_by(Eligibility.checked_at.desc(), Eligibility.id.desc())
    if patient_ids is not None:
        stmt = stmt.where(Eligibility.patient_id.in_(list(patient_ids)))
    return list(session.scalars(stmt))


def eligibility_on_file(session: Session, patient_ids: Iterable[str] | None = None) -> list[scrub.Eligibility]:
    """Per patient/payer, the newest 271 that stated coverage (a rejection-only answer is skipped).

    The form :func:`pipelines.scrub.scrub` takes for ELIGIBILITY_INACTIVE.
    """
    out: dict[tuple[str, str], scrub.Eligibility] = {}
    for row in _newest_first(session, patient_ids):
        key = (row.patient_id, row.payer_id)
        if row.active is None or key in out:
            continue
        out[key] = scrub.Eligibility(row.patient_id, row.payer_id, row.active, row.plan_start, row.plan_end)
    return list(out.values())


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


def _benefit_line(b: dict[str, Any]) -> str:
    def money(items: list[dict[str, Any]], key: str, suffix: str = "") -> str:
        parts = []
        for x in items:
            flag = x.get("in_network")
            net = " in-network" if flag is True else " out-of-network" if flag is False else ""
            parts.append(f"{x[key]}{suffix}{net}")
        return ", ".join(parts)

    bits = [f"{b['service_type']} {b['description']}"]
    if b.get("coverage"):
        bits.append(b["coverage"])
    for label, key, field, suffix in (("copay", "copay", "amount", ""), ("coinsurance", "coinsurance", "percent", "%"),
                                      ("deductible", "deductible", "amount", ""),
                                      ("deductible remaining", "deductible_remaining", "amount", "")):
        if b.get(key):
            bits.append(f"{label} {money(b[key], field, suffix)}")
    if b.get("visit_limit") is not None:
        bits.append(f"visit limit {b['visit_limit']}")
    if b.get("visits_remaining") is not None:
        bits.append(f"visits remaining {b['visits_remaining']}")
    if b.get("auth_required") is not None:
        bits.append("auth required" if b["auth_required"] else "no auth required")
    if b.get("auth_required_procedures"):
        bits.append("auth required for " + ", ".join(b["auth_required_procedures"]))
    return "; ".join(bits)


def cmd_show(app: App, args: argparse.Namespace) -> int:
    """`edi eligibility show PATIENT_ID [--json]`: the newest eligibility on file per payer."""
    patient_id = args.patient_id
    with app.transaction() as session:
        latest: dict[str, dict[str, Any]] = {}
        for row in _newest_first(session, [patient_id]):
            latest.setdefault(row.payer_id, eligibility_dict(row, app.config))
        known = bool(latest) or session.scalars(
            select(Encounter.encounter_id).where(Encounter.patient_id == patient_id).limit(1)).first() is not None
    if not known:
        raise NotFound(f"no patient {patient_id!r} in the encounters and no eligibility on file for it")
    rows = sorted(latest.values(), key=lambda d: d["payer_id"])

    def text() -> str:
        if not rows:
            return f"no eligibility on file for patient {patient_id} (run `edi eligibility request`)"
        lines = [render_table(["payer", "coverage", "plan start", "plan end", "checked"],
                              [[r["payer_id"], r["coverage"], r["plan_start"] or "", r["plan_end"] or "",
                                (r["checked_at"] or "")[:10]] for r in rows])]
        for r in rows:
            for b in r["benefits"]:
                lines.append(f"  {r['payer_id']}: {_benefit_line(b)}")
            for x in r["rejections"]:
                lines.append(f"  {r['payer_id']}: rejected - {x['text']}")
        return "\n".join(lines)

    app.emit({"patient_id": patient_id, "eligibility": rows}, text)
    return 0
