"""Any X12 file as a JSON-ready tree (``edi inspect``): envelopes, and each set's parsed content.

Every set with a parser prints its parsed content (CONTRACT section 6): 835, 999, 277/277CA, 271,
and the 837P, 270 and 276 we send; any other set prints its envelope facts and segment count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from edi.x12 import Envelope, Interchange, TransactionSet
from edi.x270 import inspect_270
from edi.x271 import inspect_271
from edi.x276 import inspect_276
from edi.x277 import inspect_277
from edi.x835 import inspect_835
from edi.x837p import inspect_837p
from edi.x999 import inspect_999, inspect_ta1

__all__ = ["INSPECTORS", "inspect_stream"]

# set id -> the parser that prints it; any other set prints its envelope facts
INSPECTORS: dict[str, Callable[[TransactionSet], dict[str, Any]]] = {
    "835": inspect_835,
    "999": inspect_999,
    "277": inspect_277,
    "271": inspect_271,
    "837": inspect_837p,
    "270": inspect_270,
    "276": inspect_276,
}


def _generic(ts: TransactionSet) -> dict[str, Any]:
    n = sum(1 for _ in ts.segments)
    return {"set": ts.set_id, "control_number": ts.control_number, "implementation": ts.implementation,
            "segments": n}


def inspect_stream(stream: BinaryIO, *, strict: bool = True) -> dict[str, Any]:
    """Parse every interchange in ``stream``; raises edi.errors.EdiError on broken X12 (strict)."""
    env = Envelope(stream, strict=strict)
    by_isa: dict[int, dict[str, Any]] = {}
    groups: dict[int, dict[str, Any]] = {}

    def isa_node(isa: Interchange) -> dict[str, Any]:
        node = by_isa.get(id(isa))
        if node is None:
            node = {"sender": isa.sender_id, "receiver": isa.receiver_id,
                    "control_number": isa.control_number, "date": isa.date, "time": isa.time,
                    "usage": isa.usage, "delimiters": {
                        "element": isa.delimiters.element, "repetition": isa.delimiters.repetition,
                        "component": isa.delimiters.component, "segment": isa.delimiters.segment},
                    "groups": []}
            by_isa[id(isa)] = node
        return node

    for ts in env:
        inode = isa_node(ts.interchange)
        g = groups.get(id(ts.group))
        if g is None:
            g = {"functional_id": ts.group.functional_id, "control_number": ts.group.control_number,
                 "version": ts.group.version, "transactions": []}
            groups[id(ts.group)] = g
            inode["groups"].append(g)
        fn = INSPECTORS.get(ts.set_id)
        parsed = fn(ts) if fn else _generic(ts)
        g["transactions"].append(parsed)
    # interchanges with no groups (a TA1 alone), and segment counts from the envelope walk
    for isa in env.interchanges:
        inode = isa_node(isa)
        if isa.ta1:
            inode["ta1"] = [inspect_ta1(seg, isa.delimiters, n) for seg, n in zip(isa.ta1, isa.ta1_numbers, strict=True)]
        for gnode, grp in zip(inode["groups"], isa.groups, strict=False):
            for tnode, summary in zip(gnode["transactions"], grp.transactions, strict=False):
                tnode.setdefault("segment_count", summary.segment_count)
    result: dict[str, Any] = {"interchanges": [isa_node(isa) for isa in env.interchanges]}
    if env.findings:
        result["findings"] = [str(f) for f in env.findings]
    return result
