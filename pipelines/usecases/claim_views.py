"""Claims as operators read them: `edi claims list`, `show` and `export` (CONTRACT section 6).

Each function reads in one transaction and returns plain data ready for ``--json``; the command
line renders it (:mod:`pipelines.cli.claims`). Every claim carries its leg of the payer chain
(CONTRACT section 7): ``payer_sequence``, ``prior_claim_id`` and ``patient_balance``, what the
patient owes after the last payer of the encounter's chain that adjudicated
(:func:`pipelines.rules.cob.patient_balance`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from models import Adjustment, Claim, ClaimStatusEvent, Remark
from pipelines.errors import NotFound
from pipelines.rules.cob import patient_balance
from pipelines.rules.money import ZERO, money
from pipelines.usecases.uow import UnitOfWork

__all__ = ["claim_detail", "claim_json", "export_claims", "list_claims"]


def _adjustments(items: Iterable[Adjustment]) -> list[dict[str, str]]:
    return [{"group": a.group, "reason": a.reason, "amount": money(a.amount)} for a in items]


def _balances(session: Session, encounters: Any = None) -> dict[str, Decimal]:
    """The patient balance of each encounter's chain (of the encounters the query ``encounters``
    selects, or of every encounter)."""
    stmt = select(Claim.encounter_id, Claim.id, Claim.payer_sequence, Claim.status, Claim.patient_responsibility)
    if encounters is not None:
        stmt = stmt.where(Claim.encounter_id.in_(encounters))
    legs: dict[str, list[tuple[int, str, str, Decimal]]] = defaultdict(list)
    for encounter_id, pk, seq, status, pr in session.execute(stmt):
        legs[encounter_id].append((pk, seq, status, pr))
    return {e: patient_balance(chain) for e, chain in legs.items()}


def claim_json(claim: Claim, adjustments: Sequence[Adjustment] | None = None,
               remarks: Sequence[Remark] | None = None, balance: Decimal | None = None) -> dict[str, Any]:
    """One claim in the shape of CONTRACT section 6 (and section 7's leg fields).

    ``adjustments`` and ``remarks`` are the claim's rows of those tables (claim and line level);
    when not given they are read through the claim's session, as is ``balance`` (the patient
    balance of the claim's chain).
    """
    if adjustments is None or remarks is None:
        db = object_session(claim)
        if db is not None:
            adjustments = list(db.scalars(select(Adjustment).where(Adjustment.claim_pk == claim.id)
                                          .order_by(Adjustment.id)))
            remarks = list(db.scalars(select(Remark).where(Remark.claim_pk == claim.id).order_by(Remark.id)))
    if balance is None:
        db = object_session(claim)
        balance = _balances(db, [claim.encounter_id]).get(claim.encounter_id) if db is not None else None
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
        "payer_id": claim.payer_id, "payer_sequence": claim.payer_sequence or "P",
        "prior_claim_id": claim.prior_claim_id, "status": claim.status, "hold_reasons": list(claim.hold_reasons or []),
        "warnings": list(claim.warnings or []), "frequency_code": claim.frequency_code,
        "place_of_service": claim.place_of_service, "date_of_service": claim.date_of_service.isoformat(),
        "billed": money(claim.billed), "paid": money(claim.paid),
        "patient_responsibility": money(claim.patient_responsibility),
        "patient_balance": money(balance if balance is not None else ZERO),
        "payer_claim_number": claim.payer_claim_number, "diagnoses": list(claim.diagnoses or []),
        "lines": [{"line_control_number": ln.line_control_number, "procedure": ln.procedure,
                   "modifiers": list(ln.modifiers or []), "units": ln.units, "charge": money(ln.charge),
                   "diagnosis_pointers": list(ln.diagnosis_pointers or []), "paid": money(ln.paid),
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
    balances = _balances(session, select(Claim.encounter_id).where(Claim.status == status) if status else None)
    return [claim_json(c, adjustments.get(c.id, []), remarks.get(c.id, []), balances.get(c.encounter_id, ZERO))
            for c in session.scalars(stmt)]


def export_claims(uow: UnitOfWork, status: str | None = None) -> list[dict[str, Any]]:
    """Every claim (or those in ``status``) as CONTRACT section 6."""
    with uow.transaction() as session:
        return _claims_json(session, status)


def list_claims(uow: UnitOfWork, status: str | None = None) -> list[dict[str, Any]]:
    """One summary row per claim (or per claim in ``status``), in claim order."""
    with uow.transaction() as session:
        stmt = select(Claim).order_by(Claim.id)
        if status:
            stmt = stmt.where(Claim.status == status)
        return [{"claim_id": c.claim_id, "encounter_id": c.encounter_id, "payer_id": c.payer_id,
                 "payer_sequence": c.payer_sequence or "P", "prior_claim_id": c.prior_claim_id,
                 "date_of_service": c.date_of_service.isoformat(), "status": c.status,
                 "billed": money(c.billed), "paid": money(c.paid), "hold_reasons": list(c.hold_reasons or [])}
                for c in session.scalars(stmt)]


def claim_detail(uow: UnitOfWork, claim_id: str) -> dict[str, Any]:
    """One claim as section 6 plus its status reason, submission, file and status history."""
    with uow.transaction() as session:
        claim = session.scalars(select(Claim).where(Claim.claim_id == claim_id)
                                .options(selectinload(Claim.lines))).first()
        if claim is None:
            raise NotFound(f"no claim with id {claim_id}")
        d = claim_json(claim)
        d["status_reason"] = claim.status_reason
        d["submitted_at"] = claim.submitted_at.isoformat() if claim.submitted_at else None
        d["file_id"] = claim.file_id
        d["history"] = [{"source": ev.source, "category": ev.category, "code": ev.code,
                         "date": ev.status_date.isoformat() if ev.status_date else None,
                         "description": ev.description, "file_id": ev.file_id}
                        for ev in session.scalars(select(ClaimStatusEvent).where(ClaimStatusEvent.claim_pk == claim.id)
                                                  .order_by(ClaimStatusEvent.id))]
        return d
