"""Underpayments (CONTRACT section 8): a line allowed less than its payer's contract rate x units.

Pure functions, used by :mod:`pipelines.usecases.underpaid` after each 835 posting:

* :func:`contract_rate`: a payer's ``contract_rates`` entry for a procedure code (None: no rate);
* :func:`amount_short`: how much a posted line's allowed amount falls short of rate x units;
* :func:`underpaid_reason`: the CARC an underpaid work item carries;
* :func:`reconcile`: what becomes of a line's underpaid work item when the amount short is recomputed.

Choices where the contract is silent:

* **Allowed** = the line's net paid + its net PR adjustments, over *every* posting of the claim
  (reversals included), for the procedure and units we billed (the stored line, not the payer's
  SVC06 recoding: a downcoded line is short against the code we billed).
* **Denied lines are not underpaid**: only a line with allowed > 0 on a claim left adjudicated (paid,
  denied, patient responsibility) can be; a line paid nothing because of a CO/OA/PI denial is a denial
  work item already. A reversed or void claim has nothing short.
* **Threshold**: short when ``rate x units - allowed`` is more than one cent (0.02 and up).
* **The work item** is group ``CO`` with the CARC of the line's largest positive CO adjustment in the
  posting (usually 45, the contractual write-down the payer over-applied), else ``45``; category
  ``underpaid``, action ``appeal``, amount = the amount short.
* **One item per line, following the net**: each posting that touches a line recomputes its amount
  short from the net of all postings. No item and short: a new open item. An item and short: its
  amount follows the new figure (its state kept; a closed one opens again). An item and no longer
  short (a reversal took the payment back, or a later payment made it whole): the item is closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pipelines.rules.lifecycle import ADJUDICATED, ClaimStatus
from pipelines.rules.money import CENT, ZERO, cents

__all__ = [
    "DEFAULT_REASON",
    "UNDERPAID",
    "UNDERPAID_ACTION",
    "UNDERPAID_GROUP",
    "Change",
    "Item",
    "amount_short",
    "contract_rate",
    "reconcile",
    "underpaid_reason",
]

UNDERPAID = "underpaid"
"""The work item's category."""
UNDERPAID_ACTION = "appeal"
"""The work item's suggested action."""
UNDERPAID_GROUP = "CO"
"""The work item's CAS group: the contractual obligation the payer under-honoured."""
DEFAULT_REASON = "45"
"""The work item's CARC when the line has no positive CO adjustment."""


class _Cas(Protocol):
    @property
    def group(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...


def contract_rate(rates: Mapping[str, Decimal], procedure: str) -> Decimal | None:
    """The contract rate of ``procedure`` (compared trimmed, upper case), or None when there is none."""
    code = procedure.strip().upper()
    rate = rates.get(code)
    if rate is None:
        rate = next((v for k, v in rates.items() if k.strip().upper() == code), None)
    return rate


def amount_short(rates: Mapping[str, Decimal], *, procedure: str, units: int | Decimal, paid: Decimal,
                 patient: Decimal, status: ClaimStatus | str) -> Decimal | None:
    """How much a posted line's allowed amount (``paid`` + ``patient``, the nets of every posting) falls
    short of its contract rate x ``units``; None when there is no rate for the code, the claim is not
    adjudicated, nothing was allowed (a denied line), or it is not short by more than one cent."""
    rate = contract_rate(rates, procedure)
    if rate is None or units <= 0 or status not in ADJUDICATED:
        return None
    allowed = cents(paid) + cents(patient)
    if allowed <= ZERO:
        return None
    short = cents(rate * Decimal(units)) - allowed
    return short if short > CENT else None


def underpaid_reason(adjustments: Iterable[_Cas]) -> str:
    """The CARC of the largest positive CO adjustment (the first of equals), else :data:`DEFAULT_REASON`."""
    best: _Cas | None = None
    for a in adjustments:
        if a.group == UNDERPAID_GROUP and a.amount > 0 and (best is None or a.amount > best.amount):
            best = a
    return best.reason if best is not None else DEFAULT_REASON


@dataclass(frozen=True)
class Item:
    """A line's existing underpaid work item: its amount and state."""

    amount: Decimal
    state: str


@dataclass(frozen=True)
class Change:
    """What to do with a line's underpaid item: ``open`` a new one, ``update`` its amount (and state),
    or ``close`` it; ``amount`` and ``state`` are the item's values afterwards."""

    action: str
    amount: Decimal
    state: str


def reconcile(short: Decimal | None, item: Item | None) -> Change | None:
    """The change a recomputed amount short makes to the line's item (None: nothing to do).

    See the module docstring: a new open item, the amount followed (state kept, a closed item
    opened again), or the item closed when the line is no longer short.
    """
    if short is None:
        if item is None or item.state == "closed":
            return None
        return Change("close", item.amount, "closed")
    if item is None:
        return Change("open", short, "open")
    if item.state == "closed":
        return Change("update", short, "open")
    if item.amount == short:
        return None
    return Change("update", short, item.state)
