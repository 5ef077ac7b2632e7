"""One simulator pass: the mailbox, the payers' memory, the seed and the date, the payers' rules, and
the bookkeeping every answer shares (counts, answer files written, control numbers, claims forwarded
to a next payer that still has to answer them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time

from edi.x999 import EnvelopeSpec
from pipelines.simulator.payers import DEFAULT_RULES, PayerRules
from pipelines.simulator.reading import SubmittedBatch, SubmittedClaim
from pipelines.simulator.state import SimulatorState
from transports.local import LocalMailbox

__all__ = ["Context", "ToPay"]

ToPay = dict[str, list[tuple[SubmittedBatch, SubmittedClaim, str]]]  # payer id: (batch, claim, payer claim no.)


class Context:
    """What the answering functions share; ``created`` (noon of ``as_of``) stamps every envelope."""

    def __init__(self, box: LocalMailbox, state: SimulatorState, *, download_dir: str, seed: int, as_of: date,
                 payers: Mapping[str, PayerRules]) -> None:
        self.box = box
        self.state = state
        self.download_dir = download_dir
        self.seed = seed
        self.as_of = as_of
        self.created = datetime.combine(as_of, time(12, 0))
        self.payers = payers
        self.counts: dict[str, int] = {}
        self.written: list[str] = []
        self.crossovers: ToPay = {}  # claims forwarded to a next payer, which still has to answer them

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def rules(self, payer_id: str) -> PayerRules:
        return self.payers.get(payer_id, DEFAULT_RULES)

    def write(self, kind: str, stem: str, text: str) -> None:
        """Put an answer file ``NNNNNN_<kind>_<stem>.x12`` into the download folder."""
        name = f"{self.state.next('file'):06d}_{kind}_{stem}.x12"
        self.box.put(self.download_dir, name, text.encode("latin-1"))
        self.written.append(name)
        self.count(f"files_{kind}")

    def envelope(self, sender: str, receiver: str, *, group: bool = True) -> EnvelopeSpec:
        """The envelope of an answer: the next interchange and (unless a TA1) group control numbers."""
        isa_control = self.state.next("isa")
        return EnvelopeSpec(isa_control=isa_control, gs_control=self.state.next("gs") if group else None,
                            created=self.created, sender=sender[:15], receiver=receiver[:15])
