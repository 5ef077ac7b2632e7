"""835 Health Care Claim Payment/Advice, 005010X221A1: streaming parser, balancing, builder.

Reading::

    for ts in open_x12(data):
        if ts.set_id == "835":
            reader = read_835(ts)          # header (payment, payer, payee) is read here
            for claim in reader:           # claims are built one at a time, never all held
                ...
            reader.provider_adjustments    # the PLB adjustments, once iterated
            reader.balance()               # list[BalanceFinding]; empty when the file adds up

Balancing reports what does not add up (:class:`BalanceFinding`); the parser never changes an
amount and never invents a segment to make a file balance:

* line: SVC02 - sum(line CAS) = SVC03
* claim: CLP03 - sum(claim CAS) - sum(line CAS) = CLP04 (without lines: CLP03 - claim CAS = CLP04)
* transaction: sum(CLP04) - sum(PLB amounts) = BPR02 (negated when BPR03 is D)

Writing: :func:`build_835` (a whole interchange) and :func:`transaction_835` (one set's body for
:func:`edi.x12.build_interchange`) write exactly the dataclasses they are given; nothing is
computed except the envelope counts.

Patient and insured names (NM1*QC / NM1*IL) are kept in :class:`Name` fields for claim matching;
they are left out of ``repr`` and never appear in an error message.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from edi.errors import BuildError, TransactionError
from edi.x12 import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Element,
    GroupSpec,
    InterchangeSpec,
    Segment,
    TransactionSet,
    TransactionSpec,
    build_interchange,
)

__all__ = [
    "IMPLEMENTATION",
    "Adjustment",
    "BalanceFinding",
    "ClaimPayment",
    "Contact",
    "Name",
    "Party",
    "Payment",
    "ProviderAdjustment",
    "Remittance835",
    "Remittance835Reader",
    "ServiceLine",
    "balance_claim",
    "build_835",
    "inspect_835",
    "parse_835",
    "read_835",
    "transaction_835",
]

IMPLEMENTATION = "005010X221A1"
ZERO = Decimal("0.00")
ONE = Decimal("1")
_CENT = Decimal("0.01")

# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payment:
    """BPR and TRN: the money that moved and the trace number that ties it to the deposit."""

    amount: Decimal  # BPR02, unsigned as written
    credit_debit: str  # BPR03: C credit to the payee, D debit
    method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    date: date | None  # BPR16
    trace_number: str  # TRN02
    payer_tax_id: str = ""  # TRN03 (originating company: '1' + EIN)
    handling: str = "I"  # BPR01
    format: str = ""  # BPR05: CCP, CTX
    trace_type: str = "1"  # TRN01
    trace_reference: str = ""  # TRN04
    sender_dfi_qualifier: str = ""  # BPR06
    sender_dfi_id: str = ""  # BPR07
    sender_account_qualifier: str = ""  # BPR08
    sender_account: str = field(default="", repr=False)  # BPR09
    originator_company_id: str = ""  # BPR10
    originator_supplemental: str = ""  # BPR11
    receiver_dfi_qualifier: str = ""  # BPR12
    receiver_dfi_id: str = ""  # BPR13
    receiver_account_qualifier: str = ""  # BPR14
    receiver_account: str = field(default="", repr=False)  # BPR15

    @property
    def signed_amount(self) -> Decimal:
        """BPR02 with its BPR03 sign: negative for a debit."""
        return -self.amount if self.credit_debit == "D" else self.amount


@dataclass(frozen=True, slots=True)
class Contact:
    """PER: a contact function (CX, BL, IC), a name, and (qualifier, number) pairs."""

    function: str
    name: str = ""
    numbers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Party:
    """N1 loop of the payer (1000A, entity PR) or the payee (1000B, entity PE)."""

    entity_code: str
    name: str
    id_qualifier: str = ""  # N103: XV, XX (NPI), FI (tax id)
    id: str = ""  # N104
    address: tuple[str, ...] = ()  # N301, N302
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    references: tuple[tuple[str, str], ...] = ()  # REF (qualifier, value)
    contacts: tuple[Contact, ...] = ()

    @property
    def npi(self) -> str | None:
        """The NPI when N103 is XX."""
        return self.id if self.id_qualifier == "XX" and self.id else None

    def reference(self, qualifier: str) -> str | None:
        """The first REF value with ``qualifier`` (e.g. TJ tax id, 2U payer id)."""
        return next((v for q, v in self.references if q == qualifier), None)


@dataclass(frozen=True, slots=True)
class Name:
    """NM1 in a claim: patient (QC), insured (IL), corrected (74), rendering (82), ... Names are PHI."""

    entity_code: str
    entity_type: str = "1"
    last_name: str = field(default="", repr=False)
    first_name: str = field(default="", repr=False)
    middle_name: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)
    id_qualifier: str = ""
    id: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triple: group (CO, PR, OA, PI, CR), CARC reason, amount, optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """2110 loop: SVC with its dates, adjustments, references, amounts and remarks."""

    procedure: str  # SVC01-2
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    procedure_qualifier: str = "HC"  # SVC01-1
    modifiers: tuple[str, ...] = ()  # SVC01-3..6
    description: str = ""  # SVC01-7
    revenue_code: str = ""  # SVC04
    units: Decimal = ONE  # SVC05 (1 when absent)
    original_qualifier: str = ""  # SVC06-1
    original_procedure: str = ""  # SVC06-2
    original_modifiers: tuple[str, ...] = ()  # SVC06-3..6
    original_units: Decimal | None = None  # SVC07
    dates: tuple[tuple[str, date], ...] = ()  # DTM (472, 150, 151)
    line_control_number: str | None = None  # REF*6R
    references: tuple[tuple[str, str], ...] = ()  # other REF
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # LQ*HE
    other_remarks: tuple[tuple[str, str], ...] = ()  # LQ with another qualifier (RX)
    amounts: tuple[tuple[str, Decimal], ...] = ()  # AMT (B6 allowed, ...)
    quantities: tuple[tuple[str, Decimal], ...] = ()  # QTY
    segment_number: int = field(default=0, compare=False)  # of the SVC in the file

    @property
    def date(self) -> date | None:
        """The service date: DTM*472, else DTM*150 (period start)."""
        for qualifier in ("472", "150"):
            for q, d in self.dates:
                if q == qualifier:
                    return d
        return None

    def amount(self, qualifier: str) -> Decimal | None:
        """The first AMT with ``qualifier`` (B6 is the allowed amount)."""
        return next((a for q, a in self.amounts if q == qualifier), None)


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """2100 loop: one CLP with its adjustments, names, remarks, references, dates and lines."""

    claim_id: str  # CLP01
    status_code: str  # CLP02 (1, 2, 3 primary/secondary/tertiary, 4 denied, 19-21 crossover, 22 reversal)
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal = ZERO  # CLP05 (0.00 when absent)
    filing_indicator: str = ""  # CLP06
    payer_claim_number: str = ""  # CLP07
    facility_code: str = ""  # CLP08 (place of service for professional claims)
    frequency_code: str = ""  # CLP09
    drg_code: str = ""  # CLP11
    header_number: int | None = None  # LX01 of the 2000 loop the claim is in
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    patient: Name | None = None  # NM1*QC
    insured: Name | None = None  # NM1*IL
    other_names: tuple[Name, ...] = ()  # NM1*74, 82, TT, PR, GB
    moa: tuple[str, ...] = ()  # MOA elements as written (MOA01..)
    mia: tuple[str, ...] = ()  # MIA elements as written (MIA01..)
    references: tuple[tuple[str, str], ...] = ()  # REF (qualifier, value)
    dates: tuple[tuple[str, date], ...] = ()  # DTM (232, 233, 036, 050)
    amounts: tuple[tuple[str, Decimal], ...] = ()  # AMT
    quantities: tuple[tuple[str, Decimal], ...] = ()  # QTY
    lines: tuple[ServiceLine, ...] = ()
    segment_number: int = field(default=0, compare=False)  # of the CLP in the file

    @property
    def remarks(self) -> tuple[str, ...]:
        """Claim remark codes: MOA03-07, MIA05 and MIA20-23, in that order."""
        out = [c for c in self.moa[2:7] if c]
        if self.mia:
            out += [c for c in (self.mia[4:5] + self.mia[19:23]) if c]
        return tuple(out)

    @property
    def is_reversal(self) -> bool:
        """CLP02 22: a reversal of a previous payment (amounts negated)."""
        return self.status_code == "22"

    def date(self, qualifier: str) -> date | None:
        """The first DTM with ``qualifier`` (232 statement from, 233 to, 050 received)."""
        return next((d for q, d in self.dates if q == qualifier), None)

    def reference(self, qualifier: str) -> str | None:
        """The first REF value with ``qualifier``."""
        return next((v for q, v in self.references if q == qualifier), None)


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment: reason (PLB03-1) and reference (PLB03-2); positive amounts reduce payment."""

    provider_id: str
    fiscal_date: date | None
    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Remittance835:
    """A whole 835 transaction set, for building (and for :func:`parse_835` on small files)."""

    payment: Payment
    payer: Party
    payee: Party
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    references: tuple[tuple[str, str], ...] = ()  # header REF (EV receiver, F2 version)
    production_date: date | None = None  # DTM*405
    currency: str = ""  # CUR02


@dataclass(frozen=True, slots=True)
class BalanceFinding:
    """Something that does not add up; ``line_index`` is 0-based within the claim's lines."""

    level: Literal["line", "claim", "transaction"]
    claim_id: str | None
    line_index: int | None
    expected: Decimal
    actual: Decimal
    message: str

    def __str__(self) -> str:
        return self.message


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
        if len(text) != 8 or not text.isdigit():
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
        comp = self._component
        money, todate, number = _money, _date, _number
        mcache, dcache = _money_cache, _date_cache
        AdjDraft, AdjCls = _AdjustmentDraft, Adjustment
        LineDraft, LineCls = _LineDraft, ServiceLine
        ClaimDraft, ClaimCls = _ClaimDraft, ClaimPayment
        NameDraft, NameCls = _NameDraft, Name
        check = _check_claim
        findings = self._findings
        pad = _PAD
        n = self._n
        total = ZERO
        count = 0
        plb: list[ProviderAdjustment] = []
        lx: int | None = None
        # claim state
        clp: tuple[Any, ...] | None = None
        clp_n = 0
        c_adj: list[Adjustment] = []
        c_refs: list[tuple[str, str]] = []
        c_dates: list[tuple[str, date]] = []
        c_amts: list[tuple[str, Decimal]] = []
        c_qtys: list[tuple[str, Decimal]] = []
        names: list[Name] = []
        patient: Name | None = None
        insured: Name | None = None
        moa: tuple[str, ...] = ()
        mia: tuple[str, ...] = ()
        lines: list[ServiceLine] = []
        # line state
        svc: tuple[Any, ...] | None = None
        svc_n = 0
        l_adj: list[Adjustment] = []
        l_refs: list[tuple[str, str]] = []
        l_dates: list[tuple[str, date]] = []
        l_amts: list[tuple[str, Decimal]] = []
        l_qtys: list[tuple[str, Decimal]] = []
        l_rem: list[str] = []
        l_other: list[tuple[str, str]] = []
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
                        group = seg[1]
                        target = c_adj if svc is None else l_adj
                        k = len(seg)
                        i = 2
                        while i < k:
                            if seg[i]:
                                q = seg[i + 2] if i + 2 < k else ""
                                v = seg[i + 1]
                                m = mcache.get(v)
                                a = AdjDraft(group, seg[i], money(v) if m is None else m, number(q) if q else None)
                                a.__class__ = AdjCls
                                target.append(a)
                            i += 3
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
                            l_adj, l_refs, l_dates, l_amts, l_qtys, l_rem, l_other = [], [], [], [], [], [], []
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
                            c_adj, c_refs, c_dates, c_amts, c_qtys, names, lines = [], [], [], [], [], [], []
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
        self._n = n
        self._done = True
        self.provider_adjustments = tuple(plb)
        self._total_paid = total
        self._claim_count = count
        expected = total - sum((p.amount for p in plb), ZERO)
        actual = self.payment.signed_amount
        if expected != actual:
            findings.append(BalanceFinding(
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
# Balancing
# --------------------------------------------------------------------------------------------


def _check_claim(c: ClaimPayment, findings: list[BalanceFinding]) -> None:
    claim_adj = ZERO
    for a in c.adjustments:
        claim_adj += a.amount
    line_adj = ZERO
    for idx, line in enumerate(c.lines):
        la = ZERO
        for a in line.adjustments:
            la += a.amount
        line_adj += la
        if line.charge - la != line.paid:
            findings.append(BalanceFinding(
                "line", c.claim_id, idx, line.charge - la, line.paid,
                f"claim {c.claim_id} line {idx + 1}: SVC02 {line.charge} - adjustments {la} = "
                f"{line.charge - la}, SVC03 says {line.paid}"))
    expected = c.charge - claim_adj - line_adj
    if expected != c.paid:
        findings.append(BalanceFinding(
            "claim", c.claim_id, None, expected, c.paid,
            f"claim {c.claim_id}: CLP03 {c.charge} - adjustments {claim_adj + line_adj} = {expected}, "
            f"CLP04 says {c.paid}"))


def balance_claim(claim: ClaimPayment) -> list[BalanceFinding]:
    """The line and claim findings of one claim (empty when it adds up)."""
    out: list[BalanceFinding] = []
    _check_claim(claim, out)
    return out


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


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


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
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: datetime,
    usage: str = "T",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
    first_set_control_number: int = 1,
) -> str:
    """One interchange with one HP group holding an 835 per remittance (ST02 0001, 0002, ...)."""
    items = [remittances] if isinstance(remittances, Remittance835) else list(remittances)
    sets = [transaction_835(r, f"{first_set_control_number + i:04d}", delimiters) for i, r in enumerate(items)]
    isa = InterchangeSpec(sender_id=sender_id, receiver_id=receiver_id, date=created.strftime("%y%m%d"),
                          time=created.strftime("%H%M"), control_number=interchange_control_number,
                          usage=usage, sender_qualifier=sender_qualifier, receiver_qualifier=receiver_qualifier)
    group = GroupSpec("HP", sender_id, receiver_id, created.strftime("%Y%m%d"), created.strftime("%H%M"),
                      group_control_number, IMPLEMENTATION, sets)
    return build_interchange(isa, [group], delimiters, newline=newline)
