"""Operating commands: init, the nightly run, the report, the demo."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from pipelines.cli.app import App, Command
from pipelines.cli.report import cmd_report
from pipelines.cli.table import render_table
from pipelines.demo import MARKER, render_summary, run_demo
from pipelines.errors import UsageError
from pipelines.logs import configure_logging
from pipelines.usecases.nightly import check_steps, nightly_run
from pipelines.usecases.schema import init_database

__all__ = ["COMMANDS"]


def cmd_init(app: App, args: argparse.Namespace) -> int:
    """`edi init`: create or upgrade the database schema."""
    url = init_database(app.config.database_url, app.engine)
    app.log.info("schema_upgraded")
    app.emit({"database": url, "schema": "head"}, f"database schema is up to date ({url})")
    return 0


def cmd_run(app: App, args: argparse.Namespace) -> int:
    """`edi run [--steps ...] [--wait]`: the nightly batch."""
    steps = check_steps([s.strip() for s in args.steps.split(",") if s.strip()]) if args.steps else None

    def progress(name: str, info: dict[str, Any]) -> None:
        if app.progress:
            app.out.write(f"  {name:<12} {info['status']}\n")
            app.out.flush()

    run, step_rows = nightly_run(app.config, app.uow, as_of=app.as_of, steps=steps, wait=args.wait,
                                 open_mailbox=app.mailbox, debug=app.debug, on_step=progress)
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


def cmd_demo(app: App, args: argparse.Namespace) -> int:
    """`edi demo [--dir D] [--seed N]`."""
    folder = Path(args.dir)
    if ((folder / "var").exists() or (folder / "edi.toml").exists()) and not (folder / MARKER).exists():
        raise UsageError(f"{folder} holds a practice that is not an edi demo (no {MARKER} file); nothing was "
                         "changed. Give the demo its own folder with --dir")
    if not app.debug and not os.environ.get("EDI_LOG_LEVEL"):
        configure_logging(level="WARNING")
    var = folder / "var"
    if var.exists():
        print(f"edi demo: starting fresh: removing {var} (the previous demo's database, mailbox and archive)",
              file=sys.stderr)
        shutil.rmtree(var)
    if not app.json:
        app.out.write(f"Building the demo practice in {folder} ...\n")
        app.out.flush()
    summary = run_demo(folder, seed=args.seed, as_of=app.as_of, out=app.out, progress=app.progress)
    app.emit(summary, lambda: render_summary(summary))
    return 0 if all(r["status"] == "ok" for r in summary["runs"]) else 1


COMMANDS: dict[tuple[str, ...], Command] = {
    ("init",): cmd_init,
    ("run",): cmd_run,
    ("report",): cmd_report,
    ("demo",): cmd_demo,
}
