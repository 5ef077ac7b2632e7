"""835 posting throughput: claims posted per second into SQLite and PostgreSQL.

    python benchmarks/bench_posting.py [N] [--pg postgresql+psycopg://user@host/db] [--repeat 3] [--json out.json]

A balanced N-claim 835 is generated with ``benchmarks/gen_835.py`` (claims with one to three lines,
CO 45 / PR adjustments, CO 197 denials, crossovers, reversals with their corrections, PLBs). N
matching claims with their lines are stored first (bulk inserts, not timed); then the file goes
through the real ingest path (:func:`pipelines.usecases.ingest.ingest_bytes`: record, archive, parse, post,
one transaction) and is timed. A second ingest of the same bytes (recognised as a duplicate) is
timed too. ``--pg`` names a server: a scratch database is created on it and dropped afterwards.
``--statements`` adds, for the fastest PostgreSQL run, where its time went: every kind of statement
with its calls and seconds (a COPY counts from its first row to the server's answer, so it holds
the rows' formatting here and the server's work, foreign-key checks included). ``--drop-fks`` is a
what-if, never a setting of the product: the foreign keys of the tables posting writes (payments,
adjustments, remarks, status events, denials) are dropped in the scratch database before the file is
posted, to measure what they cost.
Each backend runs ``--repeat`` times on a fresh database and the fastest run by CPU time is shown:
wall seconds and claims/s, and CPU seconds (this process plus the PostgreSQL server processes of the
scratch database, read from /proc when the server is local) and claims per CPU second, the figure to
compare on a machine other work shares. The objects the bench itself holds (the generated claims
and file) are frozen out of the garbage collector while the file is timed: a real ``edi ingest``
process does not hold them, and collecting them would be charged to posting. A benchmark, not a
test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gen_835 import generate  # noqa: E402

from edi.x835 import EnvelopeSpec, build_835  # noqa: E402
from models import Claim, ClaimLine, Encounter, make_engine  # noqa: E402
from pipelines.cli.app import App  # noqa: E402
from pipelines.cli.table import render_table  # noqa: E402
from pipelines.config import load_config  # noqa: E402
from pipelines.logs import configure_logging  # noqa: E402
from pipelines.usecases import bulk  # noqa: E402
from pipelines.usecases.ingest import IngestResult, ingest_bytes  # noqa: E402
from pipelines.usecases.schema import upgrade  # noqa: E402

_CHUNK = 5000
_POSTING_TABLES = ("claim_payments", "adjustments", "remarks", "claim_status_events", "denials")


def make_835(n: int, seed: int) -> tuple[bytes, list[Any]]:
    """The 835 bytes and the first CLP of every claim id (what we store as our claims)."""
    parts: list[str] = []
    first: dict[str, Any] = {}
    for k, rem in enumerate(generate(n, seed, per_set=10_000), start=1):
        for c in rem.claims:
            first.setdefault(c.claim_id, c)
        parts.append(build_835(rem, envelope=EnvelopeSpec(isa_control=k, gs_control=k, created=datetime(2026, 11, 20, 8, 0),
                                                          sender="PAYERSENDER", receiver="SUNRISE01")))
    return "".join(parts).encode("latin-1"), list(first.values())


def store_claims(app: App, claims: list[Any]) -> None:
    """One encounter, claim and lines per generated claim (ids, procedures and charges as the 835 has them)."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    encounters, rows = [], []
    for c in claims:
        eid = f"E{c.claim_id}"
        encounters.append({
            "encounter_id": eid, "patient_id": f"P{c.claim_id}", "patient_last_name": "Doe", "patient_first_name": "Pat",
            "patient_dob": date(1980, 1, 1), "patient_sex": "F", "patient_address": "1 Main St",
            "patient_city": "Los Angeles", "patient_state": "CA", "patient_zip": "90012", "payer_id": "AETNA",
            "member_id": "M1", "relationship": "self", "rendering_npi": "1679576722", "rendering_last_name": "Smith",
            "rendering_first_name": "Jo", "rendering_credential": "LCSW", "date_of_service": date(2026, 10, 1),
            "start_time": datetime(2026, 1, 1, 9).time(), "end_time": datetime(2026, 1, 1, 10).time(),
            "service": "individual_therapy", "modality": "in_person", "patient_location": "office",
            "diagnoses": ["F33.1"], "imported_at": now})
        rows.append({"claim_id": c.claim_id, "encounter_id": eid, "patient_id": f"P{c.claim_id}", "payer_id": "AETNA",
                     "status": "accepted", "frequency_code": "1", "place_of_service": "11",
                     "date_of_service": date(2026, 10, 1), "diagnoses": ["F33.1"], "hold_reasons": [], "warnings": [],
                     "billed": abs(c.charge), "paid": Decimal("0.00"), "patient_responsibility": Decimal("0.00"),
                     "submitted_at": now, "created_at": now, "updated_at": now})
    with app.transaction() as s:
        for i in range(0, len(rows), _CHUNK):
            s.execute(insert(Encounter), encounters[i:i + _CHUNK])
            ids = list(s.scalars(insert(Claim).returning(Claim.id, sort_by_parameter_order=True), rows[i:i + _CHUNK]))
            lines = [{"claim_pk": pk, "line_number": j, "line_control_number": ln.line_control_number,
                      "procedure": ln.procedure, "modifiers": list(ln.modifiers), "units": max(1, int(abs(ln.units))),
                      "charge": abs(ln.charge), "diagnosis_pointers": [1], "paid": Decimal("0.00")}
                     for pk, c in zip(ids, claims[i:i + _CHUNK], strict=True) for j, ln in enumerate(c.lines, 1)]
            s.execute(insert(ClaimLine), lines)


def practice(tmp: Path, url: str) -> App:
    shutil.copy(ROOT / "fixtures" / "edi.toml", tmp / "edi.toml")
    config = load_config(tmp / "edi.toml", env={"EDI_DATABASE_URL": url})
    (tmp / "var" / "mailbox").mkdir(parents=True, exist_ok=True)
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    return App(config, as_of=date(2026, 12, 1))


def _backend_cpu(app: App) -> float:
    """CPU seconds used so far by the PostgreSQL server processes of this database (0 elsewhere, or when
    the server's /proc is not readable: a server on another machine)."""
    if app.engine.dialect.name != "postgresql":
        return 0.0
    with app.engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars().all()
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _drop_fks(app: App) -> None:
    """The what-if of ``--drop-fks``: every foreign key of the tables posting writes, dropped."""
    with app.engine.begin() as conn:
        for tbl, name in conn.execute(text(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid::regclass::text = ANY(:tables)"), {"tables": list(_POSTING_TABLES)}):
            conn.execute(text(f'ALTER TABLE "{tbl}" DROP CONSTRAINT "{name}"'))


class _StatementClock:
    """Seconds and calls per kind of statement (its text, temp-table suffixes and IN lists folded)."""

    def __init__(self, app: App) -> None:
        self.totals: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
        self.on = False
        self._started = 0.0
        event.listen(app.engine, "before_cursor_execute", self._before)
        event.listen(app.engine, "after_cursor_execute", self._after)
        self._copy_in = bulk._copy_in

    @staticmethod
    def kind(sql: str) -> str:
        sql = re.sub(r"_[0-9a-f]{8}\b", "", " ".join(sql.split()))
        return sql[:90] + ("..." if len(sql) > 90 else "")

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.on:
            self.add(statement, time.perf_counter() - self._started)

    def add(self, sql: str, seconds: float) -> None:
        entry = self.totals[self.kind(sql)]
        entry[0] += 1
        entry[1] += seconds

    def __enter__(self) -> _StatementClock:
        def timed_copy(s: Any, target: str, cols: Any, rows: Any, json_at: Any) -> None:
            t0 = time.perf_counter()
            self._copy_in(s, target, cols, rows, json_at)
            self.add(f"COPY {target} FROM STDIN", time.perf_counter() - t0)
        bulk._copy_in = timed_copy
        self.on = True
        return self

    def __exit__(self, *_: Any) -> None:
        bulk._copy_in = self._copy_in
        self.on = False


def run(backend: str, url: str, data: bytes, claims: list[Any], n: int, tmp: Path, *, drop_fks: bool = False,
        statements: bool = False) -> list[dict[str, Any]]:
    tmp.mkdir(parents=True, exist_ok=True)
    app = practice(tmp, url)
    store_claims(app, claims)
    if drop_fks:
        _drop_fks(app)
    clock = _StatementClock(app) if statements else None
    out: list[dict[str, Any]] = []
    for label in ("post", "same file again"):
        result = IngestResult()
        gc.collect()
        gc.freeze()  # the bench's own objects (generated claims, file) are not the posting's to collect
        server0, cpu0, t0 = _backend_cpu(app), time.process_time(), time.perf_counter()
        if clock is not None and label == "post":
            with clock:
                ingest_bytes(app.config, app.uow, "bench.835", data, result)
        else:
            ingest_bytes(app.config, app.uow, "bench.835", data, result)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0 + _backend_cpu(app) - server0
        gc.unfreeze()
        posted = result.counts.get("claims_posted", 0)
        out.append({"backend": backend, "stage": label, "claims": n, "posted": posted,
                    "unmatched": result.counts.get("claims_unmatched", 0), "failed": len(result.failed),
                    "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
                    "claims_per_second": round(n / seconds) if seconds else None,
                    "claims_per_cpu_second": round(n / cpu) if cpu else None})
    if clock is not None:
        spent: list[Any] = sorted(([k, int(c), round(t, 3)] for k, (c, t) in clock.totals.items()),
                                  key=lambda r: -r[2])
        out[0]["statements"] = spent
    app.close()
    return out


def _fastest(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Row by row, the repetition with the least CPU time."""
    return [min(rows, key=lambda r: r["cpu_seconds"]) for rows in zip(*runs, strict=True)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("n", nargs="?", type=int, default=20_000, help="claims in the 835 (default 20000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg", help="a PostgreSQL URL; a scratch database is created on that server and dropped")
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    p.add_argument("--statements", action="store_true", help="also show where the fastest PostgreSQL run's time "
                   "went, statement by statement")
    p.add_argument("--drop-fks", action="store_true", help="what-if: drop the foreign keys of the tables posting "
                   "writes in the scratch PostgreSQL database before posting (never a product setting)")
    p.add_argument("--repeat", type=int, default=3, help="runs per backend, each on a fresh database; the "
                   "fastest by CPU time is shown (default 3)")
    a = p.parse_args(argv)
    configure_logging(level="WARNING")
    data, claims = make_835(a.n, a.seed)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        results += _fastest([run("sqlite", f"sqlite:///{tmp / f'sqlite{k}.db'}", data, claims, a.n, tmp / f"sqlite{k}")
                             for k in range(a.repeat)])
        if a.pg:
            admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
            pg_runs = []
            for k in range(a.repeat):
                name = f"edi_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    pg_runs.append(run("postgresql (no FKs)" if a.drop_fks else "postgresql",
                                       a.pg.rsplit("/", 1)[0] + "/" + name, data, claims, a.n, tmp / f"pg{k}",
                                       drop_fks=a.drop_fks, statements=a.statements))
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
            results += _fastest(pg_runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(render_table(["backend", "stage", "claims", "posted", "unmatched", "failed", "seconds", "claims/s",
                        "CPU s", "claims/CPU s"],
                       [[r["backend"], r["stage"], r["claims"], r["posted"], r["unmatched"], r["failed"], r["seconds"],
                         r["claims_per_second"], r["cpu_seconds"], r["claims_per_cpu_second"]] for r in results]))
    print(f"fastest of {a.repeat} by CPU time (this process + the PostgreSQL server processes of the database)")
    for r in results:
        if "statements" in r:
            print(f"\nwhere the {r['backend']} post's {r['seconds']} s went (statements; the rest is this process alone):")
            top = r["statements"][:15]
            rest = r["statements"][15:]
            rows = [[k, c, t] for k, c, t in top]
            if rest:
                rows.append([f"{len(rest)} other kinds", sum(c for _, c, _ in rest), round(sum(t for *_, t in rest), 3)])
            rows.append(["all statements", sum(c for _, c, _ in r["statements"]),
                         round(sum(t for *_, t in r["statements"]), 3)])
            print(render_table(["statement", "calls", "seconds"], rows))
    print(f"835 size: {len(data)} bytes; peak memory (max RSS): {peak_mb:.0f} MB")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"n": a.n, "results": results, "peak_rss_mb": round(peak_mb)},
                                               indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
