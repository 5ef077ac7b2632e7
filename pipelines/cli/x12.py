"""`edi inspect FILE` and `edi validate FILE`: need no configuration and no database."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from edi.errors import EdiError
from edi.inspect import inspect_stream
from pipelines.cli.app import App, Command
from pipelines.cli.table import render_table

__all__ = ["cmd_inspect", "cmd_validate"]


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
                extra = ""
                if ts.get("set") == "835":
                    extra = f"{len(ts.get('claims', []))} claims, paid {ts.get('payment', {}).get('amount')}" + (
                        "" if ts.get("balanced", True) else ", NOT BALANCED")
                rows.append([f"    ST {ts.get('control_number')}", ts.get("set"),
                             f"{ts.get('segment_count', ts.get('segments', ''))} segments", extra])
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
    app.emit({"file": args.file, "valid": result.ok, "errors": issues},
             lambda: ("valid: no errors" if result.ok else render_table(
                 ["segment", "id", "loop", "element", "code", "message"],
                 [[i.get("segment_number"), i.get("segment_id"), i.get("loop_id"), i.get("element"),
                   i.get("code"), i.get("message")] for i in issues])))
    return 0 if result.ok else 1


from pipelines.simulator import cmd_simulate  # noqa: E402  (moves here with the simulator split)

COMMANDS: dict[tuple[str, ...], Command] = {
    ("inspect",): cmd_inspect,
    ("validate",): cmd_validate,
    ("simulate",): cmd_simulate,
}
