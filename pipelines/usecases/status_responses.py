"""Claim status responses: the 277CA (claim acknowledgment) and the 277 (answer to our 276).

* 277CA (:func:`apply_277ca`): per claim (TRN02, our CLM01) accepted (A1, A2, A5: payer claim number
  kept) or rejected (A3, A4, A6, A7, A8, E0, E3, E4: reason kept), as decided by
  :func:`pipelines.rules.remittance.acknowledgment_event` and applied through the lifecycle
  (``ACK_ACCEPTED``/``ACK_REJECTED``; only a claim submitted, accepted or rejected moves). Every STC
  becomes a ClaimStatusEvent. A claim already adjudicated (lifecycle ``FINAL``) keeps its status and
  payer claim number. Claim ids we never sent are counted and logged as unmatched; they do not fail
  the file.
* 277 (:func:`apply_277`): recorded as ClaimStatusEvents (by REF*EJ / TRN02 claim id, else by the
  276 trace); a finalized denial or a rejection updates ``status_reason`` only
  (:func:`pipelines.rules.remittance.explains_status`): payment comes from the 835.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edi import codes
from edi.x12 import open_x12
from edi.x277 import ClaimStatus as ReportedClaim
from edi.x277 import ClaimStatusReport, Status, parse_277
from models import Claim, ClaimStatusEvent, Inquiry, utcnow
from pipelines.errors import ApplyError
from pipelines.logs import get_logger
from pipelines.rules.lifecycle import FINAL, Event, sources, transition
from pipelines.rules.remittance import acknowledgment_event, claim_key, clip_reason, explains_status
from pipelines.usecases.applier import ApplyContext

__all__ = ["apply_277", "apply_277ca"]

log = get_logger("edi")


# --------------------------------------------------------------------------------------------
# Shared: finding our claims, statuses in words, history
# --------------------------------------------------------------------------------------------


def _claims_named(session: Session, claim_ids: Iterable[str]) -> dict[str, Claim]:
    """Our claims for the ids a file names, keyed by :func:`claim_key`, in a few queries."""
    keys = sorted({k for k in map(claim_key, claim_ids) if k})
    found: dict[str, Claim] = {}
    for i in range(0, len(keys), 1000):
        found.update((c.claim_id, c) for c in session.scalars(select(Claim).where(Claim.claim_id.in_(keys[i:i + 1000]))))
    missing = [k for k in keys if k not in found]
    for i in range(0, len(missing), 1000):
        for c in session.scalars(select(Claim).where(func.upper(Claim.claim_id).in_(missing[i:i + 1000]))):
            found.setdefault(claim_key(c.claim_id), c)
    return found


def _reports(data: bytes, want: str) -> Iterable[ClaimStatusReport]:
    for ts in open_x12(data):
        if ts.set_id != "277":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in a {want} file (expected 277)",
                             {"segment_number": ts.segment_number, "segment_id": "ST"})
        yield parse_277(ts)


def _named_claims(ctx: ApplyContext, data: bytes, want: str, counts: dict[str, Any], unmatched: list[str],
                  fallback: Callable[[Session, ReportedClaim], Claim | None] | None = None,
                  ) -> Iterator[tuple[Claim, ReportedClaim]]:
    """Each reported claim with ours (by claim id, else ``fallback``); the others counted as unmatched."""
    for report in _reports(data, want):
        ours = _claims_named(ctx.session, (c.claim_id for c in report.claims))
        for c in report.claims:
            claim = ours.get(claim_key(c.claim_id))
            if claim is None and fallback is not None:
                claim = fallback(ctx.session, c)
            if claim is None:
                unmatched.append(c.claim_id)
                counts["claims_unmatched"] += 1
                log.warning("claim_status_unmatched", file_id=ctx.file.id, claim_id=c.claim_id)
                continue
            yield claim, c


def _status_words(s: Status) -> str:
    text = f"{s.category} {s.category_description}: {s.code} {s.code_description}"
    if s.entity:
        text += f" (entity {s.entity})"
    for extra in s.additional:
        text += (f"; {extra.category} {codes.claim_status_categories().describe(extra.category)}: "
                 f"{extra.code} {codes.claim_status_codes().describe(extra.code)}")
    if s.message:
        text += f" - {s.message}"
    return text


def _claim_reason(source: str, c: ReportedClaim) -> str:
    parts = [_status_words(s) for s in c.statuses]
    for ln in c.lines:
        tag = f"line {ln.line_control_number or ln.procedure}"
        parts += [f"{tag}: {_status_words(s)}" for s in ln.statuses]
    return clip_reason(f"{source}: " + "; ".join(parts))


def _record_events(session: Session, claim: Claim, c: ReportedClaim, source: str, file_id: int) -> int:
    n = 0
    for s in c.statuses:
        session.add(ClaimStatusEvent(claim_pk=claim.id, file_id=file_id, source=source, category=s.category,
                                     code=s.code, entity=s.entity, status_date=s.date,
                                     description=clip_reason(_status_words(s)),
                                     payer_claim_number=c.payer_claim_number, trace=c.clearinghouse_trace))
        n += 1
    for ln in c.lines:
        for s in ln.statuses:
            session.add(ClaimStatusEvent(
                claim_pk=claim.id, file_id=file_id, source=source, category=s.category, code=s.code,
                entity=s.entity, status_date=s.date,
                description=clip_reason(f"line {ln.line_control_number or ln.procedure}: {_status_words(s)}"),
                payer_claim_number=c.payer_claim_number, trace=c.clearinghouse_trace))
            n += 1
    return n


# --------------------------------------------------------------------------------------------
# 277CA
# --------------------------------------------------------------------------------------------


def _acknowledge(ctx: ApplyContext, claim: Claim, c: ReportedClaim, counts: dict[str, Any]) -> None:
    """Move the claim as the 277CA says (through the lifecycle), or count it unchanged."""
    event = acknowledgment_event(rejected=c.rejected, categories=[s.category for s in c.statuses])
    if event is None or claim.status not in sources(event):
        counts["claims_unchanged"] += 1
        return
    claim.status = transition(claim.status, event, claim_id=claim.claim_id).value
    if event is Event.ACK_REJECTED:
        claim.status_reason = _claim_reason("277CA rejected", c)
        counts["claims_rejected"] += 1
        log.info("claim_rejected", claim_id=claim.claim_id, file_id=ctx.file.id, source="277CA")
    else:
        claim.status_reason = None
        claim.accepted_at = claim.accepted_at or utcnow()
        counts["claims_accepted"] += 1
        log.debug("claim_accepted", claim_id=claim.claim_id, file_id=ctx.file.id)


def apply_277ca(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Accept or reject each claim a 277CA names; keep every status as history."""
    counts: dict[str, Any] = {"claims_accepted": 0, "claims_rejected": 0, "claims_unchanged": 0,
                              "claims_unmatched": 0, "status_events": 0}
    unmatched: list[str] = []
    for claim, c in _named_claims(ctx, data, "277CA", counts, unmatched):
        counts["status_events"] += _record_events(ctx.session, claim, c, "277CA", ctx.file.id)
        if c.payer_claim_number and claim.status not in FINAL:
            claim.payer_claim_number = c.payer_claim_number
        _acknowledge(ctx, claim, c, counts)
    counts["unmatched_claim_ids"] = unmatched
    return counts


# --------------------------------------------------------------------------------------------
# 277
# --------------------------------------------------------------------------------------------


def _claim_by_inquiry(session: Session, c: ReportedClaim) -> Claim | None:
    """The claim of the 276 whose trace the 277 echoes."""
    inquiry = session.scalars(select(Inquiry).where(
        Inquiry.kind == "276", Inquiry.trace == c.trace_number.strip())).first()
    if inquiry is None or inquiry.claim_pk is None:
        return None
    return session.get(Claim, inquiry.claim_pk)


def apply_277(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Record a 277 claim status response as history; a denial or rejection updates the reason only."""
    session = ctx.session
    counts: dict[str, Any] = {"claims_matched": 0, "claims_unmatched": 0, "status_events": 0}
    unmatched: list[str] = []
    now = utcnow()
    for claim, c in _named_claims(ctx, data, "277", counts, unmatched, _claim_by_inquiry):
        counts["claims_matched"] += 1
        counts["status_events"] += _record_events(session, claim, c, "277", ctx.file.id)
        for q in session.scalars(select(Inquiry).where(
                Inquiry.kind == "276", Inquiry.claim_pk == claim.id, Inquiry.answered_at.is_(None))):
            q.answered_at = now
        if c.payer_claim_number and not claim.payer_claim_number:
            claim.payer_claim_number = c.payer_claim_number
        if explains_status(claim.status, rejected=c.rejected, categories=[s.category for s in c.statuses]):
            claim.status_reason = _claim_reason("277", c)
    counts["unmatched_claim_ids"] = unmatched
    return counts
