"""Outbound files: control numbers and ledger records for X12 we wrote, and the upload of what waits.

A file is recorded ``built`` (archived, control numbers kept) in the same transaction that marks
its claims or inquiries as sent (:func:`write_outbound`), and uploaded afterwards
(:func:`upload_pending`, :func:`upload_file`). Upload is idempotent: a file already in the mailbox
with the same size (a crash between upload and the state change) is marked ``sent`` without being
written twice. :class:`InquiryFile` is what the 270 and 276 requests return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.x837p import EnvelopeSpec
from models import File, utcnow
from pipelines.config import Config
from pipelines.errors import NotFound
from pipelines.logs import get_logger
from pipelines.usecases.ledger import next_control, read_archived_bytes, record_outbound
from pipelines.usecases.uow import UnitOfWork, xact_lock
from transports import Mailbox

__all__ = ["Controls", "InquiryFile", "allocate_controls", "check_envelope", "file_name", "upload_file",
           "upload_pending", "write_outbound"]

log = get_logger("edi")


class Controls:
    """ISA13, GS06 and the first ST02 reserved for one outbound file."""

    def __init__(self, isa: int, gs: int, st: int) -> None:
        self.isa, self.gs, self.st = isa, gs, st

    def st_control(self, i: int = 0) -> str:
        return f"{self.st + i:04d}"

    def envelope(self, *, created: datetime, usage: str) -> EnvelopeSpec:
        """The envelope of the file these numbers were reserved for (first ST02: :meth:`st_control`)."""
        return EnvelopeSpec(isa_control=self.isa, gs_control=self.gs, st_control=self.st_control(), created=created,
                            usage=usage)


def check_envelope(created: datetime, usage: str = "T") -> EnvelopeSpec:
    """Placeholder numbers for building one claim or inquiry alone, to see whether the builder refuses it."""
    return EnvelopeSpec(isa_control=1, gs_control=1, st_control="0001", created=created, usage=usage)


@dataclass
class InquiryFile:
    """What a 270 or 276 request did: the file built (None when nothing was due), the inquiries in
    it and the ones skipped (with the builder's reason)."""

    file: File | None
    sent: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


_OUTBOUND_LOCK = 0x4544434F
"""The first key of the lock of the workers that decide what goes out ("EDCO", see :func:`outbound_lock`)."""


def outbound_lock(session: Session, kind: str) -> None:
    """Hold, until this transaction ends, the lock of the workers that decide what goes into ``kind``
    files (:func:`pipelines.usecases.uow.xact_lock`). 837P: coding and scrubbing, next payers' legs,
    and each file's claims marked submitted; 270 and 276: choosing who is asked about.

    Without it, two workers at once (an `edi claims submit` beside the nightly run, two of them)
    would both find the same work due: two claims for one encounter, a claim being sent coded again
    and put back to ready (claims billed twice), the same inquiry sent twice. Taken in turn, each
    sees what the other committed.
    """
    xact_lock(session, _OUTBOUND_LOCK, kind.encode())


def allocate_controls(session: Session, sender: str, n_sets: int = 1) -> Controls:
    return Controls(next_control(session, sender, "ISA13"), next_control(session, sender, "GS06"),
                    next_control(session, sender, "ST02", n_sets))


def file_name(kind: str, sender: str, isa: int) -> str:
    return f"{sender}_{kind}_{isa:09d}.x12"


def write_outbound(config: Config, session: Session, *, kind: str, text: str, controls: Controls,
                   st_controls: list[tuple[str, str]], run_id: int | None = None) -> File:
    """Record a built file in the ledger (state ``built``); the upload step sends it."""
    ch = config.clearinghouse
    return record_outbound(
        session, name=file_name(kind, ch.submitter_id, controls.isa), data=text.encode("latin-1"),
        kind=kind, archive_dir=config.archive_dir, sender=ch.submitter_id, receiver=ch.receiver_id,
        isa_control=controls.isa, gs_control=controls.gs, st_controls=st_controls, run_id=run_id)


def upload_file(config: Config, uow: UnitOfWork, mailbox: Mailbox, file_id: int, *, force: bool = False) -> File:
    """Put one outbound file into the upload folder and mark it ``sent`` (``force``: send it again)."""
    folder = config.transport.upload_dir
    with uow.transaction() as session:
        f = session.get(File, file_id, with_for_update=True)
        if f is None or f.direction != "out":
            raise NotFound(f"no outbound file with id {file_id}")
        if f.state != "built" and not force:
            return f
        data = read_archived_bytes(f)
        if force or mailbox.exists(folder, f.name) != len(data):
            mailbox.put(folder, f.name, data)
            log.info("file_uploaded", file_id=f.id, kind=f.kind, size=len(data))
        else:
            log.info("file_already_uploaded", file_id=f.id, kind=f.kind)
        f.attempts = (f.attempts or 0) + 1
        if f.state == "built":
            f.state = "sent"
        f.sent_at = utcnow()
        return f


def upload_pending(config: Config, uow: UnitOfWork, mailbox: Mailbox) -> list[int]:
    """Upload every outbound file still ``built``; returns their ids."""
    with uow.transaction() as session:
        ids = list(session.scalars(select(File.id).where(File.direction == "out", File.state == "built")
                                   .order_by(File.id)))
    for file_id in ids:
        upload_file(config, uow, mailbox, file_id)
    return ids
