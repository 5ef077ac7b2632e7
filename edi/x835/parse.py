"""835 streaming parser: :func:`read_835` (a :class:`Remittance835Reader`), :func:`parse_835`, and
the ``edi inspect`` JSON (:func:`inspect_835`).

The reader takes the header (payment, payer, payee) when it is created, then builds the claims one
at a time as it is iterated, checking each claim's balance (:func:`edi.x835.model.balance_claim`)
and, at the end, the transaction's: sum(CLP04) - sum(PLB) = BPR02. It never changes an amount.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from edi.errors import TransactionError
from edi.x12 import Segment, TransactionSet, is_digits
from edi.x835.model import (
    ONE,
    ZERO,
    Adjustment,
    BalanceFinding,
    ClaimPayment,
    Contact,
    Name,
    Party,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServiceLine,
    _check_claim,
)

__all__ = ["Remittance835Reader", "inspect_835", "parse_835", "read_835"]

_CENT = Decimal("0.01")

# --------------------------------------------------------------------------------------------
# Fast construction of frozen dataclasses
# --------------------------------------------------------------------------------------------
# A frozen dataclass's __init__ sets each field through object.__setattr__, about ten times the
# cost of a plain slot store; with hundreds of thousands of claims that is most of the parse time.
# The hot loop therefore builds a mutable twin with the same slots (same layout) and then sets
# __class__ to the frozen class: the result is an ordinary, immutable instance of the public class.

_T = TypeVar("_T")


def _twin(cls: type[_T]) -> type[Any]:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    return dataclasses.make_dataclass(
        "_" + cls.__name__ + "Draft", [(f.name, f.type) for f in fields], slots=True, eq=False, repr=False)


_AdjustmentDraft = _twin(Adjustment)
_LineDraft = _twin(ServiceLine)
_ClaimDraft = _twin(ClaimPayment)
_NameDraft = _twin(Name)


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------

_money_cache: dict[str, Decimal] = {}
_date_cache: dict[str, date] = {}
_CACHE_MAX = 50_000


def _money(text: str) -> Decimal:
    """A decimal amount, quantized to cents when that does not change it (cached by text)."""
    d = _money_cache.get(text)
    if d is None:
        d = Decimal(text)
        if not d.is_finite():
            raise InvalidOperation(text)
        q = d.quantize(_CENT)
        if q == d:
            d = q
        if len(_money_cache) >= _CACHE_MAX:
            _money_cache.clear()
        _money_cache[text] = d
    return d


def _number(text: str) -> Decimal:
    """A quantity (units, days) as written."""
    d = Decimal(text)
    if not d.is_finite():
        raise InvalidOperation(text)
    return d


def _date(text: str) -> date:
    """CCYYMMDD to a date (cached by text)."""
    d = _date_cache.get(text)
    if d is None:
        if len(text) != 8 or not is_digits(text):
            raise ValueError(text)
        d = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(_date_cache) >= _CACHE_MAX:
            _date_cache.clear()
        _date_cache[text] = d
    return d


def _opt_date(text: str) -> date | None:
    return _date(text) if text else None


_PAD = [""] * 24

# Elements that must be numbers or dates, to name the element in an error message.
_NUMERIC: dict[str, tuple[int, ...]] = {
    "BPR": (2,), "CLP": (3, 4, 5), "SVC": (2, 3, 5, 7), "AMT": (2,), "QTY": (2,),
    "CAS": (3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19), "PLB": (4, 6, 8, 10, 12, 14), "LX": (1,),
}
_DATES: dict[str, tuple[int, ...]] = {"DTM": (2,), "BPR": (16,), "PLB": (2,)}


def _bad_element(seg: Segment) -> tuple[int, str]:
    """The first element of ``seg`` that is not a well-formed number or date, and what it should be."""
    sid = seg[0]
    for i in _DATES.get(sid, ()):
        if len(seg) > i and seg[i]:
            try:
                _date(seg[i])
            except ValueError:
                return i, "a date CCYYMMDD"
    for i in _NUMERIC.get(sid, ()):
        if len(seg) > i and seg[i]:
            try:
                _number(seg[i])
            except (InvalidOperation, ValueError):
                return i, "a decimal number"
    return 0, "the elements the 835 guide requires"


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

_CLAIM_END = frozenset({"CLP", "LX", "PLB", "SE"})
_HEADER_END = frozenset({"LX", "CLP", "PLB", "SE", "TS3", "TS2"})


def _cas_into(target: list[Adjustment], seg: Segment) -> None:
    """The triples of a CAS (group, reason, amount, quantity), appended to ``target``."""
    group = seg[1]
    k = len(seg)
    i = 2
    while i < k:
        if seg[i]:
            q = seg[i + 2] if i + 2 < k else ""
            v = seg[i + 1]
            m = _money_cache.get(v)
            a = _AdjustmentDraft(group, seg[i], _money(v) if m is None else m, _number(q) if q else None)
            a.__class__ = Adjustment
            target.append(a)
        i += 3


def _claim_lists() -> tuple[list[Adjustment], list[tuple[str, str]], list[tuple[str, date]],
                            list[tuple[str, Decimal]], list[tuple[str, Decimal]], list[Name], list[ServiceLine]]:
    """A claim's CAS, REF, DTM, AMT, QTY, NM1 and service lines, empty."""
    return [], [], [], [], [], [], []


def _line_lists() -> tuple[list[Adjustment], list[tuple[str, str]], list[tuple[str, date]],
                           list[tuple[str, Decimal]], list[tuple[str, Decimal]], list[str], list[tuple[str, str]]]:
    """A line's CAS, REF, DTM, AMT, QTY, LQ*HE and other LQ, empty."""
    return [], [], [], [], [], [], []


class Remittance835Reader:
    """Reads one 835 transaction set: the header on creation, then claims as it is iterated.

    Attributes set on creation: ``control_number``, ``payment``, ``payer``, ``payee``,
    ``references``, ``production_date``, ``currency``. After iteration: ``provider_adjustments``
    and :meth:`balance`. Iterate once; the segments are streamed.
    """

    payment: Payment
    payer: Party
    payee: Party

    def __init__(self, ts: TransactionSet) -> None:
        self.control_number = ts.control_number
        self.implementation = ts.implementation
        self._component = ts.delimiters.component
        self._batches: Iterator[list[Segment]] = ts.batches
        self._first: list[Segment] = []  # the rest of the batch the header ended in
        self._n = ts.segment_number - 1  # file number of the last segment consumed
        self.references: tuple[tuple[str, str], ...] = ()
        self.production_date: date | None = None
        self.currency = ""
        self.provider_adjustments: tuple[ProviderAdjustment, ...] = ()
        self._findings: list[BalanceFinding] = []
        self._total_paid = ZERO
        self._claim_count = 0
        self._done = False
        self._iterated = False
        self._pending: Segment | None = None
        self._read_header()

    # -- errors ----------------------------------------------------------------------------
    def _error(self, seg: Segment | None, n: int, message: str | None = None) -> TransactionError:
        sid = seg[0] if seg else None
        element, expected = _bad_element(seg) if seg and message is None else (0, None)
        if message is None:
            message = (f"{sid}{element:02d} is not well formed" if element
                       else f"{sid} segment is malformed or short")
        return TransactionError(f"835 {self.control_number}: {message}", segment_number=n,
                                segment_id=sid, element=element, expected=expected)

    # -- header ----------------------------------------------------------------------------
    def _read_header(self) -> None:
        bpr: Segment | None = None
        bpr_n = 0
        trn: Segment | None = None
        parties: dict[str, dict[str, Any]] = {}
        current: dict[str, Any] | None = None
        refs: list[tuple[str, str]] = []
        n = self._n
        seg: Segment | None = None
        for seg in self._header_segments():
            n += 1
            sid = seg[0]
            if sid in _HEADER_END:
                self._pending = seg
                n -= 1  # counted again when the claim loop takes it
                break
            try:
                if sid == "BPR":
                    bpr = seg + _PAD
                    bpr_n = n
                elif sid == "TRN":
                    trn = seg + _PAD
                elif sid == "CUR":
                    self.currency = seg[2] if len(seg) > 2 else ""
                elif sid == "DTM" and current is None:
                    if seg[1] == "405":
                        self.production_date = _date(seg[2])
                elif sid == "N1":
                    s = seg + _PAD
                    current = {"entity_code": s[1], "name": s[2], "id_qualifier": s[3], "id": s[4],
                               "address": (), "city": "", "state": "", "postal_code": "", "country": "",
                               "references": [], "contacts": []}
                    parties.setdefault(s[1], current)
                elif sid == "REF":
                    (current["references"] if current is not None else refs).append((seg[1], seg[2]))
                elif current is not None and sid == "N3":
                    current["address"] = tuple(seg[1:3])
                elif current is not None and sid == "N4":
                    s = seg + _PAD
                    current.update(city=s[1], state=s[2], postal_code=s[3], country=s[4])
                elif current is not None and sid == "PER":
                    s = seg + _PAD
                    nums = tuple((s[i], s[i + 1]) for i in (3, 5, 7) if s[i] or s[i + 1])
                    current["contacts"].append(Contact(s[1], s[2], nums))
            except (InvalidOperation, ValueError, IndexError):
                raise self._error(seg, n) from None
        else:
            self._done = True
        self._n = n
        where = self._pending if self._pending is not None else seg
        if self._pending is not None:
            n += 1
        if bpr is None:
            raise self._error(where, n, "no BPR segment before the first claim")
        if trn is None:
            raise self._error(where, n, "no TRN segment before the first claim")
        for code, what in (("PR", "payer (N1*PR)"), ("PE", "payee (N1*PE)")):
            if code not in parties:
                raise self._error(where, n, f"no {what} before the first claim")
        try:
            b, t = bpr, trn
            self.payment = Payment(
                amount=_money(b[2]), credit_debit=b[3], method=b[4], date=_opt_date(b[16]),
                trace_number=t[2], payer_tax_id=t[3], handling=b[1], format=b[5], trace_type=t[1],
                trace_reference=t[4], sender_dfi_qualifier=b[6], sender_dfi_id=b[7],
                sender_account_qualifier=b[8], sender_account=b[9], originator_company_id=b[10],
                originator_supplemental=b[11], receiver_dfi_qualifier=b[12], receiver_dfi_id=b[13],
                receiver_account_qualifier=b[14], receiver_account=b[15])
        except (InvalidOperation, ValueError):
            raise self._error(bpr[:17], bpr_n) from None
        self.references = tuple(refs)
        self.payer, self.payee = (
            Party(**{**p, "references": tuple(p["references"]), "contacts": tuple(p["contacts"])})
            for p in (parties["PR"], parties["PE"]))

    def _header_segments(self) -> Iterator[Segment]:
        """Segments one by one; remembers the rest of the current batch for the claim loop."""
        for batch in self._batches:
            for i, seg in enumerate(batch):
                self._first = batch[i + 1:]
                yield seg

    # -- claims ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[ClaimPayment]:
        if self._iterated:
            raise RuntimeError("an 835 reader can be iterated once")
        self._iterated = True
        return self._claims()

    def _claims(self) -> Iterator[ClaimPayment]:  # noqa: C901 - one tight loop on purpose
        """Claims as they are read. One loop over the segments with the state in local variables:
        a call or an attribute access per segment costs measurably at a million segments a second."""
        comp = self._component
        money, todate, number = _money, _date, _number
        mcache, dcache = _money_cache, _date_cache
        LineDraft, LineCls = _LineDraft, ServiceLine
        ClaimDraft, ClaimCls = _ClaimDraft, ClaimPayment
        NameDraft, NameCls = _NameDraft, Name
        check, findings, pad, cas_into = _check_claim, self._findings, _PAD, _cas_into
        n, total, count, lx = self._n, ZERO, 0, None
        plb: list[ProviderAdjustment] = []
        # claim state (the lists are replaced at each CLP) and line state (replaced at each SVC)
        clp: tuple[Any, ...] | None = None
        clp_n = svc_n = 0
        c_adj, c_refs, c_dates, c_amts, c_qtys, names, lines = _claim_lists()
        patient: Name | None = None
        insured: Name | None = None
        moa: tuple[str, ...] = ()
        mia: tuple[str, ...] = ()
        svc: tuple[Any, ...] | None = None
        l_adj, l_refs, l_dates, l_amts, l_qtys, l_rem, l_other = _line_lists()
        l_lcn: str | None = None

        batches: Iterable[list[Segment]] = itertools.chain(
            ([self._pending],) if self._pending is not None else (), (self._first,), self._batches)
        seg: Segment = []
        try:
            for batch in batches:
                for seg in batch:
                    n += 1
                    sid = seg[0]
                    if sid == "CAS":
                        cas_into(c_adj if svc is None else l_adj, seg)
                    elif sid == "DTM":
                        v = seg[2]
                        dt = dcache.get(v)
                        (c_dates if svc is None else l_dates).append((seg[1], todate(v) if dt is None else dt))
                    elif sid == "REF":
                        if svc is None:
                            c_refs.append((seg[1], seg[2]))
                        elif seg[1] == "6R" and l_lcn is None:
                            l_lcn = seg[2]
                        else:
                            l_refs.append((seg[1], seg[2]))
                    elif sid == "AMT":
                        v = seg[2]
                        m = mcache.get(v)
                        (c_amts if svc is None else l_amts).append((seg[1], money(v) if m is None else m))
                    elif sid == "LQ":
                        if seg[1] == "HE":
                            l_rem.append(seg[2])
                        else:
                            l_other.append((seg[1], seg[2]))
                    elif sid == "SVC" or sid in _CLAIM_END:
                        if svc is not None:
                            line = LineDraft(*svc, tuple(l_dates), l_lcn, tuple(l_refs), tuple(l_adj), tuple(l_rem),
                                             tuple(l_other), tuple(l_amts), tuple(l_qtys), svc_n)
                            line.__class__ = LineCls
                            lines.append(line)
                            svc = None
                        if sid == "SVC":
                            if clp is None:
                                raise self._error(seg, n, "SVC segment outside a claim (no CLP before it)")
                            svc = _svc_head(seg + pad, comp)
                            svc_n = n
                            l_adj, l_refs, l_dates, l_amts, l_qtys, l_rem, l_other = _line_lists()
                            l_lcn = None
                            continue
                        if clp is not None:
                            c = ClaimDraft(
                                *clp, lx, tuple(c_adj), patient, insured, tuple(names), moa, mia, tuple(c_refs),
                                tuple(c_dates), tuple(c_amts), tuple(c_qtys), tuple(lines), clp_n)
                            c.__class__ = ClaimCls
                            clp = None
                            total += c.paid
                            count += 1
                            check(c, findings)
                            yield c
                        if sid == "CLP":
                            s = seg + pad
                            clp = (s[1], s[2], money(s[3]), money(s[4]), money(s[5]) if s[5] else ZERO, s[6], s[7],
                                   s[8], s[9], s[11])
                            clp_n = n
                            c_adj, c_refs, c_dates, c_amts, c_qtys, names, lines = _claim_lists()
                            patient = insured = None
                            moa = mia = ()
                        elif sid == "LX":
                            lx = int(seg[1])
                        elif sid == "PLB":
                            plb.extend(self._plb(seg))
                        else:  # SE
                            break
                    elif sid == "NM1":
                        s = seg + pad
                        nm = NameDraft(s[1], s[2], s[3], s[4], s[5], s[7], s[8], s[9])
                        nm.__class__ = NameCls
                        if s[1] == "QC" and patient is None:
                            patient = nm
                        elif s[1] == "IL" and insured is None:
                            insured = nm
                        else:
                            names.append(nm)
                    elif sid == "MOA":
                        moa = tuple(seg[1:])
                    elif sid == "MIA":
                        mia = tuple(seg[1:])
                    elif sid == "QTY":
                        (c_qtys if svc is None else l_qtys).append((seg[1], number(seg[2])))
                    # anything else (TS3, TS2, PER, RDM, ...) is not kept
        except (InvalidOperation, ValueError, IndexError):
            raise self._error(seg, n) from None
        self._finish(n, total, count, plb)

    def _finish(self, n: int, total: Decimal, count: int, plb: list[ProviderAdjustment]) -> None:
        """After SE: the PLBs, the counts, and the transaction balance (sum CLP04 - PLB = BPR02)."""
        self._n = n
        self._done = True
        self.provider_adjustments = tuple(plb)
        self._total_paid = total
        self._claim_count = count
        expected = total - sum((p.amount for p in plb), ZERO)
        actual = self.payment.signed_amount
        if expected != actual:
            self._findings.append(BalanceFinding(
                "transaction", None, None, expected, actual,
                f"transaction {self.control_number}: claims paid {total} - provider adjustments "
                f"{total - expected} = {expected}, BPR02 says {actual}"))

    def _plb(self, seg: Segment) -> list[ProviderAdjustment]:
        s = seg + _PAD
        provider, fiscal = s[1], _opt_date(s[2])
        out = []
        for i in range(3, min(len(seg), 15), 2):
            if not s[i]:
                continue
            reason, _, reference = s[i].partition(self._component)
            out.append(ProviderAdjustment(provider, fiscal, reason, reference, _money(s[i + 1])))
        return out

    # -- after iteration -------------------------------------------------------------------
    def _drain(self) -> None:
        if not self._iterated:
            for _ in self:
                pass
        elif not self._done:
            raise RuntimeError("balance() called before the claims were all read")

    def balance(self) -> list[BalanceFinding]:
        """Line, claim and transaction findings (empty when everything adds up).

        Reads any claims not yet iterated when iteration has not started.
        """
        self._drain()
        return list(self._findings)

    def read_all(self) -> Remittance835:
        """Every claim in memory, as a :class:`Remittance835` (for small files and tests)."""
        claims = tuple(self)
        return Remittance835(self.payment, self.payer, self.payee, claims, self.provider_adjustments,
                             self.references, self.production_date, self.currency)


def _svc_head(s: Segment, comp: str) -> tuple[Any, ...]:
    """The SVC values of a ServiceLine, in field order (procedure .. original_units)."""
    p = s[1].split(comp)
    if len(p) > 2:
        qual, code, mods, desc = p[0], p[1], tuple(filter(None, p[2:6])), p[6] if len(p) > 6 else ""
    else:
        qual, code, mods, desc = p[0], p[1] if len(p) > 1 else "", (), ""
    if s[6]:
        o = s[6].split(comp)
        oq, oc, om = o[0], o[1] if len(o) > 1 else "", tuple(filter(None, o[2:6]))
    else:
        oq, oc, om = "", "", ()
    return (code, _money(s[2]), _money(s[3]), qual, mods, desc, s[4], _number(s[5]) if s[5] else ONE,
            oq, oc, om, _number(s[7]) if s[7] else None)


def read_835(ts: TransactionSet) -> Remittance835Reader:
    """A streaming reader over one 835 transaction set (reads the header now).

    Raises :class:`edi.errors.TransactionError` when the header lacks BPR, TRN, N1*PR or N1*PE,
    and during iteration when an amount or date is malformed.
    """
    if ts.set_id != "835":
        raise TransactionError(f"transaction set {ts.control_number} is a {ts.set_id}, not an 835",
                               segment_number=ts.segment_number, segment_id="ST", element=1, expected="835")
    return Remittance835Reader(ts)


def parse_835(ts: TransactionSet) -> Remittance835:
    """The whole transaction set in memory (convenience for small files)."""
    return read_835(ts).read_all()


# --------------------------------------------------------------------------------------------
# Inspect JSON
# --------------------------------------------------------------------------------------------


def _s(d: Decimal) -> str:
    return f"{d.quantize(_CENT):f}" if d == d.quantize(_CENT) else f"{d:f}"


def _units(d: Decimal) -> int | str:
    return int(d) if d == d.to_integral_value() else f"{d:f}"


def _adj_json(adjs: Iterable[Adjustment]) -> list[dict[str, str]]:
    return [{"group": a.group, "reason": a.reason, "amount": _s(a.amount)} for a in adjs]


def inspect_835(ts: TransactionSet) -> dict[str, Any]:
    """The ``edi inspect --json`` view of one 835 transaction set (CONTRACT.md section 6)."""
    reader = read_835(ts)
    p = reader.payment
    claims = []
    for c in reader:
        claims.append({
            "claim_id": c.claim_id, "status_code": c.status_code, "charge": _s(c.charge),
            "paid": _s(c.paid), "patient_responsibility": _s(c.patient_responsibility),
            "payer_claim_number": c.payer_claim_number or None,
            "adjustments": _adj_json(c.adjustments), "remarks": list(c.remarks),
            "lines": [{
                "procedure": ln.procedure, "modifiers": list(ln.modifiers), "charge": _s(ln.charge),
                "paid": _s(ln.paid), "units": _units(ln.units), "line_control_number": ln.line_control_number,
                "adjustments": _adj_json(ln.adjustments), "remarks": list(ln.remarks),
            } for ln in c.lines],
        })
    findings = reader.balance()
    payer_id = reader.payer.id or reader.payer.reference("2U")
    return {
        "set": "835", "control_number": reader.control_number,
        "payment": {"amount": _s(p.signed_amount), "method": p.method, "trace_number": p.trace_number,
                    "date": p.date.isoformat() if p.date else None},
        "payer": {"name": reader.payer.name, "id": payer_id or None},
        "payee": {"name": reader.payee.name, "npi": reader.payee.npi},
        "claims": claims,
        "provider_adjustments": [{"reason": a.reason, "reference": a.reference or None, "amount": _s(a.amount)}
                                 for a in reader.provider_adjustments],
        "balanced": not findings,
        "balance_errors": [f.message for f in findings],
    }

