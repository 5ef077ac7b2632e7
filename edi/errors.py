"""Errors raised by the X12 layer.

The tree::

    EdiError                         anything wrong with X12 content
    ├── X12SyntaxError               the bytes are not well-formed X12
    │   ├── DelimiterError           the ISA is short or declares unusable delimiters
    │   └── EnvelopeError            ISA/GS/ST and IEA/GE/SE do not agree (counts, control numbers, nesting)
    ├── TransactionError             a transaction set's content breaks its implementation guide
    │                                (a required segment missing, an element of the wrong form)
    └── BuildError                   a builder was given data it cannot write as valid X12

Every error carries where it happened: the segment number in the file (1-based), the segment id,
the element position (1-based, 0 when the whole segment is meant), the byte offset of the segment's
first byte, and what was expected. ``str(err)`` is one line an operator can act on.
"""

from __future__ import annotations

__all__ = [
    "BuildError",
    "DelimiterError",
    "EdiError",
    "EnvelopeError",
    "TransactionError",
    "X12SyntaxError",
]


class EdiError(Exception):
    """Base of every X12 content error; carries the position it refers to."""

    def __init__(
        self,
        message: str,
        *,
        segment_number: int | None = None,
        segment_id: str | None = None,
        element: int | None = None,
        offset: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.segment_number = segment_number
        self.segment_id = segment_id
        self.element = element
        self.offset = offset
        self.expected = expected
        super().__init__(str(self))

    def position(self) -> str:
        """The 'where' part of the message: segment number, id, element, byte offset."""
        parts = []
        if self.segment_number is not None:
            parts.append(f"segment {self.segment_number}")
        if self.segment_id:
            parts.append(self.segment_id + (f"{self.element:02d}" if self.element else ""))
        elif self.element:
            parts.append(f"element {self.element}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "segment_number": self.segment_number,
            "segment_id": self.segment_id,
            "element": self.element,
            "offset": self.offset,
            "expected": self.expected,
        }

    def __str__(self) -> str:
        where = self.position()
        text = f"{where}: {self.message}" if where else self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class X12SyntaxError(EdiError):
    """The data is not well-formed X12."""


class DelimiterError(X12SyntaxError):
    """The ISA segment is short, missing, or declares delimiters that cannot be used."""


class EnvelopeError(X12SyntaxError):
    """Envelope headers and trailers disagree: a count, a control number, or the nesting."""


class TransactionError(EdiError):
    """A transaction set's content does not follow its implementation guide."""


class BuildError(EdiError):
    """A builder was handed data that cannot be written as valid X12."""
