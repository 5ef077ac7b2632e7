"""X12 syntax: delimiters, a streaming segment reader, envelope checking, and a writer.

Reading is two layers:

* :class:`SegmentReader` turns a byte stream into segments (``list[str]``, element 0 is the
  segment id). Delimiters come from each ISA, so one file may hold several interchanges with
  different delimiters. Segment terminators may be followed by CR/LF or not; a bare newline may be
  the terminator. Memory is bounded by the chunk size, not the file size. Underneath, it reads
  segment *texts* (:meth:`SegmentReader.texts`: terminator and line breaks removed, elements not
  yet split), which is all a parser needs to recognise a segment it has already read.
* :class:`Envelope` walks those segments, checks ISA/IEA, GS/GE and ST/SE (counts and control
  numbers) and groups them into :class:`TransactionSet` objects whose segments are streamed, as
  lists (``segments``, ``batches``) or as texts (``texts``, what the 835 reader uses); only the
  envelope segments are split to be checked. Strict by default; with ``strict=False`` count and
  control number mismatches become :attr:`Envelope.findings` instead of exceptions.

Writing: :func:`format_segment` and :func:`build_interchange`, which computes SE01, GE01 and
IEA01 from what it wrote.

This module is the public face; the code is in :mod:`edi._segments` (delimiters, reader),
:mod:`edi._interchange` (envelope walk) and :mod:`edi._writer` (writing). The element helpers
(:func:`element`, :func:`optional`, :func:`parse_d8`) for the set parsers are here.

Bytes are decoded as Latin-1 so that every byte is one character and offsets are byte offsets.
"""

from __future__ import annotations

from datetime import date

from edi._interchange import (
    Envelope,
    Finding,
    FunctionalGroup,
    Interchange,
    TransactionSet,
    TransactionSummary,
    open_x12,
)
from edi._segments import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Segment,
    SegmentReader,
    detect_delimiters,
    is_digits,
    read_segments,
)
from edi._writer import (
    Element,
    GroupSpec,
    InterchangeSpec,
    TransactionSpec,
    build_interchange,
    build_sets,
    format_segment,
)
from edi.errors import TransactionError

__all__ = [
    "DEFAULT_DELIMITERS",
    "Delimiters",
    "Element",
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
    "TransactionSummary",
    "build_interchange",
    "build_sets",
    "detect_delimiters",
    "element",
    "format_segment",
    "is_digits",
    "open_x12",
    "optional",
    "parse_d8",
    "read_segments",
]

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
    if len(text) != 8 or not is_digits(text):
        raise TransactionError("date is not CCYYMMDD", segment_number=segment_number, segment_id=segment_id,
                               element=element_position, expected="CCYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise TransactionError("date is not a calendar date", segment_number=segment_number,
                               segment_id=segment_id, element=element_position, expected="CCYYMMDD") from None
