"""Bulk reads and writes shared by the use cases that touch many rows (coding, posting).

On PostgreSQL rows go in as one ``INSERT ... SELECT FROM unnest(arrays)`` (and updates as
``UPDATE ... FROM unnest``) per 5,000 rows: one short statement with one array parameter per
column, instead of a multi-row VALUES statement whose text grows with the batch. Primary keys are
taken from the table's sequence beforehand (:func:`new_ids`). On SQLite the same calls use
SQLAlchemy's multi-row inserts and executemany.

For the largest writes (835 posting), :func:`copy_rows` and :func:`copy_update` take rows as tuples:
on PostgreSQL they go through ``COPY ... FROM STDIN`` (psycopg formats the rows in C), straight into
the table, or into a TEMP staging table applied with one ``UPDATE ... FROM``; :func:`key_set` stages
a set of keys that queries join. On SQLite they are executemany and plain ``IN`` lists.

:func:`collector_paused` pauses Python's cycle collector while a chunk of bulk work runs.
"""

from __future__ import annotations

import functools
import gc
import json
import queue
import threading
import zlib
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Result,
    Text,
    TypeDecorator,
    any_,
    bindparam,
    cast,
    column,
    func,
    insert,
    select,
    table,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

__all__ = ["WriteBehind", "chunks", "collector_paused", "copy_rows", "copy_update", "in_list", "insert_rows", "is_pg",
           "key_set", "new_ids", "read_columns", "record_type", "records", "update_rows"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while one chunk of bulk work runs (it runs again afterwards).

    A chunk makes hundreds of thousands of short-lived objects (rows read, claims coded, segments
    written) that reference counting frees; the collector would only walk the live ones again and
    again (a quarter to a third of the CPU time of claims out). Memory stays flat: a chunk is bounded
    and whatever cycles it leaves are collected once the collector runs again. Nested uses are free.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class WriteBehind:
    """Writes of one session that run in order on a thread of their own while the caller computes
    the next rows (PostgreSQL); on SQLite they run at once, in the caller's thread.

    ``submit(fn, *args)`` queues ``fn(session, *args)``. The caller must not use the session again
    before :meth:`drain`, which waits for every queued write and raises the first one's error (the
    writes queued after a failed one are skipped: the transaction is lost anyway). While the database
    runs a write (a COPY's foreign-key checks, an UPDATE), the driver lets go of the interpreter
    lock, so the caller's Python work and the server's work overlap. Use it as a context manager:
    leaving waits for the writes in hand and stops the thread, also on an error.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if is_pg(session):
            self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if self._error is None:
                    job[0](self.session, *job[1])
            except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread by drain()
                self._error = e
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._thread is None:
            fn(self.session, *args)
        else:
            self._jobs.put((fn, args))

    def drain(self) -> None:
        if self._thread is not None:
            self._jobs.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        if exc_type is None and self._error is not None:
            raise self._error


@functools.lru_cache(maxsize=64)
def record_type(fields: tuple[str, ...]) -> Any:
    """The named tuple type of rows with these columns (made once per set of columns)."""
    return namedtuple("Record", fields)


def records(result: Result[Any]) -> list[Any]:
    """A query's rows as named tuples, the type made once from the result's columns.

    Reading a column of a SQLAlchemy ``Row`` by attribute costs a failed class attribute lookup
    (about 0.2 us), and ``Row._fields`` is worked out again for every row; a named tuple's
    attribute is an index. Worth it where each row's columns are read many times (coding reads 17
    per encounter, the 837P batch some 40 per claim).
    """
    make = record_type(tuple(result.keys()))._make
    return [make(row) for row in result.all()]  # all(): one fetch, not one per row


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
    """``n`` primary keys for ``model``: from its sequence on PostgreSQL, None (autoincrement) elsewhere.
    The sequence is looked up once (a scalar subquery), not for every key: six times faster."""
    table = model.__table__.name
    return list(s.connection().exec_driver_sql(
        "SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id')::regclass)) FROM generate_series(1, %s)",
        (table, n)).scalars().all())


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


def _json_columns(table: Any, cols: Sequence[str]) -> list[int]:
    return [k for k, c in enumerate(cols) if _pg_type(table.c[c]) == "JSON"]


@functools.lru_cache(maxsize=8192)
def _json_of_tuple(value: tuple[Any, ...]) -> str:
    return json.dumps(value)


def _json_text(value: Any) -> str:
    """``json.dumps(value)``; a list of only strings or only ints is written once per distinct list
    (bulk rows repeat them; other lists are not remembered: True == 1 would share an entry)."""
    if value.__class__ is list:
        if not value:
            return "[]"
        kind = value[0].__class__
        if (kind is str or kind is int) and all(v.__class__ is kind for v in value):
            return _json_of_tuple(tuple(value))
    return json.dumps(value)


def _copy_in(s: Session, target: str, cols: Sequence[str], rows: Iterable[Sequence[Any]], json_at: Sequence[int]) -> None:
    """``COPY target (cols) FROM STDIN`` of ``rows`` on the session's connection (its transaction)."""
    names = ", ".join(f'"{c}"' for c in cols)
    driver = s.connection().connection.driver_connection
    assert driver is not None  # an open connection: the session's transaction
    with driver.cursor() as cur, \
            cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        write = copy.write_row
        if json_at:
            for row in rows:
                values = list(row)
                for k in json_at:
                    values[k] = _json_text(values[k])
                write(values)
        else:
            for row in rows:
                write(row)


def copy_rows(s: Session, model: Any, cols: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Bulk insert of rows given as tuples in ``cols`` order (JSON columns as Python values).

    PostgreSQL: ``COPY table (cols) FROM STDIN``; the columns left out take their server defaults (an
    ``id`` left out comes from the table's sequence, in row order). Python-side defaults of the columns
    left out are added first, as :func:`insert_rows` does. SQLite: executemany.
    """
    if not rows:
        return
    table = model.__table__
    defaults = _scalar_defaults(table, dict.fromkeys(cols))
    if defaults:
        cols = (*cols, *defaults)
        extra = tuple(defaults.values())
        rows = [(*r, *extra) for r in rows]
    if not is_pg(s):  # executemany (no RETURNING: sqlite3 loops over the rows in C)
        s.connection().execute(insert(table), [dict(zip(cols, r, strict=True)) for r in rows])
        return
    _copy_in(s, f'"{table.name}"', cols, rows, _json_columns(table, cols))


def _stage(s: Session, name: str, cols: Sequence[str], types: Sequence[str]) -> str:
    """A TEMP table (dropped at commit) for this transaction's staged rows, created if need be and emptied."""
    columns = ", ".join(f'"{c}" {t}' for c, t in zip(cols, types, strict=True))
    s.connection().exec_driver_sql(f'CREATE TEMP TABLE IF NOT EXISTS "{name}" ({columns}) ON COMMIT DROP; '
                                   f'TRUNCATE "{name}"')
    return f'"{name}"'


def key_set(s: Session, name: str, col: Any, values: Sequence[Any]) -> Any:
    """What ``col.in_()`` takes for ``values``, to use in one or more queries of this transaction.

    PostgreSQL: the values are COPY'd into the TEMP table ``_keys_<name>`` (emptied first: one set
    per name at a time) and read as a subquery, so a query joins them instead of taking an array
    parameter that the driver formats element by element. SQLite: the list itself.
    """
    if not is_pg(s):
        return list(values)
    kind = _pg_type(col)
    stage = _stage(s, f"_keys_{name}", ("v",), ("TEXT" if kind.startswith("VARCHAR") else kind,))  # any length
    _copy_in(s, stage, ("v",), [(v,) for v in values], ())
    return select(column("v")).select_from(table(f"_keys_{name}"))


def copy_update(s: Session, model: Any, cols: Sequence[str], rows: Sequence[Sequence[Any]],
                constants: dict[str, Any] | None = None, keep_null: Sequence[str] = ()) -> None:
    """UPDATE by primary key from rows given as tuples ``(id, *cols)``; ``constants`` are set on every row;
    a column in ``keep_null`` keeps its stored value where the row has None.

    PostgreSQL: the rows are COPY'd into a TEMP staging table (dropped at commit, emptied before each
    use) and applied with one ``UPDATE ... FROM``. SQLite: executemany.
    """
    if not rows:
        return
    table = model.__table__
    consts = constants or {}

    def value(c: str, new: Any) -> Any:
        return func.coalesce(new, table.c[c]) if c in keep_null else new

    if not is_pg(s):
        stmt = update(table).where(table.c.id == bindparam("_id")).values(
            {**{c: value(c, bindparam(f"_{c}")) for c in cols}, **consts})
        keys = [f"_{c}" for c in ("id", *cols)]
        s.connection().execute(stmt, [dict(zip(keys, r, strict=True)) for r in rows])
        return
    all_cols = ("id", *cols)
    stage = _stage(s, f"_stage_{table.name}_{zlib.crc32(' '.join(all_cols).encode()):08x}", all_cols,
                   [_pg_type(table.c[c]) for c in all_cols])
    _copy_in(s, stage, all_cols, rows, _json_columns(table, all_cols))
    sets = ", ".join([f'"{c}" = COALESCE(v."{c}", t."{c}")' if c in keep_null else f'"{c}" = v."{c}"' for c in cols]
                     + [f'"{k}" = %s' for k in consts])
    s.connection().exec_driver_sql(f'UPDATE "{table.name}" AS t SET {sets} FROM {stage} AS v WHERE t.id = v.id',
                                   tuple(_pg_value(table.c[k], v) for k, v in consts.items()))


@functools.lru_cache(maxsize=8192)
def _json_list(text: str) -> tuple[Any, ...] | None:
    """A JSON text that is a list of scalars, as a tuple (None for any other JSON)."""
    value = json.loads(text)
    if isinstance(value, list) and not any(isinstance(v, list | dict) for v in value):
        return tuple(value)
    return None


class _JSONText(TypeDecorator[Any]):
    """A JSON column read as text and parsed here: a list of scalars once per distinct text (bulk
    reads repeat the same short lists), handed out as a new list each time; other JSON as json.loads."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        found = _json_list(value)
        return list(found) if found is not None else json.loads(value)


def read_columns(table: Any) -> list[Any]:
    """Every column of ``table`` for a select of many rows: the same names and values, but JSON
    columns come as text parsed by :class:`_JSONText` (psycopg would parse each value on its own)."""
    return [type_coerce(cast(c, Text), _JSONText()).label(c.name) if isinstance(c.type, JSON) else c
            for c in table.columns]
