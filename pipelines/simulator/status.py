"""The 277 a payer sends for a 276 set: each claim's status as the simulator adjudicated it (F1 paid
with the remittance trace, F2 denied, P1 pending, A4 not found)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi.x277 import ClaimStatus, ClaimStatusReport, Person, ProviderStatus, Status, build_277
from edi.x277 import Party as Party277
from pipelines.simulator.amounts import ZERO
from pipelines.simulator.context import Context
from pipelines.simulator.reading import Inquiry, InquiryPerson

__all__ = ["answer_276"]


def _status(ctx: Context, claim_id: str | None, charge: Decimal | None) -> tuple[Status, str | None]:
    """A claim's STC and the payer claim number, from what the payer remembers of it."""
    info = ctx.state.claims.get(claim_id or "")
    if info is None or info.get("status") == "rejected":
        ctx.count("status_unknown")
        return Status("A4", "35", None, ctx.as_of, charge=charge), None
    pcn = info.get("payer_claim_number")
    charge = Decimal(info["charge"])
    if info["status"] in ("paid", "denied") and not info.get("reversed"):
        day = date.fromisoformat(info["adjudicated"])
        paid = Decimal(info.get("paid", "0"))
        if info["status"] == "paid":
            ctx.count("status_paid")
            return Status("F1", "65", None, ctx.as_of, charge=charge, payment=paid, finalized_date=day,
                          payment_method="ACH", remittance_date=day, remittance_trace=info.get("trace")), pcn
        ctx.count("status_denied")
        return Status("F2", "654", None, ctx.as_of, charge=charge, payment=ZERO, finalized_date=day), pcn
    ctx.count("status_pending")
    return Status("P1", "20", None, ctx.as_of, charge=charge), pcn


def _claims(ctx: Context, q: Inquiry) -> list[ClaimStatus]:
    """The status of every claim a 276 set asks about (a person with a TRN)."""
    claims: list[ClaimStatus] = []
    subscriber: InquiryPerson | None = None
    for p in q.people:
        if p.level == "subscriber":
            subscriber = p
        if p.trace is None:
            continue
        claim_id = p.claim_id or p.trace[0]
        status, pcn = _status(ctx, claim_id, p.charge)
        if p.level == "dependent" and subscriber is not None:
            sub = Person(subscriber.last, subscriber.first or None, subscriber.member_id or None)
            patient = Person(p.last, p.first or None)
        else:
            sub, patient = None, Person(p.last, p.first or None, p.member_id or None)
        claims.append(ClaimStatus(p.trace[0], (status,), patient, subscriber=sub,
                                  patient_control_number=claim_id,
                                  payer_claim_number=pcn or p.payer_claim_number,
                                  service_date=p.service_from, service_date_end=p.service_to))
    return claims


def answer_276(ctx: Context, inquiries: list[Inquiry], clearinghouse: str, us: str, stem: str) -> None:
    """Write one 277 file answering a file's 276 sets."""
    reports: list[ClaimStatusReport] = []
    for q in inquiries:
        claims = _claims(ctx, q)
        reports.append(ClaimStatusReport(
            source=Party277(ctx.rules(q.payer_id).name.upper() or q.payer_name, q.payer_id, "PI"),
            receiver=Party277(q.receiver_name or us, q.receiver_id or us, "46"),
            providers=(ProviderStatus(Party277(q.provider_name, q.provider_npi, "XX"), tuple(claims)),),
            created=ctx.as_of, created_time=f"{ctx.created:%H%M}", reference=q.reference))
    ctx.write("277", stem, build_277(reports, envelope=ctx.envelope(clearinghouse, us)))
