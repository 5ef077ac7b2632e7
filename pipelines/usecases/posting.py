"""835 posting: balance check, duplicate check, claim and line matching, payments, denials, status.

:func:`apply_835` is the applier :mod:`pipelines.usecases.ingest` registers for kind ``835``; it runs inside
the savepoint of the file's transaction, so a file is posted whole or not at all.

For every 835 transaction set in the file:

* **Duplicate**: a remittance with the same payer key and TRN02 already posted (from this file, an
  earlier file, or a replay) is not posted again; the set counts as ``duplicate_remittances``. The
  payer key is TRN03 (the payer's originating company id), else N1*PR N104, else REF*2U, else the
  payer's name. Its claims that were kept unmatched and now find their claim (a secondary payer's
  835 that came before the primary's, replayed once the primary posted) are posted then, once.
* **Payee**: a set whose payee (1000B N1*PE NPI or tax id, REF*TJ) is not the practice's raises
  :class:`ApplyError` naming both, which fails the file; ``edi replay ID --force`` posts it anyway.
* **Balance**: an unbalanced set (line, claim or transaction level, see :mod:`edi.x835`) raises
  :class:`ApplyError` naming the claim and the amounts, which fails the file; ``edi replay ID --force``
  posts it anyway and keeps the findings on the Remittance (``balanced`` false, ``forced`` true).
* **Matching**: CLP01 to a claim we sent (status not in the lifecycle's ``UNSENT``): exactly; else
  ignoring case, padding and leading zeros of the number part (``c000123 `` and ``C123`` find
  ``C000123``); else as a prefix the payer truncated, when exactly one of our claims starts with it.
  Lines by REF*6R (our line item control number), else by procedure, modifiers and charge among the
  claim's lines (:func:`pipelines.rules.remittance.match_lines`). An 835 claim that matches nothing
  is stored as an :class:`UnmatchedPayment` (never dropped).
* **Posting**: a ClaimPayment per CLP (reversals, CLP02 22, with their negative amounts as written),
  every CAS at claim and line level, every remark (MOA/MIA at claim level, LQ*HE at line level), the
  payer claim number onto the claim, line paid amounts (net of all postings), the claim's ``paid``
  (net of all its ClaimPayments), ``patient_responsibility`` (net of all its PR adjustments) and
  ``paid_at`` (the payment date of the last posting that paid something). PLB rows are stored
  against the Remittance. Unknown CARC/RARC codes are stored as they are.
* **Status** (CONTRACT section 6) from the net of every posting: the ``POSTED_*`` event of
  :func:`pipelines.rules.remittance.posting_outcome` (void, reversed, paid, denied,
  patient_responsibility), applied through :func:`pipelines.rules.lifecycle.transition`. One
  ClaimStatusEvent (source ``835``) per posting.
* **Denials**: on a claim left denied, every CO/OA/PI adjustment other than CARC 45 with a positive
  amount becomes a Denial; on a claim that is paid, the same for lines paid nothing (a denied line).
  Which adjustments: :func:`pipelines.rules.remittance.denial_items`. A posting that leaves a claim
  paid closes its open denials from earlier postings (underpaid items excepted: they follow the net).
* **Underpaid** (CONTRACT section 8): a line allowed (net paid + net PR) less than its payer's
  ``contract_rates`` x units by more than a cent gets one work item of category ``underpaid``; each
  posting recomputes it from the net (:mod:`pipelines.usecases.underpaid`).

Work is set-based, in chunks of :data:`CHUNK` claims as the reader streams them (memory stays flat):
the chunk's CLP01s are staged and joined to find its claims (one query; only the CLP01s that find
nothing exactly go through :func:`find_claim`), the matched claims are staged once for their lines
and the nets of their earlier postings; the rules (line matching, outcome, lifecycle, denials) run
in Python on those rows, the chunk's own amounts added to the nets there; payments, adjustments,
remarks, events and denials go in with one ``COPY`` each, and claims and lines are updated with one
``UPDATE ... FROM`` a staging table each (:mod:`pipelines.usecases.bulk`: ``key_set``, ``copy_rows``,
``copy_update``; TEMP tables, so all of it stays in the file's transaction). On SQLite the same calls
are executemany and ``IN`` lists.

On PostgreSQL three things overlap: the chunk's writes run in order on a thread of their own
(:class:`pipelines.usecases.bulk.WriteBehind`) while the next table's rows are made; and once they
are all queued, the next chunk (of this set or the next one) is parsed (:class:`_ReadAhead`) while
the database stores them. The database work is the longest of the three; what it costs per row is
kept small by the schema (migrations 0004 and 0005: no foreign-key lookup where the parent is
implied, claim lines updated on their page).
"""

from __future__ import annotations

import functools
import itertools
import json
import queue
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import Numeric, Text, cast, delete, func, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from edi.x12 import open_x12
from edi.x835 import ClaimPayment as Clp
from edi.x835 import Remittance835Reader, read_835
from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    ClaimStatusEvent,
    Denial,
    ProviderAdjustment,
    Remark,
    Remittance,
    UnmatchedPayment,
    utcnow,
)
from pipelines.errors import ApplyError
from pipelines.logs import get_logger
from pipelines.rules.lifecycle import UNSENT, ClaimStatus, transition
from pipelines.rules.money import ZERO, cents
from pipelines.rules.remittance import (
    StoredClaim,
    StoredLine,
    denial_items,
    match_lines,
    normalize_claim_id,
    patient_share,
    posting_outcome,
    truncated_prefix,
)
from pipelines.rules.underpayment import UNDERPAID
from pipelines.usecases.applier import ApplyContext
from pipelines.usecases.bulk import (
    WriteBehind,
    collector_paused,
    copy_rows,
    copy_update,
    in_list,
    insert_rows,
    is_pg,
    key_set,
    new_ids,
)
from pipelines.usecases.cob import Posted, after_posting, route_to_legs
from pipelines.usecases.underpaid import posted_lines, update_underpaid
from pipelines.usecases.uow import xact_lock

__all__ = ["CHUNK", "apply_835", "find_claim"]

CHUNK = 10_000  # claims posted together: fewer statements (10,000 posts ~14% faster than 5,000), memory still bounded
log = get_logger("edi")
_UNSENT = sorted(s.value for s in UNSENT)  # a claim we never sent is never posted to
_MONEY = Numeric(12, 2)  # amounts read in bulk: the driver's Decimal as it is (cents already)


@functools.lru_cache(maxsize=1024)
def _modifiers(stored: str | None) -> tuple[str, ...]:
    """A line's modifiers from their stored JSON text (a handful of distinct values: parsed once each)."""
    return tuple(json.loads(stored) or ()) if stored else ()


_T = TypeVar("_T")


def _claim_id(clp: Clp) -> str:
    return clp.claim_id


def _chunked(claims: Iterable[_T], size: int, key: Callable[[_T], object] | None = None,
             ) -> Iterator[tuple[list[_T], bool]]:
    """The claims in chunks of ``size``, each with whether it is the last (the claims are read to
    their end). With ``key``, a chunk is never cut between two claims of the same key (a chunk grows
    past ``size`` instead): a reversal and its correction, which come one after the other, are posted
    together wherever the chunk boundaries fall."""
    batch: list[_T] = []
    for claim in claims:
        if len(batch) >= size and (key is None or key(claim) != key(batch[-1])):
            yield batch, False
            batch = []
        batch.append(claim)
    yield batch, True


class _ReadAhead(Generic[_T]):
    """The items, each made by a thread of its own while the caller works on the one before.

    The next item is made when the caller asks for it, or sooner once it calls :meth:`want`: posting
    calls it when a chunk's statements are queued, so the next chunk is parsed while the database
    works (the driver lets go of the interpreter lock while it waits) rather than while the poster's
    own Python runs. A reading error is raised here, in the order the items came. :meth:`close`
    (also on leaving a ``with``) stops the thread, e.g. when posting fails before the end.
    """

    def __init__(self, items: Iterable[_T]) -> None:
        self._items = iter(items)
        self._ready: queue.Queue[tuple[_T] | BaseException | None] = queue.Queue(maxsize=1)
        self._wanted = threading.Event()  # the thread may make the next item
        self._pending = False  # the next item was asked for and is not taken yet (the caller's thread only)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="835-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stop.is_set():
                    return
                try:
                    item = next(self._items)
                except StopIteration:
                    self._ready.put(None)
                    return
                self._ready.put((item,))  # never full: one item per want
        except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
            self._ready.put(e)

    def want(self) -> None:
        """Start making the next item now (a second call before it is taken changes nothing)."""
        if not self._pending:
            self._pending = True
            self._wanted.set()

    def __iter__(self) -> Iterator[_T]:
        while True:
            self.want()
            got = self._ready.get()
            self._pending = False
            if got is None:
                return
            if isinstance(got, BaseException):
                raise got
            yield got[0]

    def close(self) -> None:
        self._stop.set()
        self._wanted.set()
        self._thread.join()

    def __enter__(self) -> _ReadAhead[_T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass
class _Chunk:
    """Claims of one 835 set, posted together; ``last``: the set is read to its SE (totals, PLB)."""

    reader: Remittance835Reader
    claims: list[Clp]
    last: bool


def _set_chunks(data: bytes, size: int) -> Iterator[_Chunk]:
    """Every 835 set of the file in chunks of about ``size`` claims (:func:`_chunked`, by CLP01; a
    set without claims is one empty chunk). Read by :class:`_ReadAhead`, the next set is parsed while
    the last chunk of the one before it posts."""
    for ts in open_x12(data):
        if ts.set_id != "835":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in an 835 file",
                             {"segment_number": ts.segment_number, "segment_id": "ST"})
        reader = read_835(ts)
        for batch, last in _chunked(reader, size, _claim_id):
            yield _Chunk(reader, batch, last)


# ------------------------------------------------------------------------------------------------
# Matching
# ------------------------------------------------------------------------------------------------


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_claim(session: Session, clp01: str) -> int | None:
    """The pk of the sent claim a payer's CLP01 names when it is not exact (see module docstring)."""
    sent = Claim.status.notin_(_UNSENT)
    core = normalize_claim_id(clp01)
    if not core:
        return None
    tail = re.search(r"(\d+)$", core)
    if tail:
        stmt = select(Claim.id, Claim.claim_id).where(
            sent, Claim.claim_id.like("%" + _like_escape(tail.group(1)), escape="\\")).limit(200)
    else:
        stmt = select(Claim.id, Claim.claim_id).where(sent, func.upper(Claim.claim_id) == core).limit(200)
    hits = {pk for pk, cid in session.execute(stmt) if normalize_claim_id(cid) == core}
    if len(hits) == 1:
        return hits.pop()
    if hits:
        return None  # ambiguous: leave it for the operator
    prefix = truncated_prefix(clp01)
    if prefix is None:
        return None
    rows = session.execute(select(Claim.id).where(
        sent, func.upper(Claim.claim_id).like(_like_escape(prefix) + "%", escape="\\")).limit(2)).all()
    return rows[0][0] if len(rows) == 1 else None


# ------------------------------------------------------------------------------------------------
# Posting
# ------------------------------------------------------------------------------------------------


def _as_datetime(d: date | None) -> datetime:
    return datetime.combine(d, time(), UTC) if d is not None else utcnow()


def _unmatched_detail(c: Clp) -> dict[str, Any]:
    """What an operator needs to resolve an unmatched payment (no names, no member ids)."""
    def adj(items: Iterable[Any]) -> list[dict[str, str]]:
        return [{"group": a.group, "reason": a.reason, "amount": f"{a.amount:.2f}"} for a in items]

    return {
        "patient_responsibility": f"{c.patient_responsibility:.2f}", "adjustments": adj(c.adjustments),
        "remarks": list(c.remarks), "segment_number": c.segment_number,
        "lines": [{"procedure": ln.procedure, "modifiers": list(ln.modifiers), "charge": f"{ln.charge:.2f}",
                   "paid": f"{ln.paid:.2f}", "line_control_number": ln.line_control_number,
                   "adjustments": adj(ln.adjustments), "remarks": list(ln.remarks)} for ln in c.lines],
    }


_Nets = tuple[dict[int, Decimal], defaultdict[int, dict[tuple[str, str], Decimal]]]
"""Net paid per claim pk, and net adjustment per claim pk and (group, CARC)."""


@dataclass
class _Matched:
    """One CLP of the chunk, the claim it posts to, its lines' matches and its ClaimPayment id."""

    clp: Clp
    claim: StoredClaim
    lines: list[StoredLine | None]
    payment_id: int = 0


# Column orders of the rows posting writes (tuples, see :func:`pipelines.usecases.bulk.copy_rows`).
_UNMATCHED = ("remittance_id", "claim_id", "status_code", "charge", "paid", "payer_claim_number", "detail",
              "resolved", "created_at")
_PAYMENT = ("remittance_id", "claim_pk", "status_code", "charge", "paid", "patient_responsibility",
            "payer_claim_number", "created_at")
_ADJUSTMENT = ("claim_payment_id", "claim_pk", "line_pk", "group", "reason", "amount", "quantity")
_REMARK = ("claim_payment_id", "claim_pk", "line_pk", "code")
_CLAIM = ("status", "paid", "patient_responsibility", "payer_claim_number", "paid_at")
_EVENT = ("claim_pk", "file_id", "source", "category", "code", "status_date", "description", "payer_claim_number",
          "trace", "created_at")
_DENIAL = ("claim_pk", "line_pk", "claim_payment_id", "group", "reason", "remarks", "amount", "category", "action",
           "state", "created_at", "updated_at")


class _Poster:
    """Posts the claims of one remittance, a chunk at a time: :meth:`post` runs the steps in order."""

    def __init__(self, ctx: ApplyContext, remittance: Remittance, counts: Counter[str],
                 payer_ids: Sequence[str] = (), read_next: Callable[[], None] = lambda: None) -> None:
        self.ctx = ctx
        self.read_next = read_next  # called once a chunk's writes are queued (:meth:`_ReadAhead.want`)
        self.payer_ids = payer_ids
        self.session = ctx.session
        # read here, once: between a chunk's first write and its drain the session is the writer's
        # (an ORM attribute read then, if expired, would load it on the same connection)
        self.rem_id, self.file_id, self.trace = remittance.id, ctx.file.id, remittance.trace_number[:50]
        self.payment_date = remittance.payment_date
        self.counts = counts
        self.paid_date = _as_datetime(remittance.payment_date)
        self.pg = is_pg(ctx.session)
        self.now = utcnow()
        self.claim_keys: Any = []  # the chunk's matched claims (:func:`key_set`), for the queries that read them

    def post(self, batch: Sequence[Clp]) -> None:
        """Post one chunk: unmatched claims kept, payments, adjustments and remarks, claims, history, denials.

        Everything the chunk writes is worked out from what :meth:`_match` and :meth:`_nets` read
        before its first write; the writes then run on a :class:`WriteBehind` thread, so the database
        stores one table while the next one's rows are made."""
        matched = self._match(batch)
        if not matched:
            return
        prior = self._nets(list({m.claim.pk: None for m in matched}))
        with WriteBehind(self.session) as writes:
            self._insert_payments(matched, writes)
            line_paid, lines_unmatched = self._insert_details(matched, writes)
            statuses = self._update_claims(matched, prior, writes)
            writes.submit(copy_update, ClaimLine, ("paid",), list(line_paid.items()))
            self._insert_events(matched, statuses, writes)
            closed = self._update_denials(matched, statuses, writes)
            self.read_next()  # the next chunk is parsed while the database stores this one
            writes.drain()
        self.counts["denials_closed"] += sum(closed)
        self.counts.update(after_posting(
            self.session, self.ctx.config,
            [Posted(m.clp, m.claim.pk, tuple(ln.pk if ln is not None else None for ln in m.lines), m.payment_id,
                    statuses[m.claim.pk]) for m in matched],
            payment_date=self.payment_date, now=self.now))
        self.counts.update(update_underpaid(self.session, self.ctx.config, posted_lines(matched, statuses),
                                            now=self.now))
        self.counts["claims_posted"] += len(matched)
        self.counts["lines_unmatched"] += lines_unmatched
        for status, n in Counter(statuses.values()).items():
            self.counts[f"claims_{status}"] += n

    def _load(self, batch: Sequence[Clp]) -> dict[str, StoredClaim]:
        """The sent claims the chunk's CLP01s name (exactly, else by :func:`find_claim`), with their lines."""
        s = self.session
        run = s.connection().execute  # Core, all rows at once: no ORM loading, no fetch per row
        ids = list({c.claim_id: None for c in batch})
        found: dict[str, StoredClaim] = {}
        for cid, pk, freq, status in run(
                select(Claim.claim_id, Claim.id, Claim.frequency_code, Claim.status)
                .where(Claim.claim_id.in_(key_set(s, "clp01", Claim.claim_id, ids)), Claim.status.notin_(_UNSENT))).all():
            found[cid] = StoredClaim(pk, cid, freq, status)
        for cid in ids:
            if cid in found:
                continue
            hit = find_claim(s, cid)
            if hit is not None:
                row = s.execute(select(Claim.claim_id, Claim.frequency_code, Claim.status)
                                .where(Claim.id == hit)).one()
                found[cid] = StoredClaim(hit, row[0], row[1], row[2])
        found = self._route(found)
        by_pk = {st.pk: st for st in found.values()}
        self.claim_keys = key_set(s, "claims", ClaimLine.claim_pk, list(by_pk)) if by_pk else []
        if by_pk and self.pg:
            # Locked until the file's transaction ends, in id order, and read again: a worker posting
            # another file to the same claims waits here, then reads what that one committed (its
            # status, lines and postings), instead of overwriting it with what it read before.
            for pk, freq, status in run(
                    select(Claim.id, Claim.frequency_code, Claim.status).where(Claim.id.in_(self.claim_keys))
                    .order_by(Claim.id).with_for_update()).all():
                by_pk[pk].frequency_code, by_pk[pk].status = freq, status
        if by_pk:
            for pk, lpk, lcn, proc, mods, charge, paid in run(
                    select(ClaimLine.claim_pk, ClaimLine.id, ClaimLine.line_control_number, ClaimLine.procedure,
                           cast(ClaimLine.modifiers, Text), type_coerce(ClaimLine.charge, _MONEY),
                           type_coerce(ClaimLine.paid, _MONEY))
                    .where(ClaimLine.claim_pk.in_(self.claim_keys))
                    .order_by(ClaimLine.claim_pk, ClaimLine.line_number)).all():
                by_pk[pk].lines.append(StoredLine(lpk, lcn, proc, _modifiers(mods), charge, paid))
        return found

    def _route(self, found: dict[str, StoredClaim]) -> dict[str, StoredClaim]:
        """Each CLP01's claim moved to the leg of this 835's payer (:func:`route_to_legs`)."""
        routed = route_to_legs(self.session, self.ctx.config, self.payer_ids, {c: st.pk for c, st in found.items()})
        out: dict[str, StoredClaim] = {}
        moved: dict[str, int] = {}
        for cid, pk in routed.items():
            if pk is None:
                continue
            if pk == found[cid].pk:
                out[cid] = found[cid]
            else:
                moved[cid] = pk
        if moved:
            rows = {r[0]: r for r in self.session.execute(
                select(Claim.id, Claim.claim_id, Claim.frequency_code, Claim.status)
                .where(in_list(Claim.id, list(set(moved.values())), self.pg)))}
            for cid, pk in moved.items():
                r = rows[pk]
                out[cid] = StoredClaim(pk, r[1], r[2], r[3])
        return out

    def _match(self, batch: Sequence[Clp]) -> list[_Matched]:
        """The chunk's CLPs that name one of our claims; the others are stored as UnmatchedPayments."""
        found = self._load(batch)
        matched: list[_Matched] = []
        unmatched: list[tuple[Any, ...]] = []
        for c in batch:
            st = found.get(c.claim_id)
            if st is None:
                unmatched.append((self.rem_id, c.claim_id, c.status_code, c.charge, c.paid,
                                  c.payer_claim_number or None, _unmatched_detail(c), False, self.now))
                continue
            matched.append(_Matched(c, st, match_lines(st, c.lines)))
        if unmatched:
            copy_rows(self.session, UnmatchedPayment, _UNMATCHED, unmatched)
            self.counts["claims_unmatched"] += len(unmatched)
            for u in unmatched:
                log.warning("payment_unmatched", file_id=self.file_id, claim_id=u[1])
        return matched

    def _insert_payments(self, matched: list[_Matched], writes: WriteBehind) -> None:
        """One ClaimPayment per matched CLP; its id is kept on the match."""
        s, rid, now = self.session, self.rem_id, self.now
        payments = [(rid, m.claim.pk, m.clp.status_code, m.clp.charge, m.clp.paid, m.clp.patient_responsibility,
                     m.clp.payer_claim_number or None, now) for m in matched]
        if self.pg:
            payment_ids = new_ids(s, ClaimPayment, len(payments))  # read before the first write is queued
            writes.submit(copy_rows, ClaimPayment, ("id", *_PAYMENT),
                          [(i, *p) for p, i in zip(payments, payment_ids, strict=True)])
        else:
            payment_ids = list(s.scalars(insert(ClaimPayment).returning(ClaimPayment.id, sort_by_parameter_order=True),
                                         [dict(zip(_PAYMENT, p, strict=True)) for p in payments]))
        for m, pid in zip(matched, payment_ids, strict=True):
            m.payment_id = pid

    def _insert_details(self, matched: list[_Matched], writes: WriteBehind) -> tuple[dict[int, Decimal], int]:
        """Every CAS and remark at claim and line level; returns (line pk -> new net paid, lines unmatched)."""
        adjustments: list[tuple[Any, ...]] = []
        remarks: list[tuple[Any, ...]] = []
        adjust, remark = adjustments.append, remarks.append
        line_paid: dict[int, Decimal] = {}
        lines_unmatched = 0
        for m in matched:
            c, pid, pk = m.clp, m.payment_id, m.claim.pk
            for a in c.adjustments:
                adjust((pid, pk, None, a.group, a.reason, a.amount, a.quantity))
            for code in c.remarks:
                remark((pid, pk, None, code))
            for svc, hit in zip(c.lines, m.lines, strict=True):
                lpk: int | None = None
                if hit is None:
                    lines_unmatched += 1
                else:
                    lpk = hit.pk
                    if svc.paid:  # a line paid nothing keeps its amount: no update
                        hit.paid = line_paid[lpk] = hit.paid + svc.paid
                for a in svc.adjustments:
                    adjust((pid, pk, lpk, a.group, a.reason, a.amount, a.quantity))
                for code in svc.remarks:
                    remark((pid, pk, lpk, code))
        writes.submit(copy_rows, Adjustment, _ADJUSTMENT, adjustments)
        writes.submit(copy_rows, Remark, _REMARK, remarks)
        return line_paid, lines_unmatched

    def _nets(self, pks: list[int]) -> _Nets:
        """Net paid, and net adjustment per (group, CARC), of the earlier postings of these claims (read
        before the chunk writes its own): ``pks`` are the chunk's matched claims, staged by :meth:`_load`
        as ``claim_keys``."""
        s = self.session
        net_paid: dict[int, Decimal] = dict.fromkeys(pks, ZERO)
        for pk, total in s.execute(select(ClaimPayment.claim_pk, type_coerce(func.sum(ClaimPayment.paid), _MONEY))
                                   .where(ClaimPayment.claim_pk.in_(self.claim_keys)).group_by(ClaimPayment.claim_pk)):
            net_paid[pk] = cents(total)
        net_adj: defaultdict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
        for pk, group, reason, total in s.execute(
                select(Adjustment.claim_pk, Adjustment.group, Adjustment.reason,
                       type_coerce(func.sum(Adjustment.amount), _MONEY))
                .where(Adjustment.claim_pk.in_(self.claim_keys))
                .group_by(Adjustment.claim_pk, Adjustment.group, Adjustment.reason)):
            net_adj[pk][(group, reason)] = cents(total)
        return net_paid, net_adj

    def _update_claims(self, matched: list[_Matched], prior: _Nets, writes: WriteBehind) -> dict[int, ClaimStatus]:
        """Each touched claim's status (through the lifecycle), paid, patient share, payer claim number
        and payment date, from the net of all its postings (``prior``, the earlier ones, plus this
        chunk's, added as they are stored: each amount in cents); returns the new statuses."""
        last: dict[int, _Matched] = {}
        pcn: dict[int, str] = {}
        paid_at: dict[int, datetime] = {}
        net_paid, net_adj = prior
        for m in matched:
            c, pk = m.clp, m.claim.pk
            last[pk] = m
            if c.payer_claim_number and (not c.is_reversal or pk not in pcn):
                pcn[pk] = c.payer_claim_number
            if c.paid > 0:
                paid_at[pk] = self.paid_date
            net_paid[pk] += cents(c.paid)
            adjusted = net_adj[pk]
            for a in itertools.chain(c.adjustments, *(svc.adjustments for svc in c.lines)):
                key = (a.group, a.reason)
                adjusted[key] = adjusted.get(key, ZERO) + cents(a.amount)
        statuses: dict[int, ClaimStatus] = {}
        rows: list[tuple[Any, ...]] = []
        for pk, m in last.items():
            adjustments = net_adj.get(pk, {})
            patient = patient_share(adjustments)
            event = posting_outcome(frequency_code=m.claim.frequency_code, net_paid=net_paid[pk],
                                    last_is_reversal=m.clp.is_reversal, net_adjustments=adjustments,
                                    net_patient=patient)
            status = statuses[pk] = transition(m.claim.status, event, claim_id=m.claim.claim_id)
            # no new payer claim number or payment date (None): the claim keeps the one it has
            rows.append((pk, status.value, net_paid[pk], patient, pcn.get(pk), paid_at.get(pk)))
        writes.submit(copy_update, Claim, _CLAIM, rows, {"status_reason": None, "updated_at": self.now},
                      ("payer_claim_number", "paid_at"))
        return statuses

    def _insert_events(self, matched: list[_Matched], statuses: dict[int, ClaimStatus], writes: WriteBehind) -> None:
        """One ClaimStatusEvent (source 835) per posting."""
        file_id, date_, trace, now = self.file_id, self.payment_date, self.trace, self.now
        events = [(m.claim.pk, file_id, "835", None, m.clp.status_code, date_,
                   f"835 CLP02 {m.clp.status_code}: paid {m.clp.paid:.2f}, claim now {statuses[m.claim.pk]}",
                   m.clp.payer_claim_number or None, trace, now)
                  for m in matched]
        writes.submit(copy_rows, ClaimStatusEvent, _EVENT, events)

    def _update_denials(self, matched: list[_Matched], statuses: dict[int, ClaimStatus],
                        writes: WriteBehind) -> list[int]:
        """Close the open denials of claims now paid, then open one Denial per denied adjustment; returns
        a list that holds the number of denials closed once ``writes`` are drained."""
        now = self.now
        closed: list[int] = []
        paid_pks = [pk for pk, status in statuses.items() if status is ClaimStatus.PAID]
        if paid_pks:
            writes.submit(_close_denials, paid_pks, now, closed)
        denials: list[tuple[Any, ...]] = []
        for m in matched:
            for item in denial_items(m.clp, statuses[m.claim.pk]):
                hit = m.lines[item.line] if item.line is not None else None
                denials.append((m.claim.pk, hit.pk if hit is not None else None, m.payment_id, item.group,
                                item.reason, list(item.remarks), item.amount, item.category, item.action, "open",
                                now, now))
        if denials:
            writes.submit(copy_rows, Denial, _DENIAL, denials)
            self.counts["denials_opened"] += len(denials)
        return closed


def _close_denials(s: Session, pks: list[int], now: datetime, closed: list[int]) -> None:
    """The open denials of these claims (paid now) closed, their number appended to ``closed``
    (underpaid items excepted: they follow the net)."""
    result = s.execute(update(Denial).where(Denial.claim_pk.in_(key_set(s, "paid", Denial.claim_pk, pks)),
                                            Denial.state == "open", Denial.category != UNDERPAID)
                       .values(state="closed", note="paid by a later posting", updated_at=now)
                       .execution_options(synchronize_session=False))
    closed.append(int(getattr(result, "rowcount", 0) or 0))


# ------------------------------------------------------------------------------------------------
# One transaction set, one file
# ------------------------------------------------------------------------------------------------


def _payer_key(reader: Remittance835Reader) -> str:
    p = reader.payer
    return (reader.payment.payer_tax_id or p.id or p.reference("2U") or p.name or "UNKNOWN")[:80]


def _payer_ids(reader: Remittance835Reader) -> list[str]:
    """The 835's identifications of its payer: N1*PR N104, REF*2U, TRN03 (for :func:`route_to_legs`)."""
    p = reader.payer
    return [v.strip() for v in (p.id, p.reference("2U"), reader.payment.payer_tax_id) if v and v.strip()]


_REMITTANCE_LOCK = 0x45445252
"""The first key of the advisory lock on a remittance's payer and trace ("EDRR", see :func:`_already_posted`)."""


def _posted_before(ctx: ApplyContext, key: str, trace: str) -> int | None:
    """The Remittance of this payer's TRN02 if it was posted before (from this file, an earlier one
    or a replay). Two workers posting two files with the same remittance take turns here
    (PostgreSQL), so the second finds the first's and counts a duplicate instead of failing on the
    unique payer and trace."""
    xact_lock(ctx.session, _REMITTANCE_LOCK, f"{key}\x1f{trace}".encode())
    return ctx.session.scalar(select(Remittance.id).where(Remittance.payer_key == key,
                                                          Remittance.trace_number == trace))


def _post_kept_unmatched(ctx: ApplyContext, reader: Remittance835Reader, rem_id: int, retry: Sequence[Clp],
                         counts: Counter[str]) -> None:
    """A posted remittance's claims kept unmatched, posted now if they find their claim (e.g. a
    secondary payer's 835 that came before the primary's: `edi replay` once the primary posted, see
    :mod:`pipelines.usecases.cob`); those stay resolved. The ones still unmatched stay as they were."""
    s = ctx.session
    before = s.scalar(select(func.max(UnmatchedPayment.id))) or 0
    rem = s.get(Remittance, rem_id)
    assert rem is not None
    _Poster(ctx, rem, counts, _payer_ids(reader)).post(retry)
    again = set(s.scalars(select(UnmatchedPayment.claim_id).where(UnmatchedPayment.remittance_id == rem_id,
                                                                 UnmatchedPayment.id > before)))
    s.execute(delete(UnmatchedPayment).where(UnmatchedPayment.remittance_id == rem_id, UnmatchedPayment.id > before))
    counts["claims_unmatched"] -= len([c for c in retry if c.claim_id in again])
    posted = sorted({c.claim_id for c in retry} - again)
    if posted:
        s.execute(update(UnmatchedPayment).where(UnmatchedPayment.remittance_id == rem_id,
                                                 UnmatchedPayment.claim_id.in_(posted))
                  .values(resolved=True).execution_options(synchronize_session=False))
        counts["unmatched_posted"] += len(posted)


def _payee_mismatch(ctx: ApplyContext, reader: Remittance835Reader) -> list[str]:
    """How the set's payee (1000B: N1*PE NPI or tax id, REF*TJ) differs from the practice; [] when it is ours.

    A payee that carries neither an NPI nor a tax id cannot be compared and is taken as ours.
    """
    practice, payee = ctx.config.practice, reader.payee
    digits = re.compile(r"\D")
    found: list[str] = []
    if payee.npi and payee.npi.strip() != practice.billing_npi:
        found.append(f"payee NPI {payee.npi.strip()} (the practice's is {practice.billing_npi})")
    tax_ids = [payee.id] if payee.id_qualifier == "FI" else []
    tax_ids += [v for q, v in payee.references if q == "TJ"]
    for tax_id in tax_ids:
        if digits.sub("", tax_id) != digits.sub("", practice.tax_id):
            found.append(f"payee tax id {tax_id.strip()} (the practice's is {practice.tax_id})")
            break
    return found


def _check_payee(ctx: ApplyContext, reader: Remittance835Reader, counts: Counter[str]) -> None:
    """An 835 addressed to another payee fails the file (nothing is posted), unless forced after review."""
    found = _payee_mismatch(ctx, reader)
    if not found:
        return
    if not ctx.force:
        raise ApplyError(
            f"835 {reader.control_number} is not addressed to the practice: {'; '.join(found)}; nothing was "
            f"posted. Review the file, then `edi replay {ctx.file.id} --force` to post it as it is.",
            {"st_control": reader.control_number, "segment_id": "N1", "loop": "1000B", "element": 4})
    counts["payee_forced"] += 1
    log.warning("remittance_payee_forced", file_id=ctx.file.id, st_control=reader.control_number)


def _check_balance(ctx: ApplyContext, reader: Remittance835Reader, rem: Remittance, counts: Counter[str]) -> None:
    """An unbalanced set fails the file, unless forced: then its findings are kept on the Remittance."""
    findings = reader.balance()
    if not findings:
        return
    messages = [str(f) for f in findings]
    if not ctx.force:
        first = findings[0]
        shown = "; ".join(messages[:5]) + (f"; and {len(messages) - 5} more" if len(messages) > 5 else "")
        raise ApplyError(
            f"835 {reader.control_number} (trace {rem.trace_number}) does not balance, nothing was posted: "
            f"{shown}. Review the file, then `edi replay FILE_ID --force` to post it as it is.",
            {"st_control": reader.control_number, "claim_id": first.claim_id, "level": first.level,
             "segment_id": "CLP" if first.claim_id else "BPR"})
    rem.balanced, rem.forced, rem.balance_errors = False, True, messages
    counts["remittances_forced"] += 1
    log.warning("remittance_forced", file_id=ctx.file.id, remittance_id=rem.id, findings=len(messages))


class _SetPosting:
    """One 835 transaction set, posted a chunk at a time as :func:`_set_chunks` hands them over: the
    duplicate check first; then a new remittance's claims are posted, or a duplicate's claims that
    were kept unmatched are gathered to be tried again; :meth:`finish` (its last chunk read) checks
    the balance and stores the PLBs."""

    def __init__(self, ctx: ApplyContext, reader: Remittance835Reader, counts: Counter[str],
                 read_next: Callable[[], None]) -> None:
        _check_payee(ctx, reader, counts)
        self.ctx, self.reader, self.counts = ctx, reader, counts
        payment = reader.payment
        key, self.trace = _payer_key(reader), payment.trace_number[:80]
        self.earlier = _posted_before(ctx, key, self.trace)
        self.waiting: set[str] = set()
        self.retry: list[Clp] = []
        self.poster: _Poster | None = None
        if self.earlier:
            self.waiting = set(ctx.session.scalars(select(UnmatchedPayment.claim_id).where(
                UnmatchedPayment.remittance_id == self.earlier, UnmatchedPayment.resolved.is_(False))))
            return
        rem = self.rem = Remittance(
            file_id=ctx.file.id, st_control=reader.control_number, payer_key=key,
            payer_name=(reader.payer.name or None) and reader.payer.name[:80], trace_number=self.trace,
            amount=payment.signed_amount, method=payment.method[:8] or None, payment_date=payment.date,
            balanced=True, forced=False, balance_errors=[])
        ctx.session.add(rem)
        ctx.session.flush()
        self.poster = _Poster(ctx, rem, counts, _payer_ids(reader), read_next)

    def take(self, claims: list[Clp]) -> None:
        if self.poster is not None:
            self.poster.post(claims)
        else:
            self.retry += [c for c in claims if c.claim_id in self.waiting]

    def finish(self) -> None:
        ctx, reader, counts = self.ctx, self.reader, self.counts
        if self.earlier:
            if self.retry:
                _post_kept_unmatched(ctx, reader, self.earlier, self.retry, counts)
            counts["duplicate_remittances"] += 1
            log.info("remittance_duplicate", file_id=ctx.file.id, st_control=reader.control_number,
                     trace_number=self.trace)
            return
        rem = self.rem
        _check_balance(ctx, reader, rem, counts)
        plb = [{"remittance_id": rem.id, "provider_id": p.provider_id[:50] or None, "fiscal_date": p.fiscal_date,
                "reason": p.reason[:4], "reference": p.reference[:80] or None, "amount": p.amount}
               for p in reader.provider_adjustments]
        if plb:
            insert_rows(ctx.session, ProviderAdjustment, plb)
            counts["provider_adjustments"] += len(plb)
        counts["remittances_posted"] += 1
        log.info("remittance_posted", file_id=ctx.file.id, remittance_id=rem.id, st_control=reader.control_number,
                 trace_number=self.trace, amount=str(rem.amount))


def apply_835(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Post every 835 transaction set of a file (see the module docstring); returns counts."""
    counts: Counter[str] = Counter()
    for name in ("remittances_posted", "duplicate_remittances", "claims_posted", "claims_unmatched",
                 "denials_opened", "denials_closed", "provider_adjustments"):
        counts[name] = 0
    current: _SetPosting | None = None
    # no reference cycles: the collector would only walk the rows again and again; an error while
    # posting stops the reading too
    with collector_paused(), _ReadAhead(_set_chunks(data, CHUNK)) as stream:
        for chunk in stream:
            if current is None or current.reader is not chunk.reader:
                current = _SetPosting(ctx, chunk.reader, counts, stream.want)
            current.take(chunk.claims)
            if chunk.last:
                current.finish()
    return dict(counts)
