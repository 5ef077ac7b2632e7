"""Commands on files coming in and the file ledger: ingest, files list/show, replay."""

from __future__ import annotations

from pipelines.cli.app import Command
from pipelines.usecases.files import cmd_list, cmd_replay, cmd_show
from pipelines.usecases.ingest import cmd_ingest

__all__ = ["COMMANDS"]

COMMANDS: dict[tuple[str, ...], Command] = {
    ("ingest",): cmd_ingest,
    ("files", "list"): cmd_list,
    ("files", "show"): cmd_show,
    ("replay",): cmd_replay,
}
