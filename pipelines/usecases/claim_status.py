"""276 out: claim status inquiries for claims that went quiet.

Which claims are due is :mod:`pipelines.rules.status_inquiry` (submitted more than
``status_after_days`` before "today", still awaiting an answer, nothing paid, not asked about
lately). The 276 asks by CLM01 (TRN02 and REF*EJ) and the payer claim number when known; the 277
answer is tied back by that claim id (see :func:`pipelines.usecases.status_responses.apply_277`). Each
Inquiry row gets a unique trace of its own (``S`` + counter) for the ledger.

:func:`request_status` records the file (``built``) and its Inquiry rows in one transaction; the
upload is a separate step (the nightly run's, or `edi status request`'s).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.errors import BuildError
from edi.x276 import Batch276, ServiceProvider, StatusRequest276, build_276
from edi.x837p import Receiver, Submitter
from models import Claim, Encounter, File, Inquiry, utcnow
from pipelines.config import Config
from pipelines.logs import get_logger
from pipelines.rules import status_inquiry as rules
from pipelines.usecases.eligibility import x12_payer, x12_people
from pipelines.usecases.ledger import next_control
from pipelines.usecases.outbound import (
    InquiryFile,
    allocate_controls,
    check_envelope,
    outbound_lock,
    write_outbound,
)
from pipelines.usecases.uow import UnitOfWork

__all__ = ["build_status_requests", "request_status"]

log = get_logger("edi")


def _claims_due(session: Session, config: Config, as_of: date) -> list[tuple[Claim, Encounter]]:
    window = rules.quiet_window(as_of, config.status_after_days)
    asked = {pk for pk, state in session.execute(
        select(Inquiry.claim_pk, File.state).outerjoin(File, File.id == Inquiry.file_id)
        .where(Inquiry.kind == "276", Inquiry.created_at >= window.asked_since))
        if state != "rejected"}
    stmt = (select(Claim, Encounter).join(Encounter, Encounter.encounter_id == Claim.encounter_id)
            .where(Claim.status.in_(sorted(rules.QUIET_STATUSES)), Claim.submitted_at.is_not(None),
                   Claim.submitted_at < window.submitted_before)
            .order_by(Claim.claim_id))
    return [(c, e) for c, e in session.execute(stmt)
            if rules.is_quiet(status=c.status, submitted_at=c.submitted_at, paid=c.paid, payer_id=c.payer_id,
                              window=window, payers=config.payers, asked=c.id in asked)]


def _batch(config: Config, requests: list[StatusRequest276], reference: str) -> Batch276:
    p, ch = config.practice, config.clearinghouse
    return Batch276(submitter=Submitter(p.name, ch.submitter_id, p.contact_name, p.contact_phone),
                    receiver=Receiver(ch.receiver_name, ch.receiver_id),
                    provider=ServiceProvider(p.name, p.billing_npi), requests=tuple(requests),
                    batch_reference=reference)


def _requests(config: Config, due: Sequence[tuple[Claim, Encounter]], result: InquiryFile
              ) -> list[tuple[Claim, StatusRequest276]]:
    """The 276 request of each claim due; one the builder refuses is skipped (``result.skipped``)."""
    ready: list[tuple[Claim, StatusRequest276]] = []
    for claim, enc in due:
        subscriber, patient = x12_people(enc, claim.payer_sequence or "P")  # the coverage of this claim's payer
        r = StatusRequest276(claim_id=claim.claim_id, payer=x12_payer(config.payer(claim.payer_id)),
                             subscriber=subscriber, total_charge=claim.billed,
                             service_from=claim.date_of_service, service_to=claim.date_of_service,
                             patient=patient, payer_claim_number=claim.payer_claim_number or "")
        try:  # one bad claim must not stop the others: build it alone first
            build_276(_batch(config, [r], "CHECK"), envelope=check_envelope(utcnow(), config.clearinghouse.usage))
        except BuildError as exc:
            result.skipped.append({"claim_id": claim.claim_id, "reason": str(exc)})
            log.warning("status_inquiry_skipped", claim_id=claim.claim_id, error=str(exc))
            continue
        ready.append((claim, r))
    return ready


def build_status_requests(config: Config, uow: UnitOfWork, *, as_of: date, run_id: int | None = None
                          ) -> InquiryFile:
    """Build one 276 file for every claim that went quiet; record it (``built``) with its Inquiry
    rows in one transaction; do not upload. Returns the file (None when no claim needs one), the
    claims asked about and the ones skipped."""
    ch = config.clearinghouse
    result = InquiryFile(None)
    with uow.transaction() as session:
        outbound_lock(session, "276")  # two workers at once would ask about the same claims
        ready = _requests(config, _claims_due(session, config, as_of), result)
        if not ready:
            return result
        requests = [r for _, r in ready]
        n_sets = len(dict.fromkeys(r.payer for r in requests))
        controls = allocate_controls(session, ch.submitter_id, n_sets)
        text = build_276(_batch(config, requests, f"STAT-{controls.isa:09d}"),
                         envelope=controls.envelope(created=utcnow(), usage=ch.usage))
        f = write_outbound(config, session, kind="276", text=text, controls=controls,
                           st_controls=[("276", controls.st_control(i)) for i in range(n_sets)], run_id=run_id)
        first = next_control(session, ch.submitter_id, "trace", len(ready))
        for i, (claim, _) in enumerate(ready):
            trace = f"S{first + i:07d}"
            session.add(Inquiry(kind="276", trace=trace, patient_id=claim.patient_id, payer_id=claim.payer_id,
                                claim_pk=claim.id, file_id=f.id))
            result.sent.append({"claim_id": claim.claim_id, "payer_id": claim.payer_id, "trace": trace})
        session.flush()
        result.file = f
    log.info("status_requested", file_id=f.id, inquiries=len(result.sent), transaction_sets=n_sets,
             skipped=len(result.skipped))
    return result


def request_status(config: Config, uow: UnitOfWork, *, as_of: date, run_id: int | None = None) -> File | None:
    """:func:`build_status_requests`' file: the 276 built, or None when no claim needs an inquiry."""
    return build_status_requests(config, uow, as_of=as_of, run_id=run_id).file
