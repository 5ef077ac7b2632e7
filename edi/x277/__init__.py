"""277CA claim acknowledgment (005010X214) and 277 claim status response (005010X212).

The two guides share the HL structure, so one parser serves both:

    2000A information source (payer or clearinghouse)  2200A TRN + receipt/process dates (277CA)
    2000B information receiver (us)                    2200B TRN + batch STC
    2000C billing/service provider                     2200C TRN + provider STC
    2000D patient (277CA, HL PT) or subscriber (277, HL 22)
    2000E dependent (277 only, HL 23)
          2200D/2200E claim: TRN, STC..., REF*1K, REF*D9, REF*EJ, DTP*472
          2220D/2220E line: SVC, STC..., REF*FJ, DTP*472

:func:`parse_277` returns a :class:`ClaimStatusReport`; :func:`inspect_277` its JSON form.
:func:`build_277ca` and :func:`build_277` write the same dataclasses back as X12.

Modules: :mod:`edi.x277.model` (dataclasses and code lists), :mod:`edi.x277.parse` (parser and
inspect JSON), :mod:`edi.x277.build` (builders); everything public is re-exported here.

In a 277CA the claim's TRN02 is our patient control number (CLM01). In a 277 TRN02 echoes the
276's trace and REF*EJ, when present, carries CLM01; :attr:`ClaimStatus.claim_id` picks the one that
names our claim. Member ids and names are PHI: they are fields, never put in error messages.
"""

from __future__ import annotations

from edi._envelope import EnvelopeSpec
from edi.x277.build import build_277, build_277ca
from edi.x277.model import (
    CATEGORY_CODES,
    REJECTED_CATEGORIES,
    X212,
    X214,
    ClaimStatus,
    ClaimStatusReport,
    LineStatus,
    Party,
    Person,
    ProviderStatus,
    Status,
    StatusCode,
)
from edi.x277.parse import inspect_277, parse_277

__all__ = [
    "CATEGORY_CODES",
    "REJECTED_CATEGORIES",
    "X212",
    "X214",
    "ClaimStatus",
    "ClaimStatusReport",
    "EnvelopeSpec",
    "LineStatus",
    "Party",
    "Person",
    "ProviderStatus",
    "Status",
    "StatusCode",
    "build_277",
    "build_277ca",
    "inspect_277",
    "parse_277",
]
