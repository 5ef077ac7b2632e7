"""Several workers on one PostgreSQL: 1 vs 2 `edi ingest` processes over the same waiting 835s.

    python benchmarks/bench_workers.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test \
        [--files 200] [--claims 100] [--repeat 3] [--json out.json]

``--files`` balanced 835s of ``--claims`` claims each are generated with ``benchmarks/gen_835.py``
(:func:`make_files`): each file is its own payment (trace number) and pays claims of its own (claim
ids and line control numbers are unique per file), so the order in which workers take the files
changes nothing. For 1 and then 2 workers, ``--repeat`` times each, on a fresh scratch database:
the claims the files pay are stored (bulk inserts, not timed), the files are dropped into the local
mailbox's download folder, and that many `edi ingest --json` processes are started together over
the one practice folder (one config, one mailbox, one archive). Timed: from starting the processes
to the last one's exit (their start-up included). After each run the database is checked: one
``files`` row per file, every one ``processed`` once (attempts 1), each claim with exactly as many
payments as its file has CLPs; a run that fails the check is reported, not timed. The fastest
repetition is shown, with files/s, claims/s and the speed-up over one worker; the load average when
the run started says how busy the machine was. A benchmark, not a test (that is
tests/integration/test_workers.py): it asserts nothing, it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_posting import practice, store_claims  # noqa: E402
from benchmarks.gen_835 import generate  # noqa: E402
from edi.x835 import ClaimPayment as Clp  # noqa: E402
from edi.x835 import EnvelopeSpec, build_835  # noqa: E402
from models import Claim, ClaimPayment, File, make_engine  # noqa: E402
from pipelines.cli.table import render_table  # noqa: E402

EDI = str(Path(sys.executable).parent / "edi")
DOWNLOAD = Path("var") / "mailbox" / "outbound"
"""The download folder of fixtures/edi.toml's local mailbox, relative to the practice folder."""


def _own(c: Clp, k: int) -> Clp:
    """Claim ``c`` renamed into file ``k``'s own claim and line control numbers."""
    tag = f"W{k:04d}"
    return replace(c, claim_id=tag + c.claim_id[1:],
                   lines=tuple(replace(ln, line_control_number=f"{tag}{ln.line_control_number}") for ln in c.lines))


def make_files(files: int, claims: int, *, seed: int = 1) -> tuple[list[tuple[str, bytes]], list[Clp], Counter[str]]:
    """``files`` balanced 835s of ``claims`` claims each, named ``835_NNNN.x12``; the first CLP of every
    claim id they pay (what to store as our claims, see :func:`benchmarks.bench_posting.store_claims`);
    and the number of CLPs per claim id (a reversal and its correction are two)."""
    out: list[tuple[str, bytes]] = []
    first: dict[str, Clp] = {}
    clps: Counter[str] = Counter()
    for k in range(1, files + 1):
        (rem,) = generate(claims, seed * 100_000 + k, per_set=claims)
        rem = replace(rem, claims=tuple(_own(c, k) for c in rem.claims))
        for c in rem.claims:
            first.setdefault(c.claim_id, c)
            clps[c.claim_id] += 1
        text_ = build_835(rem, envelope=EnvelopeSpec(isa_control=k, gs_control=k, created=datetime(2026, 11, 20, 8, 0),
                                                     sender="PAYERSENDER", receiver="SUNRISE01"))
        out.append((f"835_{k:04d}.x12", text_.encode("latin-1")))
    return out, list(first.values()), clps


def drop(folder: Path, files: list[tuple[str, bytes]]) -> None:
    """Put the files into the practice's mailbox download folder, as the clearinghouse would."""
    download = folder / DOWNLOAD
    download.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (download / name).write_bytes(data)


def start_workers(folder: Path, url: str, n: int, *args: str, tag: str = "worker") -> list[subprocess.Popen[str]]:
    """``n`` `edi ARGS` processes (default: ``ingest --json``) in the practice ``folder`` on ``url``,
    started together; their output goes to ``folder/TAG-I.out`` and ``.err``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
    env["EDI_DATABASE_URL"] = url
    procs = []
    for i in range(n):
        with open(folder / f"{tag}-{i}.out", "w") as out, open(folder / f"{tag}-{i}.err", "w") as err:
            procs.append(subprocess.Popen([EDI, *(args or ("ingest", "--json"))], cwd=folder, env=env,
                                          stdout=out, stderr=err, text=True))
    return procs


def worker_output(folder: Path, i: int, tag: str = "worker") -> tuple[str, str]:
    """Worker ``i``'s stdout and stderr."""
    return (folder / f"{tag}-{i}.out").read_text(), (folder / f"{tag}-{i}.err").read_text()


def payments_per_claim(url: str) -> Counter[str]:
    """ClaimPayment rows per claim id."""
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(select(Claim.claim_id, func.count(ClaimPayment.id))
                                .join(ClaimPayment, ClaimPayment.claim_pk == Claim.id).group_by(Claim.claim_id))
            return Counter({cid: int(n) for cid, n in rows})
    finally:
        eng.dispose()


def inbound_files(url: str) -> list[tuple[str, str, str, int]]:
    """(name, sha256, state, attempts) of every inbound file, in id order."""
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            stmt = select(File.name, File.sha256, File.state, File.attempts).where(File.direction == "in")
            return [(r.name, r.sha256, r.state, r.attempts) for r in conn.execute(stmt.order_by(File.id))]
    finally:
        eng.dispose()


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new database on the PostgreSQL ``server`` URL, dropped afterwards; yields its URL."""
    name = f"edi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(server: str, workers: int, files: list[tuple[str, bytes]], claims: list[Clp], expected: Counter[str],
        tmp: Path) -> dict[str, Any]:
    """One timed run of ``workers`` `edi ingest` processes over ``files``, and its check."""
    with scratch_database(server) as url:
        folder = tmp / f"w{workers}-{uuid.uuid4().hex[:6]}"
        folder.mkdir(parents=True)
        app = practice(folder, url)
        store_claims(app, claims)
        app.close()
        drop(folder, files)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        procs = start_workers(folder, url, workers)
        codes = [p.wait() for p in procs]
        seconds = time.perf_counter() - t0
        per_worker = [len(json.loads(worker_output(folder, i)[0] or "{}").get("processed", [])) for i in range(workers)]
        rows = inbound_files(url)
        ok = (codes == [0] * workers and len(rows) == len(files) == len({r[1] for r in rows})
              and all(r[2] == "processed" and r[3] == 1 for r in rows)
              and payments_per_claim(url) == expected and sum(per_worker) == len(files))
    n_claims = sum(expected.values())
    return {"workers": workers, "files": len(files), "claims": n_claims, "seconds": round(seconds, 2),
            "files_per_second": round(len(files) / seconds, 2), "claims_per_second": round(n_claims / seconds),
            "per_worker": per_worker, "exit_codes": codes, "check": "ok" if ok else "FAILED",
            "load_at_start": round(load, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--pg", required=True, help="a PostgreSQL URL; scratch databases are created on that server")
    p.add_argument("--files", type=int, default=200, help="835 files waiting (default 200)")
    p.add_argument("--claims", type=int, default=100, help="claims per file (default 100)")
    p.add_argument("--repeat", type=int, default=3, help="runs per worker count; the fastest is shown (default 3)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    files, claims, expected = make_files(a.files, a.claims, seed=a.seed)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for workers in (1, 2):
            runs = [run(a.pg, workers, files, claims, expected, Path(tmpdir)) for _ in range(a.repeat)]
            good = [r for r in runs if r["check"] == "ok"] or runs
            best = min(good, key=lambda r: r["seconds"])
            best["all_seconds"] = [r["seconds"] for r in runs]
            results.append(best)
    base = results[0]["seconds"]
    for r in results:
        r["speed_up"] = round(base / r["seconds"], 2)
    print(render_table(
        ["workers", "files", "claims", "seconds", "files/s", "claims/s", "speed-up", "files per worker", "check",
         "load at start", "all runs (s)"],
        [[r["workers"], r["files"], r["claims"], r["seconds"], r["files_per_second"], r["claims_per_second"],
          f"{r['speed_up']}x", "/".join(map(str, r["per_worker"])), r["check"], r["load_at_start"],
          " ".join(map(str, r["all_seconds"]))] for r in results]))
    sizes = [len(d) for _, d in files]
    print(f"{len(files)} files of {a.claims} claims, {min(sizes)}-{max(sizes)} bytes each; {os.cpu_count()} CPUs")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"results": results}, indent=2) + "\n")
    return 0 if all(r["check"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
