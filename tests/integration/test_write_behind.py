"""Writes of one session run behind on a thread (:class:`pipelines.usecases.bulk.WriteBehind`), on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from psycopg.errors import UniqueViolation
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import AuditEvent, ControlCounter
from pipelines.cli.app import App
from pipelines.usecases.bulk import WriteBehind, copy_rows, is_pg

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "write-behind"]


def _audit(s: Session, actions: list[str]) -> None:
    copy_rows(s, AuditEvent, ("at", "os_user", "host", "action", "subject", "detail", "forced"),
              [(NOW, "test", "host", a, "-", {}, False) for a in actions])


def test_writes_run_in_order_in_the_transaction_and_the_thread_ends(app: App) -> None:
    order: list[str] = []
    with app.transaction() as s:
        with WriteBehind(s) as writes:
            assert len(_threads()) == (1 if is_pg(s) else 0)  # SQLite: at once, in the caller's thread
            for k in range(3):
                writes.submit(_audit, [f"a{k}"])
                writes.submit(lambda _s, k=k: order.append(f"a{k}"))
            writes.drain()
            assert s.scalar(select(func.count()).select_from(AuditEvent)) == 3
        assert _threads() == []
    assert order == ["a0", "a1", "a2"]
    with app.transaction() as s:
        assert [a for (a,) in s.execute(select(AuditEvent.action).order_by(AuditEvent.id))] == ["a0", "a1", "a2"]


def test_the_first_failed_write_is_raised_by_drain_and_the_rest_skipped(app: App) -> None:
    ran: list[str] = []

    def duplicate(s: Session) -> None:
        ran.append("duplicate")
        copy_rows(s, ControlCounter, ("sender", "kind", "last_value"), [("X", "ISA13", 1), ("X", "ISA13", 2)])

    # a COPY's error comes from the driver itself (PostgreSQL), an executemany's through SQLAlchemy (SQLite)
    with pytest.raises((IntegrityError, UniqueViolation), match="(?i)unique"), app.transaction() as s, \
            WriteBehind(s) as writes:
        writes.submit(_audit, ["before"])
        writes.submit(duplicate)
        writes.submit(lambda _s: ran.append("after"))
        writes.drain()
    assert ran == ["duplicate"]  # on SQLite the error is raised by submit itself: nothing after it runs
    assert _threads() == []
    with app.transaction() as s:  # the file's transaction is lost whole
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_an_error_of_the_caller_stops_the_thread_without_waiting_for_a_drain(app: App) -> None:
    with pytest.raises(RuntimeError, match="rows could not be made"), app.transaction() as s, \
            WriteBehind(s) as writes:
        writes.submit(_audit, ["queued"])
        raise RuntimeError("rows could not be made")
    assert _threads() == []
