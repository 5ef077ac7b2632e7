"""X12 syntax: delimiters, a streaming segment reader, envelope checking, and a writer.

Reading is two layers:

* :class:`SegmentReader` turns a byte stream into segments (``list[str]``, element 0 is the
  segment id). Delimiters come from each ISA, so one file may hold several interchanges with
  different delimiters. Segment terminators may be followed by CR/LF or not; a bare newline may be
  the terminator. Memory is bounded by the chunk size, not the file size.
* :class:`Envelope` walks those segments, checks ISA/IEA, GS/GE and ST/SE (counts and control
  numbers) and groups them into :class:`TransactionSet` objects whose segments are streamed.
  Strict by default; with ``strict=False`` count and control number mismatches become
  :attr:`Envelope.findings` instead of exceptions.

Writing: :func:`format_segment` and :func:`build_interchange`, which computes SE01, GE01 and
IEA01 from what it wrote.

Bytes are decoded as Latin-1 so that every byte is one character and offsets are byte offsets.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import BinaryIO

from edi.errors import DelimiterError, EnvelopeError, TransactionError, X12SyntaxError

__all__ = [
    "DEFAULT_DELIMITERS",
    "Delimiters",
    "Envelope",
    "Finding",
    "FunctionalGroup",
    "GroupSpec",
    "Interchange",
    "InterchangeSpec",
    "Segment",
    "SegmentReader",
    "TransactionSet",
    "TransactionSpec",
    "build_interchange",
    "build_sets",
    "element",
    "format_segment",
    "open_x12",
    "optional",
    "parse_d8",
    "read_segments",
]

Segment = list[str]
"""One segment: element 0 is the segment id, then its elements as written (composites unsplit)."""

ISA_LENGTH = 106
_ENVELOPE_IDS = frozenset({"SE", "GE", "IEA", "ST", "GS", "ISA"})
_NEWLINES = "\r\n"
_BLANK = " \t\r\n"
_CHUNK = 1 << 13  # small batches keep the segment lists in cache (8 KiB measured fastest, 1 MiB slowest)


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    segment: str = "~"

    def check(self) -> None:
        chars = [self.element, self.component, self.segment]
        if self.repetition not in ("", "U"):
            chars.append(self.repetition)
        for ch in chars:
            if len(ch) != 1 or ch.isalnum() or ch == " ":
                raise DelimiterError(
                    f"unusable delimiter {ch!r}", segment_id="ISA", segment_number=1, offset=0,
                    expected="one punctuation character")
        if len(set(chars)) != len(chars):
            raise DelimiterError(
                f"delimiters are not distinct: {chars!r}", segment_id="ISA", segment_number=1,
                offset=0, expected="four different characters")


DEFAULT_DELIMITERS = Delimiters()


def detect_delimiters(text: str, offset: int = 0) -> tuple[Delimiters, int]:
    """Read the delimiters declared by the ISA at the start of ``text``.

    Returns the delimiters and the index just past the ISA's segment terminator. The ISA's
    fixed widths are not required (some senders trim them); its 16 elements are.
    """
    if not text.startswith("ISA"):
        raise DelimiterError(
            f"file does not start with an ISA segment (found {text[:3]!r})",
            segment_number=1, segment_id=text[:3] or None, offset=offset, expected="ISA")
    if len(text) < 4:
        raise DelimiterError("short ISA segment", segment_id="ISA", offset=offset, expected="106 characters")
    elem = text[3]
    pos = 3
    for n in range(1, 16):
        nxt = text.find(elem, pos + 1)
        if nxt < 0 or nxt - pos > 20:
            raise DelimiterError(
                f"short ISA segment: element ISA{n:02d} is not followed by the element separator {elem!r}",
                segment_number=1, segment_id="ISA", element=n, offset=offset,
                expected="16 elements (106 characters)")
        pos = nxt
    # pos is the separator before ISA16; ISA16 is one character, then the terminator.
    if len(text) < pos + 3:
        raise DelimiterError(
            "short ISA segment: missing ISA16 or the segment terminator", segment_number=1,
            segment_id="ISA", element=16, offset=offset, expected="106 characters")
    component = text[pos + 1]
    term = text[pos + 2]
    end = pos + 3
    if term == "\r" and text[end:end + 1] == "\n":
        term = "\n"  # CRLF as terminator: treat as newline terminator, skip the CR
        end += 1
    elements = text[:pos].split(elem)
    rep = elements[11] if len(elements) > 11 else "U"
    if len(rep) != 1:
        raise DelimiterError(
            f"ISA11 must be one character, found {rep!r}", segment_number=1, segment_id="ISA",
            element=11, offset=offset, expected="repetition separator or U")
    repetition = "" if rep == "U" or rep.isalnum() else rep
    d = Delimiters(element=elem, repetition=repetition, component=component, segment=term)
    d.check()
    return d, end


class SegmentReader:
    """Streams segments from bytes, taking delimiters from each ISA.

    Iterate it to get segments. ``delimiters`` is those of the current interchange;
    ``segment_number`` the 1-based number of the last segment yielded in the file.
    """

    def __init__(self, stream: BinaryIO, *, chunk_size: int = _CHUNK) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self.delimiters: Delimiters = DEFAULT_DELIMITERS
        self.segment_number = 0
        # The raw text of the batch being yielded, kept to compute byte offsets for errors.
        self._raw = ""
        self._raw_base = 0
        self._batch_base = 0

    def offset_of(self, segment_number: int) -> int | None:
        """Byte offset of a segment of the batch being read (computed only for error messages)."""
        idx = segment_number - self._batch_base - 1
        if idx < 0:
            return None
        step = len(self.delimiters.segment)
        off = self._raw_base
        for raw in self._raw.split(self.delimiters.segment):
            if raw.strip(_NEWLINES):
                if idx == 0:
                    return off + len(raw) - len(raw.lstrip(_NEWLINES))
                idx -= 1
            off += len(raw) + step
        return None

    def _fill(self, buf: str, base: int) -> tuple[str, int, bool]:
        """Skip white space between interchanges and read until an ISA fits; returns eof too."""
        eof = False
        while True:
            stripped = buf.lstrip(_BLANK)
            base += len(buf) - len(stripped)
            buf = stripped
            if len(buf) >= ISA_LENGTH + 2 or eof:
                return buf, base, eof
            data = self._stream.read(self._chunk_size)
            if not data:
                eof = True
            else:
                buf += data.decode("latin-1")

    def _batch(self, raw: str, base: int, segments: list[Segment]) -> list[Segment]:
        self._raw, self._raw_base = raw, base
        self._batch_base = self.segment_number
        self.segment_number += len(segments)
        return segments

    def __iter__(self) -> Iterator[Segment]:
        return chain.from_iterable(self.batches())  # C-level flattening: no Python frame per segment

    def batches(self) -> Iterator[list[Segment]]:
        """The segments in lists of up to a chunk's worth (the fastest way to read)."""
        read = self._stream.read
        size = self._chunk_size
        buf, base, eof = self._fill("", 0)
        while buf:
            d, end = detect_delimiters(buf, base)
            self.delimiters = d
            term, elem = d.segment, d.element
            yield self._batch(buf[:end], base, [buf[:end].rstrip(_NEWLINES + term).split(elem)])
            base += end
            buf = buf[end:]
            newline_term = term in _NEWLINES
            iea = "IEA" + elem
            done = False
            while not done:
                cut = self._interchange_end(buf, iea, term)
                if cut >= 0:
                    body, rest, done = buf[:cut], buf[cut:], True
                elif eof:
                    body, rest, done = buf, "", True
                else:
                    data = read(size)
                    if not data:
                        eof = True
                        continue
                    buf += data.decode("latin-1")
                    t = buf.rfind(term)
                    if len(buf) < size or t < 0:
                        continue
                    body, rest = buf[: t + 1], buf[t + 1:]  # complete segments; keep the tail
                if newline_term:
                    clean = body.replace("\r", "") if "\r" in body else body
                elif "\n" in body or "\r" in body:
                    clean = body.replace("\r", "").replace("\n", "")
                else:
                    clean = body
                parts = clean.split(term)
                tail = parts.pop()
                if done and tail.strip():
                    k = body.rfind(term)
                    after = body[k + 1:]
                    raise X12SyntaxError(
                        f"unterminated segment at end of file: {tail.strip()[:20]!r}",
                        segment_number=self.segment_number + len(parts) + 1,
                        segment_id=tail.strip()[:3], offset=base + k + 1 + len(after) - len(after.lstrip()),
                        expected=f"segment terminator {term!r}")
                yield self._batch(body, base, [p.split(elem) for p in parts if p])
                base += len(body)
                buf = rest
            buf, base, eof2 = self._fill(buf, base)
            eof = eof or eof2

    @staticmethod
    def _interchange_end(buf: str, iea: str, term: str) -> int:
        """Index just past the terminator of the IEA in ``buf``, or -1 if it is not all there."""
        k = buf.find(iea)
        while k >= 0:
            j = k
            while j > 0 and buf[j - 1] in _NEWLINES:
                j -= 1
            if j == 0 or buf[j - 1] == term or k > 0 and buf[k - 1] == term:
                t = buf.find(term, k)
                return t + 1 if t >= 0 else -1
            k = buf.find(iea, k + 1)
        return -1


def read_segments(data: bytes | str) -> list[Segment]:
    """All segments of an in-memory X12 text (a convenience for small files and tests)."""
    raw = data.encode("latin-1") if isinstance(data, str) else data
    return list(SegmentReader(io.BytesIO(raw)))


# --------------------------------------------------------------------------------------------
# Envelopes
# --------------------------------------------------------------------------------------------


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
        self._batches: Iterator[list[Segment]] = self.reader.batches()
        self._batch: list[Segment] = []
        self._pos = 0
        self._pending: Segment | None = None
        self._n = 0  # file-level number of the current segment

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
        seg = self._batch[self._pos]
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
            isa = Interchange(
                sender_qualifier=el(seg, 5).strip(), sender_id=el(seg, 6).strip(),
                receiver_qualifier=el(seg, 7).strip(), receiver_id=el(seg, 8).strip(),
                date=el(seg, 9), time=el(seg, 10), control_number=el(seg, 13).strip(),
                version=el(seg, 12), ack_requested=el(seg, 14), usage=el(seg, 15),
                delimiters=self.reader.delimiters, segment_number=self._n,
            )
            self.interchanges.append(isa)
            yield from self._interchange(isa)

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
            elif sid == "IEA":
                count = el(seg, 1)
                isa.declared_groups = int(count) if count.isdigit() else None
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
                ts.batches = self._transaction(seg, summary)
                ts.segments = _flatten(ts.batches)
                yield ts
                for _ in ts.batches:  # drain what the consumer left
                    pass
            elif sid == "GE":
                count = el(seg, 1)
                grp.declared_transactions = int(count) if count.isdigit() else None
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

    def _transaction(self, st: Segment, summary: TransactionSummary) -> Iterator[list[Segment]]:
        """ST..SE of one set, in batches. The envelope segments are found with C-level scans of
        each batch's segment ids, so the cost per segment stays close to the raw reader's.
        Parsers that need a segment's file-level number add its position in the set to
        ``TransactionSet.segment_number`` - 1 (positions count from ST = 1)."""
        yield [st]
        start = self._n
        n = 1
        env = _ENVELOPE_IDS
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
            batch, pos = self._batch, self._pos
            if batch[pos][0] not in env:
                chunk = batch[pos:] if pos else batch
                ids = [s[0] for s in chunk]
                k = len(chunk)
                for e in env:
                    if e in ids:
                        k = min(k, ids.index(e))
                if k < len(chunk):
                    chunk = chunk[:k]
                n += k
                self._pos = pos + k
                self._n = start + n - 1
                yield chunk
                continue
            seg = batch[pos]
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
            yield [seg]
            return


def _flatten(batches: Iterator[list[Segment]]) -> Iterator[Segment]:
    return chain.from_iterable(batches)


def open_x12(data: bytes | str | BinaryIO, *, strict: bool = True) -> Envelope:
    """An :class:`Envelope` over bytes, text, or a binary stream."""
    if isinstance(data, str):
        return Envelope(io.BytesIO(data.encode("latin-1")), strict=strict)
    if isinstance(data, bytes | bytearray):
        return Envelope(io.BytesIO(bytes(data)), strict=strict)
    return Envelope(data, strict=strict)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

Element = str | Sequence[str] | None
"""An element to write: text, a composite (a sequence of components), or None for empty."""


def format_segment(values: Sequence[Element], d: Delimiters = DEFAULT_DELIMITERS) -> str:
    """One segment without its terminator; trailing empty elements and components are dropped."""
    out: list[str] = []
    for v in values:
        if v is None:
            out.append("")
        elif isinstance(v, str):
            out.append(v)
        else:
            comps = [c or "" for c in v]
            while comps and not comps[-1]:
                comps.pop()
            out.append(d.component.join(comps))
    while len(out) > 1 and out[-1] == "":
        out.pop()
    return d.element.join(out)


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    """A transaction set to write: its body is every segment between ST and SE."""

    set_id: str
    control_number: str
    body: Sequence[Sequence[Element]]
    implementation: str | None = None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    functional_id: str
    sender_code: str
    receiver_code: str
    date: str  # CCYYMMDD
    time: str  # HHMM
    control_number: int
    version: str
    transactions: Sequence[TransactionSpec]


@dataclass(frozen=True, slots=True)
class InterchangeSpec:
    sender_id: str
    receiver_id: str
    date: str  # YYMMDD
    time: str  # HHMM
    control_number: int
    usage: str = "T"
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    ack_requested: str = "0"
    version: str = "00501"


def _fixed(value: str, width: int) -> str:
    if len(value) > width:
        raise ValueError(f"{value!r} is longer than {width} characters")
    return value.ljust(width)


def build_interchange(
    isa: InterchangeSpec,
    groups: Iterable[GroupSpec],
    d: Delimiters = DEFAULT_DELIMITERS,
    *,
    newline: bool = False,
) -> str:
    """Write one interchange; SE01, GE01 and IEA01 are counted from what is written."""
    term = d.segment + ("\n" if newline and d.segment != "\n" else "")
    e = d.element
    header = e.join([
        "ISA", "00", " " * 10, "00", " " * 10,
        _fixed(isa.sender_qualifier, 2), _fixed(isa.sender_id, 15),
        _fixed(isa.receiver_qualifier, 2), _fixed(isa.receiver_id, 15),
        isa.date, isa.time, d.repetition or "U", isa.version, f"{isa.control_number:09d}",
        isa.ack_requested, isa.usage, d.component,
    ])
    assert len(header) == ISA_LENGTH - 1, header
    out = [header + term]
    n_groups = 0
    for g in groups:
        n_groups += 1
        out.append(format_segment(["GS", g.functional_id, g.sender_code, g.receiver_code, g.date, g.time,
                                   str(g.control_number), "X", g.version], d) + term)
        n_sets = 0
        for t in g.transactions:
            n_sets += 1
            out.append(format_segment(["ST", t.set_id, t.control_number, t.implementation], d) + term)
            for seg in t.body:
                out.append(format_segment(seg, d) + term)
            out.append(format_segment(["SE", str(len(t.body) + 2), t.control_number], d) + term)
        out.append(format_segment(["GE", str(n_sets), str(g.control_number)], d) + term)
    out.append(format_segment(["IEA", str(n_groups), f"{isa.control_number:09d}"], d) + term)
    return "".join(out)


def build_sets(
    interchange: InterchangeSpec,
    *,
    functional_id: str,
    set_id: str,
    implementation: str,
    bodies: Sequence[Sequence[Sequence[Element]]],
    group_control_number: int,
    first_transaction_number: int = 1,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    newline: bool = True,
) -> str:
    """One interchange with one group of ``set_id`` transaction sets, one per body, numbered from
    ``first_transaction_number``; the group's sender, receiver, date and time are the interchange's."""
    txs = [TransactionSpec(set_id, f"{first_transaction_number + i:04d}", body, implementation)
           for i, body in enumerate(bodies)]
    gdate = ("20" + interchange.date) if len(interchange.date) == 6 else interchange.date
    group = GroupSpec(functional_id, interchange.sender_id, interchange.receiver_id, gdate, interchange.time,
                      group_control_number, implementation, txs)
    return build_interchange(interchange, [group], delimiters, newline=newline)


# --------------------------------------------------------------------------------------------
# Element values, for the transaction set parsers
# --------------------------------------------------------------------------------------------


def element(seg: Segment, i: int) -> str:
    """Element ``i`` of ``seg`` without surrounding blanks, or "" when the segment is shorter."""
    return seg[i].strip() if len(seg) > i else ""


def optional(seg: Segment, i: int) -> str | None:
    """Element ``i`` of ``seg``, or None when it is empty or missing."""
    return element(seg, i) or None


def parse_d8(text: str, segment_number: int, segment_id: str, element_position: int) -> date:
    """A CCYYMMDD date; TransactionError naming the segment and element otherwise."""
    if len(text) != 8 or not text.isdigit():
        raise TransactionError("date is not CCYYMMDD", segment_number=segment_number, segment_id=segment_id,
                               element=element_position, expected="CCYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise TransactionError("date is not a calendar date", segment_number=segment_number,
                               segment_id=segment_id, element=element_position, expected="CCYYMMDD") from None
