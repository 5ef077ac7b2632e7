"""`edi run` killed at random points and started again: nothing sent twice, nothing posted twice,
nothing lost; and no PHI in the logs of a whole nightly cycle."""

from __future__ import annotations

import csv
import json
import random
import re
import signal
import subprocess
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.e2e.conftest import EDI, FIXTURES, Cli

AS_OF = "2026-06-15"


def _load(cli: Cli) -> None:
    cli("init")
    cli("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
    cli("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))


STEPS = ("submit", "eligibility", "status", "upload", "ingest", "report")


def _progress(db: Path, pid: int) -> tuple[str | None, list[str]]:
    """The status of the run `edi` process ``pid`` recorded, and the steps it has started so far."""
    import sqlite3

    if not db.exists():
        return None, []
    try:
        with closing(sqlite3.connect(db, timeout=5)) as conn:
            row = conn.execute("SELECT id, status FROM runs WHERE pid = ? ORDER BY id DESC LIMIT 1", (pid,)).fetchone()
            if row is None:
                return None, []
            steps = [r[0] for r in conn.execute("SELECT name FROM run_steps WHERE run_id = ? ORDER BY id", (row[0],))]
            return str(row[1]), steps
    except sqlite3.OperationalError:  # the run holds the write lock this instant: ask again
        return None, []


def _killed_run(cli: Cli, step: str, delay: float) -> bool:
    """Start `edi run`; SIGKILL it ``delay`` s after it starts ``step`` (or a later one). True: killed mid-run.

    The kill is placed on observable progress (the run's own step rows), not on wall-clock time, so
    where it lands does not depend on how fast the machine is.
    """
    db = cli.folder / "var" / "edi.db"
    proc = subprocess.Popen([EDI, "--as-of", AS_OF, "run", "--wait"], cwd=cli.folder, env=cli.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            status, started = _progress(db, proc.pid)
            if status == "running" and any(STEPS.index(s) >= STEPS.index(step) for s in started if s in STEPS):
                time.sleep(delay)
                break
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    return _progress(db, proc.pid)[0] == "running"  # left running: the kill landed inside its work


def _cycle(cli: Cli, kills: list[tuple[str, float]]) -> dict[str, Any]:
    """Send (with kills), answer, receive (with kills); return what the practice ends with."""
    _load(cli)
    landed = sum(_killed_run(cli, step, delay) for step, delay in kills)
    cli("--as-of", AS_OF, "run", "--wait")
    cli("simulate", "var/mailbox", "--seed", "5")
    landed += sum(_killed_run(cli, step, delay) for step, delay in kills)
    cli("--as-of", AS_OF, "run", "--wait")
    claims = cli("claims", "export", "--json").json()["claims"]
    mailbox = cli.folder / "var" / "mailbox"
    sent = [p for p in (mailbox / "inbound").rglob("*.x12")]
    clm01 = Counter(m for p in sent for m in re.findall(r"~\s*CLM\*([^*]+)\*", p.read_text(encoding="latin-1")))
    files = cli("files", "list", "--json").json()["files"]
    return {
        "claims": {c["encounter_ids"][0]: (c["status"], c["paid"], c["patient_responsibility"],
                                           sorted((a["group"], a["reason"], a["amount"])
                                                  for ln in c["lines"] for a in ln["adjustments"]))
                   for c in claims},
        "clm01": clm01,
        "inbound_states": Counter(f["state"] for f in files if f["direction"] == "in"),
        "outbound_kinds": Counter(f["kind"] for f in files if f["direction"] == "out"),
        "interrupted": _interrupted_runs(cli.folder / "var" / "edi.db"),
        "landed": landed,
    }


def _interrupted_runs(db: Path) -> int:
    import sqlite3

    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM runs WHERE status = 'interrupted'").fetchone()[0])


class TestKilledRuns:
    def test_killed_runs_send_nothing_twice_and_lose_nothing(self, tmp_path: Path) -> None:
        """Runs killed at random points of their work end exactly where uninterrupted runs end."""
        reference = _cycle(Cli(tmp_path / "reference"), [])
        rng = random.Random(20261127)
        kills = [(rng.choice(STEPS[:-1]), round(rng.uniform(0.0, 0.05), 3)) for _ in range(6)]
        crashed = _cycle(Cli(tmp_path / "crashed"), kills)
        assert crashed["claims"] == reference["claims"], f"kill points {kills}"
        assert all(n == 1 for n in crashed["clm01"].values()), "a claim went out twice"
        assert set(crashed["clm01"]) == set(reference["clm01"])
        assert crashed["outbound_kinds"] == reference["outbound_kinds"]
        assert crashed["inbound_states"] == reference["inbound_states"]
        statuses = Counter(v[0] for v in reference["claims"].values())
        assert statuses["paid"] > 0 and statuses["held"] > 0
        # every run killed inside its work is found and marked by the next start, whatever the machine's speed
        assert crashed["interrupted"] == crashed["landed"], f"kill points {kills}"
        assert crashed["landed"] >= 1, f"no kill landed inside a run's work (kill points {kills})"


PHI_COLUMNS = ("patient_last_name", "patient_first_name", "patient_dob", "patient_address", "patient_city",
               "patient_zip", "member_id", "subscriber_last_name", "subscriber_first_name", "subscriber_dob")


class TestNoPhiInLogs:
    def test_a_whole_cycle_logs_no_phi(self, cli: Cli) -> None:
        """Import, run, simulate, run, report: none of the fixture's PHI values reaches the logs."""
        logs = []
        for args in (["init"], ["import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv")],
                     ["import", "encounters", str(FIXTURES / "encounters" / "sample.csv")],
                     ["--as-of", AS_OF, "run"], ["simulate", "var/mailbox"], ["--as-of", AS_OF, "run"],
                     ["--as-of", AS_OF, "report"], ["denials", "list"], ["files", "list"]):
            logs.append(cli(*args, check=None).stderr)
        text = "\n".join(logs)
        assert "run_finished" in text and "file_processed" in text  # the logs are there, and JSON
        assert all(json.loads(line) for line in text.splitlines() if line.startswith("{"))
        with (FIXTURES / "encounters" / "sample.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        values = {r[c] for r in rows for c in PHI_COLUMNS if len(r.get(c) or "") >= 4}
        values |= {dx.strip() for r in rows for dx in r["diagnoses"].split(";") if dx.strip()}
        found = sorted(v for v in values if re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.])", text))
        assert found == [], f"PHI in the logs: {len(found)} values"
