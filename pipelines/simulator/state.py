"""What the payers remember between files (``simulator_state.json`` in the mailbox root): counters for
control numbers, visits per member and year, services paid, each claim's outcome, fixtures copied."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["STATE_FILE", "SimulatorState"]

STATE_FILE = "simulator_state.json"


class SimulatorState:
    """The JSON state file in the mailbox root; written atomically after each answered file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data: dict[str, Any] = {}
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
        self.counters: dict[str, int] = data.get("counters", {})
        self.visits: dict[str, int] = data.get("visits", {})
        self.paid_services: dict[str, str] = data.get("paid_services", {})
        self.claims: dict[str, dict[str, Any]] = data.get("claims", {})
        self.fixtures_copied: list[str] = data.get("fixtures_copied", [])

    def next(self, name: str) -> int:
        """The next value of counter ``name`` (1, 2, ...): control numbers, traces, file numbers."""
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    def save(self) -> None:
        data = {"version": 1, "counters": self.counters, "visits": self.visits,
                "paid_services": self.paid_services, "claims": self.claims,
                "fixtures_copied": self.fixtures_copied}
        tmp = self.path.with_name("." + self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)
