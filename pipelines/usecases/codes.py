"""CARC and RARC descriptions: operator-loaded lists first, then the bundled lists.

`edi codes import carc|rarc FILE` (:func:`import_code_list`) stores the rows of a current list (columns as the bundled CSVs,
``code`` and ``description`` required) in ``code_descriptions``; a code imported again is replaced.
:func:`describe` answers from those rows, then from :mod:`edi.codes`, else "description not loaded".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from edi import codes as bundled
from models import CodeDescription, utcnow
from pipelines.errors import InputError, UsageError
from pipelines.logs import get_logger
from pipelines.usecases.audit import record_audit
from pipelines.usecases.uow import UnitOfWork

__all__ = ["LISTS", "describe", "describe_many", "import_code_list", "import_entries"]

log = get_logger("edi")

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


def import_code_list(uow: UnitOfWork, list_name: str, path: str | Path) -> tuple[str, int]:
    """`edi codes import carc|rarc FILE`: the list's name and how many codes were stored.

    InputError when the file cannot be read or lacks the code/description columns.
    """
    name = _name(list_name)
    try:
        entries = bundled.load_csv(path)
    except bundled.CodeListError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with uow.transaction() as session:
        n = import_entries(session, name, entries)
        record_audit(session, "codes_import", f"{name} list {Path(path).name}",
                     {"list": name, "file": Path(path).name, "codes": n})
    log.info("codes_imported", list_name=name, codes=n)
    return name, n
