"""`edi report [--json] [--html PATH] [--csv DIR]`: the report for people, spreadsheets and scripts.

The figures come from :func:`pipelines.usecases.report.build_report`; this module only renders
them. :func:`report_tables` is the one list of tables the terminal, the CSV files and the HTML
page all show, so every rendering carries the same numbers. Each cell knows the JSON path of its
figure (``payers.0.paid``), which the HTML page writes as ``data-key`` so a test can compare what
is shown with ``edi report --json``. The HTML page itself is in :mod:`pipelines.cli.report_html`.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.cli.app import App
from pipelines.cli.table import render_table, usd
from pipelines.usecases.report import AGING_BUCKETS, build_report

__all__ = ["DEFINITIONS", "Cell", "Table", "cmd_report", "fmt", "render_text", "report_tables", "write_csv"]


DEFINITIONS: dict[str, str] = {
    "claims.billed.amount": "Claims sent to payers (every status but held and ready): billed charges.",
    "claims.paid.amount": "Net paid by payers on the claims sent (reversals included).",
    "clean_claim_rate": "Original claims sent on their first try without a hold and never rejected, "
                        "divided by original claims coded (held and ready included).",
    "first_pass_resolution_rate": "Claims adjudicated that were paid or fully patient responsibility by their "
                                  "one and only 835 posting, never rejected, divided by claims adjudicated.",
    "first_pass_acceptance_rate": "Original claims sent and accepted without a 999/277CA rejection, divided by "
                                  "original claims sent.",
    "denial_rate.by_count": "Claims denied divided by claims adjudicated (paid, denied, patient responsibility).",
    "denial_rate.by_dollars": "Billed dollars of claims denied divided by billed dollars of claims adjudicated.",
    "payer_net_collection_rate": "Paid divided by (billed - contractual CO 45 adjustments - patient "
                                 "responsibility), over claims adjudicated.",
    "days_in_ar": "Open insurance A/R (unpaid balance of submitted, accepted and denied claims) divided by the "
                  "average daily charges of the last 90 days.",
    "at_risk.dollars": "Claims not yet adjudicated (held, ready, rejected, denied awaiting correction) whose "
                       "timely-filing deadline is today or within 30 days: billed dollars.",
    "underpaid.dollars": "Lines paid below the payer's contract rate: dollars short (denial work items of "
                         "category underpaid).",
    "held.dollars": "Claims held by the scrubber and not sent: billed dollars.",
    "aging.total": "Unpaid balance of open claims (submitted, accepted, denied).",
    "open_denials": "Denial work items still open.",
}
"""What each headline figure means (the HTML page shows it on hover)."""


@dataclass(frozen=True)
class Cell:
    """One figure: its JSON value, how to show it (money, rate, days, int, text) and its JSON path."""

    value: Any
    kind: str = "text"
    key: str | None = None


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""


def fmt(value: Any, kind: str) -> str:
    """A figure as a person reads it: $6,470.00, 12.5%, 14.0 days; a missing figure is a dash."""
    if value is None:
        return "-"
    if kind == "money":
        return usd(value)
    if kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if kind == "days":
        return f"{float(value):.1f}"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def _summary(r: dict[str, Any]) -> Table:
    t = Table("summary", "Headline figures", ["measure", "value"])
    c = r["claims"]
    rows: list[tuple[str, Any, str, str]] = [
        ("claims billed", c["billed"]["count"], "int", "claims.billed.count"),
        ("billed", c["billed"]["amount"], "money", "claims.billed.amount"),
        ("claims paid", c["paid"]["count"], "int", "claims.paid.count"),
        ("paid", c["paid"]["amount"], "money", "claims.paid.amount"),
        *[(f"recovered from {'secondary' if s['payer_sequence'] == 'S' else 'tertiary'} payers", s["paid"],
           "money", f"claims.by_payer_sequence.{i}.paid")
          for i, s in enumerate(c.get("by_payer_sequence", [])) if s["payer_sequence"] != "P"],
        ("clean-claim rate", r["clean_claim_rate"], "rate", "clean_claim_rate"),
        ("first-pass acceptance", r["first_pass_acceptance_rate"], "rate", "first_pass_acceptance_rate"),
        ("first-pass resolution", r["first_pass_resolution_rate"], "rate", "first_pass_resolution_rate"),
        ("denial rate (count)", r["denial_rate"]["by_count"], "rate", "denial_rate.by_count"),
        ("denial rate (dollars)", r["denial_rate"]["by_dollars"], "rate", "denial_rate.by_dollars"),
        ("net collection rate", r["payer_net_collection_rate"], "rate", "payer_net_collection_rate"),
        ("days in A/R", r["days_in_ar"], "days", "days_in_ar"),
        ("open insurance A/R", r["aging"]["total"], "money", "aging.total"),
        ("claims at risk of timely filing", r["at_risk"]["claims"], "int", "at_risk.claims"),
        ("at risk", r["at_risk"]["dollars"], "money", "at_risk.dollars"),
        ("underpaid lines", r["underpaid"]["lines"], "int", "underpaid.lines"),
        ("underpaid", r["underpaid"]["dollars"], "money", "underpaid.dollars"),
        ("claims held", r["held"]["claims"], "int", "held.claims"),
        ("held", r["held"]["dollars"], "money", "held.dollars"),
        ("open denials", r["open_denials"], "int", "open_denials"),
        ("unmatched payments", r["unmatched_payments"], "int", "unmatched_payments"),
        ("data errors", r["data_errors_total"], "int", "data_errors_total"),
    ]
    t.rows = [[Cell(label), Cell(v, kind, key)] for label, v, kind, key in rows]
    return t


def _payers(r: dict[str, Any]) -> Table:
    t = Table("payers", "Paid vs billed by payer",
              ["payer", "id", "claims", "billed", "paid", "paid ratio", "denial rate", "median days to pay",
               "average days to pay", "data errors"])
    for i, p in enumerate(r["payers"]):
        k = f"payers.{i}."
        t.rows.append([Cell(p["name"], "text", k + "name"), Cell(p["payer_id"], "text", k + "payer_id"),
                       Cell(p["claims"], "int", k + "claims"),
                       Cell(p["billed"], "money", k + "billed"), Cell(p["paid"], "money", k + "paid"),
                       Cell(p["paid_ratio"], "rate", k + "paid_ratio"),
                       Cell(p["denial_rate"], "rate", k + "denial_rate"),
                       Cell(p["median_days_to_payment"], "days", k + "median_days_to_payment"),
                       Cell(p["average_days_to_payment"], "days", k + "average_days_to_payment"),
                       Cell(p["data_errors"], "int", k + "data_errors")])
    return t


def _carcs(r: dict[str, Any]) -> Table:
    t = Table("carc_pareto", "Denied and adjusted dollars by CARC (pareto; CO 45 and PR left out)",
              ["CARC", "amount", "count", "cumulative", "description"])
    for i, c in enumerate(r["carc_pareto"]):
        k = f"carc_pareto.{i}."
        t.rows.append([Cell(c["reason"], "text", k + "reason"), Cell(c["amount"], "money", k + "amount"),
                       Cell(c["count"], "int", k + "count"), Cell(c["cumulative_share"], "rate", k + "cumulative_share"),
                       Cell(c["description"], "text", k + "description")])
    return t


def _categories(r: dict[str, Any]) -> Table:
    t = Table("denials_by_category", "Denials by category", ["category", "count", "dollars"])
    for cat, v in r["denials_by_category"].items():
        k = f"denials_by_category.{cat}."
        t.rows.append([Cell(cat.replace("_", " ")), Cell(v["count"], "int", k + "count"),
                       Cell(v["dollars"], "money", k + "dollars")])
    return t


def _aging(r: dict[str, Any]) -> Table:
    t = Table("aging_by_payer", "A/R aging by payer (open claims, days since the date of service)",
              ["payer", *AGING_BUCKETS, "total"])
    for i, p in enumerate(r["aging_by_payer"]):
        k = f"aging_by_payer.{i}."
        t.rows.append([Cell(p["name"], "text", k + "name"),
                       *[Cell(b["amount"], "money", f"{k}buckets.{j}.amount") for j, b in enumerate(p["buckets"])],
                       Cell(p["total"], "money", k + "total")])
    t.rows.append([Cell("all payers"),
                   *[Cell(b["amount"], "money", f"aging.buckets.{j}.amount")
                     for j, b in enumerate(r["aging"]["buckets"])],
                   Cell(r["aging"]["total"], "money", "aging.total")])
    return t


def _held(r: dict[str, Any]) -> Table:
    t = Table("held_by_reason", "Held claims by reason (a claim with two reasons counts under both)",
              ["reason", "claims", "dollars"])
    for i, h in enumerate(r["held"]["by_reason"]):
        k = f"held.by_reason.{i}."
        t.rows.append([Cell(h["reason"], "text", k + "reason"), Cell(h["claims"], "int", k + "claims"),
                       Cell(h["dollars"], "money", k + "dollars")])
    return t


def _underpaid(r: dict[str, Any]) -> Table:
    t = Table("underpaid", "Underpaid by payer and code (paid below the contract rate)",
              ["payer", "code", "lines", "dollars short"])
    for i, u in enumerate(r["underpaid"]["by_payer_code"]):
        k = f"underpaid.by_payer_code.{i}."
        t.rows.append([Cell(u["name"], "text", k + "name"), Cell(u["procedure"] or "(claim)", "text"),
                       Cell(u["lines"], "int", k + "lines"), Cell(u["dollars"], "money", k + "dollars")])
    return t


def _at_risk(r: dict[str, Any]) -> Table:
    a = r["at_risk"]
    t = Table("at_risk", f"Claims at risk of timely filing (deadline within {a['within_days']} days)",
              ["claim", "payer", "status", "date of service", "deadline", "days left", "billed"],
              note="" if len(a["soonest"]) >= a["claims"] else f"the {len(a['soonest'])} soonest of {a['claims']}")
    for i, c in enumerate(a["soonest"]):
        k = f"at_risk.soonest.{i}."
        t.rows.append([Cell(c["claim_id"], "text", k + "claim_id"), Cell(c["payer_id"], "text", k + "payer_id"),
                       Cell(c["status"], "text", k + "status"), Cell(c["date_of_service"], "text", k + "date_of_service"),
                       Cell(c["deadline"], "text", k + "deadline"), Cell(c["days_left"], "int", k + "days_left"),
                       Cell(c["billed"], "money", k + "billed")])
    return t


def _trend(r: dict[str, Any]) -> Table:
    t = Table("weekly_trend", "Weekly trend by week of the date of service",
              ["week of", "claims", "billed", "paid", "denied"])
    for i, w in enumerate(r["weekly_trend"]["weeks"]):
        k = f"weekly_trend.weeks.{i}."
        t.rows.append([Cell(w["week"], "text", k + "week"), Cell(w["claims"], "int", k + "claims"),
                       Cell(w["billed"], "money", k + "billed"), Cell(w["paid"], "money", k + "paid"),
                       Cell(w["denied"], "money", k + "denied")])
    return t


def _errors(r: dict[str, Any]) -> Table:
    t = Table("data_errors", "Data errors (left out of the figures)", ["claim", "payer", "error", "submitted", "paid"],
              note="" if len(r["data_errors"]) >= r["data_errors_total"]
              else f"the first {len(r['data_errors'])} of {r['data_errors_total']}")
    for i, e in enumerate(r["data_errors"]):
        k = f"data_errors.{i}."
        t.rows.append([Cell(e[f], "text", k + f) for f in ("claim_id", "payer_id", "error", "submitted", "paid")])
    return t


def report_tables(r: dict[str, Any]) -> list[Table]:
    """Every table of the report, in the order a billing manager reads them."""
    return [_summary(r), _trend(r), _categories(r), _carcs(r), _payers(r), _aging(r), _held(r), _underpaid(r),
            _at_risk(r), _errors(r)]


def render_text(r: dict[str, Any]) -> str:
    """The report as plain-text tables for a terminal."""
    period = r.get("period") or {}
    span = f" for {period.get('since') or '...'} to {period.get('until') or '...'}" if any(period.values()) else ""
    out = [f"Report as of {r['as_of']}{span}"]
    for t in report_tables(r):
        out += ["", t.title + (f" ({t.note})" if t.note else "")]
        out.append(render_table(t.headers, [[fmt(c.value, c.kind) for c in row] for row in t.rows])
                   if t.rows else "(none)")
    return "\n".join(out)


def write_csv(r: dict[str, Any], folder: Path) -> list[Path]:
    """One CSV per table in ``folder`` (amounts as 1234.56, rates as fractions), for a spreadsheet."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for t in report_tables(r):
        path = folder / f"{t.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(t.headers)
            w.writerows([["" if c.value is None else c.value for c in row] for row in t.rows])
        written.append(path)
    return written


def cmd_report(app: App, args: argparse.Namespace) -> int:
    """`edi report [--html PATH] [--csv DIR] [--json]`."""
    from pipelines.cli.report_html import render_html

    r = build_report(app.config, app.uow, as_of=app.as_of)
    notes = []
    html_path = getattr(args, "html", None)
    if html_path:
        Path(html_path).write_text(render_html(r, practice=app.config.practice.name), encoding="utf-8")
        app.log.info("report_written", path=str(html_path), format="html")
        notes.append(f"HTML written to {html_path}")
    csv_dir = getattr(args, "csv", None)
    if csv_dir:
        files = write_csv(r, Path(csv_dir))
        app.log.info("report_written", path=str(csv_dir), format="csv", files=len(files))
        notes.append(f"{len(files)} CSV files written to {csv_dir}")
    app.emit(r, lambda: render_text(r) + "".join(f"\n\n{n}" for n in notes))
    return 0
