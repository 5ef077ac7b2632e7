"""The audit trail: one row per operator action that changed money or sent PHI (replay, ``--force``,
resubmit, code list and deposit imports): when, who (OS user and host), what, and what changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

__all__ = ["AuditEvent"]


class AuditEvent(Base):
    """One operator action that changed money or sent PHI; ``detail`` holds counts, ids and amounts, never PHI."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    os_user: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]]
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
