"""Helpers for running the real `edi` command as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
EDI = str(Path(sys.executable).parent / "edi")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """Runs `edi` in a practice folder with its own config (a copy of fixtures/edi.toml)."""

    def __init__(self, folder: Path, db_url: str | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "edi.toml", folder / "edi.toml")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
        if db_url:
            self.env["EDI_DATABASE_URL"] = db_url

    def __call__(self, *args: str, check: int | None = 0, timeout: float = 300) -> Result:
        proc = subprocess.run([EDI, *args], cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        res = Result(proc.returncode, proc.stdout, proc.stderr)
        if check is not None:
            assert res.code == check, f"edi {' '.join(args)} exited {res.code}\n{res.stdout}\n{res.stderr}"
        return res


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """`edi` in a fresh practice folder on SQLite."""
    return Cli(tmp_path / "practice")
