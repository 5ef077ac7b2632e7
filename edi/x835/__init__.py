"""835 Health Care Claim Payment/Advice, 005010X221A1: streaming parser, balancing, builder.

Modules: :mod:`edi.x835.model` (dataclasses and balancing), :mod:`edi.x835.parse` (reader and
inspect JSON), :mod:`edi.x835.build` (builder); everything public is re-exported here.

Reading::

    for ts in open_x12(data):
        if ts.set_id == "835":
            reader = read_835(ts)          # header (payment, payer, payee) is read here
            for claim in reader:           # claims are built one at a time, never all held
                ...
            reader.provider_adjustments    # the PLB adjustments, once iterated
            reader.balance()               # list[BalanceFinding]; empty when the file adds up

Balancing reports what does not add up (:class:`BalanceFinding`); the parser never changes an
amount and never invents a segment to make a file balance:

* line: SVC02 - sum(line CAS) = SVC03
* claim: CLP03 - sum(claim CAS) - sum(line CAS) = CLP04 (without lines: CLP03 - claim CAS = CLP04)
* transaction: sum(CLP04) - sum(PLB amounts) = BPR02 (negated when BPR03 is D)

Writing: :func:`build_835` (a whole interchange) and :func:`transaction_835` (one set's body for
:func:`edi.x12.build_interchange`) write exactly the dataclasses they are given; nothing is
computed except the envelope counts.

Patient and insured names (NM1*QC / NM1*IL) are kept in :class:`Name` fields for claim matching;
they are left out of ``repr`` and never appear in an error message.
"""

from __future__ import annotations

from edi._envelope import EnvelopeSpec
from edi.x835.build import build_835, transaction_835
from edi.x835.model import (
    IMPLEMENTATION,
    Adjustment,
    BalanceFinding,
    ClaimPayment,
    Contact,
    Name,
    Party,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServiceLine,
    balance_claim,
)
from edi.x835.parse import Remittance835Reader, inspect_835, parse_835, read_835

__all__ = [
    "IMPLEMENTATION",
    "Adjustment",
    "BalanceFinding",
    "ClaimPayment",
    "Contact",
    "EnvelopeSpec",
    "Name",
    "Party",
    "Payment",
    "ProviderAdjustment",
    "Remittance835",
    "Remittance835Reader",
    "ServiceLine",
    "balance_claim",
    "build_835",
    "inspect_835",
    "parse_835",
    "read_835",
    "transaction_835",
]
