"""Answering one file the way a clearinghouse does: a TA1 when the interchange cannot be read, else the
999, then per accepted 837P the 277CA and each payer's 835 (then the 835s of the payers that claims
were forwarded to), per 270 the 271, per 276 the 277."""

from __future__ import annotations

from pathlib import Path

from pipelines.simulator.acks import acknowledge, answer_837, answer_unreadable
from pipelines.simulator.context import Context
from pipelines.simulator.eligibility import answer_270
from pipelines.simulator.reading import FileUnreadable, read_file
from pipelines.simulator.remittance import pay
from pipelines.simulator.status import answer_276

__all__ = ["answer_file"]


def answer_file(ctx: Context, name: str, data: bytes) -> None:
    """Write into the download folder every answer to the file ``name`` holding ``data``."""
    stem = Path(name).stem
    try:
        isa, groups = read_file(data)
    except FileUnreadable as exc:
        answer_unreadable(ctx, data, exc.note, stem)
        return
    us, them = isa.sender_id, isa.receiver_id
    accepted = acknowledge(ctx, groups, them, us, stem)
    batches = [p for sid, _s, p in accepted if sid == "837"]
    inquiries = [p for sid, _s, p in accepted if sid == "270"]
    statuses = [p for sid, _s, p in accepted if sid == "276"]
    if batches:
        to_pay = answer_837(ctx, batches, them, us, stem)
        for payer_id, items in to_pay.items():
            pay(ctx, payer_id, items, them, us, stem)
        while ctx.crossovers:  # a forwarded claim's next payer answers after the one that forwarded it
            forwarded, ctx.crossovers = ctx.crossovers, {}
            for payer_id, items in forwarded.items():
                pay(ctx, payer_id, items, them, us, stem)
    if inquiries:
        answer_270(ctx, inquiries, them, us, stem)
    if statuses:
        answer_276(ctx, statuses, them, us, stem)
