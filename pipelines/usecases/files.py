"""The file ledger for operators: list files, show one, replay one (`edi files list/show`, `edi replay`).

* :func:`list_files` and :func:`show_file` return :func:`file_dict` views (CONTRACT section 3's JSON).
* :func:`replay_file`: an inbound file not yet processed is processed again
  (:func:`pipelines.usecases.ingest.process_file`; ``force`` posts an 835 that does not balance or
  is addressed to another payee); an outbound file is sent again
  (:mod:`pipelines.usecases.resend`: an acknowledged one only with ``force``, as a new 837P without
  its adjudicated claims). Every replay is recorded in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from models import File
from pipelines.config import Config
from pipelines.errors import NotFound, UsageError
from pipelines.usecases.ingest import process_file
from pipelines.usecases.resend import resend_outbound
from pipelines.usecases.uow import UnitOfWork
from transports import Mailbox

__all__ = ["Replayed", "file_dict", "list_files", "replay_file", "show_file"]


def file_dict(f: File, *, detail: bool = False) -> dict[str, Any]:
    """A file record as JSON; ``detail`` adds the error position, attempts, archive path and sets."""
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


def list_files(uow: UnitOfWork, *, status: str | None = None, direction: str | None = None) -> list[dict[str, Any]]:
    """Every file sent or received, oldest first; optionally only one state or one direction."""
    with uow.transaction() as session:
        stmt = select(File).order_by(File.id)
        if status:
            stmt = stmt.where(File.state == status)
        if direction:
            stmt = stmt.where(File.direction == direction)
        return [file_dict(f) for f in session.scalars(stmt)]


def show_file(uow: UnitOfWork, file_id: int) -> dict[str, Any]:
    """One file with its error, position and acknowledged transaction sets; NotFound if there is none."""
    with uow.transaction() as session:
        f = session.get(File, file_id)
        if f is None:
            raise NotFound(f"no file with id {file_id}")
        return file_dict(f, detail=True)


@dataclass(frozen=True)
class Replayed:
    """What a replay did: the file's direction, name and state after it, its error and counts (inbound);
    outbound, the file that went out (``sent_file_id``: the same, or a new 837P), the claims in it and
    the adjudicated claims left out."""

    file_id: int
    direction: str
    name: str
    state: str
    error: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    sent_file_id: int | None = None
    claims: list[str] = field(default_factory=list)
    left_out: list[dict[str, str]] = field(default_factory=list)


def replay_file(config: Config, uow: UnitOfWork, file_id: int, *, force: bool = False,
                claim_ids: Sequence[str] = (), open_mailbox: Callable[[], Mailbox]) -> Replayed:
    """Process a stored inbound file again, or send an outbound one again (the mailbox is opened only then).

    An inbound file already processed is refused (UsageError): applying it again would post it twice.
    An outbound file: :func:`pipelines.usecases.resend.resend_outbound` (``force`` and ``claim_ids``).
    Either is recorded in the audit trail.
    """
    with uow.transaction() as session:
        f = session.get(File, file_id)
        if f is None:
            raise NotFound(f"no file with id {file_id}")
        direction, state = f.direction, f.state
    if direction == "out":
        r = resend_outbound(config, uow, file_id, force=force, claim_ids=claim_ids, open_mailbox=open_mailbox)
        return Replayed(file_id, direction, r.name, r.state, sent_file_id=r.sent_file_id, claims=r.claims,
                        left_out=r.left_out)
    if claim_ids:
        raise UsageError("--claim applies to an outbound 837P only")
    if state == "processed":
        raise UsageError(f"file {file_id} was processed already; replaying it would apply it twice")
    f, counts = process_file(config, uow, file_id, force=force, replay=True)
    return Replayed(f.id, direction, f.name, f.state, f.error, counts)
