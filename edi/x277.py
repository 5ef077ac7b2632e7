"""277CA claim acknowledgment (005010X214) and 277 claim status response (005010X212).

The two guides share the HL structure, so one parser serves both:

    2000A information source (payer or clearinghouse)  2200A TRN + receipt/process dates (277CA)
    2000B information receiver (us)                    2200B TRN + batch STC
    2000C billing/service provider                     2200C TRN + provider STC
    2000D patient (277CA, HL PT) or subscriber (277, HL 22)
    2000E dependent (277 only, HL 23)
          2200D/2200E claim: TRN, STC..., REF*1K, REF*D9, REF*EJ, DTP*472
          2220D/2220E line: SVC, STC..., REF*FJ, DTP*472

:func:`parse_277` returns a :class:`ClaimStatusReport`; :func:`inspect_277` its JSON form.
:func:`build_277ca` and :func:`build_277` write the same dataclasses back as X12.

In a 277CA the claim's TRN02 is our patient control number (CLM01). In a 277 TRN02 echoes the
276's trace and REF*EJ, when present, carries CLM01; :attr:`ClaimStatus.claim_id` picks the one that
names our claim. Member ids and names are PHI: they are fields, never put in error messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from edi import codes
from edi.errors import BuildError, TransactionError
from edi.x12 import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Element,
    InterchangeSpec,
    Segment,
    TransactionSet,
    build_sets,
    element,
    optional,
    parse_d8,
)

__all__ = [
    "CATEGORY_CODES",
    "REJECTED_CATEGORIES",
    "X212",
    "X214",
    "ClaimStatus",
    "ClaimStatusReport",
    "LineStatus",
    "Party",
    "Person",
    "ProviderStatus",
    "Status",
    "StatusCode",
    "build_277",
    "build_277ca",
    "inspect_277",
    "parse_277",
]

X214 = "005010X214"
X212 = "005010X212"

CATEGORY_CODES: dict[str, str] = {  # STC01-1, code source 507 (short forms)
    "A0": "Acknowledgement/Forwarded",
    "A1": "Acknowledgement/Receipt",
    "A2": "Acknowledgement/Acceptance into adjudication system",
    "A3": "Acknowledgement/Returned as unprocessable claim",
    "A4": "Acknowledgement/Not Found",
    "A5": "Acknowledgement/Split Claim",
    "A6": "Acknowledgement/Rejected for Missing Information",
    "A7": "Acknowledgement/Rejected for Invalid Information",
    "A8": "Acknowledgement/Rejected for relational field in error",
    "P0": "Pending: Adjudication/Details",
    "P1": "Pending/In Process",
    "P2": "Pending/Payer Review",
    "P3": "Pending/Provider Requested Information",
    "P4": "Pending/Patient Requested Information",
    "P5": "Pending/Payer Administrative/System hold",
    "F0": "Finalized",
    "F1": "Finalized/Payment",
    "F2": "Finalized/Denial",
    "F3": "Finalized/Revised",
    "F3F": "Finalized/Forwarded",
    "F3N": "Finalized/Not Forwarded",
    "F4": "Finalized/Adjudication Complete - No payment forthcoming",
    "R0": "Requests for additional Information/General Requests",
    "R1": "Requests for additional Information/Entity Requests",
    "R3": "Requests for additional Information/Claim/Line",
    "R4": "Requests for additional Information/Documentation",
    "R5": "Request for additional information/more specific detail",
    "E0": "Response not possible - error on submitted request data",
    "E1": "Response not possible - System Status",
    "E2": "Information Holder is not responding; resubmit at a later time",
    "E3": "Correction required - relational fields in error",
    "E4": "Trading partner agreement specific requirement not met",
    "D0": "Data Search Unsuccessful",
}


REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8", "E0", "E3", "E4"})
"""Category codes meaning the claim was not taken into adjudication."""



# --------------------------------------------------------------------------------------------
# Parsed data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation or person named in an NM1 (source, receiver, provider)."""

    name: str
    id: str
    id_qualifier: str = "PI"
    entity_type: str = "2"
    first_name: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A patient, subscriber or dependent (PHI)."""

    last_name: str
    first_name: str | None = None
    member_id: str | None = None
    id_qualifier: str = "MI"


@dataclass(frozen=True, slots=True)
class StatusCode:
    """An STC01/STC10/STC11 composite: category, status code, entity."""

    category: str
    code: str
    entity: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """One STC segment."""

    category: str
    code: str
    entity: str | None = None
    date: dt.date | None = None  # STC02
    action_code: str | None = None  # STC03 (277CA: WQ accepted, U rejected)
    charge: Decimal | None = None  # STC04
    payment: Decimal | None = None  # STC05
    finalized_date: dt.date | None = None  # STC06
    payment_method: str | None = None  # STC07
    remittance_date: dt.date | None = None  # STC08
    remittance_trace: str | None = None  # STC09
    additional: tuple[StatusCode, ...] = ()  # STC10, STC11
    message: str | None = None  # STC12

    @property
    def category_description(self) -> str:
        short = CATEGORY_CODES.get(self.category)
        return short if short is not None else codes.claim_status_categories().describe(self.category)

    @property
    def code_description(self) -> str:
        """From the claim status code list (508) in :mod:`edi.codes`; unknown codes say so."""
        return codes.claim_status_codes().describe(self.code)

    @property
    def rejected(self) -> bool:
        return self.category in REJECTED_CATEGORIES


@dataclass(frozen=True, slots=True)
class LineStatus:
    """2220D/2220E: the status of one service line."""

    procedure: str
    charge: Decimal
    statuses: tuple[Status, ...]
    qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    paid: Decimal | None = None  # SVC03
    revenue_code: str | None = None
    units: Decimal | None = None  # SVC07
    line_control_number: str | None = None  # REF*FJ
    service_date: date | None = None
    service_date_end: date | None = None


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """2200D/2200E: the status of one claim."""

    trace_number: str  # TRN02
    statuses: tuple[Status, ...]
    patient: Person
    subscriber: Person | None = None  # set when the claim is at the dependent level (277 2000E)
    patient_control_number: str | None = None  # REF*EJ (277)
    payer_claim_number: str | None = None  # REF*1K
    clearinghouse_trace: str | None = None  # REF*D9
    bill_type: str | None = None  # REF*BLT
    service_date: date | None = None
    service_date_end: date | None = None
    lines: tuple[LineStatus, ...] = ()

    @property
    def claim_id(self) -> str:
        """Our claim id (CLM01): REF*EJ when given, else TRN02."""
        return self.patient_control_number or self.trace_number

    @property
    def member_id(self) -> str | None:
        if self.patient.member_id:
            return self.patient.member_id
        return self.subscriber.member_id if self.subscriber else None

    @property
    def rejected(self) -> bool:
        """True when any claim-level status has a rejection category (A3, A4, A6, A7, A8, E0, E3, E4)."""
        return any(s.rejected for s in self.statuses)


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """2000C: a billing/service provider with its own status and its claims."""

    provider: Party | None
    claims: tuple[ClaimStatus, ...] = ()
    trace: str | None = None  # 2200C TRN02
    statuses: tuple[Status, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimStatusReport:
    """One 277CA or 277 transaction set."""

    source: Party
    receiver: Party
    providers: tuple[ProviderStatus, ...]
    created: date
    created_time: str = "1200"
    reference: str = ""  # BHT03
    source_trace: str | None = None  # 2200A TRN02 (277CA)
    receipt_date: date | None = None  # 2200A DTP*050
    process_date: date | None = None  # 2200A DTP*009
    receiver_trace: str | None = None  # 2200B TRN02 (our batch / 837 BHT03)
    receiver_statuses: tuple[Status, ...] = ()
    payer_contact: tuple[str, ...] = field(default=())  # 277 2100A PER (raw elements), not PHI

    @property
    def claims(self) -> tuple[ClaimStatus, ...]:
        return tuple(c for p in self.providers for c in p.claims)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------








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


def parse_277(ts: TransactionSet) -> ClaimStatusReport:
    """Parse a 277CA (X214) or 277 (X212) transaction set."""
    comp = ts.delimiters.component
    head: dict[str, object] = {"created": None, "created_time": "", "reference": "", "source": None,
                               "receiver": None, "source_trace": None, "receipt_date": None,
                               "process_date": None, "receiver_trace": None, "payer_contact": ()}
    receiver_statuses: list[Status] = []
    providers: list[ProviderStatus] = []
    prov: _Acc | None = None
    person: Person | None = None
    subscriber: Person | None = None
    claim: _Acc | None = None
    line: _Acc | None = None
    level = ""
    n = ts.segment_number - 1

    def close_line() -> None:
        nonlocal line
        if line is not None and claim is not None:
            claim.lines.append(LineStatus(
                procedure=line.procedure, charge=line.charge, statuses=tuple(line.statuses),
                qualifier=line.qualifier, modifiers=line.modifiers, paid=line.paid,
                revenue_code=line.revenue_code, units=line.units,
                line_control_number=line.line_control_number, service_date=line.service_date,
                service_date_end=line.service_date_end))
        line = None

    def close_claim() -> None:
        nonlocal claim
        close_line()
        if claim is not None:
            holder = ensure_provider()
            holder.claims.append(ClaimStatus(
                trace_number=claim.trace_number, statuses=tuple(claim.statuses), patient=claim.patient,
                subscriber=claim.subscriber, patient_control_number=claim.patient_control_number,
                payer_claim_number=claim.payer_claim_number, clearinghouse_trace=claim.clearinghouse_trace,
                bill_type=claim.bill_type, service_date=claim.service_date,
                service_date_end=claim.service_date_end, lines=tuple(claim.lines)))
        claim = None

    def ensure_provider() -> _Acc:
        nonlocal prov
        if prov is None:
            prov = _Acc(provider=None, trace=None, statuses=[], claims=[])
        return prov

    def close_provider() -> None:
        nonlocal prov
        close_claim()
        if prov is not None:
            providers.append(ProviderStatus(provider=prov.provider, claims=tuple(prov.claims),
                                            trace=prov.trace, statuses=tuple(prov.statuses)))
        prov = None

    for seg in ts.segments:
        n += 1
        sid = seg[0]
        if sid == "BHT":
            head["reference"] = element(seg, 3)
            head["created"] = _opt_date(seg, 4, n)
            head["created_time"] = element(seg, 5)
        elif sid == "HL":
            level = element(seg, 3)
            close_claim()
            if level == "19":
                close_provider()
                ensure_provider()
            elif level in ("PT", "22"):
                person = subscriber = None
            elif level == "23":
                person = None
        elif sid == "NM1":
            if level == "20":
                head["source"] = _nm1_party(seg)
            elif level == "21":
                head["receiver"] = _nm1_party(seg)
            elif level == "19":
                ensure_provider().provider = _nm1_party(seg)
            elif level in ("PT", "22"):
                person = _nm1_person(seg)
                if level == "22":
                    subscriber = person
            elif level == "23":
                person = _nm1_person(seg)
        elif sid == "PER" and level == "20":
            head["payer_contact"] = tuple(seg[1:])
        elif sid == "TRN":
            if level == "20":
                head["source_trace"] = element(seg, 2)
            elif level == "21":
                head["receiver_trace"] = element(seg, 2)
            elif level == "19":
                ensure_provider().trace = element(seg, 2)
            elif level in ("PT", "22", "23"):
                close_claim()
                if person is None:
                    raise TransactionError("claim TRN before the patient's NM1", segment_number=n,
                                           segment_id="TRN", expected="NM1 first")
                dep = level == "23"
                claim = _Acc(trace_number=element(seg, 2), statuses=[], patient=person,
                             subscriber=subscriber if dep else None, patient_control_number=None,
                             payer_claim_number=None, clearinghouse_trace=None, bill_type=None,
                             service_date=None, service_date_end=None, lines=[])
        elif sid == "STC":
            st = _status(seg, comp, n)
            if line is not None:
                line.statuses.append(st)
            elif claim is not None:
                claim.statuses.append(st)
            elif level == "19":
                ensure_provider().statuses.append(st)
            elif level == "21":
                receiver_statuses.append(st)
            else:
                raise TransactionError("STC outside a receiver, provider, claim or line loop",
                                       segment_number=n, segment_id="STC", expected="TRN before STC")
        elif sid == "REF":
            q, v = element(seg, 1), element(seg, 2)
            if line is not None:
                if q == "FJ":
                    line.line_control_number = v
            elif claim is not None:
                attr = {"1K": "payer_claim_number", "D9": "clearinghouse_trace", "EJ": "patient_control_number",
                        "BLT": "bill_type"}.get(q)
                if attr:
                    setattr(claim, attr, v)
        elif sid == "DTP":
            q = element(seg, 1)
            if level == "20" and q in ("050", "009"):
                head["receipt_date" if q == "050" else "process_date"] = parse_d8(element(seg, 3), n, "DTP", 3)
            elif q == "472" and (line is not None or claim is not None):
                target = line if line is not None else claim
                assert target is not None
                target.service_date, target.service_date_end = _period(seg, n)
        elif sid == "SVC":
            if claim is None:
                raise TransactionError("SVC outside a claim loop", segment_number=n, segment_id="SVC",
                                       expected="claim TRN first")
            close_line()
            proc = element(seg, 1).split(comp)
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
            line = _Acc(procedure=proc[1], charge=charge, statuses=[], qualifier=proc[0],
                        modifiers=tuple(m for m in proc[2:6] if m), paid=_amount(seg, 3, n),
                        revenue_code=optional(seg, 4), units=unit_value, line_control_number=None,
                        service_date=None, service_date_end=None)
    close_provider()
    source, receiver, created = head["source"], head["receiver"], head["created"]
    if not isinstance(source, Party):
        raise TransactionError("277 has no information source name (2100A NM1)",
                               segment_number=ts.segment_number, segment_id="ST", expected="NM1 in 2100A")
    if not isinstance(receiver, Party):
        raise TransactionError("277 has no information receiver name (2100B NM1)",
                               segment_number=ts.segment_number, segment_id="ST", expected="NM1 in 2100B")
    if not isinstance(created, date):
        raise TransactionError("277 has no BHT creation date", segment_number=ts.segment_number,
                               segment_id="ST", expected="BHT04")

    def opt_str(key: str) -> str | None:
        v = head[key]
        return v if isinstance(v, str) else None

    def opt_day(key: str) -> date | None:
        v = head[key]
        return v if isinstance(v, date) else None

    contact = head["payer_contact"]
    return ClaimStatusReport(
        source=source, receiver=receiver, providers=tuple(providers), created=created,
        created_time=str(head["created_time"]), reference=str(head["reference"]),
        source_trace=opt_str("source_trace"), receipt_date=opt_day("receipt_date"),
        process_date=opt_day("process_date"), receiver_trace=opt_str("receiver_trace"),
        receiver_statuses=tuple(receiver_statuses),
        payer_contact=tuple(str(x) for x in contact) if isinstance(contact, tuple) else ())


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


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


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


def _body(r: ClaimStatusReport, impl: str) -> list[list[Element]]:
    ca = impl == X214
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
    has_providers = any(p.provider is not None for p in r.providers)
    body += [["HL", "2", "1", "21", "1" if has_providers or r.providers else "0"], _name("41", r.receiver)]
    if r.receiver_trace is not None:
        body.append(["TRN", "2", r.receiver_trace])
        body += [_status_seg(s, impl) for s in r.receiver_statuses]
    hl = 2
    for p in r.providers:
        parent = "2"
        if p.provider is not None:
            hl += 1
            parent = str(hl)
            body += [["HL", parent, "2", "19", "1" if p.claims else "0"], _name("85" if ca else "1P", p.provider)]
            if ca:
                _need(p.trace, "a provider trace (2200C TRN)", "TRN")
                _need(p.statuses, "a provider status (2200C STC)", "STC")
            if p.trace is not None:
                body.append(["TRN", "1", p.trace])
                # 277CA 2200C STC02 is "not used": the provider-level status carries no date there.
                body += [_status_seg(s, impl, dated=not ca) for s in p.statuses]
        elif ca:
            raise BuildError("a 277CA needs a billing provider (2000C) for every claim group", segment_id="HL")
        for c in p.claims:
            hl += 1
            if ca:
                body += [["HL", str(hl), parent, "PT"], ["NM1", "QC", "1", c.patient.last_name,
                         c.patient.first_name, None, None, None, c.patient.id_qualifier, c.patient.member_id]]
            elif c.subscriber is None:
                body += [["HL", str(hl), parent, "22", "0"], ["NM1", "IL", "1", c.patient.last_name,
                         c.patient.first_name, None, None, None, c.patient.id_qualifier, c.patient.member_id]]
            else:
                sub = c.subscriber
                body += [["HL", str(hl), parent, "22", "1"], ["NM1", "IL", "1", sub.last_name,
                         sub.first_name, None, None, None, sub.id_qualifier, sub.member_id]]
                hl += 1
                body += [["HL", str(hl), str(hl - 1), "23"],
                         ["NM1", "QC", "1", c.patient.last_name, c.patient.first_name]]
            if not c.statuses:
                raise BuildError(f"claim {c.claim_id} has no status", segment_id="STC")
            body.append(["TRN", "2", c.trace_number])
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
                paid = ln.paid if ln.paid is not None or ca else Decimal("0")
                units = ln.units if ln.units is not None or ca else Decimal("1")
                body.append(["SVC", [ln.qualifier, ln.procedure, *ln.modifiers], _x12_amount(ln.charge),
                             _x12_amount(paid), ln.revenue_code, None, None,
                             None if units is None else f"{units.normalize():f}"])
                if not ln.statuses:
                    raise BuildError(f"a line of claim {c.claim_id} has no status", segment_id="STC")
                body += [_status_seg(s, impl) for s in ln.statuses]
                if ln.line_control_number:
                    body.append(["REF", "FJ", ln.line_control_number])
                if ln.service_date is not None:
                    body.append(_dtp472(ln.service_date, ln.service_date_end))
                elif not ca:
                    raise BuildError(f"a line of claim {c.claim_id} needs a service date in a 277",
                                     segment_id="DTP")
    return body


def _build(reports: Sequence[ClaimStatusReport], impl: str, interchange: InterchangeSpec,
           group_control_number: int, first: int, delimiters: Delimiters, newline: bool) -> str:
    if not reports:
        raise BuildError("nothing to write: no 277 transaction given", segment_id="ST")
    return build_sets(interchange, functional_id="HN", set_id="277", implementation=impl,
                      bodies=[_body(r, impl) for r in reports], group_control_number=group_control_number,
                      first_transaction_number=first, delimiters=delimiters, newline=newline)


def build_277ca(
    reports: Sequence[ClaimStatusReport],
    *,
    interchange: InterchangeSpec,
    group_control_number: int,
    first_transaction_number: int = 1,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange of 277CA (005010X214) transaction sets, one per report."""
    return _build(reports, X214, interchange, group_control_number, first_transaction_number, delimiters,
                  newline)


def build_277(
    reports: Sequence[ClaimStatusReport],
    *,
    interchange: InterchangeSpec,
    group_control_number: int,
    first_transaction_number: int = 1,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange of 277 claim status responses (005010X212), one per report."""
    return _build(reports, X212, interchange, group_control_number, first_transaction_number, delimiters,
                  newline)
