"""Claim status responses: the 277CA (claim acknowledgment) and the 277 (answer to our 276).

* 277CA (:func:`apply_277ca`): per claim (TRN02, our CLM01) accepted (A1, A2, A5: payer claim number
  kept) or rejected (A3, A4, A6, A7, A8, E0, E3, E4: reason kept), as decided by
  :func:`pipelines.rules.remittance.acknowledgment_event` and applied through the lifecycle
  (``ACK_ACCEPTED``/``ACK_REJECTED``; only a claim submitted, accepted or rejected moves). Every STC
  becomes a ClaimStatusEvent. A claim already adjudicated (lifecycle ``FINAL``) keeps its status and
  payer claim number. Claim ids we never sent are counted and logged as unmatched; they do not fail
  the file.
* 277 (:func:`apply_277`): recorded as ClaimStatusEvents (by REF*EJ / TRN02 claim id, else by the
  276 trace); a finalized denial or a rejection updates ``status_reason`` only
  (:func:`pipelines.rules.remittance.explains_status`): payment comes from the 835.

Both work set-based (:class:`_StatusFile`): the claims a transaction set names are read a few
thousand at a time (a staged key set joined, :func:`pipelines.usecases.bulk.key_set`), the rules
run in Python on those rows in file order (a claim named twice sees what the first time did), a
set's events go in with one bulk insert and the file's changed claims are updated with one
``UPDATE ... FROM`` (:func:`pipelines.usecases.bulk.copy_rows`, ``copy_update``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from edi import codes
from edi.x12 import open_x12
from edi.x277 import ClaimStatus as ReportedClaim
from edi.x277 import ClaimStatusReport, Status, parse_277
from models import Claim, ClaimStatusEvent, Inquiry, utcnow
from pipelines.errors import ApplyError
from pipelines.logs import get_logger
from pipelines.rules.lifecycle import FINAL, Event, sources, transition
from pipelines.rules.remittance import acknowledgment_event, claim_key, clip_reason, explains_status
from pipelines.usecases.applier import ApplyContext
from pipelines.usecases.bulk import chunks, copy_rows, copy_update, key_set

__all__ = ["apply_277", "apply_277ca"]

log = get_logger("edi")
_CHUNK = 5000  # claim ids (or traces) looked up per query
_CLAIM = ("status", "status_reason", "payer_claim_number", "accepted_at")  # what a 277 may change
_EVENT = ("claim_pk", "file_id", "source", "category", "code", "entity", "status_date", "description",
          "payer_claim_number", "trace", "created_at")


# --------------------------------------------------------------------------------------------
# Shared: finding our claims, statuses in words, history
# --------------------------------------------------------------------------------------------


def _reports(data: bytes, want: str) -> Iterable[ClaimStatusReport]:
    for ts in open_x12(data):
        if ts.set_id != "277":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in a {want} file (expected 277)",
                             {"segment_number": ts.segment_number, "segment_id": "ST"})
        yield parse_277(ts)


def _status_words(s: Status) -> str:
    text = f"{s.category} {s.category_description}: {s.code} {s.code_description}"
    if s.entity:
        text += f" (entity {s.entity})"
    for extra in s.additional:
        text += (f"; {extra.category} {codes.claim_status_categories().describe(extra.category)}: "
                 f"{extra.code} {codes.claim_status_codes().describe(extra.code)}")
    if s.message:
        text += f" - {s.message}"
    return text


def _described(c: ReportedClaim) -> list[tuple[Status, str]]:
    """Every status of a reported claim with its words: claim level, then each line's (tagged)."""
    out = [(s, _status_words(s)) for s in c.statuses]
    for ln in c.lines:
        tag = f"line {ln.line_control_number or ln.procedure}"
        out += [(s, f"{tag}: {_status_words(s)}") for s in ln.statuses]
    return out


def _claim_reason(source: str, words: Sequence[str]) -> str:
    return clip_reason(f"{source}: " + "; ".join(words))


@dataclass
class _Ours:
    """One of our claims as a 277 finds it; changed in memory, written when the file is done."""

    pk: int
    claim_id: str
    status: str
    status_reason: str | None
    payer_claim_number: str | None
    accepted_at: datetime | None

    def values(self) -> tuple[Any, ...]:
        return self.status, self.status_reason, self.payer_claim_number, self.accepted_at


class _StatusFile:
    """One 277CA or 277 file being applied: :meth:`claims` hands out each reported claim with ours and
    stores its events, :meth:`write` the claims changed."""

    def __init__(self, ctx: ApplyContext, source: str, counts: dict[str, Any]) -> None:
        self.ctx, self.session, self.source, self.counts = ctx, ctx.session, source, counts
        self.unmatched: list[str] = []
        self.known: dict[int, _Ours] = {}  # by pk: one claim whatever id or trace found it
        self.settled: dict[int, tuple[Any, ...]] = {}  # by pk: the values as read, or as last settled
        self.changed: set[int] = set()  # the claims to update
        self.events: list[tuple[Any, ...]] = []
        self.now = utcnow()

    def _read(self, where: Any) -> list[_Ours]:
        """The claims ``where`` selects; one read before keeps what this file did to it."""
        out = []
        for row in self.session.execute(select(Claim.id, Claim.claim_id, *(Claim.__table__.c[c] for c in _CLAIM))
                                        .where(where)):
            ours = self.known.get(row[0])
            if ours is None:
                ours = self.known[row[0]] = _Ours(*row)
                self.settled[ours.pk] = ours.values()
            out.append(ours)
        return out

    def _named(self, claim_ids: Iterable[str]) -> dict[str, _Ours]:
        """Our claims for the ids a report names, keyed by :func:`claim_key` (exactly, else ignoring case)."""
        s = self.session
        keys = sorted({k for k in map(claim_key, claim_ids) if k})
        found: dict[str, _Ours] = {}
        for chunk in chunks(keys, _CHUNK):
            found.update((c.claim_id, c) for c in self._read(Claim.claim_id.in_(key_set(s, "named", Claim.claim_id, chunk))))
        missing = [k for k in keys if k not in found]
        for chunk in chunks(missing, _CHUNK):
            for c in self._read(func.upper(Claim.claim_id).in_(key_set(s, "named", Claim.claim_id, chunk))):
                found.setdefault(claim_key(c.claim_id), c)
        return found

    def _by_inquiry(self, reported: Iterable[ReportedClaim]) -> dict[str, _Ours]:
        """By trace: the claims of the 276s whose traces these reported claims echo."""
        s = self.session
        traces = sorted({c.trace_number.strip() for c in reported})
        claim_of: dict[str, int] = {}
        for chunk in chunks(traces, _CHUNK):
            claim_of.update((t, pk) for t, pk in s.execute(select(Inquiry.trace, Inquiry.claim_pk).where(
                Inquiry.kind == "276", Inquiry.trace.in_(key_set(s, "traces", Inquiry.trace, chunk))))
                if pk is not None)
        by_pk: dict[int, _Ours] = {}
        for chunk in chunks(sorted(set(claim_of.values())), _CHUNK):
            by_pk.update((c.pk, c) for c in self._read(Claim.id.in_(key_set(s, "claim_pks", Claim.id, chunk))))
        return {t: by_pk[pk] for t, pk in claim_of.items() if pk in by_pk}

    def _settle(self, claims: Iterable[_Ours]) -> None:
        """Claims whose values differ from the ones last settled are updated (``updated_at`` too), even
        if a later change puts the old values back: as the ORM code this replaces flushed them (at the
        next set of a 277CA, at the next claim of a 277)."""
        for c in claims:
            values = c.values()
            if values != self.settled[c.pk]:
                self.changed.add(c.pk)
                self.settled[c.pk] = values

    def claims(self, data: bytes, *, by_inquiry: bool = False) -> Iterator[tuple[_Ours, ReportedClaim, list[str]]]:
        """Each reported claim, in file order, with ours (by claim id, else, ``by_inquiry``, by the
        trace of its 276) and the words of its statuses, each status kept as an event. The others
        are counted and logged as unmatched. What the caller changed is settled after each claim
        (``by_inquiry``: a 277) or each transaction set (a 277CA); the set's events are inserted then."""
        file_id, source, add = self.ctx.file.id, self.source, self.events.append
        for report in _reports(data, self.source):
            ours = self._named(c.claim_id for c in report.claims)
            fallback = self._by_inquiry(c for c in report.claims if claim_key(c.claim_id) not in ours) \
                if by_inquiry else {}
            for c in report.claims:
                claim = ours.get(claim_key(c.claim_id)) or fallback.get(c.trace_number.strip())
                if claim is None:
                    self.unmatched.append(c.claim_id)
                    self.counts["claims_unmatched"] += 1
                    log.warning("claim_status_unmatched", file_id=file_id, claim_id=c.claim_id)
                    continue
                described = _described(c)
                for s, words in described:
                    add((claim.pk, file_id, source, s.category, s.code, s.entity, s.date, clip_reason(words),
                         c.payer_claim_number, c.clearinghouse_trace, self.now))
                self.counts["status_events"] += len(described)
                yield claim, c, [words for _, words in described]
                if by_inquiry:
                    self._settle((claim,))
            self._settle([*ours.values(), *fallback.values()])
            copy_rows(self.session, ClaimStatusEvent, _EVENT, self.events)  # memory: one set's events at a time
            self.events.clear()

    def write(self) -> None:
        """Update the claims changed (:meth:`_settle`)."""
        copy_update(self.session, Claim, _CLAIM, [(pk, *self.known[pk].values()) for pk in sorted(self.changed)],
                    {"updated_at": self.now})
        self.counts["unmatched_claim_ids"] = self.unmatched


# --------------------------------------------------------------------------------------------
# 277CA
# --------------------------------------------------------------------------------------------


def apply_277ca(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Accept or reject each claim a 277CA names; keep every status as history."""
    counts: dict[str, Any] = {"claims_accepted": 0, "claims_rejected": 0, "claims_unchanged": 0,
                              "claims_unmatched": 0, "status_events": 0}
    movable = {event: sources(event) for event in (Event.ACK_ACCEPTED, Event.ACK_REJECTED)}
    applied = _StatusFile(ctx, "277CA", counts)
    for claim, c, words in applied.claims(data):
        if c.payer_claim_number and claim.status not in FINAL:
            claim.payer_claim_number = c.payer_claim_number
        # move the claim as the 277CA says (through the lifecycle), or count it unchanged
        event = acknowledgment_event(rejected=c.rejected, categories=[s.category for s in c.statuses])
        if event is None or claim.status not in movable[event]:
            counts["claims_unchanged"] += 1
            continue
        claim.status = transition(claim.status, event, claim_id=claim.claim_id).value
        if event is Event.ACK_REJECTED:
            claim.status_reason = _claim_reason("277CA rejected", words)
            counts["claims_rejected"] += 1
            log.info("claim_rejected", claim_id=claim.claim_id, file_id=ctx.file.id, source="277CA")
        else:
            claim.status_reason = None
            claim.accepted_at = claim.accepted_at or applied.now
            counts["claims_accepted"] += 1
            log.debug("claim_accepted", claim_id=claim.claim_id, file_id=ctx.file.id)
    applied.write()
    return counts


# --------------------------------------------------------------------------------------------
# 277
# --------------------------------------------------------------------------------------------


def apply_277(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Record a 277 claim status response as history; a denial or rejection updates the reason only."""
    session = ctx.session
    counts: dict[str, Any] = {"claims_matched": 0, "claims_unmatched": 0, "status_events": 0}
    applied = _StatusFile(ctx, "277", counts)
    matched: dict[int, None] = {}
    for claim, c, words in applied.claims(data, by_inquiry=True):
        counts["claims_matched"] += 1
        matched[claim.pk] = None
        if c.payer_claim_number and not claim.payer_claim_number:
            claim.payer_claim_number = c.payer_claim_number
        if explains_status(claim.status, rejected=c.rejected, categories=[s.category for s in c.statuses]):
            claim.status_reason = _claim_reason("277", words)
    applied.write()
    for chunk in chunks(list(matched), _CHUNK):  # their 276s are answered
        session.execute(update(Inquiry).where(
            Inquiry.kind == "276", Inquiry.answered_at.is_(None),
            Inquiry.claim_pk.in_(key_set(session, "claim_pks", Inquiry.claim_pk, chunk)))
            .values(answered_at=applied.now).execution_options(synchronize_session=False))
    return counts
