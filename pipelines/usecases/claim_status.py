"""276 out: claim status inquiries for claims that went quiet.

A claim needs a 276 when it was submitted more than ``status_after_days`` before "today"
(``app.as_of``), has no payment yet (status ``submitted`` or ``accepted``, nothing paid), and no
276 Inquiry for it (in a file that was not rejected) was made in the last ``status_after_days``
days. The 276 asks by CLM01 (TRN02 and REF*EJ) and the payer claim number when known; the 277
answer is tied back by that claim id (see :func:`pipelines.responses.apply_277`). Each Inquiry
row gets a unique trace of its own (``S`` + counter) for the ledger.

:func:`request_status` records the file (``built``) and its Inquiry rows in one transaction; the
upload is a separate step (the nightly run's, or :func:`cmd_request`'s).
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.errors import BuildError
from edi.x276 import Batch276, ServiceProvider, StatusRequest276, build_276
from edi.x837p import Receiver, Submitter
from models import Claim, Encounter, File, Inquiry, utcnow
from pipelines.cli.app import App
from pipelines.config import Config
from pipelines.usecases.eligibility import x12_payer, x12_people
from pipelines.usecases.ledger import next_control
from pipelines.usecases.outbound import allocate_controls, report_request, write_outbound

__all__ = ["QUIET_STATUSES", "cmd_request", "request_status"]

QUIET_STATUSES = ("submitted", "accepted")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _claims_due(session: Session, config: Config, as_of: date) -> list[tuple[Claim, Encounter]]:
    cutoff = as_of - timedelta(days=config.status_after_days)
    asked = {pk for pk, state in session.execute(
        select(Inquiry.claim_pk, File.state).outerjoin(File, File.id == Inquiry.file_id)
        .where(Inquiry.kind == "276", Inquiry.created_at >= _start_of(cutoff + timedelta(days=1))))
        if state != "rejected"}
    stmt = (select(Claim, Encounter).join(Encounter, Encounter.encounter_id == Claim.encounter_id)
            .where(Claim.status.in_(QUIET_STATUSES), Claim.submitted_at.is_not(None),
                   Claim.submitted_at < _start_of(cutoff))
            .order_by(Claim.claim_id))
    return [(c, e) for c, e in session.execute(stmt)
            if c.id not in asked and (c.paid or Decimal("0")) == 0 and c.payer_id in config.payers]


def _batch(config: Config, requests: list[StatusRequest276], reference: str) -> Batch276:
    p, ch = config.practice, config.clearinghouse
    return Batch276(submitter=Submitter(p.name, ch.submitter_id, p.contact_name, p.contact_phone),
                    receiver=Receiver(ch.receiver_name, ch.receiver_id),
                    provider=ServiceProvider(p.name, p.billing_npi), requests=tuple(requests),
                    batch_reference=reference)


def _request(app: App, run_id: int | None) -> tuple[File | None, list[dict[str, Any]], list[dict[str, Any]]]:
    config, ch = app.config, app.config.clearinghouse
    sent: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    with app.transaction() as session:
        due = _claims_due(session, config, app.as_of)
        ready: list[tuple[Claim, StatusRequest276]] = []
        for claim, enc in due:
            subscriber, patient = x12_people(enc)
            r = StatusRequest276(claim_id=claim.claim_id, payer=x12_payer(config.payer(claim.payer_id)),
                                 subscriber=subscriber, total_charge=claim.billed,
                                 service_from=claim.date_of_service, service_to=claim.date_of_service,
                                 patient=patient, payer_claim_number=claim.payer_claim_number or "")
            try:  # one bad claim must not stop the others: build it alone first
                build_276(_batch(config, [r], "CHECK"), isa_control=1, gs_control=1, st_control="0001",
                          created=utcnow(), usage=ch.usage)
            except BuildError as exc:
                skipped.append({"claim_id": claim.claim_id, "reason": str(exc)})
                app.log.warning("status_inquiry_skipped", claim_id=claim.claim_id, error=str(exc))
                continue
            ready.append((claim, r))
        if not ready:
            return None, sent, skipped
        requests = [r for _, r in ready]
        n_sets = len(dict.fromkeys(r.payer for r in requests))
        controls = allocate_controls(session, ch.submitter_id, n_sets)
        text = build_276(_batch(config, requests, f"STAT-{controls.isa:09d}"), isa_control=controls.isa,
                         gs_control=controls.gs, st_control=controls.st_control(), created=utcnow(),
                         usage=ch.usage)
        f = write_outbound(app, session, kind="276", text=text, controls=controls,
                           st_controls=[("276", controls.st_control(i)) for i in range(n_sets)], run_id=run_id)
        first = next_control(session, ch.submitter_id, "trace", len(ready))
        for i, (claim, _) in enumerate(ready):
            trace = f"S{first + i:07d}"
            session.add(Inquiry(kind="276", trace=trace, patient_id=claim.patient_id, payer_id=claim.payer_id,
                                claim_pk=claim.id, file_id=f.id))
            sent.append({"claim_id": claim.claim_id, "payer_id": claim.payer_id, "trace": trace})
        session.flush()
    app.log.info("status_requested", file_id=f.id, inquiries=len(sent), transaction_sets=n_sets,
                 skipped=len(skipped))
    return f, sent, skipped


def request_status(app: App, run_id: int | None = None) -> File | None:
    """Build one 276 file for every claim that went quiet; record it (``built``), do not upload.

    Returns the file, or None when no claim needs an inquiry.
    """
    return _request(app, run_id)[0]


def cmd_request(app: App, args: argparse.Namespace) -> int:
    """`edi status request`: build the 276 file and upload what is waiting."""
    f, sent, skipped = _request(app, None)
    return report_request(
        app, f, sent, skipped, nothing="no submitted claim needs a status inquiry",
        heading=lambda f: f"276 file {f.id} ({f.name}): {len(sent)} claim(s)",
        sent_line=lambda s: f"  {s['claim_id']} ({s['payer_id']})",
        skipped_line=lambda s: f"  skipped {s['claim_id']}: {s['reason']}")
