"""835 posting: balance check, duplicate check, claim and line matching, payments, denials, status.

:func:`apply_835` is the applier :mod:`pipelines.usecases.ingest` registers for kind ``835``; it runs inside
the savepoint of the file's transaction, so a file is posted whole or not at all.

For every 835 transaction set in the file:

* **Duplicate**: a remittance with the same payer key and TRN02 already posted (from this file, an
  earlier file, or a replay) is not posted again; the set counts as ``duplicate_remittances``. The
  payer key is TRN03 (the payer's originating company id), else N1*PR N104, else REF*2U, else the
  payer's name.
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

Work is done in chunks of claims as the reader streams them: one query loads the chunk's claims,
one their lines, and payments, adjustments, remarks, events and denials are inserted in bulk.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
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
from pipelines.usecases.bulk import in_list, insert_rows, is_pg, new_ids, update_rows
from pipelines.usecases.cob import Posted, after_posting, route_to_legs
from pipelines.usecases.underpaid import posted_lines, update_underpaid

__all__ = ["CHUNK", "apply_835", "find_claim"]

CHUNK = 2000
log = get_logger("edi")
_UNSENT = sorted(s.value for s in UNSENT)  # a claim we never sent is never posted to


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


@dataclass
class _Matched:
    """One CLP of the chunk, the claim it posts to, its lines' matches and its ClaimPayment id."""

    clp: Clp
    claim: StoredClaim
    lines: list[StoredLine | None]
    payment_id: int = 0


class _Poster:
    """Posts the claims of one remittance, a chunk at a time: :meth:`post` runs the steps in order."""

    def __init__(self, ctx: ApplyContext, remittance: Remittance, counts: Counter[str],
                 payer_ids: Sequence[str] = ()) -> None:
        self.ctx = ctx
        self.payer_ids = payer_ids
        self.session = ctx.session
        self.rem = remittance
        self.counts = counts
        self.paid_date = _as_datetime(remittance.payment_date)
        self.pg = is_pg(ctx.session)
        self.now = utcnow()

    def post(self, batch: Sequence[Clp]) -> None:
        """Post one chunk: unmatched claims kept, payments, adjustments and remarks, claims, history, denials."""
        matched = self._match(batch)
        if not matched:
            return
        self._insert_payments(matched)
        line_paid, lines_unmatched = self._insert_details(matched)
        statuses = self._update_claims(matched)
        if line_paid:
            update_rows(self.session, ClaimLine, [{"id": k, "paid": v} for k, v in line_paid.items()], ("paid",))
        self._insert_events(matched, statuses)
        self._update_denials(matched, statuses)
        self.counts.update(after_posting(
            self.session, self.ctx.config,
            [Posted(m.clp, m.claim.pk, tuple(ln.pk if ln is not None else None for ln in m.lines), m.payment_id,
                    statuses[m.claim.pk]) for m in matched],
            payment_date=self.rem.payment_date, now=self.now))
        self.counts.update(update_underpaid(self.session, self.ctx.config, posted_lines(matched, statuses),
                                            now=self.now))
        self.counts["claims_posted"] += len(matched)
        self.counts["lines_unmatched"] += lines_unmatched
        for status, n in Counter(statuses.values()).items():
            self.counts[f"claims_{status}"] += n

    def _load(self, batch: Sequence[Clp]) -> dict[str, StoredClaim]:
        """The sent claims the chunk's CLP01s name (exactly, else by :func:`find_claim`), with their lines."""
        s = self.session
        ids = list({c.claim_id for c in batch})
        found: dict[str, StoredClaim] = {}
        for cid, pk, freq, status in s.execute(
                select(Claim.claim_id, Claim.id, Claim.frequency_code, Claim.status)
                .where(in_list(Claim.claim_id, ids, self.pg), Claim.status.notin_(_UNSENT))):
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
        if by_pk:
            for pk, lpk, lcn, proc, mods, charge, paid in s.execute(
                    select(ClaimLine.claim_pk, ClaimLine.id, ClaimLine.line_control_number, ClaimLine.procedure,
                           ClaimLine.modifiers, ClaimLine.charge, ClaimLine.paid)
                    .where(in_list(ClaimLine.claim_pk, list(by_pk), self.pg))
                    .order_by(ClaimLine.claim_pk, ClaimLine.line_number)):
                by_pk[pk].lines.append(StoredLine(lpk, lcn, proc, tuple(mods or ()), charge, paid))
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
        unmatched: list[dict[str, Any]] = []
        for c in batch:
            st = found.get(c.claim_id)
            if st is None:
                unmatched.append({"remittance_id": self.rem.id, "claim_id": c.claim_id, "status_code": c.status_code,
                                  "charge": c.charge, "paid": c.paid,
                                  "payer_claim_number": c.payer_claim_number or None,
                                  "detail": _unmatched_detail(c), "resolved": False, "created_at": self.now})
                continue
            matched.append(_Matched(c, st, match_lines(st, c.lines)))
        if unmatched:
            insert_rows(self.session, UnmatchedPayment, unmatched)
            self.counts["claims_unmatched"] += len(unmatched)
            for u in unmatched:
                log.warning("payment_unmatched", file_id=self.ctx.file.id, claim_id=u["claim_id"])
        return matched

    def _insert_payments(self, matched: list[_Matched]) -> None:
        """One ClaimPayment per matched CLP; its id is kept on the match."""
        s = self.session
        payments = [{"remittance_id": self.rem.id, "claim_pk": m.claim.pk, "status_code": m.clp.status_code,
                     "charge": m.clp.charge, "paid": m.clp.paid, "patient_responsibility": m.clp.patient_responsibility,
                     "payer_claim_number": m.clp.payer_claim_number or None, "created_at": self.now}
                    for m in matched]
        if self.pg:
            payment_ids = new_ids(s, ClaimPayment, len(payments))
            insert_rows(s, ClaimPayment, [p | {"id": i} for p, i in zip(payments, payment_ids, strict=True)])
        else:
            payment_ids = list(s.scalars(insert(ClaimPayment).returning(ClaimPayment.id, sort_by_parameter_order=True),
                                         payments))
        for m, pid in zip(matched, payment_ids, strict=True):
            m.payment_id = pid

    def _insert_details(self, matched: list[_Matched]) -> tuple[dict[int, Decimal], int]:
        """Every CAS and remark at claim and line level; returns (line pk -> new net paid, lines unmatched)."""
        adjustments: list[dict[str, Any]] = []
        remarks: list[dict[str, Any]] = []
        line_paid: dict[int, Decimal] = {}
        lines_unmatched = 0

        def add(pid: int, claim_pk: int, line_pk: int | None, cas: Iterable[Any], codes: Iterable[str]) -> None:
            adjustments.extend({"claim_payment_id": pid, "claim_pk": claim_pk, "line_pk": line_pk, "group": a.group,
                                "reason": a.reason, "amount": a.amount, "quantity": a.quantity} for a in cas)
            remarks.extend({"claim_payment_id": pid, "claim_pk": claim_pk, "line_pk": line_pk, "code": code}
                           for code in codes)

        for m in matched:
            c, pid, pk = m.clp, m.payment_id, m.claim.pk
            add(pid, pk, None, c.adjustments, c.remarks)
            for svc, hit in zip(c.lines, m.lines, strict=True):
                if hit is None:
                    lines_unmatched += 1
                else:
                    hit.paid = hit.paid + svc.paid
                    line_paid[hit.pk] = hit.paid
                add(pid, pk, hit.pk if hit is not None else None, svc.adjustments, svc.remarks)
        insert_rows(self.session, Adjustment, adjustments)
        insert_rows(self.session, Remark, remarks)
        return line_paid, lines_unmatched

    def _nets(self, pks: list[int]) -> tuple[dict[int, Decimal], dict[int, dict[tuple[str, str], Decimal]]]:
        """Net paid, and net adjustment per (group, CARC), of every posting of these claims (this chunk's too)."""
        s = self.session
        net_paid: dict[int, Decimal] = dict.fromkeys(pks, ZERO)
        for pk, total in s.execute(select(ClaimPayment.claim_pk, func.sum(ClaimPayment.paid))
                                   .where(in_list(ClaimPayment.claim_pk, pks, self.pg)).group_by(ClaimPayment.claim_pk)):
            net_paid[pk] = cents(total)
        net_adj: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
        for pk, group, reason, total in s.execute(
                select(Adjustment.claim_pk, Adjustment.group, Adjustment.reason, func.sum(Adjustment.amount))
                .where(in_list(Adjustment.claim_pk, pks, self.pg))
                .group_by(Adjustment.claim_pk, Adjustment.group, Adjustment.reason)):
            net_adj[pk][(group, reason)] = cents(total)
        return net_paid, net_adj

    def _update_claims(self, matched: list[_Matched]) -> dict[int, ClaimStatus]:
        """Each touched claim's status (through the lifecycle), paid, patient share, payer claim number
        and payment date, from the net of all its postings; returns the new statuses."""
        last: dict[int, _Matched] = {}
        pcn: dict[int, str] = {}
        paid_at: dict[int, datetime] = {}
        for m in matched:
            c, pk = m.clp, m.claim.pk
            last[pk] = m
            if c.payer_claim_number and (not c.is_reversal or pk not in pcn):
                pcn[pk] = c.payer_claim_number
            if c.paid > 0:
                paid_at[pk] = self.paid_date
        net_paid, net_adj = self._nets(list(last))
        statuses: dict[int, ClaimStatus] = {}
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for pk, m in last.items():
            patient = patient_share(net_adj[pk])
            event = posting_outcome(frequency_code=m.claim.frequency_code, net_paid=net_paid[pk],
                                    last_is_reversal=m.clp.is_reversal, net_adjustments=net_adj[pk],
                                    net_patient=patient)
            statuses[pk] = transition(m.claim.status, event, claim_id=m.claim.claim_id)
            row: dict[str, Any] = {"id": pk, "status": statuses[pk].value, "paid": net_paid[pk],
                                   "patient_responsibility": patient}
            if pk in pcn:
                row["payer_claim_number"] = pcn[pk]
            if pk in paid_at:
                row["paid_at"] = paid_at[pk]
            # one UPDATE per set of columns (a claim may have no new payer claim number or payment date)
            by_keys[tuple(k for k in row if k != "id")].append(row)
        for keys, rows in by_keys.items():
            update_rows(self.session, Claim, rows, keys, {"status_reason": None, "updated_at": self.now})
        return statuses

    def _insert_events(self, matched: list[_Matched], statuses: dict[int, ClaimStatus]) -> None:
        """One ClaimStatusEvent (source 835) per posting."""
        events = [{"claim_pk": m.claim.pk, "file_id": self.ctx.file.id, "source": "835", "category": None,
                   "code": m.clp.status_code, "status_date": self.rem.payment_date,
                   "description": f"835 CLP02 {m.clp.status_code}: paid {m.clp.paid:.2f}, "
                                  f"claim now {statuses[m.claim.pk]}",
                   "payer_claim_number": m.clp.payer_claim_number or None, "trace": self.rem.trace_number[:50],
                   "created_at": self.now}
                  for m in matched]
        insert_rows(self.session, ClaimStatusEvent, events)

    def _update_denials(self, matched: list[_Matched], statuses: dict[int, ClaimStatus]) -> None:
        """Close the open denials of claims now paid, then open one Denial per denied adjustment."""
        s, now = self.session, self.now
        paid_pks = [pk for pk, status in statuses.items() if status is ClaimStatus.PAID]
        if paid_pks:
            closed = s.execute(update(Denial).where(in_list(Denial.claim_pk, paid_pks, self.pg), Denial.state == "open",
                                                    Denial.category != UNDERPAID)
                               .values(state="closed", note="paid by a later posting", updated_at=now)
                               .execution_options(synchronize_session=False))
            self.counts["denials_closed"] += int(getattr(closed, "rowcount", 0) or 0)
        denials: list[dict[str, Any]] = []
        for m in matched:
            for item in denial_items(m.clp, statuses[m.claim.pk]):
                hit = m.lines[item.line] if item.line is not None else None
                denials.append({"claim_pk": m.claim.pk, "line_pk": hit.pk if hit is not None else None,
                                "claim_payment_id": m.payment_id, "group": item.group, "reason": item.reason,
                                "remarks": list(item.remarks), "amount": item.amount, "category": item.category,
                                "action": item.action, "state": "open", "created_at": now, "updated_at": now})
        if denials:
            insert_rows(s, Denial, denials)
            self.counts["denials_opened"] += len(denials)


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


def _already_posted(ctx: ApplyContext, reader: Remittance835Reader, key: str, trace: str,
                    counts: Counter[str]) -> bool:
    """Whether this payer's TRN02 was posted before; if so the set is read to its SE and counted."""
    if not ctx.session.scalar(select(Remittance.id).where(Remittance.payer_key == key,
                                                          Remittance.trace_number == trace)):
        return False
    for _ in reader:  # read to the SE so the next set starts cleanly
        pass
    counts["duplicate_remittances"] += 1
    log.info("remittance_duplicate", file_id=ctx.file.id, st_control=reader.control_number, trace_number=trace)
    return True


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


def _post_set(ctx: ApplyContext, reader: Remittance835Reader, counts: Counter[str]) -> None:
    """Post one 835 transaction set: duplicate check, claims a chunk at a time, balance, PLB."""
    s = ctx.session
    payment = reader.payment
    key, trace = _payer_key(reader), payment.trace_number[:80]
    if _already_posted(ctx, reader, key, trace, counts):
        return
    rem = Remittance(file_id=ctx.file.id, st_control=reader.control_number, payer_key=key,
                     payer_name=(reader.payer.name or None) and reader.payer.name[:80], trace_number=trace,
                     amount=payment.signed_amount, method=payment.method[:8] or None,
                     payment_date=payment.date, balanced=True, forced=False, balance_errors=[])
    s.add(rem)
    s.flush()
    poster = _Poster(ctx, rem, counts, _payer_ids(reader))
    batch: list[Clp] = []
    for claim in reader:
        batch.append(claim)
        if len(batch) >= CHUNK:
            poster.post(batch)
            batch = []
    if batch:
        poster.post(batch)
    _check_balance(ctx, reader, rem, counts)
    plb = [{"remittance_id": rem.id, "provider_id": p.provider_id[:50] or None, "fiscal_date": p.fiscal_date,
            "reason": p.reason[:4], "reference": p.reference[:80] or None, "amount": p.amount}
           for p in reader.provider_adjustments]
    if plb:
        insert_rows(s, ProviderAdjustment, plb)
        counts["provider_adjustments"] += len(plb)
    counts["remittances_posted"] += 1
    log.info("remittance_posted", file_id=ctx.file.id, remittance_id=rem.id, st_control=reader.control_number,
             trace_number=trace, amount=str(rem.amount))


def apply_835(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Post every 835 transaction set of a file (see the module docstring); returns counts."""
    counts: Counter[str] = Counter()
    for name in ("remittances_posted", "duplicate_remittances", "claims_posted", "claims_unmatched",
                 "denials_opened", "denials_closed", "provider_adjustments"):
        counts[name] = 0
    for ts in open_x12(data):
        if ts.set_id != "835":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in an 835 file",
                             {"segment_number": ts.segment_number, "segment_id": "ST"})
        reader = read_835(ts)
        _check_payee(ctx, reader, counts)
        _post_set(ctx, reader, counts)
    return dict(counts)
