"""835 posting: balance check, duplicate check, claim and line matching, payments, denials, status.

:func:`apply_835` is the applier :mod:`pipelines.usecases.ingest` registers for kind ``835``; it runs inside
the savepoint of the file's transaction, so a file is posted whole or not at all.

For every 835 transaction set in the file:

* **Duplicate**: a remittance with the same payer key and TRN02 already posted (from this file, an
  earlier file, or a replay) is not posted again; the set counts as ``duplicate_remittances``. The
  payer key is TRN03 (the payer's originating company id), else N1*PR N104, else REF*2U, else the
  payer's name.
* **Balance**: an unbalanced set (line, claim or transaction level, see :mod:`edi.x835`) raises
  :class:`ApplyError` naming the claim and the amounts, which fails the file; ``edi replay ID --force``
  posts it anyway and keeps the findings on the Remittance (``balanced`` false, ``forced`` true).
* **Matching**: CLP01 to a claim we sent (status other than held/ready): exactly; else ignoring case,
  padding and leading zeros of the number part (``c000123 `` and ``C123`` find ``C000123``); else as a
  prefix the payer truncated, when exactly one of our claims starts with it. Lines by REF*6R (our
  line item control number), else by procedure, modifiers and charge among the claim's lines. An 835
  claim that matches nothing is stored as an :class:`UnmatchedPayment` (never dropped).
* **Posting**: a ClaimPayment per CLP (reversals, CLP02 22, with their negative amounts as written),
  every CAS at claim and line level, every remark (MOA/MIA at claim level, LQ*HE at line level), the
  payer claim number onto the claim, line paid amounts (net of all postings), the claim's ``paid``
  (net of all its ClaimPayments), ``patient_responsibility`` (net of all its PR adjustments) and
  ``paid_at`` (the payment date of the last posting that paid something). PLB rows are stored
  against the Remittance. Unknown CARC/RARC codes are stored as they are.
* **Status** (CONTRACT section 6) from the net of every posting: void (a frequency 8 claim);
  reversed (the last posting is a reversal and nothing is left paid); paid (net payment > 0);
  denied (net 0 and CO/OA/PI adjustments other than CARC 45 remain); patient_responsibility (net 0,
  the rest is PR); otherwise denied (nothing paid and nothing owed by the patient). One
  ClaimStatusEvent (source ``835``) per posting.
* **Denials**: on a claim left denied, every CO/OA/PI adjustment other than CARC 45 with a positive
  amount becomes a Denial; on a claim that is paid, the same for lines paid nothing (a denied line).
  Category and action come from :func:`pipelines.denials.categorize`. A posting that leaves a claim
  paid closes its open denials from earlier postings.

Work is done in chunks of claims as the reader streams them: one query loads the chunk's claims,
one their lines, and payments, adjustments, remarks, events and denials are inserted in bulk.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from edi.x12 import open_x12
from edi.x835 import ClaimPayment as Clp
from edi.x835 import Remittance835Reader, ServiceLine, read_835
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
from pipelines.rules.denials import categorize
from pipelines.usecases.bulk import in_list, insert_rows, is_pg, new_ids, update_rows
from pipelines.usecases.ingest import ApplyContext

__all__ = ["CHUNK", "DENIAL_GROUPS", "apply_835", "claim_status", "find_claim", "normalize_claim_id"]

CHUNK = 2000
DENIAL_GROUPS = frozenset({"CO", "OA", "PI"})
_ZERO = Decimal("0.00")
_UNSENT = ("held", "ready")
_MIN_PREFIX = 4


# ------------------------------------------------------------------------------------------------
# Matching
# ------------------------------------------------------------------------------------------------


def normalize_claim_id(value: str) -> str:
    """CLP01 compared loosely: trimmed, upper case, zero padding and leading zeros of numbers dropped."""
    return re.sub(r"(?<!\d)0+(?=\d)", "", value.strip().upper().lstrip("0"))


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
    prefix = clp01.strip().upper()
    if len(prefix) < _MIN_PREFIX:
        return None
    rows = session.execute(select(Claim.id).where(
        sent, func.upper(Claim.claim_id).like(_like_escape(prefix) + "%", escape="\\")).limit(2)).all()
    return rows[0][0] if len(rows) == 1 else None


@dataclass
class _Line:
    pk: int
    lcn: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal


@dataclass
class _Stored:
    pk: int
    claim_id: str
    frequency_code: str
    lines: list[_Line] = field(default_factory=list)


def _match_lines(stored: _Stored, lines: Sequence[ServiceLine]) -> list[_Line | None]:
    """Each 835 line's stored line: by REF*6R, else procedure + modifiers + charge (each used once)."""
    by_lcn = {ln.lcn: ln for ln in stored.lines}
    used: set[int] = set()
    out: list[_Line | None] = []
    for svc in lines:
        hit = by_lcn.get(svc.line_control_number or "") if svc.line_control_number else None
        if hit is None:
            charge = abs(svc.charge)
            hit = next((ln for ln in stored.lines if ln.pk not in used and ln.procedure == svc.procedure
                        and ln.modifiers == tuple(svc.modifiers) and ln.charge == charge), None)
        if hit is not None:
            used.add(hit.pk)
        out.append(hit)
    return out


# ------------------------------------------------------------------------------------------------
# Status
# ------------------------------------------------------------------------------------------------


def claim_status(*, frequency_code: str, net_paid: Decimal, last_is_reversal: bool,
                 net_adjustments: dict[tuple[str, str], Decimal], net_patient: Decimal) -> str:
    """The claim status after posting (CONTRACT section 6) from the net of every posting."""
    if frequency_code == "8":
        return "void"
    if last_is_reversal and net_paid <= 0:
        return "reversed"
    if net_paid > 0:
        return "paid"
    if any(g in DENIAL_GROUPS and r != "45" and a != 0 for (g, r), a in net_adjustments.items()):
        return "denied"
    if net_patient > 0:
        return "patient_responsibility"
    return "denied"


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


class _Poster:
    """Posts the claims of one remittance, a chunk at a time."""

    def __init__(self, ctx: ApplyContext, remittance: Remittance, counts: Counter[str]) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.rem = remittance
        self.counts = counts
        self.paid_date = _as_datetime(remittance.payment_date)
        self.pg = is_pg(ctx.session)
        self.now = utcnow()

    def _load(self, batch: Sequence[Clp]) -> dict[str, _Stored]:
        s = self.session
        ids = list({c.claim_id for c in batch})
        found: dict[str, _Stored] = {}
        for cid, pk, freq in s.execute(select(Claim.claim_id, Claim.id, Claim.frequency_code)
                                       .where(in_list(Claim.claim_id, ids, self.pg), Claim.status.notin_(_UNSENT))):
            found[cid] = _Stored(pk, cid, freq)
        for cid in ids:
            if cid in found:
                continue
            hit = find_claim(s, cid)
            if hit is not None:
                row = s.execute(select(Claim.claim_id, Claim.frequency_code).where(Claim.id == hit)).one()
                found[cid] = _Stored(hit, row[0], row[1])
        by_pk = {st.pk: st for st in found.values()}
        if by_pk:
            for pk, lpk, lcn, proc, mods, charge, paid in s.execute(
                    select(ClaimLine.claim_pk, ClaimLine.id, ClaimLine.line_control_number, ClaimLine.procedure,
                           ClaimLine.modifiers, ClaimLine.charge, ClaimLine.paid)
                    .where(in_list(ClaimLine.claim_pk, list(by_pk), self.pg)).order_by(ClaimLine.claim_pk, ClaimLine.line_number)):
                by_pk[pk].lines.append(_Line(lpk, lcn, proc, tuple(mods or ()), charge, paid))
        return found

    def post(self, batch: Sequence[Clp]) -> None:  # noqa: C901 - one pass over the chunk on purpose
        s = self.session
        found = self._load(batch)
        rem_id = self.rem.id
        matched: list[tuple[Clp, _Stored, list[_Line | None]]] = []
        unmatched: list[dict[str, Any]] = []
        for c in batch:
            st = found.get(c.claim_id)
            if st is None:
                unmatched.append({"remittance_id": rem_id, "claim_id": c.claim_id, "status_code": c.status_code,
                                  "charge": c.charge, "paid": c.paid,
                                  "payer_claim_number": c.payer_claim_number or None,
                                  "detail": _unmatched_detail(c), "resolved": False, "created_at": self.now})
                continue
            matched.append((c, st, _match_lines(st, c.lines)))
        if unmatched:
            insert_rows(s, UnmatchedPayment, unmatched)
            self.counts["claims_unmatched"] += len(unmatched)
            for u in unmatched:
                self.ctx.app.log.warning("payment_unmatched", file_id=self.ctx.file.id, claim_id=u["claim_id"])
        if not matched:
            return

        payments = [{"remittance_id": rem_id, "claim_pk": st.pk, "status_code": c.status_code, "charge": c.charge,
                     "paid": c.paid, "patient_responsibility": c.patient_responsibility,
                     "payer_claim_number": c.payer_claim_number or None, "created_at": self.now}
                    for c, st, _ in matched]
        if self.pg:
            payment_ids = new_ids(s, ClaimPayment, len(payments))
            insert_rows(s, ClaimPayment, [p | {"id": i} for p, i in zip(payments, payment_ids, strict=True)])
        else:
            payment_ids = list(s.scalars(insert(ClaimPayment).returning(ClaimPayment.id, sort_by_parameter_order=True),
                                         payments))
        adjustments: list[dict[str, Any]] = []
        remarks: list[dict[str, Any]] = []
        line_paid: dict[int, Decimal] = {}
        last: dict[int, tuple[Clp, int]] = {}
        pcn: dict[int, str] = {}
        paid_at: dict[int, datetime] = {}
        lines_unmatched = 0
        for (c, st, line_hits), pid in zip(matched, payment_ids, strict=True):
            last[st.pk] = (c, pid)
            if c.payer_claim_number and (not c.is_reversal or st.pk not in pcn):
                pcn[st.pk] = c.payer_claim_number
            if c.paid > 0:
                paid_at[st.pk] = self.paid_date
            for a in c.adjustments:
                adjustments.append({"claim_payment_id": pid, "claim_pk": st.pk, "line_pk": None, "group": a.group,
                                    "reason": a.reason, "amount": a.amount, "quantity": a.quantity})
            for code in c.remarks:
                remarks.append({"claim_payment_id": pid, "claim_pk": st.pk, "line_pk": None, "code": code})
            for svc, hit in zip(c.lines, line_hits, strict=True):
                lpk = hit.pk if hit is not None else None
                if hit is None:
                    lines_unmatched += 1
                else:
                    hit.paid = hit.paid + svc.paid
                    line_paid[hit.pk] = hit.paid
                for a in svc.adjustments:
                    adjustments.append({"claim_payment_id": pid, "claim_pk": st.pk, "line_pk": lpk, "group": a.group,
                                        "reason": a.reason, "amount": a.amount, "quantity": a.quantity})
                for code in svc.remarks:
                    remarks.append({"claim_payment_id": pid, "claim_pk": st.pk, "line_pk": lpk, "code": code})
        insert_rows(s, Adjustment, adjustments)
        insert_rows(s, Remark, remarks)

        # Net of every posting of the touched claims (this chunk's rows included).
        pks = list(last)
        net_paid: dict[int, Decimal] = dict.fromkeys(pks, _ZERO)
        for pk, total in s.execute(select(ClaimPayment.claim_pk, func.sum(ClaimPayment.paid))
                                   .where(in_list(ClaimPayment.claim_pk, pks, self.pg)).group_by(ClaimPayment.claim_pk)):
            net_paid[pk] = _money(total)
        net_adj: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
        for pk, group, reason, total in s.execute(
                select(Adjustment.claim_pk, Adjustment.group, Adjustment.reason, func.sum(Adjustment.amount))
                .where(in_list(Adjustment.claim_pk, pks, self.pg))
                .group_by(Adjustment.claim_pk, Adjustment.group, Adjustment.reason)):
            net_adj[pk][(group, reason)] = _money(total)
        stored = {st.pk: st for _, st, _ in matched}
        statuses: dict[int, str] = {}
        claim_rows: list[dict[str, Any]] = []
        now = self.now
        for pk in pks:
            c, _pid = last[pk]
            patient = sum((a for (g, _r), a in net_adj[pk].items() if g == "PR"), _ZERO)
            status = claim_status(frequency_code=stored[pk].frequency_code, net_paid=net_paid[pk],
                                  last_is_reversal=c.is_reversal, net_adjustments=net_adj[pk], net_patient=patient)
            statuses[pk] = status
            row: dict[str, Any] = {"id": pk, "status": status, "paid": net_paid[pk],
                                   "patient_responsibility": patient}
            if pk in pcn:
                row["payer_claim_number"] = pcn[pk]
            if pk in paid_at:
                row["paid_at"] = paid_at[pk]
            claim_rows.append(row)
        # One UPDATE per set of columns (a claim may have no new payer claim number or payment date).
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in claim_rows:
            by_keys[tuple(k for k in row if k != "id")].append(row)
        for keys, rows in by_keys.items():
            update_rows(s, Claim, rows, keys, {"status_reason": None, "updated_at": now})
        if line_paid:
            update_rows(s, ClaimLine, [{"id": k, "paid": v} for k, v in line_paid.items()], ("paid",))

        events = [{"claim_pk": st.pk, "file_id": self.ctx.file.id, "source": "835", "category": None,
                   "code": c.status_code, "status_date": self.rem.payment_date,
                   "description": f"835 CLP02 {c.status_code}: paid {c.paid:.2f}, claim now {statuses[st.pk]}",
                   "payer_claim_number": c.payer_claim_number or None, "trace": self.rem.trace_number[:50],
                   "created_at": now}
                  for c, st, _ in matched]
        insert_rows(s, ClaimStatusEvent, events)

        # Denials: close what a payment settled, then open the new items.
        paid_pks = [pk for pk, status in statuses.items() if status == "paid"]
        if paid_pks:
            closed = s.execute(update(Denial).where(in_list(Denial.claim_pk, paid_pks, self.pg), Denial.state == "open")
                               .values(state="closed", note="paid by a later posting", updated_at=now)
                               .execution_options(synchronize_session=False))
            self.counts["denials_closed"] += int(getattr(closed, "rowcount", 0) or 0)
        denials: list[dict[str, Any]] = []
        for (c, st, line_hits), pid in zip(matched, payment_ids, strict=True):
            status = statuses[st.pk]
            if c.is_reversal or status not in ("denied", "paid"):
                continue
            if status == "denied":
                denials += _denials(pid, st.pk, None, c.adjustments, c.remarks)
            for svc, hit in zip(c.lines, line_hits, strict=True):
                if status == "denied" or svc.paid == 0:
                    denials += _denials(pid, st.pk, hit.pk if hit else None, svc.adjustments,
                                        tuple(svc.remarks) or c.remarks)
        for d in denials:
            d["created_at"] = d["updated_at"] = now
        if denials:
            insert_rows(s, Denial, denials)
            self.counts["denials_opened"] += len(denials)
        self.counts["claims_posted"] += len(matched)
        self.counts["lines_unmatched"] += lines_unmatched
        for status, n in Counter(statuses.values()).items():
            self.counts[f"claims_{status}"] += n


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))


def _denials(pid: int, claim_pk: int, line_pk: int | None, adjustments: Iterable[Any],
             remarks: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for a in adjustments:
        if a.group in DENIAL_GROUPS and a.reason != "45" and a.amount > 0:
            category, action = categorize(a.group, a.reason, remarks)
            out.append({"claim_pk": claim_pk, "line_pk": line_pk, "claim_payment_id": pid, "group": a.group,
                        "reason": a.reason, "remarks": list(remarks), "amount": a.amount, "category": category,
                        "action": action, "state": "open"})
    return out


def _payer_key(reader: Remittance835Reader) -> str:
    p = reader.payer
    return (reader.payment.payer_tax_id or p.id or p.reference("2U") or p.name or "UNKNOWN")[:80]


def _post_set(ctx: ApplyContext, reader: Remittance835Reader, counts: Counter[str]) -> None:
    s = ctx.session
    payment = reader.payment
    key = _payer_key(reader)
    trace = payment.trace_number[:80]
    if s.scalar(select(Remittance.id).where(Remittance.payer_key == key, Remittance.trace_number == trace)):
        for _ in reader:  # read to the SE so the next set starts cleanly
            pass
        counts["duplicate_remittances"] += 1
        ctx.app.log.info("remittance_duplicate", file_id=ctx.file.id, st_control=reader.control_number,
                         trace_number=trace)
        return
    rem = Remittance(file_id=ctx.file.id, st_control=reader.control_number, payer_key=key,
                     payer_name=(reader.payer.name or None) and reader.payer.name[:80], trace_number=trace,
                     amount=payment.signed_amount, method=payment.method[:8] or None,
                     payment_date=payment.date, balanced=True, forced=False, balance_errors=[])
    s.add(rem)
    s.flush()
    poster = _Poster(ctx, rem, counts)
    batch: list[Clp] = []
    for claim in reader:
        batch.append(claim)
        if len(batch) >= CHUNK:
            poster.post(batch)
            batch = []
    if batch:
        poster.post(batch)
    findings = reader.balance()
    if findings:
        messages = [str(f) for f in findings]
        if not ctx.force:
            first = findings[0]
            shown = "; ".join(messages[:5]) + (f"; and {len(messages) - 5} more" if len(messages) > 5 else "")
            raise ApplyError(
                f"835 {reader.control_number} (trace {trace}) does not balance, nothing was posted: {shown}. "
                "Review the file, then `edi replay FILE_ID --force` to post it as it is.",
                {"st_control": reader.control_number, "claim_id": first.claim_id, "level": first.level,
                 "segment_id": "CLP" if first.claim_id else "BPR"})
        rem.balanced, rem.forced, rem.balance_errors = False, True, messages
        counts["remittances_forced"] += 1
        ctx.app.log.warning("remittance_forced", file_id=ctx.file.id, remittance_id=rem.id,
                            findings=len(messages))
    plb = [{"remittance_id": rem.id, "provider_id": p.provider_id[:50] or None, "fiscal_date": p.fiscal_date,
            "reason": p.reason[:4], "reference": p.reference[:80] or None, "amount": p.amount}
           for p in reader.provider_adjustments]
    if plb:
        insert_rows(s, ProviderAdjustment, plb)
        counts["provider_adjustments"] += len(plb)
    counts["remittances_posted"] += 1
    ctx.app.log.info("remittance_posted", file_id=ctx.file.id, remittance_id=rem.id,
                     st_control=reader.control_number, trace_number=trace, amount=str(rem.amount))


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
        _post_set(ctx, read_835(ts), counts)
    return dict(counts)
