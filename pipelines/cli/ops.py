"""Operating commands: init, the nightly run, the report, the demo."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

from pipelines.cli.app import App, Command
from pipelines.cli.report import cmd_report
from pipelines.cli.table import terminal_width
from pipelines.demo import MARKER, render_summary, run_demo
from pipelines.errors import UsageError
from pipelines.logs import configure_logging
from pipelines.usecases.at_risk import count_at_risk
from pipelines.usecases.nightly import STEPS, check_steps, nightly_run

__all__ = ["COMMANDS"]

NEAR_DEADLINE_DAYS = 7
"""`edi run` says how many claims are this many days or fewer from their filing deadline."""


def cmd_init(app: App, args: argparse.Namespace) -> int:
    """`edi init`: create or upgrade the database schema."""
    from pipelines.usecases.schema import init_database  # alembic: only `edi init` pays its import

    url = init_database(app.config.database_url, app.engine)
    app.log.info("schema_upgraded")
    app.emit({"database": url, "schema": "head"}, f"database schema is up to date ({url})")
    return 0


def _counts_text(counts: dict[str, Any]) -> list[str]:
    """A step's counts as "name: n" lines; a mapping of counts goes on one indented line."""
    lines = []
    for k, v in counts.items():
        if k == "report":
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{kk}: {vv}" for kk, vv in v.items()) or "none"
        elif isinstance(v, list | tuple):
            v = ", ".join(map(str, v)) or "none"
        lines += textwrap.wrap(f"{k.replace('_', ' ')}: {v}", terminal_width() or 120, initial_indent="    ",
                               subsequent_indent="      ", break_long_words=False, break_on_hyphens=False)
    return lines


def _run_text(data: dict[str, Any]) -> str:
    out = [f"run {data['run_id']} ({data['as_of']}): {data['status']}"]
    for s in data["steps"]:
        out.append(f"  {s['name']}: {s['status']}" + (f" ({s['error']})" if s["error"] else ""))
        out += _counts_text(s["counts"] or {})
    n = data["claims_near_filing_deadline"]
    out.append(f"{n} claim{'' if n == 1 else 's'} within {NEAR_DEADLINE_DAYS} days of a filing deadline"
               + (" (`edi claims list --at-risk --days 7`)" if n else ""))
    return "\n".join(out)


def cmd_run(app: App, args: argparse.Namespace) -> int:
    """`edi run [--steps ...] [--wait]`: the nightly batch, then how many claims near a filing deadline."""
    steps = check_steps([s.strip() for s in args.steps.split(",") if s.strip()]) if args.steps else None
    with app.progress_bar("edi run", total=len(steps or STEPS)) as advance:
        run, step_rows = nightly_run(app.config, app.uow, as_of=app.as_of, steps=steps, wait=args.wait,
                                     open_mailbox=app.mailbox, debug=app.debug,
                                     on_step=lambda name, info: advance(label=f"{name} {info['status']}"))
    data = {"run_id": run.id, "status": run.status, "as_of": str(run.as_of),
            "steps": [{"name": s.name, "status": s.status, "counts": s.counts, "error": s.error}
                      for s in step_rows],
            "claims_near_filing_deadline": count_at_risk(app.config, app.uow, as_of=run.as_of,
                                                         within_days=NEAR_DEADLINE_DAYS)}
    app.emit(data, lambda: _run_text(data))
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
