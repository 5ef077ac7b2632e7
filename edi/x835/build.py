"""835 builder: :func:`build_835` (a whole interchange) and :func:`transaction_835` (one set's body).

They write exactly the dataclasses they are given (:mod:`edi.x835.model`); nothing is computed
except the envelope counts. Segments follow the guide's loops: header (BPR, TRN, CUR, REF, DTM),
1000A payer and 1000B payee (:func:`_party`), 2000 LX, 2100 claims (:func:`_claim`), 2110 service
lines (:func:`_line`), PLB (:func:`_plb`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from edi._envelope import EnvelopeSpec, st_number, write_interchange
from edi.errors import BuildError
from edi.x12 import DEFAULT_DELIMITERS, Delimiters, Element, TransactionSpec
from edi.x835.model import (
    IMPLEMENTATION,
    Adjustment,
    ClaimPayment,
    Name,
    Party,
    ProviderAdjustment,
    Remittance835,
    ServiceLine,
)

__all__ = ["build_835", "transaction_835"]

def _amt(d: Decimal) -> str:
    """An X12 R value: no exponent, no needless trailing zeros."""
    if d == 0:
        return "0"
    text = f"{d:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _opt_amt(d: Decimal | None) -> str | None:
    return None if d is None else _amt(d)


def _dt(d: date | None) -> str | None:
    return None if d is None else d.strftime("%Y%m%d")


_LINE_REF_FIRST = frozenset({"1S", "APC", "BB", "E9", "G1", "G3", "LU", "RB"})
_NAME_ORDER = {"QC": 0, "IL": 1, "74": 2, "82": 3, "TT": 4, "PR": 5, "GB": 6}


def _cas(adjs: Sequence[Adjustment]) -> list[list[Element]]:
    """CAS segments: consecutive adjustments of one group share a segment, six triples at most."""
    out: list[list[Element]] = []
    cur: list[Element] = []
    group = None
    for a in adjs:
        if a.group != group or len(cur) >= 2 + 18:
            if cur:
                out.append(cur)
            cur, group = ["CAS", a.group], a.group
        cur += [a.reason, _amt(a.amount), _opt_amt(a.quantity)]
    if cur:
        out.append(cur)
    return out


def _party(p: Party) -> list[list[Element]]:
    out: list[list[Element]] = [["N1", p.entity_code, p.name, p.id_qualifier or None, p.id or None]]
    if p.address:
        out.append(["N3", *p.address])
    if p.city or p.state or p.postal_code:
        out.append(["N4", p.city, p.state, p.postal_code, p.country or None])
    out += [["REF", q, v] for q, v in p.references]
    for c in p.contacts:
        per: list[Element] = ["PER", c.function, c.name or None]
        for q, num in c.numbers:
            per += [q, num]
        out.append(per)
    return out


def _name(nm: Name) -> list[Element]:
    return ["NM1", nm.entity_code, nm.entity_type, nm.last_name, nm.first_name or None,
            nm.middle_name or None, None, nm.suffix or None, nm.id_qualifier or None, nm.id or None]


def _line(ln: ServiceLine) -> list[list[Element]]:
    proc = [ln.procedure_qualifier, ln.procedure, *ln.modifiers]
    if ln.description:
        proc += [""] * (6 - len(proc)) + [ln.description]
    orig = ([ln.original_qualifier, ln.original_procedure, *ln.original_modifiers]
            if ln.original_procedure else None)
    out: list[list[Element]] = [["SVC", proc, _amt(ln.charge), _amt(ln.paid), ln.revenue_code or None,
                                 _amt(ln.units), orig, _opt_amt(ln.original_units)]]
    out += [["DTM", q, _dt(d)] for q, d in ln.dates]
    out += _cas(ln.adjustments)
    out += [["REF", q, v] for q, v in ln.references if q in _LINE_REF_FIRST]
    if ln.line_control_number is not None:
        out.append(["REF", "6R", ln.line_control_number])
    out += [["REF", q, v] for q, v in ln.references if q not in _LINE_REF_FIRST]
    out += [["AMT", q, _amt(a)] for q, a in ln.amounts]
    out += [["QTY", q, _amt(a)] for q, a in ln.quantities]
    out += [["LQ", "HE", r] for r in ln.remarks]
    out += [["LQ", q, r] for q, r in ln.other_remarks]
    return out


def _claim(c: ClaimPayment) -> list[list[Element]]:
    out: list[list[Element]] = [[
        "CLP", c.claim_id, c.status_code, _amt(c.charge), _amt(c.paid), _amt(c.patient_responsibility),
        c.filing_indicator, c.payer_claim_number or None, c.facility_code or None, c.frequency_code or None,
        None, c.drg_code or None]]
    out += _cas(c.adjustments)
    names = [nm for nm in (c.patient, c.insured) if nm is not None] + list(c.other_names)
    names.sort(key=lambda nm: _NAME_ORDER.get(nm.entity_code, 9))
    out += [_name(nm) for nm in names]
    if c.mia:
        out.append(["MIA", *c.mia])
    if c.moa:
        out.append(["MOA", *c.moa])
    out += [["REF", q, v] for q, v in c.references]
    out += [["DTM", q, _dt(d)] for q, d in c.dates]
    out += [["AMT", q, _amt(a)] for q, a in c.amounts]
    out += [["QTY", q, _amt(a)] for q, a in c.quantities]
    for ln in c.lines:
        out += _line(ln)
    return out


def _plb(adjs: Sequence[ProviderAdjustment]) -> list[list[Element]]:
    out: list[list[Element]] = []
    cur: list[Element] = []
    key: tuple[str, date | None] | None = None
    for a in adjs:
        if (a.provider_id, a.fiscal_date) != key or len(cur) >= 3 + 12:
            if cur:
                out.append(cur)
            key = (a.provider_id, a.fiscal_date)
            cur = ["PLB", a.provider_id, _dt(a.fiscal_date)]
        cur += [[a.reason, a.reference] if a.reference else a.reason, _amt(a.amount)]
    if cur:
        out.append(cur)
    return out


def _body(r: Remittance835) -> list[list[Element]]:
    p = r.payment
    out: list[list[Element]] = [
        ["BPR", p.handling, _amt(p.amount), p.credit_debit, p.method, p.format or None,
         p.sender_dfi_qualifier or None, p.sender_dfi_id or None, p.sender_account_qualifier or None,
         p.sender_account or None, p.originator_company_id or None, p.originator_supplemental or None,
         p.receiver_dfi_qualifier or None, p.receiver_dfi_id or None, p.receiver_account_qualifier or None,
         p.receiver_account or None, _dt(p.date)],
        ["TRN", p.trace_type, p.trace_number, p.payer_tax_id or None, p.trace_reference or None],
    ]
    if r.currency:
        out.append(["CUR", "PR", r.currency])
    out += [["REF", q, v] for q, v in r.references]
    if r.production_date is not None:
        out.append(["DTM", "405", _dt(r.production_date)])
    out += _party(r.payer)
    out += _party(r.payee)
    lx: int | None = None
    for c in r.claims:
        number = c.header_number if c.header_number is not None else 1
        if number != lx:
            out.append(["LX", str(number)])
            lx = number
        out += _claim(c)
    out += _plb(r.provider_adjustments)
    return out


def _check_delimiters(body: list[list[Element]], d: Delimiters) -> None:
    bad = re.compile("[" + re.escape(d.element + d.component + d.segment + d.repetition) + "]")
    search = bad.search
    for seg in body:
        for i, v in enumerate(seg):
            for text in ((v,) if isinstance(v, str) else (v or ())):
                if text and search(text):
                    raise BuildError(f"{seg[0]}{i:02d} contains a delimiter character",
                                     segment_id=str(seg[0]), element=i,
                                     expected="text without the element, component, repetition or segment separator")


def transaction_835(remittance: Remittance835, control_number: str,
                    delimiters: Delimiters = DEFAULT_DELIMITERS) -> TransactionSpec:
    """One 835 transaction set for :func:`edi.x12.build_interchange` (ST03 is not used in X221A1)."""
    body = _body(remittance)
    _check_delimiters(body, delimiters)
    return TransactionSpec("835", control_number, body, None)




def build_835(
    remittances: Remittance835 | Sequence[Remittance835],
    *,
    envelope: EnvelopeSpec,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange with one HP group holding an 835 per remittance (ST02 from ``envelope.st_control`` up)."""
    items = [remittances] if isinstance(remittances, Remittance835) else list(remittances)
    envelope.check()
    sets = [transaction_835(r, st_number(envelope.st_control, i), delimiters) for i, r in enumerate(items)]
    return write_interchange(envelope, "HP", IMPLEMENTATION, sets, delimiters=delimiters, newline=newline)
