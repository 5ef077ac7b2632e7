"""The command line: the only room that knows the terminal and the ``App`` context.

``main`` (in :mod:`pipelines.cli.main`) parses the arguments and hands them to one small command
function per subcommand; those turn arguments into a use-case call and render what comes back.
"""

from pipelines.cli.main import main

__all__ = ["main"]
