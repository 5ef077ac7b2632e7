"""X12 writing: :func:`format_segment`, the specs of what to write (:class:`InterchangeSpec`,
:class:`GroupSpec`, :class:`TransactionSpec`) and :func:`build_interchange`, which computes SE01,
GE01 and IEA01 from what it wrote. Builders call it through :mod:`edi._envelope`.

Public names are re-exported by :mod:`edi.x12`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from edi._segments import DEFAULT_DELIMITERS, ISA_LENGTH, Delimiters

# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

Element = str | Sequence[str] | None
"""An element to write: text, a composite (a sequence of components), or None for empty."""


def _element(v: Element, component: str) -> str:
    if isinstance(v, str):
        return v
    comps = [c or "" for c in v or ()]
    while comps and not comps[-1]:
        comps.pop()
    return component.join(comps)


def format_segment(values: Sequence[Element], d: Delimiters = DEFAULT_DELIMITERS) -> str:
    """One segment without its terminator; trailing empty elements and components are dropped."""
    component = d.component
    out = [v if v.__class__ is str else "" if v is None else _element(v, component) for v in values]
    n = len(out)
    while n > 1 and not out[n - 1]:
        n -= 1
    return d.element.join(out if n == len(out) else out[:n])


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    """A transaction set to write: its body is every segment between ST and SE, each as its elements
    (segment id first) or as its text already written with the interchange's delimiters (no
    terminator), which is taken as it is."""

    set_id: str
    control_number: str
    body: Sequence[Sequence[Element] | str]
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
    out = [header]  # segments without their terminators, joined once at the end
    n_groups = 0
    for g in groups:
        n_groups += 1
        out.append(format_segment(["GS", g.functional_id, g.sender_code, g.receiver_code, g.date, g.time,
                                   str(g.control_number), "X", g.version], d))
        n_sets = 0
        for t in g.transactions:
            n_sets += 1
            out.append(format_segment(["ST", t.set_id, t.control_number, t.implementation], d))
            out.extend([seg if seg.__class__ is str else format_segment(seg, d) for seg in t.body])
            out.append(format_segment(["SE", str(len(t.body) + 2), t.control_number], d))
        out.append(format_segment(["GE", str(n_sets), str(g.control_number)], d))
    out.append(format_segment(["IEA", str(n_groups), f"{isa.control_number:09d}"], d))
    return term.join(out) + term


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


