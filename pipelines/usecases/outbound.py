"""Outbound files: build records for X12 we wrote, and upload what is waiting.

A file is recorded ``built`` (archived, control numbers kept) in the same transaction that marks
its claims or inquiries as sent, and uploaded afterwards. Upload is idempotent: a file already in
the mailbox with the same size (a crash between upload and the state change) is marked ``sent``
without being written twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import File, utcnow
from pipelines.cli.app import App
from pipelines.usecases.ledger import next_control, read_archived_bytes, record_outbound

__all__ = ["Controls", "allocate_controls", "report_request", "upload_file", "upload_pending", "write_outbound"]


class Controls:
    """ISA13, GS06 and the first ST02 reserved for one outbound file."""

    def __init__(self, isa: int, gs: int, st: int) -> None:
        self.isa, self.gs, self.st = isa, gs, st

    def st_control(self, i: int = 0) -> str:
        return f"{self.st + i:04d}"


def allocate_controls(session: Session, sender: str, n_sets: int = 1) -> Controls:
    return Controls(next_control(session, sender, "ISA13"), next_control(session, sender, "GS06"),
                    next_control(session, sender, "ST02", n_sets))


def file_name(kind: str, sender: str, isa: int) -> str:
    return f"{sender}_{kind}_{isa:09d}.x12"


def write_outbound(app: App, session: Session, *, kind: str, text: str, controls: Controls,
                   st_controls: list[tuple[str, str]], run_id: int | None = None) -> File:
    """Record a built file in the ledger (state ``built``); the upload step sends it."""
    ch = app.config.clearinghouse
    return record_outbound(
        session, name=file_name(kind, ch.submitter_id, controls.isa), data=text.encode("latin-1"),
        kind=kind, archive_dir=app.config.archive_dir, sender=ch.submitter_id, receiver=ch.receiver_id,
        isa_control=controls.isa, gs_control=controls.gs, st_controls=st_controls, run_id=run_id)




def upload_file(app: App, file_id: int, *, force: bool = False) -> File:
    """Put one outbound file into the upload folder and mark it ``sent``."""
    folder = app.config.transport.upload_dir
    with app.transaction() as session:
        f = session.get(File, file_id, with_for_update=True)
        if f is None or f.direction != "out":
            from pipelines.errors import NotFound

            raise NotFound(f"no outbound file with id {file_id}")
        if f.state != "built" and not force:
            return f
        data = read_archived_bytes(f)
        with app.mailbox() as box:
            if force or box.exists(folder, f.name) != len(data):
                box.put(folder, f.name, data)
                app.log.info("file_uploaded", file_id=f.id, kind=f.kind, size=len(data))
            else:
                app.log.info("file_already_uploaded", file_id=f.id, kind=f.kind)
        f.attempts = (f.attempts or 0) + 1
        if f.state == "built":
            f.state = "sent"
        f.sent_at = utcnow()
        return f


def upload_pending(app: App) -> list[int]:
    """Upload every outbound file still ``built``; returns their ids."""
    with app.transaction() as session:
        ids = list(session.scalars(select(File.id).where(File.direction == "out", File.state == "built")
                                   .order_by(File.id)))
    for file_id in ids:
        upload_file(app, file_id)
    return ids


def report_request(app: App, f: File | None, sent: list[dict[str, Any]], skipped: list[dict[str, Any]], *,
                   nothing: str, heading: Callable[[File], str], sent_line: Callable[[dict[str, Any]], str],
                   skipped_line: Callable[[dict[str, Any]], str]) -> int:
    """Upload what is waiting and print what an inquiry command (270, 276) did; exit 1 if any was skipped."""
    uploaded = upload_pending(app)
    data = {"file_id": f.id if f else None, "file_name": f.name if f else None, "inquiries": sent,
            "skipped": skipped, "uploaded_file_ids": uploaded}

    def text() -> str:
        lines = [nothing] if f is None else [heading(f), *map(sent_line, sent)]
        lines += map(skipped_line, skipped)
        if uploaded:
            lines.append("uploaded file id(s): " + ", ".join(map(str, uploaded)))
        return "\n".join(lines)

    app.emit(data, text)
    return 1 if skipped else 0
