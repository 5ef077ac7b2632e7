"""The nightly run end to end: N encounters, run 1 (send), the simulator, run 2 (receive and post).

    python benchmarks/bench_nightly.py [N] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--sqlite]

Encounters are imported first (not timed as part of the runs). Each run's steps are read back from
the ``run_steps`` table, so the table shows the times the product itself records; each run's total
also shows this process's CPU seconds (the database server's are not in them) and its peak memory
(highest resident set size during the run). The simulator's time is shown apart: the target is the
two runs together. On PostgreSQL a database of its own is created on the given server and dropped
afterwards. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_claims import peak_memory_mb, practice, reset_peak_memory, write_encounters  # noqa: E402
from pipelines.logs import configure_logging  # noqa: E402
from pipelines.simulator import payer_rules_from_config, simulate_mailbox  # noqa: E402
from pipelines.usecases.importer import import_encounters  # noqa: E402
from pipelines.usecases.nightly import nightly_run  # noqa: E402


def bench(backend: str, url: str, n: int, tmp: Path) -> list[dict[str, Any]]:
    csv_path = tmp / "encounters.csv"
    write_encounters(csv_path, n, seed=1)
    app = practice(tmp, url)
    t0 = time.perf_counter()
    imported = import_encounters(app.config, app.uow, csv_path).inserted
    rows: list[dict[str, Any]] = [{"backend": backend, "run": "-", "step": "import (before the runs)",
                                   "seconds": round(time.perf_counter() - t0, 2), "counts": {"encounters": imported}}]
    total = cpu_total = 0.0
    for label in ("1 send", "sim", "2 receive"):
        if label == "sim":
            t0 = time.perf_counter()
            res = simulate_mailbox(Path(app.config.transport.url[len("local:"):]), seed=1, as_of=app.as_of,
                                   payers=payer_rules_from_config(app.config))
            dt = time.perf_counter() - t0
            rows.append({"backend": backend, "run": "-", "step": "simulator", "seconds": round(dt, 2),
                         "counts": {"answered": len(res.answered), "written": len(res.written)}})
            continue
        reset_peak_memory()
        t0, c0 = time.perf_counter(), time.process_time()
        run, steps = nightly_run(app.config, app.uow, as_of=app.as_of)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        total += dt
        cpu_total += cpu
        for s in steps:
            secs = (s.finished_at - s.started_at).total_seconds() if s.finished_at else 0.0
            counts = {k: v for k, v in (s.counts or {}).items() if isinstance(v, int)}
            rows.append({"backend": backend, "run": label, "step": s.name, "seconds": round(secs, 2),
                         "counts": counts})
        rows.append({"backend": backend, "run": label, "step": f"run total ({run.status})", "seconds": round(dt, 2),
                     "counts": {"cpu_seconds": round(cpu), "peak_mb": round(peak_memory_mb())}})
    rows.append({"backend": backend, "run": "1+2", "step": "both runs", "seconds": round(total, 2),
                 "counts": {"cpu_seconds": round(cpu_total)}})
    app.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("n", nargs="?", type=int, default=10_000)
    p.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                   help="a PostgreSQL server URL; a database of its own is created there")
    p.add_argument("--sqlite", action="store_true", help="also run on SQLite")
    p.add_argument("--json", dest="json_out")
    a = p.parse_args(argv)
    configure_logging(level="WARNING", json=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        name = f"edi_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            (tmp / "pg").mkdir()
            results += bench("postgresql", a.pg.rsplit("/", 1)[0] + "/" + name, a.n, tmp / "pg")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        if a.sqlite:
            (tmp / "sqlite").mkdir()
            results += bench("sqlite", f"sqlite:///{tmp / 'sqlite' / 'edi.db'}", a.n, tmp / "sqlite")
    print(f"nightly run, {a.n} encounters")
    print(f"{'backend':<11} {'run':<10} {'step':<26} {'seconds':>8}  counts")
    for r in results:
        counts = ", ".join(f"{k}={v}" for k, v in r["counts"].items())
        print(f"{r['backend']:<11} {r['run']:<10} {r['step']:<26} {r['seconds']:>8.2f}  {counts}")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
