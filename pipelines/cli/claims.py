"""Commands on claims going out, and their rendering: `edi import`, `edi claims submit/list/show/export`,
`edi eligibility request/show`, `edi status request`, `edi denials list/resubmit`, `edi codes import`.

Each command turns its arguments into one use-case call (``pipelines.usecases``) with the App's
config, unit of work, mailbox and ``as_of``, and prints what comes back: JSON with ``--json``, else
text for a person.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipelines.cli.app import App, Command
from pipelines.cli.table import render_table, usd
from pipelines.rules.eligibility import benefit_summary
from pipelines.usecases.at_risk import at_risk_claims
from pipelines.usecases.claim_status import build_status_requests
from pipelines.usecases.claim_views import claim_detail, export_claims, list_claims
from pipelines.usecases.codes import import_code_list
from pipelines.usecases.denials import list_denials, resubmit
from pipelines.usecases.eligibility import build_eligibility_requests, eligibility_of_patient
from pipelines.usecases.holds import explain_holds
from pipelines.usecases.importer import ImportResult, import_authorizations, import_encounters
from pipelines.usecases.outbound import InquiryFile, upload_pending
from pipelines.usecases.submit import submit_and_upload

__all__ = ["COMMANDS"]


def _upload_failed(app: App, error: str | None) -> int:
    """Exit 1 and say so on stderr (for a person) when the upload failed; the file stays for the next run."""
    if error and not app.json:
        print(f"edi: upload failed: {error}", file=sys.stderr)
    return 1 if error else 0


# ------------------------------------------------------------------------------------------------
# edi import
# ------------------------------------------------------------------------------------------------


def _report_import(app: App, result: ImportResult, what: str, key: str) -> int:
    """The counts on stdout, each refused row (line, id, problems: never the values) on stderr."""
    def text() -> str:
        lines = [f"{Path(result.file).name}: {result.inserted} {what} added, {result.replaced} replaced, "
                 f"{len(result.errors)} rows rejected"]
        if result.ignored_columns:
            lines.append(f"ignored columns: {', '.join(result.ignored_columns)}")
        return "\n".join(lines)

    if not app.json:
        for e in result.errors:
            print(f"{Path(result.file).name}: line {e['line']} ({key} {e[key] or '?'}): "
                  f"{'; '.join(e['problems'])}", file=sys.stderr)
    app.emit(result.as_dict(), text)
    return 1 if result.errors else 0


def cmd_import_encounters(app: App, args: argparse.Namespace) -> int:
    """`edi import encounters FILE`: exit 1 when any row was refused."""
    return _report_import(app, import_encounters(app.config, app.uow, args.file), "encounters", "encounter_id")


def cmd_import_authorizations(app: App, args: argparse.Namespace) -> int:
    """`edi import authorizations FILE`: exit 1 when any row was refused."""
    return _report_import(app, import_authorizations(app.config, app.uow, args.file), "authorizations",
                          "authorization_number")


# ------------------------------------------------------------------------------------------------
# edi claims
# ------------------------------------------------------------------------------------------------


def cmd_submit(app: App, args: argparse.Namespace) -> int:
    """`edi claims submit`: code and scrub, write the ready claims as 837Ps, upload them."""
    with app.mailbox() as mailbox, app.progress_bar("coding, scrubbing and sending claims"):
        data = submit_and_upload(app.config, app.uow, mailbox, as_of=app.as_of)

    def text() -> str:
        out = [f"coded {data['coded']}: {data['ready']} ready, {data['held']} held"]
        for reason, n in data["hold_reasons"].items():
            out.append(f"  held {reason}: {n}")
        legs = data.get("next_legs") or {}
        if legs:
            out.append(f"next payers: {legs.get('next_legs_created', 0)} claims created, "
                       f"{legs.get('legs_crossed_over', 0)} crossed over, {legs.get('next_legs_ready', 0)} ready, "
                       f"{legs.get('next_legs_held', 0)} held")
            out += (f"  held {k[5:]}: {n}" for k, n in legs.items() if k.startswith("hold_"))
        out.append(f"sent {data['sent']} claims in {', '.join(f['name'] for f in data['files'])}" if data["files"]
                   else "no ready claims: no file written")
        if data["upload_error"]:
            out.append(f"upload failed ({data['upload_error']}); the file is kept and the next run uploads it")
        return "\n".join(out)

    app.emit(data, text)
    return _upload_failed(app, data["upload_error"])


def cmd_list(app: App, args: argparse.Namespace) -> int:
    """`edi claims list [--status S] [--at-risk [--days N]]`."""
    if getattr(args, "at_risk", False):
        return _list_at_risk(app, args.days)
    rows = list_claims(app.uow, args.status)
    app.emit({"claims": rows}, lambda: render_table(
        ["claim", "encounter", "payer", "seq", "date", "status", "billed", "paid", "holds"],
        [[r["claim_id"], r["encounter_id"], r["payer_id"], r["payer_sequence"], r["date_of_service"], r["status"],
          r["billed"], r["paid"], ", ".join(r["hold_reasons"])] for r in rows], money=("billed", "paid"))
        if rows else "no claims" + (f" in status {args.status}" if args.status else ""))
    return 0


def _list_at_risk(app: App, days: int) -> int:
    """Claims not yet adjudicated whose filing deadline is today or within ``days`` days, soonest first."""
    rows = at_risk_claims(app.config, app.uow, as_of=app.as_of, within_days=days)
    app.emit({"claims": rows}, lambda: render_table(
        ["claim", "payer", "date", "status", "deadline", "days left", "billed", "holds"],
        [[r["claim_id"], r["payer_id"], r["date_of_service"], r["status"], r["deadline"], r["days_left"],
          r["billed"], ", ".join(r["hold_reasons"])] for r in rows], money=("billed",))
        if rows else f"no claims within {days} days of a filing deadline")
    return 0


def _lines_table(d: dict[str, Any]) -> str:
    return render_table(
        ["line", "control", "code", "modifiers", "units", "charge", "pointers", "paid", "adjustments", "remarks"],
        [[i, ln["line_control_number"], ln["procedure"], ",".join(ln["modifiers"]), ln["units"], ln["charge"],
          ",".join(map(str, ln["diagnosis_pointers"])), ln["paid"],
          "; ".join(f"{a['group']}-{a['reason']} {usd(a['amount'])}" for a in ln["adjustments"]),
          ", ".join(ln.get("remarks") or [])]
         for i, ln in enumerate(d["lines"], 1)], money=("charge", "paid"))


def _claim_text(d: dict[str, Any], holds: list[str]) -> str:
    status = f"  status {d['status']}" + (f" ({', '.join(d['hold_reasons'])})" if d["hold_reasons"] else "") \
        + (f": {d['status_reason']}" if d["status_reason"] else "")
    leg = {"P": "primary", "S": "secondary", "T": "tertiary"}.get(d["payer_sequence"], d["payer_sequence"])
    out = [f"claim {d['claim_id']} (encounter {', '.join(d['encounter_ids'])}) payer {d['payer_id']} ({leg}"
           + (f", after claim {d['prior_claim_id']})" if d.get("prior_claim_id") else ")")
           + (f", payer claim number {d['payer_claim_number']}" if d.get("payer_claim_number") else ""),
           status, *(f"    {h}" for h in holds),
           f"  date {d['date_of_service']}  POS {d['place_of_service']}  frequency {d['frequency_code']}",
           f"  billed {usd(d['billed'])}  paid {usd(d['paid'])}  patient {usd(d['patient_responsibility'])}"
           f"  patient balance {usd(d['patient_balance'])}"]
    if d.get("diagnoses"):
        out.append(f"  diagnoses: {', '.join(d['diagnoses'])}")
    if d["warnings"]:
        out.append(f"  warnings: {', '.join(d['warnings'])}")
    if d["lines"]:
        out.append(_lines_table(d))
    for a in d["adjustments"]:
        out.append(f"  claim adjustment {a['group']}-{a['reason']} {usd(a['amount'])}")
    if d.get("remarks"):
        out.append(f"  claim remarks: {', '.join(d['remarks'])}")
    for ev in d["history"]:
        out.append(f"  {ev['source']} {ev['category'] or ''} {ev['code'] or ''} {ev['description'] or ''}".rstrip())
    return "\n".join(out)


def cmd_show(app: App, args: argparse.Namespace) -> int:
    """`edi claims show CLAIM_ID`: the claim, why it is held, its lines, adjustments and status history."""
    d = claim_detail(app.uow, args.claim_id)
    holds = explain_holds(app.config, app.uow, args.claim_id) if d["hold_reasons"] else []
    app.emit(d, lambda: _claim_text(d, holds))
    return 0


def cmd_export(app: App, args: argparse.Namespace) -> int:
    """`edi claims export --json`: every claim as CONTRACT section 6 (JSON even without --json)."""
    claims = export_claims(app.uow, getattr(args, "status", None))
    app.out.write(json.dumps({"claims": claims}, indent=2) + "\n")
    return 0


# ------------------------------------------------------------------------------------------------
# edi eligibility, edi status
# ------------------------------------------------------------------------------------------------


def _report_inquiries(app: App, built: InquiryFile, heading: str, *, nothing: str, sent_line: str,
                      skipped_line: str) -> int:
    """Upload what is waiting and print what an inquiry command (270, 276) did; exit 1 if any was skipped.

    ``heading``, ``sent_line`` and ``skipped_line`` are format strings over the file
    (``{f.id}``, ``{f.name}``, ``{n}``) and over each inquiry's fields.
    """
    with app.mailbox() as mailbox:
        uploaded = upload_pending(app.config, app.uow, mailbox)
    f = built.file
    data = {"file_id": f.id if f else None, "file_name": f.name if f else None, "inquiries": built.sent,
            "skipped": built.skipped, "uploaded_file_ids": uploaded}

    def text() -> str:
        lines = [nothing] if f is None else [heading.format(f=f, n=len(built.sent)),
                                             *(sent_line.format(**s) for s in built.sent)]
        lines += (skipped_line.format(**s) for s in built.skipped)
        if uploaded:
            lines.append("uploaded file id(s): " + ", ".join(map(str, uploaded)))
        return "\n".join(lines)

    app.emit(data, text)
    return 1 if built.skipped else 0


def cmd_eligibility_request(app: App, args: argparse.Namespace) -> int:
    """`edi eligibility request`: build the 270 file and upload what is waiting."""
    return _report_inquiries(
        app, build_eligibility_requests(app.config, app.uow, as_of=app.as_of),
        "270 file {f.id} ({f.name}): {n} inquiry(ies)",
        nothing="no patient/payer pair needs an eligibility inquiry",
        sent_line="  {patient_id} / {payer_id}  trace {trace}",
        skipped_line="  skipped {patient_id} / {payer_id}: {reason}")


def cmd_eligibility_show(app: App, args: argparse.Namespace) -> int:
    """`edi eligibility show PATIENT_ID [--json]`: the eligibility on file per payer."""
    patient_id = args.patient_id
    rows = eligibility_of_patient(app.config, app.uow, patient_id)

    def text() -> str:
        if not rows:
            return f"no eligibility on file for patient {patient_id} (run `edi eligibility request`)"
        lines = [render_table(["payer", "coverage", "plan start", "plan end", "checked"],
                              [[r["payer_id"], r["coverage"], r["plan_start"] or "", r["plan_end"] or "",
                                (r["checked_at"] or "")[:10]] for r in rows])]
        for r in rows:
            lines += (f"  {r['payer_id']}: {benefit_summary(b)}" for b in r["benefits"])
            lines += (f"  {r['payer_id']}: rejected - {x['text']}" for x in r["rejections"])
        return "\n".join(lines)

    app.emit({"patient_id": patient_id, "eligibility": rows}, text)
    return 0


def cmd_status_request(app: App, args: argparse.Namespace) -> int:
    """`edi status request`: build the 276 file and upload what is waiting."""
    return _report_inquiries(
        app, build_status_requests(app.config, app.uow, as_of=app.as_of),
        "276 file {f.id} ({f.name}): {n} claim(s)",
        nothing="no submitted claim needs a status inquiry",
        sent_line="  {claim_id} ({payer_id})",
        skipped_line="  skipped {claim_id}: {reason}")


# ------------------------------------------------------------------------------------------------
# edi denials, edi codes
# ------------------------------------------------------------------------------------------------


def cmd_denials_list(app: App, args: argparse.Namespace) -> int:
    """`edi denials list [--state S] [--json]` (default: open items)."""
    state = getattr(args, "state", None) or "open"
    items = list_denials(app.uow, state)

    def text() -> str:
        if not items:
            return f"no {state} denials" if state != "all" else "no denials"
        return render_table(
            ["CLAIM", "LINE", "CAS", "AMOUNT", "CATEGORY", "ACTION", "STATE", "REMARKS"],
            [[d["claim_id"], d["line_control_number"] or "-", f"{d['group']}-{d['reason']}", d["amount"],
              d["category"], d["action"], d["state"], ",".join(d["remarks"])] for d in items])

    app.emit({"denials": items}, text)
    return 0


def cmd_resubmit(app: App, args: argparse.Namespace) -> int:
    """`edi denials resubmit CLAIM_ID`: write the replacement claim and upload it."""
    with app.mailbox() as mailbox:
        done = resubmit(app.config, app.uow, mailbox, args.claim_id)
    app.emit(done.as_dict(), f"claim {done.claim_id} resubmitted as {done.replacement_claim_id} (frequency 7, "
                             f"REF*F8 {done.payer_claim_number}) in file {done.file_id}"
                             + (f"; upload failed ({done.upload_error}), the next run uploads it"
                                if done.upload_error else ""))
    return _upload_failed(app, done.upload_error)


def cmd_codes_import(app: App, args: argparse.Namespace) -> int:
    """`edi codes import carc|rarc FILE`."""
    name, n = import_code_list(app.uow, args.list_name, args.file)
    app.emit({"list": name, "imported": n}, f"imported {n} {name.upper()} code(s)")
    return 0


COMMANDS: dict[tuple[str, ...], Command] = {
    ("import", "encounters"): cmd_import_encounters,
    ("import", "authorizations"): cmd_import_authorizations,
    ("claims", "submit"): cmd_submit,
    ("claims", "list"): cmd_list,
    ("claims", "show"): cmd_show,
    ("claims", "export"): cmd_export,
    ("eligibility", "request"): cmd_eligibility_request,
    ("eligibility", "show"): cmd_eligibility_show,
    ("status", "request"): cmd_status_request,
    ("denials", "list"): cmd_denials_list,
    ("denials", "resubmit"): cmd_resubmit,
    ("codes", "import"): cmd_codes_import,
}
