"""271 eligibility benefit response (005010X279A1): parser, inspect JSON and builder.

Structure read::

    2000A information source (payer)       AAA, NM1 (2100A), AAA
    2000B information receiver (provider)  NM1 (2100B), AAA
    2000C subscriber                       TRN, NM1 (2100C), REF, AAA, DMG, DTP, 2110C benefits
    2000D dependent                        TRN, NM1 (2100D), REF, AAA, DMG, DTP, 2110D benefits
          2110C/D: EB, HSD, REF, DTP, AAA, MSG, and 2115/2120 (III, LS, NM1, LE)

:mod:`edi.x271.model` holds the dataclasses and code lists, :mod:`edi.x271.parse` the parser and
inspect JSON, :mod:`edi.x271.build` the builder; everything public is re-exported here.
:func:`parse_271` returns an :class:`EligibilityResponse` with one :class:`Member` per subscriber or
dependent; :func:`inspect_271` gives its JSON form; :func:`build_271` writes the dataclasses back.

Member ids, names and dates of birth are PHI: they are fields here because matching needs them,
and no error message of this module contains them.
"""

from __future__ import annotations

from edi._envelope import EnvelopeSpec
from edi.x271.build import build_271
from edi.x271.model import (
    ACTIVE_CODES,
    BENEFIT_CODES,
    COVERAGE_LEVELS,
    FOLLOW_UP_CODES,
    IMPLEMENTATION,
    INACTIVE_CODES,
    QUANTITY_QUALIFIERS,
    REJECT_REASONS,
    TIME_PERIODS,
    Benefit,
    BenefitDate,
    EligibilityResponse,
    Limit,
    Member,
    Party,
    Rejection,
    Trace,
)
from edi.x271.parse import inspect_271, parse_271

__all__ = [
    "ACTIVE_CODES",
    "BENEFIT_CODES",
    "COVERAGE_LEVELS",
    "FOLLOW_UP_CODES",
    "INACTIVE_CODES",
    "IMPLEMENTATION",
    "QUANTITY_QUALIFIERS",
    "REJECT_REASONS",
    "TIME_PERIODS",
    "Benefit",
    "BenefitDate",
    "EligibilityResponse",
    "EnvelopeSpec",
    "Limit",
    "Member",
    "Party",
    "Rejection",
    "Trace",
    "build_271",
    "inspect_271",
    "parse_271",
]
