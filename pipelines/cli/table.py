"""Plain-text tables for people on a terminal, and the one way amounts are written for them.

* :func:`usd` (:mod:`pipelines.rules.money`) writes an amount as ``$6,470.00`` (``-$25.00``; None is empty): every table and
  sentence a person reads uses it, while ``--json`` keeps the contract's ``"6470.00"``.
* :func:`render_table` lays rows out under a header: money columns are formatted with :func:`usd`
  and right-aligned, as are columns of numbers; long texts wrap at word boundaries so the table fits
  the terminal width (output to a pipe or file keeps whole lines), and are never cut (a single word longer than its column stays whole).
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from pipelines.rules.money import usd

__all__ = ["render_table", "terminal_width", "usd"]

_GAP = "  "
_NUMBER = re.compile(r"^[-+]?\$?[0-9][0-9,]*(\.[0-9]+)?%?$")
_MIN_WRAP = 12
"""A wrapped column is not made narrower than this (or than its longest word)."""



def terminal_width() -> int | None:
    """The terminal's width in characters (``COLUMNS`` wins); None when stdout is not a terminal
    (a pipe, a file or cron gets whole lines: nothing to fit)."""
    try:
        if not sys.stdout.isatty():
            return None
        columns = os.environ.get("COLUMNS", "")
        return int(columns) if columns.isdigit() and int(columns) > 0 else os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None


def _is_number(cell: Any) -> bool:
    return isinstance(cell, int | float | Decimal) and not isinstance(cell, bool) or (
        isinstance(cell, str) and bool(_NUMBER.match(cell)))


def _cell(value: Any, is_money: bool) -> str:
    if value is None:
        return ""
    return usd(value) if is_money else str(value)


def _fit(widths: list[int], floors: list[int], wrappable: list[bool], width: int) -> list[int]:
    """Narrow the widest wrappable columns until the row fits ``width`` or none can narrow further."""
    widths = list(widths)
    while sum(widths) + len(_GAP) * (len(widths) - 1) > width:
        candidates = [i for i, w in enumerate(widths) if wrappable[i] and w > floors[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for part in text.split("\n"):
        lines += textwrap.wrap(part, width, break_long_words=False, break_on_hyphens=False) or [""]
    return lines


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
                 money: Collection[int | str] = (), right: Collection[int | str] = (),
                 width: int | None = None) -> str:
    """``rows`` under ``headers`` as aligned text.

    ``money`` and ``right`` name columns (by index or header): money cells are written with
    :func:`usd`; both are right-aligned, as is any column whose filled cells are all numbers or
    amounts. Other columns wrap at word boundaries when the table is wider than ``width`` (default:
    the terminal's width).
    """
    heads = [str(h) for h in headers]
    n = len(heads)

    def picked(names: Collection[int | str]) -> set[int]:
        return {i for i, h in enumerate(heads) if i in names or h in names}

    money_cols = picked(money)
    cells = [[_cell(r[i], i in money_cols) for i in range(n)] for r in rows]
    right_cols = money_cols | picked(right) | {
        i for i in range(n) if any(r[i] for r in cells) and all(_is_number(r[i]) for r in cells if r[i] not in ("", "-"))}
    natural = [max([len(heads[i]), *(len(line) for r in cells for line in r[i].split("\n"))]) for i in range(n)]
    floors = [max([len(heads[i]), _MIN_WRAP, *(len(w) for r in cells for w in r[i].split())]) for i in range(n)]
    floors = [min(f, nat) for f, nat in zip(floors, natural, strict=True)]
    fit_to = width or terminal_width()
    widths = natural if fit_to is None else _fit(natural, floors, [i not in right_cols for i in range(n)], fit_to)

    def line(parts: Sequence[str]) -> str:
        return _GAP.join(p.rjust(widths[i]) if i in right_cols else p.ljust(widths[i])
                         for i, p in enumerate(parts)).rstrip()

    out = [line(heads), _GAP.join("-" * w for w in widths)]
    for r in cells:
        wrapped = [[c] if i in right_cols else _wrap(c, widths[i]) for i, c in enumerate(r)]
        for k in range(max(len(w) for w in wrapped)):
            out.append(line([w[k] if k < len(w) else "" for w in wrapped]))
    return "\n".join(out)
