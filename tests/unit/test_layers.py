"""The architecture of DESIGN.md: which layer may import which, and nothing happens at import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class TestLayers:
    def test_import_contracts_hold(self) -> None:
        """import-linter finds every layering contract of pyproject.toml kept."""
        exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
        if exe is None:
            pytest.fail("lint-imports (import-linter) is not installed")
        proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "0 broken" in proc.stdout

    def test_importing_every_package_opens_nothing(self) -> None:
        """Importing the packages creates no engine, connection or logging configuration."""
        code = (
            "import logging, structlog, sqlalchemy\n"
            "created = []\n"
            "orig = sqlalchemy.create_engine\n"
            "sqlalchemy.create_engine = lambda *a, **k: created.append(a) or orig(*a, **k)\n"
            "import edi, edi.x12, models, transports, pipelines, pipelines.cli, pipelines.usecases.ingest\n"
            "assert not created, created\n"
            "assert not logging.getLogger().handlers\n"
            "assert not structlog.is_configured()\n"
            "print('clean')\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        assert proc.stdout.strip() == "clean", proc.stderr
