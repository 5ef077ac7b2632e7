"""`edi run`: the nightly batch.

Steps, in order: submit (code and scrub, 837P built), eligibility (270s), status (276s), upload,
ingest (download every inbound file, store, parse, apply, post), report. Each run and step is
recorded (table ``runs``/``run_steps``) with counts and outcome. One run at a time: a PostgreSQL
advisory lock, or a file lock beside the SQLite database; the second run waits (``--wait``) or
exits. Every step starts from what the database says, so a run killed anywhere can be started
again: built files not yet uploaded are uploaded (once: a file already in the mailbox with the
same size is only marked sent), downloaded files not yet processed are processed, and a
remittance already posted is recognised by its payer and trace number.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update

from models import Run, RunStep, utcnow
from pipelines.config import Config
from pipelines.errors import RunLocked, UsageError
from pipelines.logs import get_logger
from pipelines.usecases.ingest import IngestResult, ingest_mailbox
from pipelines.usecases.mailbox import open_configured_mailbox
from pipelines.usecases.outbound import upload_pending
from pipelines.usecases.uow import UnitOfWork
from transports import Mailbox

__all__ = ["STEPS", "check_steps", "nightly_run", "run_lock"]

LOCK_KEY = 0x4544_4952_554E  # "EDIRUN"
log = get_logger("edi")


def _file_counts(f: Any, key: str) -> dict[str, Any]:
    return {key: 1 if f is not None else 0, **({"file_id": f.id} if f is not None else {})}


@dataclass(frozen=True)
class _Run:
    """What every step gets: the run's explicit dependencies."""

    config: Config
    uow: UnitOfWork
    open_mailbox: Callable[[], Mailbox]
    as_of: date
    run_id: int


def step_submit(r: _Run) -> dict[str, Any]:
    from pipelines.usecases.claims import code_and_scrub
    from pipelines.usecases.cob import create_next_legs
    from pipelines.usecases.submit import submit_all

    with r.uow.transaction() as session:
        legs = create_next_legs(r.config, session, as_of=r.as_of)  # secondary/tertiary claims first
        counts = code_and_scrub(r.config, session, as_of=r.as_of) | ({"next_legs": legs} if legs else {})
    return {**counts, "files_837p": len(submit_all(r.config, r.uow, as_of=r.as_of, run_id=r.run_id))}


def step_eligibility(r: _Run) -> dict[str, Any]:
    from pipelines.usecases.eligibility import request_eligibility

    return _file_counts(request_eligibility(r.config, r.uow, as_of=r.as_of, run_id=r.run_id), "files_270")


def step_status(r: _Run) -> dict[str, Any]:
    from pipelines.usecases.claim_status import request_status

    return _file_counts(request_status(r.config, r.uow, as_of=r.as_of, run_id=r.run_id), "files_276")


def step_upload(r: _Run) -> dict[str, Any]:
    with closing(r.open_mailbox()) as mailbox:
        return {"uploaded": len(upload_pending(r.config, r.uow, mailbox))}


def step_ingest(r: _Run) -> dict[str, Any]:
    result = IngestResult()
    with closing(r.open_mailbox()) as mailbox:  # also finishes files a crash left received
        ingest_mailbox(r.config, r.uow, mailbox, result, run_id=r.run_id)
    counts: dict[str, Any] = {"files_processed": len(result.processed), "files_failed": len(result.failed),
                              "files_duplicate": len(result.duplicates), "files_taken": len(result.taken),
                              **result.counts}
    if result.failed:
        counts["failed_file_ids"] = result.failed
    return counts


def step_report(r: _Run) -> dict[str, Any]:
    from pipelines.usecases.report import build_report

    return {"report": build_report(r.config, r.uow, as_of=r.as_of)}


STEPS: dict[str, Callable[[_Run], dict[str, Any]]] = {
    "submit": step_submit,
    "eligibility": step_eligibility,
    "status": step_status,
    "upload": step_upload,
    "ingest": step_ingest,
    "report": step_report,
}


def check_steps(steps: list[str]) -> list[str]:
    """``steps`` if every name is a step, else a UsageError listing the valid ones."""
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise UsageError(f"unknown step(s) {', '.join(unknown)}; steps are {', '.join(STEPS)}")
    return steps


@contextmanager
def run_lock(config: Config, uow: UnitOfWork, *, wait: bool = False) -> Iterator[None]:
    """Hold the nightly lock: an advisory lock on PostgreSQL, a file lock on SQLite."""
    engine = uow.engine
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        try:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
            elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
                raise RunLocked("another `edi run` is in progress on this database; nothing was done "
                                "(use --wait to wait for it)")
            conn.commit()
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                conn.commit()
            finally:
                conn.close()
        return
    db = engine.url.database or "edi"
    lock_path = Path(db + ".runlock") if db not in (":memory:", "") else config.base_dir / ".edi-run.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise RunLocked("another `edi run` is in progress on this database; nothing was done "
                            "(use --wait to wait for it)") from None
        yield
    finally:
        os.close(fd)


def _start(uow: UnitOfWork, as_of: date) -> int:
    """Record a new run; holding the lock, any run still marked running was killed: say so."""
    with uow.transaction() as session:
        now = utcnow()
        stale = list(session.scalars(select(Run.id).where(Run.status == "running")))
        if stale:
            session.execute(update(RunStep).where(RunStep.run_id.in_(stale), RunStep.status == "running")
                            .values(status="interrupted", finished_at=now))
            session.execute(update(Run).where(Run.id.in_(stale)).values(status="interrupted", finished_at=now))
            log.warning("runs_interrupted", run_ids=stale)
        run = Run(as_of=as_of, status="running", host=socket.gethostname(), pid=os.getpid())
        session.add(run)
        session.flush()
        return run.id


def _step(r: _Run, name: str, *, debug: bool) -> tuple[str, dict[str, Any], str | None]:
    """Run one step, recorded before and after; a failure is recorded, not raised (unless debug)."""
    with r.uow.transaction() as session:
        step = RunStep(run_id=r.run_id, name=name, status="running")
        session.add(step)
        session.flush()
        step_id = step.id
    status, counts, error = "ok", {}, None
    try:
        counts = STEPS[name](r) or {}
        if counts.get("files_failed"):
            status = "failed"
    except Exception as exc:  # recorded; the run goes on with the next step
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        log.error("run_step_failed", run_id=r.run_id, step=name, error=error)
        if debug:
            raise
    with r.uow.transaction() as session:
        done = session.get(RunStep, step_id)
        assert done is not None
        done.status, done.counts, done.error, done.finished_at = status, counts, error, utcnow()
    log.info("run_step_finished", run_id=r.run_id, step=name, status=status,
             **{k: v for k, v in counts.items() if isinstance(v, int)})
    return status, counts, error


def nightly_run(config: Config, uow: UnitOfWork, *, as_of: date, steps: list[str] | None = None,
                wait: bool = False, open_mailbox: Callable[[], Mailbox] | None = None, debug: bool = False,
                on_step: Callable[[str, dict[str, Any]], None] | None = None) -> tuple[Run, list[RunStep]]:
    """Run the steps in order; a failed step is recorded and the next one still runs."""
    names = check_steps(steps) if steps else list(STEPS)
    with run_lock(config, uow, wait=wait):
        run_id = _start(uow, as_of)
        log.info("run_started", run_id=run_id, steps=names, as_of=str(as_of))
        r = _Run(config, uow, open_mailbox or (lambda: open_configured_mailbox(config)), as_of, run_id)
        failed = False
        for name in names:
            status, counts, error = _step(r, name, debug=debug)
            failed = failed or status == "failed"
            if on_step:
                on_step(name, {"status": status, "counts": counts, "error": error})
        with uow.transaction() as session:
            final = session.get(Run, run_id)
            assert final is not None
            final.status, final.finished_at = ("failed" if failed else "ok"), utcnow()
            step_rows = list(final.steps)
        log.info("run_finished", run_id=run_id, status=final.status)
        return final, step_rows
