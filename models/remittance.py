"""Posted remittances (835): payments, adjustments, remarks, provider adjustments, denials."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

__all__ = [
    "Adjustment",
    "ClaimPayment",
    "CodeDescription",
    "Denial",
    "ProviderAdjustment",
    "Remark",
    "Remittance",
    "UnmatchedPayment",
]


class Remittance(Base):
    """One 835 transaction set posted; (payer_key, trace_number) is never posted twice. Never deleted
    (a trigger refuses it, migration 0005): its ClaimPayments name it without a foreign key."""

    __tablename__ = "remittances"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"), index=True)
    st_control: Mapped[str] = mapped_column(String(9))
    payer_key: Mapped[str] = mapped_column(String(80))  # TRN03 / N1*PR id
    payer_name: Mapped[str | None] = mapped_column(String(80))
    trace_number: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal]
    method: Mapped[str | None] = mapped_column(String(8))
    payment_date: Mapped[date | None]
    balanced: Mapped[bool] = mapped_column(Boolean)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    balance_errors: Mapped[list[str]] = mapped_column(default=list)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("payer_key", "trace_number"),)


class ClaimPayment(Base):
    """One CLP loop posted against a stored claim (reversals carry negative amounts). Never deleted (a
    trigger refuses it, migration 0005): its adjustments and remarks name it without a foreign key."""

    __tablename__ = "claim_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # no foreign key: the remittance the same transaction wrote; remittances are never deleted (migration 0005)
    remittance_id: Mapped[int] = mapped_column(index=True)
    claim_pk: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    status_code: Mapped[str] = mapped_column(String(2))
    charge: Mapped[Decimal]
    paid: Mapped[Decimal]
    patient_responsibility: Mapped[Decimal]
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Adjustment(Base):
    """A CAS adjustment at claim level (line_pk null) or line level."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Written with its claim payment, never on its own, and without foreign keys (a lookup per row on
    # the posting's busiest insert): the payment is append-only (migration 0005); claim_pk is its
    # claim, kept for nets per claim by one index (0004); line_pk a line of that claim, and a sent
    # claim's lines are never deleted (0005).
    claim_payment_id: Mapped[int] = mapped_column(index=True)
    claim_pk: Mapped[int] = mapped_column(index=True)
    line_pk: Mapped[int | None]
    group: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(5))
    amount: Mapped[Decimal]
    quantity: Mapped[Decimal | None]


class Remark(Base):
    """A remark code (RARC from LQ*HE, MOA or MIA) at claim or line level."""

    __tablename__ = "remarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_payment_id: Mapped[int] = mapped_column(index=True)  # as in Adjustment: no foreign keys
    claim_pk: Mapped[int] = mapped_column(index=True)
    line_pk: Mapped[int | None]
    code: Mapped[str] = mapped_column(String(8))


class ProviderAdjustment(Base):
    """A PLB adjustment recorded against the remittance."""

    __tablename__ = "provider_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(50))
    fiscal_date: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(4))
    reference: Mapped[str | None] = mapped_column(String(80))
    amount: Mapped[Decimal]


class UnmatchedPayment(Base):
    """An 835 claim that matches no claim we sent: kept for an operator to resolve."""

    __tablename__ = "unmatched_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[str] = mapped_column(String(50))  # CLP01 as the payer sent it
    status_code: Mapped[str] = mapped_column(String(2))
    charge: Mapped[Decimal]
    paid: Mapped[Decimal]
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]]
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Denial(Base):
    """A denial work item: one per denied claim or line adjustment (CONTRACT section 6)."""

    __tablename__ = "denials"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_pk: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    line_pk: Mapped[int | None] = mapped_column(ForeignKey("claim_lines.id"))
    claim_payment_id: Mapped[int | None] = mapped_column(ForeignKey("claim_payments.id", ondelete="CASCADE"))
    group: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(5))
    remarks: Mapped[list[str]] = mapped_column(default=list)
    amount: Mapped[Decimal]
    category: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    claim_payment: Mapped[ClaimPayment | None] = relationship()


class CodeDescription(Base):
    """An operator-loaded code list entry (CARC, RARC); overrides the built-in list."""

    __tablename__ = "code_descriptions"

    list_name: Mapped[str] = mapped_column(String(8), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    start_date: Mapped[date | None]
    stop_date: Mapped[date | None]
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
