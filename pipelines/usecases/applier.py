"""What an inbound applier gets and returns: :class:`ApplyContext` and the :data:`Applier` type.

An applier (``apply_835``, ``apply_999``, ``apply_ta1``, ``apply_277ca``, ``apply_277``,
``apply_271``) takes the context and the file's raw bytes, runs inside the savepoint of the file's
transaction (:func:`pipelines.usecases.ingest.process_file`) and returns counts for the log. Bad
content raises ``edi.errors.EdiError`` or :class:`pipelines.errors.ApplyError`; the caller marks
the file failed. The registry of appliers by file kind is ``pipelines.usecases.ingest.APPLIERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from models import File
from pipelines.config import Config

__all__ = ["ApplyContext", "Applier"]


@dataclass
class ApplyContext:
    """The open session (inside a savepoint), the file being applied, the configuration, and
    ``force`` (post an 835 that does not balance, or is addressed to another payee, after review:
    ``edi replay ID --force``)."""

    session: Session
    file: File
    config: Config
    force: bool = False


Applier = Callable[[ApplyContext, bytes], dict[str, Any]]
"""Applies one inbound file's bytes; returns counts (ints are summed into the ingest result)."""
