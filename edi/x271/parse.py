"""271 parser: :func:`parse_271` and its ``edi inspect`` JSON, :func:`inspect_271`.

The reader walks the segments once with one method per segment id, keeping the HL level, the
member (2000C/2000D) and the benefit (2110C/D) being read; each is frozen into its dataclass
when the next one (or an HL, or SE) starts. Member ids, names and dates of birth never appear in
an error message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from edi import codes
from edi.errors import TransactionError
from edi.x12 import Delimiters, Segment, TransactionSet, element, optional, parse_d8
from edi.x271.model import (
    Benefit,
    BenefitDate,
    EligibilityResponse,
    Limit,
    Member,
    Party,
    Rejection,
    Trace,
)

__all__ = ["inspect_271", "parse_271"]


def _num(seg: Segment, i: int, n: int, *, money: bool = False) -> Decimal | None:
    v = element(seg, i)
    if not v:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise TransactionError("not a number", segment_number=n, segment_id=seg[0], element=i,
                               expected="a decimal number") from None
    return d.quantize(Decimal("0.01")) if money else d


def _dtp(seg: Segment, n: int) -> BenefitDate:
    q, fmt, value = element(seg, 1), element(seg, 2), element(seg, 3)
    if fmt == "RD8":
        a, _, b = value.partition("-")
        return BenefitDate(q, parse_d8(a, n, "DTP", 3), parse_d8(b, n, "DTP", 3))
    return BenefitDate(q, parse_d8(value, n, "DTP", 3))


def _aaa(seg: Segment, loop: str) -> Rejection:
    return Rejection(reason_code=element(seg, 3), follow_up_code=element(seg, 4), loop=loop,
                     valid_request=element(seg, 1) == "Y")


def _party(seg: Segment) -> Party:
    return Party(name=element(seg, 3), id=optional(seg, 9), id_qualifier=optional(seg, 8), entity=element(seg, 1),
                 entity_type=element(seg, 2) or "2", first_name=optional(seg, 4))


class _MemberAcc:
    def __init__(self, level: str, subscriber_id: str | None) -> None:
        self.level = level
        self.fields: dict[str, object] = {"subscriber_member_id": subscriber_id}
        self.traces: list[Trace] = []
        self.dates: list[BenefitDate] = []
        self.benefits: list[Benefit] = []
        self.rejections: list[Rejection] = []
        self.references: list[tuple[str, str]] = []

    def freeze(self) -> Member:
        f = self.fields

        def s(key: str) -> str | None:
            v = f.get(key)
            return v if isinstance(v, str) else None

        dob = f.get("birth_date")
        return Member(
            level=self.level, last_name=s("last_name"), first_name=s("first_name"), member_id=s("member_id"),
            id_qualifier=s("id_qualifier"), traces=tuple(self.traces),
            birth_date=dob if isinstance(dob, date) else None, gender=s("gender"), dates=tuple(self.dates),
            benefits=tuple(self.benefits), rejections=tuple(self.rejections),
            references=tuple(self.references), subscriber_member_id=s("subscriber_member_id"))


class _BenefitAcc:
    def __init__(self, eb: Benefit) -> None:
        self.eb = eb
        self.limits: list[Limit] = []
        self.dates: list[BenefitDate] = []
        self.messages: list[str] = []
        self.rejections: list[Rejection] = []
        self.references: list[tuple[str, str]] = []
        self.related: list[Party] = []

    def freeze(self) -> Benefit:
        e = self.eb
        return Benefit(
            code=e.code, coverage_level=e.coverage_level, service_types=e.service_types,
            insurance_type=e.insurance_type, plan_description=e.plan_description, time_period=e.time_period,
            amount=e.amount, percent=e.percent, quantity_qualifier=e.quantity_qualifier, quantity=e.quantity,
            auth_indicator=e.auth_indicator, network_indicator=e.network_indicator, procedure=e.procedure,
            limits=tuple(self.limits), dates=tuple(self.dates), messages=tuple(self.messages),
            rejections=tuple(self.rejections), references=tuple(self.references), related=tuple(self.related))


def _eb(seg: Segment, d: Delimiters, n: int) -> Benefit:
    code = element(seg, 1)
    if not code:
        raise TransactionError("EB01 is empty", segment_number=n, segment_id="EB", element=1,
                               expected="an eligibility or benefit code")
    st = element(seg, 3)
    types = tuple(t for t in (st.split(d.repetition) if d.repetition else [st]) if t)
    return Benefit(
        code=code, coverage_level=optional(seg, 2), service_types=types, insurance_type=optional(seg, 4),
        plan_description=optional(seg, 5), time_period=optional(seg, 6), amount=_num(seg, 7, n, money=True),
        percent=_num(seg, 8, n), quantity_qualifier=optional(seg, 9), quantity=_num(seg, 10, n),
        auth_indicator=optional(seg, 11), network_indicator=optional(seg, 12),
        procedure=tuple(element(seg, 13).split(d.component)) if element(seg, 13) else ())


class _Reader:
    """One pass over a 271 set: ``member`` and ``benefit`` are the open loops, ``level`` the HL level."""

    def __init__(self, ts: TransactionSet) -> None:
        self.d = ts.delimiters
        self.st_number = ts.segment_number
        self.n = ts.segment_number - 1
        self.source: Party | None = None
        self.receiver: Party | None = None
        self.created: date | None = None
        self.created_time, self.purpose = "", ""
        self.reference: str | None = None
        self.top_rejections: list[Rejection] = []
        self.members: list[Member] = []
        self.member: _MemberAcc | None = None
        self.benefit: _BenefitAcc | None = None
        self.subscriber_id: str | None = None
        self.level = ""
        self.in_ls = False
        self.handlers: dict[str, Callable[[Segment], None]] = {
            "BHT": self.bht, "HL": self.hl, "LS": self.ls, "LE": self.le, "NM1": self.nm1, "TRN": self.trn,
            "AAA": self.aaa, "DMG": self.dmg, "REF": self.ref, "DTP": self.dtp, "EB": self.eb, "HSD": self.hsd,
            "MSG": self.msg,
        }

    def read(self, segments: Iterable[Segment]) -> EligibilityResponse:
        handlers = self.handlers
        for seg in segments:
            self.n += 1
            handler = handlers.get(seg[0])
            if handler is not None:
                handler(seg)
        self.close_member()
        if self.source is None:
            raise TransactionError("271 has no information source name (2100A NM1)",
                                   segment_number=self.st_number, segment_id="ST", expected="NM1*PR")
        if self.created is None:
            raise TransactionError("271 has no BHT", segment_number=self.st_number, segment_id="ST",
                                   expected="BHT")
        return EligibilityResponse(source=self.source, receiver=self.receiver, members=tuple(self.members),
                                   created=self.created, created_time=self.created_time, reference=self.reference,
                                   purpose=self.purpose, rejections=tuple(self.top_rejections))

    def close_benefit(self) -> None:
        if self.benefit is not None and self.member is not None:
            self.member.benefits.append(self.benefit.freeze())
        self.benefit, self.in_ls = None, False

    def close_member(self) -> None:
        self.close_benefit()
        if self.member is not None:
            self.members.append(self.member.freeze())
        self.member = None

    # -- segments --------------------------------------------------------------------------------
    def bht(self, seg: Segment) -> None:
        self.purpose, self.reference = element(seg, 2), optional(seg, 3)
        self.created = parse_d8(element(seg, 4), self.n, "BHT", 4)
        self.created_time = element(seg, 5)

    def hl(self, seg: Segment) -> None:
        self.close_member()
        self.level = element(seg, 3)
        if self.level == "22":
            self.member = _MemberAcc("subscriber", None)
        elif self.level == "23":
            self.member = _MemberAcc("dependent", self.subscriber_id)

    def ls(self, seg: Segment) -> None:
        self.in_ls = True

    def le(self, seg: Segment) -> None:
        self.in_ls = False

    def nm1(self, seg: Segment) -> None:
        member = self.member
        if self.benefit is not None:
            if self.in_ls:
                self.benefit.related.append(_party(seg))
        elif self.level == "20":
            self.source = _party(seg)
        elif self.level == "21":
            self.receiver = _party(seg)
        elif member is not None:
            member.fields.update(last_name=optional(seg, 3), first_name=optional(seg, 4), member_id=optional(seg, 9),
                                 id_qualifier=optional(seg, 8))
            if member.level == "subscriber":
                self.subscriber_id = optional(seg, 9)

    def trn(self, seg: Segment) -> None:
        if self.member is not None:
            self.member.traces.append(Trace(element(seg, 1), element(seg, 2), element(seg, 3), optional(seg, 4)))

    def aaa(self, seg: Segment) -> None:
        member = self.member
        if self.benefit is not None and member is not None:
            self.benefit.rejections.append(_aaa(seg, "2110C" if member.level == "subscriber" else "2110D"))
        elif member is not None:
            member.rejections.append(_aaa(seg, "2100C" if member.level == "subscriber" else "2100D"))
        elif self.level == "20":
            self.top_rejections.append(_aaa(seg, "2100A" if self.source is not None else "2000A"))
        else:
            self.top_rejections.append(_aaa(seg, "2100B"))

    def dmg(self, seg: Segment) -> None:
        if self.member is not None and self.benefit is None:
            if element(seg, 2):
                self.member.fields["birth_date"] = parse_d8(element(seg, 2), self.n, "DMG", 2)
            self.member.fields["gender"] = optional(seg, 3)

    def ref(self, seg: Segment) -> None:
        pair = (element(seg, 1), element(seg, 2))
        if self.benefit is not None:
            self.benefit.references.append(pair)
        elif self.member is not None:
            self.member.references.append(pair)

    def dtp(self, seg: Segment) -> None:
        if self.benefit is not None:
            self.benefit.dates.append(_dtp(seg, self.n))
        elif self.member is not None:
            self.member.dates.append(_dtp(seg, self.n))

    def eb(self, seg: Segment) -> None:
        if self.member is None:
            raise TransactionError("EB outside a subscriber or dependent loop", segment_number=self.n,
                                   segment_id="EB", expected="HL 22 or 23 first")
        self.close_benefit()
        self.benefit = _BenefitAcc(_eb(seg, self.d, self.n))

    def hsd(self, seg: Segment) -> None:
        if self.benefit is not None:
            n = self.n
            self.benefit.limits.append(Limit(
                quantity_qualifier=optional(seg, 1), quantity=_num(seg, 2, n), unit=optional(seg, 3),
                sample_modulus=_num(seg, 4, n), time_period=optional(seg, 5), period_count=_num(seg, 6, n),
                frequency=optional(seg, 7), pattern=optional(seg, 8)))

    def msg(self, seg: Segment) -> None:
        if self.benefit is not None:
            self.benefit.messages.append(seg[1] if len(seg) > 1 else "")


def parse_271(ts: TransactionSet) -> EligibilityResponse:
    """Parse one 271 transaction set."""
    return _Reader(ts).read(ts.segments)


# --------------------------------------------------------------------------------------------
# Inspect JSON
# --------------------------------------------------------------------------------------------


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _money(d: Decimal | None) -> str | None:
    return None if d is None else f"{d:.2f}"


def _qty(d: Decimal | None) -> str | None:
    return None if d is None else f"{d.normalize():f}"


def _rejection_json(r: Rejection) -> dict[str, object]:
    return {"loop": r.loop, "reason_code": r.reason_code, "reason": r.reason,
            "follow_up_code": r.follow_up_code, "follow_up": r.follow_up, "valid_request": r.valid_request}


def _dates_json(ds: Sequence[BenefitDate]) -> list[dict[str, str | None]]:
    return [{"qualifier": x.qualifier, "start": _iso(x.start), "end": _iso(x.end)} for x in ds]


def _party_json(p: Party | None) -> dict[str, object] | None:
    if p is None:
        return None
    return {"entity": p.entity, "name": p.name if not p.first_name else f"{p.name}, {p.first_name}",
            "id": p.id, "id_qualifier": p.id_qualifier}


def _benefit_json(b: Benefit) -> dict[str, object]:
    return {
        "code": b.code, "description": b.description, "coverage_level": b.coverage_level,
        "service_types": list(b.service_types),
        "service_type_descriptions": [codes.service_types().describe(t) for t in b.service_types],
        "insurance_type": b.insurance_type,
        "plan_description": b.plan_description, "time_period": b.time_period,
        "time_period_description": b.time_period_description, "amount": _money(b.amount),
        "percent": _qty(b.percent), "quantity_qualifier": b.quantity_qualifier, "quantity": _qty(b.quantity),
        "auth_required": b.auth_required, "in_network": b.in_network,
        "procedure": list(b.procedure) or None,
        "limits": [{"quantity_qualifier": x.quantity_qualifier, "quantity": _qty(x.quantity), "unit": x.unit,
                    "time_period": x.time_period, "time_period_description": x.time_period_description,
                    "period_count": _qty(x.period_count)} for x in b.limits],
        "dates": _dates_json(b.dates), "messages": list(b.messages),
        "rejections": [_rejection_json(r) for r in b.rejections],
        "related": [_party_json(p) for p in b.related],
    }


def inspect_271(ts: TransactionSet) -> dict[str, object]:
    """The ``edi inspect --json`` form of a 271: coverage, benefits and limits per member."""
    r = parse_271(ts)
    members = []
    for m in r.members:
        start, end = m.coverage_period
        members.append({
            "level": m.level, "trace": m.trace,
            "traces": [{"type": t.type, "number": t.number, "assigner": t.assigner} for t in m.traces],
            "member_id": m.member_id, "subscriber_member_id": m.subscriber_member_id,
            "last_name": m.last_name, "first_name": m.first_name, "birth_date": _iso(m.birth_date),
            "coverage": m.coverage, "coverage_period": {"start": _iso(start), "end": _iso(end)},
            "dates": _dates_json(m.dates),
            "references": [{"qualifier": q, "value": v} for q, v in m.references],
            "rejections": [_rejection_json(x) for x in m.rejections],
            "benefits": [_benefit_json(b) for b in m.benefits],
        })
    return {
        "set": "271", "control_number": ts.control_number, "reference": r.reference,
        "created": _iso(r.created), "source": _party_json(r.source), "receiver": _party_json(r.receiver),
        "rejections": [_rejection_json(x) for x in r.rejections], "members": members,
    }

