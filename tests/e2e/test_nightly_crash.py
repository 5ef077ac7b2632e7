"""`edi run` killed at random points and started again: nothing sent twice, nothing posted twice,
nothing lost; and no PHI in the logs of a whole nightly cycle."""

from __future__ import annotations

import csv
import json
import random
import re
import signal
import subprocess
from collections import Counter
from pathlib import Path

from tests.e2e.conftest import EDI, FIXTURES, Cli

AS_OF = "2026-06-15"


def _load(cli: Cli) -> None:
    cli("init")
    cli("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
    cli("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))


def _killed_run(cli: Cli, after: float) -> None:
    """Start `edi run` and SIGKILL it after ``after`` seconds (or let it finish if it is quicker)."""
    proc = subprocess.Popen([EDI, "--as-of", AS_OF, "run", "--wait"], cwd=cli.folder, env=cli.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _cycle(cli: Cli, kills: list[float]) -> dict[str, object]:
    """Send (with kills), answer, receive (with kills); return what the practice ends with."""
    _load(cli)
    for after in kills:
        _killed_run(cli, after)
    cli("--as-of", AS_OF, "run", "--wait")
    cli("simulate", "var/mailbox", "--seed", "5")
    for after in kills:
        _killed_run(cli, after)
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
    }


def _interrupted_runs(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM runs WHERE status = 'interrupted'").fetchone()[0])


class TestKilledRuns:
    def test_killed_runs_send_nothing_twice_and_lose_nothing(self, tmp_path: Path) -> None:
        """Runs killed at random points end exactly where uninterrupted runs end."""
        reference = _cycle(Cli(tmp_path / "reference"), [])
        rng = random.Random(20261127)
        kills = [round(rng.uniform(1.0, 9.0), 2) for _ in range(6)]
        crashed = _cycle(Cli(tmp_path / "crashed"), kills)
        assert crashed["claims"] == reference["claims"], f"kill points {kills}"
        assert all(n == 1 for n in crashed["clm01"].values()), "a claim went out twice"
        assert set(crashed["clm01"]) == set(reference["clm01"])
        assert crashed["outbound_kinds"] == reference["outbound_kinds"]
        assert crashed["inbound_states"] == reference["inbound_states"]
        statuses = Counter(v[0] for v in reference["claims"].values())  # type: ignore[attr-defined]
        assert statuses["paid"] > 0 and statuses["held"] > 0
        assert crashed["interrupted"] >= 3, "most kills should land inside a run's work"


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
