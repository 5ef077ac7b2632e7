"""The file ledger, control number counters and nightly runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

__all__ = ["ControlCounter", "File", "FileTransaction", "Run", "RunStep"]


class File(Base):
    """Every X12 file sent or received. Stored (and archived) before it is processed.

    direction: ``out`` or ``in``. kind: 837P, 270, 276, 835, 999, TA1, 277CA, 271, 277, unknown.
    state, outbound: built -> sent -> accepted | accepted_with_errors | rejected.
    state, inbound: received -> processed | failed (| duplicate, for a byte-identical file).
    Never deleted (a trigger refuses it, migration 0005): status events name their file without a
    foreign key.
    """

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[str | None] = mapped_column(String(15))
    receiver_id: Mapped[str | None] = mapped_column(String(15))
    isa_control: Mapped[str | None] = mapped_column(String(9))
    gs_control: Mapped[str | None] = mapped_column(String(9))
    state: Mapped[str] = mapped_column(String(24), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    error_position: Mapped[dict[str, Any] | None]
    archive_path: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]

    transactions: Mapped[list[FileTransaction]] = relationship(
        back_populates="file", cascade="all, delete-orphan", order_by="FileTransaction.id")

    __table_args__ = (
        Index("ix_files_direction_state", "direction", "state"),
        Index("ix_files_isa", "sender_id", "isa_control"),
    )


class FileTransaction(Base):
    """One transaction set (ST) inside a file; a 999 is tied back through gs/st control numbers."""

    __tablename__ = "file_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[str] = mapped_column(String(3))
    gs_control: Mapped[str] = mapped_column(String(9))
    st_control: Mapped[str] = mapped_column(String(9))
    state: Mapped[str | None] = mapped_column(String(24))  # accepted / accepted_with_errors / rejected
    ack_errors: Mapped[list[Any] | None]

    file: Mapped[File] = relationship(back_populates="transactions")


class ControlCounter(Base):
    """Last control number used per sender and kind (ISA13, GS06, ST02, claim, line, trace)."""

    __tablename__ = "control_counters"

    sender: Mapped[str] = mapped_column(String(15), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Run(Base):
    """One nightly run (`edi run`) with its steps."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    as_of: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, ok, failed
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)

    steps: Mapped[list[RunStep]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="RunStep.id")


class RunStep(Base):
    __tablename__ = "run_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)

    run: Mapped[Run] = relationship(back_populates="steps")

    __table_args__ = (UniqueConstraint("run_id", "name"),)
