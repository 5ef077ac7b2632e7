"""The `edi` command: one entry point, subcommands of CONTRACT section 3.

Exit codes: 0 all work done; 1 some work failed (the rest went on, the failure is recorded);
2 usage or configuration error. ``--json`` prints machine-readable output on stdout only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date

from edi.errors import EdiError
from pipelines.cli import claims, inbound, ops, x12
from pipelines.cli.app import App, Command
from pipelines.errors import ConfigError, InputError, NotFound, PipelineError, RunLocked, UsageError
from pipelines.logs import configure_logging

__all__ = ["build_parser", "main"]

# (command, subcommand) -> the function that runs it: (App, argparse.Namespace) -> exit code.
COMMANDS: dict[tuple[str, ...], Command] = {
    **claims.COMMANDS, **inbound.COMMANDS, **ops.COMMANDS, **x12.COMMANDS}

NO_CONFIG = {("inspect",), ("validate",), ("demo",), ("simulate",)}


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be YYYY-MM-DD, got {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option given before the subcommand is not reset by the subcommand's default
    S = argparse.SUPPRESS
    common.add_argument("--config", default=S, help="configuration file (default ./edi.toml, env EDI_CONFIG)")
    common.add_argument("--json", action="store_true", default=S, help="machine-readable output on stdout")
    common.add_argument("--as-of", type=_as_of, default=S, metavar="YYYY-MM-DD", help='"today" for date rules')
    common.add_argument("--debug", action="store_true", default=S, help="show tracebacks and debug logs")

    p = argparse.ArgumentParser(prog="edi", description="X12 EDI pipeline for behavioral health billing",
                                parents=[common])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str, parent: argparse._SubParsersAction[argparse.ArgumentParser] = sub
            ) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=help, parents=[common], description=help)

    add("init", "create or upgrade the database schema")
    d = add("demo", "self-contained tour on SQLite and a local mailbox with the simulator")
    d.add_argument("--dir", default="demo", help="folder for the demo practice (default ./demo)")
    d.add_argument("--seed", type=int, default=7)

    imp = add("import", "load inputs").add_subparsers(dest="sub", required=True, metavar="WHAT")
    add("encounters", "load an encounters CSV", imp).add_argument("file")
    add("authorizations", "load an authorizations CSV", imp).add_argument("file")

    cl = add("claims", "claims: submit, list, show, export").add_subparsers(dest="sub", required=True,
                                                                             metavar="ACTION")
    add("submit", "code and scrub what is new, write the ready claims as one 837P", cl)
    lst = add("list", "claims and their status", cl)
    lst.add_argument("--status", help="only claims in this status")
    add("show", "one claim with its lines, adjustments and history", cl).add_argument("claim_id")
    ex = add("export", "every claim as JSON (CONTRACT section 6)", cl)
    ex.add_argument("--status", help="only claims in this status")

    el = add("eligibility", "270/271 eligibility").add_subparsers(dest="sub", required=True, metavar="ACTION")
    add("request", "write 270s for the patient/payer pairs that need one", el)
    add("show", "the eligibility on file for a patient", el).add_argument("patient_id")

    st = add("status", "276/277 claim status").add_subparsers(dest="sub", required=True, metavar="ACTION")
    add("request", "write 276s for submitted claims that went quiet", st)

    ing = add("ingest", "process X12 files given, or everything waiting in the mailbox")
    ing.add_argument("files", nargs="*")

    r = add("run", "the nightly batch")
    r.add_argument("--steps", help="comma-separated subset of: submit,eligibility,status,upload,download,"
                                   "ingest,report")
    r.add_argument("--wait", action="store_true", help="wait for a running run instead of exiting")

    fl = add("files", "every file sent or received").add_subparsers(dest="sub", required=True, metavar="ACTION")
    fl_list = add("list", "the file ledger", fl)
    fl_list.add_argument("--status", help="only files in this state (e.g. failed)")
    fl_list.add_argument("--direction", choices=["in", "out"])
    add("show", "one file with its state, error and acknowledgments", fl).add_argument("file_id", type=int)

    rp = add("replay", "process a stored inbound file again, or re-send an outbound one")
    rp.add_argument("file_id", type=int)
    rp.add_argument("--force", action="store_true", help="post an 835 even if it does not balance")

    ins = add("inspect", "parse any X12 file and print it")
    ins.add_argument("file")
    ins.add_argument("--lenient", action="store_true", help="report envelope mismatches instead of stopping")
    add("validate", "implementation-guide validation (pyx12)").add_argument("file")

    dn = add("denials", "the denial work queue").add_subparsers(dest="sub", required=True, metavar="ACTION")
    dl = add("list", "open denials", dn)
    dl.add_argument("--state", help="open, resubmitted, appealed, closed, or all (default open)")
    add("resubmit", "corrected claim (frequency 7) after the data was fixed", dn).add_argument("claim_id")

    rep = add("report", "revenue, denials, payers, aging")
    rep.add_argument("--html", metavar="PATH")

    co = add("codes", "code lists").add_subparsers(dest="sub", required=True, metavar="ACTION")
    ci = add("import", "load a current CARC or RARC list", co)
    ci.add_argument("list_name", choices=["carc", "rarc"])
    ci.add_argument("file")

    sim = add("simulate", "the clearinghouse simulator: answer 837P/270/276 files")
    sim.add_argument("path", help="a mailbox folder (answers its upload folder) or a file")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--fixtures", help="answer from this folder of fixture files instead")
    sim.add_argument("--mailbox", help="mailbox root when PATH is a file (default: PATH's parent)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    for name, default in (("config", None), ("json", False), ("as_of", None), ("debug", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    key = (args.command, args.sub) if getattr(args, "sub", None) else (args.command,)
    if args.command == "codes":
        key = ("codes", "import")
    configure_logging(level="DEBUG" if args.debug else os.environ.get("EDI_LOG_LEVEL", "INFO"))
    app = App(config_path=args.config, as_of=args.as_of, json=args.json, debug=args.debug)
    try:
        return COMMANDS[key](app, args)
    except (ConfigError, UsageError, InputError) as exc:
        print(f"edi: {exc}", file=sys.stderr)
        return 2
    except (NotFound, RunLocked) as exc:
        print(f"edi: {exc}", file=sys.stderr)
        return 1
    except (PipelineError, EdiError, OSError) as exc:
        if args.debug:
            raise
        print(f"edi: {exc}", file=sys.stderr)
        return 1
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
