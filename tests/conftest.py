"""Shared fixtures: a configured App on SQLite or PostgreSQL, with a local mailbox in tmp_path.

PostgreSQL tests get a database of their own (created at session start, dropped at the end) so
that several test runs on one server never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from models import Base, make_engine
from pipelines.cli.app import App
from pipelines.config import load_config
from pipelines.usecases.schema import upgrade

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PG_ADMIN_URL = os.environ.get("EDI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL does not answer at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"edi_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    eng = make_engine(url)
    with eng.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    eng.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("sqlite-template") / "edi.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    with eng.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    eng.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh SQLite database with the schema at head and no rows."""
    path = tmp_path / "edi.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The database URL of each backend, with the schema at head and no rows."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    url = request.getfixturevalue("pg_url")
    _truncate(url)
    return url


def make_app(tmp_path: Path, db_url: str, **kwargs: object) -> App:
    """An App over the sample config, with its files in tmp_path and the given database."""
    cfg_dir = tmp_path / "practice"
    cfg_dir.mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "edi.toml", cfg_dir / "edi.toml")
    config = load_config(cfg_dir / "edi.toml", env={"EDI_DATABASE_URL": db_url})
    (cfg_dir / "var" / "mailbox").mkdir(parents=True, exist_ok=True)
    return App(config, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Iterator[App]:
    """A configured App on each backend (SQLite and PostgreSQL)."""
    a = make_app(tmp_path, db_url)
    yield a
    a.close()


@pytest.fixture
def sqlite_app(tmp_path: Path, sqlite_url: str) -> Iterator[App]:
    """A configured App on SQLite only (for tests that are not about persistence)."""
    a = make_app(tmp_path, sqlite_url)
    yield a
    a.close()
