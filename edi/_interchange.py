"""X12 syntax, second layer: the :class:`Envelope` walk over segments, checking ISA/IEA, GS/GE and
ST/SE (counts, control numbers, nesting), the envelope tree (:class:`Interchange`,
:class:`FunctionalGroup`, :class:`TransactionSummary`) and the streamed :class:`TransactionSet`.

Public names are re-exported by :mod:`edi.x12`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import BinaryIO

from edi._segments import _CHUNK, _ENVELOPE_IDS, Delimiters, Segment, SegmentReader, is_digits
from edi.errors import DelimiterError, EnvelopeError, X12SyntaxError

# --------------------------------------------------------------------------------------------
# Envelopes
# --------------------------------------------------------------------------------------------

_MARK_ENVELOPE_START = str.maketrans("SGI", "\0\0\0")  # first letters of the envelope ids

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
"""The fixed widths of ISA01..ISA16."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something in the envelopes that does not add up (lenient mode)."""

    message: str
    segment_number: int
    segment_id: str
    element: int
    offset: int | None

    def __str__(self) -> str:
        where = f"segment {self.segment_number}, {self.segment_id}{self.element:02d}"
        if self.offset is not None:
            where += f", byte {self.offset}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    control_number: str
    version: str
    usage: str
    ack_requested: str
    delimiters: Delimiters
    segment_number: int
    groups: list[FunctionalGroup] = field(default_factory=list)
    ta1: list[Segment] = field(default_factory=list)
    declared_groups: int | None = None
    ta1_numbers: list[int] = field(default_factory=list)
    """The segment number in the file of each segment in ``ta1``."""


@dataclass(slots=True)
class FunctionalGroup:
    functional_id: str
    sender_code: str
    receiver_code: str
    date: str
    time: str
    control_number: str
    version: str
    segment_number: int
    transactions: list[TransactionSummary] = field(default_factory=list)
    declared_transactions: int | None = None


@dataclass(slots=True)
class TransactionSummary:
    set_id: str
    control_number: str
    implementation: str
    segment_count: int
    segment_number: int


@dataclass(slots=True)
class TransactionSet:
    """One ST..SE set; ``segments`` streams them (ST first, SE last) and must be consumed in order."""

    interchange: Interchange
    group: FunctionalGroup
    set_id: str
    control_number: str
    implementation: str
    segment_number: int
    segments: Iterator[Segment]
    delimiters: Delimiters
    batches: Iterator[list[Segment]] = field(default_factory=lambda: iter(()))
    """The same segments in lists (the fastest way to read a large set). ``segments`` flattens
    ``batches``: read a set through one of the two."""
    texts: Iterator[list[str]] = field(default_factory=lambda: iter(()))
    """The same batches with each segment as its text, elements not split (see
    :meth:`SegmentReader.texts`). ``batches`` splits ``texts``: read a set through one of the three."""


class Envelope:
    """Walks a segment stream, checks envelopes, and yields the transaction sets in it.

    After iteration, :attr:`interchanges` holds the envelope tree (with segment counts) and
    :attr:`findings` the mismatches found in lenient mode.
    """

    def __init__(self, stream: BinaryIO, *, strict: bool = True, chunk_size: int = _CHUNK) -> None:
        self.reader = SegmentReader(stream, chunk_size=chunk_size)
        self.strict = strict
        self.findings: list[Finding] = []
        self.interchanges: list[Interchange] = []
        self._batches: Iterator[list[str]] = self.reader.texts()  # split here only where needed
        self._batch: list[str] = []
        self._pos = 0
        self._pending: Segment | None = None
        self._n = 0  # file-level number of the current segment
        self._ids_of: list[str] | None = None  # the batch _marks describes
        self._marks = ""
        self._prefixes: tuple[str, tuple[str, ...]] = ("", ())  # element separator, envelope ids + it

    # -- helpers -----------------------------------------------------------------------------
    def _err(self, cls: type[X12SyntaxError], msg: str, seg: Segment | None, element: int = 0,
             expected: str | None = None, *, soft: bool = False) -> None:
        n = self._n
        sid = seg[0] if seg else ""
        off = self.reader.offset_of(n)
        if soft and not self.strict:
            self.findings.append(Finding(msg + (f" (expected {expected})" if expected else ""), n, sid, element, off))
            return
        raise cls(msg, segment_number=n, segment_id=sid or None, element=element, offset=off, expected=expected)

    def _next(self) -> Segment | None:
        if self._pending is not None:
            seg, self._pending = self._pending, None
            return seg
        while self._pos >= len(self._batch):
            batch = next(self._batches, None)
            if batch is None:
                return None
            self._batch, self._pos = batch, 0
        seg = self._batch[self._pos].split(self.reader.delimiters.element)
        self._pos += 1
        self._n += 1
        return seg

    @staticmethod
    def _el(seg: Segment, i: int) -> str:
        return seg[i] if len(seg) > i else ""

    # -- walking -----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[TransactionSet]:
        el = self._el
        while True:
            seg = self._next()
            if seg is None:
                return
            if seg == [""] or seg[0] == "":
                continue
            if seg[0] != "ISA":
                self._err(EnvelopeError, f"{seg[0]} segment outside an interchange", seg, expected="ISA")
                continue
            if len(seg) < 17:
                self._err(DelimiterError, f"ISA has {len(seg) - 1} elements", seg, expected="16")
            self._check_isa_widths(seg)
            isa = Interchange(
                sender_qualifier=el(seg, 5).strip(), sender_id=el(seg, 6).strip(),
                receiver_qualifier=el(seg, 7).strip(), receiver_id=el(seg, 8).strip(),
                date=el(seg, 9), time=el(seg, 10), control_number=el(seg, 13).strip(),
                version=el(seg, 12), ack_requested=el(seg, 14), usage=el(seg, 15),
                delimiters=self.reader.delimiters, segment_number=self._n,
            )
            self.interchanges.append(isa)
            yield from self._interchange(isa)

    def _check_isa_widths(self, seg: Segment) -> None:
        """The ISA's fixed element widths: an error in strict mode, a finding in lenient mode."""
        for i, width in enumerate(ISA_WIDTHS, start=1):
            if i < len(seg) and len(seg[i]) != width:
                self._err(DelimiterError, f"ISA{i:02d} has {len(seg[i])} characters", seg, i,
                          f"{width} characters", soft=True)

    def _interchange(self, isa: Interchange) -> Iterator[TransactionSet]:
        el = self._el
        while True:
            seg = self._next()
            if seg is None:
                self._err(EnvelopeError, f"interchange {isa.control_number} has no IEA", None, expected="IEA")
                return
            sid = seg[0]
            if sid == "GS":
                grp = FunctionalGroup(
                    functional_id=el(seg, 1), sender_code=el(seg, 2), receiver_code=el(seg, 3),
                    date=el(seg, 4), time=el(seg, 5), control_number=el(seg, 6),
                    version=el(seg, 8), segment_number=self._n)
                isa.groups.append(grp)
                yield from self._group(isa, grp)
            elif sid == "TA1":
                isa.ta1.append(seg)
                isa.ta1_numbers.append(self._n)
            elif sid == "IEA":
                count = el(seg, 1)
                isa.declared_groups = int(count) if is_digits(count) else None
                if isa.declared_groups != len(isa.groups):
                    self._err(EnvelopeError, f"IEA01 says {count} groups, the interchange has {len(isa.groups)}",
                              seg, 1, str(len(isa.groups)), soft=True)
                if el(seg, 2).strip() != isa.control_number:
                    self._err(EnvelopeError, f"IEA02 {el(seg, 2)!r} does not match ISA13 {isa.control_number!r}",
                              seg, 2, isa.control_number, soft=True)
                return
            elif sid == "ISA":
                self._err(EnvelopeError, f"interchange {isa.control_number} has no IEA", seg, expected="IEA",
                          soft=True)
                self._pending = seg
                return
            else:
                self._err(EnvelopeError, f"{sid} segment outside a functional group", seg, expected="GS or IEA")

    def _group(self, isa: Interchange, grp: FunctionalGroup) -> Iterator[TransactionSet]:
        el = self._el
        while True:
            seg = self._next()
            if seg is None:
                self._err(EnvelopeError, f"group {grp.control_number} has no GE", None, expected="GE")
                return
            sid = seg[0]
            if sid == "ST":
                ts = TransactionSet(
                    interchange=isa, group=grp, set_id=el(seg, 1), control_number=el(seg, 2),
                    implementation=el(seg, 3) or grp.version, segment_number=self._n,
                    segments=iter(()), delimiters=isa.delimiters)
                summary = TransactionSummary(ts.set_id, ts.control_number, ts.implementation, 0,
                                             ts.segment_number)
                grp.transactions.append(summary)
                ts.texts = self._transaction(seg, summary)
                ts.batches = _split(ts.texts, isa.delimiters.element)
                ts.segments = _flatten(ts.batches)
                yield ts
                for _ in ts.texts:  # drain what the consumer left
                    pass
            elif sid == "GE":
                count = el(seg, 1)
                grp.declared_transactions = int(count) if is_digits(count) else None
                if grp.declared_transactions != len(grp.transactions):
                    self._err(EnvelopeError,
                              f"GE01 says {count} transaction sets, the group has {len(grp.transactions)}",
                              seg, 1, str(len(grp.transactions)), soft=True)
                if el(seg, 2) != grp.control_number:
                    self._err(EnvelopeError, f"GE02 {el(seg, 2)!r} does not match GS06 {grp.control_number!r}",
                              seg, 2, grp.control_number, soft=True)
                return
            elif sid in ("IEA", "ISA"):
                self._err(EnvelopeError, f"group {grp.control_number} has no GE", seg, expected="GE", soft=True)
                self._pending = seg
                return
            else:
                self._err(EnvelopeError, f"{sid} segment outside a transaction set", seg, expected="ST or GE")

    def _transaction(self, st: Segment, summary: TransactionSummary) -> Iterator[list[str]]:
        """ST..SE of one set, in batches of segment texts. The envelope segments are found with
        C-level scans of each batch, and only they are split, so the cost per segment stays close
        to the raw reader's. Parsers that need a segment's file-level number add its position in
        the set to ``TransactionSet.segment_number`` - 1 (positions count from ST = 1)."""
        yield [self.reader.delimiters.element.join(st)]
        start = self._n
        n = 1
        while True:
            if self._pos >= len(self._batch):
                batch = next(self._batches, None)
                if batch is None:
                    self._n = start + n - 1
                    summary.segment_count = n
                    self._err(EnvelopeError, f"transaction set {summary.control_number} has no SE", None,
                              expected="SE")
                    return
                self._batch, self._pos = batch, 0
                continue  # an empty batch (a file cut at a segment boundary) reads the next one
            batch, pos = self._batch, self._pos
            k = self._next_envelope(batch, pos)
            if k > pos:
                chunk = batch[pos:k] if pos or k < len(batch) else batch
                n += k - pos
                self._pos = k
                self._n = start + n - 1
                yield chunk
                continue
            text = batch[pos]
            seg = text.split(self.reader.delimiters.element)
            self._pos = pos + 1
            n += 1
            self._n = start + n - 1
            if seg[0] != "SE":
                summary.segment_count = n - 1
                self._err(EnvelopeError, f"transaction set {summary.control_number} has no SE", seg,
                          expected="SE", soft=True)
                self._n -= 1
                self._pos -= 1  # the envelope walk takes it from here
                return
            summary.segment_count = n
            count = seg[1] if len(seg) > 1 else ""
            if count != str(n):
                self._err(EnvelopeError, f"SE01 says {count or 'nothing'}, the set has {n} segments",
                          seg, 1, str(n), soft=True)
            ctl = seg[2] if len(seg) > 2 else ""
            if ctl != summary.control_number:
                self._err(EnvelopeError, f"SE02 {ctl!r} does not match ST02 {summary.control_number!r}",
                          seg, 2, summary.control_number, soft=True)
            yield [text]
            return


    def _next_envelope(self, batch: list[str], pos: int) -> int:
        """Index of the first envelope segment (ST, SE, GS, ...) at or after ``pos`` in ``batch``.

        Every envelope id starts with S, G or I: the first letters of the batch's segments are
        joined once into a string where those are marked (C-level), the marks are found with
        str.find and only they are checked (the text starts with an envelope id and the element
        separator, or is the id alone). The search only moves forward, so a batch full of
        envelope segments or of SVCs is still read in linear time."""
        if self._ids_of is not batch:
            elem = self.reader.delimiters.element  # the batch is the reader's latest
            if self._prefixes[0] != elem:
                self._prefixes = (elem, tuple(e + elem for e in _ENVELOPE_IDS))
            self._ids_of, self._marks = batch, "".join(map(itemgetter(0), batch)).translate(_MARK_ENVELOPE_START)
        marks, prefixes = self._marks, self._prefixes[1]
        while True:
            pos = marks.find("\0", pos)
            if pos < 0:
                return len(batch)
            text = batch[pos]
            if text.startswith(prefixes) or text in _ENVELOPE_IDS:
                return pos
            pos += 1


def _flatten(batches: Iterator[list[Segment]]) -> Iterator[Segment]:
    return chain.from_iterable(batches)


def _split(texts: Iterator[list[str]], element: str) -> Iterator[list[Segment]]:
    for batch in texts:
        yield [t.split(element) for t in batch]


def open_x12(data: bytes | str | BinaryIO, *, strict: bool = True) -> Envelope:
    """An :class:`Envelope` over bytes, text, or a binary stream."""
    if isinstance(data, str):
        return Envelope(io.BytesIO(data.encode("latin-1")), strict=strict)
    if isinstance(data, bytes | bytearray):
        return Envelope(io.BytesIO(bytes(data)), strict=strict)
    return Envelope(data, strict=strict)

