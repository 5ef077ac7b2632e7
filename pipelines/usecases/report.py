"""`edi report`: revenue, first-pass acceptance, denials, payers and A/R aging (CONTRACT section 6).

Every number is one aggregate query (GROUP BY in the database), so the report stays fast with
hundreds of thousands of claims. Amounts are strings with two decimals; rates are numbers between
0 and 1 rounded to four places (null when there is nothing to divide by). Definitions:

* **billed**: claims sent (any status but held and ready): count and sum of billed charges.
  **paid**: of those, claims with a net payment > 0: count, and the net paid of all sent claims.
* **first-pass acceptance rate**: original claims (frequency 1) sent that were accepted without a
  rejection (status not rejected and no 999/277CA rejection event on file), over original claims sent.
  Claims still waiting for an answer count as not (yet) accepted.
* **denial rate**: claims denied over claims adjudicated (paid, denied or patient_responsibility),
  by count and by billed dollars.
* **top CARCs**: net CO/OA/PI adjustment dollars by CARC, contractual CARC 45 left out (what the
  payers did not pay beyond the contract), largest first, with descriptions.
* **per payer**: billed, paid, paid ratio (paid / billed), denial rate (by count), and the average
  days from submission (``submitted_at``) to payment (``paid_at``, the payment date of the 835).
* **A/R aging**: the unpaid balance (billed - paid) of claims submitted, accepted or denied, by the
  age of the **date of service** relative to ``--as-of`` (default today): 0-30, 31-60, 61-90,
  91-120 and over 120 days.

``--html PATH`` writes the same numbers as a self-contained HTML page (no patient data).
"""

from __future__ import annotations

import argparse
import html
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session

from models import Adjustment, Claim, ClaimStatusEvent, Denial, UnmatchedPayment
from pipelines.cli.app import App
from pipelines.cli.table import render_table
from pipelines.usecases.codes import describe_many

__all__ = ["AGING_BUCKETS", "REJECTION_CATEGORIES", "build_report", "cmd_report", "render_html", "render_text"]

AGING_BUCKETS = ("0-30", "31-60", "61-90", "91-120", "over 120")
REJECTION_CATEGORIES = ("R", "A3", "A4", "A6", "A7", "A8", "E0", "E3", "E4")
_UNSENT = ("held", "ready")
_ADJUDICATED = ("paid", "denied", "patient_responsibility")
_AGING_STATUSES = ("submitted", "accepted", "denied")
_TOP = 10
_CENT = Decimal("0.01")


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(_CENT)


def _s(value: Any) -> str:
    return f"{_money(value):.2f}"


def _rate(num: Any, den: Any) -> float | None:
    n, d = Decimal(str(num or 0)), Decimal(str(den or 0))
    return float(round(n / d, 4)) if d else None


def _days(session: Session) -> ColumnElement[Any]:
    """Days between submitted_at and paid_at, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(Claim.paid_at) - func.julianday(Claim.submitted_at)
    return func.extract("epoch", Claim.paid_at - Claim.submitted_at) / 86400.0


def build_report(app: App) -> dict[str, Any]:
    """The report as a dict (the nightly run stores it; `edi report --json` prints it)."""
    with app.transaction() as session:
        return report_data(session, app)


def report_data(session: Session, app: App) -> dict[str, Any]:
    sent = Claim.status.notin_(_UNSENT)
    billed_n, billed_amt, paid_n, paid_amt = session.execute(select(
        func.count(Claim.id), func.sum(Claim.billed),
        func.sum(case((Claim.paid > 0, 1), else_=0)), func.sum(Claim.paid)).where(sent)).one()

    rejected_event = exists().where(ClaimStatusEvent.claim_pk == Claim.id,
                                    ClaimStatusEvent.category.in_(REJECTION_CATEGORIES))
    accepted_first = and_(Claim.status.notin_(("submitted", "rejected")), ~rejected_event)
    fp_sent, fp_ok = session.execute(select(
        func.count(Claim.id), func.sum(case((accepted_first, 1), else_=0)))
        .where(sent, Claim.frequency_code == "1")).one()

    denied = Claim.status == "denied"
    adj_n, adj_amt, den_n, den_amt = session.execute(select(
        func.count(Claim.id), func.sum(Claim.billed), func.sum(case((denied, 1), else_=0)),
        func.sum(case((denied, Claim.billed), else_=0))).where(Claim.status.in_(_ADJUDICATED))).one()

    carc_rows = session.execute(
        select(Adjustment.reason, func.sum(Adjustment.amount).label("amount"), func.count(Adjustment.id))
        .where(Adjustment.group.in_(("CO", "OA", "PI")), Adjustment.reason != "45")
        .group_by(Adjustment.reason).order_by(func.sum(Adjustment.amount).desc(), Adjustment.reason)).all()
    carc_rows = [r for r in carc_rows if _money(r[1]) > 0][:_TOP]
    names = describe_many(session, "carc", (r[0] for r in carc_rows))
    top_carcs = [{"reason": reason, "description": names[reason.strip()], "amount": _s(amount), "count": n}
                 for reason, amount, n in carc_rows]

    paid_claim = and_(Claim.paid > 0, Claim.paid_at.is_not(None), Claim.submitted_at.is_not(None))
    payer_rows = session.execute(select(
        Claim.payer_id, func.count(Claim.id), func.sum(Claim.billed), func.sum(Claim.paid),
        func.sum(case((Claim.status.in_(_ADJUDICATED), 1), else_=0)), func.sum(case((denied, 1), else_=0)),
        func.avg(case((paid_claim, _days(session)), else_=None)))
        .where(sent).group_by(Claim.payer_id).order_by(Claim.payer_id)).all()
    payer_names = {p.id: p.name for p in app.config.payers.values()}
    payers = [{"payer_id": pid, "name": payer_names.get(pid, pid), "claims": n, "billed": _s(billed),
               "paid": _s(paid), "paid_ratio": _rate(paid, billed), "denial_rate": _rate(n_denied, n_adj),
               "average_days_to_payment": None if days is None else round(float(days), 1)}
              for pid, n, billed, paid, n_adj, n_denied, days in payer_rows]

    as_of = app.as_of
    bucket = case(
        (Claim.date_of_service >= as_of - timedelta(days=30), "0-30"),
        (Claim.date_of_service >= as_of - timedelta(days=60), "31-60"),
        (Claim.date_of_service >= as_of - timedelta(days=90), "61-90"),
        (Claim.date_of_service >= as_of - timedelta(days=120), "91-120"),
        else_="over 120")
    aging_rows = {b: (n, amt) for b, n, amt in session.execute(
        select(bucket.label("bucket"), func.count(Claim.id), func.sum(Claim.billed - Claim.paid))
        .where(Claim.status.in_(_AGING_STATUSES)).group_by(bucket))}
    aging = [{"bucket": b, "claims": aging_rows.get(b, (0, 0))[0], "amount": _s(aging_rows.get(b, (0, 0))[1])}
             for b in AGING_BUCKETS]

    open_denials = session.scalar(select(func.count(Denial.id)).where(Denial.state == "open")) or 0
    unmatched = session.scalar(select(func.count(UnmatchedPayment.id)).where(UnmatchedPayment.resolved.is_(False)))
    return {
        "as_of": as_of.isoformat(),
        "claims": {"billed": {"count": billed_n or 0, "amount": _s(billed_amt)},
                   "paid": {"count": int(paid_n or 0), "amount": _s(paid_amt)}},
        "first_pass_acceptance_rate": _rate(fp_ok, fp_sent),
        "first_pass": {"submitted": fp_sent or 0, "accepted": int(fp_ok or 0)},
        "denial_rate": {"by_count": _rate(den_n, adj_n), "by_dollars": _rate(den_amt, adj_amt),
                        "denied_claims": int(den_n or 0), "denied_amount": _s(den_amt),
                        "adjudicated_claims": adj_n or 0, "adjudicated_amount": _s(adj_amt)},
        "top_carcs": top_carcs,
        "payers": payers,
        "aging": {"basis": "date_of_service", "buckets": aging,
                  "total": _s(sum((_money(a[1]) for a in aging_rows.values()), Decimal("0")))},
        "open_denials": int(open_denials),
        "unmatched_payments": int(unmatched or 0),
    }


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _sections(r: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    c, d = r["claims"], r["denial_rate"]
    return [
        ("Summary", ["measure", "value"], [
            ["claims billed", f"{c['billed']['count']} / ${c['billed']['amount']}"],
            ["claims paid", f"{c['paid']['count']} / ${c['paid']['amount']}"],
            ["first-pass acceptance", _pct(r["first_pass_acceptance_rate"])],
            ["denial rate (count)", _pct(d["by_count"])],
            ["denial rate (dollars)", _pct(d["by_dollars"])],
            ["open denials", r["open_denials"]],
            ["unmatched payments", r["unmatched_payments"]]]),
        ("Top CARCs", ["CARC", "amount", "count", "description"],
         [[t["reason"], t["amount"], t["count"], t["description"][:70]] for t in r["top_carcs"]]),
        ("Payers", ["payer", "claims", "billed", "paid", "paid ratio", "denial rate", "avg days to pay"],
         [[p["payer_id"], p["claims"], p["billed"], p["paid"], _pct(p["paid_ratio"]), _pct(p["denial_rate"]),
           "-" if p["average_days_to_payment"] is None else p["average_days_to_payment"]] for p in r["payers"]]),
        ("A/R aging (days since the date of service)", ["bucket", "claims", "amount"],
         [[b["bucket"], b["claims"], b["amount"]] for b in r["aging"]["buckets"]]),
    ]


def render_text(r: dict[str, Any]) -> str:
    """The report as plain-text tables."""
    out = [f"Report as of {r['as_of']}"]
    for title, headers, rows in _sections(r):
        out += ["", title, render_table(headers, rows) if rows else "(none)"]
    return "\n".join(out)


def render_html(r: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS, no scripts, no patient data)."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>EDI report {e(r['as_of'])}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
             "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}</style>",
             f"</head><body><h1>Billing report as of {e(r['as_of'])}</h1>"]
    for title, headers, rows in _sections(r):
        parts.append(f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in headers)
                     + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def cmd_report(app: App, args: argparse.Namespace) -> int:
    """`edi report [--html PATH] [--json]`."""
    r = build_report(app)
    path = getattr(args, "html", None)
    if path:
        Path(path).write_text(render_html(r), encoding="utf-8")
        app.log.info("report_written", path=str(path))
    app.emit(r, lambda: render_text(r) + (f"\n\nHTML written to {path}" if path else ""))
    return 0
