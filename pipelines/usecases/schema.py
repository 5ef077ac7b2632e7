"""The database schema: create or upgrade it with Alembic (upgrade head)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine

import migrations

__all__ = ["alembic_config", "init_database", "migrate", "upgrade"]


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database at ``engine`` to the newest schema."""
    migrate(engine, "head")


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the database at ``engine`` to ``revision``, in one transaction.

    SQLite changes a table's keys by building it again (Alembic's batch mode), and dropping the old
    table deletes its rows first: with foreign keys enforced, that delete would cascade to the rows of
    other tables that name them (a claim payment's denials). So on SQLite foreign keys are off while
    the migrations run (the pragma only takes effect outside a transaction), every key is checked
    before the transaction commits, and they are on again afterwards.
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                (command.downgrade if down else command.upgrade)(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration to {revision} left rows naming a missing parent: "
                                           f"{broken[:5]}")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def init_database(url: str, engine: Engine) -> str:
    """Create the SQLite file's folder if needed and upgrade the schema; returns the safe URL."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    upgrade(engine)
    return engine.url.render_as_string(hide_password=True)
