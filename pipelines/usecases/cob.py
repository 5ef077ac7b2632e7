"""Coordination of benefits: secondary and tertiary legs (CONTRACT section 7).

Two hooks are called by the 835 poster (:mod:`pipelines.usecases.posting`), whatever its inner
shape; everything else about next legs lives here and in :mod:`pipelines.rules.cob`.

* :func:`route_to_legs` -- after ordinary CLP01 matching, send each 835 claim to the leg of the chain
  whose payer sent this 835 (a crossover payer's 835 may name the primary's claim id), or to
  nowhere (``None``: kept unmatched) when that leg does not exist yet.
* :func:`after_posting` -- after a chunk's claims got their new status: remember what each payer
  adjudicated for the next leg, mark forwarded claims, warn about reversals under a sent next leg.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from edi.x835 import ClaimPayment as Clp
from pipelines.config import Config
from pipelines.rules.lifecycle import ClaimStatus

__all__ = ["Posted", "after_posting", "route_to_legs"]


@dataclass(frozen=True, slots=True)
class Posted:
    """One 835 claim as posted: the CLP, our claim's pk, each 835 line's matched line pk (or None),
    the ClaimPayment row id and the claim's status after the posting."""

    clp: Clp
    claim_pk: int
    line_pks: tuple[int | None, ...]
    payment_id: int
    status: ClaimStatus


def route_to_legs(session: Session, config: Config, payer_ids: Sequence[str],
                  found: Mapping[str, int]) -> dict[str, int | None]:
    """CLP01 -> the pk of the claim leg this 835 posts to (``None``: keep it unmatched).

    ``payer_ids`` are the 835's identifications of its payer (N1*PR N104, REF*2U, TRN03), matched
    against ``payers[].payer_id``; ``found`` is what ordinary matching found for each CLP01.
    """
    return dict(found)


def after_posting(session: Session, config: Config, posted: Sequence[Posted], *,
                  payment_date: date | None, now: datetime) -> Counter[str]:
    """Record what matters for the next payer after a chunk was posted; returns counts."""
    return Counter()
