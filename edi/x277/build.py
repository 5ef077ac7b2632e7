"""277CA (005010X214) and 277 (005010X212) builders: :func:`build_277ca` and :func:`build_277`.

They write the dataclasses of :mod:`edi.x277.model` back as X12, one function per loop:
``_loop_2000a_source`` (with 2200A in a 277CA), ``_loop_2000b_receiver``, ``_loop_2000c_provider``,
``_loop_2000d_2000e_patient``, ``_loop_2200d_claim`` and ``_loop_2220d_line``. A report missing what
the guide requires raises :class:`edi.errors.BuildError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from edi._envelope import EnvelopeSpec, numbered, write_interchange
from edi.errors import BuildError
from edi.x12 import DEFAULT_DELIMITERS, Delimiters, Element
from edi.x277.model import (
    X212,
    X214,
    ClaimStatus,
    ClaimStatusReport,
    LineStatus,
    Party,
    ProviderStatus,
    Status,
    StatusCode,
)

__all__ = ["build_277", "build_277ca"]


def _x12_amount(d: Decimal | None) -> str | None:
    if d is None:
        return None
    q = d.quantize(Decimal("0.01"))
    text = f"{q:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _d8(d: date | None) -> str | None:
    return None if d is None else d.strftime("%Y%m%d")


def _status_seg(s: Status, implementation: str, *, dated: bool = True) -> list[Element]:
    def comp(c: StatusCode) -> list[str]:
        return [c.category, c.code, c.entity or ""]

    extra: list[Element] = [comp(a) for a in s.additional[:2]]
    action = s.action_code if implementation == X214 else None
    return ["STC", comp(StatusCode(s.category, s.code, s.entity)), _d8(s.date) if dated else None, action,
            _x12_amount(s.charge), _x12_amount(s.payment), _d8(s.finalized_date), s.payment_method,
            _d8(s.remittance_date), s.remittance_trace, *extra, *([None] * (2 - len(extra))),
            s.message]


def _dtp472(start: date, end: date | None) -> list[Element]:
    if end is None or end == start:
        return ["DTP", "472", "D8", _d8(start)]
    return ["DTP", "472", "RD8", f"{_d8(start)}-{_d8(end)}"]


def _name(entity: str, p: Party) -> list[Element]:
    return ["NM1", entity, p.entity_type, p.name, p.first_name, None, None, None, p.id_qualifier, p.id]


def _need(value: object, what: str, segment_id: str) -> None:
    if value is None or value == () or value == "":
        raise BuildError(f"a 277CA needs {what}", segment_id=segment_id)


def _loop_2000a_source(r: ClaimStatusReport, ca: bool) -> list[list[Element]]:
    """BHT, HL 20, 2100A (NM1*PR, PER) and, in a 277CA, 2200A (TRN, DTP*050, DTP*009)."""
    if ca:
        _need(r.source_trace, "the source trace (2200A TRN)", "TRN")
        _need(r.receipt_date, "the receipt date (2200A DTP*050)", "DTP")
        _need(r.process_date, "the process date (2200A DTP*009)", "DTP")
        _need(r.receiver_trace, "the receiver trace (2200B TRN)", "TRN")
        _need(r.receiver_statuses, "a receiver status (2200B STC)", "STC")
    body: list[list[Element]] = [
        ["BHT", "0085" if ca else "0010", "08", r.reference or "0", _d8(r.created), r.created_time,
         "TH" if ca else "DG"],
        ["HL", "1", None, "20", "1"],
        _name("PR", r.source),
    ]
    if not ca and r.payer_contact:
        body.append(["PER", *r.payer_contact])
    if ca:
        body += [["TRN", "1", r.source_trace], ["DTP", "050", "D8", _d8(r.receipt_date)],
                 ["DTP", "009", "D8", _d8(r.process_date)]]
    return body


def _loop_2000b_receiver(r: ClaimStatusReport, impl: str) -> list[list[Element]]:
    """HL 21, 2100B NM1*41 and 2200B (TRN, STC)."""
    has_providers = any(p.provider is not None for p in r.providers)
    body: list[list[Element]] = [["HL", "2", "1", "21", "1" if has_providers or r.providers else "0"],
                                 _name("41", r.receiver)]
    if r.receiver_trace is not None:
        body.append(["TRN", "2", r.receiver_trace])
        body += [_status_seg(s, impl) for s in r.receiver_statuses]
    return body


def _loop_2000c_provider(p: ProviderStatus, hl: int, impl: str) -> list[list[Element]]:
    """HL 19, 2100C NM1 and 2200C (TRN, STC) of one provider."""
    ca = impl == X214
    if p.provider is None:
        return []
    body: list[list[Element]] = [["HL", str(hl), "2", "19", "1" if p.claims else "0"],
                                 _name("85" if ca else "1P", p.provider)]
    if ca:
        _need(p.trace, "a provider trace (2200C TRN)", "TRN")
        _need(p.statuses, "a provider status (2200C STC)", "STC")
    if p.trace is not None:
        body.append(["TRN", "1", p.trace])
        # 277CA 2200C STC02 is "not used": the provider-level status carries no date there.
        body += [_status_seg(s, impl, dated=not ca) for s in p.statuses]
    return body


def _loop_2000d_2000e_patient(c: ClaimStatus, hl: int, parent: str, ca: bool) -> tuple[list[list[Element]], int]:
    """The patient (277CA HL PT), subscriber (277 HL 22) and dependent (HL 23) of a claim; the last HL."""
    if ca:
        return [["HL", str(hl), parent, "PT"], ["NM1", "QC", "1", c.patient.last_name, c.patient.first_name,
                                                None, None, None, c.patient.id_qualifier, c.patient.member_id]], hl
    if c.subscriber is None:
        return [["HL", str(hl), parent, "22", "0"], ["NM1", "IL", "1", c.patient.last_name, c.patient.first_name,
                                                     None, None, None, c.patient.id_qualifier,
                                                     c.patient.member_id]], hl
    sub = c.subscriber
    return [["HL", str(hl), parent, "22", "1"], ["NM1", "IL", "1", sub.last_name, sub.first_name, None, None, None,
                                                 sub.id_qualifier, sub.member_id],
            ["HL", str(hl + 1), str(hl), "23"], ["NM1", "QC", "1", c.patient.last_name, c.patient.first_name]], hl + 1


def _loop_2200d_claim(c: ClaimStatus, impl: str) -> list[list[Element]]:
    """TRN, STC, REF and DTP*472 of one claim, then its 2220 lines."""
    ca = impl == X214
    if not c.statuses:
        raise BuildError(f"claim {c.claim_id} has no status", segment_id="STC")
    body: list[list[Element]] = [["TRN", "2", c.trace_number]]
    body += [_status_seg(s, impl) for s in c.statuses]
    for q, v in (("1K", c.payer_claim_number), ("BLT", c.bill_type),
                 ("EJ", None if ca else c.patient_control_number), ("D9", c.clearinghouse_trace)):
        if v:
            body.append(["REF", q, v])
    if c.service_date is not None:
        body.append(_dtp472(c.service_date, c.service_date_end))
    elif ca:
        raise BuildError(f"claim {c.claim_id} needs a service date in a 277CA", segment_id="DTP")
    for ln in c.lines:
        body += _loop_2220d_line(ln, c.claim_id, impl)
    return body


def _loop_2220d_line(ln: LineStatus, claim_id: str, impl: str) -> list[list[Element]]:
    """SVC, STC, REF*FJ and DTP*472 of one service line."""
    ca = impl == X214
    paid = ln.paid if ln.paid is not None or ca else Decimal("0")
    units = ln.units if ln.units is not None or ca else Decimal("1")
    body: list[list[Element]] = [["SVC", [ln.qualifier, ln.procedure, *ln.modifiers], _x12_amount(ln.charge),
                                  _x12_amount(paid), ln.revenue_code, None, None,
                                  None if units is None else f"{units.normalize():f}"]]
    if not ln.statuses:
        raise BuildError(f"a line of claim {claim_id} has no status", segment_id="STC")
    body += [_status_seg(s, impl) for s in ln.statuses]
    if ln.line_control_number:
        body.append(["REF", "FJ", ln.line_control_number])
    if ln.service_date is not None:
        body.append(_dtp472(ln.service_date, ln.service_date_end))
    elif not ca:
        raise BuildError(f"a line of claim {claim_id} needs a service date in a 277", segment_id="DTP")
    return body


def _body(r: ClaimStatusReport, impl: str) -> list[list[Element]]:
    ca = impl == X214
    body = _loop_2000a_source(r, ca) + _loop_2000b_receiver(r, impl)
    hl = 2
    for p in r.providers:
        parent = "2"
        if p.provider is not None:
            hl += 1
            parent = str(hl)
        elif ca:
            raise BuildError("a 277CA needs a billing provider (2000C) for every claim group", segment_id="HL")
        body += _loop_2000c_provider(p, hl, impl)
        for c in p.claims:
            segs, hl = _loop_2000d_2000e_patient(c, hl + 1, parent, ca)
            body += segs + _loop_2200d_claim(c, impl)
    return body


def _build(reports: Sequence[ClaimStatusReport], impl: str, envelope: EnvelopeSpec, delimiters: Delimiters,
           newline: bool) -> str:
    if not reports:
        raise BuildError("nothing to write: no 277 transaction given", segment_id="ST")
    envelope.check()
    bodies = [_body(r, impl) for r in reports]
    return write_interchange(envelope, "HN", impl, numbered(envelope, "277", bodies, impl), delimiters=delimiters,
                             newline=newline)


def build_277ca(
    reports: Sequence[ClaimStatusReport],
    *,
    envelope: EnvelopeSpec,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange of 277CA (005010X214) transaction sets, one per report, ST02 from ``envelope.st_control``."""
    return _build(reports, X214, envelope, delimiters, newline)


def build_277(
    reports: Sequence[ClaimStatusReport],
    *,
    envelope: EnvelopeSpec,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange of 277 claim status responses (005010X212), one per report, ST02 from ``envelope.st_control``."""
    return _build(reports, X212, envelope, delimiters, newline)
