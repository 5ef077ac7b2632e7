"""`edi init`: create or upgrade the database schema with Alembic (upgrade head)."""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine

import migrations
from pipelines.cli.app import App

__all__ = ["alembic_config", "cmd_init", "upgrade"]


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database at ``engine`` to the newest schema."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def cmd_init(app: App, args: argparse.Namespace) -> int:
    url = app.config.database_url
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    upgrade(app.engine)
    app.log.info("schema_upgraded")
    app.emit({"database": app.engine.url.render_as_string(hide_password=True), "schema": "head"},
             f"database schema is up to date ({app.engine.url.render_as_string(hide_password=True)})")
    return 0
