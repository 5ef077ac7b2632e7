"""How an error becomes what the operator sees: one ``edi: ...`` line on stderr and an exit code.

:func:`describe` maps every error a user can cause, from every layer, to a :class:`Failure` (type,
one-line message naming the place, exit code as the README says: 2 usage or configuration, 1 some
work failed, 130 interrupted):

- ``pipelines.errors``: ConfigError, UsageError, InputError (2); NotFound, RunLocked, DatabaseError,
  ApplyError, IllegalTransition and the rest (1);
- ``edi.errors.EdiError`` (X12 that is not X12, broken envelopes) and ``transports.errors`` (the
  mailbox: UnsafeName, ConnectError, HostKeyError, AuthError, TransferError) (1);
- SQLAlchemy: an unparsable URL or unknown driver is a configuration error (2), a database that
  cannot be reached or used a DatabaseError (1), a database without its file or tables needs
  ``edi init`` (2);
- the operating system: a missing input file named on the command line is a usage error (2), any
  other OSError (1); UnicodeDecodeError is an input file that is not UTF-8 text (2);
- anything else is an internal error (1) whose traceback ``--debug`` shows.

:func:`check_inputs` refuses missing input files before any work starts. :func:`report` prints the
line, and with ``--json`` also ``{"error": {"type", "message", "exit"}}`` on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from edi.errors import EdiError
from pipelines.errors import EXIT_USAGE, PipelineError, UsageError
from transports.errors import TransportError

__all__ = ["Failure", "check_inputs", "describe", "input_files", "report"]

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
_MISSING_SCHEMA = re.compile(r"no such table|relation .* does not exist|UndefinedTable", re.IGNORECASE)


@dataclass(frozen=True)
class Failure:
    """What the command line says about an error: its type name, one line, and the exit code."""

    type: str
    message: str
    exit: int

    def as_json(self) -> dict[str, Any]:
        return {"error": {"type": self.type, "message": self.message, "exit": self.exit}}


def input_files(args: argparse.Namespace) -> list[str]:
    """The input files named on the command line (``FILE`` and ``FILE ...`` arguments)."""
    files: list[str] = []
    single = getattr(args, "file", None)
    if isinstance(single, str):
        files.append(single)
    many = getattr(args, "files", None)
    if isinstance(many, list):
        files += [f for f in many if isinstance(f, str)]
    return files


def check_inputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, an input file that does not exist or is a folder (a usage error)."""
    for name in input_files(args):
        if not os.path.exists(name):
            raise UsageError(f"{name}: no such file")
        if os.path.isdir(name):
            raise UsageError(f"{name}: is a folder, not a file")


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", "; ", text.strip())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _masked(url: str | None) -> str:
    if not url:
        return "the database"
    try:
        return f"database {make_url(url).render_as_string(hide_password=True)}"
    except sa_exc.ArgumentError:
        return "the database"


def _sqlite_file_missing(url: str | None) -> bool:
    """True for a SQLite URL whose file does not exist (yet): `edi init` creates it."""
    try:
        parsed = make_url(url) if url else None
    except sa_exc.ArgumentError:
        return False
    if parsed is None or parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not os.path.exists(parsed.database)


def _database(exc: sa_exc.SQLAlchemyError, database_url: Callable[[], str | None]) -> Failure:
    """A SQLAlchemy error, by what the operator must do. Never the statement or its parameters."""
    if isinstance(exc, sa_exc.NoSuchModuleError):
        return Failure("ConfigError", f"[database] url: unknown database driver ({_first_line(exc)})", EXIT_USAGE)
    if isinstance(exc, sa_exc.ArgumentError):
        return Failure("ConfigError", f"[database] url is not a database URL ({_first_line(exc)})", EXIT_USAGE)
    url = database_url()
    where = _masked(url)
    if isinstance(exc, sa_exc.OperationalError) and _sqlite_file_missing(url):
        return Failure("DatabaseError", f"{where}: the file does not exist; run `edi init`", EXIT_USAGE)
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    reason = _first_line(cause)
    if isinstance(exc, sa_exc.OperationalError | sa_exc.ProgrammingError) and _MISSING_SCHEMA.search(reason):
        return Failure("DatabaseError", f"{where}: the schema is not there ({reason}); run `edi init`", EXIT_USAGE)
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return Failure("DatabaseError", f"{where} cannot be reached or used: {reason}", EXIT_FAILED)
    return Failure("DatabaseError", f"{where}: {type(cause).__name__}: {reason}", EXIT_FAILED)


def _os_error(exc: OSError, inputs: Sequence[str]) -> Failure:
    name = os.fsdecode(exc.filename) if exc.filename is not None else None
    what = exc.strerror or _first_line(exc)
    if name is None:
        return Failure(type(exc).__name__, what, EXIT_FAILED)
    named = {os.path.abspath(f) for f in inputs}
    if os.path.abspath(name) in named:  # a missing or unreadable input file: a usage error
        return Failure("UsageError", f"{name}: {what}", EXIT_USAGE)
    return Failure(type(exc).__name__, f"{name}: {what}", EXIT_FAILED)


def _in_file(message: str, inputs: Sequence[str]) -> str:
    """Prefix the one input file, when there is one and the message does not name it yet."""
    if len(inputs) == 1 and inputs[0] not in message:
        return f"{inputs[0]}: {message}"
    return message


def describe(exc: BaseException, *, inputs: Sequence[str] = (),
             database_url: Callable[[], str | None] = lambda: None) -> Failure:
    """The :class:`Failure` for ``exc``; ``inputs`` are the files named on the command line."""
    if isinstance(exc, KeyboardInterrupt):
        return Failure("Interrupted", "interrupted", EXIT_INTERRUPTED)
    if isinstance(exc, PipelineError):
        return Failure(type(exc).__name__, str(exc), exc.exit_code)
    if isinstance(exc, EdiError):
        return Failure(type(exc).__name__, _in_file(str(exc), inputs), EXIT_FAILED)
    if isinstance(exc, TransportError):
        return Failure(type(exc).__name__, f"mailbox: {exc}", EXIT_FAILED)
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return _database(exc, database_url)
    if isinstance(exc, UnicodeDecodeError):
        where = f"byte {exc.start}" + (f" (0x{exc.object[exc.start]:02x})" if exc.start < len(exc.object) else "")
        return Failure("InputError", _in_file(f"not UTF-8 text: {where}", inputs), EXIT_USAGE)
    if isinstance(exc, OSError):
        return _os_error(exc, inputs)
    return Failure("InternalError", f"internal error: {type(exc).__name__}: {_first_line(exc)} "
                                    "(run again with --debug for the traceback)", EXIT_FAILED)


def report(failure: Failure, *, as_json: bool, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print ``edi: MESSAGE`` on stderr (and the JSON object on stdout with --json); returns the exit code."""
    message = _one_line(failure.message)
    print(f"edi: {message}", file=err or sys.stderr)
    if as_json:
        data = Failure(failure.type, message, failure.exit).as_json()
        print(json.dumps(data), file=out or sys.stdout)
    return failure.exit
