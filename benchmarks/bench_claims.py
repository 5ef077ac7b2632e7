"""Claims-out throughput: import, code+scrub, build the 837P, store — encounters per second per stage.

    python benchmarks/bench_claims.py [N] [--pg postgresql+psycopg://...] [--skip-sqlite] [--json out.json]

N synthetic encounters (default 100000, deterministic by --seed) are written to a CSV in a temporary
practice folder with the sample configuration, then run through the real pipeline on SQLite (unless
--skip-sqlite) and on PostgreSQL when --pg names a server (a scratch database is created there and
dropped). Stages:

* import         ``edi import encounters`` (parse, validate, bulk insert)
* code+scrub     the pure coding engine and scrubber over every encounter, 5,000 at a time (no database
                 writes), with the cycle collector paused per chunk as the pipeline pauses it
* code+store     :func:`pipelines.usecases.claims.code_and_scrub`: load, code, scrub, insert claims and lines
* build 837P     :func:`edi.x837p.build_837p` over the ready claims, one file's worth at a time, their
                 lines and encounters read as submit reads them (no database writes)
* submit         :func:`pipelines.usecases.submit.submit_all`: load, build, record the file, mark submitted
* end to end     import + code+store + submit

Loading the ICD-10-CM code set (once per process, before the first code is looked up) is timed on a
line of its own before the stages, so that it falls in no backend's stage. Each stage shows its wall
time, this process's CPU time (the database server's is not in it) and its peak memory (the highest
resident set size reached during the stage, from /proc where Linux offers it; else the process's
maximum so far). The machine's other work moves wall times, far less CPU times: compare runs by both.
A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import random
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
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
from pipelines.rules import icd10  # noqa: E402
from pipelines.rules.coding import code_session, session_of  # noqa: E402
from pipelines.rules.scrub import scrub  # noqa: E402
from pipelines.usecases.bulk import collector_paused, record_type  # noqa: E402
from pipelines.usecases.claims import code_and_scrub, payer_rules  # noqa: E402
from pipelines.usecases.importer import ENCOUNTER_COLUMNS, import_encounters  # noqa: E402
from pipelines.usecases.schema import upgrade  # noqa: E402
from pipelines.usecases.submit import (  # noqa: E402
    MAX_CLAIMS_PER_FILE,
    _lines_and_encounters,
    build_claim_batch,
    submit_all,
)

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
            row = [
                f"E{i:08d}", f"P{patient:07d}", "Doe", "Pat", "1980-01-01", "F", "1 Main St", "Los Angeles", "CA",
                "90012", "BCBS", f"M{patient:09d}", "self", "", "", "", "", NPIS[clin], "Smith", "Jo", CREDS[clin],
                day.isoformat(), f"{hour:02d}:00", f"{end_min // 60:02d}:{end_min % 60:02d}", service, em, tm,
                rnd.choice("NNNY"), modality, rnd.choice(["office", "home"]), ";".join(dict.fromkeys(dx)), ""]
            w.writerow(row + [""] * (len(ENCOUNTER_COLUMNS) - len(row)))  # optional columns (other coverage) empty


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


_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def reset_peak_memory() -> None:
    """Start a new peak: Linux resets VmHWM to the current RSS when 5 is written to clear_refs."""
    with contextlib.suppress(OSError):
        _CLEAR_REFS.write_text("5")


def peak_memory_mb() -> float:
    """The highest RSS since :func:`reset_peak_memory` (VmHWM), else the process's maximum RSS."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, float, float, Any]:
    """(wall seconds, CPU seconds, peak MB, result) of ``fn()``."""
    reset_peak_memory()
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, peak_memory_mb(), result


def _batches(app: App, stmt: Any, size: int) -> Iterator[list[Any]]:
    """The rows of ``stmt``, ``size`` at a time, read through one streaming cursor, as named tuples
    (:func:`pipelines.usecases.bulk.records`, as the pipeline reads them)."""
    with app.transaction() as s:
        result = s.execute(stmt.execution_options(yield_per=size))
        make = record_type(tuple(result.keys()))._make
        for part in result.partitions():
            yield [make(row) for row in part]


def run(backend: str, url: str, csv_path: Path, n: int, tmp: Path) -> list[dict[str, Any]]:
    app = practice(tmp, url)
    rows: list[dict[str, Any]] = []

    def add(stage: str, measured: tuple[float, float, float, Any], count: int) -> None:
        seconds, cpu, peak, _ = measured
        rows.append({"backend": backend, "stage": stage, "items": count, "seconds": round(seconds, 3),
                     "per_second": round(count / seconds) if seconds else None, "cpu_seconds": round(cpu, 3),
                     "peak_mb": round(peak) if peak else None})

    imported = timed(lambda: import_encounters(app.config, app.uow, csv_path))
    add("import", imported, imported[3].inserted)

    payers = payer_rules(app.config)

    def pure() -> int:  # the engine alone: no database writes, one chunk at a time
        done = 0
        for part in _batches(app, select(Encounter.__table__).order_by(Encounter.date_of_service), 5000):
            with collector_paused():  # as code_and_scrub does per chunk
                sessions = [session_of(r) for r in part]
                coded = [(x, code_session(x, payers[x.payer_id], app.config.fees)) for x in sessions]
                scrub(coded, payers=payers, authorizations={}, eligibility={},
                      billing_npi=app.config.practice.billing_npi, as_of=app.as_of)
                done += len(coded)
        return done

    add("code+scrub (pure)", coded_pure := timed(pure), coded_pure[3])

    def code_store() -> dict[str, Any]:
        with app.transaction() as s:
            return code_and_scrub(app.config, s, as_of=app.as_of)

    stored = timed(code_store)
    add("code+scrub+store claims", stored, stored[3]["coded"])
    counts = stored[3]

    from edi.x837p import EnvelopeSpec, build_837p
    from models import utcnow

    def build() -> int:  # the 837P builder alone, one file's worth of ready claims at a time
        built = 0
        ready = select(Claim.__table__).where(Claim.status == "ready").order_by(Claim.id)
        for claims in _batches(app, ready, MAX_CLAIMS_PER_FILE):
            with collector_paused():  # as submit_ready does per file
                with app.transaction() as s:  # the lines and encounters read as submit reads them
                    lines, encounters = _lines_and_encounters(s, claims)
                batch = build_claim_batch(app.config, claims, encounters, batch_reference="1", lines=lines)
                build_837p(batch, envelope=EnvelopeSpec(isa_control=1, gs_control=1, created=utcnow()))
                built += len(claims)
        return built

    add("build 837P (pure)", built := timed(build), built[3])

    submitted = timed(lambda: submit_all(app.config, app.uow, as_of=app.as_of))
    add("submit (load, build, store file)", submitted, counts["ready"])
    stages = (imported, stored, submitted)
    add("end to end", (sum(x[0] for x in stages), sum(x[1] for x in stages), max(x[2] for x in stages), None),
        imported[3].inserted)
    app.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("n", nargs="?", type=int, default=100_000, help="encounters (default 100000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg", help="a PostgreSQL URL; a scratch database is created on that server and dropped")
    p.add_argument("--skip-sqlite", action="store_true", help="run on PostgreSQL only")
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    if a.skip_sqlite and not a.pg:
        p.error("--skip-sqlite needs --pg")
    configure_logging(level="WARNING")
    load = timed(lambda: icd10.is_billable("F33.1"))  # the code set loads on the first look-up
    results: list[dict[str, Any]] = [{"backend": "-", "stage": "ICD-10-CM code set load (once per process)",
                                      "items": None, "seconds": round(load[0], 3), "per_second": None,
                                      "cpu_seconds": round(load[1], 3), "peak_mb": round(load[2])}]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        csv_path = tmp / "encounters.csv"
        write_encounters(csv_path, a.n, a.seed)
        if not a.skip_sqlite:
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

    print(render_table(["backend", "stage", "items", "seconds", "per second", "cpu s", "peak MB"],
                       [[r["backend"], r["stage"], r["items"], r["seconds"], r["per_second"], r["cpu_seconds"],
                         r["peak_mb"]] for r in results]))
    print(f"peak memory of the whole process (max RSS): {peak_mb:.0f} MB for {a.n} encounters")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"n": a.n, "results": results, "peak_rss_mb": round(peak_mb)},
                                               indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
