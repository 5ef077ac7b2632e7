"""Eligibility as the 271s tell it: which answer is "on file", what it says about a date of service,
which patient/payer pairs are due a 270, and a one-line summary of a benefit.

Pure functions; the use cases (:mod:`pipelines.usecases.eligibility`, the coder in
:mod:`pipelines.usecases.claims`) load the rows and call these.

*The eligibility on file* for a patient and payer is the newest 271 answer that states coverage
(active or inactive). A 271 with only rejections (AAA: subscriber not found, payer unavailable, ...)
says nothing about coverage, so it never hides an earlier answer: the scrubber (ELIGIBILITY_INACTIVE)
and `edi eligibility show` both use :func:`answer_on_file`. When no answer states coverage, `show`
lists the newest rejection-only answer (:func:`answer_to_show`) so the operator sees why.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, TypeVar

__all__ = [
    "Coverage",
    "answer_on_file",
    "answer_to_show",
    "benefit_summary",
    "inquiry_since",
    "on_file",
    "pairs_due",
]


class Answer(Protocol):
    """What the rules read of a stored 271 answer (an ORM row or a :class:`Coverage`)."""

    @property
    def patient_id(self) -> str: ...

    @property
    def payer_id(self) -> str: ...

    @property
    def active(self) -> bool | None: ...


A = TypeVar("A", bound=Answer)


@dataclass(frozen=True)
class Coverage:
    """Coverage as a 271 reported it for a patient and a payer (the configuration's payer id).

    ``active`` None: a 271 with only rejections, which says nothing about coverage.
    """

    patient_id: str
    payer_id: str
    active: bool | None
    start: date | None = None
    end: date | None = None

    def inactive_on(self, day: date) -> bool:
        """True when the 271 shows the coverage inactive on ``day``.

        Active coverage is inactive outside its dates. An inactive answer holds every day unless it
        gives the dates of the coverage that ended: a day inside those was covered. ``active`` None
        says nothing about coverage.
        """
        if self.active is None:
            return False
        outside = (self.start is not None and day < self.start) or (self.end is not None and day > self.end)
        if not self.active and self.start is None and self.end is None:
            return True
        return outside


def answer_on_file(answers_newest_first: Iterable[A]) -> A | None:
    """Of one patient/payer pair's 271 answers, newest first: the newest that states coverage."""
    return next((a for a in answers_newest_first if a.active is not None), None)


def answer_to_show(answers_newest_first: Sequence[A]) -> A | None:
    """What `edi eligibility show` lists for a pair: the answer on file, else the newest (its rejections)."""
    on = answer_on_file(answers_newest_first)
    return on if on is not None else next(iter(answers_newest_first), None)


def on_file(answers_newest_first: Iterable[A]) -> dict[tuple[str, str], A]:
    """The answer on file per (patient_id, payer_id), from the answers of many pairs, newest first."""
    out: dict[tuple[str, str], A] = {}
    for a in answers_newest_first:
        if a.active is not None:
            out.setdefault((a.patient_id, a.payer_id), a)
    return out


# --------------------------------------------------------------------------------------------
# Which pairs need a 270
# --------------------------------------------------------------------------------------------


class EncounterKey(Protocol):
    @property
    def encounter_id(self) -> str: ...

    @property
    def patient_id(self) -> str: ...

    @property
    def payer_id(self) -> str: ...

    @property
    def date_of_service(self) -> date: ...


E = TypeVar("E", bound=EncounterKey)


def inquiry_since(as_of: date, max_age_days: int) -> date:
    """The first day of the window in which a 271 (or a 270 sent) still counts."""
    return as_of - timedelta(days=max_age_days)


def pairs_due(encounters: Iterable[E], *, since: date, payers: Collection[str], submitted: Collection[str],
              checked: Collection[tuple[str, str]], asked: Collection[tuple[str, str]]) -> list[E]:
    """The latest encounter of each patient/payer pair that needs a 270, ordered by (patient, payer).

    ``encounters`` in date of service then encounter_id order. A pair counts when its payer is
    configured and one of its encounters is not ``submitted`` or has a date of service on or after
    ``since``; it is due unless it was ``checked`` (a 271 on file) or ``asked`` (a 270 not rejected)
    in the window.
    """
    latest: dict[tuple[str, str], E] = {}
    for enc in encounters:
        if enc.payer_id not in payers:
            continue
        if enc.encounter_id in submitted and enc.date_of_service < since:
            continue
        latest[(enc.patient_id, enc.payer_id)] = enc
    return [enc for key, enc in sorted(latest.items()) if key not in checked and key not in asked]


# --------------------------------------------------------------------------------------------
# Benefit summary
# --------------------------------------------------------------------------------------------

_AMOUNTS = (("copay", "copay", "amount", ""), ("coinsurance", "coinsurance", "percent", "%"),
            ("deductible", "deductible", "amount", ""),
            ("deductible remaining", "deductible_remaining", "amount", ""))


def _amounts(items: Sequence[Mapping[str, Any]], key: str, suffix: str) -> str:
    parts = []
    for x in items:
        flag = x.get("in_network")
        net = " in-network" if flag is True else " out-of-network" if flag is False else ""
        parts.append(f"{x[key]}{suffix}{net}")
    return ", ".join(parts)


def benefit_summary(b: Mapping[str, Any]) -> str:
    """One stored 271 benefit (as ``Eligibility.benefits`` keeps it) in words, for a person."""
    bits = [f"{b['service_type']} {b['description']}"]
    if b.get("coverage"):
        bits.append(b["coverage"])
    for label, key, field, suffix in _AMOUNTS:
        if b.get(key):
            bits.append(f"{label} {_amounts(b[key], field, suffix)}")
    if b.get("visit_limit") is not None:
        bits.append(f"visit limit {b['visit_limit']}")
    if b.get("visits_remaining") is not None:
        bits.append(f"visits remaining {b['visits_remaining']}")
    if b.get("auth_required") is not None:
        bits.append("auth required" if b["auth_required"] else "no auth required")
    if b.get("auth_required_procedures"):
        bits.append("auth required for " + ", ".join(b["auth_required_procedures"]))
    return "; ".join(bits)
