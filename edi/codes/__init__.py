"""X12 external code lists: CARC, RARC, claim status (507/508), service types (1365), CAS groups.

The bundled lists are CSV files beside this module (columns ``code, description, start_date,
stop_date, last_modified, notes``; origin and licence in ``ORIGIN.md`` and ``LICENSE.txt``). They
are old: a code that is not in a list is still a valid code to record, and :meth:`CodeList.describe`
answers ``"description not loaded"`` for it instead of failing. An operator loads a current list
with :func:`load_csv` (same columns) and the pipeline stores the rows it returns;
:meth:`CodeList.updated` lays such rows over a bundled list.

Usage::

    from edi import codes
    codes.carc().describe("45")          # 'Charge exceeds fee schedule/maximum allowable ...'
    codes.rarc().describe("N9999")       # 'description not loaded'
    rows = codes.load_csv("carc-2026.csv")
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

__all__ = [
    "DESCRIPTION_NOT_LOADED",
    "COLUMNS",
    "CodeEntry",
    "CodeList",
    "CodeListError",
    "adjustment_groups",
    "carc",
    "claim_status_categories",
    "claim_status_codes",
    "load_csv",
    "parse_csv",
    "rarc",
    "service_types",
]

DESCRIPTION_NOT_LOADED = "description not loaded"
COLUMNS = ("code", "description", "start_date", "stop_date", "last_modified", "notes")
_REQUIRED = ("code", "description")


class CodeListError(ValueError):
    """A code-list CSV cannot be read: missing columns, an empty code, or a date of unknown form."""


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One code of a list, with the dates X12 publishes for it."""

    code: str
    description: str
    start_date: date | None = None
    stop_date: date | None = None
    last_modified: date | None = None
    notes: str = ""

    def active_on(self, day: date) -> bool:
        """True when the code was in force on ``day`` (no dates means always)."""
        if self.start_date is not None and day < self.start_date:
            return False
        return self.stop_date is None or day < self.stop_date


class CodeList:
    """A read-only list of codes; lookups by code, with a safe description for unknown codes."""

    def __init__(self, name: str, entries: Iterable[CodeEntry]) -> None:
        self.name = name
        self._by_code: dict[str, CodeEntry] = {e.code: e for e in entries}

    def get(self, code: str) -> CodeEntry | None:
        """The entry for ``code`` (surrounding spaces ignored), or None when the list lacks it."""
        return self._by_code.get(code.strip())

    def describe(self, code: str) -> str:
        """The description of ``code``, or ``"description not loaded"`` for a code the list lacks."""
        entry = self._by_code.get(code.strip())
        return entry.description if entry is not None else DESCRIPTION_NOT_LOADED

    def updated(self, entries: Iterable[CodeEntry]) -> CodeList:
        """A new list: this one with ``entries`` added or replacing codes of the same value."""
        merged = dict(self._by_code)
        merged.update((e.code, e) for e in entries)
        return CodeList(self.name, merged.values())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip() in self._by_code

    def __iter__(self) -> Iterator[CodeEntry]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __repr__(self) -> str:
        return f"CodeList({self.name!r}, {len(self)} codes)"


def _parse_date(text: str, line: int, column: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CodeListError(f"line {line}: {column} {text!r} is not a date (MM/DD/YYYY or YYYY-MM-DD)")


def parse_csv(text: str, *, source: str = "code list") -> list[CodeEntry]:
    """Entries of a code-list CSV given as text; see :func:`load_csv`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise CodeListError(f"{source}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    reader.fieldnames = header
    out: list[CodeEntry] = []
    for row in reader:
        line = reader.line_num
        code = (row.get("code") or "").strip()
        if not code:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # blank line
            raise CodeListError(f"{source}: line {line}: empty code")
        out.append(CodeEntry(
            code=code,
            description=(row.get("description") or "").strip(),
            start_date=_parse_date(row.get("start_date") or "", line, "start_date"),
            stop_date=_parse_date(row.get("stop_date") or "", line, "stop_date"),
            last_modified=_parse_date(row.get("last_modified") or "", line, "last_modified"),
            notes=(row.get("notes") or "").strip(),
        ))
    return out


def load_csv(path: str | Path) -> list[CodeEntry]:
    """Read an operator-supplied code-list CSV (columns as the bundled lists; ``code`` and
    ``description`` required, the date columns optional, MM/DD/YYYY or YYYY-MM-DD).

    Returns the rows for the pipeline to store; raises :class:`CodeListError` naming the line.
    """
    p = Path(path)
    return parse_csv(p.read_text(encoding="utf-8"), source=p.name)


def _bundled(filename: str, name: str) -> CodeList:
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    return CodeList(name, parse_csv(text, source=filename))


@functools.cache
def carc() -> CodeList:
    """Claim Adjustment Reason Codes (code source 139), bundled list."""
    return _bundled("carc.csv", "CARC")


@functools.cache
def rarc() -> CodeList:
    """Remittance Advice Remark Codes (code source 411), bundled list."""
    return _bundled("rarc.csv", "RARC")


@functools.cache
def claim_status_categories() -> CodeList:
    """Claim status category codes (code source 507, STC01-1)."""
    return _bundled("claim_status_category_codes_507.csv", "claim status category")


@functools.cache
def claim_status_codes() -> CodeList:
    """Claim status codes (code source 508, STC01-2)."""
    return _bundled("claim_status_codes_508.csv", "claim status")


@functools.cache
def service_types() -> CodeList:
    """Service type codes (code source 1365, EQ01/EB03)."""
    return _bundled("service_type_codes_1365.csv", "service type")


@functools.cache
def adjustment_groups() -> CodeList:
    """Claim adjustment group codes (CAS01), from the 835 implementation guide."""
    return CodeList("claim adjustment group", [
        CodeEntry("CO", "Contractual Obligations"),
        CodeEntry("CR", "Corrections and Reversals"),
        CodeEntry("OA", "Other Adjustments"),
        CodeEntry("PI", "Payor Initiated Reductions"),
        CodeEntry("PR", "Patient Responsibility"),
    ])
