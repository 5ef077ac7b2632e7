"""X12 syntax, first layer: delimiters from the ISA and the streaming :class:`SegmentReader`.

Public names are re-exported by :mod:`edi.x12`.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO

from edi.errors import DelimiterError, X12SyntaxError

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
        nxt = text.find(elem, pos + 1, pos + 22)  # bounded: a huge first segment costs nothing
        if nxt < 0:
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
        self._offsets: list[int] | None = None

    def offset_of(self, segment_number: int) -> int | None:
        """Byte offset of a segment of the batch being read (computed only for error messages)."""
        idx = segment_number - self._batch_base - 1
        if idx < 0:
            return None
        if self._offsets is None:  # once per batch, so many findings in one batch stay linear
            offsets: list[int] = []
            step = len(self.delimiters.segment)
            off = self._raw_base
            for raw in self._raw.split(self.delimiters.segment):
                if raw.strip(_NEWLINES):
                    offsets.append(off + len(raw) - len(raw.lstrip(_NEWLINES)))
                off += len(raw) + step
            self._offsets = offsets
        return self._offsets[idx] if idx < len(self._offsets) else None

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

    def _batch(self, raw: str, base: int, texts: list[str]) -> list[str]:
        self._raw, self._raw_base, self._offsets = raw, base, None
        self._batch_base = self.segment_number
        self.segment_number += len(texts)
        return texts

    def __iter__(self) -> Iterator[Segment]:
        return chain.from_iterable(self.batches())  # C-level flattening: no Python frame per segment

    def batches(self) -> Iterator[list[Segment]]:
        """The segments in lists of up to a chunk's worth (the fastest way to read)."""
        for texts in self.texts():
            elem = self.delimiters.element  # of the interchange the batch is in
            yield [t.split(elem) for t in texts]

    def texts(self) -> Iterator[list[str]]:
        """The same batches with each segment as its text: no terminator, no line breaks, the
        elements not split (``text.split(delimiters.element)`` is the segment). Reading this way
        costs a string per segment instead of a list and a string per element, and lets a parser
        recognise a segment it has seen before by its text alone.

        Linear time on any input: each byte is scanned a bounded number of times, also when a
        segment never ends (text without a terminator is kept as pieces and joined once).
        """
        buf, base, eof = self._fill("", 0)
        if not buf:  # `edi inspect` and `edi ingest` both say so
            raise DelimiterError("an empty file is not X12", offset=0, expected="an ISA segment")
        while buf:
            d, end = detect_delimiters(buf, base)
            self.delimiters = d
            isa = buf[:end]
            yield self._batch(isa, base, [isa.rstrip(_NEWLINES + d.segment)])
            base += end
            buf, base, eof = yield from self._interchange(buf[end:], base, eof)
            buf, base, eof2 = self._fill(buf, base)
            eof = eof or eof2

    def _interchange(self, buf: str, base: int, eof: bool) -> Generator[list[str], None, tuple[str, int, bool]]:
        """The segments after an ISA up to its IEA (or the end of the file); returns what follows."""
        read, size = self._stream.read, self._chunk_size
        term = self.delimiters.segment
        iea = "IEA" + self.delimiters.element
        pieces: list[str] = []  # text read after ``buf`` with no terminator in it yet
        scan = 0  # where to resume looking for the IEA in ``buf``
        while True:
            cut, scan = self._interchange_end(buf, iea, term, scan)
            if cut >= 0:
                body, buf, done = buf[:cut], buf[cut:], True
            elif eof:
                body, buf, done = "".join((buf, *pieces)), "", True
                pieces.clear()
            else:
                data = read(size)
                if not data:
                    eof = True
                    continue
                text = data.decode("latin-1")
                if term not in text:
                    pieces.append(text)  # a long segment: join once its terminator comes
                    continue
                if pieces:
                    text = "".join((*pieces, text))
                    pieces.clear()
                buf += text
                if len(buf) < size:
                    continue
                cut, scan = self._interchange_end(buf, iea, term, scan)  # the IEA may be in what came
                if cut >= 0:
                    body, buf, done = buf[:cut], buf[cut:], True
                else:
                    t = buf.rfind(term)
                    body, buf, done = buf[: t + 1], buf[t + 1:], False  # complete segments; keep the tail
                    scan = 0
            batch = self._texts(body, base, done)
            if batch:
                yield self._batch(body, base, batch)
            base += len(body)
            if done:
                return buf, base, eof

    def _texts(self, body: str, base: int, done: bool) -> list[str]:
        """The segment texts of ``body``; at the end of an interchange, an unterminated tail is an error."""
        term = self.delimiters.segment
        # Line breaks are dropped through bytes: bytes.replace is several times faster than
        # str.replace on a one-character pattern, and Latin-1 maps characters to bytes one to one.
        if term in _NEWLINES:
            clean = body.encode("latin-1").replace(b"\r", b"").decode("latin-1") if "\r" in body else body
        elif "\n" in body or "\r" in body:
            clean = body.encode("latin-1").replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")
        else:
            clean = body
        parts = clean.split(term)
        tail = parts.pop()
        if done and tail.strip():
            k = body.rfind(term)
            after = body[k + 1:]
            shown = tail.strip()
            raise X12SyntaxError(
                f"unterminated segment at end of file: {shown[:20]!r}",
                segment_number=self.segment_number + sum(1 for p in parts if p) + 1,
                segment_id=shown[:3], offset=base + k + 1 + len(after) - len(after.lstrip()),
                expected=f"segment terminator {term!r}")
        if not all(parts):  # empty segments (~~) are skipped
            parts = list(filter(None, parts))
        return parts

    @staticmethod
    def _interchange_end(buf: str, iea: str, term: str, start: int = 0) -> tuple[int, int]:
        """Index just past the terminator of the IEA in ``buf`` (-1 if it is not all there), and
        where to resume the search once more text is appended."""
        k = buf.find(iea, start)
        while k >= 0:
            j = k
            while j > 0 and buf[j - 1] in _NEWLINES:
                j -= 1
            if j == 0 or buf[j - 1] == term or k > 0 and buf[k - 1] == term:
                t = buf.find(term, k)
                return (t + 1 if t >= 0 else -1), k
            k = buf.find(iea, k + 1)
        return -1, max(0, len(buf) - len(iea) + 1)


def is_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits only (``str.isdigit`` also takes '²', which int() refuses)."""
    return text.isascii() and text.isdigit()


def read_segments(data: bytes | str) -> list[Segment]:
    """All segments of an in-memory X12 text (a convenience for small files and tests)."""
    raw = data.encode("latin-1") if isinstance(data, str) else data
    return list(SegmentReader(io.BytesIO(raw)))
