"""How a payer adjudicates one accepted claim as its primary payer (after other payers:
:mod:`.coordination`): the denials it would make (unknown authorization CO 197,
a service already paid OA 18, over the yearly visit limit CO 119, now and then no medical necessity
CO 50), the fee schedule (allowed = a share of the charge per payer and code, CO 45 for the rest), the
copay (PR 3) or coinsurance (PR 2), and what the payer remembers of the outcome."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi.x835 import Adjustment, ClaimPayment, Name, ServiceLine
from pipelines.simulator.amounts import ZERO, round_cents
from pipelines.simulator.chance import stable, unit
from pipelines.simulator.context import Context
from pipelines.simulator.payers import PSYCHOTHERAPY_CODES, PayerRules
from pipelines.simulator.reading import SubmittedClaim, SubmittedLine

__all__ = ["adjudicate", "claim_payment", "denied_line", "remember"]

_FILING = {"MC": "MC", "MB": "MB", "MA": "MA", "CH": "CH", "HM": "HM", "BL": "12"}  # SBR09 -> CLP06


class _Visits:
    """The claim's psychotherapy visit, counted once against the member's yearly limit."""

    def __init__(self, ctx: Context, key: str, limit: int) -> None:
        self.ctx = ctx
        self.key = key
        self.limit = limit
        self.counted = False
        self.over_limit = False

    def count_once(self) -> bool:
        """Count the visit (the first time); whether the claim is over the limit."""
        if not self.counted:
            self.counted = True
            used = self.ctx.state.visits.get(self.key, 0)
            self.over_limit = used >= self.limit
            if not self.over_limit:
                self.ctx.state.visits[self.key] = used + 1
        return self.over_limit


def _denial(ctx: Context, c: SubmittedClaim, ln: SubmittedLine, rules: PayerRules, service_key: str,
            visits: _Visits) -> tuple[str, str, str] | None:
    """(group, CARC, RARC) when the payer denies the line, else None."""
    if ln.procedure in rules.auth_required and not rules.knows_auth(ln.auth or c.auth):
        return ("CO", "197", "N54")
    if service_key in ctx.state.paid_services:
        return ("OA", "18", "N111")
    if ln.procedure in PSYCHOTHERAPY_CODES and rules.visit_limit_per_year and visits.count_once():
        return ("CO", "119", "N362")
    if unit(ctx.seed, "necessity", c.payer_id, c.claim_id,
            ln.control_number or ln.procedure) < rules.necessity_denial_rate:
        return ("CO", "50", "M25")
    return None


def _priced_line(ctx: Context, c: SubmittedClaim, ln: SubmittedLine, rules: PayerRules, day: date,
                 copay_left: Decimal) -> tuple[ServiceLine, Decimal]:
    """A paid line by the fee schedule, and the copay still to take from the claim's next lines."""
    share = rules.allowed_share + Decimal(stable(ctx.seed, c.payer_id, ln.procedure) % 11 - 5) / 100
    allowed = min(ln.charge, round_cents(ln.charge * share))
    adjs: list[Adjustment] = []
    if ln.charge > allowed:
        adjs.append(Adjustment("CO", "45", ln.charge - allowed))
    patient = ZERO
    if copay_left > 0:
        patient = min(copay_left, allowed)
        copay_left -= patient
        if patient:
            adjs.append(Adjustment("PR", "3", patient))
    elif rules.coinsurance > 0:
        patient = round_cents(allowed * rules.coinsurance)
        if patient:
            adjs.append(Adjustment("PR", "2", patient))
    line = ServiceLine(
        procedure=ln.procedure, charge=ln.charge, paid=allowed - patient, modifiers=ln.modifiers,
        units=ln.units, dates=(("472", day),), line_control_number=ln.control_number,
        adjustments=tuple(adjs), amounts=(("B6", allowed),))
    return line, copay_left


def denied_line(ln: SubmittedLine, day: date, group: str, reason: str, remark: str | None) -> ServiceLine:
    """A line the payer denies in full: one adjustment for the whole charge, nothing paid."""
    return ServiceLine(
        procedure=ln.procedure, charge=ln.charge, paid=ZERO, modifiers=ln.modifiers, units=ln.units,
        dates=(("472", day),), line_control_number=ln.control_number,
        adjustments=(Adjustment(group, reason, ln.charge),), remarks=(remark,) if remark else ())


def claim_payment(ctx: Context, c: SubmittedClaim, pcn: str, lines: list[ServiceLine],
                  status_code: str | None = None) -> ClaimPayment:
    """The CLP loop of an adjudicated claim: totals, status (``status_code``, else 1 processed or 4
    denied), names, lines."""
    paid = sum((ln.paid for ln in lines), ZERO)
    pr = sum((a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), ZERO)
    if status_code is None:
        status_code = "1" if paid > 0 or pr > 0 else "4"
    patient_name = Name("QC", "1", c.patient[0], c.patient[1], id_qualifier="MI" if not c.patient_name else "",
                        id=c.member_id if not c.patient_name else "")
    insured = (Name("IL", "1", c.subscriber_name[0], c.subscriber_name[1], id_qualifier="MI", id=c.member_id)
               if c.patient_name else None)
    return ClaimPayment(
        claim_id=c.claim_id, status_code=status_code, charge=c.charge, paid=paid,
        patient_responsibility=pr, filing_indicator=_FILING.get(c.filing_indicator, "12"),
        payer_claim_number=pcn, facility_code=c.place_of_service, frequency_code=c.frequency,
        patient=patient_name, insured=insured, dates=(("050", ctx.as_of),), lines=tuple(lines))


def remember(ctx: Context, key: str, claim: ClaimPayment, services: list[str], visit_key: str | None) -> None:
    """What the payer keeps of the outcome under ``key``: for a 277 status answer and a later reversal."""
    paid, pr = claim.paid, claim.patient_responsibility
    ctx.state.claims[key].update({
        "claim_id": claim.claim_id, "status": "paid" if paid > 0 or pr > 0 else "denied", "paid": str(paid),
        "patient_responsibility": str(pr), "filing": claim.filing_indicator,
        "adjudicated": ctx.as_of.isoformat(), "services": services, "visit_key": visit_key,
        "names": [[n.entity_code, n.last_name, n.first_name, n.id_qualifier, n.id]
                  for n in (claim.patient, claim.insured) if n is not None],
        "lines": [{"procedure": ln.procedure, "modifiers": list(ln.modifiers), "charge": str(ln.charge),
                   "paid": str(ln.paid), "units": str(ln.units), "control": ln.line_control_number,
                   "adjustments": [[a.group, a.reason, str(a.amount)] for a in ln.adjustments]}
                  for ln in claim.lines]})
    ctx.count("claims_paid" if paid > 0 else "claims_patient_responsibility" if pr > 0 else "claims_denied")


def adjudicate(ctx: Context, c: SubmittedClaim, pcn: str, rules: PayerRules) -> ClaimPayment:
    """The payer's decision on an accepted claim, remembered in the state."""
    member = f"{c.payer_id}|{c.member_id}|{c.patient[0]}|{c.patient[1]}"
    visits = _Visits(ctx, f"{member}|{(c.service_dates[0] or ctx.as_of).year}", rules.visit_limit_per_year)
    lines: list[ServiceLine] = []
    services: list[str] = []
    copay_left = rules.copay
    for ln in c.lines:
        day = ln.service_date or ctx.as_of
        key = f"{member}|{day}|{ln.procedure}"
        denial = _denial(ctx, c, ln, rules, key, visits)
        if denial is not None:
            group, reason, remark = denial
            lines.append(denied_line(ln, day, group, reason, remark))
            ctx.count(f"lines_denied_{group}_{reason}")
            continue
        line, copay_left = _priced_line(ctx, c, ln, rules, day, copay_left)
        lines.append(line)
        ctx.state.paid_services[key] = c.claim_id
        services.append(key)
    claim = claim_payment(ctx, c, pcn, lines)
    therapy = any(ln.procedure in PSYCHOTHERAPY_CODES for ln in c.lines)
    counted = visits.counted and not visits.over_limit and therapy
    remember(ctx, c.state_key, claim, services, visits.key if counted else None)
    return claim
