"""Code and scrub: every encounter with no submitted claim becomes a claim, held or ready.

:func:`code_and_scrub` runs in the caller's transaction; `edi claims submit` and the nightly run
call it, then :func:`pipelines.usecases.submit.submit_all` writes the ready claims as 837Ps.

Every encounter with no submitted claim is coded and scrubbed again at each submit, so that fixed
data and newly loaded authorizations apply. Its claim keeps its CLM01 (``C`` + 6 digits from the
``claim`` counter) and, line by line, its line item control numbers (``L`` + 6 digits from the
``line`` counter). The cross-encounter rules see as history the patients' encounters already
submitted (claims not held, ready, rejected, void or reversed).

Work is done in bulk and in chunks, so that time and memory grow with the work, not faster: the
pending encounters are taken about :data:`CODE_CHUNK` at a time by date of service (whole dates, in
date and encounter_id order - the order CLM01s and line control numbers are given in), each chunk
with the history of its patients up to its last date, and the scrubber's counts of the new claims
carry from one chunk to the next (:class:`pipelines.rules.scrub.Tally`). Claims and lines are
written with COPY on PostgreSQL and executemany statements on SQLite.

Choices where the contract is silent:

* Authorizations are looked up by number (CONTRACT section 5); if two patients share a number, the
  one imported last is used.
* An encounter the coder cannot code (data the importer should have refused, or a payer no longer
  configured) is held ``DATA_INVALID`` with the reason in ``status_reason``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from models import Authorization, Claim, ClaimLine, Encounter, utcnow
from pipelines.config import Config
from pipelines.logs import get_logger
from pipelines.rules import coding, scrub
from pipelines.rules.lifecycle import ADJUDICATED, UNSENT, ClaimStatus, Event, transition
from pipelines.rules.money import ZERO
from pipelines.usecases.bulk import (
    chunks,
    collector_paused,
    copy_rows,
    in_list,
    is_pg,
    new_ids,
    read_columns,
    records,
    update_rows,
)
from pipelines.usecases.eligibility import eligibility_on_file
from pipelines.usecases.ledger import ClaimNumbers
from pipelines.usecases.outbound import outbound_lock

__all__ = ["DATA_INVALID", "code_and_scrub", "payer_rules", "settled"]

log = get_logger("edi")

DATA_INVALID = "DATA_INVALID"
S = ClaimStatus
# Claims whose encounters the cross-encounter rules count as history: everything sent that still
# stands (a rejected, void or reversed claim does not).
_HISTORY = frozenset({S.SUBMITTED, S.ACCEPTED, *ADJUDICATED, S.CROSSED_OVER})
_CODED = {True: Event.CODED_HELD, False: Event.CODED_READY}
CODE_CHUNK = 10000
"""Pending encounters coded per chunk (rounded up to a whole date of service)."""


def payer_rules(config: Config) -> dict[str, coding.PayerRules]:
    """The coding/scrubbing rules of every configured payer, keyed by its configuration id."""
    return {p.id: coding.PayerRules(
        id=p.id, telehealth_modifier=p.telehealth_modifier, audio_only_modifier=p.audio_only_modifier,
        credential_modifiers=dict(p.credential_modifiers), auth_required=p.auth_required,
        visit_limit_per_year=p.visit_limit_per_year, timely_filing_days=p.timely_filing_days)
        for p in config.payers.values()}


def settled() -> ColumnElement[bool]:
    """A claim that keeps its encounter from being coded again: anything sent, except a claim the
    clearinghouse or payer rejected (999/277CA) when the encounter was re-imported after it -
    the operator's correction, which goes out as a new original claim."""
    return or_(Claim.status.notin_(sorted({*UNSENT, S.REJECTED})),
               and_(Claim.status == S.REJECTED, Claim.updated_at >= Encounter.imported_at))


# ------------------------------------------------------------------------------------------------
# Loading what the coder and scrubber need
# ------------------------------------------------------------------------------------------------


@dataclass
class _Unsent:
    """The unsent claims of the pending encounters: kept, with their CLM01 and line control numbers."""

    claims: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # encounter -> (pk, claim_id, status)
    lcns: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))  # claim pk -> line numbers
    pks: list[int] = field(default_factory=list)  # every unsent claim of these encounters

    def kept_lines(self, encounter_id: str) -> list[str]:
        found = self.claims.get(encounter_id)
        return self.lcns.get(found[0], []) if found else []


def _session_columns() -> list[Any]:
    """The Encounter columns :func:`pipelines.rules.coding.session_of` reads (JSON parsed once per text)."""
    wanted = {f.name for f in fields(coding.Session)}
    return [c for c in read_columns(Encounter.__table__) if c.name in wanted]


def _history(session: Session, patients: Collection[str], through: date
             ) -> list[tuple[coding.Session, coding.CodedClaim]]:
    """Encounters of these patients already submitted, up to ``through``, with the codes of their newest claim."""
    enc = Encounter.__table__
    pg = is_pg(session)
    rows: list[Any] = []
    for chunk in chunks(sorted(patients), 20000):
        rows += records(session.connection().execute(
            select(*_session_columns(), Claim.id.label("claim_pk"), Claim.place_of_service.label("claim_pos"))
            .join(Claim, Claim.encounter_id == enc.c.encounter_id)
            .where(Claim.status.in_(sorted(_HISTORY)), in_list(enc.c.patient_id, chunk, pg),
                   enc.c.date_of_service <= through)
            .order_by(Claim.id)))
    rows.sort(key=lambda h: h.claim_pk)
    procedures: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for chunk in chunks([h.claim_pk for h in rows], 20000):
        for pk, proc, units in session.connection().execute(
                select(ClaimLine.claim_pk, ClaimLine.procedure, ClaimLine.units)
                .where(in_list(ClaimLine.claim_pk, chunk, pg)).order_by(ClaimLine.claim_pk, ClaimLine.line_number)):
            procedures[pk].append((proc, units))
    by_encounter: dict[str, tuple[coding.Session, coding.CodedClaim]] = {}
    for h in rows:
        s = coding.session_of(h)
        done = tuple(coding.CodedLine(p, (), u, ZERO, ()) for p, u in procedures.get(h.claim_pk, ()))
        by_encounter[s.encounter_id] = (s, coding.CodedClaim(s.encounter_id, done, h.claim_pos,
                                                             tuple(h.diagnoses or ()), (), ()))
    return list(by_encounter.values())


def _authorizations(session: Session, patients: Select[Any]) -> dict[str, scrub.Authorization]:
    """The authorizations of these patients by number (the one imported last wins)."""
    return {a.authorization_number: scrub.Authorization(
        number=a.authorization_number, patient_id=a.patient_id, payer_id=a.payer_id, start_date=a.start_date,
        end_date=a.end_date, visits_authorized=a.visits_authorized, service_codes=frozenset(a.service_codes or ()))
        for a in session.scalars(select(Authorization).where(Authorization.patient_id.in_(patients))
                                 .order_by(Authorization.imported_at, Authorization.id))}


def _unsent(session: Session, encounter_ids: Sequence[str]) -> _Unsent:
    """The unsent claims of these encounters (with their line control numbers)."""
    found = _Unsent()
    pg = is_pg(session)
    for chunk in chunks(encounter_ids, 20000):
        for pk, claim_id, encounter_id, status in session.connection().execute(
                select(Claim.id, Claim.claim_id, Claim.encounter_id, Claim.status)
                .where(in_list(Claim.encounter_id, chunk, pg), Claim.status.in_(sorted(UNSENT)))
                .order_by(Claim.id)):
            found.claims.setdefault(encounter_id, (pk, claim_id, status))
            found.pks.append(pk)
    for chunk in chunks(found.pks, 20000):
        for pk, lcn in session.connection().execute(
                select(ClaimLine.claim_pk, ClaimLine.line_control_number)
                .where(in_list(ClaimLine.claim_pk, chunk, pg)).order_by(ClaimLine.claim_pk, ClaimLine.line_number)):
            found.lcns[pk].append(lcn)
    return found


# ------------------------------------------------------------------------------------------------
# Coding and the rows to store
# ------------------------------------------------------------------------------------------------


def _code(rows: Sequence[Any], payers: Mapping[str, coding.PayerRules], fees: Mapping[str, Any]
          ) -> tuple[list[tuple[coding.Session, coding.CodedClaim]], dict[str, str]]:
    """Each encounter coded, and the reason of those that cannot be (held DATA_INVALID)."""
    coded: list[tuple[coding.Session, coding.CodedClaim]] = []
    invalid: dict[str, str] = {}
    for row in rows:
        s = coding.session_of(row)
        try:
            claim = coding.code_session(s, payers[s.payer_id], fees)
        except (ValueError, KeyError) as exc:  # data the importer should have refused
            invalid[s.encounter_id] = str(exc) if isinstance(exc, ValueError) else "payer is not configured"
            claim = coding.CodedClaim(s.encounter_id, (), "11", tuple(s.diagnoses), (DATA_INVALID,), ())
        coded.append((s, claim))
    return coded, invalid


@dataclass
class _Rows:
    updates: list[dict[str, Any]] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # encounter -> its line rows


def _claim_values(s: coding.Session, c: coding.CodedClaim, status: ClaimStatus, reasons: Sequence[str],
                  invalid: str | None, now: datetime) -> dict[str, Any]:
    return {
        "encounter_id": s.encounter_id, "patient_id": s.patient_id, "payer_id": s.payer_id,
        "status": status.value, "status_reason": invalid, "hold_reasons": list(reasons),
        "warnings": list(c.warnings), "frequency_code": "1", "place_of_service": c.place_of_service,
        "date_of_service": s.date_of_service, "diagnoses": list(c.diagnoses),
        "authorization_number": s.authorization_number,
        "billed": sum((ln.charge for ln in c.lines), ZERO), "updated_at": now,
    }


def _line_values(c: coding.CodedClaim, kept: Sequence[str], numbers: ClaimNumbers) -> Iterator[dict[str, Any]]:
    for n, ln in enumerate(c.lines, 1):
        lcn = kept[n - 1] if n <= len(kept) else numbers.line_control_number()
        yield {"line_number": n, "line_control_number": lcn, "procedure": ln.procedure,
               "modifiers": list(ln.modifiers), "units": ln.units, "charge": ln.charge,
               "diagnosis_pointers": list(ln.diagnosis_pointers), "paid": ZERO}


def _rows(coded: Sequence[tuple[coding.Session, coding.CodedClaim]], holds: Mapping[str, Sequence[str]],
          invalid: Mapping[str, str], unsent: _Unsent, numbers: ClaimNumbers) -> _Rows:
    """The claim rows to update (an unsent claim recoded) or insert (a new claim), and their lines."""
    out = _Rows()
    now = utcnow()
    for s, c in coded:
        reasons = holds.get(s.encounter_id, ())
        existing = unsent.claims.get(s.encounter_id)
        status = transition(existing[2] if existing else None, _CODED[bool(reasons)],
                            claim_id=existing[1] if existing else None)
        values = _claim_values(s, c, status, reasons, invalid.get(s.encounter_id), now)
        if existing:
            out.updates.append(values | {"id": existing[0]})
        else:
            out.inserts.append(values | {"claim_id": numbers.claim_id(), "created_at": now})
        out.lines[s.encounter_id] = list(_line_values(c, unsent.kept_lines(s.encounter_id), numbers))
    return out


def _store(session: Session, rows: _Rows, unsent: _Unsent) -> None:
    """Old lines out, claims updated or inserted, lines in (COPY on PostgreSQL)."""
    pg = is_pg(session)
    for chunk in chunks(unsent.pks, 20000):
        session.execute(delete(ClaimLine).where(in_list(ClaimLine.claim_pk, chunk, pg)),
                        execution_options={"synchronize_session": False})
    pk_of = {enc_id: pk for enc_id, (pk, _, _) in unsent.claims.items()}
    if pg:
        if rows.updates:
            update_rows(session, Claim, rows.updates, [k for k in rows.updates[0] if k != "id"])
        if rows.inserts:
            for ins, pk in zip(rows.inserts, new_ids(session, Claim, len(rows.inserts)), strict=True):
                ins["id"] = pk
                pk_of[str(ins["encounter_id"])] = pk
            cols = list(rows.inserts[0])
            copy_rows(session, Claim, cols, list(map(itemgetter(*cols), rows.inserts)))
    else:
        for chunk in chunks(rows.updates):
            session.execute(update(Claim), list(chunk))
        for chunk in chunks(rows.inserts):
            for pk, encounter_id in session.execute(
                    insert(cast(Table, Claim.__table__)).returning(Claim.id, Claim.encounter_id), list(chunk)):
                pk_of[encounter_id] = pk
    all_lines = [ln | {"claim_pk": pk_of[enc_id]} for enc_id, lines in rows.lines.items() for ln in lines]
    if pg and all_lines:
        cols = list(all_lines[0])
        copy_rows(session, ClaimLine, cols, list(map(itemgetter(*cols), all_lines)))
    else:
        for chunk in chunks(all_lines):
            session.execute(insert(cast(Table, ClaimLine.__table__)), list(chunk))


# ------------------------------------------------------------------------------------------------
# The use case
# ------------------------------------------------------------------------------------------------


def _date_ranges(session: Session, pending: ColumnElement[bool]) -> list[tuple[date, date]]:
    """The pending encounters' dates of service cut into ranges of about CODE_CHUNK encounters."""
    enc = Encounter.__table__
    ranges: list[tuple[date, date]] = []
    first: date | None = None
    n = 0
    for day, count in session.connection().execute(
            select(enc.c.date_of_service, func.count()).where(pending)
            .group_by(enc.c.date_of_service).order_by(enc.c.date_of_service)):
        if first is None:
            first, n = day, 0
            ranges.append((day, day))
        n += count
        ranges[-1] = (first, day)
        if n >= CODE_CHUNK:
            first = None
    return ranges


@dataclass
class _Totals:
    coded: int = 0
    held: int = 0
    inserted: int = 0
    recoded: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def _code_chunk(config: Config, session: Session, *, as_of: date, rows: Sequence[Any], unsent: _Unsent,
                authorizations: Mapping[str, scrub.Authorization], patients: Select[Any],
                history: list[tuple[coding.Session, coding.CodedClaim]], tally: scrub.Tally,
                totals: _Totals) -> None:
    """Code, scrub and store one chunk of pending encounters (whole dates, in date/id order)."""
    payers = payer_rules(config)
    coded, invalid = _code(rows, payers, config.fees)
    holds = scrub.scrub([(s, c) for s, c in coded if s.encounter_id not in invalid], payers=payers,
                        authorizations=authorizations, eligibility=eligibility_on_file(session, patients),
                        billing_npi=config.practice.billing_npi, as_of=as_of, history=history, tally=tally)
    holds.update((encounter_id, (DATA_INVALID,)) for encounter_id in invalid)

    n_claims = n_lines = 0  # the new CLM01s and line control numbers this chunk takes
    for s, c in coded:
        if s.encounter_id in unsent.claims:
            n_lines += max(0, len(c.lines) - len(unsent.kept_lines(s.encounter_id)))
        else:
            n_claims += 1
            n_lines += len(c.lines)
    numbers = ClaimNumbers(session, config.clearinghouse.submitter_id, n_claims, n_lines)
    out = _rows(coded, holds, invalid, unsent, numbers)
    _store(session, out, unsent)

    totals.reasons.update(r for s, _ in coded for r in holds.get(s.encounter_id, ()))
    held = sum(1 for s, _ in coded if holds.get(s.encounter_id))
    totals.coded += len(coded)
    totals.held += held
    totals.inserted += len(out.inserts)
    totals.recoded += len(out.updates)
    for encounter_id in invalid:
        log.warning("encounter_not_codable", encounter_id=encounter_id)


def code_and_scrub(config: Config, session: Session, *, as_of: date) -> dict[str, Any]:
    """Code and scrub every encounter with no submitted claim; store its claim held or ready.

    Runs in the caller's transaction, chunk by chunk (see the module docstring). Returns counts:
    ``coded``, ``ready``, ``held``, ``hold_reasons`` {reason: claims}.
    """
    enc = Encounter.__table__
    outbound_lock(session, "837P")  # one coder at a time, and none while a file's claims are sent
    session.flush()  # the bulk reads below go to the connection: the caller's pending changes first
    pending = ~exists().where(Claim.encounter_id == Encounter.encounter_id, settled())
    counts: dict[str, Any] = {"coded": 0, "ready": 0, "held": 0, "hold_reasons": {}}
    ranges = _date_ranges(session, pending)
    if not ranges:
        return counts
    authorizations = _authorizations(session, select(Encounter.patient_id).where(pending).distinct())
    tally = scrub.Tally()
    totals = _Totals()
    for first, last in ranges:
        in_chunk = and_(pending, enc.c.date_of_service >= first, enc.c.date_of_service <= last)
        with collector_paused():  # one chunk's objects are freed by reference counting
            rows = records(session.connection().execute(
                select(*_session_columns()).where(in_chunk).order_by(enc.c.date_of_service, enc.c.encounter_id)))
            _code_chunk(config, session, as_of=as_of, rows=rows,
                        unsent=_unsent(session, [r.encounter_id for r in rows]), authorizations=authorizations,
                        patients=select(Encounter.patient_id).where(in_chunk).distinct(),
                        history=_history(session, {r.patient_id for r in rows}, last), tally=tally, totals=totals)

    counts.update(coded=totals.coded, ready=totals.coded - totals.held, held=totals.held,
                  hold_reasons={r: totals.reasons[r] for r in (*scrub.HOLD_ORDER, DATA_INVALID) if totals.reasons[r]})
    log.info("claims_coded", coded=totals.coded, ready=counts["ready"], held=totals.held,
             new_claims=totals.inserted, recoded=totals.recoded)
    return counts
