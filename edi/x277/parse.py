"""277CA and 277 parser: :func:`parse_277` and its ``edi inspect`` JSON, :func:`inspect_277`.

One reader serves both guides (they share the HL structure, see :mod:`edi.x277`). It walks the
segments once with one method per segment id, keeping the HL level and the open provider, claim
and line; each is frozen into its dataclass when the next one (or an HL, or SE) starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

from edi.errors import TransactionError
from edi.x12 import Segment, TransactionSet, element, optional, parse_d8
from edi.x277.model import (
    X214,
    ClaimStatus,
    ClaimStatusReport,
    LineStatus,
    Party,
    Person,
    ProviderStatus,
    Status,
    StatusCode,
)

__all__ = ["inspect_277", "parse_277"]


def _opt_date(seg: Segment, i: int, n: int) -> date | None:
    v = element(seg, i)
    return parse_d8(v, n, seg[0], i) if v else None


def _amount(seg: Segment, i: int, n: int) -> Decimal | None:
    v = element(seg, i)
    if not v:
        return None
    try:
        return Decimal(v).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise TransactionError("amount is not a number", segment_number=n, segment_id=seg[0], element=i,
                               expected="a decimal amount") from None


def _period(seg: Segment, n: int) -> tuple[date, date | None]:
    fmt, value = element(seg, 2), element(seg, 3)
    if fmt == "RD8":
        a, _, b = value.partition("-")
        return parse_d8(a, n, "DTP", 3), parse_d8(b, n, "DTP", 3)
    return parse_d8(value, n, "DTP", 3), None


def _status(seg: Segment, comp: str, n: int) -> Status:
    c1 = element(seg, 1).split(comp)
    if len(c1) < 2 or not c1[0] or not c1[1]:
        raise TransactionError("STC01 needs a category and a status code", segment_number=n,
                               segment_id="STC", element=1, expected="category:code[:entity]")
    extra = []
    for i in (10, 11):
        c = element(seg, i).split(comp)
        if len(c) >= 2 and c[0]:
            extra.append(StatusCode(c[0], c[1], c[2] if len(c) > 2 and c[2] else None))
    return Status(
        category=c1[0], code=c1[1], entity=c1[2] if len(c1) > 2 and c1[2] else None,
        date=_opt_date(seg, 2, n), action_code=optional(seg, 3), charge=_amount(seg, 4, n),
        payment=_amount(seg, 5, n), finalized_date=_opt_date(seg, 6, n), payment_method=optional(seg, 7),
        remittance_date=_opt_date(seg, 8, n), remittance_trace=optional(seg, 9), additional=tuple(extra),
        message=optional(seg, 12))


_Acc = SimpleNamespace
"""Mutable accumulator used while walking; frozen into dataclasses at the end of each loop."""


def _nm1_party(seg: Segment) -> Party:
    return Party(name=element(seg, 3), id=element(seg, 9), id_qualifier=element(seg, 8), entity_type=element(seg, 2) or "2",
                 first_name=optional(seg, 4))


def _nm1_person(seg: Segment) -> Person:
    return Person(last_name=element(seg, 3), first_name=optional(seg, 4), member_id=optional(seg, 9),
                  id_qualifier=element(seg, 8) or "MI")


_CLAIM_REFS = {"1K": "payer_claim_number", "D9": "clearinghouse_trace", "EJ": "patient_control_number",
               "BLT": "bill_type"}


class _Reader:
    """One pass over a 277CA or 277 set: ``prov``, ``claim`` and ``line`` are the open loops."""

    def __init__(self, ts: TransactionSet) -> None:
        self.comp = ts.delimiters.component
        self.st_number = ts.segment_number
        self.n = ts.segment_number - 1
        self.head: dict[str, Any] = {"created": None, "created_time": "", "reference": "", "source": None,
                                     "receiver": None, "source_trace": None, "receipt_date": None,
                                     "process_date": None, "receiver_trace": None, "payer_contact": ()}
        self.receiver_statuses: list[Status] = []
        self.providers: list[ProviderStatus] = []
        self.prov: _Acc | None = None
        self.person: Person | None = None
        self.subscriber: Person | None = None
        self.claim: _Acc | None = None
        self.line: _Acc | None = None
        self.level = ""
        self.handlers: dict[str, Callable[[Segment], None]] = {
            "BHT": self.bht, "HL": self.hl, "NM1": self.nm1, "PER": self.per, "TRN": self.trn, "STC": self.stc,
            "REF": self.ref, "DTP": self.dtp, "SVC": self.svc,
        }

    def read(self, segments: Iterable[Segment]) -> ClaimStatusReport:
        handlers = self.handlers
        for seg in segments:
            self.n += 1
            handler = handlers.get(seg[0])
            if handler is not None:
                handler(seg)
        self.close_provider()
        return self.report()

    # -- loops -----------------------------------------------------------------------------------
    def close_line(self) -> None:
        line, claim = self.line, self.claim
        if line is not None and claim is not None:
            claim.lines.append(LineStatus(
                procedure=line.procedure, charge=line.charge, statuses=tuple(line.statuses),
                qualifier=line.qualifier, modifiers=line.modifiers, paid=line.paid,
                revenue_code=line.revenue_code, units=line.units,
                line_control_number=line.line_control_number, service_date=line.service_date,
                service_date_end=line.service_date_end))
        self.line = None

    def close_claim(self) -> None:
        self.close_line()
        claim = self.claim
        if claim is not None:
            self.ensure_provider().claims.append(ClaimStatus(
                trace_number=claim.trace_number, statuses=tuple(claim.statuses), patient=claim.patient,
                subscriber=claim.subscriber, patient_control_number=claim.patient_control_number,
                payer_claim_number=claim.payer_claim_number, clearinghouse_trace=claim.clearinghouse_trace,
                bill_type=claim.bill_type, service_date=claim.service_date,
                service_date_end=claim.service_date_end, lines=tuple(claim.lines)))
        self.claim = None

    def ensure_provider(self) -> _Acc:
        if self.prov is None:
            self.prov = _Acc(provider=None, trace=None, statuses=[], claims=[])
        return self.prov

    def close_provider(self) -> None:
        self.close_claim()
        prov = self.prov
        if prov is not None:
            self.providers.append(ProviderStatus(provider=prov.provider, claims=tuple(prov.claims),
                                                 trace=prov.trace, statuses=tuple(prov.statuses)))
        self.prov = None

    # -- segments --------------------------------------------------------------------------------
    def bht(self, seg: Segment) -> None:
        self.head["reference"] = element(seg, 3)
        self.head["created"] = _opt_date(seg, 4, self.n)
        self.head["created_time"] = element(seg, 5)

    def hl(self, seg: Segment) -> None:
        self.level = level = element(seg, 3)
        self.close_claim()
        if level == "19":
            self.close_provider()
            self.ensure_provider()
        elif level in ("PT", "22"):
            self.person = self.subscriber = None
        elif level == "23":
            self.person = None

    def nm1(self, seg: Segment) -> None:
        level = self.level
        if level == "20":
            self.head["source"] = _nm1_party(seg)
        elif level == "21":
            self.head["receiver"] = _nm1_party(seg)
        elif level == "19":
            self.ensure_provider().provider = _nm1_party(seg)
        elif level in ("PT", "22", "23"):
            self.person = _nm1_person(seg)
            if level == "22":
                self.subscriber = self.person

    def per(self, seg: Segment) -> None:
        if self.level == "20":
            self.head["payer_contact"] = tuple(seg[1:])

    def trn(self, seg: Segment) -> None:
        level = self.level
        if level == "20":
            self.head["source_trace"] = element(seg, 2)
        elif level == "21":
            self.head["receiver_trace"] = element(seg, 2)
        elif level == "19":
            self.ensure_provider().trace = element(seg, 2)
        elif level in ("PT", "22", "23"):
            self.close_claim()
            if self.person is None:
                raise TransactionError("claim TRN before the patient's NM1", segment_number=self.n,
                                       segment_id="TRN", expected="NM1 first")
            self.claim = _Acc(trace_number=element(seg, 2), statuses=[], patient=self.person,
                              subscriber=self.subscriber if level == "23" else None, patient_control_number=None,
                              payer_claim_number=None, clearinghouse_trace=None, bill_type=None,
                              service_date=None, service_date_end=None, lines=[])

    def stc(self, seg: Segment) -> None:
        st = _status(seg, self.comp, self.n)
        if self.line is not None:
            self.line.statuses.append(st)
        elif self.claim is not None:
            self.claim.statuses.append(st)
        elif self.level == "19":
            self.ensure_provider().statuses.append(st)
        elif self.level == "21":
            self.receiver_statuses.append(st)
        else:
            raise TransactionError("STC outside a receiver, provider, claim or line loop",
                                   segment_number=self.n, segment_id="STC", expected="TRN before STC")

    def ref(self, seg: Segment) -> None:
        q, v = element(seg, 1), element(seg, 2)
        if self.line is not None:
            if q == "FJ":
                self.line.line_control_number = v
        elif self.claim is not None:
            attr = _CLAIM_REFS.get(q)
            if attr:
                setattr(self.claim, attr, v)

    def dtp(self, seg: Segment) -> None:
        q = element(seg, 1)
        if self.level == "20" and q in ("050", "009"):
            self.head["receipt_date" if q == "050" else "process_date"] = parse_d8(element(seg, 3), self.n, "DTP", 3)
        elif q == "472" and (self.line is not None or self.claim is not None):
            target = self.line if self.line is not None else self.claim
            assert target is not None
            target.service_date, target.service_date_end = _period(seg, self.n)

    def svc(self, seg: Segment) -> None:
        n = self.n
        if self.claim is None:
            raise TransactionError("SVC outside a claim loop", segment_number=n, segment_id="SVC",
                                   expected="claim TRN first")
        self.close_line()
        proc = element(seg, 1).split(self.comp)
        charge = _amount(seg, 2, n)
        if len(proc) < 2 or charge is None:
            raise TransactionError("SVC needs a procedure and a charge", segment_number=n,
                                   segment_id="SVC", element=1, expected="HC:code and SVC02")
        units = element(seg, 7)
        try:
            unit_value = Decimal(units) if units else None
        except InvalidOperation:
            raise TransactionError("SVC07 is not a number", segment_number=n, segment_id="SVC",
                                   element=7, expected="units") from None
        self.line = _Acc(procedure=proc[1], charge=charge, statuses=[], qualifier=proc[0],
                         modifiers=tuple(m for m in proc[2:6] if m), paid=_amount(seg, 3, n),
                         revenue_code=optional(seg, 4), units=unit_value, line_control_number=None,
                         service_date=None, service_date_end=None)

    # -- the report ------------------------------------------------------------------------------
    def report(self) -> ClaimStatusReport:
        head, st_n = self.head, self.st_number
        source, receiver, created = head["source"], head["receiver"], head["created"]
        if not isinstance(source, Party):
            raise TransactionError("277 has no information source name (2100A NM1)",
                                   segment_number=st_n, segment_id="ST", expected="NM1 in 2100A")
        if not isinstance(receiver, Party):
            raise TransactionError("277 has no information receiver name (2100B NM1)",
                                   segment_number=st_n, segment_id="ST", expected="NM1 in 2100B")
        if not isinstance(created, date):
            raise TransactionError("277 has no BHT creation date", segment_number=st_n,
                                   segment_id="ST", expected="BHT04")
        contact = head["payer_contact"]
        return ClaimStatusReport(
            source=source, receiver=receiver, providers=tuple(self.providers), created=created,
            created_time=str(head["created_time"]), reference=str(head["reference"]),
            source_trace=_opt_str(head["source_trace"]), receipt_date=_opt_day(head["receipt_date"]),
            process_date=_opt_day(head["process_date"]), receiver_trace=_opt_str(head["receiver_trace"]),
            receiver_statuses=tuple(self.receiver_statuses),
            payer_contact=tuple(str(x) for x in contact) if isinstance(contact, tuple) else ())


def _opt_str(v: object) -> str | None:
    return v if isinstance(v, str) else None


def _opt_day(v: object) -> date | None:
    return v if isinstance(v, date) else None


def parse_277(ts: TransactionSet) -> ClaimStatusReport:
    """Parse a 277CA (X214) or 277 (X212) transaction set."""
    return _Reader(ts).read(ts.segments)


# --------------------------------------------------------------------------------------------
# Inspect JSON
# --------------------------------------------------------------------------------------------


def _money(d: Decimal | None) -> str | None:
    return None if d is None else f"{d:.2f}"


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _status_json(s: Status) -> dict[str, object]:
    return {
        "category": s.category, "category_description": s.category_description, "code": s.code,
        "code_description": s.code_description, "entity": s.entity, "date": _iso(s.date),
        "action_code": s.action_code, "charge": _money(s.charge), "payment": _money(s.payment),
        "finalized_date": _iso(s.finalized_date), "remittance_date": _iso(s.remittance_date),
        "remittance_trace": s.remittance_trace,
        "additional": [{"category": a.category, "code": a.code, "entity": a.entity} for a in s.additional],
        "message": s.message,
    }


def _party_json(p: Party | None) -> dict[str, object] | None:
    if p is None:
        return None
    name = p.name if not p.first_name else f"{p.name}, {p.first_name}"
    return {"name": name, "id": p.id, "id_qualifier": p.id_qualifier}


def _claim_json(c: ClaimStatus, provider: Party | None) -> dict[str, object]:
    first = c.statuses[0] if c.statuses else None
    return {
        "claim_id": c.claim_id, "trace_number": c.trace_number,
        "category": first.category if first else None, "status_code": first.code if first else None,
        "rejected": c.rejected, "payer_claim_number": c.payer_claim_number,
        "clearinghouse_trace": c.clearinghouse_trace,
        "patient": {"last_name": c.patient.last_name, "first_name": c.patient.first_name,
                    "member_id": c.member_id},
        "billing_provider": _party_json(provider),
        "service_date": _iso(c.service_date), "service_date_end": _iso(c.service_date_end),
        "statuses": [_status_json(s) for s in c.statuses],
        "lines": [{
            "procedure": ln.procedure, "modifiers": list(ln.modifiers), "charge": _money(ln.charge),
            "paid": _money(ln.paid), "units": None if ln.units is None else str(ln.units.normalize()),
            "line_control_number": ln.line_control_number, "service_date": _iso(ln.service_date),
            "statuses": [_status_json(s) for s in ln.statuses],
        } for ln in c.lines],
    }


def inspect_277(ts: TransactionSet) -> dict[str, object]:
    """The ``edi inspect --json`` form of a 277CA or 277: per-claim status category and code."""
    r = parse_277(ts)
    return {
        "set": "277", "control_number": ts.control_number,
        "kind": "277CA" if ts.implementation.startswith(X214) else "277",
        "implementation": ts.implementation, "reference": r.reference, "created": _iso(r.created),
        "source": _party_json(r.source), "receiver": _party_json(r.receiver),
        "source_trace": r.source_trace, "receipt_date": _iso(r.receipt_date),
        "process_date": _iso(r.process_date), "receiver_trace": r.receiver_trace,
        "receiver_statuses": [_status_json(s) for s in r.receiver_statuses],
        "providers": [{"provider": _party_json(p.provider), "trace": p.trace,
                       "statuses": [_status_json(s) for s in p.statuses]} for p in r.providers],
        "claims": [_claim_json(c, p.provider) for p in r.providers for c in p.claims],
    }
