"""`edi inspect FILE`, `edi validate FILE` and `edi simulate PATH`: need no configuration and no database."""

from __future__ import annotations

import argparse
import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

from edi.errors import EdiError
from edi.inspect import inspect_stream
from pipelines.cli.app import App, Command
from pipelines.cli.table import render_table
from pipelines.errors import ConfigError, UsageError
from pipelines.simulator import PayerRules, SimResult, payer_rules_from_config, simulate_mailbox
from transports.local import LocalMailbox

__all__ = ["cmd_inspect", "cmd_simulate", "cmd_validate"]


def _contents(ts: dict[str, Any]) -> str:
    """What a set holds, in a few words: claims and amounts, or inquiries."""
    claims = ts.get("claims", [])
    if ts.get("set") == "835":
        return f"{len(claims)} claims, paid {ts.get('payment', {}).get('amount')}" + (
            "" if ts.get("balanced", True) else ", NOT BALANCED")
    if ts.get("set") == "837":
        billed = sum(Decimal(c["charge"]) for c in claims)
        return f"{len(claims)} claims, billed {billed:.2f}"
    if ts.get("set") in ("270", "276"):
        return f"{len(ts.get('inquiries', []))} inquiries"
    return ""


def _tree(doc: dict[str, Any]) -> str:
    rows: list[list[Any]] = []
    for isa in doc["interchanges"]:
        rows.append([f"ISA {isa['control_number']}", f"{isa['sender']} -> {isa['receiver']}",
                     isa["date"], f"{len(isa['groups'])} group(s)"])
        for t in isa.get("ta1", []):
            rows.append(["  TA1", t.get("code", ""), t.get("control_number", ""), t.get("note", "")])
        for g in isa["groups"]:
            rows.append([f"  GS {g['control_number']}", g["functional_id"], g["version"],
                         f"{len(g['transactions'])} set(s)"])
            for ts in g["transactions"]:
                rows.append([f"    ST {ts.get('control_number')}", ts.get("set"),
                             f"{ts.get('segment_count', ts.get('segments', ''))} segments", _contents(ts)])
    text = render_table(["envelope", "what", "version/date", "contents"], rows)
    for f in doc.get("findings", []):
        text += f"\nfinding: {f}"
    return text


def cmd_inspect(app: App, args: argparse.Namespace) -> int:
    try:
        with open(args.file, "rb") as fh:
            doc = inspect_stream(fh, strict=not args.lenient)
    except EdiError as exc:
        if app.json:
            app.emit({"file": args.file, "error": exc.as_dict()})
            return 1
        raise
    app.emit(doc, lambda: _tree(doc))
    return 1 if doc.get("findings") else 0


def cmd_validate(app: App, args: argparse.Namespace) -> int:
    from edi.validate import validate_x12

    result = validate_x12(args.file)
    issues = [dataclasses.asdict(i) for i in result.errors]
    app.emit({"file": args.file, "valid": result.ok, "errors": issues, "not_validated": result.not_validated},
             lambda: ("\n".join(result.not_validated) if result.not_validated and result.ok
                      else "valid: no errors" if result.ok else render_table(
                 ["segment", "id", "loop", "element", "code", "message"],
                 [[i.get("segment_number"), i.get("segment_id"), i.get("loop_id"), i.get("element"),
                   i.get("code"), i.get("message")] for i in issues])))
    return 0 if result.ok else 1


def _simulate_root(path: Path, mailbox: str | None, upload_dir: str) -> tuple[Path, list[str] | None]:
    """The mailbox root to answer and, for a single file, its name (put into the upload folder first)."""
    if path.is_dir():
        return (Path(mailbox) if mailbox else path), None
    if not path.is_file():
        raise UsageError(f"{path} is neither a mailbox folder nor a file")
    # default root: the mailbox whose upload folder holds the file, else its folder
    root = Path(mailbox) if mailbox else (path.parent.parent if path.parent.name == upload_dir else path.parent)
    upload = root / upload_dir
    if path.resolve().parent != upload.resolve():
        upload.mkdir(parents=True, exist_ok=True, mode=0o700)
        LocalMailbox(root).put(upload_dir, path.name, path.read_bytes())
    return root, [path.name]


def _simulate_text(result: SimResult, upload: Path, download: Path) -> str:
    if not result.answered and not result.written:
        return f"nothing to answer in {upload}"
    lines = [f"answered {len(result.answered)} file(s) from {upload}; wrote {len(result.written)} into {download}"]
    lines += [f"  {n}" for n in result.written]
    if result.counts:
        lines.append(render_table(["count", "value"], sorted(result.counts.items())))
    return "\n".join(lines)


def cmd_simulate(app: App, args: argparse.Namespace) -> int:
    """`edi simulate PATH [--seed N] [--fixtures DIR] [--mailbox ROOT]`: the clearinghouse simulator."""
    upload_dir, download_dir = "inbound", "outbound"
    payers: dict[str, PayerRules] = {}
    try:  # a practice's configuration, when there is one, tells the folders and the payers' rules
        config = app.config
    except ConfigError:
        config = None
    if config is not None:
        upload_dir, download_dir = config.transport.upload_dir, config.transport.download_dir
        payers = payer_rules_from_config(config)
    fixtures = Path(args.fixtures) if args.fixtures else None
    if fixtures is not None and not fixtures.is_dir():
        raise UsageError(f"--fixtures {fixtures} is not a folder")
    root, only = _simulate_root(Path(args.path), args.mailbox, upload_dir)
    result = simulate_mailbox(root, upload_dir=upload_dir, download_dir=download_dir, seed=args.seed,
                              fixtures=fixtures, as_of=app.as_of, payers=payers, only=only)
    app.emit(result.as_dict(), lambda: _simulate_text(result, root / upload_dir, root / download_dir))
    return 0


COMMANDS: dict[tuple[str, ...], Command] = {
    ("inspect",): cmd_inspect,
    ("validate",): cmd_validate,
    ("simulate",): cmd_simulate,
}
