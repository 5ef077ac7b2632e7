"""Inbound files: store, sniff, parse and apply, one database transaction per file.

A file is recorded (raw bytes archived, sha256, kind, control numbers) before it is processed.
Applying it happens inside a savepoint: all of it or none of it. A failure leaves the file
``failed`` with its error and position, and the caller goes on with the next file.
"""

from __future__ import annotations

import argparse
import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.errors import EdiError
from edi.x12 import open_x12
from models import File, utcnow
from pipelines.cli.app import App
from pipelines.errors import ApplyError, NotFound
from pipelines.usecases.ledger import read_archived_bytes, record_inbound

__all__ = ["ApplyContext", "IngestResult", "cmd_ingest", "ingest_bytes", "ingest_mailbox",
           "process_file"]

# kind -> "module:function"; each takes (ApplyContext, bytes) and returns counts for the log.
APPLIERS: dict[str, str] = {
    "835": "pipelines.usecases.posting:apply_835",
    "999": "pipelines.usecases.responses:apply_999",
    "TA1": "pipelines.usecases.responses:apply_ta1",
    "277CA": "pipelines.usecases.responses:apply_277ca",
    "277": "pipelines.usecases.responses:apply_277",
    "271": "pipelines.usecases.responses:apply_271",
}


@dataclass
class ApplyContext:
    """What an applier gets: the open session (inside a savepoint), the file record, the app."""

    app: App
    session: Session
    file: File
    force: bool = False


@dataclass
class IngestResult:
    processed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add_counts(self, counts: dict[str, Any]) -> None:
        for k, v in counts.items():
            if isinstance(v, int):
                self.counts[k] = self.counts.get(k, 0) + v

    def as_dict(self) -> dict[str, Any]:
        return {"processed": self.processed, "failed": self.failed, "duplicates": self.duplicates,
                "counts": self.counts}


def _not_inbound(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """A file whose kind we do not apply: say why, with the position when it is not valid X12."""
    for ts in open_x12(data):  # raises edi.errors.EdiError, with its position, for broken X12
        raise ApplyError(f"transaction set {ts.set_id} ({ts.implementation}) is not processed inbound "
                         "(expected 835, 999, TA1, 277CA, 277 or 271)",
                         {"segment_number": ts.segment_number, "segment_id": "ST", "element": 1})
    raise ApplyError("the file holds no transaction set and no TA1")


def _applier(kind: str) -> Callable[[ApplyContext, bytes], dict[str, Any]]:
    target = APPLIERS.get(kind)
    if target is None:
        return _not_inbound
    module, func = target.split(":")
    fn: Callable[[ApplyContext, bytes], dict[str, Any]] = getattr(importlib.import_module(module), func)
    return fn


def process_file(app: App, file_id: int, *, force: bool = False,
                 only_states: tuple[str, ...] | None = None) -> tuple[File, dict[str, Any]]:
    """Parse and apply one stored inbound file in its own transaction; never raises for bad data.

    ``only_states``: process only if the file (locked) is still in one of these states, so two
    workers that picked the same file do not both apply it.
    """
    counts: dict[str, Any] = {}
    with app.transaction() as session:
        f = session.get(File, file_id, with_for_update=True)
        if f is None:
            raise NotFound(f"no file with id {file_id}")
        if only_states is not None and f.state not in only_states:
            return f, counts
        data = read_archived_bytes(f)
        f.attempts = (f.attempts or 0) + 1
        try:
            with session.begin_nested():
                counts = _applier(f.kind)(ApplyContext(app, session, f, force), data) or {}
        except (EdiError, ApplyError) as exc:
            position = exc.as_dict() if isinstance(exc, EdiError) else exc.position
            _mark_failed(f, str(exc), position)
        except Exception as exc:  # a bug must not stop the batch; keep the evidence
            _mark_failed(f, f"internal error: {type(exc).__name__}: {exc}", {"traceback": traceback.format_exc()})
        else:
            f.state, f.error, f.error_position, f.processed_at = "processed", None, None, utcnow()
        app.log.info("file_processed" if f.state == "processed" else "file_failed", file_id=f.id,
                     kind=f.kind, state=f.state, **{k: v for k, v in counts.items() if isinstance(v, int)})
    return f, counts


def _mark_failed(f: File, error: str, position: dict[str, Any] | None) -> None:
    f.state, f.error, f.error_position, f.processed_at = "failed", error, position, utcnow()


def ingest_bytes(app: App, name: str, data: bytes, result: IngestResult, *, run_id: int | None = None) -> File:
    """Record one received file and process it unless it was processed before."""
    with app.transaction() as session:
        f, new = record_inbound(session, name=name, data=data, archive_dir=app.config.archive_dir, run_id=run_id)
        file_id, state = f.id, f.state
    if not new and state in ("processed", "failed"):
        result.duplicates.append(file_id)
        app.log.info("file_duplicate", file_id=file_id, name=name, state=state)
        return f
    if new:
        app.log.info("file_received", file_id=file_id, kind=f.kind, size=len(data))
    f, counts = process_file(app, file_id, only_states=("received",))
    (result.processed if f.state == "processed" else result.failed).append(f.id)
    result.add_counts(counts)
    return f


def ingest_mailbox(app: App, result: IngestResult, *, run_id: int | None = None) -> None:
    """Download every file waiting in the download folder; store, archive remotely, process."""
    folder = app.config.transport.download_dir
    with app.mailbox() as box:
        for remote in box.list(folder):
            data = box.get(folder, remote.name)
            ingest_bytes(app, remote.name, data, result, run_id=run_id)
            box.archive(folder, remote.name)
    process_pending(app, result)


def process_pending(app: App, result: IngestResult) -> None:
    """Finish files a crash left ``received`` (each claimed with SKIP LOCKED on PostgreSQL)."""
    while True:
        with app.transaction() as session:
            stmt = (select(File.id).where(File.direction == "in", File.state == "received")
                    .order_by(File.id).limit(1).with_for_update(skip_locked=True))
            file_id = session.scalars(stmt).first()
        if file_id is None:
            return
        f, counts = process_file(app, file_id, only_states=("received",))
        (result.processed if f.state == "processed" else result.failed).append(f.id)
        result.add_counts(counts)


def cmd_ingest(app: App, args: argparse.Namespace) -> int:
    result = IngestResult()
    if args.files:
        for name in args.files:
            path = Path(name)
            ingest_bytes(app, path.name, path.read_bytes(), result)
    else:
        ingest_mailbox(app, result)
    app.emit(result.as_dict(), lambda: _summary(result))
    return 1 if result.failed else 0


def _summary(result: IngestResult) -> str:
    lines = [f"processed {len(result.processed)} file(s), failed {len(result.failed)}, "
             f"already seen {len(result.duplicates)}"]
    if result.failed:
        lines.append("failed file ids: " + ", ".join(map(str, result.failed))
                     + "  (see `edi files show ID`, fix, then `edi replay ID`)")
    lines += [f"  {k}: {v}" for k, v in sorted(result.counts.items())]
    return "\n".join(lines)
