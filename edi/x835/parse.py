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
# A frozen dataclass's __init__ sets each field through object.__setattr__, several times the
# cost of a plain slot store; with hundreds of thousands of claims that is most of the parse time.
# The hot loop therefore makes a draft: an instance of a plain class with the same slots (same
# layout) and no __init__, whose slots it stores one by one, and then sets __class__ to the frozen
# class: the result is an ordinary, immutable instance of the public class. Every field is stored
# (the tests compare parsed objects with ones built through the public constructors).

_T = TypeVar("_T")


def _twin(cls: type[_T]) -> type[Any]:
    """A class with the slots of the frozen dataclass ``cls`` and nothing else."""
    slots = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    return type("_" + cls.__name__ + "Draft", (), {"__slots__": slots})


_AdjustmentDraft = _twin(Adjustment)
_LineDraft = _twin(ServiceLine)
_ClaimDraft = _twin(ClaimPayment)
_NameDraft = _twin(Name)


def _adjustment(group: str, reason: str, amount: Decimal, quantity: Decimal | None) -> Adjustment:
    a = _AdjustmentDraft()
    a.group, a.reason, a.amount, a.quantity = group, reason, amount, quantity
    a.__class__ = Adjustment
    return a  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------
# Remittances repeat themselves (the same dates and fee-schedule amounts claim after claim), so
# amounts and dates are cached by their text, in dicts whose __missing__ builds the value: a hit is
# one C-level subscript, and a cache is emptied when it is full, so memory stays bounded whatever
# the file. Whole segments are remembered too, per transaction set (Remittance835Reader._claims).

_CACHE_MAX = 50_000
_KNOWN_PER_KIND = 2048  # segment texts each kind may remember per epoch (Remittance835Reader._claims)
_KNOWN_EPOCH = 50_000  # segments


class _MoneyCache(dict[str, Decimal]):
    """Amount text -> Decimal, quantized to cents when that does not change it."""

    __slots__ = ()

    def __missing__(self, text: str) -> Decimal:
        d = Decimal(text)
        if not d.is_finite():
            raise InvalidOperation(text)
        q = d.quantize(_CENT)
        if q == d:
            d = q
        if len(self) >= _CACHE_MAX:
            self.clear()
        self[text] = d
        return d


class _DateCache(dict[str, date]):
    """CCYYMMDD -> date; ValueError for anything else."""

    __slots__ = ()

    def __missing__(self, text: str) -> date:
        if len(text) != 8 or not is_digits(text):
            raise ValueError(text)
        d = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(self) >= _CACHE_MAX:
            self.clear()
        self[text] = d
        return d


_MONEY_OF = _MoneyCache()
_DATE_OF = _DateCache()


def _money(text: str) -> Decimal:
    """A decimal amount, quantized to cents when that does not change it (cached by text)."""
    return _MONEY_OF[text]


def _number(text: str) -> Decimal:
    """A quantity (units, days) as written."""
    d = Decimal(text)
    if not d.is_finite():
        raise InvalidOperation(text)
    return d


def _date(text: str) -> date:
    """CCYYMMDD to a date (cached by text)."""
    return _DATE_OF[text]


def _opt_date(text: str) -> date | None:
    return _date(text) if text else None


_PAD = [""] * 24
_PADS = [[""] * (12 - k) for k in range(12)]  # _PADS[len(seg)] makes a CLP 12 elements long

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

_CLAIM_END = frozenset({"LX", "PLB", "SE"})  # (and CLP) end a claim
# What a known segment was read as (see Remittance835Reader._claims)
_DTM, _AMT, _ADJ, _NAME, _ADJS, _REMARK, _OTHER_REMARK, _SVC = range(8)
_HEADER_END = frozenset({"LX", "CLP", "PLB", "SE", "TS3", "TS2"})


def _cas_into(target: list[Adjustment], seg: Segment) -> None:
    """The triples of a CAS (group, reason, amount, quantity), appended to ``target``."""
    group = seg[1]
    k = len(seg)
    i = 2
    while i < k:
        if seg[i]:
            q = seg[i + 2] if i + 2 < k else ""
            target.append(_adjustment(group, seg[i], _MONEY_OF[seg[i + 1]], _number(q) if q else None))
        i += 3


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
        self._element = ts.delimiters.element
        self._texts: Iterator[list[str]] = ts.texts  # the segments as text: see _claims
        self._first: list[str] = []  # the rest of the batch the header ended in
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
        sep = self._element
        for batch in self._texts:
            for i, text in enumerate(batch):
                self._first = batch[i + 1:]
                yield text.split(sep)

    # -- claims ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[ClaimPayment]:
        if self._iterated:
            raise RuntimeError("an 835 reader can be iterated once")
        self._iterated = True
        return self._claims()

    def _claims(self) -> Iterator[ClaimPayment]:  # noqa: C901 - one tight loop on purpose
        """Claims as they are read: one flat loop over the segment texts with the state in local
        variables (a call or an attribute access per segment costs measurably at a million
        segments a second).

        Remittances repeat themselves: the same DTM, AMT, CAS, rendering NM1, SVC and LQ segments
        come back claim after claim. ``known`` maps such a segment's text to what it was read as
        the first time (a kind and an immutable value), so a repeat costs one dictionary lookup:
        it is not split into elements and nothing is built again. Segments whose meaning depends
        on where they stand or that rarely repeat (CLP, REF, the patient's and the insured's NM1,
        ...) are split and read every time. ``known`` belongs to this set only (names are PHI).
        Each kind may add at most _KNOWN_PER_KIND texts; once one has run out, ``known`` starts
        empty again after _KNOWN_EPOCH segments. So a kind whose texts never repeat (amounts that
        all differ) soon stops being remembered instead of churning memory, the others are read
        again once an epoch, and memory stays bounded.

        ``c`` and ``ln`` are the claim and line being read (drafts, see :func:`_twin`), None
        outside one. ``adj``, ``dates`` and ``amts`` are where CAS, DTM and AMT go: the claim's
        lists, or the current line's from its SVC on. Lists that are usually empty (references,
        quantities, remarks) start as ``()`` and become lists on their first item. What stands
        outside a claim (between LX and CLP, after PLB) is checked but not kept: it lands in lists
        already closed or replaced at the next CLP or SVC."""
        comp, sep = self._component, self._element
        money, date_of, number, cas_into = _MONEY_OF, _DATE_OF, _number, _cas_into
        known: dict[str, tuple[int, Any]] = {}
        known_get = known.get
        epoch_end = self._n  # the first batch starts an epoch (every room is 0)
        room_dtm = room_amt = room_cas = room_nm1 = room_lq = room_svc = 0  # what each kind may still add
        LineDraft, LineCls, ClaimDraft, ClaimCls, NameDraft, NameCls, AdjustmentCls = (
            _LineDraft, ServiceLine, _ClaimDraft, ClaimPayment, _NameDraft, Name, Adjustment)
        check, findings, pads, pad, claim_end = _check_claim, self._findings, _PADS, _PAD, _CLAIM_END
        n, total, count, lx = self._n, ZERO, 0, None
        plb: list[ProviderAdjustment] = []
        c: Any = None
        ln: Any = None
        c_adj: list[Adjustment] = []
        c_dates: list[tuple[str, date]] = []
        c_amts: list[tuple[str, Decimal]] = []
        names: list[Name] = []
        lines: list[ServiceLine] = []
        c_refs: Any = ()
        c_qtys: Any = ()
        patient: Name | None = None
        insured: Name | None = None
        moa: tuple[str, ...] = ()
        mia: tuple[str, ...] = ()
        l_adj: list[Adjustment] = []
        l_dates: list[tuple[str, date]] = []
        l_amts: list[tuple[str, Decimal]] = []
        l_refs: Any = ()
        l_qtys: Any = ()
        l_rem: Any = ()
        l_other: Any = ()
        l_lcn: str | None = None
        adj, dates, amts = c_adj, c_dates, c_amts
        v: Any = None

        batches: Iterable[list[str]] = itertools.chain(
            ([sep.join(self._pending)],) if self._pending is not None else (), (self._first,), self._texts)
        text = ""
        try:
            for batch in batches:
                if n >= epoch_end and not (
                        room_dtm and room_amt and room_cas and room_nm1 and room_lq and room_svc):
                    known.clear()  # some kind is out of room: every kind starts again
                    room_dtm = room_amt = room_cas = room_nm1 = room_lq = room_svc = _KNOWN_PER_KIND
                    epoch_end = n + _KNOWN_EPOCH
                for text in batch:
                    n += 1
                    hit = known_get(text)
                    if hit is not None:
                        kind, v = hit
                        if kind == _DTM:
                            dates.append(v)
                            continue
                        if kind == _AMT:
                            amts.append(v)
                            continue
                        if kind == _ADJ:
                            adj.append(v)
                            continue
                        if kind == _NAME:
                            names.append(v)
                            continue
                        if kind == _ADJS:
                            adj.extend(v)
                            continue
                        if kind == _REMARK:
                            if l_rem:
                                l_rem.append(v)
                            else:
                                l_rem = [v]
                            continue
                        if kind == _OTHER_REMARK:
                            if l_other:
                                l_other.append(v)
                            else:
                                l_other = [v]
                            continue
                        sid = "SVC"  # _SVC: v is its values
                    else:
                        seg = text.split(sep)
                        sid = seg[0]
                        if sid == "DTM":
                            v = (seg[1], date_of[seg[2]])
                            if room_dtm:
                                known[text] = (_DTM, v)
                                room_dtm -= 1
                            dates.append(v)
                            continue
                        if sid == "AMT":
                            v = (seg[1], money[seg[2]])
                            if room_amt:
                                known[text] = (_AMT, v)
                                room_amt -= 1
                            amts.append(v)
                            continue
                        if sid == "CAS":
                            if len(seg) == 4 and seg[2]:
                                a = _AdjustmentDraft()
                                a.group, a.reason, a.amount, a.quantity = seg[1], seg[2], money[seg[3]], None
                                a.__class__ = AdjustmentCls
                                if room_cas:
                                    known[text] = (_ADJ, a)
                                    room_cas -= 1
                                adj.append(a)
                            else:
                                a_list: list[Adjustment] = []
                                cas_into(a_list, seg)
                                if room_cas:
                                    known[text] = (_ADJS, tuple(a_list))
                                    room_cas -= 1
                                adj.extend(a_list)
                            continue
                        if sid == "NM1":
                            s = seg if len(seg) > 9 else seg + pad
                            e = s[1]
                            nm = NameDraft()
                            nm.entity_code, nm.entity_type, nm.last_name, nm.first_name = e, s[2], s[3], s[4]
                            nm.middle_name, nm.suffix, nm.id_qualifier, nm.id = s[5], s[7], s[8], s[9]
                            nm.__class__ = NameCls
                            if e == "QC" or e == "IL":  # the patient, the insured: never kept in ``known``
                                if e == "QC" and patient is None:
                                    patient = nm
                                elif e == "IL" and insured is None:
                                    insured = nm
                                else:
                                    names.append(nm)
                                continue
                            if room_nm1:
                                known[text] = (_NAME, nm)
                                room_nm1 -= 1
                            names.append(nm)
                            continue
                        if sid == "LQ":
                            if seg[1] == "HE":
                                v = seg[2]
                                if room_lq:
                                    known[text] = (_REMARK, v)
                                    room_lq -= 1
                                if l_rem:
                                    l_rem.append(v)
                                else:
                                    l_rem = [v]
                            else:
                                v = (seg[1], seg[2])
                                if room_lq:
                                    known[text] = (_OTHER_REMARK, v)
                                    room_lq -= 1
                                if l_other:
                                    l_other.append(v)
                                else:
                                    l_other = [v]
                            continue
                        if sid == "SVC":
                            v = _svc_head(seg + pad, comp)
                            if room_svc:
                                known[text] = (_SVC, v)
                                room_svc -= 1
                    # SVC (new or known; v is its values), and the segments that are read every time
                    if sid == "REF":
                        ref = (seg[1], seg[2])
                        if ln is None:
                            if c_refs:
                                c_refs.append(ref)
                            else:
                                c_refs = [ref]
                        elif l_lcn is None and ref[0] == "6R":
                            l_lcn = ref[1]
                        elif l_refs:
                            l_refs.append(ref)
                        else:
                            l_refs = [ref]
                    elif sid == "SVC" or sid == "CLP" or sid in claim_end:
                        if ln is not None:
                            ln.dates, ln.line_control_number, ln.adjustments = tuple(l_dates), l_lcn, tuple(l_adj)
                            ln.references, ln.remarks, ln.other_remarks = (
                                l_refs and tuple(l_refs), l_rem and tuple(l_rem), l_other and tuple(l_other))
                            ln.amounts, ln.quantities = tuple(l_amts), l_qtys and tuple(l_qtys)
                            ln.__class__ = LineCls
                            lines.append(ln)
                            ln = None
                            adj, dates, amts = c_adj, c_dates, c_amts
                        if sid == "SVC":
                            if c is None:
                                raise self._error(text.split(sep), n, "SVC segment outside a claim (no CLP before it)")
                            ln = LineDraft()
                            (ln.procedure, ln.charge, ln.paid, ln.procedure_qualifier, ln.modifiers, ln.description,
                             ln.revenue_code, ln.units, ln.original_qualifier, ln.original_procedure,
                             ln.original_modifiers, ln.original_units) = v
                            ln.segment_number = n
                            adj, dates, amts = l_adj, l_dates, l_amts = [], [], []
                            l_refs = l_qtys = l_rem = l_other = ()
                            l_lcn = None
                            continue
                        if c is not None:
                            c.adjustments, c.patient, c.insured, c.other_names = tuple(c_adj), patient, insured, tuple(names)
                            c.moa, c.mia, c.references, c.dates = moa, mia, c_refs and tuple(c_refs), tuple(c_dates)
                            c.amounts, c.quantities, c.lines = tuple(c_amts), c_qtys and tuple(c_qtys), tuple(lines)
                            c.__class__ = ClaimCls
                            total += c.paid
                            count += 1
                            check(c, findings)
                            yield c
                            c = None
                        if sid == "CLP":
                            s = seg if len(seg) > 11 else seg + pads[len(seg)]
                            c = ClaimDraft()
                            c.claim_id, c.status_code, c.charge, c.paid = s[1], s[2], money[s[3]], money[s[4]]
                            c.patient_responsibility = money[s[5]] if s[5] else ZERO
                            c.filing_indicator, c.payer_claim_number, c.facility_code = s[6], s[7], s[8]
                            c.frequency_code, c.drg_code, c.header_number, c.segment_number = s[9], s[11], lx, n
                            adj, dates, amts = c_adj, c_dates, c_amts = [], [], []
                            names, lines = [], []
                            c_refs = c_qtys = ()
                            patient = insured = None
                            moa = mia = ()
                        elif sid == "LX":
                            lx = int(seg[1])
                        elif sid == "PLB":
                            plb.extend(self._plb(seg))
                        else:  # SE
                            break
                    elif sid == "MOA":
                        moa = tuple(seg[1:])
                    elif sid == "MIA":
                        mia = tuple(seg[1:])
                    elif sid == "QTY":
                        qty = (seg[1], number(seg[2]))
                        if ln is not None:
                            if l_qtys:
                                l_qtys.append(qty)
                            else:
                                l_qtys = [qty]
                        elif c_qtys:
                            c_qtys.append(qty)
                        else:
                            c_qtys = [qty]
                    # anything else (TS3, TS2, PER, RDM, ...) is not kept
        except (InvalidOperation, ValueError, IndexError):
            raise self._error(text.split(sep), n) from None
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

