"""Coordination of benefits: the next payer's claim (CONTRACT section 7), as pure rules.

A claim with more than one payer is a chain of legs, P -> S -> T, each a claim of its own. These
functions decide and compute; :mod:`pipelines.usecases.cob` loads the rows and writes the results.

* **Coverage**: :func:`coverages` reads the encounter's payers in order (``payer_id``, then the
  ``secondary_*`` and ``tertiary_*`` columns); :func:`next_sequence` is the leg after a leg.
* **Next leg** (:func:`next_leg`) from a posted leg: forwarded by the payer (CLP02 19, 20, 21 or a
  crossover carrier NM1*TT, :func:`is_forwarded`) -> the next leg is ``crossed_over`` (no 837P);
  patient responsibility left and not forwarded -> build the next leg; nothing left to the patient
  (paid in full, or denied with no PR: the denial queue as today), a reversed or void leg, or no
  next coverage -> nothing.
* **What an earlier payer said** (:func:`net_adjudication`): the net of every posting of its leg
  (reversals included): AMT*D = net paid, claim-level CAS netted by group and reason, and per line
  the procedure, modifiers and units of its latest SVC, the net paid and the netted line CAS; the
  835 date is the last posting's.
* **The 837P loops** of a leg: :func:`other_payers` (2320/2330A/2330B for every other coverage:
  earlier payers with their amounts, later ones without) and :func:`line_adjudications` (one 2430
  per earlier payer on a line). Whether the lines balance is :func:`edi.x837p.model.line_balance_errors`.
* **Patient balance** (:func:`patient_balance`): the patient responsibility left by the last payer
  of the chain that adjudicated (the highest sequence with an adjudicated leg; the newest leg of it).
* **Holds on a next leg**, against its payer (:func:`next_leg_holds`): MEMBER_ID_MISSING,
  TIMELY_FILING_EXPIRED (counted from the previous payer's 835 date, :func:`next_leg_deadline`),
  ELIGIBILITY_INACTIVE, :data:`PRIOR_PAYER_REVERSED` while the previous leg stands reversed, and
  :data:`COB_UNBALANCED` when an earlier payer's amounts do not balance the lines.

Choices where the contract is silent:

* A forwarded claim gets its crossed-over next leg whatever the patient responsibility.
* A claim billed to the secondary payer lists the tertiary coverage too (2320 without amounts), as a
  primary claim lists both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from edi.x837p.model import CasAdjustment, LineAdjudication, OtherPayer, Payer, Subscriber
from pipelines.rules import filing
from pipelines.rules.lifecycle import ADJUDICATED, ClaimStatus
from pipelines.rules.money import ZERO, cents

__all__ = [
    "COB_UNBALANCED",
    "CROSSOVER_ENTITY",
    "FORWARDED_CODES",
    "NEXT_LEG_HOLD_ORDER",
    "PRIOR_PAYER_REVERSED",
    "SEQUENCES",
    "Coverage",
    "LineResult",
    "NextLeg",
    "PostedLine",
    "Posting",
    "PriorAdjudication",
    "coverages",
    "is_forwarded",
    "line_adjudications",
    "net_adjudication",
    "next_leg",
    "next_leg_deadline",
    "next_leg_holds",
    "next_sequence",
    "other_payers",
    "patient_balance",
    "subscriber_of",
]

SEQUENCES = ("P", "S", "T")
"""Payer sequences in order: primary, secondary, tertiary (SBR01)."""
_PREFIX = {"P": "", "S": "secondary_", "T": "tertiary_"}
FORWARDED_CODES = frozenset({"19", "20", "21"})
"""CLP02: processed as primary (19), secondary (20) or tertiary (21), forwarded to the next payer."""
CROSSOVER_ENTITY = "TT"
"""NM1*TT in an 835 claim: the crossover carrier the payer forwarded the claim to."""
COB_UNBALANCED = "COB_UNBALANCED"
"""Hold: an earlier payer's amounts do not balance the claim's lines, so its 2320/2430 cannot be written."""
PRIOR_PAYER_REVERSED = "PRIOR_PAYER_REVERSED"
"""The previous payer reversed its payment (CLP02 22): a warning on a next leg already sent (with a
coordination-of-benefits work item), a hold on one not sent yet while the previous leg stands reversed."""
MEMBER_ID_MISSING = "MEMBER_ID_MISSING"
TIMELY_FILING_EXPIRED = "TIMELY_FILING_EXPIRED"
ELIGIBILITY_INACTIVE = "ELIGIBILITY_INACTIVE"
NEXT_LEG_HOLD_ORDER = (MEMBER_ID_MISSING, TIMELY_FILING_EXPIRED, ELIGIBILITY_INACTIVE, PRIOR_PAYER_REVERSED,
                       COB_UNBALANCED)
"""The holds a next leg can get, in the order they are listed (CONTRACT section 5's order, then ours)."""


# ------------------------------------------------------------------------------------------------
# Coverage on the encounter
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """One payer of the encounter: its sequence, the configuration's payer id, the member id and
    the patient's relationship to the subscriber (subscriber fields None when ``self``). PHI."""

    sequence: str
    payer_key: str
    member_id: str
    relationship: str
    last_name: str | None = None
    first_name: str | None = None
    dob: date | None = None
    sex: str | None = None


def coverages(encounter: Any) -> tuple[Coverage, ...]:
    """The encounter's coverages in payer order (P, then S and T when their payer is given)."""
    out: list[Coverage] = []
    for seq in SEQUENCES:
        p = _PREFIX[seq]
        payer = getattr(encounter, p + "payer_id", None)
        if not payer:
            break
        out.append(Coverage(seq, payer, getattr(encounter, p + "member_id", None) or "",
                            getattr(encounter, p + "relationship", None) or "self",
                            getattr(encounter, p + "subscriber_last_name", None),
                            getattr(encounter, p + "subscriber_first_name", None),
                            getattr(encounter, p + "subscriber_dob", None),
                            getattr(encounter, p + "subscriber_sex", None)))
    return tuple(out)


def next_sequence(sequence: str) -> str | None:
    """The leg after ``sequence`` (P -> S -> T), None after T."""
    i = SEQUENCES.index(sequence)
    return SEQUENCES[i + 1] if i + 1 < len(SEQUENCES) else None


def subscriber_of(coverage: Coverage, patient: Subscriber) -> Subscriber:
    """The subscriber of a coverage: the patient (``patient``'s name, dob, sex, address) with the
    coverage's member id when the relationship is self, else the coverage's subscriber."""
    if coverage.relationship == "self":
        return Subscriber(patient.last_name, patient.first_name, coverage.member_id, patient.dob, patient.sex,
                          patient.address)
    return Subscriber(coverage.last_name or "", coverage.first_name or "", coverage.member_id, coverage.dob,
                      coverage.sex or "U")


# ------------------------------------------------------------------------------------------------
# The next-leg decision
# ------------------------------------------------------------------------------------------------


class NextLeg(StrEnum):
    """What a posted leg means for the next payer."""

    NONE = "none"
    BUILD = "build"                # an 837P to the next payer at the next submit
    CROSSED_OVER = "crossed_over"  # the payer forwarded it: a crossed-over leg awaits the next 835


def is_forwarded(status_code: str, name_entities: Iterable[str] = ()) -> bool:
    """Whether an 835 claim says the payer forwarded it: CLP02 19/20/21, or a crossover carrier (NM1*TT)."""
    return status_code.strip() in FORWARDED_CODES or any(e.strip() == CROSSOVER_ENTITY for e in name_entities)


def next_leg(status: ClaimStatus | str, *, patient_responsibility: Decimal, forwarded: bool,
             has_next_coverage: bool) -> NextLeg:
    """The decision for the next payer from a leg's status and net patient responsibility after posting."""
    st = ClaimStatus(status)
    if not has_next_coverage or st in (ClaimStatus.REVERSED, ClaimStatus.VOID):
        return NextLeg.NONE
    if forwarded:
        return NextLeg.CROSSED_OVER
    if st in ADJUDICATED and patient_responsibility > 0:
        return NextLeg.BUILD
    return NextLeg.NONE


# ------------------------------------------------------------------------------------------------
# What an earlier payer adjudicated
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostedLine:
    """One 835 service line of a posting: ``line_number`` of our line it matched (None: none)."""

    line_number: int | None
    procedure: str
    modifiers: tuple[str, ...]
    units: int
    paid: Decimal
    adjustments: tuple[CasAdjustment, ...] = ()


@dataclass(frozen=True)
class Posting:
    """One 835 claim posted to a leg (a reversal, CLP02 22, carries negative amounts)."""

    reversal: bool
    paid: Decimal
    adjudication_date: date | None
    adjustments: tuple[CasAdjustment, ...] = ()
    lines: tuple[PostedLine, ...] = ()


@dataclass(frozen=True)
class LineResult:
    """The net of what one payer said about one of our lines."""

    procedure: str
    modifiers: tuple[str, ...]
    units: int
    paid: Decimal
    adjustments: tuple[CasAdjustment, ...]


@dataclass(frozen=True)
class PriorAdjudication:
    """The net of every posting of one earlier leg: AMT*D, claim CAS, 835 date, and per line number."""

    sequence: str
    payer_key: str
    paid: Decimal
    adjudication_date: date | None
    adjustments: tuple[CasAdjustment, ...]
    lines: Mapping[int, LineResult]


def _net(items: Iterable[CasAdjustment]) -> tuple[CasAdjustment, ...]:
    """CAS netted by (group, reason) in first-seen order; pairs that net to zero are left out."""
    total: dict[tuple[str, str], Decimal] = {}
    for a in items:
        key = (a.group, a.reason)
        total[key] = total.get(key, ZERO) + a.amount
    return tuple(CasAdjustment(g, r, cents(v)) for (g, r), v in total.items() if cents(v) != 0)


def net_adjudication(sequence: str, payer_key: str, postings: Sequence[Posting]) -> PriorAdjudication:
    """The net of a leg's postings, in posting order (see the module docstring)."""
    by_line: dict[int, list[PostedLine]] = {}
    latest: dict[int, PostedLine] = {}
    for p in postings:
        for ln in p.lines:
            if ln.line_number is None:
                continue
            by_line.setdefault(ln.line_number, []).append(ln)
            if not p.reversal:
                latest[ln.line_number] = ln
    lines: dict[int, LineResult] = {}
    for n, posted in by_line.items():
        shape = latest.get(n, posted[-1])
        lines[n] = LineResult(shape.procedure, shape.modifiers, abs(shape.units) or 1,
                              cents(sum((ln.paid for ln in posted), ZERO)),
                              _net(a for ln in posted for a in ln.adjustments))
    dates = [p.adjudication_date for p in postings if p.adjudication_date is not None]
    return PriorAdjudication(sequence, payer_key, cents(sum((p.paid for p in postings), ZERO)),
                             dates[-1] if dates else None, _net(a for p in postings for a in p.adjustments), lines)


# ------------------------------------------------------------------------------------------------
# The 837P loops of a leg
# ------------------------------------------------------------------------------------------------


def other_payers(billed: str, coverage: Sequence[Coverage], payers: Mapping[str, Payer],
                 priors: Mapping[str, PriorAdjudication], patient: Subscriber) -> tuple[OtherPayer, ...]:
    """Loops 2320/2330A/2330B of a leg billed to sequence ``billed``: every other coverage in payer
    order; an earlier one with what it adjudicated (``priors`` by sequence), a later one without amounts
    (left out while it has no member id: 2330A cannot name its subscriber; its own leg is held for it).

    ``payers`` maps the configuration's payer id to the 837P payer; a missing one raises KeyError.
    """
    out: list[OtherPayer] = []
    for c in coverage:
        if c.sequence == billed:
            continue
        prior = priors.get(c.sequence) if SEQUENCES.index(c.sequence) < SEQUENCES.index(billed) else None
        if prior is None and not c.member_id.strip():
            continue
        out.append(OtherPayer(
            sequence=c.sequence, relationship=c.relationship, subscriber=subscriber_of(c, patient),
            payer=payers[c.payer_key], paid=prior.paid if prior else None,
            adjudication_date=prior.adjudication_date if prior else None,
            adjustments=prior.adjustments if prior else ()))
    return tuple(out)


def line_adjudications(line_number: int, priors: Sequence[PriorAdjudication],
                       payers: Mapping[str, Payer]) -> tuple[LineAdjudication, ...]:
    """The 2430s of our line ``line_number``: one per earlier payer that adjudicated it, in payer order."""
    out: list[LineAdjudication] = []
    for prior in priors:
        ln = prior.lines.get(line_number)
        if ln is None:
            continue
        out.append(LineAdjudication(payer_id=payers[prior.payer_key].payer_id, paid=ln.paid, procedure=ln.procedure,
                                    modifiers=ln.modifiers, units=ln.units,
                                    adjudication_date=prior.adjudication_date, adjustments=ln.adjustments))
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# Holds and the filing deadline of a next leg
# ------------------------------------------------------------------------------------------------


def next_leg_deadline(date_of_service: date, timely_filing_days: int, previous_payment_date: date | None) -> date:
    """The next payer's timely-filing deadline: the previous payer's 835 date (else the date of
    service) plus the next payer's ``timely_filing_days``."""
    return filing.deadline(date_of_service, timely_filing_days, previous_payment_date=previous_payment_date)


def next_leg_holds(*, member_id: str, deadline: date, as_of: date, eligibility_inactive: bool,
                   balance_errors: Sequence[str], prior_reversed: bool = False) -> tuple[str, ...]:
    """Every hold of a next leg not yet sent, against its payer, in :data:`NEXT_LEG_HOLD_ORDER`.

    ``prior_reversed``: the previous leg now stands reversed or void (its payer took its word back).
    """
    found = {
        MEMBER_ID_MISSING: not member_id.strip(),
        TIMELY_FILING_EXPIRED: filing.is_expired(deadline, as_of),
        ELIGIBILITY_INACTIVE: eligibility_inactive,
        PRIOR_PAYER_REVERSED: prior_reversed,
        COB_UNBALANCED: bool(balance_errors),
    }
    return tuple(r for r in NEXT_LEG_HOLD_ORDER if found[r])


# ------------------------------------------------------------------------------------------------
# Patient balance
# ------------------------------------------------------------------------------------------------


def patient_balance(legs: Iterable[tuple[int, str, str, Decimal]]) -> Decimal:
    """What the patient owes after the last payer of a chain that adjudicated, from the chain's legs
    as (id, payer_sequence, status, patient_responsibility); 0.00 when no leg is adjudicated."""
    done = [(SEQUENCES.index(seq), pk, pr) for pk, seq, status, pr in legs if status in ADJUDICATED]
    return cents(max(done)[2]) if done else ZERO
