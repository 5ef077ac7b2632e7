"""The 835 a payer sends for the claims it accepted from one file (or that an earlier payer forwarded to
it): reversals (CLP02 22) of the claims a replacement or void refers to, the adjudicated claims (as
primary by :mod:`.adjudication`, as secondary or tertiary by :mod:`.coordination`, which also forwards
now and then), an occasional PLB L6 interest, a BPR that pays by ACH (or NON when nothing is paid) and
balances exactly (sum CLP04 - PLB = BPR02). The payer loop names the payer by its id (N1*PR N104 with
XV, and REF*2U) and carries the mandatory technical contact (1000A PER*BL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from edi.x835 import (
    Adjustment,
    ClaimPayment,
    Contact,
    Name,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServiceLine,
    build_835,
)
from edi.x835 import Party as Party835
from pipelines.simulator.adjudication import adjudicate
from pipelines.simulator.amounts import ZERO
from pipelines.simulator.chance import stable, unit
from pipelines.simulator.context import Context
from pipelines.simulator.coordination import adjudicate_after_others, forward
from pipelines.simulator.payers import PayerRules
from pipelines.simulator.reading import SubmittedBatch, SubmittedClaim

__all__ = ["pay"]

_TECHNICAL_CONTACT = Contact("BL", "PROVIDER SERVICES", (("TE", "8005550100"),))  # 1000A PER*BL (issue 13)


def _reversed_line(ln: dict[str, Any]) -> ServiceLine:
    return ServiceLine(
        procedure=ln["procedure"], charge=-Decimal(ln["charge"]), paid=-Decimal(ln["paid"]),
        modifiers=tuple(ln["modifiers"]), units=Decimal(ln["units"]), line_control_number=ln["control"],
        adjustments=tuple(Adjustment(a[0], a[1], -Decimal(a[2])) for a in ln["adjustments"]))


def _name(info: dict[str, Any], entity: str) -> Name | None:
    """The patient (NM1*QC, mandatory) or insured (NM1*IL) of a remembered claim, for its reversal."""
    for code, last, first, qualifier, member in info.get("names", []):
        if code == entity:
            return Name(code, "1", last, first, id_qualifier=qualifier, id=member)
    return None


def _reverse(ctx: Context, original_pcn: str | None, claim_id: str, payer_id: str) -> ClaimPayment | None:
    """A reversal (CLP02 22) of the claim of ``payer_id`` a replacement or void refers to, if it was paid."""
    if not original_pcn:
        return None
    state = ctx.state
    for key, info in state.claims.items():
        cid = info.get("claim_id", key)
        if info.get("payer_claim_number") == original_pcn and info.get("status") in ("paid", "denied") \
                and info.get("payer_id", payer_id) == payer_id and not info.get("reversed") and cid != claim_id:
            info["reversed"] = True
            for key in info.get("services", []):
                state.paid_services.pop(key, None)
            if info.get("visit_key"):
                state.visits[info["visit_key"]] = max(0, state.visits.get(info["visit_key"], 1) - 1)
            return ClaimPayment(
                claim_id=cid, status_code="22", charge=-Decimal(info["charge"]), paid=-Decimal(info["paid"]),
                patient_responsibility=-Decimal(info.get("patient_responsibility", "0")),
                filing_indicator=info.get("filing", "12"), payer_claim_number=original_pcn,
                lines=tuple(_reversed_line(ln) for ln in info.get("lines", [])),
                patient=_name(info, "QC"), insured=_name(info, "IL"))
    return None


def _claim_payments(ctx: Context, items: list[tuple[SubmittedBatch, SubmittedClaim, str]],
                    rules: PayerRules) -> list[ClaimPayment]:
    """The CLP loops, in order: each reversal just before the replacement that caused it."""
    payments: list[ClaimPayment] = []
    for b, c, pcn in items:
        if c.frequency in ("7", "8") and not c.crossover_from:
            reversal = _reverse(ctx, c.original_payer_claim_number, c.claim_id, c.payer_id)
            if reversal is not None:
                payments.append(reversal)
                ctx.count("claims_reversed")
        if c.frequency == "8":
            ctx.state.claims[c.state_key].update(status="void", paid="0.00")
            continue
        if c.rank > 0 or c.crossover_from:
            payment = adjudicate_after_others(ctx, c, pcn, rules)
        else:
            payment = adjudicate(ctx, c, pcn, rules)
        payments.append(forward(ctx, b, c, payment, rules))
    return payments


def _interest(ctx: Context, payer_id: str, trace: str, payments: Sequence[ClaimPayment], rules: PayerRules,
              billing_npi: str) -> list[ProviderAdjustment]:
    """Now and then a PLB L6 interest payment (a negative provider adjustment) on a paying 835."""
    paid_claims = [p for p in payments if p.paid > 0 and p.status_code != "22"]
    if not paid_claims or unit(ctx.seed, "interest", payer_id, trace) >= rules.interest_rate:
        return []
    interest = Decimal(25 + stable(ctx.seed, "interest", trace) % 426) / 100
    ctx.count("interest_payments")
    return [ProviderAdjustment(billing_npi, date(ctx.as_of.year, 12, 31), "L6",
                               paid_claims[0].payer_claim_number, -interest)]


def _payment(ctx: Context, amount: Decimal, trace: str, payer_id: str) -> Payment:
    """BPR and TRN: an ACH credit when money moves to us, else a non-payment (a debit when negative)."""
    tax = f"{stable('payer-tax', payer_id) % 10**9:09d}"
    if amount > 0:
        return Payment(amount=amount, credit_debit="C", method="ACH", date=ctx.as_of, trace_number=trace,
                       payer_tax_id="1" + tax, handling="C", format="CCP", sender_dfi_qualifier="01",
                       sender_dfi_id="999999992", sender_account_qualifier="DA", sender_account="10002000",
                       originator_company_id="1" + tax, receiver_dfi_qualifier="01",
                       receiver_dfi_id="999988880", receiver_account_qualifier="DA", receiver_account="30004000")
    return Payment(amount=abs(amount), credit_debit="C" if amount >= 0 else "D", method="NON",
                   date=ctx.as_of, trace_number=trace, payer_tax_id="1" + tax, handling="H")


def _payer(name: str, payer_id: str) -> Party835:
    """Loop 1000A: the payer's name and id (N104, REF*2U), address and the mandatory technical contact
    (PER*BL)."""
    return Party835("PR", name.upper()[:60], "XV", payer_id, address=("PO BOX 1000",), city="HARTFORD",
                    state="CT", postal_code="06101", references=(("2U", payer_id),), contacts=(_TECHNICAL_CONTACT,))


def pay(ctx: Context, payer_id: str, items: list[tuple[SubmittedBatch, SubmittedClaim, str]], clearinghouse: str,
        us: str, stem: str) -> None:
    """Write the 835 of ``payer_id`` for the claims it accepted from one file (none when nothing to say)."""
    rules = ctx.rules(payer_id)
    payments = _claim_payments(ctx, items, rules)
    if not payments:
        return
    b = items[0][0]
    trace = f"{ctx.as_of:%y%m%d}{ctx.state.next('trace'):06d}"
    plb = _interest(ctx, payer_id, trace, payments, rules, b.billing_npi)
    amount = sum((p.paid for p in payments), ZERO) - sum((a.amount for a in plb), ZERO)
    payment = _payment(ctx, amount, trace, payer_id)
    name = rules.name or next((c.payer_name for _b, c, _p in items if c.payer_name), payer_id)
    for _b, c, _p in items:
        info = ctx.state.claims.get(c.state_key)
        if info is not None and info.get("status") in ("paid", "denied"):
            info["trace"] = trace
    remittance = Remittance835(
        payment=payment, payer=_payer(name, payer_id),
        payee=Party835("PE", b.billing_name, "XX", b.billing_npi,
                       references=(("TJ", b.billing_tax_id),) if b.billing_tax_id else ()),
        claims=tuple(payments), provider_adjustments=tuple(plb), production_date=ctx.as_of)
    ctx.write("835", f"{stem}_{payer_id}", build_835(remittance, envelope=ctx.envelope(clearinghouse, us)))
    ctx.count("remittances")
    ctx.count("paid_cents", int(amount * 100))
