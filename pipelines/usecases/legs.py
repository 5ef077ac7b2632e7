"""The legs of a claim chain (P -> S -> T) as the database holds them: which legs came before a
claim, and what each of their payers adjudicated (:class:`pipelines.rules.cob.PriorAdjudication`).

Used by the 837P writers (:func:`pipelines.usecases.submit.build_claim_batch` needs the earlier
payers of a secondary or tertiary claim for its 2320/2430 loops) and by
:mod:`pipelines.usecases.cob`. A batch with only primary claims costs no query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.x837p.model import CasAdjustment
from models import Adjustment, Claim, ClaimLine, ClaimPayment, CobAdjudication, Encounter
from pipelines.rules import cob
from pipelines.rules.lifecycle import UNSENT
from pipelines.usecases.bulk import in_list, is_pg

__all__ = ["Leg", "adjudications", "coverage_changes", "earlier_legs", "prior_adjudications"]


@dataclass(frozen=True)
class Leg:
    """One stored leg of a chain."""

    pk: int
    claim_id: str
    payer_sequence: str
    payer_id: str
    prior_claim_id: str | None


def _legs_by_claim_id(session: Session, claim_ids: Iterable[str]) -> dict[str, Leg]:
    ids = sorted(set(claim_ids))
    if not ids:
        return {}
    rows = session.execute(select(Claim.id, Claim.claim_id, Claim.payer_sequence, Claim.payer_id, Claim.prior_claim_id)
                           .where(in_list(Claim.claim_id, ids, is_pg(session))))
    return {r.claim_id: Leg(r.id, r.claim_id, r.payer_sequence, r.payer_id, r.prior_claim_id) for r in rows}


def earlier_legs(session: Session, claims: Sequence[Any]) -> dict[str, list[Leg]]:
    """For each claim (rows with ``claim_id`` and ``prior_claim_id``) with a prior leg: its earlier
    legs in payer order (P first), followed through ``prior_claim_id``."""
    chains: dict[str, list[Leg]] = {c.claim_id: [] for c in claims if getattr(c, "prior_claim_id", None)}
    wanted = {c.claim_id: c.prior_claim_id for c in claims if c.claim_id in chains}
    known: dict[str, Leg] = {}
    for _ in cob.SEQUENCES:  # at most two links back (T -> S -> P)
        missing = {p for p in wanted.values() if p and p not in known}
        if not missing:
            break
        known.update(_legs_by_claim_id(session, missing))
        wanted = {cid: (known[p].prior_claim_id if p in known else None) for cid, p in wanted.items()}
    for c in claims:
        if c.claim_id not in chains:
            continue
        link: str | None = c.prior_claim_id
        while link is not None and link in known and len(chains[c.claim_id]) < len(cob.SEQUENCES):
            chains[c.claim_id].insert(0, known[link])
            link = known[link].prior_claim_id
    return chains


def adjudications(session: Session, legs: Sequence[Leg]) -> dict[int, cob.PriorAdjudication]:
    """What each leg's payer adjudicated, from its postings (``cob_adjudications`` and CAS rows)."""
    if not legs:
        return {}
    pg = is_pg(session)
    pks = sorted({leg.pk for leg in legs})
    line_number = {pk: n for pk, n in session.execute(
        select(ClaimLine.id, ClaimLine.line_number).where(in_list(ClaimLine.claim_pk, pks, pg)))}
    payments = session.execute(
        select(ClaimPayment.id, ClaimPayment.claim_pk, ClaimPayment.status_code, ClaimPayment.paid,
               CobAdjudication.adjudication_date, CobAdjudication.lines)
        .join(CobAdjudication, CobAdjudication.claim_payment_id == ClaimPayment.id, isouter=True)
        .where(in_list(ClaimPayment.claim_pk, pks, pg)).order_by(ClaimPayment.id)).all()
    cas: dict[tuple[int, int | None], list[CasAdjustment]] = defaultdict(list)
    for pid, line_pk, group, reason, amount, quantity in session.execute(
            select(Adjustment.claim_payment_id, Adjustment.line_pk, Adjustment.group, Adjustment.reason,
                   Adjustment.amount, Adjustment.quantity)
            .where(in_list(Adjustment.claim_pk, pks, pg)).order_by(Adjustment.id)):
        cas[(pid, line_pk)].append(CasAdjustment(group, reason, amount, quantity))
    postings: dict[int, list[cob.Posting]] = defaultdict(list)
    for pid, claim_pk, status_code, paid, adjudicated_on, lines in payments:
        posted_lines = tuple(
            cob.PostedLine(line_number.get(ln["line_pk"]) if ln.get("line_pk") is not None else None,
                           ln["procedure"], tuple(ln.get("modifiers") or ()), int(ln.get("units") or 1),
                           Decimal(ln["paid"]), tuple(cas.get((pid, ln.get("line_pk")), ())
                                                      if ln.get("line_pk") is not None else ()))
            for ln in (lines or []))
        postings[claim_pk].append(cob.Posting(status_code == "22", paid, adjudicated_on,
                                              tuple(cas.get((pid, None), ())), posted_lines))
    return {leg.pk: cob.net_adjudication(leg.payer_sequence, leg.payer_id, postings.get(leg.pk, []))
            for leg in legs}


def prior_adjudications(session: Session, claims: Sequence[Any]) -> dict[str, list[cob.PriorAdjudication]]:
    """For each secondary or tertiary claim of ``claims`` (rows with ``claim_id``, ``payer_sequence``
    and ``prior_claim_id``), what every earlier payer adjudicated, in payer order."""
    later = [c for c in claims if (getattr(c, "payer_sequence", None) or "P") != "P"]
    if not later:
        return {}
    chains = earlier_legs(session, later)
    found = adjudications(session, [leg for legs in chains.values() for leg in legs])
    return {cid: [found[leg.pk] for leg in legs] for cid, legs in chains.items()}


_LATER = {"S": "secondary_", "T": "tertiary_"}
_KEPT = frozenset({"source_file", "source_line", "imported_at"})


def coverage_changes(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Of re-imported rows whose encounter already has a claim sent: those that change nothing but the
    secondary or tertiary coverage of a payer not billed yet (e.g. the member id a held secondary
    claim waits for), as the columns to update by encounter_id. Any other change is left out (the
    importer refuses it as before)."""
    keys = sorted({r["encounter_id"] for r in rows})
    if not keys:
        return {}
    pg = is_pg(session)
    billed = {(e, seq) for e, seq in session.execute(select(Claim.encounter_id, Claim.payer_sequence).where(
        in_list(Claim.encounter_id, keys, pg), Claim.status.notin_(sorted(s.value for s in UNSENT))))}
    stored = {e.encounter_id: e for e in session.scalars(select(Encounter).where(
        in_list(Encounter.encounter_id, keys, pg)))}
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["encounter_id"]
        enc = stored.get(key)
        if enc is None:
            continue
        changed = {c for c, v in row.items() if c not in _KEPT and getattr(enc, c) != v}
        open_ = {c for c in changed if any(c.startswith(p) and (key, seq) not in billed for seq, p in _LATER.items())}
        if changed and changed == open_:
            out[key] = {"encounter_id": key, **{c: row[c] for c in changed}}
    return out

