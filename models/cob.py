"""What each payer adjudicated on a claim that has a next payer (CONTRACT section 7).

One :class:`CobAdjudication` per posted 835 claim (CLP) of a leg whose encounter names a later
coverage: whether the payer forwarded the claim (CLP02 19, 20, 21 or a crossover carrier NM1*TT),
its 835 date, and per line the procedure, modifiers, units and amount paid as the payer's SVC says.
The claim- and line-level CAS are the posting's ``adjustments`` rows. The next leg's 2320/2430
loops are built from these (:mod:`pipelines.usecases.cob`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

__all__ = ["CobAdjudication"]


class CobAdjudication(Base):
    """One posting of a leg with a next payer. ``lines``: one JSON object per 835 service line,
    ``{"line_pk", "procedure", "modifiers", "units", "paid"}`` (``line_pk`` None when the line matched
    none of ours; ``paid`` a "0.00" string)."""

    __tablename__ = "cob_adjudications"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_payment_id: Mapped[int] = mapped_column(ForeignKey("claim_payments.id", ondelete="CASCADE"),
                                                  unique=True)
    claim_pk: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    adjudication_date: Mapped[date | None]
    lines: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
