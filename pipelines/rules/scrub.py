"""Scrubbing: every reason a coded claim must be held before it is sent (CONTRACT.md section 5).

Pure functions over frozen dataclasses; no database. :func:`scrub` takes the newly coded claims
and the encounters already submitted (``history``) and returns, for each new encounter, all its
hold reasons in :data:`HOLD_ORDER`: the coding holds first (DX_INVALID, DX_NOT_SUPPORTING,
DX_EXCLUDES1, TIME_BELOW_MINIMUM, FEE_MISSING), then the table of section 5 in its order.

Cross-encounter rules (AUTH_EXHAUSTED, VISIT_LIMIT_REACHED, CODE_CONFLICT, DUPLICATE_SESSION)
count new and history encounters alike, held or not, ordered by date of service then
encounter_id; only new encounters are ever held. A history encounter with the id of a new one is
ignored (the new one replaces it). A long run of claims can be scrubbed in chunks with one
:class:`Tally` (see there): the holds are the same as in one call. Choices where the contract is silent:

* AUTH_EXHAUSTED counts, per authorization number, the encounters that carry the number, belong
  to the authorization's patient and payer, and have a line whose code is in their payer's
  ``auth_required``.
* CODE_CONFLICT pairs an encounter billed 90791/90792 with another encounter billed a
  psychotherapy code as section 5 counts them (90832-90838, 90846, 90847, 90849, 90853), same
  patient, date of service and rendering NPI; both are held.
* DUPLICATE_SESSION: two different encounters billed 90832/90834/90837, same patient, date and
  rendering NPI; both are held.
* ELIGIBILITY_INACTIVE uses the eligibility on file for the patient and payer (``payer_id`` is the
  configuration's payer id), as :func:`pipelines.rules.eligibility.on_file` chooses it (the newest
  271 that states coverage). No 271 on file: no hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from pipelines.rules.coding import CODING_HOLD_ORDER, PSYCHOTHERAPY_CODES, CodedClaim, PayerRules, Session
from pipelines.rules.eligibility import Coverage
from pipelines.rules.npi import is_valid_npi

__all__ = [
    "AUTH_EXHAUSTED",
    "AUTH_EXPIRED",
    "AUTH_MISSING",
    "AUTH_NOT_FOR_SERVICE",
    "CODE_CONFLICT",
    "DUPLICATE_SESSION",
    "ELIGIBILITY_INACTIVE",
    "HOLD_ORDER",
    "MEMBER_ID_MISSING",
    "NPI_INVALID",
    "TIMELY_FILING_EXPIRED",
    "VISIT_LIMIT_REACHED",
    "Authorization",
    "Tally",
    "scrub",
]

MEMBER_ID_MISSING = "MEMBER_ID_MISSING"
NPI_INVALID = "NPI_INVALID"
AUTH_MISSING = "AUTH_MISSING"
AUTH_EXPIRED = "AUTH_EXPIRED"
AUTH_NOT_FOR_SERVICE = "AUTH_NOT_FOR_SERVICE"
AUTH_EXHAUSTED = "AUTH_EXHAUSTED"
VISIT_LIMIT_REACHED = "VISIT_LIMIT_REACHED"
CODE_CONFLICT = "CODE_CONFLICT"
DUPLICATE_SESSION = "DUPLICATE_SESSION"
TIMELY_FILING_EXPIRED = "TIMELY_FILING_EXPIRED"
ELIGIBILITY_INACTIVE = "ELIGIBILITY_INACTIVE"

HOLD_ORDER: tuple[str, ...] = CODING_HOLD_ORDER + (
    MEMBER_ID_MISSING,
    NPI_INVALID,
    AUTH_MISSING,
    AUTH_EXPIRED,
    AUTH_NOT_FOR_SERVICE,
    AUTH_EXHAUSTED,
    VISIT_LIMIT_REACHED,
    CODE_CONFLICT,
    DUPLICATE_SESSION,
    TIMELY_FILING_EXPIRED,
    ELIGIBILITY_INACTIVE,
)

_EVALUATION_CODES = frozenset({"90791", "90792"})
_valid_npi = lru_cache(maxsize=4096)(is_valid_npi)  # a practice has a few clinicians and many claims
_TIMED_INDIVIDUAL_CODES = frozenset({"90832", "90834", "90837"})


@dataclass(frozen=True)
class Authorization:
    """A prior authorization on file; empty ``service_codes`` means it covers every code."""

    number: str
    patient_id: str
    payer_id: str
    start_date: date
    end_date: date
    visits_authorized: int
    service_codes: frozenset[str] = frozenset()


@dataclass
class Tally:
    """The new claims the limit rules (AUTH_EXHAUSTED, VISIT_LIMIT_REACHED) counted in earlier calls
    of :func:`scrub`, per authorization and per patient/payer/year.

    To scrub a long run of claims in chunks, pass the same Tally to every call and give the chunks in
    date-of-service order (a date is never split between chunks), each with the history of its
    patients up to its last date: each limit then counts on after the new claims of the chunks before,
    and the holds are those of one call over all.
    """

    authorizations: dict[object, int] = field(default_factory=dict)
    visits: dict[object, int] = field(default_factory=dict)


class _Entry(NamedTuple):  # a tuple: one is made per claim and per history encounter of every scrub
    session: Session
    claim: CodedClaim
    is_new: bool

    @property
    def order(self) -> tuple[date, str]:
        return (self.session.date_of_service, self.session.encounter_id)


def _auth_codes(entry: _Entry, payers: Mapping[str, PayerRules]) -> frozenset[str]:
    payer = payers.get(entry.session.payer_id)
    return entry.claim.procedures & payer.auth_required if payer else frozenset()


def _authorization_for(entry: _Entry, authorizations: Mapping[str, Authorization]) -> Authorization | None:
    number = (entry.session.authorization_number or "").strip()
    auth = authorizations.get(number) if number else None
    if auth is None or auth.patient_id != entry.session.patient_id or auth.payer_id != entry.session.payer_id:
        return None
    return auth


def _hold_past_limit(
    entries: Iterable[_Entry], group_of: Callable[[_Entry], tuple[object, int] | None],
    counted: dict[object, int] | None = None,
) -> set[str]:
    """Ids of new entries past their group's limit, counting each group in date/id order.

    ``group_of`` gives an entry's (group, limit), or None when the entry does not count. ``counted``
    holds each group's new entries of earlier chunks (all dated before these); it is brought up to date.
    """
    groups: dict[object, list[_Entry]] = defaultdict(list)
    limits: dict[object, int] = {}
    for entry in entries:
        found = group_of(entry)
        if found is not None:
            groups[found[0]].append(entry)
            limits[found[0]] = found[1]
    held: set[str] = set()
    for group, members in groups.items():
        before = counted.get(group, 0) if counted is not None else 0
        for position, entry in enumerate(sorted(members, key=lambda e: e.order), before):
            if position >= limits[group] and entry.is_new:
                held.add(entry.session.encounter_id)
        if counted is not None:
            counted[group] = before + sum(1 for entry in members if entry.is_new)
    return held


def _same_day_clinician(entry: _Entry) -> tuple[str, date, str]:
    s = entry.session
    return (s.patient_id, s.date_of_service, s.rendering_npi)


def _conflicts(entries: Sequence[_Entry]) -> tuple[set[str], set[str]]:
    """Ids of new entries held CODE_CONFLICT and DUPLICATE_SESSION."""
    groups: dict[tuple[str, date, str], list[_Entry]] = defaultdict(list)
    for entry in entries:
        groups[_same_day_clinician(entry)].append(entry)
    conflict: set[str] = set()
    duplicate: set[str] = set()
    for members in groups.values():
        if len(members) == 1:  # most sessions: nothing on the same day with the same clinician
            continue
        evaluations = [e for e in members if e.claim.procedures & _EVALUATION_CODES]
        therapies = [e for e in members if e.claim.procedures & PSYCHOTHERAPY_CODES]
        for evaluation in evaluations:
            for therapy in therapies:
                if evaluation is not therapy:
                    conflict.update(e.session.encounter_id for e in (evaluation, therapy) if e.is_new)
        timed = [e for e in members if e.claim.procedures & _TIMED_INDIVIDUAL_CODES]
        if len(timed) > 1:
            duplicate.update(e.session.encounter_id for e in timed if e.is_new)
    return conflict, duplicate


def _auth_reasons(entry: _Entry, payers: Mapping[str, PayerRules],
                  authorizations: Mapping[str, Authorization]) -> set[str]:
    """AUTH_MISSING, AUTH_EXPIRED, AUTH_NOT_FOR_SERVICE for one claim."""
    needs_auth = _auth_codes(entry, payers)
    if not needs_auth:
        return set()
    auth = _authorization_for(entry, authorizations)
    if auth is None:
        return {AUTH_MISSING}
    reasons = set()
    if not auth.start_date <= entry.session.date_of_service <= auth.end_date:
        reasons.add(AUTH_EXPIRED)
    if auth.service_codes and not needs_auth <= auth.service_codes:
        reasons.add(AUTH_NOT_FOR_SERVICE)
    return reasons


def _cross_encounter_holds(everything: Sequence[_Entry], payers: Mapping[str, PayerRules],
                           authorizations: Mapping[str, Authorization], tally: Tally | None) -> dict[str, set[str]]:
    """Ids of the new entries held by each cross-encounter rule, keyed by hold reason."""

    def auth_group(entry: _Entry) -> tuple[object, int] | None:
        auth = _authorization_for(entry, authorizations)
        if auth is None or not _auth_codes(entry, payers):
            return None
        return auth.number, auth.visits_authorized

    def visit_group(entry: _Entry) -> tuple[object, int] | None:
        s = entry.session
        payer = payers.get(s.payer_id)
        if (
            payer is None
            or payer.visit_limit_per_year <= 0
            or not entry.claim.procedures & PSYCHOTHERAPY_CODES
        ):
            return None
        return (s.patient_id, s.payer_id, s.date_of_service.year), payer.visit_limit_per_year

    conflict, duplicate = _conflicts(everything)
    return {
        AUTH_EXHAUSTED: _hold_past_limit(everything, auth_group, tally.authorizations if tally else None),
        VISIT_LIMIT_REACHED: _hold_past_limit(everything, visit_group, tally.visits if tally else None),
        CODE_CONFLICT: conflict,
        DUPLICATE_SESSION: duplicate,
    }


def scrub(
    claims: Sequence[tuple[Session, CodedClaim]],
    *,
    payers: Mapping[str, PayerRules],
    authorizations: Mapping[str, Authorization],
    eligibility: Mapping[tuple[str, str], Coverage],
    billing_npi: str,
    as_of: date,
    history: Sequence[tuple[Session, CodedClaim]] = (),
    tally: Tally | None = None,
) -> dict[str, tuple[str, ...]]:
    """Every hold reason of each new claim (coding holds included), keyed by encounter_id.

    ``authorizations`` is keyed by authorization number; ``eligibility`` is the coverage on file per
    (patient_id, payer_id) (:func:`pipelines.rules.eligibility.on_file`). A claim with no reason
    maps to ``()``. ``tally``: the limit counts of the chunks scrubbed before these (:class:`Tally`).
    Raises ValueError when a new claim's payer is not in ``payers``.
    """
    new_ids = {session.encounter_id for session, _ in claims}
    new = [_Entry(s, c, True) for s, c in claims]
    everything = new + [_Entry(s, c, False) for s, c in history if s.encounter_id not in new_ids]
    for entry in new:
        if entry.session.payer_id not in payers:
            raise ValueError(
                f"encounter {entry.session.encounter_id}: payer {entry.session.payer_id!r} is not configured"
            )
    cross = _cross_encounter_holds(everything, payers, authorizations, tally)
    billing_npi_ok = is_valid_npi(billing_npi)

    cross_of: dict[str, set[str]] = defaultdict(set)  # encounter_id -> its cross-encounter reasons
    for reason, ids in cross.items():
        for encounter_id in ids:
            cross_of[encounter_id].add(reason)

    result: dict[str, tuple[str, ...]] = {}
    for entry in new:
        s, claim = entry.session, entry.claim
        reasons = set(claim.holds) | _auth_reasons(entry, payers, authorizations)
        if not s.member_id.strip():
            reasons.add(MEMBER_ID_MISSING)
        if not billing_npi_ok or not _valid_npi(s.rendering_npi):
            reasons.add(NPI_INVALID)
        if s.encounter_id in cross_of:
            reasons |= cross_of[s.encounter_id]
        if (as_of - s.date_of_service).days > payers[s.payer_id].timely_filing_days:
            reasons.add(TIMELY_FILING_EXPIRED)
        coverage = eligibility.get((s.patient_id, s.payer_id))
        if coverage is not None and coverage.inactive_on(s.date_of_service):
            reasons.add(ELIGIBILITY_INACTIVE)
        result[s.encounter_id] = tuple(reason for reason in HOLD_ORDER if reason in reasons) if reasons else ()
    return result
