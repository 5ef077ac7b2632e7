"""The claim lifecycle: one status enum and one transition table.

Every status change in the system goes through :func:`transition`: the coder and scrubber
(``CODED_READY``/``CODED_HELD``), the 837P writer (``SENT``, ``BUILD_REFUSED``), the 999 and 277CA
appliers (``ACK_ACCEPTED``/``ACK_REJECTED``), the 835 poster (one ``POSTED_*`` event per outcome of
:func:`pipelines.rules.remittance.posting_outcome`), the next-payer rules (``CROSSED_OVER``) and a
replacement claim (``REPLACEMENT_SENT``). A move the table does not list raises
:class:`IllegalTransition`, so a late or stray file can never silently rewrite a claim's history.

``ClaimStatus`` is a ``StrEnum``: the database stores its value, and a status read back compares
equal to its member.

    held ──CODED_READY──► ready ──SENT──► submitted ──ACK_ACCEPTED──► accepted
      ▲ ◄──CODED_HELD────┘ ◄─BUILD_REFUSED─┘    │ ▲                        │
      │                                    ACK_REJECTED ─► rejected ◄──────┘
      └── (new claim: CODED_READY / CODED_HELD from nothing)
    submitted | accepted | rejected | adjudicated ──POSTED_*──► paid | denied |
                                                   patient_responsibility | reversed | void
"""

from __future__ import annotations

from enum import StrEnum

from pipelines.errors import PipelineError

__all__ = [
    "ADJUDICATED",
    "AWAITING_ANSWER",
    "FINAL",
    "UNSENT",
    "ClaimStatus",
    "Event",
    "IllegalTransition",
    "TRANSITIONS",
    "can",
    "sources",
    "transition",
]


class ClaimStatus(StrEnum):
    """CONTRACT section 6 (and section 7's ``crossed_over``)."""

    HELD = "held"
    READY = "ready"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    DENIED = "denied"
    PATIENT_RESPONSIBILITY = "patient_responsibility"
    REVERSED = "reversed"
    VOID = "void"
    CROSSED_OVER = "crossed_over"


class Event(StrEnum):
    """What happens to a claim."""

    CODED_READY = "coded_ready"          # coded and scrubbed with no hold
    CODED_HELD = "coded_held"            # coded and scrubbed with at least one hold
    BUILD_REFUSED = "build_refused"      # the 837P builder refused the claim's data
    SENT = "sent"                        # written into an 837P
    REPLACEMENT_SENT = "replacement_sent"  # a corrected claim (frequency 7) written into an 837P
    ACK_ACCEPTED = "ack_accepted"        # 277CA accepted it into adjudication
    ACK_REJECTED = "ack_rejected"        # 999 or 277CA rejected it
    POSTED_PAID = "posted_paid"          # 835 posting: net payment > 0
    POSTED_DENIED = "posted_denied"      # 835 posting: nothing paid, CO/OA/PI remain
    POSTED_PATIENT_RESPONSIBILITY = "posted_patient_responsibility"
    POSTED_REVERSED = "posted_reversed"  # 835 posting: the last posting reversed the payment
    POSTED_VOID = "posted_void"          # 835 posting on a void (frequency 8) claim
    CROSSED_OVER = "crossed_over"        # the previous payer forwarded the claim to this one


S = ClaimStatus
UNSENT = frozenset({S.HELD, S.READY})
AWAITING_ANSWER = frozenset({S.SUBMITTED, S.ACCEPTED})
ADJUDICATED = frozenset({S.PAID, S.DENIED, S.PATIENT_RESPONSIBILITY})
FINAL = frozenset({*ADJUDICATED, S.REVERSED, S.VOID})
# Claims an 835 may post to: anything sent (a payer may pay a claim its front end rejected, and a
# later 835 may correct or reverse an earlier one), and a crossed-over leg awaiting its 835.
_POSTABLE = frozenset({S.SUBMITTED, S.ACCEPTED, S.REJECTED, *FINAL, S.CROSSED_OVER})
_POSTED = {
    Event.POSTED_PAID: S.PAID,
    Event.POSTED_DENIED: S.DENIED,
    Event.POSTED_PATIENT_RESPONSIBILITY: S.PATIENT_RESPONSIBILITY,
    Event.POSTED_REVERSED: S.REVERSED,
    Event.POSTED_VOID: S.VOID,
}

# (status before, event) -> status after; ``None`` before means a claim that does not exist yet.
TRANSITIONS: dict[tuple[ClaimStatus | None, Event], ClaimStatus] = {
    **{(before, Event.CODED_READY): S.READY for before in (None, S.HELD, S.READY)},
    **{(before, Event.CODED_HELD): S.HELD for before in (None, S.HELD, S.READY)},
    (S.READY, Event.BUILD_REFUSED): S.HELD,
    (S.READY, Event.SENT): S.SUBMITTED,
    (None, Event.REPLACEMENT_SENT): S.SUBMITTED,
    # A 277CA may accept a claim a 999 or an earlier 277CA rejected (the payer's later word wins).
    **{(before, Event.ACK_ACCEPTED): S.ACCEPTED for before in (S.SUBMITTED, S.ACCEPTED, S.REJECTED)},
    **{(before, Event.ACK_REJECTED): S.REJECTED for before in (S.SUBMITTED, S.ACCEPTED, S.REJECTED)},
    **{(before, event): after for before in _POSTABLE for event, after in _POSTED.items()},
    (None, Event.CROSSED_OVER): S.CROSSED_OVER,
}


class IllegalTransition(PipelineError):
    """A status change the lifecycle does not allow (a bug, or a file applied out of order)."""

    def __init__(self, status: ClaimStatus | str | None, event: Event, claim_id: str | None = None) -> None:
        self.status, self.event, self.claim_id = status, event, claim_id
        who = f"claim {claim_id}" if claim_id else "a claim"
        was = f"in status {status}" if status is not None else "that does not exist yet"
        allowed = ", ".join(sorted(str(s) for s in sources(event))) or "none"
        super().__init__(f"{who} {was} cannot take event {event} (allowed from: {allowed})")


def _status(value: ClaimStatus | str | None) -> ClaimStatus | None:
    return None if value is None else ClaimStatus(value)


def can(status: ClaimStatus | str | None, event: Event) -> bool:
    """Whether ``event`` may happen to a claim in ``status``."""
    return (_status(status), event) in TRANSITIONS


def transition(status: ClaimStatus | str | None, event: Event, *, claim_id: str | None = None) -> ClaimStatus:
    """The status after ``event``; :class:`IllegalTransition` when the table has no such move."""
    try:
        return TRANSITIONS[(_status(status), event)]
    except (KeyError, ValueError):
        raise IllegalTransition(status, event, claim_id) from None


def sources(event: Event) -> frozenset[ClaimStatus | None]:
    """Every status ``event`` may move a claim from (for queries: ``Claim.status.in_(...)``)."""
    return frozenset(before for before, e in TRANSITIONS if e is event)
