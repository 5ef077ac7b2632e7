"""`edi report`: the figures a billing manager watches (CONTRACT sections 6 and 8), as one dict.

:func:`build_report` is the use case (the command renders it as JSON, text, HTML or CSV in
:mod:`pipelines.cli.report`; the nightly run stores it). Every figure is a handful of aggregate
queries (GROUP BY in the database), never a loop over claims in Python, so the report stays fast on
hundreds of thousands of claims. Amounts are strings with two decimals; rates are numbers between 0
and 1 rounded to four places; day counts are numbers rounded to one place; a figure with nothing to
divide by is null.

**The period.** ``since``/``until`` (inclusive, both optional: no period means every claim) select
claims by **date of service** for the claim counts (billed, paid, first-pass acceptance, denial rate,
top CARCs, per payer, clean-claim rate, weekly trend), and by **adjudication date** (the payment date
of the claim's last 835) for the section 8 figures "over claims adjudicated in the report period".
A/R aging, days in A/R, held claims and timely-filing risk are snapshots as of ``as_of``.

Section 6 figures (unchanged):

* **billed**: claims sent (any status but held and ready): count and billed charges. **paid**: of
  those, claims with a net payment > 0: count, and the net paid of all sent claims.
  **Secondary and tertiary legs** (CONTRACT section 7) bill the same services again, so billed counts
  and charges count primary legs only (and ``days_in_ar``'s charges, the trend's billed dollars and
  net collection's billed too); paid is every payer's money. ``by_payer_sequence`` gives legs, billed
  and paid per sequence (P, S, T): the S and T ``paid`` is what was recovered from later payers.
* **first-pass acceptance rate**: original claims (frequency 1) sent that were accepted without a
  rejection (status not rejected and no 999/277CA rejection event on file), over original claims
  sent. Claims still waiting for an answer count as not (yet) accepted.
* **denial rate**: claims denied over claims adjudicated (paid, denied, patient_responsibility), by
  count and by billed dollars.
* **top CARCs** (and the full **CARC pareto**): net CO/OA/PI adjustment dollars by CARC, contractual
  CARC 45 left out, largest first, with the full descriptions and the cumulative share.
* **per payer**: billed, paid, paid ratio, denial rate (by count), and the average and **median
  days from submission to payment**: whole calendar days from the date of ``submitted_at`` to the
  835's payment date (``paid_at``). A payment dated before its submission is not a figure but a
  **data error**: it is left out of the days and listed under ``data_errors`` with the claim id.
* **A/R aging**: the unpaid balance (billed - paid; for a secondary or tertiary leg, what the previous
  payer left to the patient - paid) of open claims (submitted, accepted, denied, crossed over) by
  days since the date of service as of ``as_of``: 0-30, 31-60, 61-90, 91-120, over 120; also by payer.

Section 8 figures:

* ``clean_claim_rate``: original claims sent on their first try without a hold and never rejected
  (no rejection event, status not rejected) over original claims coded (held and ready included).
  A claim held and later fixed is not told apart from one never held: claims keep no hold history.
* ``first_pass_resolution_rate``: claims adjudicated that are paid or patient responsibility, were
  never rejected, are original claims, and were settled by their one and only 835 posting (not
  denied first and paid later, not reversed) over claims adjudicated.
* ``payer_net_collection_rate``: paid / (billed - contractual CO 45 adjustments - patient
  responsibility), over claims adjudicated.
* ``days_in_ar``: open insurance A/R (the aging total) / average daily charges of the last 90 days
  (billed charges of original claims sent with a date of service in the 90 days up to ``as_of``, / 90).
* ``denials_by_category``: denial work items (category other than ``underpaid``) of claims
  adjudicated, count and dollars per category, largest first.
* ``underpaid``: work items with category ``underpaid`` (lines paid below their contract rate):
  lines and dollars short, in total and per payer and procedure code.
* ``at_risk``: claims not yet adjudicated (held, ready, rejected, or denied with an open
  correct-and-resubmit work item) whose timely-filing deadline (:mod:`pipelines.rules.filing`) is
  ``as_of`` or within the next 30 days: claims and billed dollars, per payer, and the soonest claims.

For the HTML page also: ``held`` (claims held now, by reason, with billed dollars; a claim with two
reasons counts under both) and ``weekly_trend`` (billed, paid and denied dollars by week of the date
of service, Monday to Sunday, the 13 weeks up to ``as_of`` or the weeks of the period).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session, aliased

from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    ClaimStatusEvent,
    Denial,
    Remittance,
    UnmatchedPayment,
)
from pipelines.config import Config
from pipelines.rules import filing
from pipelines.rules.lifecycle import ADJUDICATED, AWAITING_ANSWER, UNSENT, ClaimStatus
from pipelines.rules.money import ZERO, cents, money
from pipelines.usecases.at_risk import select_at_risk
from pipelines.usecases.codes import describe_many
from pipelines.usecases.uow import UnitOfWork

__all__ = ["AGING_BUCKETS", "REJECTION_CATEGORIES", "build_report", "median_from_counts"]

AGING_BUCKETS = ("0-30", "31-60", "61-90", "91-120", "over 120")
REJECTION_CATEGORIES = ("R", "A3", "A4", "A6", "A7", "A8", "E0", "E3", "E4")
CONTRACTUAL_CARC = "45"
UNDERPAID = "underpaid"
TREND_WEEKS = 13
CHARGE_DAYS = 90
AT_RISK_LISTED = 50
DATA_ERRORS_LISTED = 100
_TOP = 10
_S = ClaimStatus


def _values(statuses: Iterable[ClaimStatus]) -> list[str]:
    return sorted(s.value for s in statuses)


_UNSENT = _values(UNSENT)
_ADJUDICATED = _values(ADJUDICATED)
_OPEN_AR = _values(AWAITING_ANSWER | {_S.DENIED, _S.CROSSED_OVER})


def _rate(num: Any, den: Any) -> float | None:
    n, d = Decimal(str(num or 0)), Decimal(str(den or 0))
    return float(round(n / d, 4)) if d else None


def median_from_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many times} (None when there are none)."""
    total = sum(counts.values())
    if not total:
        return None
    wanted, seen, picked = ((total - 1) // 2, total // 2), 0, []
    for value in sorted(counts):
        lo, seen = seen, seen + counts[value]
        picked += [value for w in wanted if lo <= w < seen]
    return round(sum(picked) / 2, 1)


class _Report:
    """One report's queries over one session; each method is one section."""

    def __init__(self, session: Session, config: Config, as_of: date, since: date | None,
                 until: date | None) -> None:
        self.s, self.config, self.as_of, self.since, self.until = session, config, as_of, since, until
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.payer_names = {p.id: p.name for p in config.payers.values()}

    # --- SQL building blocks ------------------------------------------------------------------

    def _day(self, ts: Any) -> ColumnElement[Any]:
        """A UTC timestamp column as its calendar date."""
        return func.date(ts) if self.sqlite else cast(func.timezone("UTC", ts), Date)

    def _days(self, later: Any, earlier: Any) -> ColumnElement[int]:
        """Whole days from one date to another (negative when ``later`` is earlier)."""
        if self.sqlite:
            return cast(func.julianday(later) - func.julianday(earlier), Integer)
        return cast(later - earlier, Integer)

    def _dos_in_period(self) -> ColumnElement[bool]:
        conds: list[ColumnElement[bool]] = [literal(True)]
        if self.since is not None:
            conds.append(Claim.date_of_service >= self.since)
        if self.until is not None:
            conds.append(Claim.date_of_service <= self.until)
        return and_(*conds)

    def _adjudicated(self) -> ColumnElement[bool]:
        """Claims adjudicated, in the period by the payment date of their last 835."""
        cond = Claim.status.in_(_ADJUDICATED)
        if self.since is None and self.until is None:
            return cond
        last = func.max(func.coalesce(Remittance.payment_date, self._day(Remittance.posted_at)))
        q = select(ClaimPayment.claim_pk).join(Remittance, Remittance.id == ClaimPayment.remittance_id) \
            .group_by(ClaimPayment.claim_pk)
        if self.since is not None:
            q = q.having(last >= self.since)
        if self.until is not None:
            q = q.having(last <= self.until)
        return and_(cond, Claim.id.in_(q))

    def _rejected_event(self) -> ColumnElement[bool]:
        """The claim has a 999/277CA rejection on file (``IN`` rather than a correlated ``EXISTS``: inside a
        CASE, PostgreSQL runs it as one hashed subplan instead of an index probe per claim)."""
        return Claim.id.in_(select(ClaimStatusEvent.claim_pk)
                            .where(ClaimStatusEvent.category.in_(REJECTION_CATEGORIES)))

    # --- section 6 ----------------------------------------------------------------------------

    def claims(self) -> dict[str, Any]:
        sent = and_(Claim.status.notin_(_UNSENT), self._dos_in_period())
        primary = Claim.payer_sequence == "P"
        by_seq = {seq: (n, billed, paid_n, paid) for seq, n, billed, paid_n, paid in self.s.execute(select(
            Claim.payer_sequence, func.count(Claim.id), func.sum(Claim.billed),
            func.sum(case((Claim.paid > 0, 1), else_=0)), func.sum(Claim.paid))
            .where(sent).group_by(Claim.payer_sequence))}
        billed_n, billed_amt = by_seq.get("P", (0, ZERO, 0, ZERO))[:2]
        paid_n = sum(int(v[2] or 0) for v in by_seq.values())
        paid_amt = sum((cents(v[3]) for v in by_seq.values()), ZERO)
        accepted_first = and_(Claim.status.notin_((_S.SUBMITTED.value, _S.REJECTED.value)), ~self._rejected_event())
        fp_sent, fp_ok = self.s.execute(select(
            func.count(Claim.id), func.sum(case((accepted_first, 1), else_=0)))
            .where(sent, primary, Claim.frequency_code == "1")).one()
        denied = Claim.status == _S.DENIED.value
        adj_n, adj_amt, den_n, den_amt = self.s.execute(select(
            func.count(Claim.id), func.sum(Claim.billed), func.sum(case((denied, 1), else_=0)),
            func.sum(case((denied, Claim.billed), else_=0)))
            .where(Claim.status.in_(_ADJUDICATED), self._dos_in_period())).one()
        return {
            "claims": {"billed": {"count": billed_n or 0, "amount": money(billed_amt)},
                       "paid": {"count": paid_n, "amount": money(paid_amt)},
                       "by_payer_sequence": [{"payer_sequence": seq, "claims": by_seq[seq][0] or 0,
                                              "billed": money(by_seq[seq][1]), "paid": money(by_seq[seq][3])}
                                             for seq in ("P", "S", "T") if seq in by_seq]},
            "first_pass_acceptance_rate": _rate(fp_ok, fp_sent),
            "first_pass": {"submitted": fp_sent or 0, "accepted": int(fp_ok or 0)},
            "denial_rate": {"by_count": _rate(den_n, adj_n), "by_dollars": _rate(den_amt, adj_amt),
                            "denied_claims": int(den_n or 0), "denied_amount": money(den_amt),
                            "adjudicated_claims": adj_n or 0, "adjudicated_amount": money(adj_amt)},
        }

    def carcs(self) -> dict[str, Any]:
        amount = func.sum(Adjustment.amount)
        rows = [r for r in self.s.execute(
            select(Adjustment.reason, amount, func.count(Adjustment.id))
            .join(Claim, Claim.id == Adjustment.claim_pk)
            .where(Adjustment.group.in_(("CO", "OA", "PI")), Adjustment.reason != CONTRACTUAL_CARC,
                   self._dos_in_period())
            .group_by(Adjustment.reason).order_by(amount.desc(), Adjustment.reason)).all() if cents(r[1]) > 0]
        names = describe_many(self.s, "carc", (r[0] for r in rows))
        total = sum((cents(r[1]) for r in rows), ZERO)
        pareto, running = [], ZERO
        for reason, amt, n in rows:
            running += cents(amt)
            pareto.append({"reason": reason, "description": names[reason.strip()], "amount": money(amt),
                           "count": n, "share": _rate(cents(amt), total), "cumulative_share": _rate(running, total)})
        top = [{k: p[k] for k in ("reason", "description", "amount", "count")} for p in pareto[:_TOP]]
        return {"top_carcs": top, "carc_pareto": pareto}

    def payers(self) -> dict[str, Any]:
        denied = Claim.status == _S.DENIED.value
        sent = and_(Claim.status.notin_(_UNSENT), self._dos_in_period())
        rows = self.s.execute(select(
            Claim.payer_id, func.count(Claim.id), func.sum(Claim.billed), func.sum(Claim.paid),
            func.sum(case((Claim.status.in_(_ADJUDICATED), 1), else_=0)), func.sum(case((denied, 1), else_=0)),
            func.sum(case((denied, Claim.billed), else_=0)))
            .where(sent).group_by(Claim.payer_id).order_by(Claim.payer_id)).all()
        days, errors, error_count = self._days_to_payment(sent)
        payers = []
        for pid, n, billed, paid, n_adj, n_denied, denied_amt in rows:
            hist = days.get(pid, {})
            paid_claims = sum(hist.values())
            avg = round(sum(d * k for d, k in hist.items()) / paid_claims, 1) if paid_claims else None
            payers.append({"payer_id": pid, "name": self.payer_names.get(pid, pid), "claims": n,
                           "billed": money(billed), "paid": money(paid), "denied_amount": money(denied_amt),
                           "paid_ratio": _rate(paid, billed), "denial_rate": _rate(n_denied, n_adj),
                           "average_days_to_payment": avg, "median_days_to_payment": median_from_counts(hist),
                           "data_errors": error_count.get(pid, 0)})
        return {"payers": payers, "data_errors": errors, "data_errors_total": sum(error_count.values())}

    def _days_to_payment(self, sent: ColumnElement[bool]) -> tuple[
            dict[str, dict[int, int]], list[dict[str, Any]], Counter[str]]:
        """Per payer {days: claims} for paid claims, and the claims paid before they were sent."""
        paid_on, sent_on = self._day(Claim.paid_at), self._day(Claim.submitted_at)
        days = self._days(paid_on, sent_on)
        paid = and_(sent, Claim.paid > 0, Claim.paid_at.is_not(None), Claim.submitted_at.is_not(None))
        hist: dict[str, dict[int, int]] = defaultdict(dict)
        error_count: Counter[str] = Counter()
        for pid, d, n in self.s.execute(select(Claim.payer_id, days, func.count(Claim.id))
                                        .where(paid).group_by(Claim.payer_id, days)):
            if d < 0:
                error_count[pid] += n
            else:
                hist[pid][int(d)] = n
        errors = [{"claim_id": cid, "payer_id": pid, "error": "payment dated before its submission",
                   "submitted": str(s_on)[:10], "paid": str(p_on)[:10]}
                  for cid, pid, s_on, p_on in self.s.execute(
                      select(Claim.claim_id, Claim.payer_id, sent_on, paid_on).where(paid, days < 0)
                      .order_by(Claim.claim_id).limit(DATA_ERRORS_LISTED))] if error_count else []
        return hist, errors, error_count

    def _aging_bucket(self) -> ColumnElement[str]:
        as_of = self.as_of
        return case(
            (Claim.date_of_service >= as_of - timedelta(days=30), "0-30"),
            (Claim.date_of_service >= as_of - timedelta(days=60), "31-60"),
            (Claim.date_of_service >= as_of - timedelta(days=90), "61-90"),
            (Claim.date_of_service >= as_of - timedelta(days=120), "91-120"),
            else_="over 120")

    def _open_balance(self) -> tuple[ColumnElement[Any], Any]:
        """A claim's unpaid insurance balance and the previous leg it needs joined: billed - paid, or for a
        next-payer leg what the previous payer left to the patient - paid."""
        prior = aliased(Claim)
        due = case((Claim.payer_sequence == "P", Claim.billed),
                   else_=func.coalesce(prior.patient_responsibility, Claim.billed))
        return due - Claim.paid, prior

    def aging(self) -> dict[str, Any]:
        bucket = self._aging_bucket()
        balance, prior = self._open_balance()
        by: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
        for pid, b, n, amt in self.s.execute(
                select(Claim.payer_id, bucket, func.count(Claim.id), func.sum(balance))
                .outerjoin(prior, prior.claim_id == Claim.prior_claim_id)
                .where(Claim.status.in_(_OPEN_AR)).group_by(Claim.payer_id, bucket)):
            by[pid][b] = (n, cents(amt))
        totals = {b: (sum(p.get(b, (0, ZERO))[0] for p in by.values()),
                      sum((p.get(b, (0, ZERO))[1] for p in by.values()), ZERO)) for b in AGING_BUCKETS}
        buckets = [{"bucket": b, "claims": totals[b][0], "amount": money(totals[b][1])} for b in AGING_BUCKETS]
        by_payer = [{"payer_id": pid, "name": self.payer_names.get(pid, pid),
                     "buckets": [{"bucket": b, "claims": by[pid].get(b, (0, ZERO))[0],
                                  "amount": money(by[pid].get(b, (0, ZERO))[1])} for b in AGING_BUCKETS],
                     "total": money(sum((v[1] for v in by[pid].values()), ZERO))} for pid in sorted(by)]
        total = sum((t[1] for t in totals.values()), ZERO)
        return {"aging": {"basis": "date_of_service", "buckets": buckets, "total": money(total)},
                "aging_by_payer": by_payer}

    def work_queues(self) -> dict[str, Any]:
        open_denials = self.s.scalar(select(func.count(Denial.id)).where(Denial.state == "open")) or 0
        unmatched = self.s.scalar(select(func.count(UnmatchedPayment.id))
                                  .where(UnmatchedPayment.resolved.is_(False))) or 0
        return {"open_denials": int(open_denials), "unmatched_payments": int(unmatched)}

    # --- section 8 ----------------------------------------------------------------------------

    def clean_claims(self) -> dict[str, Any]:
        original = and_(Claim.frequency_code == "1", self._dos_in_period())
        clean = and_(Claim.status.notin_([*_UNSENT, _S.REJECTED.value]), ~self._rejected_event())
        coded, n_clean = self.s.execute(select(func.count(Claim.id), func.sum(case((clean, 1), else_=0)))
                                        .where(original)).one()
        return {"clean_claim_rate": _rate(n_clean, coded),
                "clean_claims": {"coded": coded or 0, "clean": int(n_clean or 0)}}

    def first_pass_resolution(self) -> dict[str, Any]:
        one_posting = select(ClaimPayment.claim_pk).group_by(ClaimPayment.claim_pk) \
            .having(func.count(ClaimPayment.id) == 1)
        resolved = and_(Claim.status.in_((_S.PAID.value, _S.PATIENT_RESPONSIBILITY.value)),
                        Claim.frequency_code == "1", Claim.id.in_(one_posting), ~self._rejected_event())
        n_adj, n_ok = self.s.execute(select(func.count(Claim.id), func.sum(case((resolved, 1), else_=0)))
                                     .where(self._adjudicated())).one()
        return {"first_pass_resolution_rate": _rate(n_ok, n_adj),
                "first_pass_resolution": {"adjudicated": n_adj or 0, "resolved": int(n_ok or 0)}}

    def net_collection(self) -> dict[str, Any]:
        adjudicated = self._adjudicated()
        # the patient's share is what the last payer that adjudicated left: a leg whose next leg was
        # adjudicated too passed its share on
        passed_on = Claim.claim_id.in_(select(Claim.prior_claim_id).where(
            Claim.prior_claim_id.is_not(None), Claim.status.in_(_ADJUDICATED)))
        billed, paid, pr = self.s.execute(select(
            func.sum(case((Claim.payer_sequence == "P", Claim.billed), else_=0)), func.sum(Claim.paid),
            func.sum(case((passed_on, 0), else_=Claim.patient_responsibility))).where(adjudicated)).one()
        contractual = self.s.scalar(select(func.sum(Adjustment.amount)).join(Claim, Claim.id == Adjustment.claim_pk)
                                    .where(adjudicated, Adjustment.group == "CO",
                                           Adjustment.reason == CONTRACTUAL_CARC))
        collectible = cents(billed) - cents(contractual) - cents(pr)
        return {"payer_net_collection_rate": _rate(cents(paid), collectible) if collectible > 0 else None,
                "net_collection": {"paid": money(paid), "billed": money(billed), "contractual": money(contractual),
                                   "patient_responsibility": money(pr), "collectible": money(collectible)}}

    def days_in_ar(self, open_ar: Decimal) -> dict[str, Any]:
        first = self.as_of - timedelta(days=CHARGE_DAYS - 1)
        charges = cents(self.s.scalar(select(func.sum(Claim.billed)).where(
            Claim.status.notin_(_UNSENT), Claim.frequency_code == "1", Claim.payer_sequence == "P",
            Claim.date_of_service >= first, Claim.date_of_service <= self.as_of)))
        daily = (charges / CHARGE_DAYS).quantize(Decimal("0.01")) if charges else ZERO
        return {"days_in_ar": round(float(open_ar / (charges / CHARGE_DAYS)), 1) if charges > 0 else None,
                "ar": {"open_insurance_ar": money(open_ar), "charges_last_90_days": money(charges),
                       "average_daily_charges": money(daily), "charges_from": first.isoformat()}}

    def denials(self) -> dict[str, Any]:
        adjudicated = self._adjudicated()
        amount = func.sum(Denial.amount)
        by_category = {cat: {"count": n, "dollars": money(amt)} for cat, n, amt in self.s.execute(
            select(Denial.category, func.count(Denial.id), amount).join(Claim, Claim.id == Denial.claim_pk)
            .where(adjudicated, Denial.category != UNDERPAID)
            .group_by(Denial.category).order_by(amount.desc(), Denial.category))}
        rows = self.s.execute(
            select(Claim.payer_id, ClaimLine.procedure, func.count(Denial.id), amount)
            .join(Claim, Claim.id == Denial.claim_pk).outerjoin(ClaimLine, ClaimLine.id == Denial.line_pk)
            .where(adjudicated, Denial.category == UNDERPAID, Denial.state != "closed")
            .group_by(Claim.payer_id, ClaimLine.procedure).order_by(amount.desc(), Claim.payer_id)).all()
        underpaid = {"lines": sum(r[2] for r in rows), "dollars": money(sum((cents(r[3]) for r in rows), ZERO)),
                     "by_payer_code": [{"payer_id": pid, "name": self.payer_names.get(pid, pid), "procedure": code,
                                        "lines": n, "dollars": money(amt)} for pid, code, n, amt in rows]}
        return {"denials_by_category": by_category, "underpaid": underpaid}

    def at_risk(self, within_days: int = filing.DEFAULT_WITHIN_DAYS) -> dict[str, Any]:
        sel = select_at_risk(self.s, self.config, as_of=self.as_of, within_days=within_days,
                             limit_per_payer=AT_RISK_LISTED)
        listed = [{k: v for k, v in c.items() if k != "hold_reasons"} for c in sel.claims]
        return {"at_risk": {"within_days": within_days, "claims": sum(p["claims"] for p in sel.by_payer),
                            "dollars": money(sum((cents(p["dollars"]) for p in sel.by_payer), ZERO)),
                            "by_payer": sel.by_payer, "soonest": listed[:AT_RISK_LISTED]}}

    def held(self) -> dict[str, Any]:
        reasons_text = cast(Claim.hold_reasons, Text)
        count: Counter[str] = Counter()
        dollars: dict[str, Decimal] = defaultdict(lambda: ZERO)
        n_total, amt_total = 0, ZERO
        for text, n, amt in self.s.execute(select(reasons_text, func.count(Claim.id), func.sum(Claim.billed))
                                           .where(Claim.status == _S.HELD.value).group_by(reasons_text)):
            n_total, amt_total = n_total + n, amt_total + cents(amt)
            for reason in sorted(set(json.loads(text or "[]") or ["(no reason recorded)"])):
                count[reason] += n
                dollars[reason] += cents(amt)
        by_reason = [{"reason": r, "claims": count[r], "dollars": money(dollars[r])}
                     for r in sorted(count, key=lambda r: (-dollars[r], -count[r], r))]
        return {"held": {"claims": n_total, "dollars": money(amt_total), "by_reason": by_reason}}

    def weekly_trend(self) -> dict[str, Any]:
        end = self.until or self.as_of
        end_week = end - timedelta(days=end.weekday())
        start = self.since - timedelta(days=self.since.weekday()) if self.since else \
            end_week - timedelta(weeks=TREND_WEEKS - 1)
        week = self._days(Claim.date_of_service, literal(start, Date)) // 7
        denied = Claim.status == _S.DENIED.value
        found = {int(w): (n, billed, paid, den) for w, n, billed, paid, den in self.s.execute(
            select(week, func.sum(case((Claim.payer_sequence == "P", 1), else_=0)),
                   func.sum(case((Claim.payer_sequence == "P", Claim.billed), else_=0)), func.sum(Claim.paid),
                   func.sum(case((denied, Claim.billed), else_=0)))
            .where(Claim.status.notin_(_UNSENT), Claim.date_of_service >= start,
                   Claim.date_of_service <= end_week + timedelta(days=6))
            .group_by(week))}
        weeks = []
        for i in range((end_week - start).days // 7 + 1):
            n, billed, paid, den = found.get(i, (0, ZERO, ZERO, ZERO))
            weeks.append({"week": (start + timedelta(weeks=i)).isoformat(), "claims": n, "billed": money(billed),
                          "paid": money(paid), "denied": money(den)})
        return {"weekly_trend": {"basis": "date_of_service", "weeks": weeks}}


def build_report(config: Config, uow: UnitOfWork, *, as_of: date, since: date | None = None,
                 until: date | None = None) -> dict[str, Any]:
    """The report as a dict ready for ``--json`` (the nightly run stores it too)."""
    with uow.transaction() as session:
        r = _Report(session, config, as_of, since, until)
        aging = r.aging()
        return {
            "as_of": as_of.isoformat(),
            "period": {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None},
            **r.claims(),
            **r.carcs(),
            **r.payers(),
            **aging,
            **r.work_queues(),
            **r.clean_claims(),
            **r.first_pass_resolution(),
            **r.net_collection(),
            **r.days_in_ar(cents(aging["aging"]["total"])),
            **r.denials(),
            **r.at_risk(),
            **r.held(),
            **r.weekly_trend(),
        }
