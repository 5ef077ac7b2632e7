"""Kill -9 campaign (issue 11): `edi run` SIGKILLed at many random points, then compared with a clean run.

    python benchmarks/crash_campaign.py [--kills 100] [--per-cycle 10] [--pg URL] [--sqlite] [--seed S]
                                        [--json out.json]

A practice is loaded from the fixtures (authorizations and encounters, as the e2e tests do). A
reference cycle runs without kills: `edi run` (send), the simulator, `edi run` (receive); both runs
are timed. Then, in fresh practices ("cycles"), the send run is started again and again and each
start is killed with SIGKILL at a random time within the measured duration of the clean send run,
then a run is let finish; the simulator answers; the receive run is killed the same way and then
let finish. ``--kills`` is the total per backend; each cycle spends ``--per-cycle`` of them (half on
the send run, half on the receive run), so many kills hit a run that still has real work to do.

Every `edi` invocation is a forked child of this (already imported) process running the real
command line (``pipelines.cli.main``), so the kills land in the run's work rather than in the
interpreter's start-up; the child is killed with SIGKILL exactly as a crashed `edi run` would be.

Each cycle is compared with the reference: claims' statuses, money and adjustments identical;
every CLM01 uploaded exactly once (CLM segments counted across every uploaded file); no 835 posted
twice (remittances per payer and trace number, and claim payments against the reference); no
inbound file lost (every file the mailbox's download folder holds ends processed, failed or
duplicate in the ledger, none left received); and how many kills landed inside a run (runs the
next start marked ``interrupted``). Prints one row per backend. ``--pg`` names a server: a scratch
database per cycle is created there and dropped afterwards. A campaign, not a test: it exits 1 if
anything was sent twice, posted twice, lost or ended different.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pipelines.usecases.claim_status  # noqa: E402,F401  (imported before forking: the children start warm)
import pipelines.usecases.claims  # noqa: E402,F401
import pipelines.usecases.eligibility  # noqa: E402,F401
import pipelines.usecases.report  # noqa: E402,F401
import pipelines.usecases.submit  # noqa: E402,F401
from pipelines.cli.main import main as edi_main  # noqa: E402
from pipelines.cli.table import render_table  # noqa: E402

FIXTURES = ROOT / "fixtures"
AS_OF = "2026-06-15"
RUN = ("--as-of", AS_OF, "run", "--wait")
FINAL_INBOUND = ("processed", "failed", "duplicate")


@dataclass
class Practice:
    """One practice folder and its database URL (SQLite inside the folder, or a scratch PostgreSQL one)."""

    folder: Path
    url: str

    def edi(self, *argv: str, kill_after: float | None = None, out: Path | None = None) -> int | None:
        """Run `edi argv` in a forked child; SIGKILL it after ``kill_after`` s. None when it was killed."""
        pid = os.fork()
        if pid == 0:  # the child: the real command line, in the practice folder
            code = 70
            try:
                os.chdir(self.folder)
                os.environ.update(EDI_DATABASE_URL=self.url, EDI_LOG_LEVEL="WARNING")
                fd = os.open(out or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1)
                os.dup2(null, 2)
                code = edi_main(list(argv))
                sys.stdout.flush()
            finally:
                os._exit(code)
        if kill_after is not None:
            deadline = time.monotonic() + kill_after
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return os.waitstatus_to_exitcode(status)
                time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
            os.kill(pid, signal.SIGKILL)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        return None if code == -signal.SIGKILL else code

    def must(self, *argv: str, out: Path | None = None) -> None:
        code = self.edi(*argv, out=out)
        if code != 0:
            raise SystemExit(f"edi {' '.join(argv)} exited {code} in {self.folder}")

    def timed_run(self) -> float:
        t0 = time.perf_counter()
        self.must(*RUN)
        return time.perf_counter() - t0


@dataclass
class Outcome:
    claims: dict[str, Any]
    clm01: Counter[str]
    remittance_dups: int
    claim_payments: int
    lost_files: list[str]
    interrupted: int


@dataclass
class Tally:
    backend: str
    cycles: int = 0
    kills: int = 0
    killed: int = 0
    landed: int = 0
    duplicate_uploads: int = 0
    double_postings: int = 0
    lost_files: int = 0
    unequal_cycles: int = 0
    notes: list[str] = field(default_factory=list)


def load(p: Practice) -> None:
    p.must("init")
    p.must("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
    p.must("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))


def outcome(p: Practice) -> Outcome:
    """What the practice ends with (read after every child has exited)."""
    export = p.folder / "claims.json"
    p.must("claims", "export", "--json", out=export)
    claims = {c["encounter_ids"][0]: (c["status"], c["paid"], c["patient_responsibility"],
                                      sorted((a["group"], a["reason"], a["amount"])
                                             for ln in c["lines"] for a in ln["adjustments"]))
              for c in json.loads(export.read_text())["claims"]}
    mailbox = p.folder / "var" / "mailbox"
    clm01 = Counter(m for f in (mailbox / "inbound").rglob("*.x12")
                    for m in re.findall(r"~\s*CLM\*([^*]+)\*", f.read_text(encoding="latin-1")))
    engine = create_engine(p.url)
    try:
        with engine.connect() as conn:
            dups = conn.execute(text("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM remittances "
                                     "GROUP BY payer_key, trace_number) AS t")).scalar_one()
            payments = conn.execute(text("SELECT count(*) FROM claim_payments")).scalar_one()
            ledger = {(sha, state) for sha, state in conn.execute(
                text("SELECT sha256, state FROM files WHERE direction = 'in'"))}
            interrupted = conn.execute(text("SELECT count(*) FROM runs WHERE status = 'interrupted'")).scalar_one()
    finally:
        engine.dispose()
    final = {sha for sha, state in ledger if state in FINAL_INBOUND}
    lost = [f.name for f in sorted((mailbox / "outbound").rglob("*.x12"))
            if hashlib.sha256(f.read_bytes()).hexdigest() not in final]
    lost += [f"ledger:{sha[:12]}" for sha, state in ledger if state == "received"]
    return Outcome(claims, clm01, int(dups), int(payments), lost, int(interrupted))


def killed_runs(p: Practice, n: int, duration: float, rng: random.Random) -> tuple[int, int]:
    """``n`` runs each SIGKILLed at a random time within ``duration``; (killed, finished first)."""
    killed = 0
    for _ in range(n):
        if p.edi(*RUN, kill_after=rng.uniform(0.02, 1.0) * duration) is None:
            killed += 1
    return killed, n - killed


def cycle(p: Practice, kills: int, durations: tuple[float, float], rng: random.Random) -> tuple[Outcome, int]:
    """Load, send (with kills), simulate, receive (with kills); the outcome and how many were killed."""
    load(p)
    send_kills = kills // 2
    killed, _ = killed_runs(p, send_kills, durations[0], rng)
    p.must(*RUN)
    p.must("simulate", "var/mailbox", "--seed", "5")
    k2, _ = killed_runs(p, kills - send_kills, durations[1], rng)
    p.must(*RUN)
    return outcome(p), killed + k2


def compare(t: Tally, ref: Outcome, got: Outcome, label: str) -> None:
    dup_uploads = sum(n - 1 for n in got.clm01.values() if n > 1)
    double = got.remittance_dups + max(0, got.claim_payments - ref.claim_payments)
    t.duplicate_uploads += dup_uploads
    t.double_postings += double
    t.lost_files += len(got.lost_files)
    t.landed += got.interrupted
    equal = (got.claims == ref.claims and set(got.clm01) == set(ref.clm01)
             and got.claim_payments == ref.claim_payments)
    if not equal:
        t.unequal_cycles += 1
        diff = sorted(k for k in set(ref.claims) | set(got.claims) if ref.claims.get(k) != got.claims.get(k))
        t.notes.append(f"{label}: final state differs (encounters {diff[:5]}, clm01 missing "
                       f"{sorted(set(ref.clm01) - set(got.clm01))[:5]}, payments {got.claim_payments} "
                       f"vs {ref.claim_payments})")
    if dup_uploads or double or got.lost_files:
        t.notes.append(f"{label}: {dup_uploads} duplicate uploads, {double} double postings, "
                       f"lost {got.lost_files[:5]}")


@contextmanager
def scratch_databases(pg: str | None) -> Iterator[Any]:
    """A function making a fresh database URL per practice on ``pg`` (None: SQLite in the folder)."""
    if pg is None:
        yield lambda folder: f"sqlite:///{folder / 'var' / 'edi.db'}"
        return
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def make(_folder: Path) -> str:
        name = f"edi_crash_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return pg.rsplit("/", 1)[0] + "/" + name

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def campaign(backend: str, pg: str | None, kills: int, per_cycle: int, seed: int, tmp: Path) -> Tally:
    rng = random.Random(seed)
    t = Tally(backend)
    with scratch_databases(pg) as new_url:
        folder = tmp / backend / "reference"
        ref_p = Practice(folder, new_url(folder))
        folder.mkdir(parents=True)
        shutil.copy(FIXTURES / "edi.toml", folder / "edi.toml")
        load(ref_p)
        send = ref_p.timed_run()
        ref_p.must("simulate", "var/mailbox", "--seed", "5")
        receive = ref_p.timed_run()
        ref = outcome(ref_p)
        t.notes.append(f"clean runs: send {send:.2f} s, receive {receive:.2f} s")
        while t.kills < kills:
            n = min(per_cycle, kills - t.kills)
            folder = tmp / backend / f"cycle{t.cycles + 1}"
            folder.mkdir(parents=True)
            shutil.copy(FIXTURES / "edi.toml", folder / "edi.toml")
            got, killed = cycle(Practice(folder, new_url(folder)), n, (send, receive), rng)
            t.cycles += 1
            t.kills += n
            t.killed += killed
            compare(t, ref, got, f"cycle {t.cycles}")
            print(f"  {backend} cycle {t.cycles}: {n} kills, {killed} killed, {got.interrupted} inside a run",
                  file=sys.stderr, flush=True)
    return t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--kills", type=int, default=100, help="kills per backend (default 100)")
    p.add_argument("--per-cycle", type=int, default=10, help="kills per fresh practice (default 10, at least 2)")
    p.add_argument("--pg", help="a PostgreSQL URL; scratch databases are created on that server and dropped")
    p.add_argument("--sqlite", action="store_true", help="run on SQLite (the default when --pg is not given)")
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    if a.per_cycle < 2 or a.kills < 1:
        p.error("--kills must be at least 1 and --per-cycle at least 2")
    backends = ([("sqlite", None)] if a.sqlite or not a.pg else []) + ([("postgresql", a.pg)] if a.pg else [])
    tallies = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for backend, pg in backends:
            tallies.append(campaign(backend, pg, a.kills, a.per_cycle, a.seed, Path(tmpdir)))
    print(render_table(["backend", "kills", "killed", "landed inside a run", "duplicate uploads", "double postings",
                        "lost files", "final state equal"],
                       [[t.backend, t.kills, t.killed, t.landed, t.duplicate_uploads, t.double_postings,
                         t.lost_files, "yes" if not t.unequal_cycles else f"no ({t.unequal_cycles} cycles)"]
                        for t in tallies]))
    for t in tallies:
        for note in t.notes:
            print(f"{t.backend}: {note}")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps([asdict(t) for t in tallies], indent=2) + "\n")
    bad = any(t.duplicate_uploads or t.double_postings or t.lost_files or t.unequal_cycles for t in tallies)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
