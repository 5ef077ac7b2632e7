"""The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched at view time).

Headline figures as tiles with their definitions on hover (``title=``), then one card per question a
billing manager asks on Monday: the weekly trend, where denials come from (category, CARC pareto with
full descriptions), what each payer pays, A/R aging by payer, held claims, underpayments, claims at
risk of timely filing and data errors. Each card has its chart (:mod:`pipelines.cli.report_svg`)
and the table of its figures (:func:`pipelines.cli.report.report_tables`). Every figure shown
carries ``data-key`` (its JSON path in ``edi report --json``) and ``data-format``. No patient data:
claim ids, payers, codes and amounts only.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

from pipelines.cli.report import DEFINITIONS, Cell, Table, fmt, report_tables
from pipelines.cli.report_svg import BILLED, DENIED, PAID, Bar, hbars, pareto, trend

__all__ = ["render_html"]

_e = html.escape
_AGING_COLORS = ("#94d82d", "#fcc419", "#ff922b", "#f76707", "#c92a2a")
_CATEGORY_COLOR = "#e8590c"
_HELD_COLOR = "#7048e8"
_NUMERIC = ("money", "rate", "int", "days")
_UNDERPAID_COLOR = "#1098ad"
_CSS = """
*{box-sizing:border-box}body{margin:0;background:#f1f3f5;color:#212529;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#1c2b4a;color:#fff;padding:20px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c5cee0}main{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;margin-bottom:20px}
.tile{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08);cursor:help;
border-top:4px solid #4263eb}.tile.warn{border-top-color:#f59f00}.tile.bad{border-top-color:#e03131}
.tile.good{border-top-color:#2f9e44}.tile .label{color:#495057;font-size:12px;text-transform:uppercase;
letter-spacing:.04em}.tile .value{font-size:26px;font-weight:650;margin:2px 0}.tile .sub{color:#868e96;
font-size:12px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
.card{background:#fff;border-radius:10px;padding:16px 18px;box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:0}
.card.wide{grid-column:1/-1}.card h2{font-size:16px;margin:0 0 2px}.card .why{color:#868e96;margin:0 0 10px;
font-size:12.5px}table{border-collapse:collapse;width:100%;margin-top:10px;font-size:13px}
th{text-align:left;color:#495057;font-weight:600;border-bottom:2px solid #dee2e6;padding:5px 8px}
td{border-bottom:1px solid #f1f3f5;padding:5px 8px;vertical-align:top}.scroll{overflow-x:auto}
svg.chart{display:block;max-width:100%;height:auto;margin:4px 0}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.desc{min-width:260px;white-space:normal;overflow-wrap:break-word}tr.total td{font-weight:650;border-top:2px solid #dee2e6}
.empty{color:#868e96;font-style:italic}.note{color:#868e96;font-size:12px}
details summary{cursor:pointer;color:#4263eb;margin-top:8px}footer{color:#868e96;font-size:12px;
text-align:center;padding:12px}@media print{body{background:#fff}.card,.tile{box-shadow:none;
border:1px solid #dee2e6}}
"""


def _D(v: Any) -> Decimal:
    return Decimal(str(v or 0))


def _figure(value: Any, kind: str, key: str | None, tag: str = "span", cls: str = "") -> str:
    attrs = f' class="{cls}"' if cls else ""
    if key:
        attrs += f' data-key="{_e(key)}" data-format="{kind}"'
    return f"<{tag}{attrs}>{_e(fmt(value, kind))}</{tag}>"


def _tile(label: str, value: Any, kind: str, key: str, sub: str = "", tone: str = "") -> str:
    hover = DEFINITIONS.get(key, "")
    return (f'<div class="tile {tone}" title="{_e(hover)}"><div class="label">{_e(label)}</div>'
            f'{_figure(value, kind, key, "div", "value")}<div class="sub">{sub}</div></div>')


def _tone(rate: float | None, good: float, bad: float) -> str:
    if rate is None:
        return ""
    if good > bad:
        return "good" if rate >= good else "bad" if rate < bad else "warn"
    return "good" if rate <= good else "bad" if rate > bad else "warn"


def _tiles(r: dict[str, Any]) -> str:
    c, d = r["claims"], r["denial_rate"]
    cc, fp = r["clean_claims"], r["first_pass_resolution"]
    f = _figure
    tiles = [
        _tile("Billed", c["billed"]["amount"], "money", "claims.billed.amount",
              f'{f(c["billed"]["count"], "int", "claims.billed.count")} claims sent'),
        _tile("Paid", c["paid"]["amount"], "money", "claims.paid.amount",
              f'{f(c["paid"]["count"], "int", "claims.paid.count")} claims paid'),
        _tile("Clean-claim rate", r["clean_claim_rate"], "rate", "clean_claim_rate",
              f'{f(cc["clean"], "int", "clean_claims.clean")} of {f(cc["coded"], "int", "clean_claims.coded")} coded',
              _tone(r["clean_claim_rate"], 0.95, 0.85)),
        _tile("First-pass resolution", r["first_pass_resolution_rate"], "rate", "first_pass_resolution_rate",
              f'{f(fp["resolved"], "int", "first_pass_resolution.resolved")} of '
              f'{f(fp["adjudicated"], "int", "first_pass_resolution.adjudicated")} adjudicated',
              _tone(r["first_pass_resolution_rate"], 0.90, 0.80)),
        _tile("Denial rate", d["by_count"], "rate", "denial_rate.by_count",
              f'{f(d["by_dollars"], "rate", "denial_rate.by_dollars")} of dollars', _tone(d["by_count"], 0.05, 0.10)),
        _tile("Net collection rate", r["payer_net_collection_rate"], "rate", "payer_net_collection_rate",
              f'{f(r["net_collection"]["collectible"], "money", "net_collection.collectible")} collectible',
              _tone(r["payer_net_collection_rate"], 0.95, 0.90)),
        _tile("Days in A/R", r["days_in_ar"], "days", "days_in_ar",
              f'{f(r["aging"]["total"], "money", "aging.total")} open A/R',
              "" if r["days_in_ar"] is None else _tone(r["days_in_ar"], 40, 50)),
        _tile("Timely filing at risk", r["at_risk"]["dollars"], "money", "at_risk.dollars",
              f'{f(r["at_risk"]["claims"], "int", "at_risk.claims")} claims due within '
              f'{r["at_risk"]["within_days"]} days', "bad" if r["at_risk"]["claims"] else "good"),
        _tile("Underpaid", r["underpaid"]["dollars"], "money", "underpaid.dollars",
              f'{f(r["underpaid"]["lines"], "int", "underpaid.lines")} lines below contract',
              "warn" if r["underpaid"]["lines"] else "good"),
        _tile("Held, not sent", r["held"]["dollars"], "money", "held.dollars",
              f'{f(r["held"]["claims"], "int", "held.claims")} claims to fix', "warn" if r["held"]["claims"] else "good"),
    ]
    return '<section class="tiles">' + "".join(tiles) + "</section>"


def _table(t: Table, *, total_last: bool = False) -> str:
    if not t.rows:
        return '<p class="empty">Nothing to show.</p>'
    kinds = [c.kind for c in t.rows[0]]
    head = "".join(f'<th class="{"num" if k in _NUMERIC else ""}">{_e(h)}</th>'
                   for h, k in zip(t.headers, kinds, strict=True))

    def cell(c: Cell) -> str:
        cls = "num" if c.kind in _NUMERIC else "desc" if len(str(c.value)) > 40 else ""
        return _figure(c.value, c.kind, c.key, "td", cls)

    total = ' class="total"'
    rows = [f"<tr{total if total_last and i == len(t.rows) - 1 else ''}>" + "".join(cell(c) for c in row) + "</tr>"
            for i, row in enumerate(t.rows)]
    note = f'<p class="note">{_e(t.note)}</p>' if t.note else ""
    return (f'<div class="scroll"><table data-table="{_e(t.name)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{note}')


def _card(title: str, why: str, chart: str, table: str, *, wide: bool = False, fold: bool = False) -> str:
    body = f"<details><summary>the figures</summary>{table}</details>" if fold else table
    return (f'<section class="card{" wide" if wide else ""}"><h2>{_e(title)}</h2><p class="why">{_e(why)}</p>'
            f"{chart}{body}</section>")


def _charts(r: dict[str, Any]) -> dict[str, str]:
    """Each chart's SVG by table name (no entry when there is nothing to draw)."""
    out: dict[str, str] = {}
    weeks = r["weekly_trend"]["weeks"]
    if any(_D(w["billed"]) for w in weeks):
        out["weekly_trend"] = trend("weekly_trend", "Billed, paid and denied dollars by week", [w["week"] for w in weeks],
                                    [(name, color, [_D(w[name]) for w in weeks])
                                     for name, color in (("billed", BILLED), ("paid", PAID), ("denied", DENIED))])
    cats = r["denials_by_category"]
    if cats:
        out["denials_by_category"] = hbars(
            "denials_by_category", "Denial dollars by category",
            [(k.replace("_", " "), [Bar(_D(v["dollars"]), _CATEGORY_COLOR, f'{k}: ${_D(v["dollars"]):,.2f}, '
                                        f'{v["count"]} items')]) for k, v in cats.items()],
            value_text=[f'${_D(v["dollars"]):,.2f}' for v in cats.values()])
    carcs = r["carc_pareto"][:15]
    if carcs:
        out["carc_pareto"] = pareto("carc_pareto", "Adjusted dollars by CARC, largest first", [
            (c["reason"], _D(c["amount"]), c["cumulative_share"] or 0.0,
             f'CARC {c["reason"]}: ${_D(c["amount"]):,.2f} ({c["count"]}) - {c["description"]}') for c in carcs])
    if r["payers"]:
        out["payers"] = hbars("payers", "Paid versus billed by payer", [
            (p["name"], [Bar(_D(p["billed"]), BILLED, f'{p["name"]} billed ${_D(p["billed"]):,.2f}'),
                         Bar(_D(p["paid"]), PAID, f'{p["name"]} paid ${_D(p["paid"]):,.2f}')]) for p in r["payers"]],
            legend=[("billed", BILLED), ("paid", PAID)],
            value_text=[fmt(p["paid_ratio"], "rate") + " paid" for p in r["payers"]], width=1180)
    if any(_D(p["total"]) for p in r["aging_by_payer"]):
        out["aging_by_payer"] = hbars("aging_by_payer", "Open A/R by payer and age", [
            (p["name"], [Bar(_D(b["amount"]), color, f'{p["name"]} {b["bucket"]} days: ${_D(b["amount"]):,.2f} '
                             f'({b["claims"]} claims)') for b, color in zip(p["buckets"], _AGING_COLORS, strict=True)])
            for p in r["aging_by_payer"]], stacked=True,
            legend=[(f"{b} days", c) for b, c in zip(("0-30", "31-60", "61-90", "91-120", ">120"), _AGING_COLORS,
                                                     strict=True)],
            value_text=[f'${_D(p["total"]):,.2f}' for p in r["aging_by_payer"]], width=1180)
    held = r["held"]["by_reason"]
    if held:
        out["held_by_reason"] = hbars("held_by_reason", "Held claims by reason", [
            (h["reason"], [Bar(_D(h["dollars"]), _HELD_COLOR, f'{h["reason"]}: {h["claims"]} claims, '
                               f'${_D(h["dollars"]):,.2f}')]) for h in held],
            value_text=[f'${_D(h["dollars"]):,.2f} ({h["claims"]})' for h in held])
    under = r["underpaid"]["by_payer_code"]
    if under:
        out["underpaid"] = hbars("underpaid", "Underpaid dollars by payer and code", [
            (f'{u["payer_id"]} {u["procedure"] or "(claim)"}', [Bar(_D(u["dollars"]), _UNDERPAID_COLOR,
                                                          f'{u["lines"]} lines, ${_D(u["dollars"]):,.2f} short')])
            for u in under], value_text=[f'${_D(u["dollars"]):,.2f}' for u in under])
    risk = r["at_risk"]["by_payer"]
    if risk:
        out["at_risk"] = hbars("at_risk", "Billed dollars at risk of timely filing by payer", [
            (p["name"], [Bar(_D(p["dollars"]), DENIED, f'{p["name"]}: {p["claims"]} claims, ${_D(p["dollars"]):,.2f}')])
            for p in risk], value_text=[f'${_D(p["dollars"]):,.2f} ({p["claims"]})' for p in risk], width=1180)
    return out


_CARDS: tuple[tuple[str, str, str, bool, bool], ...] = (
    # table name, title, why it matters, wide, fold the table
    ("weekly_trend", "Weekly trend", "Billed, paid and denied dollars by week of the date of service.", True, True),
    ("denials_by_category", "Denials by category", "Denial work items of claims adjudicated: where the money is "
     "stuck, and so which fix pays most.", False, False),
    ("payers", "Paid vs billed by payer", "Paid ratio, denial rate and median days from submission to payment.",
     True, False),
    ("carc_pareto", "Denials and adjustments by reason (CARC)", "The few reasons that make most of the dollars "
     "(contractual CO 45 and patient responsibility left out).", True, False),
    ("aging_by_payer", "A/R aging by payer", "Unpaid balance of open claims by days since the date of service.",
     True, False),
    ("held_by_reason", "Held claims by reason", "Claims the scrubber kept back: fix the data and the next run "
     "sends them.", False, False),
    ("underpaid", "Underpaid by payer and code", "Lines paid below the contract rate: appeal them.", False, False),
    ("at_risk", "Timely filing at risk", "Claims not yet adjudicated whose filing deadline is near, soonest first.",
     True, False),
    ("data_errors", "Data errors", "Records left out of the figures because they contradict themselves.", True, False),
)


def render_html(r: dict[str, Any], *, practice: str = "") -> str:
    """The report as one self-contained HTML page."""
    tables = {t.name: t for t in report_tables(r)}
    charts = _charts(r)
    period = r.get("period") or {}
    span = (f" &middot; services {_e(period.get('since') or '...')} to {_e(period.get('until') or '...')}"
            if any(period.values()) else "")
    cards = []
    for name, title, why, wide, fold in _CARDS:
        if name == "data_errors" and not r["data_errors_total"]:
            continue
        cards.append(_card(title, why, charts.get(name, ""), _table(tables[name], total_last=name == "aging_by_payer"),
                           wide=wide, fold=fold))
    who = f"{_e(practice)} &middot; " if practice else ""
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Billing report as of {_e(r['as_of'])}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>Billing report</h1><p>{who}as of {_e(r['as_of'])}{span}</p></header><main>",
        _tiles(r), '<div class="grid">', *cards, "</div></main>",
        "<footer>Generated by edi report. Hover over a headline figure for its definition. "
        "No patient data: claim ids, payers, codes and amounts only.</footer></body></html>",
    ]) + "\n"
