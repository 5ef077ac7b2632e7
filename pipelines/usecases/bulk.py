"""Bulk reads and writes shared by the use cases that touch many rows (coding, posting).

On PostgreSQL rows go in as one ``INSERT ... SELECT FROM unnest(arrays)`` (and updates as
``UPDATE ... FROM unnest``) per 5,000 rows: one short statement with one array parameter per
column, instead of a multi-row VALUES statement whose text grows with the batch. Primary keys are
taken from the table's sequence beforehand (:func:`new_ids`). On SQLite the same calls use
SQLAlchemy's multi-row inserts and executemany.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, insert, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

__all__ = ["chunks", "in_list", "insert_rows", "is_pg", "new_ids", "update_rows"]


def chunks(items: Sequence[Any], size: int = 2000) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def is_pg(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def in_list(col: Any, items: Sequence[Any], pg: bool) -> ColumnElement[bool]:
    """``col IN (...)``; on PostgreSQL ``col = ANY(array)``: one parameter, a short cached statement."""
    result: ColumnElement[bool] = (col == any_(bindparam(None, list(items), type_=ARRAY(col.type))) if pg
                                   else col.in_(list(items)))
    return result


@functools.cache
def _pg_type(col: Any) -> str:
    return str(col.type.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


def _pg_value(col: Any, value: Any) -> Any:
    return json.dumps(value) if _pg_type(col) == "JSON" else value


def _pg_arrays(table: Any, cols: Sequence[str], rows: Sequence[dict[str, Any]]) -> tuple[str, list[Any]]:
    """``unnest(%s::type[], ...) AS v(cols)`` and its parameters: one array per column."""
    casts = ", ".join(f"%s::{_pg_type(table.c[c])}[]" for c in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    params = [[json.dumps(r[c]) for r in rows] if _pg_type(table.c[c]) == "JSON" else [r[c] for r in rows]
              for c in cols]  # column by column: the type is looked up once per column, not per cell
    return f"unnest({casts}) AS v({names})", params


def _scalar_defaults(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The Python-side defaults (constants and callables) of the columns ``row`` leaves out."""
    out: dict[str, Any] = {}
    for col in table.columns:
        d = col.default
        if col.name in row or d is None or col.primary_key:
            continue
        if d.is_scalar:
            out[col.name] = d.arg
        elif d.is_callable:
            out[col.name] = d.arg(None)
    return out


def insert_rows(s: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert. PostgreSQL: INSERT ... SELECT FROM unnest(arrays), one statement per 5000 rows.
    SQLite: insertmanyvalues (multi-row VALUES) through RETURNING."""
    if not rows:
        return
    if is_pg(s):
        table = model.__table__
        defaults = _scalar_defaults(table, rows[0])
        if defaults:  # raw SQL does not apply the models' Python-side defaults: add them
            rows = [defaults | r for r in rows]
        cols = list(rows[0])
        names = ", ".join(f'"{c}"' for c in cols)
        for chunk in chunks(rows, 5000):
            source, params = _pg_arrays(table, cols, chunk)
            s.connection().exec_driver_sql(
                f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {source}', tuple(params))
        return
    for chunk in chunks(rows):
        s.execute(insert(model).returning(model.id), list(chunk)).all()


def new_ids(s: Session, model: Any, n: int) -> list[int]:
    """``n`` primary keys for ``model``: from its sequence on PostgreSQL, None (autoincrement) elsewhere."""
    table = model.__table__.name
    return list(s.connection().exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, n)).scalars())


def update_rows(s: Session, model: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str],
            constants: dict[str, Any] | None = None) -> None:
    """UPDATE by primary key: FROM unnest(arrays) on PostgreSQL, executemany on SQLite."""
    table = model.__table__
    cols = ("id", *keys)
    consts = constants or {}
    if not is_pg(s):
        stmt = update(table).where(table.c.id == bindparam("_id")).values(
            {**{k: bindparam(f"_{k}") for k in keys}, **consts})
        s.connection().execute(stmt, [{f"_{k}": r[k] for k in cols} for r in rows])
        return
    sets = ", ".join([f'"{k}" = v."{k}"' for k in keys] + [f'"{k}" = %s' for k in consts])
    for chunk in chunks(rows, 5000):
        source, params = _pg_arrays(table, cols, chunk)
        s.connection().exec_driver_sql(
            f'UPDATE "{table.name}" AS t SET {sets} FROM {source} WHERE t.id = v.id',
            tuple([*[_pg_value(table.c[k], v) for k, v in consts.items()], *params]))
