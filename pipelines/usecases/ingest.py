"""Inbound files: store, sniff, parse and apply, one database transaction per file.

A file is recorded (raw bytes archived, sha256, kind, control numbers) before it is processed.
Applying it happens inside a savepoint: all of it or none of it. A failure leaves the file
``failed`` with its error and position, and the caller goes on with the next file: one bad file
(empty, binary, not X12, an envelope cut short, an 835 for another payee) never stops a batch.
A file larger than ``[limits] max_inbound_bytes`` is recorded and archived whole (it is evidence,
and `edi replay` processes it once the limit is raised) but failed without being parsed.

* :func:`ingest_bytes` records one received file and processes it; :func:`ingest_mailbox` does that
  for every file in the mailbox's download folder; :func:`process_pending` finishes files a crash
  left ``received``; :func:`process_file` applies one stored file (also for ``edi replay``).
* :data:`APPLIERS`: the applier of each inbound kind (see :mod:`pipelines.usecases.applier`).

Several workers (``edi ingest`` or the nightly ingest step, on one or several machines) can share one
PostgreSQL. A file is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on its ``files`` row, and
that row lock is held by the very transaction that parses, applies, posts and marks the file, until
it commits: no two workers ever process one file, a file another worker holds is skipped (counted
as ``taken``), and the file of a worker that died (its connection gone, its transaction rolled
back) is still ``received`` and taken by the next one (read back from the archive; a file just
downloaded is processed from the bytes in hand). Recording is serialised per content (a
transaction-level advisory lock on a checksum of the bytes), so two workers that download the same
file store it once. A file gone from the mailbox before it could be read (another worker archived
it) is skipped. On SQLite the locks do nothing: one process works at a time there.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from edi.errors import EdiError
from edi.x12 import open_x12
from models import File, Remittance, UnmatchedPayment, utcnow
from pipelines.config import Config
from pipelines.errors import ApplyError, NotFound, UsageError
from pipelines.logs import get_logger
from pipelines.usecases.acks import apply_999, apply_ta1
from pipelines.usecases.applier import Applier, ApplyContext
from pipelines.usecases.audit import record_audit
from pipelines.usecases.eligibility_responses import apply_271
from pipelines.usecases.ledger import printable, read_archived_bytes, record_inbound
from pipelines.usecases.posting import apply_835
from pipelines.usecases.status_responses import apply_277, apply_277ca
from pipelines.usecases.uow import UnitOfWork, xact_lock
from transports import Mailbox, TransferError

__all__ = ["APPLIERS", "ApplyContext", "IngestResult", "ingest_bytes", "ingest_mailbox", "process_file",
           "process_pending", "size_limit"]

log = get_logger("edi")

APPLIERS: dict[str, Applier] = {
    "835": apply_835,
    "999": apply_999,
    "TA1": apply_ta1,
    "277CA": apply_277ca,
    "277": apply_277,
    "271": apply_271,
}
"""File kind (:func:`pipelines.usecases.ledger.sniff_kind`) -> its applier; other kinds fail."""


@dataclass
class IngestResult:
    """File ids processed, failed, already seen, and taken (processed by another worker at the same
    time: it held the file, or finished it while this one was reading it), and the appliers' counts summed."""

    processed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add_counts(self, counts: dict[str, Any]) -> None:
        for k, v in counts.items():
            if isinstance(v, int):
                self.counts[k] = self.counts.get(k, 0) + v

    def add_file(self, f: File, counts: dict[str, Any]) -> None:
        """One processed (or failed) file and its counts."""
        (self.processed if f.state == "processed" else self.failed).append(f.id)
        self.add_counts(counts)

    def as_dict(self) -> dict[str, Any]:
        return {"processed": self.processed, "failed": self.failed, "duplicates": self.duplicates,
                "taken": self.taken, "counts": self.counts}


def _not_inbound(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """A file whose kind we do not apply: say why, with the position when it is not valid X12."""
    for ts in open_x12(data):  # raises edi.errors.EdiError, with its position, for broken X12
        if not ts.set_id:
            raise ApplyError("ST segment without a transaction set identifier (ST01)",
                             {"segment_number": ts.segment_number, "segment_id": "ST", "element": 1})
        raise ApplyError(f"transaction set {ts.set_id} ({ts.implementation}) is not processed inbound "
                         "(expected 835, 999, TA1, 277CA, 277 or 271)",
                         {"segment_number": ts.segment_number, "segment_id": "ST", "element": 1})
    raise ApplyError("the file holds no transaction set and no TA1")


def size_limit(config: Config) -> int:
    """The largest inbound file processed, in bytes (``[limits] max_inbound_bytes``)."""
    return int(getattr(config, "max_inbound_bytes", 100 * 2**20))


def _too_large(config: Config, f: File) -> str | None:
    """Why ``f`` is refused for its size, or None when it is within the limit."""
    limit = size_limit(config)
    if (f.size or 0) <= limit:
        return None
    return (f"{f.size} bytes, over the limit of {limit} ([limits] max_inbound_bytes); the file is kept in the "
            f"archive: raise the limit, then `edi replay {f.id}`")


def process_file(config: Config, uow: UnitOfWork, file_id: int, *, force: bool = False,
                 replay: bool = False) -> tuple[File, dict[str, Any]]:
    """Parse and apply one stored inbound file in its own transaction; never raises for bad data.

    The file's row is locked for the whole transaction (a worker holding it is waited for). A file
    over the size limit (:func:`size_limit`) fails without being read. ``replay`` (`edi replay`): a
    file found processed once the lock is ours is refused (UsageError: applying it again would post
    it twice), and an audit event (action ``replay``, ``forced`` = ``force``) is recorded in the
    same transaction.
    """
    with uow.transaction() as session:
        f = session.get(File, file_id, with_for_update=True)
        if f is None:
            raise NotFound(f"no file with id {file_id}")
        if replay and f.state == "processed" and not _awaits_claims(session, f):
            raise UsageError(f"file {file_id} was processed already; replaying it would apply it twice")
        return f, _process(config, session, f, force=force, replay=replay)


def _awaits_claims(session: Session, f: File) -> bool:
    """Whether a processed 835 kept claims unmatched that a replay may now post (its duplicate check
    posts nothing twice: see :func:`pipelines.usecases.posting.apply_835`)."""
    return f.kind == "835" and session.scalar(
        select(UnmatchedPayment.id).join(Remittance, Remittance.id == UnmatchedPayment.remittance_id)
        .where(Remittance.file_id == f.id, UnmatchedPayment.resolved.is_(False)).limit(1)) is not None


def _process(config: Config, session: Session, f: File, *, data: bytes | None = None, force: bool = False,
             replay: bool = False, retry: bool = False) -> dict[str, Any]:
    """Process ``f``, whose row the caller's transaction has locked; the caller commits. ``data``: its
    bytes, when the caller has them (else they are read from the archive). ``retry``: a deadlock with
    another worker's transaction is raised (the caller tries again) instead of failing the file."""
    counts: dict[str, Any] = {}
    f.attempts = (f.attempts or 0) + 1
    refused = _too_large(config, f)
    if refused is not None:
        _mark_failed(f, refused, {"size": f.size, "limit": size_limit(config)})
    else:
        try:
            data = read_archived_bytes(f) if data is None else data
        except OSError as exc:
            _mark_failed(f, f"the archived copy cannot be read: {exc}", {"archive_path": f.archive_path})
        else:
            counts = _apply(ApplyContext(session, f, config, force), data, retry=retry)
    log.info("file_processed" if f.state == "processed" else "file_failed", file_id=f.id,
             kind=f.kind, state=f.state, **{k: v for k, v in counts.items() if isinstance(v, int)})
    if replay:
        record_audit(session, "replay", f"file {f.id}",
                     {"direction": "in", "kind": f.kind, "state": f.state,
                      "counts": {k: v for k, v in counts.items() if isinstance(v, int)}}, forced=force)
    return counts


_ATTEMPTS = 3
_CROSSED = ("40P01", "40001")
"""SQLSTATEs of a transaction that crossed another one (deadlock detected, serialization failure)."""


def _crossed(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _CROSSED


def _claim_received(config: Config, uow: UnitOfWork, result: IngestResult, file_id: int | None = None,
                    data: bytes | None = None) -> File | None:
    """Claim a ``received`` inbound file (``file_id``, with its bytes ``data``; else the oldest one no
    worker holds, read from the archive) with ``FOR UPDATE SKIP LOCKED`` and process it in that
    transaction, the row lock held until commit.

    Returns the file processed, or None when there was nothing to claim: no received file left, or
    ``file_id`` is held by another worker or was finished by one (then it is counted as ``taken``).
    A transaction rolled back by a deadlock with another worker's (both posting to one claim) is
    tried again, up to three times; the last try fails the file with the error instead.
    """
    for attempt in range(1, _ATTEMPTS):
        try:
            return _claim_once(config, uow, result, file_id, data, retry=True)
        except DBAPIError as exc:
            if not _crossed(exc):
                raise
            log.warning("file_retry", file_id=file_id, attempt=attempt, sqlstate=getattr(exc.orig, "sqlstate", None))
    return _claim_once(config, uow, result, file_id, data, retry=False)


def _claim_once(config: Config, uow: UnitOfWork, result: IngestResult, file_id: int | None, data: bytes | None,
                *, retry: bool) -> File | None:
    with uow.transaction() as session:
        stmt = select(File).with_for_update(skip_locked=True)
        if file_id is not None:
            stmt = stmt.where(File.id == file_id)
        else:
            stmt = stmt.where(File.direction == "in", File.state == "received").order_by(File.id).limit(1)
        f = session.scalars(stmt).first()
        if f is None or f.state != "received":
            if file_id is not None:
                result.taken.append(file_id)
                log.info("file_taken", file_id=file_id)
            return None
        counts = _process(config, session, f, data=data, retry=retry)
    result.add_file(f, counts)
    return f


def _apply(ctx: ApplyContext, data: bytes, *, retry: bool = False) -> dict[str, Any]:
    """Run the file's applier inside a savepoint; the file ends ``processed``, or ``failed`` with the
    error and its position (a bug's traceback is kept too, so one bad file never stops a batch).
    ``retry``: a deadlock with another worker is raised, for the caller to try the file again."""
    f = ctx.file
    counts: dict[str, Any] = {}
    try:
        with ctx.session.begin_nested():
            applier = APPLIERS.get(f.kind, _not_inbound)
            counts = applier(ctx, data) or {}
    except (EdiError, ApplyError) as exc:
        position = exc.as_dict() if isinstance(exc, EdiError) else exc.position
        _mark_failed(f, str(exc), position)
    except Exception as exc:  # a bug must not stop the batch; keep the evidence
        if retry and _crossed(exc):
            raise
        _mark_failed(f, f"internal error: {type(exc).__name__}: {exc}", {"traceback": traceback.format_exc()})
    else:
        f.state, f.error, f.error_position, f.processed_at = "processed", None, None, utcnow()
    return counts


def _mark_failed(f: File, error: str, position: dict[str, Any] | None) -> None:
    """The file failed: its error and position, made safe to store (no NUL or control characters)."""
    f.state, f.error, f.processed_at = "failed", printable(error), utcnow()
    f.error_position = _safe_json(position) if position else position


def _safe_json(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {str(k): _safe_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe_json(v) for v in value]
    return value


_RECORD_LOCK = 0x45444946
"""The first key of the two-key advisory locks :func:`_lock_content` takes ("EDIF")."""


def _lock_content(session: Session, data: bytes) -> None:
    """PostgreSQL: two workers recording the same bytes at once store them once (the second finds the
    first's record), see :func:`xact_lock`."""
    xact_lock(session, _RECORD_LOCK, data)


def ingest_bytes(config: Config, uow: UnitOfWork, name: str, data: bytes, result: IngestResult, *,
                 run_id: int | None = None) -> File:
    """Record one received file and process it, unless it was processed before or another worker
    has it (:func:`_claim_received`). Returns the file's record as this worker last saw it."""
    with uow.transaction() as session:
        _lock_content(session, data)
        f, new = record_inbound(session, name=name, data=data, archive_dir=config.archive_dir, run_id=run_id)
        file_id, state = f.id, f.state
    if not new and state in ("processed", "failed"):
        result.duplicates.append(file_id)
        log.info("file_duplicate", file_id=file_id, name=name, state=state)
        return f
    if new:
        log.info("file_received", file_id=file_id, kind=f.kind, size=len(data))
    return _claim_received(config, uow, result, file_id, data) or f


def ingest_mailbox(config: Config, uow: UnitOfWork, mailbox: Mailbox, result: IngestResult, *,
                   run_id: int | None = None) -> None:
    """Download every file waiting in the download folder; store, process, archive remotely.
    Then finish any file a crash left ``received`` (:func:`process_pending`).

    A file that is gone by the time it is read (another worker archived it after the listing) is
    skipped; archiving a file another worker archived already is harmless.
    """
    folder = config.transport.download_dir
    for remote in mailbox.list(folder):
        data = _download(mailbox, folder, remote.name)
        if data is None:
            continue
        ingest_bytes(config, uow, remote.name, data, result, run_id=run_id)
        mailbox.archive(folder, remote.name)
    process_pending(config, uow, result)


def _download(mailbox: Mailbox, folder: str, name: str) -> bytes | None:
    """The file's bytes, or None when it has left the folder since it was listed."""
    try:
        return mailbox.get(folder, name)
    except TransferError:
        if mailbox.exists(folder, name) is not None:
            raise
        log.info("file_gone", folder=folder, name=name)
        return None


def process_pending(config: Config, uow: UnitOfWork, result: IngestResult) -> None:
    """Finish files a crash left ``received``, each claimed with SKIP LOCKED (see :func:`_claim_received`)."""
    while _claim_received(config, uow, result) is not None:
        pass
