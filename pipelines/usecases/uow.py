"""The unit of work the use cases take: the database, one transaction at a time."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import Engine, false, text, update
from sqlalchemy.orm import Session, sessionmaker

from models import ControlCounter, make_engine, make_session_factory

__all__ = ["UnitOfWork", "xact_lock"]


class UnitOfWork:
    """Opens the engine on first use; :meth:`transaction` commits a block that ends normally and
    rolls back one that raises, so a use case never leaves half of its work behind."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        if (url is None) == (engine is None):
            raise ValueError("give a database url or an engine")
        self._url = url
        if engine is not None:
            self.__dict__["engine"] = engine

    @cached_property
    def engine(self) -> Engine:
        assert self._url is not None
        return make_engine(self._url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def xact_lock(session: Session, space: int, data: bytes) -> None:
    """Hold, until this transaction ends, a lock that two workers about to store the same thing take
    in turn; the second then sees the first's rows.

    PostgreSQL: the advisory lock ``(space, crc32(data))`` (two values that share a checksum only
    wait for each other). SQLite has one writer at a time: the transaction takes the database's
    write lock now, with a write that changes nothing, so that what it reads from here on is not
    older than the other writer's commit (reads taken before the first write would be).
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(data) - 2**31  # PostgreSQL's int4
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": key})
    else:
        session.connection().execute(
            update(ControlCounter).where(false()).values(last_value=ControlCounter.last_value))
