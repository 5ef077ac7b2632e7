"""`edi files list/show` and `edi replay`: the file ledger for operators."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select

from models import File
from pipelines.cli.app import App
from pipelines.cli.table import render_table
from pipelines.errors import NotFound, UsageError

__all__ = ["cmd_list", "cmd_replay", "cmd_show", "file_dict"]


def file_dict(f: File, *, detail: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {
        "file_id": f.id, "name": f.name, "direction": f.direction, "kind": f.kind, "state": f.state,
        "size": f.size, "sha256": f.sha256, "isa_control": f.isa_control, "gs_control": f.gs_control,
        "created_at": f.created_at.isoformat() if f.created_at else None,
        "sent_at": f.sent_at.isoformat() if f.sent_at else None,
        "processed_at": f.processed_at.isoformat() if f.processed_at else None,
        "error": f.error,
    }
    if detail:
        pos = dict(f.error_position or {})
        pos.pop("traceback", None)
        d["error_position"] = pos or None
        d["attempts"] = f.attempts
        d["archive_path"] = f.archive_path
        d["transactions"] = [
            {"set": t.set_id, "gs_control": t.gs_control, "st_control": t.st_control, "state": t.state,
             "errors": t.ack_errors or []} for t in f.transactions]
    return d


def cmd_list(app: App, args: argparse.Namespace) -> int:
    with app.transaction() as session:
        stmt = select(File).order_by(File.id)
        if args.status:
            stmt = stmt.where(File.state == args.status)
        if getattr(args, "direction", None):
            stmt = stmt.where(File.direction == args.direction)
        files = [file_dict(f) for f in session.scalars(stmt)]
    app.emit({"files": files}, lambda: render_table(
        ["id", "dir", "kind", "state", "name", "error"],
        [[f["file_id"], f["direction"], f["kind"], f["state"], f["name"], (f["error"] or "")[:70]] for f in files])
        if files else "no files")
    return 0


def cmd_show(app: App, args: argparse.Namespace) -> int:
    with app.transaction() as session:
        f = session.get(File, args.file_id)
        if f is None:
            raise NotFound(f"no file with id {args.file_id}")
        d = file_dict(f, detail=True)

    def text() -> str:
        lines = [f"file {d['file_id']}: {d['name']}", f"  {d['direction']} {d['kind']}  state {d['state']}"
                 f"  size {d['size']}  ISA13 {d['isa_control']}  GS06 {d['gs_control']}"]
        if d["error"]:
            lines.append(f"  error: {d['error']}")
        for t in d["transactions"]:
            lines.append(f"  {t['set']} ST02 {t['st_control']}: {t['state'] or 'no acknowledgment yet'}")
            for e in t["errors"]:
                lines.append(f"    - {e.get('text') or e}")
        return "\n".join(lines)

    app.emit(d, text)
    return 0


def cmd_replay(app: App, args: argparse.Namespace) -> int:
    """Process a stored inbound file again, or re-send an outbound one."""
    from pipelines.usecases.ingest import process_file
    from pipelines.usecases.outbound import upload_file

    with app.transaction() as session:
        f = session.get(File, args.file_id)
        if f is None:
            raise NotFound(f"no file with id {args.file_id}")
        direction, state = f.direction, f.state
    if direction == "out":
        f = upload_file(app, args.file_id, force=True)
        app.emit({"file_id": f.id, "state": f.state}, f"file {f.id} sent again ({f.name})")
        return 0
    if state == "processed":
        raise UsageError(f"file {args.file_id} was processed already; replaying it would apply it twice")
    f, counts = process_file(app, args.file_id, force=args.force)
    app.emit({"file_id": f.id, "state": f.state, "error": f.error, "counts": counts},
             f"file {f.id}: {f.state}" + (f" - {f.error}" if f.error else ""))
    return 0 if f.state == "processed" else 1
