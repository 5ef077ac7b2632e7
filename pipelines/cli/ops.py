"""Operating commands: init, the nightly run, the report, the demo."""

from __future__ import annotations

from pipelines.cli.app import Command
from pipelines.demo import cmd_demo
from pipelines.usecases.nightly import cmd_run
from pipelines.usecases.report import cmd_report
from pipelines.usecases.schema import cmd_init

__all__ = ["COMMANDS"]

COMMANDS: dict[tuple[str, ...], Command] = {
    ("init",): cmd_init,
    ("run",): cmd_run,
    ("report",): cmd_report,
    ("demo",): cmd_demo,
}
