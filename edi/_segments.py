"""X12 syntax, first layer: delimiters from the ISA and the streaming :class:`SegmentReader`.

Public names are re-exported by :mod:`edi.x12`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
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
        if not buf:  # `edi inspect` and `edi ingest` both say so
            raise DelimiterError("an empty file is not X12", expected="an ISA segment")
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
