"""SQLAlchemy 2 models and the engine/session factory. Nothing connects at import time."""

from models.base import Base, create_all, make_engine, make_session_factory, utcnow
from models.tables import *  # noqa: F403
from models.tables import __all__ as _tables

__all__ = ["Base", "create_all", "make_engine", "make_session_factory", "utcnow", *_tables]
