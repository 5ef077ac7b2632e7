"""`edi report` time over N claims in SQLite and PostgreSQL.

    python benchmarks/bench_report.py [N] [--pg postgresql+psycopg://user@host/db] [--runs 3] [--json out.json]

N claims over a year of dates of service and three payers are stored with bulk inserts (not timed):
their encounters and lines, and a realistic mix of statuses (held with hold reasons, ready, submitted,
accepted, rejected with a 277CA event, paid with CO 45 and PR adjustments, denied with CO/OA
adjustments and denial work items, patient responsibility, some underpaid lines) with 835 postings
against weekly remittances. Then :func:`pipelines.usecases.report.build_report` is timed ``--runs``
times. ``--pg`` names a server: a scratch database is created on it and dropped afterwards. A
benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, create_engine, insert, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import (  # noqa: E402
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    ClaimStatusEvent,
    Denial,
    Encounter,
    File,
    Remittance,
    make_engine,
)
from pipelines.cli.table import render_table  # noqa: E402
from pipelines.config import Config, load_config  # noqa: E402
from pipelines.logs import configure_logging  # noqa: E402
from pipelines.usecases.report import build_report  # noqa: E402
from pipelines.usecases.schema import upgrade  # noqa: E402
from pipelines.usecases.uow import UnitOfWork  # noqa: E402

AS_OF = date(2026, 12, 1)
PAYERS = ("AETNA", "BCBS", "MEDICAID")
STATUSES = (("paid", 63), ("denied", 10), ("patient_responsibility", 5), ("accepted", 8), ("submitted", 5),
            ("rejected", 2), ("held", 5), ("ready", 2))
CODES = (("90834", Decimal("140.00")), ("90837", Decimal("180.00")), ("90791", Decimal("250.00")),
         ("99214", Decimal("160.00")))
DENIALS = (("CO", "197", "authorization", "correct_and_resubmit"), ("CO", "50", "medical_necessity", "appeal"),
           ("CO", "16", "missing_information", "correct_and_resubmit"), ("OA", "18", "duplicate", "write_off"),
           ("CO", "119", "benefit_limit", "appeal"))
HOLDS = ("MEMBER_ID_MISSING", "AUTH_MISSING", "DX_INVALID", "TIMELY_FILING_EXPIRED", "VISIT_LIMIT_REACHED")
_CHUNK = 5000


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), _CHUNK):
        yield rows[i:i + _CHUNK]


def _claims(n: int, rnd: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Encounters and claims (with their ``_lines``) for ``n`` sessions."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    statuses = [s for s, w in STATUSES for _ in range(w)]
    encounters, claims = [], []
    for k in range(1, n + 1):
        dos = AS_OF - timedelta(days=rnd.randint(1, 365))
        payer, status = rnd.choice(PAYERS), rnd.choice(statuses)
        eid, cid = f"E{k:07d}", f"C{k:07d}"
        encounters.append({
            "encounter_id": eid, "patient_id": f"P{k % 5000:05d}", "patient_last_name": "Doe",
            "patient_first_name": "Pat", "patient_dob": date(1980, 1, 1), "patient_sex": "F",
            "patient_address": "1 Main St", "patient_city": "Los Angeles", "patient_state": "CA",
            "patient_zip": "90012", "payer_id": payer, "member_id": "M1", "relationship": "self",
            "rendering_npi": "1679576722", "rendering_last_name": "Smith", "rendering_first_name": "Jo",
            "rendering_credential": "LCSW", "date_of_service": dos, "start_time": dtime(9), "end_time": dtime(10),
            "service": "individual_therapy", "modality": "in_person", "patient_location": "office",
            "diagnoses": ["F33.1"], "imported_at": now})
        lines = [rnd.choice(CODES) for _ in range(rnd.choice((1, 1, 1, 2)))]
        submitted = datetime.combine(dos + timedelta(days=2), dtime(12), UTC) if status not in ("held", "ready") \
            else None
        claims.append({
            "claim_id": cid, "encounter_id": eid, "patient_id": f"P{k % 5000:05d}", "payer_id": payer,
            "status": status, "frequency_code": "1", "place_of_service": "11", "date_of_service": dos,
            "diagnoses": ["F33.1"], "warnings": [], "billed": sum((c for _, c in lines), Decimal("0.00")),
            "hold_reasons": rnd.sample(HOLDS, rnd.choice((1, 1, 2))) if status == "held" else [],
            "paid": Decimal("0.00"), "patient_responsibility": Decimal("0.00"), "submitted_at": submitted,
            "created_at": now, "updated_at": now, "_lines": lines})
    return encounters, claims


def store(uow: UnitOfWork, n: int, seed: int) -> None:
    """N claims with their encounters, lines, postings, adjustments, denials and events."""
    rnd = random.Random(seed)
    encounters, claims = _claims(n, rnd)
    with uow.transaction() as s:
        f = File(name="bench.835", direction="in", kind="835", sha256="0" * 64, size=1, state="processed")
        s.add(f)
        s.flush()
        remits = {}
        for w in range(60):
            day = AS_OF - timedelta(weeks=w)
            r = Remittance(file_id=f.id, st_control=f"{w:04d}", payer_key="P", trace_number=f"T{w}",
                           amount=Decimal("0"), payment_date=day, balanced=True, balance_errors=[])
            s.add(r)
            remits[w] = r
        s.flush()
        for part in _chunks(encounters):
            s.execute(insert(Encounter), part)
        for part in _chunks(claims):
            rows = [{k: v for k, v in c.items() if not k.startswith("_")} for c in part]
            for c, pk in zip(part, s.scalars(insert(Claim).returning(Claim.id, sort_by_parameter_order=True), rows),
                             strict=True):
                c["_pk"] = pk
        lines = [{"claim_pk": c["_pk"], "line_number": j, "line_control_number": f"L{c['claim_id'][1:]}{j}",
                  "procedure": code, "modifiers": [], "units": 1, "charge": charge, "diagnosis_pointers": [1],
                  "paid": Decimal("0.00")} for c in claims for j, (code, charge) in enumerate(c["_lines"], 1)]
        line_pk: dict[tuple[int, int], int] = {}
        for part in _chunks(lines):
            for ln, pk in zip(part, s.scalars(insert(ClaimLine).returning(ClaimLine.id, sort_by_parameter_order=True),
                                              part), strict=True):
                line_pk[(ln["claim_pk"], ln["line_number"])] = pk
        _post(s, claims, remits, line_pk, rnd)


def _post(s: Any, claims: list[dict[str, Any]], remits: dict[int, Remittance], line_pk: dict[tuple[int, int], int],
          rnd: random.Random) -> None:
    """835 postings for adjudicated claims, rejection events, denial and underpaid work items."""
    payments, adjustments, denials, events, updates = [], [], [], [], []
    for c in claims:
        pk, status, billed = c["_pk"], c["status"], c["billed"]
        if status == "rejected":
            events.append({"claim_pk": pk, "source": "277CA", "category": "A7", "code": "21"})
        if status not in ("paid", "denied", "patient_responsibility"):
            continue
        paid_on = c["date_of_service"] + timedelta(days=rnd.randint(12, 45))
        week = min(59, max(0, (AS_OF - paid_on).days // 7))
        allowed = (billed * Decimal("0.80")).quantize(Decimal("0.01"))
        pr = (allowed * Decimal("0.20")).quantize(Decimal("0.01")) if status != "denied" else Decimal("0.00")
        paid = allowed - pr if status == "paid" else Decimal("0.00")
        if status == "patient_responsibility":
            pr = allowed
        payments.append({"remittance_id": remits[week].id, "claim_pk": pk, "status_code": "1", "charge": billed,
                         "paid": paid, "patient_responsibility": pr, "_c": c})
        updates.append({"id": pk, "paid": paid, "patient_responsibility": pr,
                        "paid_at": datetime.combine(paid_on, dtime(), UTC) if paid > 0 else None})
    for part in _chunks(payments):
        rows = [{k: v for k, v in p.items() if k != "_c"} for p in part]
        for p, cp in zip(part, s.scalars(insert(ClaimPayment).returning(ClaimPayment.id, sort_by_parameter_order=True),
                                         rows), strict=True):
            c, billed = p["_c"], p["charge"]
            first_line = line_pk[(c["_pk"], 1)]
            if c["status"] == "denied":
                group, reason, category, action = rnd.choice(DENIALS)
                adjustments.append({"claim_payment_id": cp, "claim_pk": c["_pk"], "line_pk": first_line,
                                    "group": group, "reason": reason, "amount": billed})
                denials.append({"claim_pk": c["_pk"], "line_pk": first_line, "claim_payment_id": cp, "group": group,
                                "reason": reason, "remarks": [], "amount": billed, "category": category,
                                "action": action, "state": rnd.choice(("open", "open", "appealed", "closed"))})
                continue
            adjustments.append({"claim_payment_id": cp, "claim_pk": c["_pk"], "line_pk": first_line, "group": "CO",
                                "reason": "45", "amount": billed - p["paid"] - p["patient_responsibility"]})
            if p["patient_responsibility"]:
                adjustments.append({"claim_payment_id": cp, "claim_pk": c["_pk"], "line_pk": first_line,
                                    "group": "PR", "reason": "2", "amount": p["patient_responsibility"]})
            if rnd.random() < 0.04:
                denials.append({"claim_pk": c["_pk"], "line_pk": first_line, "claim_payment_id": cp, "group": "CO",
                                "reason": "45", "remarks": [], "amount": Decimal(rnd.randint(100, 2500)) / 100,
                                "category": "underpaid", "action": "appeal", "state": "open"})
    for model, rows in ((Adjustment, adjustments), (Denial, denials), (ClaimStatusEvent, events)):
        for part in _chunks(rows):
            s.execute(insert(model), part)
    table = cast(Table, Claim.__table__)
    stmt = update(table).where(table.c.id == bindparam("id_")).values(
        paid=bindparam("paid_"), patient_responsibility=bindparam("pr_"), paid_at=bindparam("paid_at_"))
    for part in _chunks(updates):
        s.execute(stmt, [{"id_": u["id"], "paid_": u["paid"], "pr_": u["patient_responsibility"],
                          "paid_at_": u["paid_at"]} for u in part])


def run(backend: str, url: str, config: Config, n: int, seed: int, runs: int) -> dict[str, Any]:
    eng = make_engine(url)
    upgrade(eng)
    uow = UnitOfWork(engine=eng)
    t0 = time.perf_counter()
    store(uow, n, seed)
    stored = time.perf_counter() - t0
    if backend == "postgresql":
        with eng.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    times, r = [], {}
    for _ in range(runs):
        t0 = time.perf_counter()
        r = build_report(config, uow, as_of=AS_OF)
        times.append(time.perf_counter() - t0)
    eng.dispose()
    return {"backend": backend, "claims": n, "store_seconds": round(stored, 1), "first": round(times[0], 3),
            "best": round(min(times), 3), "median": round(statistics.median(times), 3),
            "billed": r["claims"]["billed"]["amount"], "days_in_ar": r["days_in_ar"],
            "at_risk": r["at_risk"]["claims"], "underpaid_lines": r["underpaid"]["lines"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("n", nargs="?", type=int, default=20_000, help="claims (default 20000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=3, help="times build_report is timed (default 3)")
    p.add_argument("--pg", help="a PostgreSQL URL; a scratch database is created on that server and dropped")
    p.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    configure_logging(level="WARNING")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        shutil.copy(ROOT / "fixtures" / "edi.toml", tmp / "edi.toml")
        config = load_config(tmp / "edi.toml", env={})
        if not a.no_sqlite:
            results.append(run("sqlite", f"sqlite:///{tmp / 'bench.db'}", config, a.n, a.seed, a.runs))
        if a.pg:
            name = f"edi_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                results.append(run("postgresql", a.pg.rsplit("/", 1)[0] + "/" + name, config, a.n, a.seed, a.runs))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    cols = ["backend", "claims", "store_seconds", "first", "best", "median", "billed", "days_in_ar", "at_risk",
            "underpaid_lines"]
    print(render_table(["backend", "claims", "stored in s", "report s (first)", "best", "median", "billed",
                        "days in A/R", "at risk", "underpaid lines"], [[r[c] for c in cols] for r in results]))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"n": a.n, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
