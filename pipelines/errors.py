"""Errors raised by the use cases, and the exit code each kind of error gives.

The tree::

    PipelineError                 a use case could not do what was asked (exit 1 unless said)
    ├── ConfigError               the configuration file or an override is missing or wrong (exit 2)
    ├── UsageError                the command line asks for something impossible (exit 2)
    ├── InputError                an input file (CSV) is unusable as a whole (exit 2)
    ├── NotFound                  an id given on the command line does not exist
    ├── RunLocked                 another nightly run holds the lock
    ├── DatabaseError             the database cannot be reached or used
    ├── ApplyError                an inbound file parsed but cannot be applied (the file is marked failed)
    └── (pipelines.rules.lifecycle.IllegalTransition, a status change the lifecycle does not allow)

Errors of the X12 layer are ``edi.errors.EdiError``; of the mailboxes ``transports.errors.TransportError``
(both exit 1). ``pipelines.cli.failures`` turns every error a user can cause, these and the ones
of SQLAlchemy and the operating system, into one ``edi: ...`` line and the exit code.
"""

from __future__ import annotations

__all__ = ["EXIT_USAGE", "ApplyError", "ConfigError", "DatabaseError", "InputError", "NotFound", "PipelineError",
           "RunLocked", "UsageError"]

EXIT_USAGE = 2
"""The exit code of a usage or configuration error (README "Exit codes"); failed work exits 1."""


class PipelineError(Exception):
    """Base of the use-case errors."""

    exit_code: int = 1


class ConfigError(PipelineError):
    """The configuration is missing a key or has a bad value; the message names the key."""

    exit_code = EXIT_USAGE


class UsageError(PipelineError):
    """The command line asks for something that cannot be done."""

    exit_code = EXIT_USAGE


class InputError(PipelineError):
    """An input file is unusable as a whole (missing, not UTF-8, missing columns)."""

    exit_code = EXIT_USAGE


class NotFound(PipelineError):
    """An id given on the command line does not exist."""


class RunLocked(PipelineError):
    """Another nightly run is in progress."""


class DatabaseError(PipelineError):
    """The database cannot be reached (down, wrong host or port, refused login) or used."""


class ApplyError(PipelineError):
    """An inbound file was parsed but cannot be applied; ``position`` says where, when known."""

    def __init__(self, message: str, position: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.position = position or {}
