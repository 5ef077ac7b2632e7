"""The 271 eligibility response: one Eligibility row per member answered, tied to our 270 inquiry.

:func:`apply_271` is the applier of kind ``271`` (:mod:`pipelines.usecases.applier`). A member is tied
by the TRN we sent to the 270 Inquiry; a 271 without members (an AAA rejection of the whole request)
by the BHT03 our 270 carried. The row keeps coverage (active or not, plan dates), the benefits
summarized per service type (:func:`benefit_summaries`: copay, coinsurance, deductible, visit
limits, authorization, network) and every rejection in words. What "eligibility on file" means for
the scrubber and ``edi eligibility show`` is read from these rows elsewhere; this module only writes
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from edi import codes
from edi.x12 import open_x12
from edi.x271 import Benefit, EligibilityResponse, Member, Rejection, parse_271
from models import Eligibility, File, Inquiry, utcnow
from pipelines.errors import ApplyError
from pipelines.logs import get_logger
from pipelines.rules.money import money_or_none
from pipelines.usecases.applier import ApplyContext
from pipelines.usecases.eligibility import isa_of_reference

__all__ = ["apply_271", "benefit_summaries"]

log = get_logger("edi")


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
        "time_period_description": b.time_period_description, "amount": money_or_none(b.amount),
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
                s["copay"].append({"amount": money_or_none(b.amount), "in_network": b.in_network,
                                   "period": b.time_period_description})
            elif b.code == "A" and b.percent is not None:
                s["coinsurance"].append({"percent": f"{(b.percent * 100).normalize():f}",
                                         "in_network": b.in_network, "period": b.time_period_description})
            elif b.code == "C" and b.amount is not None:
                key = "deductible_remaining" if period == "29" else "deductible"
                s[key].append({"amount": money_or_none(b.amount), "in_network": b.in_network,
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
        File.sender_id == ctx.config.clearinghouse.submitter_id))
    ids = list(files)
    if not ids:
        return []
    payer_ids = {p.id for p in ctx.config.payers.values() if r.source.id and p.payer_id == r.source.id}
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
                log.warning("eligibility_unmatched", file_id=ctx.file.id, trace=trace)
                continue
            rows.append(_store_eligibility(ctx, inquiry, m, r.rejections, now))
        for row in rows:
            key = {True: "eligibility_active", False: "eligibility_inactive", None: "eligibility_unknown"}
            counts[key[row.active]] += 1
    counts["unmatched_traces"] = unmatched
    return counts
