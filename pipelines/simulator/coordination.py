"""Coordination of benefits: every payer of a claim's chain.

* **As secondary or tertiary** (2000B SBR01 S or T, or a claim forwarded to it), a payer looks, line by
  line, at what the last earlier payer left to the patient: the PR amounts of that payer's 2430 CAS
  (the last earlier payer is the one whose 2320 SBR01 comes latest in P, S, T). The rest of the charge
  is OA 23 (the impact of the prior payers' adjudication); of what was left it pays ``cob_share`` and
  leaves the remainder to the patient as PR 3 (a plan with a copay) or PR 2. Every line, and so the
  claim and the 835, balances exactly: charge = OA 23 + paid + PR. It denies a line without a 2430
  (CO 16, MA04: no prior payer information), a service it already paid (OA 18, N111), and now and
  then a whole claim (CO 22: another payer is primary), deterministically. CLP02 is 2 (secondary) or
  3 (tertiary), 4 when every line was denied. Claim-level CAS of earlier payers (2320) is not looked at.
* **Forwarding**: a payer that adjudicated a claim naming a next coverage it knows (a 2320 after it in
  the order, not yet adjudicated) and left the patient something, now and then (``crossover_rate``,
  a stable hash of the claim) forwards it: CLP02 19 and an NM1*TT crossover carrier (the next payer's
  name and id). The next payer then answers on its own: an 835 of its own whose CLP01 is the same
  claim id, adjudicated as above from what the forwarding payer just decided.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from edi.x835 import Adjustment, ClaimPayment, Name, ServiceLine
from pipelines.simulator.adjudication import claim_payment, denied_line, remember
from pipelines.simulator.amounts import ZERO, round_cents
from pipelines.simulator.chance import unit
from pipelines.simulator.context import Context
from pipelines.simulator.payers import PayerRules, valid_member_id
from pipelines.simulator.reading import OtherPayer, PriorLine, SubmittedBatch, SubmittedClaim, SubmittedLine

__all__ = ["adjudicate_after_others", "forward"]

_CLP02 = {"S": "2", "T": "3"}  # the billed payer's place -> CLP02 (a payer after T answers as tertiary)


def _last_prior(c: SubmittedClaim, ln: SubmittedLine) -> PriorLine | None:
    """The 2430 of the latest earlier payer on the line (by its 2320 SBR01; unknown payers first)."""
    if not ln.prior:
        return None
    ranks = {o.payer_id: o.rank for o in c.other_payers}
    return max(enumerate(ln.prior), key=lambda ip: (ranks.get(ip[1].payer_id, -1), ip[0]))[1]


def _cob_line(ln: SubmittedLine, day: date, prior: PriorLine, rules: PayerRules) -> ServiceLine:
    """A line paid after earlier payers: OA 23 for their share, part of what they left paid, PR the rest."""
    left = min(max(prior.patient_responsibility, ZERO), ln.charge)
    paid = min(left, round_cents(left * rules.cob_share))
    adjs: list[Adjustment] = []
    if ln.charge > left:
        adjs.append(Adjustment("OA", "23", ln.charge - left))
    if left > paid:
        adjs.append(Adjustment("PR", "3" if rules.copay > 0 else "2", left - paid))
    return ServiceLine(procedure=ln.procedure, charge=ln.charge, paid=paid, modifiers=ln.modifiers,
                       units=ln.units, dates=(("472", day),), line_control_number=ln.control_number,
                       adjustments=tuple(adjs))


def adjudicate_after_others(ctx: Context, c: SubmittedClaim, pcn: str, rules: PayerRules) -> ClaimPayment:
    """The decision of a payer billed after others (secondary, tertiary), remembered in the state."""
    member = f"{c.payer_id}|{c.member_id}|{c.patient[0]}|{c.patient[1]}"
    cob_denied = unit(ctx.seed, "cob-denial", c.payer_id, c.claim_id) < rules.cob_denial_rate
    lines: list[ServiceLine] = []
    services: list[str] = []
    denied = 0
    for ln in c.lines:
        day = ln.service_date or ctx.as_of
        key = f"{member}|{day}|{ln.procedure}"
        prior = _last_prior(c, ln)
        denial = (("CO", "22", None) if cob_denied else ("CO", "16", "MA04") if prior is None
                  else ("OA", "18", "N111") if key in ctx.state.paid_services else None)
        if denial is not None or prior is None:
            group, reason, remark = denial or ("CO", "16", "MA04")
            lines.append(denied_line(ln, day, group, reason, remark))
            ctx.count(f"lines_denied_{group}_{reason}")
            denied += 1
            continue
        line = _cob_line(ln, day, prior, rules)
        lines.append(line)
        if line.paid > 0:
            ctx.state.paid_services[key] = c.claim_id
            services.append(key)
    status = "4" if denied == len(lines) else _CLP02.get(c.payer_sequence, "3")
    claim = claim_payment(ctx, c, pcn, lines, status)
    remember(ctx, c.state_key, claim, services, None)
    ctx.count("claims_as_secondary" if c.payer_sequence == "S" else "claims_as_tertiary")
    return claim


def _adjudicated_line(payer_id: str, ln: SubmittedLine, paid: ServiceLine, day: date) -> SubmittedLine:
    """``ln`` with what ``payer_id`` just did with it added, as a 2430 would say it."""
    return replace(ln, prior=(*ln.prior, PriorLine(payer_id, paid.paid, paid.procedure, paid.modifiers,
                                                   paid.units, paid.adjustments, day)))


def forward(ctx: Context, b: SubmittedBatch, c: SubmittedClaim, payment: ClaimPayment,
            rules: PayerRules) -> ClaimPayment:
    """``payment``, forwarded now and then to the claim's next payer (CLP02 19, NM1*TT), who is then
    given the claim to answer in an 835 of its own (``ctx.crossovers``)."""
    nxt = c.next_payer()
    if (nxt is None or payment.status_code == "4" or payment.patient_responsibility <= 0
            or len(payment.lines) != len(c.lines) or not valid_member_id(nxt.member_id)
            or unit(ctx.seed, "crossover", c.payer_id, c.claim_id) >= rules.crossover_rate):
        return payment
    carrier_name = (nxt.payer_name or ctx.rules(nxt.payer_id).name or nxt.payer_id).upper()[:60]
    forwarded = replace(payment, status_code="19",
                        other_names=(*payment.other_names, Name("TT", "2", carrier_name, id_qualifier="PI",
                                                                 id=nxt.payer_id)))
    ctx.state.claims[c.state_key]["forwarded_to"] = nxt.payer_id
    ctx.count("claims_forwarded")
    this = OtherPayer(c.payer_sequence or "P", c.payer_id, c.payer_name, c.member_id, c.subscriber_name,
                      c.filing_indicator, payment.paid, payment.adjustments, ctx.as_of)
    crossed = replace(
        c, payer_id=nxt.payer_id, payer_name=nxt.payer_name, filing_indicator=nxt.filing_indicator,
        member_id=nxt.member_id, subscriber_name=nxt.subscriber_name,
        patient_name=c.patient if c.patient != nxt.subscriber_name else None,
        lines=tuple(_adjudicated_line(c.payer_id, ln, paid, ctx.as_of) for ln, paid in zip(c.lines, payment.lines, strict=True)),
        payer_sequence=nxt.sequence, other_payers=(this, *(o for o in c.other_payers if o is not nxt)),
        crossover_from=c.payer_id)
    pcn = f"{ctx.as_of:%y%j}{ctx.state.next('pcn'):06d}"
    ctx.state.claims[crossed.state_key] = {"status": "accepted", "payer_id": nxt.payer_id, "claim_id": c.claim_id,
                                           "payer_claim_number": pcn, "charge": str(c.charge),
                                           "crossover_from": c.payer_id}
    ctx.crossovers.setdefault(nxt.payer_id, []).append((b, crossed, pcn))
    return forwarded
