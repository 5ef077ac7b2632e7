"""Coordination of benefits: secondary and tertiary legs (CONTRACT section 7).

A claim with more than one payer is a chain of legs (P -> S -> T), each a claim of its own with
``payer_sequence``, ``payer_id`` (that leg's payer) and ``prior_claim_id`` (the previous leg). The
rules are :mod:`pipelines.rules.cob`; the earlier payers' amounts are loaded by
:mod:`pipelines.usecases.legs`.

Two hooks are called by the 835 poster (:mod:`pipelines.usecases.posting`), whatever its inner
shape; each costs at most one small query for a chunk without COB claims:

* :func:`route_to_legs` -- after ordinary CLP01 matching, send each 835 claim to the leg of the chain
  whose payer sent this 835 (a crossover payer's 835 may name the primary's claim id), or to
  nowhere (``None``: kept unmatched) when that leg does not exist yet.
* :func:`after_posting` -- after a chunk's claims got their new status: remember what each payer
  adjudicated for the next leg, create the crossed-over next leg of a forwarded claim at once, and
  warn about a reversal under a next leg already sent (a ``coordination_of_benefits`` work item).

:func:`create_next_legs` runs before coding at `edi claims submit` and the nightly run: it creates
the next leg of every adjudicated leg that left patient responsibility, and (re)scrubs every next
leg not yet sent against its payer (:func:`pipelines.rules.cob.next_leg_holds`).

Choices where the contract is silent:

* One leg per payer sequence per encounter: the newest adjudicated leg of a sequence is the one the
  next leg is built from; the next leg keeps the lines and charges of the previous leg, with new
  line control numbers, and carries no authorization number (the primary's is not the next payer's).
* An 835 whose payer (N1*PR N104, REF*2U or TRN03 = a ``payers[].payer_id``) is not the payer of
  the claim its CLP01 names posts to that payer's leg of the same encounter; when the encounter
  names that payer but has no such leg yet it is kept unmatched; when the encounter does not name
  that payer at all it posts to the named claim as before.
* A reversal (CLP02 22) posted on a leg whose next leg was already sent (or crossed over) puts the
  warning PRIOR_PAYER_REVERSED on the next leg and opens a work item on it (group OA, CARC 129
  "prior processing information appears incorrect", the reversed amount, category
  ``coordination_of_benefits``, action ``correct_and_resubmit``); nothing is re-sent. A next leg
  not yet sent is held PRIOR_PAYER_REVERSED while the previous leg stands reversed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from edi.x835 import ClaimPayment as Clp
from edi.x837p import line_balance_errors
from models import Claim, ClaimLine, ClaimStatusEvent, CobAdjudication, Denial, Encounter, utcnow
from pipelines.config import Config
from pipelines.logs import get_logger
from pipelines.rules import cob
from pipelines.rules.lifecycle import ADJUDICATED, UNSENT, ClaimStatus, Event, transition
from pipelines.rules.money import money
from pipelines.rules.remittance import clip_reason
from pipelines.usecases.bulk import in_list, insert_rows, is_pg
from pipelines.usecases.claims import DATA_INVALID
from pipelines.usecases.eligibility import eligibility_on_file
from pipelines.usecases.ledger import ClaimNumbers
from pipelines.usecases.legs import prior_adjudications
from pipelines.usecases.outbound import outbound_lock
from pipelines.usecases.submit import build_claim_batch

__all__ = ["REVERSAL_GROUP", "REVERSAL_REASON", "Posted", "after_posting", "create_next_legs", "route_to_legs"]

log = get_logger("edi")

REVERSAL_GROUP, REVERSAL_REASON = "OA", "129"
"""The work item a reversal opens on a next leg already sent (CARC 129: prior processing information
appears incorrect)."""
_UNSENT = sorted(s.value for s in UNSENT)
_ADJUDICATED = sorted(s.value for s in ADJUDICATED)
_NEXT = {"P": "S", "S": "T"}


@dataclass(frozen=True, slots=True)
class Posted:
    """One 835 claim as posted: the CLP, our claim's pk, each 835 line's matched line pk (or None),
    the ClaimPayment row id and the claim's status after the posting."""

    clp: Clp
    claim_pk: int
    line_pks: tuple[int | None, ...]
    payment_id: int
    status: ClaimStatus


@dataclass(frozen=True)
class _Leg:
    """A leg whose encounter names other coverage, and the payer of its next leg (None: the last)."""

    pk: int
    claim_id: str
    payer_sequence: str
    encounter_id: str
    next_payer: str | None


def _next_payer(sequence: str, secondary: str | None, tertiary: str | None) -> str | None:
    return {"P": secondary, "S": tertiary}.get(sequence)


def _cob_legs(session: Session, pks: Sequence[int]) -> dict[int, _Leg]:
    """The legs among ``pks`` whose encounter names a secondary payer (one query)."""
    if not pks:
        return {}
    rows = session.execute(
        select(Claim.id, Claim.claim_id, Claim.payer_sequence, Claim.encounter_id, Encounter.secondary_payer_id,
               Encounter.tertiary_payer_id)
        .join(Encounter, Encounter.encounter_id == Claim.encounter_id)
        .where(in_list(Claim.id, sorted(set(pks)), is_pg(session)), Encounter.secondary_payer_id.is_not(None)))
    return {r.id: _Leg(r.id, r.claim_id, r.payer_sequence, r.encounter_id,
                       _next_payer(r.payer_sequence, r.secondary_payer_id, r.tertiary_payer_id)) for r in rows}


# ------------------------------------------------------------------------------------------------
# Posting hooks
# ------------------------------------------------------------------------------------------------


def route_to_legs(session: Session, config: Config, payer_ids: Sequence[str],
                  found: Mapping[str, int]) -> dict[str, int | None]:
    """CLP01 -> the pk of the claim leg this 835 posts to (``None``: keep it unmatched).

    ``payer_ids`` are the 835's identifications of its payer (N1*PR N104, REF*2U, TRN03), matched
    against ``payers[].payer_id``; ``found`` is what ordinary matching found for each CLP01.
    """
    ids = set(payer_ids)
    keys = sorted(p.id for p in config.payers.values() if p.payer_id in ids)
    if not keys or not found:
        return dict(found)
    pg = is_pg(session)
    elsewhere: dict[int, str] = {pk: e for pk, e in session.execute(select(Claim.id, Claim.encounter_id).where(
        in_list(Claim.id, sorted(set(found.values())), pg), Claim.payer_id.notin_(keys)))}
    if not elsewhere:
        return dict(found)
    encounters = sorted(set(elsewhere.values()))
    leg_of: dict[str, int] = {}
    for pk, encounter_id in session.execute(
            select(Claim.id, Claim.encounter_id)
            .where(in_list(Claim.encounter_id, encounters, pg), Claim.payer_id.in_(keys),
                   Claim.status.notin_(_UNSENT)).order_by(Claim.id)):
        leg_of[encounter_id] = pk  # the newest leg of that payer
    names_payer = {e for e, s, t in session.execute(
        select(Encounter.encounter_id, Encounter.secondary_payer_id, Encounter.tertiary_payer_id)
        .where(in_list(Encounter.encounter_id, encounters, pg))) if s in keys or t in keys}
    out: dict[str, int | None] = dict(found)
    for clp01, pk in found.items():
        where = elsewhere.get(pk)
        if where is None:
            continue
        if where in leg_of:
            out[clp01] = leg_of[where]
        elif where in names_payer:
            out[clp01] = None
            log.info("payment_awaits_leg", claim_id=clp01)
    return out


def _line_json(clp: Clp, line_pks: Sequence[int | None]) -> list[dict[str, Any]]:
    return [{"line_pk": pk, "procedure": svc.procedure, "modifiers": list(svc.modifiers),
             "units": int(abs(svc.units)) or 1, "paid": money(svc.paid)}
            for svc, pk in zip(clp.lines, line_pks, strict=True)]


def after_posting(session: Session, config: Config, posted: Sequence[Posted], *,
                  payment_date: date | None, now: datetime) -> Counter[str]:
    """Record what matters for the next payer after a chunk was posted; returns counts."""
    counts: Counter[str] = Counter()
    legs = _cob_legs(session, [p.claim_pk for p in posted])
    if not legs:
        return counts
    adjudicated_on = payment_date or now.date()
    rows: list[dict[str, Any]] = []
    forwarded: dict[int, _Leg] = {}
    reversed_: list[tuple[_Leg, Posted]] = []
    for p in posted:
        leg = legs.get(p.claim_pk)
        if leg is None:
            continue
        if p.clp.is_reversal:
            reversed_.append((leg, p))
        if leg.next_payer is None:
            continue
        fwd = cob.is_forwarded(p.clp.status_code, (n.entity_code for n in p.clp.other_names))
        rows.append({"claim_payment_id": p.payment_id, "claim_pk": p.claim_pk, "forwarded": fwd,
                     "adjudication_date": adjudicated_on, "lines": _line_json(p.clp, p.line_pks), "created_at": now})
        if fwd and cob.next_leg(p.status, patient_responsibility=p.clp.patient_responsibility, forwarded=True,
                                has_next_coverage=True) is cob.NextLeg.CROSSED_OVER:
            forwarded[leg.pk] = leg
    insert_rows(session, CobAdjudication, rows)
    counts["cob_adjudications"] += len(rows)
    if forwarded:
        counts["legs_crossed_over"] += _cross_over(session, config, list(forwarded.values()), adjudicated_on, now)
    if reversed_:
        counts["cob_reversal_warnings"] += _warn_reversed(session, reversed_, now)
    return counts


def _cross_over(session: Session, config: Config, legs: Sequence[_Leg], adjudicated_on: date, now: datetime) -> int:
    """A crossed-over next leg for each forwarded leg that has none yet."""
    have = {(e, s) for e, s in session.execute(
        select(Claim.encounter_id, Claim.payer_sequence).where(
            in_list(Claim.encounter_id, sorted({leg.encounter_id for leg in legs}), is_pg(session))))}
    todo = list({leg.encounter_id: leg for leg in legs  # one next leg per encounter: from the last one posted
                 if (leg.encounter_id, _NEXT[leg.payer_sequence]) not in have}.values())
    sources = _load_sources(session, [leg.pk for leg in todo])
    made = _insert_legs(session, config, [(sources[leg.pk], leg.next_payer or "", adjudicated_on) for leg in todo],
                        Event.CROSSED_OVER, now)
    for claim in made:
        log.info("claim_crossed_over", claim_id=claim.claim_id, prior_claim_id=claim.prior_claim_id)
    return len(made)


def _warn_reversed(session: Session, reversed_: Sequence[tuple[_Leg, Posted]], now: datetime) -> int:
    """Warn each next leg already sent (or crossed over) whose previous leg was reversed, and open a
    coordination-of-benefits work item on it."""
    by_prior = {leg.claim_id: p for leg, p in reversed_}
    nexts = list(session.scalars(select(Claim).where(
        in_list(Claim.prior_claim_id, sorted(by_prior), is_pg(session)), Claim.status.notin_(_UNSENT))))
    for claim in nexts:
        p = by_prior[claim.prior_claim_id or ""]
        if cob.PRIOR_PAYER_REVERSED not in (claim.warnings or []):
            claim.warnings = [*(claim.warnings or []), cob.PRIOR_PAYER_REVERSED]
        claim.updated_at = now
        session.add(Denial(claim_pk=claim.id, group=REVERSAL_GROUP, reason=REVERSAL_REASON, remarks=[],
                           amount=abs(p.clp.paid), category="coordination_of_benefits", action="correct_and_resubmit",
                           state="open", created_at=now, updated_at=now,
                           note=f"the previous payer reversed its payment on claim {claim.prior_claim_id}; "
                                "correct this claim's other-payer amounts and resubmit it"))
        session.add(ClaimStatusEvent(claim_pk=claim.id, source="edi", code="22",
                                     description=f"previous payer reversed claim {claim.prior_claim_id}"))
        log.warning("prior_payer_reversed", claim_id=claim.claim_id, prior_claim_id=claim.prior_claim_id)
    session.flush()
    return len(nexts)


# ------------------------------------------------------------------------------------------------
# Creating legs
# ------------------------------------------------------------------------------------------------


def _load_sources(session: Session, pks: Sequence[int]) -> dict[int, Claim]:
    if not pks:
        return {}
    return {c.id: c for c in session.scalars(select(Claim).where(in_list(Claim.id, sorted(set(pks)), is_pg(session)))
                                             .options(selectinload(Claim.lines)))}


def _insert_legs(session: Session, config: Config, specs: Sequence[tuple[Claim, str, date | None]], event: Event,
                 now: datetime) -> list[Claim]:
    """New legs after ``specs`` (previous leg, next payer, previous payer's 835 date): the previous
    leg's lines and charges, new CLM01 and line control numbers, status after ``event``."""
    if not specs:
        return []
    numbers = ClaimNumbers(session, config.clearinghouse.submitter_id, len(specs), sum(len(c.lines) for c, _, _ in specs))
    made: list[Claim] = []
    for prev, payer, prior_date in specs:
        claim_id = numbers.claim_id()
        made.append(Claim(
            claim_id=claim_id, encounter_id=prev.encounter_id, patient_id=prev.patient_id, payer_id=payer,
            status=transition(None, event, claim_id=claim_id).value, hold_reasons=[], warnings=[],
            frequency_code="1", place_of_service=prev.place_of_service, date_of_service=prev.date_of_service,
            diagnoses=list(prev.diagnoses or []), authorization_number=None, billed=prev.billed,
            payer_sequence=_NEXT[prev.payer_sequence], prior_claim_id=prev.claim_id, prior_payment_date=prior_date,
            created_at=now, updated_at=now,
            lines=[ClaimLine(line_number=ln.line_number, line_control_number=numbers.line_control_number(),
                             procedure=ln.procedure, modifiers=list(ln.modifiers or []), units=ln.units,
                             charge=ln.charge, diagnosis_pointers=list(ln.diagnosis_pointers or []))
                   for ln in prev.lines]))
    session.add_all(made)
    session.flush()
    return made


def _candidates(session: Session) -> list[Any]:
    """Adjudicated legs that left the patient something or were forwarded, whose encounter names a
    next payer and has no leg of the next sequence yet."""
    c, n = Claim, aliased(Claim)

    def no_leg(seq: str) -> Any:
        return ~exists().where(n.encounter_id == c.encounter_id, n.payer_sequence == seq)

    forwarded = exists().where(CobAdjudication.claim_pk == c.id, CobAdjudication.forwarded.is_(True))
    newer = exists().where(n.encounter_id == c.encounter_id, n.payer_sequence == c.payer_sequence, n.id > c.id,
                           n.status.in_(_ADJUDICATED))  # a replacement adjudicated since
    return list(session.execute(
        select(c.id, c.claim_id, c.payer_sequence, c.status, c.patient_responsibility, c.encounter_id,
               Encounter.secondary_payer_id, Encounter.tertiary_payer_id)
        .join(Encounter, Encounter.encounter_id == c.encounter_id)
        .where(Encounter.secondary_payer_id.is_not(None), c.status.in_(_ADJUDICATED),
               or_(c.patient_responsibility > 0, forwarded), ~newer,
               or_(and_(c.payer_sequence == "P", no_leg("S")),
                   and_(c.payer_sequence == "S", Encounter.tertiary_payer_id.is_not(None), no_leg("T"))))
        .order_by(c.id)).all())


def _new_legs(config: Config, session: Session, now: datetime) -> Counter[str]:
    """The next leg of every adjudicated leg that calls for one (built: ready, to be scrubbed next;
    forwarded: crossed over)."""
    counts: Counter[str] = Counter()
    newest = {(row.encounter_id, row.payer_sequence): row for row in _candidates(session)}
    if not newest:
        return counts
    facts: dict[int, tuple[bool, date | None]] = {}
    for pk, fwd, adjudicated_on in session.execute(
            select(CobAdjudication.claim_pk, CobAdjudication.forwarded, CobAdjudication.adjudication_date)
            .where(in_list(CobAdjudication.claim_pk, [r.id for r in newest.values()], is_pg(session)))
            .order_by(CobAdjudication.id)):
        was_fwd, _ = facts.get(pk, (False, None))
        facts[pk] = (was_fwd or fwd, adjudicated_on)
    plan: dict[Event, list[tuple[int, str, date | None]]] = {Event.CODED_READY: [], Event.CROSSED_OVER: []}
    for row in newest.values():
        fwd, adjudicated_on = facts.get(row.id, (False, None))
        decision = cob.next_leg(row.status, patient_responsibility=row.patient_responsibility, forwarded=fwd,
                                has_next_coverage=True)
        payer = _next_payer(row.payer_sequence, row.secondary_payer_id, row.tertiary_payer_id) or ""
        if decision is cob.NextLeg.BUILD:
            plan[Event.CODED_READY].append((row.id, payer, adjudicated_on))
        elif decision is cob.NextLeg.CROSSED_OVER:
            plan[Event.CROSSED_OVER].append((row.id, payer, adjudicated_on))
    sources = _load_sources(session, [pk for specs in plan.values() for pk, _, _ in specs])
    for event, specs in plan.items():
        made = _insert_legs(session, config, [(sources[pk], payer, d) for pk, payer, d in specs], event, now)
        counts["next_legs_created" if event is Event.CODED_READY else "legs_crossed_over"] += len(made)
    return counts


# ------------------------------------------------------------------------------------------------
# Scrubbing next legs
# ------------------------------------------------------------------------------------------------


def _balance(config: Config, claim: Claim, encounter: Encounter,
             priors: Mapping[str, Sequence[cob.PriorAdjudication]]) -> list[str]:
    """What does not balance in the leg's 837P (the builder's rule); a claim that cannot be built at
    all (payer or coverage no longer configured) raises KeyError."""
    batch = build_claim_batch(config, [claim], {encounter.encounter_id: encounter}, batch_reference="CHECK",
                              priors=priors)
    return line_balance_errors(batch.claims[0])


def _scrub_next_legs(config: Config, session: Session, *, as_of: date, now: datetime) -> Counter[str]:
    """Every secondary and tertiary leg not yet sent, held or ready against its own payer."""
    counts: Counter[str] = Counter()
    claims = list(session.scalars(select(Claim).where(Claim.payer_sequence != "P", Claim.status.in_(_UNSENT))
                                  .order_by(Claim.id).options(selectinload(Claim.lines))))
    if not claims:
        return counts
    pg = is_pg(session)
    encounters = {e.encounter_id: e for e in session.scalars(select(Encounter).where(
        in_list(Encounter.encounter_id, sorted({c.encounter_id for c in claims}), pg)))}
    prior_status: dict[str, str] = {cid: st for cid, st in session.execute(select(Claim.claim_id, Claim.status).where(
        in_list(Claim.claim_id, sorted({c.prior_claim_id for c in claims if c.prior_claim_id}), pg)))}
    eligibility = eligibility_on_file(session, sorted({c.patient_id for c in claims}))
    priors = prior_adjudications(session, claims)
    for claim in claims:
        enc = encounters.get(claim.encounter_id)
        coverage = next((c for c in cob.coverages(enc) if c.sequence == claim.payer_sequence), None) if enc else None
        if coverage is not None and coverage.payer_key != claim.payer_id:  # the practice changed that payer
            claim.payer_id = coverage.payer_key
        holds, reason = _holds(config, claim, enc, priors,
                               prior_status.get(claim.prior_claim_id or ""), eligibility, as_of)
        status = transition(claim.status, Event.CODED_HELD if holds else Event.CODED_READY, claim_id=claim.claim_id)
        if (status.value, list(holds), reason) != (claim.status, list(claim.hold_reasons or []), claim.status_reason):
            claim.status, claim.hold_reasons, claim.status_reason, claim.updated_at = (
                status.value, list(holds), reason, now)
        counts["next_legs_held" if holds else "next_legs_ready"] += 1
        for r in holds:
            counts[f"hold_{r}"] += 1
    session.flush()
    return counts


def _holds(config: Config, claim: Claim, encounter: Encounter | None,
           priors: Mapping[str, Sequence[cob.PriorAdjudication]], prior_status: str | None,
           eligibility: Mapping[tuple[str, str], Any], as_of: date) -> tuple[tuple[str, ...], str | None]:
    """The holds of one next leg and its status reason (what does not balance, or why it cannot be built)."""
    payer = config.payers.get(claim.payer_id)
    coverage = next((c for c in cob.coverages(encounter) if c.sequence == claim.payer_sequence), None) \
        if encounter is not None else None
    if payer is None or coverage is None or encounter is None:
        return (DATA_INVALID,), f"payer {claim.payer_id} is no longer configured or no longer on the encounter"
    prior_reversed = prior_status in (ClaimStatus.REVERSED, ClaimStatus.VOID)
    try:  # a reversed previous leg nets to nothing: its amounts are not checked until it is paid again
        errors = [] if prior_reversed else _balance(config, claim, encounter, priors)
    except KeyError as exc:
        return (DATA_INVALID,), clip_reason(str(exc).strip("'\""))
    on_file = eligibility.get((claim.patient_id, claim.payer_id))
    holds = cob.next_leg_holds(
        member_id=coverage.member_id,
        deadline=cob.next_leg_deadline(claim.date_of_service, payer.timely_filing_days, claim.prior_payment_date),
        as_of=as_of, eligibility_inactive=bool(on_file is not None and on_file.inactive_on(claim.date_of_service)),
        balance_errors=errors, prior_reversed=prior_reversed)
    return holds, clip_reason("; ".join(errors)) if errors else None


# ------------------------------------------------------------------------------------------------
# The use case
# ------------------------------------------------------------------------------------------------


def create_next_legs(config: Config, session: Session, *, as_of: date) -> dict[str, Any]:
    """Create the next payer's leg of every adjudicated leg that calls for one, then scrub every
    secondary and tertiary leg not yet sent (runs in the caller's transaction, one worker at a time:
    :func:`pipelines.usecases.outbound.outbound_lock`; returns counts)."""
    outbound_lock(session, "837P")
    now = utcnow()
    counts = _new_legs(config, session, now)
    counts.update(_scrub_next_legs(config, session, as_of=as_of, now=now))
    out = {k: v for k, v in sorted(counts.items()) if v}
    if out:
        log.info("next_legs", **out)
    return out
