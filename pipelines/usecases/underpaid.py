"""Underpaid work items (CONTRACT section 8): opened, updated and closed as 835s are posted.

:func:`update_underpaid` runs in :mod:`pipelines.usecases.posting` after a chunk of claims is posted
(line paid amounts, adjustments and statuses already written). For every line the chunk touched whose
claim's payer has ``contract_rates``, it recomputes the amount short from the net of every posting
(:func:`pipelines.rules.underpayment.amount_short`) and reconciles the line's one underpaid Denial row
(:func:`pipelines.rules.underpayment.reconcile`): opened, its amount followed, or closed. The rules
and the choices behind them are in :mod:`pipelines.rules.underpayment`. ``edi denials list`` shows
the rows like any other work item; the report sums them per payer and code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Adjustment, Claim, ClaimLine, Denial
from pipelines.config import Config
from pipelines.rules.lifecycle import ClaimStatus
from pipelines.rules.money import ZERO, cents
from pipelines.rules.underpayment import (
    UNDERPAID,
    UNDERPAID_ACTION,
    UNDERPAID_GROUP,
    Item,
    amount_short,
    reconcile,
    underpaid_reason,
)
from pipelines.usecases.bulk import in_list, insert_rows, is_pg, update_rows

__all__ = ["PostedLine", "posted_lines", "update_underpaid"]

_COUNTS = {"open": "underpaid_opened", "update": "underpaid_updated", "close": "underpaid_closed"}


@dataclass(frozen=True)
class PostedLine:
    """A stored line one posting touched: its claim and line pks, the ClaimPayment id, the claim's status
    after posting, and the posting's CAS and remarks for the line (the claim's remarks when it has none)."""

    claim_pk: int
    line_pk: int
    payment_id: int
    status: ClaimStatus
    adjustments: tuple[Any, ...]
    remarks: tuple[str, ...]


def _rated_lines(s: Session, rates: dict[str, dict[str, Decimal]], line_pks: list[int],
                 pg: bool) -> dict[int, tuple[str, str, int, Decimal]]:
    """line pk -> (payer id, procedure, units, net paid) for the lines whose claim's payer has rates."""
    rows = s.execute(select(ClaimLine.id, Claim.payer_id, ClaimLine.procedure, ClaimLine.units, ClaimLine.paid)
                     .join(Claim, Claim.id == ClaimLine.claim_pk)
                     .where(in_list(ClaimLine.id, line_pks, pg), Claim.payer_id.in_(sorted(rates))))
    return {pk: (payer, proc, units, cents(paid)) for pk, payer, proc, units, paid in rows}


def _net_patient(s: Session, line_pks: list[int], pg: bool) -> dict[int, Decimal]:
    """line pk -> the net of its PR adjustments over every posting."""
    rows = s.execute(select(Adjustment.line_pk, func.sum(Adjustment.amount))
                     .where(in_list(Adjustment.line_pk, line_pks, pg), Adjustment.group == "PR")
                     .group_by(Adjustment.line_pk))
    return {pk: cents(total) for pk, total in rows if pk is not None}


def _items(s: Session, line_pks: list[int], pg: bool) -> dict[int, tuple[int, Item]]:
    """line pk -> (id, item) of its underpaid Denial row (the latest, should there be more than one)."""
    rows = s.execute(select(Denial.line_pk, Denial.id, Denial.amount, Denial.state)
                     .where(in_list(Denial.line_pk, line_pks, pg), Denial.category == UNDERPAID)
                     .order_by(Denial.id))
    return {lpk: (did, Item(cents(amount), state)) for lpk, did, amount, state in rows if lpk is not None}


def update_underpaid(s: Session, config: Config, posted: Iterable[PostedLine], *, now: datetime) -> Counter[str]:
    """Open, update or close the underpaid items of the lines one chunk of postings touched.

    A line posted more than once in the chunk (a reversal and its correction) is recomputed once, with
    its last posting's CAS. Returns counts: ``underpaid_opened``, ``underpaid_updated``, ``underpaid_closed``.
    """
    counts: Counter[str] = Counter()
    rates = {pid: dict(p.contract_rates) for pid, p in config.payers.items() if p.contract_rates}
    if not rates:  # ``posted`` is not even read
        return counts
    last: dict[int, PostedLine] = {p.line_pk: p for p in posted}
    if not last:
        return counts
    pg = is_pg(s)
    lines = _rated_lines(s, rates, list(last), pg)
    if not lines:
        return counts
    pks = list(lines)
    patient, items = _net_patient(s, pks, pg), _items(s, pks, pg)
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for lpk, (payer, procedure, units, paid) in lines.items():
        p = last[lpk]
        short = amount_short(rates[payer], procedure=procedure, units=units, paid=paid,
                             patient=patient.get(lpk, ZERO), status=p.status)
        did, item = items.get(lpk, (0, None))
        change = reconcile(short, item)
        if change is None:
            continue
        counts[_COUNTS[change.action]] += 1
        if change.action == "open":
            new.append({"claim_pk": p.claim_pk, "line_pk": lpk, "claim_payment_id": p.payment_id,
                        "group": UNDERPAID_GROUP, "reason": underpaid_reason(p.adjustments),
                        "remarks": list(p.remarks), "amount": change.amount, "category": UNDERPAID,
                        "action": UNDERPAID_ACTION, "state": "open", "created_at": now, "updated_at": now})
        else:
            changed.append({"id": did, "amount": change.amount, "state": change.state,
                            "claim_payment_id": p.payment_id, "updated_at": now,
                            "note": _note(change.action, short)})
    insert_rows(s, Denial, new)
    if changed:
        update_rows(s, Denial, changed, ("amount", "state", "claim_payment_id", "updated_at", "note"))
    return counts


def _note(action: str, short: Decimal | None) -> str:
    if action == "close":
        return "no longer underpaid after a later posting"
    return f"amount short recomputed after a later posting: {short:.2f}"


def posted_lines(matched: Sequence[Any], statuses: dict[int, ClaimStatus]) -> Iterator[PostedLine]:
    """The :class:`PostedLine` of every matched 835 line of a chunk (``matched``: posting's matches), made
    as they are read (:func:`update_underpaid` reads none when no payer has contract rates)."""
    for m in matched:
        for svc, hit in zip(m.clp.lines, m.lines, strict=True):
            if hit is not None:
                yield PostedLine(m.claim.pk, hit.pk, m.payment_id, statuses[m.claim.pk],
                                 tuple(svc.adjustments), tuple(svc.remarks) or tuple(m.clp.remarks))
