"""271 builder: :func:`build_271` writes :class:`edi.x271.model.EligibilityResponse` back as X12.

``_body`` writes the BHT and the 2000A/2000B/2000C/2000D loops, ``_benefit_segs`` each 2110C/D
benefit (EB, HSD, REF, DTP, AAA, MSG, and 2120 in LS/LE).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from edi._envelope import EnvelopeSpec, numbered, write_interchange
from edi.errors import BuildError
from edi.x12 import DEFAULT_DELIMITERS, Delimiters, Element
from edi.x271.model import IMPLEMENTATION, Benefit, BenefitDate, EligibilityResponse, Party, Rejection

__all__ = ["build_271"]


def _x12_num(d: Decimal | None) -> str | None:
    if d is None:
        return None
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fmt_d8(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def _dtp_seg(x: BenefitDate) -> list[Element]:
    if x.end is None:
        return ["DTP", x.qualifier, "D8", _fmt_d8(x.start)]
    return ["DTP", x.qualifier, "RD8", f"{_fmt_d8(x.start)}-{_fmt_d8(x.end)}"]


def _aaa_seg(r: Rejection) -> list[Element]:
    return ["AAA", "Y" if r.valid_request else "N", None, r.reason_code, r.follow_up_code]


def _nm1(p: Party) -> list[Element]:
    return ["NM1", p.entity, p.entity_type, p.name, p.first_name, None, None, None, p.id_qualifier, p.id]


def _benefit_segs(b: Benefit, d: Delimiters) -> list[list[Element]]:
    if len(b.service_types) > 1 and not d.repetition:
        raise BuildError("EB03 repeats but the interchange has no repetition separator", segment_id="EB",
                         element=3, expected="ISA11 repetition separator")
    out: list[list[Element]] = [[
        "EB", b.code, b.coverage_level, d.repetition.join(b.service_types) or None, b.insurance_type,
        b.plan_description, b.time_period, _x12_num(b.amount), _x12_num(b.percent), b.quantity_qualifier,
        _x12_num(b.quantity), b.auth_indicator, b.network_indicator, list(b.procedure) or None]]
    for x in b.limits:
        out.append(["HSD", x.quantity_qualifier, _x12_num(x.quantity), x.unit, _x12_num(x.sample_modulus),
                    x.time_period, _x12_num(x.period_count), x.frequency, x.pattern])
    out += [["REF", q, v] for q, v in b.references]
    out += [_dtp_seg(x) for x in b.dates]
    out += [_aaa_seg(r) for r in b.rejections]
    out += [["MSG", m] for m in b.messages]
    if b.related:
        out.append(["LS", "2120"])
        out += [_nm1(p) for p in b.related]
        out.append(["LE", "2120"])
    return out


def _body(r: EligibilityResponse, d: Delimiters) -> list[list[Element]]:
    def at(loop: str) -> list[list[Element]]:
        return [_aaa_seg(x) for x in r.rejections if x.loop == loop]

    body: list[list[Element]] = [
        ["BHT", "0022", r.purpose, r.reference, _fmt_d8(r.created), r.created_time],
        ["HL", "1", None, "20", "1" if r.receiver is not None else "0"], *at("2000A"), _nm1(r.source),
        *at("2100A")]
    if r.receiver is None:
        if r.members:
            raise BuildError("a 271 with subscribers needs the information receiver (2100B)", segment_id="NM1")
        return body
    body += [["HL", "2", "1", "21", "1" if r.members else "0"], _nm1(r.receiver), *at("2100B")]
    hl, sub_hl = 2, None
    for i, m in enumerate(r.members):
        hl += 1
        nxt = r.members[i + 1] if i + 1 < len(r.members) else None
        if m.level == "subscriber":
            sub_hl = hl
            has_dep = nxt is not None and nxt.level == "dependent"
            body.append(["HL", str(hl), "2", "22", "1" if has_dep else "0"])
            entity = "IL"
        elif m.level == "dependent":
            if sub_hl is None:
                raise BuildError("a dependent must follow its subscriber", segment_id="HL")
            body.append(["HL", str(hl), str(sub_hl), "23", "0"])
            entity = "03"
        else:
            raise BuildError(f"member level {m.level!r} is neither subscriber nor dependent", segment_id="HL")
        body += [["TRN", t.type, t.number, t.assigner, t.additional] for t in m.traces]
        body.append(["NM1", entity, "1", m.last_name, m.first_name, None, None, None, m.id_qualifier,
                     m.member_id])
        body += [["REF", q, v] for q, v in m.references]
        body += [_aaa_seg(x) for x in m.rejections]
        if m.birth_date is not None or m.gender is not None:
            body.append(["DMG", "D8" if m.birth_date else None,
                         _fmt_d8(m.birth_date) if m.birth_date else None, m.gender])
        body += [_dtp_seg(x) for x in m.dates]
        for b in m.benefits:
            body += _benefit_segs(b, d)
    return body


def build_271(
    responses: Sequence[EligibilityResponse],
    *,
    envelope: EnvelopeSpec,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange of 271 transaction sets (005010X279A1), one per response, ST02 from ``envelope.st_control``."""
    if not responses:
        raise BuildError("nothing to write: no 271 response given", segment_id="ST")
    envelope.check()
    bodies = [_body(r, delimiters) for r in responses]
    return write_interchange(envelope, "HB", IMPLEMENTATION, numbered(envelope, "271", bodies, IMPLEMENTATION),
                             delimiters=delimiters, newline=newline)

