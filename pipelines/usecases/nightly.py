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

import argparse
import fcntl
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update

from models import Run, RunStep, utcnow
from pipelines.cli.app import App
from pipelines.cli.table import render_table
from pipelines.errors import RunLocked, UsageError
from pipelines.usecases.ingest import IngestResult, ingest_mailbox
from pipelines.usecases.outbound import upload_pending

__all__ = ["STEPS", "cmd_run", "nightly_run", "run_lock"]

LOCK_KEY = 0x4544_4952_554E  # "EDIRUN"


def _file_counts(f: Any, key: str) -> dict[str, Any]:
    return {key: 1 if f is not None else 0, **({"file_id": f.id} if f is not None else {})}


def step_submit(app: App, run_id: int) -> dict[str, Any]:
    from pipelines.usecases.claims import code_and_scrub, submit_all

    with app.transaction() as session:
        counts = code_and_scrub(app, session)
    return {**counts, "files_837p": len(submit_all(app, run_id=run_id))}


def step_eligibility(app: App, run_id: int) -> dict[str, Any]:
    from pipelines.usecases.eligibility import request_eligibility

    return _file_counts(request_eligibility(app, run_id=run_id), "files_270")


def step_status(app: App, run_id: int) -> dict[str, Any]:
    from pipelines.usecases.claim_status import request_status

    return _file_counts(request_status(app, run_id=run_id), "files_276")


def step_upload(app: App, run_id: int) -> dict[str, Any]:
    return {"uploaded": len(upload_pending(app))}


def step_ingest(app: App, run_id: int) -> dict[str, Any]:
    result = IngestResult()
    ingest_mailbox(app, result, run_id=run_id)  # also finishes files a crash left received
    counts: dict[str, Any] = {"files_processed": len(result.processed), "files_failed": len(result.failed),
                              "files_duplicate": len(result.duplicates), **result.counts}
    if result.failed:
        counts["failed_file_ids"] = result.failed
    return counts


def step_report(app: App, run_id: int) -> dict[str, Any]:
    from pipelines.usecases.report import build_report

    return {"report": build_report(app)}


STEPS: dict[str, Callable[[App, int], dict[str, Any]]] = {
    "submit": step_submit,
    "eligibility": step_eligibility,
    "status": step_status,
    "upload": step_upload,
    "ingest": step_ingest,
    "report": step_report,
}


@contextmanager
def run_lock(app: App, *, wait: bool = False) -> Iterator[None]:
    """Hold the nightly lock: an advisory lock on PostgreSQL, a file lock on SQLite."""
    if app.engine.dialect.name == "postgresql":
        conn = app.engine.connect()
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
    db = app.engine.url.database or "edi"
    lock_path = Path(db + ".runlock") if db not in (":memory:", "") else app.config.base_dir / ".edi-run.lock"
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


def nightly_run(app: App, steps: list[str] | None = None, *, wait: bool = False,
                on_step: Callable[[str, dict[str, Any]], None] | None = None) -> tuple[Run, list[RunStep]]:
    """Run the steps in order; a failed step is recorded and the next one still runs."""
    names = steps or list(STEPS)
    with run_lock(app, wait=wait):
        with app.transaction() as session:
            # Holding the lock, any run still marked running was killed: say so.
            now = utcnow()
            stale = list(session.scalars(select(Run.id).where(Run.status == "running")))
            if stale:
                session.execute(update(RunStep).where(RunStep.run_id.in_(stale), RunStep.status == "running")
                                .values(status="interrupted", finished_at=now))
                session.execute(update(Run).where(Run.id.in_(stale)).values(status="interrupted", finished_at=now))
                app.log.warning("runs_interrupted", run_ids=stale)
            run = Run(as_of=app.as_of, status="running", host=socket.gethostname(), pid=os.getpid())
            session.add(run)
            session.flush()
            run_id = run.id
        app.log.info("run_started", run_id=run_id, steps=names, as_of=str(app.as_of))
        failed = False
        for name in names:
            with app.transaction() as session:
                step = RunStep(run_id=run_id, name=name, status="running")
                session.add(step)
                session.flush()
                step_id = step.id
            status, counts, error = "ok", {}, None
            try:
                counts = STEPS[name](app, run_id) or {}
                if counts.get("files_failed"):
                    status = "failed"
            except Exception as exc:  # recorded; the run goes on with the next step
                status, error = "failed", f"{type(exc).__name__}: {exc}"
                app.log.error("run_step_failed", run_id=run_id, step=name, error=error)
                if app.debug:
                    raise
            failed = failed or status == "failed"
            with app.transaction() as session:
                done = session.get(RunStep, step_id)
                assert done is not None
                done.status, done.counts, done.error, done.finished_at = status, counts, error, utcnow()
            app.log.info("run_step_finished", run_id=run_id, step=name, status=status,
                         **{k: v for k, v in counts.items() if isinstance(v, int)})
            if on_step:
                on_step(name, {"status": status, "counts": counts, "error": error})
        with app.transaction() as session:
            final = session.get(Run, run_id)
            assert final is not None
            final.status, final.finished_at = ("failed" if failed else "ok"), utcnow()
            step_rows = list(final.steps)
        app.log.info("run_finished", run_id=run_id, status=final.status)
        return final, step_rows


def cmd_run(app: App, args: argparse.Namespace) -> int:
    steps = None
    if args.steps:
        steps = [s.strip() for s in args.steps.split(",") if s.strip()]
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise UsageError(f"unknown step(s) {', '.join(unknown)}; steps are {', '.join(STEPS)}")

    def progress(name: str, info: dict[str, Any]) -> None:
        if app.progress:
            app.out.write(f"  {name:<12} {info['status']}\n")
            app.out.flush()

    run, step_rows = nightly_run(app, steps, wait=args.wait, on_step=progress)
    data = {"run_id": run.id, "status": run.status, "as_of": str(run.as_of),
            "steps": [{"name": s.name, "status": s.status, "counts": s.counts, "error": s.error}
                      for s in step_rows]}

    def text() -> str:
        rows = []
        for s in step_rows:
            counts = {k: v for k, v in (s.counts or {}).items() if k != "report"}
            rows.append([s.name, s.status, ", ".join(f"{k}={v}" for k, v in counts.items()), s.error or ""])
        return f"run {run.id} ({run.as_of}): {run.status}\n" + render_table(["step", "status", "counts", "error"],
                                                                              rows)

    app.emit(data, text)
    return 0 if run.status == "ok" else 1
