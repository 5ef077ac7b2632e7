"""The 271 a payer sends for a 270 set: active mental-health coverage with copay or coinsurance, the
yearly visit limit and what is left of it, the codes that need authorization; a small deterministic
share of members inactive, and an AAA 72 rejection for a member id the front end refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi.x271 import Benefit, BenefitDate, EligibilityResponse, Limit, Member, Rejection, Trace, build_271
from edi.x271 import Party as Party271
from pipelines.simulator.chance import stable, unit
from pipelines.simulator.context import Context
from pipelines.simulator.payers import PayerRules, valid_member_id
from pipelines.simulator.reading import Inquiry, InquiryPerson

__all__ = ["answer_270"]


def _plan_benefits(ctx: Context, rules: PayerRules, p: InquiryPerson, payer_id: str) -> list[Benefit]:
    """EB loops of an active member: coverage, copay/coinsurance, visit limit, auth, asked service types."""
    out = [Benefit("1", "IND", ("30",), rules.insurance_type, "BEHAVIORAL HEALTH PLAN"),
           Benefit("1", "IND", ("MH",))]
    if rules.copay:
        out.append(Benefit("B", "IND", ("MH",), time_period="27", amount=rules.copay, network_indicator="Y",
                           messages=("COPAY APPLIES PER SESSION",)))
    if rules.coinsurance:
        out.append(Benefit("A", "IND", ("MH",), time_period="27", percent=rules.coinsurance,
                           network_indicator="Y"))
    if rules.visit_limit_per_year:
        limit = Decimal(rules.visit_limit_per_year)
        used = ctx.state.visits.get(f"{payer_id}|{p.member_id}|{p.last}|{p.first}|{ctx.as_of.year}", 0)
        out.append(Benefit("F", "IND", ("MH",), time_period="23", quantity_qualifier="VS", quantity=limit,
                           limits=(Limit("VS", limit, time_period="23"),),
                           messages=("OUTPATIENT PSYCHOTHERAPY VISITS PER CALENDAR YEAR",)))
        out.append(Benefit("F", "IND", ("MH",), time_period="29", quantity_qualifier="VS",
                           quantity=max(Decimal(0), limit - used)))
    for code in sorted(rules.auth_required):
        out.append(Benefit("1", "IND", ("MH",), auth_indicator="Y", network_indicator="Y",
                           procedure=("HC", code), messages=(f"PRIOR AUTHORIZATION REQUIRED FOR {code}",)))
    for st in dict.fromkeys(p.service_types):
        if st not in ("30", "MH"):
            out.append(Benefit("1", "IND", (st,)))
    return out


def _benefits(ctx: Context, rules: PayerRules, p: InquiryPerson,
              payer_id: str) -> tuple[list[BenefitDate], list[Benefit]]:
    """The plan dates and benefits of a member the front end accepted: this year's plan, or last
    year's (EB01 6, inactive) for the deterministic share of inactive members."""
    year = ctx.as_of.year
    if unit(ctx.seed, "inactive", payer_id, p.member_id, p.last, p.first) < rules.inactive_rate:
        ctx.count("members_inactive")
        return ([BenefitDate("346", date(year - 1, 1, 1)), BenefitDate("347", date(year - 1, 12, 31))],
                [Benefit("6", "IND", ("30",), rules.insurance_type)])
    ctx.count("members_active")
    plan = [BenefitDate("346", date(year, 1, 1)), BenefitDate("347", date(year, 12, 31))]
    return plan, _plan_benefits(ctx, rules, p, payer_id)


def _member(ctx: Context, rules: PayerRules, q: Inquiry, p: InquiryPerson) -> Member:
    """One subscriber or dependent loop; a person asked about (with a TRN) gets traces and an answer."""
    traces: list[Trace] = []
    dates: list[BenefitDate] = []
    benefits: list[Benefit] = []
    rejections: list[Rejection] = []
    if p.trace is not None:
        traces.append(Trace("2", p.trace[0], p.trace[1] or "1000000000"))
        traces.append(Trace("1", f"{ctx.as_of:%Y%m%d}-{ctx.state.next('eligibility'):05d}",
                            "9" + f"{stable('payer-tax', q.payer_id) % 10**9:09d}"))
        ctx.count("inquiries")
        if not valid_member_id(p.member_id):
            rejections.append(Rejection("72", "C", "2100C" if p.level == "subscriber" else "2100D"))
            ctx.count("members_rejected")
        else:
            dates, benefits = _benefits(ctx, rules, p, q.payer_id)
    return Member(
        level=p.level, last_name=p.last, first_name=p.first or None,
        member_id=(p.member_id or None) if p.level == "subscriber" else None,
        id_qualifier="MI" if p.level == "subscriber" and p.member_id else None,
        traces=tuple(traces), birth_date=p.birth_date if p.trace else None,
        gender=p.gender if p.trace else None, dates=tuple(dates), benefits=tuple(benefits),
        rejections=tuple(rejections))


def answer_270(ctx: Context, inquiries: list[Inquiry], clearinghouse: str, us: str, stem: str) -> None:
    """Write one 271 file answering a file's 270 sets, each echoing our TRN trace."""
    responses: list[EligibilityResponse] = []
    for q in inquiries:
        rules = ctx.rules(q.payer_id)
        members = [_member(ctx, rules, q, p) for p in q.people]
        responses.append(EligibilityResponse(
            source=Party271(rules.name.upper() or q.payer_name, q.payer_id, "PI", "PR", "2"),
            receiver=Party271(q.receiver_name, q.receiver_id, "XX", "1P", "2"), members=tuple(members),
            created=ctx.as_of, created_time=f"{ctx.created:%H%M}", reference=q.reference))
    ctx.write("271", stem, build_271(responses, envelope=ctx.envelope(clearinghouse, us)))
