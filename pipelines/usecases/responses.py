"""Inbound responses: TA1/999 acknowledgments, 277CA, 277 and 271, applied to the ledger and claims.

Each applier takes the :class:`pipelines.ingest.ApplyContext` and the raw bytes, runs inside the
caller's savepoint and returns counts for the log. Bad content raises ``EdiError`` (from the
parsers) or :class:`ApplyError`; the caller marks the file failed.

* TA1 / 999: tied to the outbound file by ISA13 (TA101) or by GS06 (AK102) and our sender id, each
  AK2 to a FileTransaction by ST02. The transaction sets and the file get the acknowledgment's
  state and every error in words (``FileTransaction.ack_errors``); claims of a rejected 837P set
  become ``rejected`` with the reason. A 999 alone does not accept a claim: that needs the 277CA.
* 277CA: per claim (TRN02, our CLM01) accepted (A1, A2, A5: payer claim number kept) or rejected
  (A3, A4, A6, A7, A8, E0, E3, E4: reason kept). Every STC becomes a ClaimStatusEvent. A claim
  already paid, denied, patient_responsibility, reversed or void keeps its status. Claim ids we
  never sent are counted and logged as unmatched; they do not fail the file.
* 277: recorded as ClaimStatusEvents (by REF*EJ / TRN02 claim id, else by the 276 trace); a
  finalized denial or a rejection updates ``status_reason`` only: payment comes from the 835.
* 271: tied by the TRN we sent to the 270 Inquiry; one Eligibility row per member answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edi import codes
from edi.x12 import Interchange, open_x12
from edi.x271 import Benefit, EligibilityResponse, Member, Rejection, parse_271
from edi.x277 import ClaimStatus, ClaimStatusReport, Status, parse_277
from edi.x999 import (
    GROUP_ERROR_CODES,
    TA1_NOTE_CODES,
    TRANSACTION_ERROR_CODES,
    GroupAck,
    SegmentError,
    Ta1,
    TransactionAck,
    describe,
    parse_999,
    parse_ta1,
)
from models import Claim, ClaimStatusEvent, Eligibility, File, Inquiry, utcnow
from pipelines.errors import ApplyError
from pipelines.usecases.eligibility import isa_of_reference
from pipelines.usecases.ingest import ApplyContext

__all__ = [
    "ACCEPTED_CATEGORIES",
    "FINAL_STATUSES",
    "apply_271",
    "apply_277",
    "apply_277ca",
    "apply_999",
    "apply_ta1",
    "benefit_summaries",
]

ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})
"""277CA categories that accept a claim (received, accepted into adjudication, split)."""

FINAL_STATUSES = frozenset({"paid", "denied", "patient_responsibility", "reversed", "void"})
"""Claim statuses an acknowledgment never moves (payment status comes from 835s)."""

_MOVABLE = frozenset({"submitted", "accepted", "rejected"})
_FILE_STATE = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted"}
_SET_STATE = {"A": "accepted", "E": "accepted_with_errors"}
_FUNCTIONAL_KIND = {"HC": "837P", "HS": "270", "HR": "276"}
_REASON_MAX = 2000


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _ctl(value: str | int | None) -> str:
    """A control number compared without padding: ' 000001002' -> '1002'."""
    text = str(value or "").strip()
    return (text.lstrip("0") or "0") if text.isdigit() else text


def _claim_key(value: str) -> str:
    return value.strip().upper()


def _claims_named(session: Session, claim_ids: Iterable[str]) -> dict[str, Claim]:
    """Our claims for the ids a file names, keyed by :func:`_claim_key`, in a few queries."""
    keys = sorted({k for k in map(_claim_key, claim_ids) if k})
    found: dict[str, Claim] = {}
    for i in range(0, len(keys), 1000):
        found.update((c.claim_id, c) for c in session.scalars(select(Claim).where(Claim.claim_id.in_(keys[i:i + 1000]))))
    missing = [k for k in keys if k not in found]
    for i in range(0, len(missing), 1000):
        for c in session.scalars(select(Claim).where(func.upper(Claim.claim_id).in_(missing[i:i + 1000]))):
            found.setdefault(_claim_key(c.claim_id), c)
    return found


def _clip(text: str) -> str:
    return text if len(text) <= _REASON_MAX else text[:_REASON_MAX - 3] + "..."


# --------------------------------------------------------------------------------------------
# TA1 and 999
# --------------------------------------------------------------------------------------------


def _segment_error_entries(e: SegmentError) -> list[dict[str, Any]]:
    """One entry per IK4 element error of an IK3 (or one for the IK3 alone), with a sentence."""
    claim_id = e.business_unit[1] if e.business_unit and e.business_unit[0].upper() == "CLM01" else None
    where = f"Segment {e.segment_id} at position {e.position}"
    if e.loop_id:
        where += f" in loop {e.loop_id}"
    if claim_id:
        where += f" (claim {claim_id})"
    base: dict[str, Any] = {"level": "segment", "segment_id": e.segment_id, "position": e.position,
                            "loop": e.loop_id, "claim_id": claim_id}
    if not e.elements:
        return [{**base, "element": None, "code": e.code, "description": e.description,
                 "text": f"{where}: {e.description or 'error'} (IK304 code {e.code})."}]
    out = []
    for x in e.elements:
        name = f"{e.segment_id}{x.position:02d}"
        if x.component is not None:
            name += f"-{x.component}"
        detail = f" (data element {x.data_element})" if x.data_element else ""
        out.append({**base, "level": "element", "element": x.position, "component": x.component,
                    "repetition": x.repetition, "data_element": x.data_element, "code": x.code,
                    "description": x.description, "segment_code": e.code,
                    "segment_description": e.description, "bad_value": x.bad_value,
                    "text": f"{where}: element {name}{detail}: {x.description} (IK403 code {x.code})."})
    return out


def _transaction_errors(t: TransactionAck) -> list[dict[str, Any]]:
    entries = [entry for e in t.segment_errors for entry in _segment_error_entries(e)]
    for code in t.error_codes:
        text = describe(TRANSACTION_ERROR_CODES, code)
        entries.append({"level": "transaction", "segment_id": "ST", "position": None, "loop": None,
                        "element": None, "code": code, "description": text,
                        "text": f"Transaction set {t.set_id} {t.control_number}: {text} (IK5 code {code})."})
    return entries


def _group_errors(ack: GroupAck) -> list[dict[str, Any]]:
    out = []
    for code in ack.error_codes:
        text = describe(GROUP_ERROR_CODES, code)
        out.append({"level": "group", "segment_id": "GS", "position": None, "loop": None, "element": None,
                    "code": code, "description": text,
                    "text": f"Functional group {ack.group_control_number}: {text} (AK9 code {code})."})
    return out


def _outbound_by_group(session: Session, isa: Interchange, ack: GroupAck) -> File:
    stmt = select(File).where(File.direction == "out", File.sender_id == isa.receiver_id)
    candidates = [f for f in session.scalars(stmt.order_by(File.id))
                  if _ctl(f.gs_control) == _ctl(ack.group_control_number)]
    kind = _FUNCTIONAL_KIND.get(ack.functional_id)
    if kind is not None and any(f.kind == kind for f in candidates):
        candidates = [f for f in candidates if f.kind == kind]
    if len(candidates) > 1:
        candidates = [f for f in candidates if f.receiver_id == isa.sender_id] or candidates
    if not candidates:
        raise ApplyError(
            f"999 acknowledges functional group GS06 {ack.group_control_number} ({ack.functional_id}) "
            f"from sender {isa.receiver_id}, but no outbound file with that group control number was sent",
            {"segment_id": "AK1", "element": 2, "interchange": isa.control_number})
    return candidates[-1]


def _outbound_by_isa(session: Session, isa: Interchange, control: str) -> File:
    stmt = select(File).where(File.direction == "out", File.sender_id == isa.receiver_id)
    candidates = [f for f in session.scalars(stmt.order_by(File.id)) if _ctl(f.isa_control) == _ctl(control)]
    if len(candidates) > 1:
        candidates = [f for f in candidates if f.receiver_id == isa.sender_id] or candidates
    if not candidates:
        raise ApplyError(
            f"TA1 acknowledges interchange ISA13 {control} from sender {isa.receiver_id}, "
            "but no outbound file with that interchange control number was sent",
            {"segment_id": "TA1", "element": 1, "interchange": isa.control_number})
    return candidates[-1]


def _reject_claims(session: Session, f: File, st_control: str | None, errors: Sequence[dict[str, Any]],
                   source: str, file_id: int, label: str) -> int:
    """Claims of ``f`` (of one ST, or all when ``st_control`` is None) move to rejected with the errors."""
    stmt = select(Claim).where(Claim.file_id == f.id).order_by(Claim.id)
    n = 0
    for claim in session.scalars(stmt):
        if st_control is not None and _ctl(claim.st_control) != _ctl(st_control):
            continue
        own = [e for e in errors if e.get("claim_id") and _claim_key(str(e["claim_id"])) == claim.claim_id]
        texts = [str(e["text"]) for e in (own or [e for e in errors if not e.get("claim_id")] or errors)]
        reason = _clip(f"{label}: " + (" ".join(texts) if texts else "rejected, no error detail given."))
        session.add(ClaimStatusEvent(claim_pk=claim.id, file_id=file_id, source=source, category="R",
                                     code=(own[0]["code"] if own else None), description=reason))
        if claim.status in ("submitted", "accepted"):
            claim.status, claim.status_reason = "rejected", reason
            n += 1
    return n


def _apply_group_ack(ctx: ApplyContext, isa: Interchange, ack: GroupAck, counts: dict[str, int]) -> None:
    session = ctx.session
    f = _outbound_by_group(session, isa, ack)
    by_st = {_ctl(t.st_control): t for t in f.transactions}
    group_errors = _group_errors(ack)
    for t in ack.transactions:
        ft = by_st.get(_ctl(t.control_number))
        if ft is None:
            raise ApplyError(
                f"999 acknowledges transaction set ST02 {t.control_number} of group GS06 "
                f"{ack.group_control_number}, but outbound file {f.id} has no such set",
                {"segment_id": "AK2", "element": 2})
        errors = _transaction_errors(t)
        ft.state = _SET_STATE.get(t.code, "rejected")
        ft.ack_errors = errors
        counts["sets_accepted" if t.accepted else "sets_rejected"] += 1
        if not t.accepted:
            label = f"999 rejected transaction set {t.control_number} of file {f.id}"
            counts["claims_rejected"] += _reject_claims(session, f, t.control_number, errors, "999",
                                                        ctx.file.id, label)
    if not ack.transactions and ack.code not in ("A", "E"):
        # the whole group rejected without set detail: every set and claim of the file goes with it
        for ft in f.transactions:
            ft.state, ft.ack_errors = "rejected", group_errors
            counts["sets_rejected"] += 1
        label = f"999 rejected functional group {ack.group_control_number} of file {f.id}"
        counts["claims_rejected"] += _reject_claims(session, f, None, group_errors, "999", ctx.file.id, label)
    f.state = _FILE_STATE.get(ack.code, "rejected")
    f.error = " ".join(e["text"] for e in group_errors) or (
        None if ack.code == "A" else f"999 {ack.code}: {ack.description}")
    counts["files_acknowledged"] += 1


def _apply_ta1(ctx: ApplyContext, isa: Interchange, ta1: Ta1, counts: dict[str, int]) -> None:
    f = _outbound_by_isa(ctx.session, isa, ta1.control_number)
    note = describe(TA1_NOTE_CODES, ta1.note_code)
    text = f"Interchange {ta1.control_number}: {ta1.description} - {note} (TA1 code {ta1.code}, note {ta1.note_code})."
    counts["files_acknowledged"] += 1
    if ta1.code == "A":
        return
    f.error = text
    if ta1.code != "R":
        return
    entry = {"level": "interchange", "segment_id": "ISA", "position": None, "loop": None, "element": None,
             "code": ta1.note_code, "description": note, "text": text}
    f.state = "rejected"
    for ft in f.transactions:
        ft.state, ft.ack_errors = "rejected", [entry]
        counts["sets_rejected"] += 1
    counts["claims_rejected"] += _reject_claims(ctx.session, f, None, [entry], "TA1", ctx.file.id,
                                                f"TA1 rejected interchange {ta1.control_number} of file {f.id}")


def _apply_acks(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    counts = {"files_acknowledged": 0, "sets_accepted": 0, "sets_rejected": 0, "claims_rejected": 0}
    env = open_x12(data)
    acks: list[tuple[Interchange, GroupAck]] = []
    for ts in env:
        if ts.set_id != "999":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in an acknowledgment file "
                             "(expected 999)", {"segment_number": ts.segment_number, "segment_id": "ST"})
        acks.append((ts.interchange, parse_999(ts)))
    for isa in env.interchanges:
        for seg in isa.ta1:
            _apply_ta1(ctx, isa, parse_ta1(seg), counts)
    for isa, ack in acks:
        _apply_group_ack(ctx, isa, ack, counts)
    if counts["files_acknowledged"] == 0:
        raise ApplyError("the file holds no 999 transaction set and no TA1 segment", {})
    ctx.app.log.info("acknowledgment_applied", file_id=ctx.file.id, **counts)
    return counts


def apply_999(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Apply every 999 (and any TA1) in the file to the outbound files and claims they acknowledge."""
    return _apply_acks(ctx, data)


def apply_ta1(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Apply every TA1 (and any 999) in the file to the outbound interchanges they acknowledge."""
    return _apply_acks(ctx, data)


# --------------------------------------------------------------------------------------------
# 277CA and 277
# --------------------------------------------------------------------------------------------


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


def _claim_reason(source: str, c: ClaimStatus) -> str:
    parts = [_status_words(s) for s in c.statuses]
    for ln in c.lines:
        tag = f"line {ln.line_control_number or ln.procedure}"
        parts += [f"{tag}: {_status_words(s)}" for s in ln.statuses]
    return _clip(f"{source}: " + "; ".join(parts))


def _record_events(session: Session, claim: Claim, c: ClaimStatus, source: str, file_id: int) -> int:
    n = 0
    for s in c.statuses:
        session.add(ClaimStatusEvent(claim_pk=claim.id, file_id=file_id, source=source, category=s.category,
                                     code=s.code, entity=s.entity, status_date=s.date,
                                     description=_clip(_status_words(s)),
                                     payer_claim_number=c.payer_claim_number, trace=c.clearinghouse_trace))
        n += 1
    for ln in c.lines:
        for s in ln.statuses:
            session.add(ClaimStatusEvent(
                claim_pk=claim.id, file_id=file_id, source=source, category=s.category, code=s.code,
                entity=s.entity, status_date=s.date,
                description=_clip(f"line {ln.line_control_number or ln.procedure}: {_status_words(s)}"),
                payer_claim_number=c.payer_claim_number, trace=c.clearinghouse_trace))
            n += 1
    return n


def _reports(data: bytes, want: str) -> Iterable[ClaimStatusReport]:
    for ts in open_x12(data):
        if ts.set_id != "277":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in a {want} file (expected 277)",
                             {"segment_number": ts.segment_number, "segment_id": "ST"})
        yield parse_277(ts)


def apply_277ca(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Accept or reject each claim a 277CA names; keep every status as history."""
    session = ctx.session
    counts: dict[str, Any] = {"claims_accepted": 0, "claims_rejected": 0, "claims_unchanged": 0,
                              "claims_unmatched": 0, "status_events": 0}
    unmatched: list[str] = []
    for report in _reports(data, "277CA"):
        ours = _claims_named(session, (c.claim_id for c in report.claims))
        for c in report.claims:
            claim = ours.get(_claim_key(c.claim_id))
            if claim is None:
                unmatched.append(c.claim_id)
                counts["claims_unmatched"] += 1
                ctx.app.log.warning("claim_status_unmatched", file_id=ctx.file.id, claim_id=c.claim_id)
                continue
            counts["status_events"] += _record_events(session, claim, c, "277CA", ctx.file.id)
            if c.payer_claim_number and claim.status not in FINAL_STATUSES:
                claim.payer_claim_number = c.payer_claim_number
            if claim.status not in _MOVABLE:
                counts["claims_unchanged"] += 1
            elif c.rejected:
                claim.status, claim.status_reason = "rejected", _claim_reason("277CA rejected", c)
                counts["claims_rejected"] += 1
                ctx.app.log.info("claim_rejected", claim_id=claim.claim_id, file_id=ctx.file.id, source="277CA")
            elif any(s.category in ACCEPTED_CATEGORIES for s in c.statuses):
                claim.status, claim.status_reason = "accepted", None
                claim.accepted_at = claim.accepted_at or utcnow()
                counts["claims_accepted"] += 1
                ctx.app.log.debug("claim_accepted", claim_id=claim.claim_id, file_id=ctx.file.id)
            else:
                counts["claims_unchanged"] += 1
    counts["unmatched_claim_ids"] = unmatched
    return counts


_STATUS_REASON_CATEGORIES = frozenset({"F2"})


def apply_277(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Record a 277 claim status response as history; a denial or rejection updates the reason only."""
    session = ctx.session
    counts: dict[str, Any] = {"claims_matched": 0, "claims_unmatched": 0, "status_events": 0}
    unmatched: list[str] = []
    now = utcnow()
    for report in _reports(data, "277"):
        ours = _claims_named(session, (c.claim_id for c in report.claims))
        for c in report.claims:
            claim = ours.get(_claim_key(c.claim_id))
            inquiry = session.scalars(select(Inquiry).where(
                Inquiry.kind == "276", Inquiry.trace == c.trace_number.strip())).first()
            if claim is None and inquiry is not None and inquiry.claim_pk is not None:
                claim = session.get(Claim, inquiry.claim_pk)
            if claim is None:
                unmatched.append(c.claim_id)
                counts["claims_unmatched"] += 1
                ctx.app.log.warning("claim_status_unmatched", file_id=ctx.file.id, claim_id=c.claim_id)
                continue
            counts["claims_matched"] += 1
            counts["status_events"] += _record_events(session, claim, c, "277", ctx.file.id)
            for q in session.scalars(select(Inquiry).where(
                    Inquiry.kind == "276", Inquiry.claim_pk == claim.id, Inquiry.answered_at.is_(None))):
                q.answered_at = now
            if c.payer_claim_number and not claim.payer_claim_number:
                claim.payer_claim_number = c.payer_claim_number
            if claim.status in ("submitted", "accepted", "rejected", "denied") and any(
                    s.rejected or s.category in _STATUS_REASON_CATEGORIES for s in c.statuses):
                claim.status_reason = _claim_reason("277", c)
    counts["unmatched_claim_ids"] = unmatched
    return counts


# --------------------------------------------------------------------------------------------
# 271
# --------------------------------------------------------------------------------------------


def _money(d: Decimal | None) -> str | None:
    return None if d is None else f"{d.quantize(Decimal('0.01')):.2f}"


def _qty(d: Decimal | None) -> int | str | None:
    if d is None:
        return None
    return int(d) if d == d.to_integral_value() else f"{d.normalize():f}"


def _visits(b: Benefit) -> Decimal | None:
    if b.quantity_qualifier == "VS" and b.quantity is not None:
        return b.quantity
    return next((x.quantity for x in b.limits if x.quantity_qualifier == "VS" and x.quantity is not None), None)


def _period(b: Benefit) -> str | None:
    return b.time_period or next((x.time_period for x in b.limits if x.time_period), None)


def _benefit_json(b: Benefit) -> dict[str, Any]:
    return {
        "code": b.code, "description": b.description, "coverage_level": b.coverage_level,
        "insurance_type": b.insurance_type, "plan": b.plan_description, "time_period": b.time_period,
        "time_period_description": b.time_period_description, "amount": _money(b.amount),
        "percent": None if b.percent is None else f"{b.percent.normalize():f}",
        "quantity_qualifier": b.quantity_qualifier, "quantity": _qty(b.quantity),
        "auth_required": b.auth_required, "in_network": b.in_network,
        "procedure": list(b.procedure[1:]) if len(b.procedure) > 1 else None,
        "limits": [{"quantity_qualifier": x.quantity_qualifier, "quantity": _qty(x.quantity),
                    "time_period": x.time_period, "time_period_description": x.time_period_description}
                   for x in b.limits],
        "dates": [{"qualifier": x.qualifier, "start": x.start.isoformat(),
                   "end": x.end.isoformat() if x.end else None} for x in b.dates],
        "messages": list(b.messages),
    }


def benefit_summaries(benefits: Sequence[Benefit]) -> list[dict[str, Any]]:
    """Benefits per service type: coverage, copay, coinsurance, deductible, visit limits, auth, network.

    A benefit without a service type (EB03) applies to "30" (health benefit plan coverage). Copays,
    coinsurance and deductibles are lists (in and out of network may differ); ``visit_limit`` and
    ``visits_remaining`` are the EB01 F limitations counted in visits (EB06 29 = remaining).
    """
    by_type: dict[str, dict[str, Any]] = {}
    for b in benefits:
        for st in b.service_types or ("30",):
            s = by_type.setdefault(st, {
                "service_type": st, "description": codes.service_types().describe(st), "coverage": None,
                "plan": None, "copay": [], "coinsurance": [], "deductible": [], "deductible_remaining": [],
                "visit_limit": None, "visits_remaining": None, "auth_required": None,
                "auth_required_procedures": [], "in_network": None, "messages": [], "details": []})
            s["details"].append(_benefit_json(b))
            s["messages"] += list(b.messages)
            period = _period(b)
            if b.code in ("1", "2", "3", "4", "5", "6", "7", "8") and not b.procedure:
                active = b.code not in ("6", "7", "8")
                s["coverage"] = "active" if active or s["coverage"] == "active" else "inactive"
                s["plan"] = s["plan"] or b.plan_description
            if b.code == "B" and b.amount is not None:
                s["copay"].append({"amount": _money(b.amount), "in_network": b.in_network,
                                   "period": b.time_period_description})
            elif b.code == "A" and b.percent is not None:
                s["coinsurance"].append({"percent": f"{(b.percent * 100).normalize():f}",
                                         "in_network": b.in_network, "period": b.time_period_description})
            elif b.code == "C" and b.amount is not None:
                key = "deductible_remaining" if period == "29" else "deductible"
                s[key].append({"amount": _money(b.amount), "in_network": b.in_network,
                               "period": b.time_period_description})
            elif b.code == "F" and _visits(b) is not None:
                s["visits_remaining" if period == "29" else "visit_limit"] = _qty(_visits(b))
            if b.auth_required is not None:
                if len(b.procedure) > 1:
                    if b.auth_required:
                        s["auth_required_procedures"].append(b.procedure[1])
                else:
                    s["auth_required"] = b.auth_required
            if b.in_network is not None and b.code in ("1", "2", "3", "4", "5") and s["in_network"] is None:
                s["in_network"] = b.in_network
    return list(by_type.values())


def _rejection_json(r: Rejection) -> dict[str, Any]:
    text = f"{r.reason or 'rejected'} (AAA code {r.reason_code}); {r.follow_up or 'no follow-up given'}"
    return {"loop": r.loop, "reason_code": r.reason_code, "reason": r.reason,
            "follow_up_code": r.follow_up_code, "follow_up": r.follow_up, "text": text}


def _active(m: Member) -> bool | None:
    cov = m.coverage
    return None if cov is None else cov == "active"


def _benefit_rejections(m: Member) -> list[Rejection]:
    return list(m.rejections) + [r for b in m.benefits for r in b.rejections]


def _store_eligibility(ctx: ApplyContext, inquiry: Inquiry, m: Member | None,
                       top: Sequence[Rejection], now: datetime) -> Eligibility:
    start, end = m.coverage_period if m is not None else (None, None)
    row = Eligibility(
        patient_id=inquiry.patient_id, payer_id=inquiry.payer_id,
        active=_active(m) if m is not None else None, plan_start=start, plan_end=end,
        benefits=benefit_summaries(m.benefits) if m is not None else [],
        rejections=[_rejection_json(r) for r in [*top, *(_benefit_rejections(m) if m else [])]],
        file_id=ctx.file.id, checked_at=now)
    ctx.session.add(row)
    inquiry.answered_at = now
    return row


def _inquiries_of_reference(ctx: ApplyContext, r: EligibilityResponse) -> list[Inquiry]:
    """Unanswered inquiries of our 270 file whose BHT03 (``ELIG-<ISA13>``) the 271 echoes."""
    isa = isa_of_reference(r.reference or "")
    if isa is None:
        return []
    files = ctx.session.scalars(select(File.id).where(
        File.direction == "out", File.kind == "270", File.isa_control == isa,
        File.sender_id == ctx.app.config.clearinghouse.submitter_id))
    ids = list(files)
    if not ids:
        return []
    payer_ids = {p.id for p in ctx.app.config.payers.values() if r.source.id and p.payer_id == r.source.id}
    stmt = (select(Inquiry).where(Inquiry.kind == "270", Inquiry.file_id.in_(ids), Inquiry.answered_at.is_(None))
            .order_by(Inquiry.id))
    return [q for q in ctx.session.scalars(stmt) if not payer_ids or q.payer_id in payer_ids]


def apply_271(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Store the eligibility each 271 member answers, tied by our 270 trace to the patient and payer."""
    session = ctx.session
    counts: dict[str, Any] = {"eligibility_active": 0, "eligibility_inactive": 0, "eligibility_unknown": 0,
                              "members_unmatched": 0}
    unmatched: list[str] = []
    now = utcnow()
    for ts in open_x12(data):
        if ts.set_id != "271":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in a 271 file (expected 271)",
                             {"segment_number": ts.segment_number, "segment_id": "ST"})
        r = parse_271(ts)
        rows: list[Eligibility] = []
        if not r.members:
            rows += [_store_eligibility(ctx, q, None, r.rejections, now)
                     for q in _inquiries_of_reference(ctx, r)]
            if not rows:
                counts["members_unmatched"] += 1
                unmatched.append(r.reference or ts.control_number)
        for m in r.members:
            trace = (m.trace or "").strip().upper()
            if not trace:
                continue  # a subscriber loop that only carries a dependent: the dependent has the trace
            inquiry = session.scalars(select(Inquiry).where(Inquiry.kind == "270", Inquiry.trace == trace)).first()
            if inquiry is None:
                counts["members_unmatched"] += 1
                unmatched.append(trace)
                ctx.app.log.warning("eligibility_unmatched", file_id=ctx.file.id, trace=trace)
                continue
            rows.append(_store_eligibility(ctx, inquiry, m, r.rejections, now))
        for row in rows:
            key = {True: "eligibility_active", False: "eligibility_inactive", None: "eligibility_unknown"}
            counts[key[row.active]] += 1
    counts["unmatched_traces"] = unmatched
    return counts
