"""The command line's context: config, unit of work, mailbox, output. Only ``pipelines.cli`` knows it;
the use cases take the parts they need (config, a unit of work, a mailbox, ``as_of``) as arguments."""

from __future__ import annotations

import argparse
import json as _json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipelines.config import Config, load_config
from pipelines.logs import get_logger
from pipelines.usecases.uow import UnitOfWork

if TYPE_CHECKING:
    from transports import Mailbox

__all__ = ["Advance", "App", "Command"]

Advance = Callable[..., None]
"""Moves a progress bar: ``advance()`` one step, ``advance(n)``, ``advance(label="ingest")``."""


class App:
    """Lazily opened resources for one command; build with :meth:`from_config` or directly."""

    def __init__(self, config: Config | None = None, *, config_path: str | None = None,
                 as_of: date | None = None, json: bool = False, debug: bool = False,
                 out: Any = None) -> None:
        self._config = config
        self._config_path = config_path
        self.as_of = as_of or date.today()
        self.json = json
        self.debug = debug
        self.out = out or sys.stdout
        self.log = get_logger("edi")
        self.progress = bool(getattr(self.out, "isatty", lambda: False)()) and not json
        """A person watches: stdout is a terminal and not --json (never under cron)."""

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self._config_path)
        return self._config

    @cached_property
    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.config.database_url)

    @property
    def engine(self) -> Engine:
        return self.uow.engine

    def transaction(self) -> AbstractContextManager[Session]:
        """A unit of work: commits when the block ends normally, rolls back otherwise."""
        return self.uow.transaction()

    def mailbox(self) -> Mailbox:
        from pipelines.usecases.mailbox import open_configured_mailbox

        return open_configured_mailbox(self.config)

    def emit(self, data: Any, text: str | Callable[[], str] | None = None) -> None:
        """Print ``data`` as JSON with --json, else the human ``text`` (or nothing)."""
        if self.json:
            self.out.write(_json.dumps(data, indent=2, default=str) + "\n")
        elif text is not None:
            body = text() if callable(text) else text
            if body:
                self.out.write(body.rstrip("\n") + "\n")

    @contextmanager
    def progress_bar(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """A progress bar (a spinner when ``total`` is unknown) on the terminal while the block runs,
        erased when it ends; nothing at all unless :attr:`progress`. Yields the function that moves it."""
        if not self.progress:
            yield lambda n=1, label=None: None
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        with Progress(*columns, TimeElapsedColumn(), console=Console(file=self.out), transient=True) as bar:
            task = bar.add_task(description, total=total)

            def advance(n: int = 1, label: str | None = None) -> None:
                bar.update(task, advance=n, description=f"{description} {label}" if label else description)

            yield advance

    def close(self) -> None:
        if "uow" in self.__dict__:
            self.uow.close()


Command = Callable[[App, argparse.Namespace], int]
"""A subcommand: turns the parsed arguments into a use-case call and renders what comes back."""
