"""The 271 eligibility response: one Eligibility row per member answered, tied to our 270 inquiry.

:func:`apply_271` is the applier of kind ``271`` (:mod:`pipelines.usecases.applier`). A member is tied
by the TRN we sent to the 270 Inquiry; a 271 without members (an AAA rejection of the whole request)
by the BHT03 our 270 carried. The row keeps coverage (active or not, plan dates), the benefits
summarized per service type (:func:`benefit_summaries`: copay, coinsurance, deductible, visit
limits, authorization, network) and every rejection in words. What "eligibility on file" means for
the scrubber and ``edi eligibility show`` is read from these rows elsewhere; this module only writes
them: a file's rows with one bulk insert and its inquiries answered with one update, the inquiries
its members name read a few thousand traces per query (:mod:`pipelines.usecases.bulk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from pipelines.usecases.bulk import chunks, copy_rows, copy_update, key_set
from pipelines.usecases.eligibility import isa_of_reference

__all__ = ["apply_271", "benefit_summaries"]

log = get_logger("edi")
_CHUNK = 5000  # traces looked up per query
_COUNTED = {True: "eligibility_active", False: "eligibility_inactive", None: "eligibility_unknown"}


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


_ELIGIBILITY = ("patient_id", "payer_id", "active", "plan_start", "plan_end", "benefits", "rejections", "file_id",
                "checked_at")


@dataclass(frozen=True)
class _Asked:
    """One of our 270 inquiries, as a 271 answers it."""

    id: int
    patient_id: str
    payer_id: str


def _eligibility(ctx: ApplyContext, inquiry: _Asked, m: Member | None, top: Sequence[Rejection],
                 now: datetime) -> tuple[Any, ...]:
    """The Eligibility row (in :data:`_ELIGIBILITY` order) a member (or a whole rejected request) answers."""
    start, end = m.coverage_period if m is not None else (None, None)
    return (inquiry.patient_id, inquiry.payer_id, _active(m) if m is not None else None, start, end,
            benefit_summaries(m.benefits) if m is not None else [],
            [_rejection_json(r) for r in [*top, *(_benefit_rejections(m) if m else [])]], ctx.file.id, now)


def _inquiries_of_reference(ctx: ApplyContext, r: EligibilityResponse, answered: set[int]) -> list[_Asked]:
    """Unanswered inquiries of our 270 file whose BHT03 (``ELIG-<ISA13>``) the 271 echoes (``answered``:
    those this file answered already)."""
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
    stmt = (select(Inquiry.id, Inquiry.patient_id, Inquiry.payer_id)
            .where(Inquiry.kind == "270", Inquiry.file_id.in_(ids), Inquiry.answered_at.is_(None))
            .order_by(Inquiry.id))
    return [q for q in (_Asked(*row) for row in ctx.session.execute(stmt))
            if q.id not in answered and (not payer_ids or q.payer_id in payer_ids)]


def _inquiries_traced(ctx: ApplyContext, traces: Sequence[str]) -> dict[str, _Asked]:
    """Our 270 inquiries by trace, a few thousand traces per query."""
    s = ctx.session
    found: dict[str, _Asked] = {}
    for chunk in chunks(sorted(set(traces)), _CHUNK):
        for trace, pk, patient_id, payer_id in s.execute(
                select(Inquiry.trace, Inquiry.id, Inquiry.patient_id, Inquiry.payer_id).where(
                    Inquiry.kind == "270", Inquiry.trace.in_(key_set(s, "traces", Inquiry.trace, chunk)))):
            found[trace] = _Asked(pk, patient_id, payer_id)
    return found


def apply_271(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Store the eligibility each 271 member answers, tied by our 270 trace to the patient and payer.

    Set-based: the inquiries a transaction set's members name are read in a few queries, the file's
    rows go in with one bulk insert and its inquiries are marked answered with one update."""
    session = ctx.session
    counts: dict[str, Any] = {"eligibility_active": 0, "eligibility_inactive": 0, "eligibility_unknown": 0,
                              "members_unmatched": 0}
    unmatched: list[str] = []
    now = utcnow()
    rows: list[tuple[Any, ...]] = []
    answered: dict[int, None] = {}  # inquiry ids, in the order answered
    for ts in open_x12(data):
        if ts.set_id != "271":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in a 271 file (expected 271)",
                             {"segment_number": ts.segment_number, "segment_id": "ST"})
        r = parse_271(ts)
        answers: list[tuple[_Asked, Member | None]] = []
        if not r.members:
            answers += [(q, None) for q in _inquiries_of_reference(ctx, r, set(answered))]
            if not answers:
                counts["members_unmatched"] += 1
                unmatched.append(r.reference or ts.control_number)
        # a subscriber loop that only carries a dependent has no trace: the dependent has it
        traced = [(trace, m) for m in r.members if (trace := (m.trace or "").strip().upper())]
        inquiries = _inquiries_traced(ctx, [trace for trace, _ in traced]) if traced else {}
        for trace, m in traced:
            inquiry = inquiries.get(trace)
            if inquiry is None:
                counts["members_unmatched"] += 1
                unmatched.append(trace)
                log.warning("eligibility_unmatched", file_id=ctx.file.id, trace=trace)
                continue
            answers.append((inquiry, m))
        for inquiry, answer in answers:
            row = _eligibility(ctx, inquiry, answer, r.rejections, now)
            rows.append(row)
            answered[inquiry.id] = None
            counts[_COUNTED[row[2]]] += 1
    copy_rows(session, Eligibility, _ELIGIBILITY, rows)
    copy_update(session, Inquiry, (), [(i,) for i in answered], {"answered_at": now})
    counts["unmatched_traces"] = unmatched
    return counts
