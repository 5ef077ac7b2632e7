"""Why a claim is held, in words a biller acts on: :func:`explain` turns a hold reason (CONTRACT
section 5) and what is known about the claim (:class:`HoldContext`) into one sentence.

AUTH_* holds name the authorization and its dates, visits and services; VISIT_LIMIT_REACHED names the
payer's yearly limit; TIMELY_FILING_EXPIRED the deadline; the others say what the reason means and
what to fix. Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

__all__ = ["MEANINGS", "AuthorizationFacts", "HoldContext", "explain"]


@dataclass(frozen=True)
class AuthorizationFacts:
    """The authorization on file that the claim's authorization number names."""

    number: str
    start_date: date
    end_date: date
    visits_authorized: int
    service_codes: Sequence[str] = ()
    visits_used: int | None = None


@dataclass(frozen=True)
class HoldContext:
    """What :func:`explain` may mention; anything unknown is left None."""

    date_of_service: date | None = None
    payer_id: str | None = None
    procedures: Sequence[str] = field(default_factory=tuple)
    authorization_number: str | None = None
    authorization: AuthorizationFacts | None = None
    visit_limit_per_year: int | None = None
    filing_deadline: date | None = None


MEANINGS: dict[str, str] = {
    "DX_INVALID": "a diagnosis is not a billable ICD-10-CM code; correct the diagnosis in the encounter",
    "DX_NOT_SUPPORTING": "no diagnosis supports the service billed; add a diagnosis that does",
    "DX_EXCLUDES1": "two diagnoses may not be billed together (ICD-10-CM Excludes1); keep the one that applies",
    "TIME_BELOW_MINIMUM": "the session is shorter than the shortest time the service code allows",
    "FEE_MISSING": "the fee schedule has no price for a service billed; add it to [fees] in the configuration",
    "MEMBER_ID_MISSING": "the patient has no member id for this payer; add it to the encounter",
    "NPI_INVALID": "the rendering provider's NPI fails the check digit; correct it",
    "AUTH_MISSING": "the payer requires a prior authorization for this service and none is on file",
    "AUTH_EXPIRED": "the date of service is outside the authorization's dates",
    "AUTH_NOT_FOR_SERVICE": "the authorization does not cover the service billed",
    "AUTH_EXHAUSTED": "every visit the authorization allows is already used",
    "VISIT_LIMIT_REACHED": "the patient has reached the payer's yearly visit limit",
    "CODE_CONFLICT": "an evaluation (90791/90792) and psychotherapy were billed for the same patient and day",
    "DUPLICATE_SESSION": "another individual psychotherapy session was billed for the same patient and day",
    "TIMELY_FILING_EXPIRED": "the payer's timely-filing deadline has passed",
    "ELIGIBILITY_INACTIVE": "the payer reports the patient's coverage inactive on the date of service",
    "COB_UNBALANCED": "an earlier payer's amounts on this secondary/tertiary claim do not add up to the line "
                      "charges (charge = paid + adjustments), so its other-payer loops cannot be sent; review that "
                      "payer's 835 (a correction or reversal may be on its way)",
    "PRIOR_PAYER_REVERSED": "the previous payer reversed its payment; wait for its corrected 835 before billing "
                            "this payer",
}


def _auth_words(auth: AuthorizationFacts) -> str:
    used = f", {auth.visits_used} used" if auth.visits_used is not None else ""
    services = f", for {', '.join(auth.service_codes)}" if auth.service_codes else ""
    return (f"authorization {auth.number} ({auth.start_date} to {auth.end_date}, "
            f"{auth.visits_authorized} visits{used}{services})")


def _auth_explanation(reason: str, ctx: HoldContext) -> str | None:
    auth = ctx.authorization
    services = ", ".join(ctx.procedures) or "the service"
    if reason == "AUTH_MISSING":
        given = (f"; authorization {ctx.authorization_number} is not on file for this patient and payer"
                 if ctx.authorization_number else "; the encounter gives no authorization number")
        return f"{ctx.payer_id or 'the payer'} requires a prior authorization for {services}{given}"
    if auth is None:
        return None
    if reason == "AUTH_EXPIRED":
        return f"date of service {ctx.date_of_service or '?'} is outside {_auth_words(auth)}"
    if reason == "AUTH_NOT_FOR_SERVICE":
        return f"{_auth_words(auth)} does not cover {services}"
    if reason == "AUTH_EXHAUSTED":
        return f"all {auth.visits_authorized} visits of {_auth_words(auth)} are used"
    return None


def explain(reason: str, ctx: HoldContext | None = None) -> str:
    """One sentence: the reason with the facts behind it when known, else what the reason means."""
    ctx = ctx or HoldContext()
    specific: str | None = None
    if reason.startswith("AUTH_"):
        specific = _auth_explanation(reason, ctx)
    elif reason == "VISIT_LIMIT_REACHED" and ctx.visit_limit_per_year:
        year = f" in {ctx.date_of_service.year}" if ctx.date_of_service else ""
        specific = (f"the patient has used all {ctx.visit_limit_per_year} visits {ctx.payer_id or 'the payer'} "
                    f"allows per year{year}")
    elif reason == "TIMELY_FILING_EXPIRED" and ctx.filing_deadline:
        specific = f"the timely-filing deadline {ctx.filing_deadline} has passed"
    if specific is None:
        specific = MEANINGS.get(reason, "no description is known for this reason")
    return f"{reason}: {specific}"
