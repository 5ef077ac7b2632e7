"""Rules for what payers send back: 835 matching and posting outcomes, 277CA and 277 decisions.

Pure functions and small dataclasses, used by :mod:`pipelines.usecases.posting` (835),
:mod:`pipelines.usecases.acks` (TA1/999) and :mod:`pipelines.usecases.status_responses` (277CA, 277):

* claim ids: :func:`claim_key` (how a 277 names our CLM01), :func:`normalize_claim_id` (how loosely
  an 835 CLP01 may name it), :func:`truncated_prefix` (a CLP01 the payer cut short);
  :func:`control_key` (ISA13/GS06/ST02 compared without padding);
* lines: :func:`match_lines` ties each 835 service line to one of our :class:`StoredLine`;
* status after posting: :func:`posting_outcome` gives the lifecycle ``POSTED_*`` event from the net
  of every posting of a claim (CONTRACT section 6);
* denials: :func:`denial_items` lists the adjustments of one posting that become work items;
* 277CA: :func:`acknowledgment_event` (accepted, rejected, or no word); 277: :func:`explains_status`
  (whether a status report's words become the claim's ``status_reason``);
* :func:`clip_reason` keeps a reason within the ``status_reason`` column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from pipelines.rules.denials import categorize
from pipelines.rules.lifecycle import ClaimStatus, Event, sources
from pipelines.rules.money import ZERO

if TYPE_CHECKING:
    from edi.x835 import Adjustment, ClaimPayment, ServiceLine

__all__ = [
    "ACCEPTED_CATEGORIES",
    "DENIAL_GROUPS",
    "MIN_PREFIX",
    "REASON_MAX",
    "STATUS_REASON_CATEGORIES",
    "DenialItem",
    "StoredClaim",
    "StoredLine",
    "acknowledgment_event",
    "claim_key",
    "clip_reason",
    "control_key",
    "denial_items",
    "explains_status",
    "is_denial",
    "match_lines",
    "normalize_claim_id",
    "patient_share",
    "posting_outcome",
    "truncated_prefix",
]

DENIAL_GROUPS = frozenset({"CO", "OA", "PI"})
"""CAS groups whose adjustments (other than CARC 45, the contractual write-down) deny money."""

ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})
"""277CA categories that accept a claim (received, accepted into adjudication, split)."""

STATUS_REASON_CATEGORIES = frozenset({"F2"})
"""277 categories (besides rejections) whose words become the claim's ``status_reason``."""

MIN_PREFIX = 4
"""The shortest truncated CLP01 we try as a prefix of our claim ids."""

REASON_MAX = 2000
"""The longest ``status_reason`` kept."""

# Claims a 277's rejection or finalized denial explains: what an acknowledgment may still move, and
# a denied claim (the 277 says why).
_EXPLAINED = frozenset({*sources(Event.ACK_ACCEPTED), ClaimStatus.DENIED})


# ------------------------------------------------------------------------------------------------
# Claim ids and control numbers
# ------------------------------------------------------------------------------------------------


def claim_key(value: str) -> str:
    """A claim id as a 277 or 999 echoes it, compared with ours: trimmed, upper case."""
    return value.strip().upper()


def normalize_claim_id(value: str) -> str:
    """CLP01 compared loosely: trimmed, upper case, zero padding and leading zeros of numbers dropped."""
    return re.sub(r"(?<!\d)0+(?=\d)", "", value.strip().upper().lstrip("0"))


def truncated_prefix(clp01: str) -> str | None:
    """The CLP01 to try as the start of one of our claim ids, or None when too short to be safe."""
    prefix = clp01.strip().upper()
    return prefix if len(prefix) >= MIN_PREFIX else None


def control_key(value: str | int | None) -> str:
    """A control number compared without padding: ' 000001002' -> '1002'."""
    text = str(value or "").strip()
    return (text.lstrip("0") or "0") if text.isdigit() else text


def clip_reason(text: str) -> str:
    """``text`` cut to :data:`REASON_MAX` characters, ending in "..." when cut."""
    return text if len(text) <= REASON_MAX else text[:REASON_MAX - 3] + "..."


# ------------------------------------------------------------------------------------------------
# Lines
# ------------------------------------------------------------------------------------------------


@dataclass
class StoredLine:
    """One of our claim lines as matching needs it; ``paid`` is the running net of its postings."""

    pk: int
    lcn: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal


@dataclass
class StoredClaim:
    """One of our claims an 835 claim matched, with its lines in line-number order."""

    pk: int
    claim_id: str
    frequency_code: str
    status: str
    lines: list[StoredLine] = field(default_factory=list)


def match_lines(stored: StoredClaim, lines: Sequence[ServiceLine]) -> list[StoredLine | None]:
    """Each 835 line's stored line: by REF*6R, else procedure + modifiers + charge (each used once)."""
    by_lcn = {ln.lcn: ln for ln in stored.lines}
    used: set[int] = set()
    out: list[StoredLine | None] = []
    for svc in lines:
        hit = by_lcn.get(svc.line_control_number or "") if svc.line_control_number else None
        if hit is None:
            charge = abs(svc.charge)
            hit = next((ln for ln in stored.lines if ln.pk not in used and ln.procedure == svc.procedure
                        and ln.modifiers == tuple(svc.modifiers) and ln.charge == charge), None)
        if hit is not None:
            used.add(hit.pk)
        out.append(hit)
    return out


# ------------------------------------------------------------------------------------------------
# Status after posting
# ------------------------------------------------------------------------------------------------


def is_denial(group: str, reason: str) -> bool:
    """Whether an adjustment with this group and CARC denies money (CO/OA/PI other than CARC 45)."""
    return group in DENIAL_GROUPS and reason != "45"


def patient_share(net_adjustments: Mapping[tuple[str, str], Decimal]) -> Decimal:
    """What the patient owes: the net of the PR adjustments."""
    return sum((a for (g, _r), a in net_adjustments.items() if g == "PR"), ZERO)


def posting_outcome(*, frequency_code: str, net_paid: Decimal, last_is_reversal: bool,
                    net_adjustments: Mapping[tuple[str, str], Decimal], net_patient: Decimal) -> Event:
    """The lifecycle event of a posting (CONTRACT section 6), from the net of every posting of the claim.

    void (a frequency 8 claim); reversed (the last posting is a reversal and nothing is left paid);
    paid (net payment > 0); denied (net 0 and CO/OA/PI other than CARC 45 remain); patient
    responsibility (net 0, the rest is PR); otherwise denied (nothing paid, nothing owed by the patient).
    """
    if frequency_code == "8":
        return Event.POSTED_VOID
    if last_is_reversal and net_paid <= 0:
        return Event.POSTED_REVERSED
    if net_paid > 0:
        return Event.POSTED_PAID
    if any(is_denial(g, r) and a != 0 for (g, r), a in net_adjustments.items()):
        return Event.POSTED_DENIED
    if net_patient > 0:
        return Event.POSTED_PATIENT_RESPONSIBILITY
    return Event.POSTED_DENIED


# ------------------------------------------------------------------------------------------------
# Denials
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DenialItem:
    """One denied adjustment of a posting: a work item; ``line`` indexes the 835's lines (None: claim level)."""

    line: int | None
    group: str
    reason: str
    amount: Decimal
    remarks: tuple[str, ...]
    category: str
    action: str


def _items(line: int | None, adjustments: Iterable[Adjustment], remarks: Sequence[str]) -> list[DenialItem]:
    out = []
    for a in adjustments:
        if is_denial(a.group, a.reason) and a.amount > 0:
            category, action = categorize(a.group, a.reason, remarks)
            out.append(DenialItem(line, a.group, a.reason, a.amount, tuple(remarks), category, action))
    return out


def denial_items(clp: ClaimPayment, status: ClaimStatus | str) -> list[DenialItem]:
    """The work items one posting opens, given the claim's status after posting.

    A reversal opens none, nor does a claim left anything but denied or paid. A denied claim: every
    CO/OA/PI adjustment other than CARC 45 with a positive amount, at claim and line level; a paid
    claim: the same for its lines paid nothing. A line's items carry its remarks, else the claim's.
    """
    if clp.is_reversal or status not in (ClaimStatus.DENIED, ClaimStatus.PAID):
        return []
    denied = status == ClaimStatus.DENIED
    out = _items(None, clp.adjustments, clp.remarks) if denied else []
    for i, svc in enumerate(clp.lines):
        if denied or svc.paid == 0:
            out += _items(i, svc.adjustments, tuple(svc.remarks) or clp.remarks)
    return out


# ------------------------------------------------------------------------------------------------
# 277CA and 277
# ------------------------------------------------------------------------------------------------


def acknowledgment_event(*, rejected: bool, categories: Iterable[str]) -> Event | None:
    """What a 277CA says of a claim: rejected (any rejection category), accepted (A1, A2, A5), or nothing."""
    if rejected:
        return Event.ACK_REJECTED
    if any(c in ACCEPTED_CATEGORIES for c in categories):
        return Event.ACK_ACCEPTED
    return None


def explains_status(status: ClaimStatus | str, *, rejected: bool, categories: Iterable[str]) -> bool:
    """Whether a 277's words become the ``status_reason`` of a claim in ``status`` (the status stays).

    Only a rejection or a finalized denial (F2) explains anything, and only for a claim sent and not
    yet paid (submitted, accepted, rejected) or denied: payment status comes from the 835.
    """
    return status in _EXPLAINED and (rejected or any(c in STATUS_REASON_CATEGORIES for c in categories))
