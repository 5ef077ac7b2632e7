"""The `edi` command: one entry point, subcommands of CONTRACT section 3.

Exit codes: 0 all work done; 1 some work failed (the rest went on, the failure is recorded);
2 usage or configuration error. ``--json`` prints machine-readable output on stdout only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import traceback
from collections.abc import Sequence
from datetime import date

from pipelines.cli import claims, inbound, money, ops, x12
from pipelines.cli.app import App, Command
from pipelines.cli.failures import Failure, check_inputs, describe, input_files, report
from pipelines.logs import configure_logging
from pipelines.rules.denials import STATES as DENIAL_STATES
from pipelines.rules.lifecycle import ClaimStatus

__all__ = ["build_parser", "main"]

# (command, subcommand) -> the function that runs it: (App, argparse.Namespace) -> exit code.
COMMANDS: dict[tuple[str, ...], Command] = {
    **claims.COMMANDS, **inbound.COMMANDS, **money.COMMANDS, **ops.COMMANDS, **x12.COMMANDS}

CLAIM_STATUSES = tuple(s.value for s in ClaimStatus)
FILE_STATES = ("built", "sent", "accepted", "accepted_with_errors", "partially_accepted", "rejected",
               "received", "processed", "failed", "duplicate")
"""``File.state`` values (models/ledger.py): outbound, then inbound."""

NO_CONFIG = {("inspect",), ("validate",), ("demo",), ("simulate",)}


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be YYYY-MM-DD, got {value!r}") from None


def _days(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"--days must be a whole number of days, 0 or more, got {value!r}")
    return n


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
    lst.add_argument("--status", choices=CLAIM_STATUSES, metavar="STATUS",
                     help=f"only claims in this status: {', '.join(CLAIM_STATUSES)}")
    lst.add_argument("--at-risk", action="store_true",
                     help="claims not yet adjudicated whose filing deadline is within --days, soonest first")
    lst.add_argument("--days", type=_days, default=30, metavar="N",
                     help="with --at-risk: deadlines today or within the next N days (default 30)")
    add("show", "one claim with its lines, adjustments and history", cl).add_argument("claim_id")
    ex = add("export", "every claim as JSON (CONTRACT section 6)", cl)
    ex.add_argument("--status", choices=CLAIM_STATUSES, metavar="STATUS",
                    help=f"only claims in this status: {', '.join(CLAIM_STATUSES)}")

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
    fl_list.add_argument("--status", choices=FILE_STATES, metavar="STATE",
                         help=f"only files in this state: {', '.join(FILE_STATES)}")
    fl_list.add_argument("--direction", choices=["in", "out"])
    add("show", "one file with its state, error and acknowledgments", fl).add_argument("file_id", type=int)

    rp = add("replay", "process a stored inbound file again, or re-send an outbound one")
    rp.add_argument("file_id", type=int)
    rp.add_argument("--force", action="store_true",
                    help="post an 835 that does not balance or is for another payee; re-send an accepted file")
    rp.add_argument("--claim", action="append", default=[], metavar="CLAIM_ID", dest="claims",
                    help="outbound 837P: re-send only this claim (repeatable; includes an adjudicated one)")

    ins = add("inspect", "parse any X12 file and print it")
    ins.add_argument("file")
    ins.add_argument("--lenient", action="store_true", help="report envelope mismatches instead of stopping")
    add("validate", "implementation-guide validation (pyx12)").add_argument("file")

    dn = add("denials", "the denial work queue").add_subparsers(dest="sub", required=True, metavar="ACTION")
    dl = add("list", "open denials", dn)
    dl.add_argument("--state", choices=(*DENIAL_STATES, "all"), metavar="STATE",
                    help=f"{', '.join(DENIAL_STATES)}, or all (default open)")
    add("resubmit", "corrected claim (frequency 7) after the data was fixed", dn).add_argument("claim_id")

    rep = add("report", "revenue, denials, payers, aging")
    rep.add_argument("--html", metavar="PATH")
    rep.add_argument("--csv", metavar="DIR", help="write each table as a CSV file into DIR")

    co = add("codes", "code lists").add_subparsers(dest="sub", required=True, metavar="ACTION")
    ci = add("import", "load a current CARC or RARC list", co)
    ci.add_argument("list_name", choices=["carc", "rarc"])
    ci.add_argument("file")

    dp = add("deposits", "bank deposits matched to 835s").add_subparsers(dest="sub", required=True,
                                                                       metavar="ACTION")
    add("import", "load the bank's deposit lines (CSV: date, amount, reference)", dp).add_argument("file")
    add("list", "deposits with their 835, and 835s without a deposit", dp).add_argument(
        "--unmatched", action="store_true", help="only deposits without an 835 (and 835s without a deposit)")
    au = add("audit", "the audit trail").add_subparsers(dest="sub", required=True, metavar="ACTION")
    add("list", "operator actions that changed money or sent PHI, newest first", au).add_argument(
        "--limit", type=int, help="only the N newest events")

    sim = add("simulate", "the clearinghouse simulator: answer 837P/270/276 files")
    sim.add_argument("path", help="a mailbox folder (answers its upload folder) or a file")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--fixtures", help="answer from this folder of fixture files instead")
    sim.add_argument("--mailbox", help="mailbox root when PATH is a file (default: PATH's parent)")
    return p


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code of a command line argparse refused (or --help)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        sys.stderr.write(captured.getvalue())
        code = exc.code if isinstance(exc.code, int) else 2
        if code and "--json" in argv:  # scripts see something on stdout too
            lines = captured.getvalue().strip().splitlines() or ["invalid command line"]
            report(Failure("UsageError", lines[-1].split("error: ", 1)[-1], code), as_json=True,
                   err=io.StringIO())
        return code
    sys.stderr.write(captured.getvalue())
    for name, default in (("config", None), ("json", False), ("as_of", None), ("debug", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def _database_url(app: App) -> str | None:
    try:
        return app.config.database_url
    except Exception:  # the configuration itself is what failed
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error becomes one ``edi: ...`` line and the README's exit code."""
    args = _parse(build_parser(), argv)
    if isinstance(args, int):
        return args
    key = (args.command, args.sub) if getattr(args, "sub", None) else (args.command,)
    if args.command == "codes":
        key = ("codes", "import")
    configure_logging(level="DEBUG" if args.debug else os.environ.get("EDI_LOG_LEVEL", "INFO"))
    app = App(config_path=args.config, as_of=args.as_of, json=args.json, debug=args.debug)
    try:
        check_inputs(args)
        return COMMANDS[key](app, args)
    except (Exception, KeyboardInterrupt) as exc:
        if args.debug:
            traceback.print_exc()
        failure = describe(exc, inputs=input_files(args), database_url=lambda: _database_url(app))
        return report(failure, as_json=args.json)
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
