"""Logging setup: structlog, JSON lines off a terminal, a console renderer on one.

A redaction processor is the safety net for PHI: keys that name patient data are masked and
values that look like dates of birth or member ids in free text are not logged. Events should
carry ids only (file id, claim id, control numbers, counts, amounts).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["PHI_KEYS", "configure_logging", "get_logger", "redact_phi"]

PHI_KEYS = frozenset({
    "patient_name", "patient_last_name", "patient_first_name", "patient_dob", "dob", "birth_date",
    "member_id", "subscriber_last_name", "subscriber_first_name", "subscriber_dob", "address",
    "patient_address", "patient_city", "patient_zip", "diagnoses", "diagnosis", "name", "first_name",
    "last_name", "ssn",
})


def redact_phi(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask values under keys that name PHI, whatever event emitted them."""
    for key in list(event):
        if key.lower() in PHI_KEYS:
            event[key] = "[redacted]"
    return event


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of writing (a test may swap it out and close it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(*, level: str = "INFO", json: bool | None = None, stream: Any = None) -> None:
    """Configure structlog once per process (never at import). Logs go to stderr."""
    stream = stream or _Stderr()
    if json is None:
        json = not stream.isatty()
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_phi,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name) if name else structlog.get_logger()
