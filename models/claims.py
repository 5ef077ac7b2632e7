"""Encounters, authorizations, claims and their lines, status history, eligibility on file."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

__all__ = [
    "Authorization",
    "Claim",
    "ClaimLine",
    "ClaimStatusEvent",
    "Eligibility",
    "Encounter",
    "Inquiry",
]

ZERO = Decimal("0.00")


class Encounter(Base):
    """One therapy session as imported from the practice's encounters CSV (holds PHI)."""

    __tablename__ = "encounters"

    encounter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    patient_last_name: Mapped[str] = mapped_column(String(60))
    patient_first_name: Mapped[str] = mapped_column(String(35))
    patient_dob: Mapped[date]
    patient_sex: Mapped[str] = mapped_column(String(1))
    patient_address: Mapped[str] = mapped_column(String(55))
    patient_city: Mapped[str] = mapped_column(String(30))
    patient_state: Mapped[str] = mapped_column(String(2))
    patient_zip: Mapped[str] = mapped_column(String(15))
    payer_id: Mapped[str] = mapped_column(String(32), index=True)
    member_id: Mapped[str] = mapped_column(String(80))
    relationship: Mapped[str] = mapped_column(String(8))
    subscriber_last_name: Mapped[str | None] = mapped_column(String(60))
    subscriber_first_name: Mapped[str | None] = mapped_column(String(35))
    subscriber_dob: Mapped[date | None]
    subscriber_sex: Mapped[str | None] = mapped_column(String(1))
    rendering_npi: Mapped[str] = mapped_column(String(10))
    rendering_last_name: Mapped[str] = mapped_column(String(60))
    rendering_first_name: Mapped[str] = mapped_column(String(35))
    rendering_credential: Mapped[str] = mapped_column(String(16))
    date_of_service: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    service: Mapped[str] = mapped_column(String(40))
    em_code: Mapped[str | None] = mapped_column(String(5))
    therapy_minutes: Mapped[int | None] = mapped_column(Integer)
    interactive_complexity: Mapped[bool] = mapped_column(Boolean, default=False)
    modality: Mapped[str] = mapped_column(String(16))
    patient_location: Mapped[str] = mapped_column(String(16))
    diagnoses: Mapped[list[str]]
    authorization_number: Mapped[str | None] = mapped_column(String(50))
    # Other coverage (CONTRACT section 7), same meaning as the primary columns; all None: no such coverage.
    secondary_payer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    secondary_member_id: Mapped[str | None] = mapped_column(String(80))
    secondary_relationship: Mapped[str | None] = mapped_column(String(8))
    secondary_subscriber_last_name: Mapped[str | None] = mapped_column(String(60))
    secondary_subscriber_first_name: Mapped[str | None] = mapped_column(String(35))
    secondary_subscriber_dob: Mapped[date | None]
    secondary_subscriber_sex: Mapped[str | None] = mapped_column(String(1))
    tertiary_payer_id: Mapped[str | None] = mapped_column(String(32))
    tertiary_member_id: Mapped[str | None] = mapped_column(String(80))
    tertiary_relationship: Mapped[str | None] = mapped_column(String(8))
    tertiary_subscriber_last_name: Mapped[str | None] = mapped_column(String(60))
    tertiary_subscriber_first_name: Mapped[str | None] = mapped_column(String(35))
    tertiary_subscriber_dob: Mapped[date | None]
    tertiary_subscriber_sex: Mapped[str | None] = mapped_column(String(1))
    source_file: Mapped[str | None] = mapped_column(Text)
    source_line: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class Authorization(Base):
    """A prior authorization on file for a patient and payer."""

    __tablename__ = "authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_number: Mapped[str] = mapped_column(String(50))
    patient_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date]
    end_date: Mapped[date]
    visits_authorized: Mapped[int] = mapped_column(Integer)
    service_codes: Mapped[list[str]]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("authorization_number", "patient_id", "payer_id"),)


class Claim(Base):
    """A claim built from one encounter (status per CONTRACT section 6).

    ``claim_id`` is CLM01, assigned by the system. A replacement or void claim is a new row whose
    ``original_claim_id`` names the claim it corrects. With more than one payer (CONTRACT section 7)
    each payer's claim is a leg of its own: ``payer_sequence`` P, S or T, ``prior_claim_id`` the
    previous payer's leg and ``prior_payment_date`` that payer's 835 date (timely filing counts from it).
    """

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(17), unique=True)
    encounter_id: Mapped[str] = mapped_column(ForeignKey("encounters.encounter_id"), index=True)
    patient_id: Mapped[str] = mapped_column(String(64))  # claims are found by patient through the encounter
    payer_id: Mapped[str] = mapped_column(String(32))  # looked up by ix_claims_payer_status
    status: Mapped[str] = mapped_column(String(24), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    hold_reasons: Mapped[list[str]] = mapped_column(default=list)
    warnings: Mapped[list[str]] = mapped_column(default=list)
    frequency_code: Mapped[str] = mapped_column(String(1), default="1")
    place_of_service: Mapped[str] = mapped_column(String(2))
    date_of_service: Mapped[date]
    diagnoses: Mapped[list[str]]
    authorization_number: Mapped[str | None] = mapped_column(String(50))
    billed: Mapped[Decimal] = mapped_column(default=ZERO)
    paid: Mapped[Decimal] = mapped_column(default=ZERO)
    patient_responsibility: Mapped[Decimal] = mapped_column(default=ZERO)
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    original_claim_id: Mapped[str | None] = mapped_column(String(17))
    payer_sequence: Mapped[str] = mapped_column(String(1), default="P", server_default="P")
    prior_claim_id: Mapped[str | None] = mapped_column(String(17), index=True)
    prior_payment_date: Mapped[date | None]
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"), index=True)
    st_control: Mapped[str | None] = mapped_column(String(9))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]

    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimLine.line_number")

    __table_args__ = (
        Index("ix_claims_payer_status", "payer_id", "status"),
        # one original next-payer leg per encounter and sequence, even when two processes create it at once
        Index("ux_claims_next_leg", "encounter_id", "payer_sequence", unique=True,
              postgresql_where=text("payer_sequence <> 'P' AND frequency_code = '1'"),
              sqlite_where=text("payer_sequence <> 'P' AND frequency_code = '1'")),
    )


class ClaimLine(Base):
    __tablename__ = "claim_lines"
    # PostgreSQL: room on each page for a new version of every line on it, so posting the paid amounts
    # of a claim's lines is a heap-only update (migrations 0004 and 0005)
    __table_args__ = {"postgresql_with": {"fillfactor": 45}}

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_pk: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    line_control_number: Mapped[str] = mapped_column(String(30), unique=True)
    procedure: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[list[str]]
    units: Mapped[int] = mapped_column(Integer)
    charge: Mapped[Decimal]
    diagnosis_pointers: Mapped[list[int]]
    paid: Mapped[Decimal] = mapped_column(default=ZERO)

    claim: Mapped[Claim] = relationship(back_populates="lines")


class ClaimStatusEvent(Base):
    """History of what the clearinghouse and payer said about a claim (999, 277CA, 277, 835)."""

    __tablename__ = "claim_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_pk: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int | None]  # no foreign key: files are never deleted (migration 0005)
    source: Mapped[str] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(8))
    code: Mapped[str | None] = mapped_column(String(8))
    entity: Mapped[str | None] = mapped_column(String(8))
    status_date: Mapped[date | None]
    description: Mapped[str | None] = mapped_column(Text)
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    trace: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Inquiry(Base):
    """A 270 or 276 sent: its trace number ties the 271 or 277 back to the patient or claim."""

    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(3))  # 270 or 276
    trace: Mapped[str] = mapped_column(String(50), unique=True)
    patient_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(32))
    claim_pk: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class Eligibility(Base):
    """Eligibility on file for a patient and payer, from a 271 (the newest row is current)."""

    __tablename__ = "eligibility"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool | None] = mapped_column(Boolean)  # None: the 271 gave no coverage (AAA only)
    plan_start: Mapped[date | None]
    plan_end: Mapped[date | None]
    benefits: Mapped[list[Any]] = mapped_column(default=list)
    rejections: Mapped[list[Any]] = mapped_column(default=list)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_eligibility_patient_payer", "patient_id", "payer_id"),)
