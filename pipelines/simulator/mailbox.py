"""One simulator pass over a local mailbox folder (:func:`simulate_mailbox`, returning a
:class:`SimResult`): answer what is in the upload folder, or copy fixture files, and archive."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.simulator.clearinghouse import answer_file
from pipelines.simulator.context import Context
from pipelines.simulator.payers import PayerRules
from pipelines.simulator.state import STATE_FILE, SimulatorState
from transports.local import LocalMailbox

__all__ = ["SimResult", "simulate_mailbox"]


@dataclass(frozen=True)
class SimResult:
    """What one simulator pass did: files answered, answer files written, and counts."""

    answered: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"answered": list(self.answered), "written": list(self.written), "counts": dict(self.counts)}


def _copy_fixtures(box: LocalMailbox, state: SimulatorState, fixtures: Path, download_dir: str) -> list[str]:
    """Every X12 file of ``fixtures`` (sorted by name) into the download folder, each once."""
    written = []
    for path in sorted(p for p in fixtures.iterdir() if p.is_file() and not p.name.startswith(".")):
        data = path.read_bytes()
        if path.name in state.fixtures_copied or not data.lstrip().startswith(b"ISA"):
            continue
        box.put(download_dir, path.name, data)
        state.fixtures_copied.append(path.name)
        written.append(path.name)
    return written


def simulate_mailbox(root: Path, *, upload_dir: str = "inbound", download_dir: str = "outbound", seed: int = 1,
                     fixtures: Path | None = None, as_of: date | None = None,
                     payers: Mapping[str, PayerRules] | None = None,
                     only: Iterable[str] | None = None) -> SimResult:
    """Answer every file in ``root/upload_dir`` (or just the names in ``only``) into ``root/download_dir``.

    Each answered file is moved to ``root/upload_dir/archive/``. With ``fixtures`` the answers are
    the X12 files of that folder, each copied once, instead of generated ones.
    """
    root = Path(root)
    box = LocalMailbox(root)
    (root / upload_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    (root / download_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    state = SimulatorState(root / STATE_FILE)
    names = [f.name for f in box.list(upload_dir)] if only is None else list(only)
    ctx = Context(box, state, download_dir=download_dir, seed=seed, as_of=as_of or date.today(),
                  payers=payers or {})
    answered: list[str] = []
    if fixtures is not None:
        ctx.written += _copy_fixtures(box, state, Path(fixtures), download_dir)
    for name in names:
        data = box.get(upload_dir, name)
        if fixtures is None:
            answer_file(ctx, name, data)
        box.archive(upload_dir, name)
        answered.append(name)
        state.save()
    state.save()
    return SimResult(tuple(answered), tuple(ctx.written), dict(sorted(ctx.counts.items())))
