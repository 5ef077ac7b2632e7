"""Claims-out throughput: import, code+scrub, build the 837P, store — encounters per second per stage.

    python benchmarks/bench_claims.py [N] [--pg postgresql+psycopg://...] [--json out.json]

N synthetic encounters (default 100000, deterministic by --seed) are written to a CSV in a temporary
practice folder with the sample configuration, then run through the real pipeline on SQLite (and on
PostgreSQL when --pg names an empty database or a server to create one on). Stages:

* import         ``edi import encounters`` (parse, validate, bulk insert)
* code+scrub     the pure coding engine and scrubber over every encounter (no database)
* code+store     :func:`pipelines.usecases.claims.code_and_scrub`: load, code, scrub, insert claims and lines
* build 837P     :func:`edi.x837p.build_837p` over the ready claims (no database)
* submit         :func:`pipelines.usecases.submit.submit_all`: load, build, record the file, mark submitted
* end to end     import + code+store + submit

Peak memory is the process's maximum resident set size. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import Claim, Encounter, make_engine  # noqa: E402
from pipelines.cli.app import App  # noqa: E402
from pipelines.config import load_config  # noqa: E402
from pipelines.logs import configure_logging  # noqa: E402
from pipelines.rules.coding import code_session, session_of  # noqa: E402
from pipelines.rules.scrub import scrub  # noqa: E402
from pipelines.usecases.claims import code_and_scrub, payer_rules  # noqa: E402
from pipelines.usecases.importer import ENCOUNTER_COLUMNS, import_encounters  # noqa: E402
from pipelines.usecases.schema import upgrade  # noqa: E402
from pipelines.usecases.submit import build_claim_batch, submit_all  # noqa: E402

SERVICES = [("individual_therapy", 55, "", ""), ("individual_therapy", 45, "", ""), ("individual_therapy", 30, "", ""),
            ("group_therapy", 90, "", ""), ("med_management", 20, "99213", ""),
            ("med_management_with_therapy", 45, "99214", "30"), ("diagnostic_evaluation", 60, "", ""),
            ("family_therapy_with_patient", 50, "", ""), ("sud_individual_counseling", 45, "", ""),
            ("crisis", 80, "", "")]
DX = ["F33.1", "F41.1", "F43.10", "F32.1", "F90.0", "F10.20", "F43.23", "F31.81"]
NPIS = ["1987654328", "1567890128", "1765432103", "1456789019"]
CREDS = ["LCSW", "MD", "LMFT", "PhD"]


def write_encounters(path: Path, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    start = date(2026, 1, 5)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ENCOUNTER_COLUMNS)
        for i in range(n):
            patient = rnd.randrange(max(1, n // 8))
            service, minutes, em, tm = SERVICES[rnd.randrange(len(SERVICES))]
            clin = rnd.randrange(len(NPIS))
            day = start + timedelta(days=rnd.randrange(150))
            hour = 8 + rnd.randrange(8)
            end_min = hour * 60 + minutes
            dx = rnd.sample(DX, 1 + rnd.randrange(2))
            if service.startswith("sud"):
                dx = ["F10.20", *dx]
            modality = rnd.choice(["in_person", "in_person", "video", "audio_only"])
            w.writerow([
                f"E{i:08d}", f"P{patient:07d}", "Doe", "Pat", "1980-01-01", "F", "1 Main St", "Los Angeles", "CA",
                "90012", "BCBS", f"M{patient:09d}", "self", "", "", "", "", NPIS[clin], "Smith", "Jo", CREDS[clin],
                day.isoformat(), f"{hour:02d}:00", f"{end_min // 60:02d}:{end_min % 60:02d}", service, em, tm,
                rnd.choice("NNNY"), modality, rnd.choice(["office", "home"]), ";".join(dict.fromkeys(dx)), ""])


def practice(tmp: Path, url: str) -> App:
    shutil.copy(ROOT / "fixtures" / "edi.toml", tmp / "edi.toml")
    text_ = (tmp / "edi.toml").read_text().replace('timely_filing_days = 90', 'timely_filing_days = 365')
    (tmp / "edi.toml").write_text(text_)
    config = load_config(tmp / "edi.toml", env={"EDI_DATABASE_URL": url})
    (tmp / "var" / "mailbox").mkdir(parents=True, exist_ok=True)
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    return App(config, as_of=date(2026, 6, 15))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run(backend: str, url: str, csv_path: Path, n: int, tmp: Path) -> list[dict[str, Any]]:
    app = practice(tmp, url)
    rows: list[dict[str, Any]] = []

    def add(stage: str, seconds: float, count: int) -> None:
        rows.append({"backend": backend, "stage": stage, "items": count, "seconds": round(seconds, 3),
                     "per_second": round(count / seconds) if seconds else None})

    t_import, result = timed(lambda: import_encounters(app.config, app.uow, csv_path))
    add("import", t_import, result.inserted)

    # The pure engine alone (no database), for comparison.
    with app.transaction() as s:
        sessions = [session_of(r) for r in s.execute(select(Encounter.__table__))]
    payers = payer_rules(app.config)

    def pure() -> None:
        coded = [(x, code_session(x, payers[x.payer_id], app.config.fees)) for x in sessions]
        scrub(coded, payers=payers, authorizations={}, eligibility={}, billing_npi=app.config.practice.billing_npi,
              as_of=app.as_of)

    t_pure, _ = timed(pure)
    add("code+scrub (pure)", t_pure, len(sessions))

    def code_store() -> dict[str, Any]:
        with app.transaction() as s:
            return code_and_scrub(app.config, s, as_of=app.as_of)

    t_code, counts = timed(code_store)
    add("code+scrub+store claims", t_code, counts["coded"])

    with app.transaction() as s:
        ready = list(s.scalars(select(Claim).where(Claim.status == "ready")))
        for c in ready:
            _ = c.lines
        encounters = {e.encounter_id: e for e in s.scalars(select(Encounter))}
    from edi.x837p import EnvelopeSpec, build_837p
    from models import utcnow

    t_build, _ = timed(lambda: build_837p(build_claim_batch(app.config, ready, encounters, batch_reference="1"),
                                          envelope=EnvelopeSpec(isa_control=1, gs_control=1, created=utcnow())))
    add("build 837P (pure)", t_build, len(ready))

    t_submit, f = timed(lambda: submit_all(app.config, app.uow, as_of=app.as_of))
    add("submit (load, build, store file)", t_submit, counts["ready"])
    add("end to end", t_import + t_code + t_submit, result.inserted)
    app.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("n", nargs="?", type=int, default=100_000, help="encounters (default 100000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg", help="a PostgreSQL URL; a scratch database is created on that server and dropped")
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    configure_logging(level="WARNING")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        csv_path = tmp / "encounters.csv"
        write_encounters(csv_path, a.n, a.seed)
        (tmp / "sqlite").mkdir()
        results += run("sqlite", f"sqlite:///{tmp / 'sqlite' / 'edi.db'}", csv_path, a.n, tmp / "sqlite")
        if a.pg:
            name = f"edi_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                (tmp / "pg").mkdir()
                results += run("postgresql", a.pg.rsplit("/", 1)[0] + "/" + name, csv_path, a.n, tmp / "pg")
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from pipelines.cli.table import render_table

    print(render_table(["backend", "stage", "items", "seconds", "per second"],
                       [[r["backend"], r["stage"], r["items"], r["seconds"], r["per_second"]] for r in results]))
    print(f"peak memory (max RSS): {peak_mb:.0f} MB for {a.n} encounters")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"n": a.n, "results": results, "peak_rss_mb": round(peak_mb)},
                                               indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
