"""`edi demo`: a self-contained tour on SQLite and a local mailbox answered by the simulator.

In a folder (default ``./demo``) it writes ``edi.toml`` (a sample practice, three payers with fees),
``encounters.csv`` (54 sessions over the seven weeks before "today", with the defects a practice
really has: a missing member id, an expired authorization, a session too short to bill, a bad
rendering NPI, a category code that is not billable, a duplicate session, visits over a plan's
limit, an authorization the payer never approved, a member id the payer's front end refuses, dual
diagnoses, telehealth by video and by telephone, and patients with a second or third coverage:
Medicaid behind a commercial plan, a spouse's plan) and ``authorizations.csv``; creates the
database (``var/edi.db``); imports both files; then runs nights, three days apart from ``--as-of``
on: the nightly run (secondary and tertiary claims for what earlier payers left, code, scrub, 837P
and 270s into ``var/mailbox/inbound``, download, post), then the clearinghouse simulator answering
as every payer of the chain (999, 277CA, 835, 271), until a night has nothing to send or post (at
most :data:`MAX_NIGHTS`); and prints what happened, with the money by payer sequence (primary,
secondary, tertiary) and what the secondary and tertiary payers recovered.

The sample's dates are moved so that the last sessions fall a few days before ``--as-of`` (all
in one calendar year, so that the visit limits show). Running the demo again in the same folder
starts fresh: its ``var/`` folder (database, mailbox, archive) is removed first, with a message. A
folder holding a practice the demo did not make (no ``.edi-demo`` marker) is refused, untouched.
"""

from __future__ import annotations

import csv
import shutil
import sys
import textwrap
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from edi import codes
from models import Adjustment, Claim, Eligibility, File
from pipelines.config import Config, load_config
from pipelines.rules.cob import patient_balance
from pipelines.rules.money import money, usd
from pipelines.simulator import SimResult, payer_rules_from_config, simulate_mailbox
from pipelines.usecases.uow import UnitOfWork

__all__ = ["DATA_DIR", "HOLD_REASONS", "MARKER", "MAX_NIGHTS", "render_summary", "run_demo", "summarize"]

DATA_DIR = Path(__file__).parent
ANCHOR = date(2026, 6, 1)  # the "today" the sample files were written for
ZERO = Decimal("0.00")
MARKER = ".edi-demo"  # marks a folder the demo may wipe and rebuild
NIGHTS_APART = timedelta(days=3)  # the clearinghouse answers between two nights
MAX_NIGHTS = 8  # primary, secondary and tertiary claims each need two nights; the last finds nothing to do
SEQUENCES = (("P", "primary"), ("S", "secondary"), ("T", "tertiary"))

HOLD_REASONS = {
    "MEMBER_ID_MISSING": "no member id on the encounter",
    "NPI_INVALID": "rendering or billing NPI fails the check digit",
    "DX_INVALID": "a diagnosis that is not a billable ICD-10-CM code",
    "DX_NOT_SUPPORTING": "no diagnosis that supports the service",
    "DX_EXCLUDES1": "two diagnoses that exclude each other",
    "TIME_BELOW_MINIMUM": "session too short to bill",
    "AUTH_MISSING": "no authorization on file",
    "AUTH_EXPIRED": "authorization expired before the session",
    "AUTH_NOT_FOR_SERVICE": "authorization does not cover the code",
    "AUTH_EXHAUSTED": "authorization has no visits left",
    "VISIT_LIMIT_REACHED": "over the plan's yearly visit limit",
    "CODE_CONFLICT": "evaluation and psychotherapy the same day",
    "DUPLICATE_SESSION": "two timed psychotherapy sessions the same day",
    "TIMELY_FILING_EXPIRED": "past the payer's filing limit",
    "ELIGIBILITY_INACTIVE": "coverage inactive on the date of service",
    "DATA_INVALID": "a value the 837P cannot carry",
}

# What the payers behind the simulated clearinghouse do, by the config's payer id: fee schedules
# and copays, and two things the practice does not know: BCBS allows 4 psychotherapy visits a year,
# and Aetna never approved AUTH-500. Behind another payer, Medicaid (the payer of last resort) pays
# all the patient was left, the others part of it, and each now and then denies a claim it thinks
# another payer should pay first (CO 22); now and then a payer forwards a claim to the next payer
# itself (a crossover).
_COB = {"cob_denial_rate": 0.03}
SIMULATED_PAYERS: dict[str, dict[str, Any]] = {
    "AETNA": {"allowed_share": Decimal("0.72"), "copay": Decimal("25.00"), "necessity_denial_rate": 0.06,
              "crossover_rate": 0.3, "cob_share": Decimal("0.80"), **_COB},
    "MEDICAID": {"allowed_share": Decimal("0.55"), "copay": ZERO, "insurance_type": "MC",
                 "cob_share": Decimal("1.00"), **_COB},
    "BCBS": {"allowed_share": Decimal("0.80"), "copay": ZERO, "coinsurance": Decimal("0.20"),
             "visit_limit_per_year": 4, "cob_share": Decimal("0.75"), **_COB},
}
UNAPPROVED_AUTHS = frozenset({"AUTH-500"})


# --------------------------------------------------------------------------------------------
# Sample files
# --------------------------------------------------------------------------------------------


def _shift(as_of: date, days: list[date]) -> timedelta:
    """How far to move the sample's dates: the last sessions just before ``as_of``, one calendar year."""
    delta = as_of - ANCHOR
    first, last = min(days) + delta, max(days) + delta
    if first.year != last.year:
        delta -= last - date(first.year, 12, 31)
    return delta


def _copy_csv(src: Path, dst: Path, columns: tuple[str, ...], delta: timedelta) -> int:
    with src.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        for col in columns:
            if row.get(col):
                row[col] = (date.fromisoformat(row[col]) + delta).isoformat()
    with dst.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def write_sample(folder: Path, as_of: date) -> tuple[Path, Path, Path]:
    """Write edi.toml, encounters.csv and authorizations.csv into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("This folder was made by `edi demo`; running it again starts it fresh.\n",
                                 encoding="utf-8")
    config = folder / "edi.toml"
    shutil.copyfile(DATA_DIR / "edi.toml", config)
    with (DATA_DIR / "encounters.csv").open(newline="", encoding="utf-8") as fh:
        days = [date.fromisoformat(r["date_of_service"]) for r in csv.DictReader(fh)]
    delta = _shift(as_of, days)
    encounters, auths = folder / "encounters.csv", folder / "authorizations.csv"
    _copy_csv(DATA_DIR / "encounters.csv", encounters, ("date_of_service",), delta)
    _copy_csv(DATA_DIR / "authorizations.csv", auths, ("start_date", "end_date"), delta)
    return config, encounters, auths


def _known_auths(path: Path) -> frozenset[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return frozenset(r["authorization_number"] for r in csv.DictReader(fh)) - UNAPPROVED_AUTHS


# --------------------------------------------------------------------------------------------
# The tour
# --------------------------------------------------------------------------------------------


def summarize(uow: UnitOfWork) -> dict[str, Any]:
    """The demo's numbers, read back from the database."""
    with uow.transaction() as session:
        claims = list(session.scalars(select(Claim).order_by(Claim.claim_id)))
        adjustments = list(session.execute(select(Adjustment.group, Adjustment.reason, Adjustment.amount)))
        eligibility = list(session.scalars(select(Eligibility)))
        files = list(session.execute(select(File.direction, File.kind, File.state)))
    status = Counter(c.status for c in claims)
    held = [c for c in claims if c.status in ("held", "ready")]
    # a next leg the previous payer forwarded itself: no 837P of ours, the next payer answers it
    crossed = [c for c in claims if c.payer_sequence != "P" and c.file_id is None and c.status not in ("held", "ready")]
    sent = [c for c in claims if c.status not in ("held", "ready") and (c.payer_sequence == "P" or c.file_id is not None)]
    reasons = Counter(r for c in held for r in c.hold_reasons)
    rejected = [c for c in claims if c.status == "rejected"]
    denial_lines: Counter[tuple[str, str]] = Counter()
    denial_amount: dict[tuple[str, str], Decimal] = {}
    for group, reason, amount in adjustments:
        if group == "PR" or (group, reason) in (("CO", "45"), ("OA", "23")):  # OA 23: the earlier payers' share
            continue
        denial_lines[(group, reason)] += 1
        denial_amount[(group, reason)] = denial_amount.get((group, reason), ZERO) + amount
    carc = codes.carc()
    denials = [{"group": g, "reason": r, "description": carc.describe(r), "adjustments": n,
                "amount": money(denial_amount[(g, r)])}
               for (g, r), n in sorted(denial_lines.items(), key=lambda kv: (-denial_amount[kv[0]], kv[0]))]
    latest: dict[tuple[str, str], Eligibility] = {}
    for e in sorted(eligibility, key=lambda e: e.id):
        latest[(e.patient_id, e.payer_id)] = e
    chains: dict[str, list[tuple[int, str, str, Decimal]]] = {}
    for c in claims:
        chains.setdefault(c.encounter_id, []).append((c.id, c.payer_sequence, c.status, c.patient_responsibility))
    by_sequence = {label: {"claims": sum(1 for c in claims if c.payer_sequence == seq),
                           "sent": sum(1 for c in sent if c.payer_sequence == seq),
                           "crossed_over": sum(1 for c in crossed if c.payer_sequence == seq),
                           "billed": money(sum((c.billed for c in sent if c.payer_sequence == seq), ZERO)),
                           "paid": money(sum((c.paid for c in claims if c.payer_sequence == seq), ZERO))}
                   for seq, label in SEQUENCES}
    return {
        "claims": {
            "coded": len(claims),
            "held": len(held),
            "sent": len(sent),
            "crossed_over": len(crossed),
            "accepted": sum(1 for c in sent if c.status not in ("rejected", "submitted")),
            "rejected": len(rejected),
            "awaiting_payment": status.get("accepted", 0),
            "paid": status.get("paid", 0),
            "denied": status.get("denied", 0),
            "patient_responsibility": status.get("patient_responsibility", 0),
            "not_acknowledged": status.get("submitted", 0),
            "by_status": dict(sorted(status.items())),
        },
        "hold_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "rejections": [{"claim_id": c.claim_id, "reason": c.status_reason} for c in rejected],
        "denials": denials,
        "dollars": {
            # each service once: secondary and tertiary claims bill the primary's services again
            "billed": by_sequence["primary"]["billed"],
            "paid": money(sum((c.paid for c in claims), ZERO)),
            # what patients owe after the last payer of each encounter's chain that adjudicated
            "patient_responsibility": money(sum((patient_balance(legs) for legs in chains.values()), ZERO)),
            "denied": money(sum((denial_amount.values()), ZERO)),
            "held": money(sum((c.billed for c in held), ZERO)),
            "recovered_from_secondary": by_sequence["secondary"]["paid"],
            "recovered_from_tertiary": by_sequence["tertiary"]["paid"],
        },
        "by_payer_sequence": by_sequence,
        "eligibility": {"checked": len(latest), "active": sum(1 for e in latest.values() if e.active),
                        "inactive": sum(1 for e in latest.values() if e.active is False)},
        "files": {"sent": sum(1 for d, _k, _s in files if d == "out"),
                  "received": sum(1 for d, _k, _s in files if d == "in"),
                  "failed": sum(1 for _d, _k, s in files if s == "failed"),
                  "by_kind": dict(sorted(Counter(f"{d}:{k}" for d, k, _s in files).items()))},
    }


def _moved(steps: list[Any]) -> bool:
    """Whether a nightly run uploaded or took in any file (else the next one has nothing new to do)."""
    counts = {s.name: s.counts or {} for s in steps}
    return bool(counts.get("upload", {}).get("uploaded") or counts.get("ingest", {}).get("files_processed")
                or counts.get("ingest", {}).get("files_failed"))


def _simulated(sims: list[SimResult]) -> dict[str, Any]:
    """The simulator passes of the demo as one: files answered and written, counts summed."""
    counts: Counter[str] = Counter()
    for sim in sims:
        counts.update(sim.counts)
    return {"passes": len(sims), "answered": [n for sim in sims for n in sim.answered],
            "written": [n for sim in sims for n in sim.written], "counts": dict(sorted(counts.items()))}


def run_demo(folder: Path, *, seed: int = 7, as_of: date | None = None, out: Any = None,
             progress: bool = False) -> dict[str, Any]:
    """Build the sample practice in ``folder`` and run the whole tour; returns the summary."""
    from pipelines.usecases.importer import import_authorizations, import_encounters
    from pipelines.usecases.nightly import nightly_run
    from pipelines.usecases.schema import upgrade

    out = out or sys.stdout
    as_of = as_of or date.today()
    folder = folder.resolve()
    config_path, encounters, auths = write_sample(folder, as_of)
    config: Config = load_config(config_path, env={})  # the demo is self-contained: no EDI_* overrides
    db = config.database_url.removeprefix("sqlite:///")
    Path(db).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    uow = UnitOfWork(config.database_url)
    try:
        upgrade(uow.engine)
        imported = import_encounters(config, uow, encounters)
        imported_auths = import_authorizations(config, uow, auths)

        def step(night: int, day: date) -> Any:
            def report(name: str, info: dict[str, Any]) -> None:
                if progress:
                    out.write(f"  night {night} ({day}): {name:<12} {info['status']}\n")
                    out.flush()
            return report

        t = config.transport
        payers = payer_rules_from_config(config, {
            pid: {**rules, "known_auths": _known_auths(auths)} for pid, rules in SIMULATED_PAYERS.items()})
        runs: list[tuple[Any, list[Any], date]] = []
        sims: list[SimResult] = []
        day = as_of
        for night in range(1, MAX_NIGHTS + 1):
            run, steps = nightly_run(config, uow, as_of=day, on_step=step(night, day))
            runs.append((run, steps, day))
            if night > 1 and not _moved(steps):
                break  # nothing sent, nothing posted: no claim is waiting for a payer
            sim = simulate_mailbox(Path(t.url.removeprefix("local:")), upload_dir=t.upload_dir,
                                   download_dir=t.download_dir, seed=seed, as_of=day, payers=payers)
            sims.append(sim)
            if progress:
                out.write(f"  simulator ({day}): answered {len(sim.answered)} file(s) with {len(sim.written)}\n")
            day += NIGHTS_APART
        summary = summarize(uow)
    finally:
        uow.close()
    return {
        "folder": str(folder), "as_of": as_of.isoformat(), "seed": seed,
        "imported": {"encounters": imported.inserted + imported.replaced, "encounters_refused": len(imported.errors),
                     "authorizations": imported_auths.inserted + imported_auths.replaced},
        **summary,
        "simulator": _simulated(sims),
        "runs": [{"run_id": r.id, "as_of": day.isoformat(), "status": r.status,
                  "steps": [{"name": s.name, "status": s.status, "error": s.error} for s in steps]}
                 for r, steps, day in runs],
        "next": [f"cd {folder}", "edi claims list", "edi denials list", "edi report"],
    }


def _wrapped(prefix: str, text: str, width: int = 100) -> list[str]:
    """``prefix`` then ``text`` wrapped at word boundaries, continuation lines indented under the text."""
    body = textwrap.wrap(text, max(40, width - len(prefix)), break_long_words=False, break_on_hyphens=False)
    return [(prefix if i == 0 else " " * len(prefix)) + part for i, part in enumerate(body or [""])]


def edi_command() -> str:
    """How the user runs ``edi`` from any folder: ``edi`` when it is on PATH, else the absolute path
    of the running ``edi`` script (or of the virtual environment's), else ``python -m pipelines.cli``."""
    if shutil.which("edi"):
        return "edi"
    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    for candidate in (running, Path(sys.prefix) / "bin" / "edi"):
        if candidate is not None and candidate.name == "edi" and candidate.is_file():
            return str(candidate.absolute())
    return f"{sys.executable} -m pipelines.cli"


def _by_sequence(s: dict[str, Any]) -> list[str]:
    """The money by payer sequence and what the payers after the primary recovered."""
    seq, d = s["by_payer_sequence"], s["dollars"]
    if not seq["secondary"]["claims"]:
        return []
    out = ["", "By payer in the chain:"]
    for label, x in seq.items():
        crossed = f" + {x['crossed_over']} crossed over" if x["crossed_over"] else ""
        out.append(f"  {label:<10} {x['claims']:>4} claims ({x['sent']} sent{crossed}), billed {usd(x['billed'])}, "
                   f"paid {usd(x['paid'])}")
    out.append(f"  recovered from secondary payers: {usd(d['recovered_from_secondary'])}")
    if seq["tertiary"]["claims"]:
        out.append(f"  recovered from tertiary payers: {usd(d['recovered_from_tertiary'])}")
    return out


def render_summary(s: dict[str, Any]) -> str:
    """The demo's summary as text for a person."""
    c, d = s["claims"], s["dollars"]
    lines = [f"Sunrise Behavioral Health, as of {s['as_of']} (seed {s['seed']}), in {s['folder']}",
             f"  imported {s['imported']['encounters']} sessions and {s['imported']['authorizations']} "
             "authorizations", ""]
    rows = [("claims coded", c["coded"], ""),
            ("held", c["held"], "not sent: fix the data and the next run sends them")]
    rows += [(f"  {reason}", n, HOLD_REASONS.get(reason, "")) for reason, n in s["hold_reasons"].items()]
    rows.append(("sent", c["sent"], "837P claims to the clearinghouse, every payer in the chain"))
    if c["crossed_over"]:
        rows.append(("crossed over", c["crossed_over"], "forwarded by the previous payer to the next (no 837P of ours)"))
    rows += [("rejected", c["rejected"], "refused by the clearinghouse or payer front end (999/277CA)"),
             ("accepted", c["accepted"], "taken into adjudication (277CA)"),
             ("paid", c["paid"], ""),
             ("denied", c["denied"], "nothing paid"),
             ("patient owes all", c["patient_responsibility"],
              f"claims the patient owes in full (patients owe {usd(d['patient_responsibility'])} after the "
              "last payer)"),
             ("awaiting payment", c["awaiting_payment"], "")]
    if c["not_acknowledged"]:
        rows.append(("not acknowledged", c["not_acknowledged"], "no 999/277CA yet"))
    width = max(len(r[0]) for r in rows)
    lines += [f"{label:<{width}}  {n:>4}  {note}".rstrip() for label, n, note in rows]
    if s["rejections"]:
        lines += ["", "Rejections:"]
        for r in s["rejections"]:
            lines += _wrapped(f"  {r['claim_id']}  ", r["reason"] or "")
    if s["denials"]:
        lines += ["", "Denials and adjustments by CARC (line adjustments other than CO 45, OA 23 and PR):"]
        for x in s["denials"]:
            lines += _wrapped(f"  {x['group']} {x['reason']:<4} {x['adjustments']:>3} x  {usd(x['amount']):>10}  ",
                              x["description"] or "")
    lines += ["", f"Dollars: billed {usd(d['billed'])} (each service once), paid {usd(d['paid'])} (every payer), "
                  "patient responsibility "
                  f"{usd(d['patient_responsibility'])}, denied {usd(d['denied'])}, held back {usd(d['held'])}"]
    lines += _by_sequence(s)
    e = s["eligibility"]
    if e["checked"]:
        lines.append(f"Eligibility: {e['checked']} patient/payer pairs checked, {e['active']} active, "
                     f"{e['inactive']} inactive")
    failed = [(r["run_id"], st) for r in s["runs"] for st in r["steps"] if st["status"] != "ok"]
    for run_id, st in failed:
        lines.append(f"warning: run {run_id} step {st['name']} failed: {st['error'] or 'see edi files list'}")
    edi = edi_command()
    lines += ["", "Where to look next:", f"  cd {s['folder']}", f"  {edi} claims list", f"  {edi} denials list",
              f"  {edi} report"]
    return "\n".join(lines)
