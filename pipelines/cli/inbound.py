"""Commands on files coming in and the file ledger: `edi ingest`, `edi files list/show`, `edi replay`.

Each command turns its arguments into a use-case call (:mod:`pipelines.usecases.ingest`,
:mod:`pipelines.usecases.files`) and renders what comes back: JSON with ``--json``, else text.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from pipelines.cli.app import App, Command
from pipelines.cli.table import render_table
from pipelines.usecases.files import Replayed, list_files, replay_file, show_file
from pipelines.usecases.ingest import IngestResult, ingest_bytes, ingest_mailbox

__all__ = ["COMMANDS", "cmd_ingest", "cmd_list", "cmd_replay", "cmd_show"]


# --- edi ingest --------------------------------------------------------------------------------------


def cmd_ingest(app: App, args: argparse.Namespace) -> int:
    """Process the X12 files given, or everything waiting in the mailbox; exit 1 if any failed."""
    result = IngestResult()
    unreadable = 0
    if args.files:
        with app.progress_bar("ingest", total=len(args.files)) as advance:
            for name in args.files:
                path = Path(name)
                try:
                    data = path.read_bytes()
                except OSError as exc:  # a file we cannot read does not stop the others
                    print(f"edi: {name}: cannot read it: {exc.strerror or exc}", file=sys.stderr)
                    unreadable += 1
                else:
                    ingest_bytes(app.config, app.uow, path.name, data, result)
                advance(label=path.name)
    else:
        with closing(app.mailbox()) as mailbox, app.progress_bar("ingesting the mailbox"):
            ingest_mailbox(app.config, app.uow, mailbox, result)
    app.emit(result.as_dict(), lambda: _ingest_summary(result))
    return 1 if result.failed or unreadable else 0


def _ingest_summary(result: IngestResult) -> str:
    lines = [f"processed {len(result.processed)} file(s), failed {len(result.failed)}, "
             f"already seen {len(result.duplicates)}"
             + (f", taken by another worker {len(result.taken)}" if result.taken else "")]
    if result.failed:
        lines.append("failed file ids: " + ", ".join(map(str, result.failed))
                     + "  (see `edi files show ID`, fix, then `edi replay ID`)")
    lines += [f"  {k}: {v}" for k, v in sorted(result.counts.items())]
    return "\n".join(lines)


# --- edi files list / show ---------------------------------------------------------------------------


def cmd_list(app: App, args: argparse.Namespace) -> int:
    """The file ledger, optionally one state or direction."""
    files = list_files(app.uow, status=args.status, direction=getattr(args, "direction", None))
    app.emit({"files": files}, lambda: render_table(
        ["id", "dir", "kind", "state", "name", "error"],
        [[f["file_id"], f["direction"], f["kind"], f["state"], f["name"], f["error"] or ""] for f in files])
        if files else "no files")
    return 0


def cmd_show(app: App, args: argparse.Namespace) -> int:
    """One file with its state, error and acknowledgments."""
    d = show_file(app.uow, args.file_id)
    app.emit(d, lambda: _file_text(d))
    return 0


def _file_text(d: dict[str, Any]) -> str:
    lines = [f"file {d['file_id']}: {d['name']}", f"  {d['direction']} {d['kind']}  state {d['state']}"
             f"  size {d['size']}  ISA13 {d['isa_control']}  GS06 {d['gs_control']}"]
    if d["error"]:
        lines.append(f"  error: {d['error']}")
    for t in d["transactions"]:
        lines.append(f"  {t['set']} ST02 {t['st_control']}: {t['state'] or 'no acknowledgment yet'}")
        for e in t["errors"]:
            lines.append(f"    - {e.get('text') or e}")
    return "\n".join(lines)


# --- edi replay --------------------------------------------------------------------------------------


def cmd_replay(app: App, args: argparse.Namespace) -> int:
    """Process a stored inbound file again, or send an outbound one again (exit 2 when it needs --force)."""
    r = replay_file(app.config, app.uow, args.file_id, force=args.force, claim_ids=getattr(args, "claims", None) or (),
                    open_mailbox=app.mailbox)
    if r.direction == "out":
        app.emit({"file_id": r.file_id, "state": r.state, "sent_file_id": r.sent_file_id, "claims": r.claims,
                  "left_out": r.left_out}, lambda: _resent_text(r))
        return 0
    app.emit({"file_id": r.file_id, "state": r.state, "error": r.error, "counts": r.counts},
             f"file {r.file_id}: {r.state}" + (f" - {r.error}" if r.error else ""))
    return 0 if r.state == "processed" else 1


def _resent_text(r: Replayed) -> str:
    if r.sent_file_id == r.file_id:
        return f"file {r.file_id} sent again ({r.name})"
    lines = [f"file {r.file_id}: {len(r.claims)} claim(s) re-sent in new file {r.sent_file_id} ({r.name}), "
             f"{r.state}: {', '.join(r.claims)}"]
    if r.left_out:
        lines.append("  left out (adjudicated): " + ", ".join(f"{d['claim_id']} {d['status']}" for d in r.left_out))
    return "\n".join(lines)


COMMANDS: dict[tuple[str, ...], Command] = {
    ("ingest",): cmd_ingest,
    ("files", "list"): cmd_list,
    ("files", "show"): cmd_show,
    ("replay",): cmd_replay,
}
