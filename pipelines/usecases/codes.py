"""CARC and RARC descriptions: operator-loaded lists first, then the bundled lists.

`edi codes import carc|rarc FILE` stores the rows of a current list (columns as the bundled CSVs,
``code`` and ``description`` required) in ``code_descriptions``; a code imported again is replaced.
:func:`describe` answers from those rows, then from :mod:`edi.codes`, else "description not loaded".
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from edi import codes as bundled
from models import CodeDescription, utcnow
from pipelines.cli.app import App
from pipelines.errors import InputError, UsageError

__all__ = ["LISTS", "cmd_import", "describe", "describe_many", "import_entries"]

LISTS = ("carc", "rarc")
_CHUNK = 1000


def _bundled(list_name: str) -> bundled.CodeList:
    return bundled.carc() if list_name == "carc" else bundled.rarc()


def _name(list_name: str) -> str:
    name = list_name.strip().lower()
    if name not in LISTS:
        raise UsageError(f"unknown code list {list_name!r}; expected carc or rarc")
    return name


def describe(session: Session, list_name: str, code: str) -> str:
    """The description of ``code`` in the CARC or RARC list: loaded, else bundled, else not loaded."""
    name, code = _name(list_name), code.strip()
    loaded = session.scalar(select(CodeDescription.description)
                            .where(CodeDescription.list_name == name, CodeDescription.code == code))
    return loaded if loaded else _bundled(name).describe(code)


def describe_many(session: Session, list_name: str, codes: Iterable[str]) -> dict[str, str]:
    """:func:`describe` for many codes with one query per thousand codes."""
    name = _name(list_name)
    wanted = sorted({c.strip() for c in codes})
    loaded: dict[str, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        for code, text in session.execute(select(CodeDescription.code, CodeDescription.description).where(
                CodeDescription.list_name == name, CodeDescription.code.in_(wanted[i:i + _CHUNK]))):
            loaded[code] = text
    listed = _bundled(name)
    return {c: loaded.get(c) or listed.describe(c) for c in wanted}


def import_entries(session: Session, list_name: str, entries: Iterable[bundled.CodeEntry]) -> int:
    """Store ``entries`` as the loaded descriptions of ``list_name`` (replacing the same codes)."""
    name = _name(list_name)
    rows = {e.code: e for e in entries}
    codes = list(rows)
    now = utcnow()
    for i in range(0, len(codes), _CHUNK):
        part = codes[i:i + _CHUNK]
        session.execute(delete(CodeDescription).where(CodeDescription.list_name == name,
                                                      CodeDescription.code.in_(part)))
        session.execute(insert(CodeDescription), [
            {"list_name": name, "code": c, "description": rows[c].description, "start_date": rows[c].start_date,
             "stop_date": rows[c].stop_date, "loaded_at": now} for c in part])
    return len(codes)


def cmd_import(app: App, args: argparse.Namespace) -> int:
    """`edi codes import carc|rarc FILE`."""
    name = _name(args.list_name)
    try:
        entries = bundled.load_csv(args.file)
    except bundled.CodeListError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    with app.transaction() as session:
        n = import_entries(session, name, entries)
    app.log.info("codes_imported", list_name=name, codes=n)
    app.emit({"list": name, "imported": n}, f"imported {n} {name.upper()} code(s)")
    return 0
