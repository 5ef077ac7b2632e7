"""Claims at risk of missing their timely-filing deadline (CONTRACT section 8), one query for both
``edi claims list --at-risk`` (:func:`at_risk_claims`) and the report's ``at_risk`` section
(:func:`select_at_risk` inside the report's session); the rule itself is :mod:`pipelines.rules.filing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from models import Claim, Denial
from pipelines.config import Config
from pipelines.rules import filing
from pipelines.rules.lifecycle import ClaimStatus
from pipelines.rules.money import money
from pipelines.usecases.uow import UnitOfWork

__all__ = ["AtRisk", "at_risk_claims", "count_at_risk", "select_at_risk"]


@dataclass
class AtRisk:
    """Per payer: how many claims and dollars are at risk; and the claims, soonest deadline first."""

    within_days: int
    by_payer: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)


def select_at_risk(session: Session, config: Config, *, as_of: date, within_days: int = filing.DEFAULT_WITHIN_DAYS,
                   limit_per_payer: int | None = None) -> AtRisk:
    """The at-risk claims as of ``as_of``: not adjudicated (held, ready, rejected, or denied with an
    open correct-and-resubmit item) with a deadline from ``as_of`` to ``as_of + within_days``.

    The deadline counts from the date of service, or for a next-payer leg from the previous payer's
    835 date (``prior_payment_date``, CONTRACT section 8)."""
    awaiting_correction = exists().where(Denial.claim_pk == Claim.id, Denial.state == "open",
                                         Denial.action == "correct_and_resubmit")
    denied = ClaimStatus.DENIED.value
    status_ok = or_(Claim.status.in_(sorted(s.value for s in filing.AT_RISK_STATUSES if s.value != denied)),
                    and_(Claim.status == denied, awaiting_correction))
    result = AtRisk(within_days)
    start = func.coalesce(Claim.prior_payment_date, Claim.date_of_service)  # when the filing clock started
    for payer in sorted(config.payers.values(), key=lambda p: p.id):
        first, last = filing.service_window(as_of, payer.timely_filing_days, within_days=within_days)
        cond = and_(Claim.payer_id == payer.id, status_ok, start.between(first, last))
        n, amt = session.execute(select(func.count(Claim.id), func.sum(Claim.billed)).where(cond)).one()
        if not n:
            continue
        result.by_payer.append({"payer_id": payer.id, "name": payer.name, "claims": n, "dollars": money(amt)})
        stmt = (select(Claim.claim_id, Claim.status, Claim.date_of_service, Claim.billed, Claim.hold_reasons,
                       Claim.prior_payment_date)
                .where(cond).order_by(start, Claim.claim_id))
        for cid, status, dos, billed, holds, prior_date in session.execute(
                stmt if limit_per_payer is None else stmt.limit(limit_per_payer)):
            due = filing.deadline(dos, payer.timely_filing_days, previous_payment_date=prior_date)
            result.claims.append({"claim_id": cid, "payer_id": payer.id, "status": status,
                                  "date_of_service": dos.isoformat(), "deadline": due.isoformat(),
                                  "days_left": filing.days_left(due, as_of), "billed": money(billed),
                                  "hold_reasons": list(holds or [])})
    result.claims.sort(key=lambda c: (c["deadline"], c["claim_id"]))
    return result


def at_risk_claims(config: Config, uow: UnitOfWork, *, as_of: date,
                   within_days: int = filing.DEFAULT_WITHIN_DAYS) -> list[dict[str, Any]]:
    """Every at-risk claim, soonest deadline first (``edi claims list --at-risk``)."""
    if within_days < 0:
        raise ValueError(f"within_days must be 0 or more, got {within_days}")
    with uow.transaction() as session:
        return select_at_risk(session, config, as_of=as_of, within_days=within_days).claims


def count_at_risk(config: Config, uow: UnitOfWork, *, as_of: date, within_days: int = 7) -> int:
    """How many claims are within ``within_days`` of their deadline (the nightly run's summary)."""
    with uow.transaction() as session:
        sel = select_at_risk(session, config, as_of=as_of, within_days=within_days, limit_per_payer=0)
        return sum(p["claims"] for p in sel.by_payer)
