"""The `edi` command as a subprocess: init, import, submit, export; no PHI in the logs."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

ENCOUNTERS = FIXTURES / "encounters" / "sample.csv"
AUTHS = FIXTURES / "authorizations" / "sample.csv"


def phi_values() -> set[str]:
    """Names, dates of birth (both spellings), member ids, addresses and diagnoses of the fixture."""
    values: set[str] = set()
    with ENCOUNTERS.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            for key in ("patient_last_name", "patient_first_name", "subscriber_last_name", "subscriber_first_name",
                        "member_id", "patient_address"):
                if r[key]:
                    values.update({r[key], r[key].upper()})
            for key in ("patient_dob", "subscriber_dob"):
                if r[key]:
                    values.update({r[key], r[key].replace("-", "")})
            for dx in r["diagnoses"].split(";"):
                values.update({dx, dx.replace(".", "")})
    return {v for v in values if len(v) >= 4}


class TestCliClaims:
    @pytest.fixture
    def practice(self, tmp_path: Path) -> Path:
        shutil.copy(FIXTURES / "edi.toml", tmp_path / "edi.toml")
        return tmp_path

    def edi(self, practice: Path, *argv: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
        env["EDI_LOG_LEVEL"] = "DEBUG"
        return subprocess.run([sys.executable, "-m", "pipelines.cli", "--config", str(practice / "edi.toml"),
                               *argv], capture_output=True, text=True, env=env, cwd=practice, timeout=300)

    def test_import_submit_export(self, practice: Path) -> None:
        """The whole claims-out path works from the command line and no PHI value reaches stderr."""
        stderr = []
        for argv, code in ((["init"], 0), (["import", "authorizations", str(AUTHS)], 0),
                           (["import", "encounters", str(ENCOUNTERS)], 0),
                           (["claims", "submit", "--as-of", "2026-06-15", "--json"], 0)):
            done = self.edi(practice, *argv)
            assert done.returncode == code, done.stderr
            stderr.append(done.stderr)
        summary = json.loads(done.stdout)
        assert summary["sent"] == summary["ready"] > 0
        assert (practice / "var" / "mailbox" / "inbound" / summary["file"]["name"]).is_file()

        done = self.edi(practice, "claims", "export", "--json")
        assert done.returncode == 0, done.stderr
        stderr.append(done.stderr)
        claims = json.loads(done.stdout)["claims"]
        with ENCOUNTERS.open(encoding="utf-8", newline="") as fh:
            assert len(claims) == sum(1 for _ in csv.DictReader(fh))
        statuses = {c["status"] for c in claims}
        assert statuses == {"submitted", "held"}
        assert sum(c["status"] == "submitted" for c in claims) == summary["sent"]

        logs = "\n".join(stderr)
        assert "claims_submitted" in logs  # the logs were captured
        leaked = sorted(v for v in phi_values() if v in logs)
        assert leaked == []

    def test_bad_rows_exit_1_and_missing_columns_exit_2(self, practice: Path, tmp_path: Path) -> None:
        """Bad rows make the import exit 1 naming line and encounter; a file missing columns exits 2."""
        assert self.edi(practice, "init").returncode == 0
        done = self.edi(practice, "import", "encounters", str(FIXTURES / "encounters" / "bad_rows.csv"))
        assert done.returncode == 1
        assert "line 3 (encounter_id B-02): patient_dob is not YYYY-MM-DD" in done.stderr
        assert "1992-13-05" not in done.stderr
        bad = tmp_path / "cols.csv"
        bad.write_text("encounter_id,patient_id\nE-1,P-1\n", encoding="utf-8")
        done = self.edi(practice, "import", "encounters", str(bad))
        assert done.returncode == 2
        assert "required columns missing" in done.stderr and "patient_dob" in done.stderr
