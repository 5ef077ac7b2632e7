"""Errors raised by the use cases.

The tree::

    PipelineError                 a use case could not do what was asked
    ├── ConfigError               the configuration file or an override is missing or wrong (exit 2)
    ├── UsageError                the command line asks for something impossible (exit 2)
    ├── InputError                an input file (CSV) is unusable as a whole (exit 2)
    ├── NotFound                  an id given on the command line does not exist
    ├── RunLocked                 another nightly run holds the lock
    └── ApplyError                an inbound file parsed but cannot be applied (the file is marked failed)

Errors of the X12 layer are ``edi.errors.EdiError``; of the mailboxes ``transports.errors.TransportError``.
"""

from __future__ import annotations

__all__ = ["ApplyError", "ConfigError", "InputError", "NotFound", "PipelineError", "RunLocked", "UsageError"]


class PipelineError(Exception):
    """Base of the use-case errors."""


class ConfigError(PipelineError):
    """The configuration is missing a key or has a bad value; the message names the key."""


class UsageError(PipelineError):
    """The command line asks for something that cannot be done."""


class InputError(PipelineError):
    """An input file is unusable as a whole (missing columns, unreadable)."""


class NotFound(PipelineError):
    """An id given on the command line does not exist."""


class RunLocked(PipelineError):
    """Another nightly run is in progress."""


class ApplyError(PipelineError):
    """An inbound file was parsed but cannot be applied; ``position`` says where, when known."""

    def __init__(self, message: str, position: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.position = position or {}
