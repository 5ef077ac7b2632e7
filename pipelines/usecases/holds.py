"""Why a held claim is held: :func:`explain_holds` gathers the facts behind each hold reason (the
authorization on file, the payer's visit limit and filing deadline) and words them with
:func:`pipelines.rules.holds.explain`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import Authorization, Claim
from pipelines.config import Config
from pipelines.errors import NotFound
from pipelines.rules import filing
from pipelines.rules.holds import AuthorizationFacts, HoldContext, explain
from pipelines.usecases.uow import UnitOfWork

__all__ = ["explain_holds"]


def explain_holds(config: Config, uow: UnitOfWork, claim_id: str) -> list[str]:
    """One sentence per hold reason of the claim, in the claim's order (empty when it is not held)."""
    with uow.transaction() as session:
        claim = session.scalars(select(Claim).where(Claim.claim_id == claim_id)
                                .options(selectinload(Claim.lines))).first()
        if claim is None:
            raise NotFound(f"no claim with id {claim_id}")
        reasons = list(claim.hold_reasons or [])
        if not reasons:
            return []
        auth = None
        if claim.authorization_number:
            auth = session.scalars(select(Authorization).where(
                Authorization.authorization_number == claim.authorization_number.strip(),
                Authorization.patient_id == claim.patient_id, Authorization.payer_id == claim.payer_id)).first()
        payer = config.payers.get(claim.payer_id)
        ctx = HoldContext(
            date_of_service=claim.date_of_service, payer_id=claim.payer_id,
            procedures=tuple(dict.fromkeys(ln.procedure for ln in claim.lines)),
            authorization_number=claim.authorization_number,
            authorization=AuthorizationFacts(auth.authorization_number, auth.start_date, auth.end_date,
                                             auth.visits_authorized, tuple(auth.service_codes or ()))
            if auth else None,
            visit_limit_per_year=payer.visit_limit_per_year if payer else None,
            filing_deadline=filing.deadline(claim.date_of_service, payer.timely_filing_days,
                                            previous_payment_date=claim.prior_payment_date) if payer else None)
        return [explain(r, ctx) for r in reasons]
