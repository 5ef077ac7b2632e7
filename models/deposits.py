"""Bank deposits (`edi deposits import`): one row per line of the bank's deposit file, with the EFT
trace number it carries (normalized) and the 835 (``Remittance``) it was matched to, if any."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

__all__ = ["Deposit"]


class Deposit(Base):
    """A bank deposit line; the same (date, amount, trace number) imported again is not stored twice."""

    __tablename__ = "deposits"

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_date: Mapped[date]
    amount: Mapped[Decimal]
    reference: Mapped[str] = mapped_column(String(80))  # as the bank wrote it
    trace_number: Mapped[str] = mapped_column(String(80), index=True)  # the reference, normalized
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("remittances.id"), index=True, unique=True)
    source_file: Mapped[str] = mapped_column(String(255))
    source_line: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    matched_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("deposit_date", "amount", "trace_number"),)
