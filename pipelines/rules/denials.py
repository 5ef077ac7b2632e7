"""Denial categories and suggested actions: one adjustment's (group, CARC, RARCs) -> (category, action).

Choices where the contract is silent:

* coordination of benefits (22, 23, 109, B11) -> verify_eligibility (find the right payer first);
* benefit limits (119, 149, 35, 278) -> appeal, or bill_patient when the group is PR;
* credentialing (B7, 52, 170, 185) -> correct_and_resubmit (after the enrolment is fixed);
* contractual codes (45, 253) -> other / write_off; any other CARC -> other / appeal (review it).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ACTIONS", "CARC_CATEGORIES", "CATEGORIES", "RARC_HINTS", "STATES", "categorize"]

CATEGORIES = ("authorization", "medical_necessity", "coding", "eligibility", "duplicate", "timely_filing",
              "coordination_of_benefits", "benefit_limit", "missing_information", "credentialing", "underpaid",
              "other")
"""Work item categories; ``underpaid`` (a line allowed below its contract rate) comes from
:mod:`pipelines.rules.underpayment`, never from :func:`categorize`."""
ACTIONS = ("correct_and_resubmit", "appeal", "bill_patient", "write_off", "verify_eligibility")
STATES = ("open", "resubmitted", "appealed", "closed")

_C, _A, _B, _W, _V = ACTIONS

CARC_CATEGORIES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("197", "15", "62", "198", "39"), ("authorization", _C)),
    **dict.fromkeys(("50", "55", "56", "150", "151", "152"), ("medical_necessity", _A)),
    **dict.fromkeys(("4", "5", "6", "11", "58", "97", "146", "167", "181", "182", "189", "234", "236"),
                    ("coding", _C)),
    **dict.fromkeys(("16", "226", "252"), ("missing_information", _C)),
    **dict.fromkeys(("26", "27", "31", "32", "33", "177", "200", "204"), ("eligibility", _V)),
    "18": ("duplicate", _W),
    "29": ("timely_filing", _A),
    **dict.fromkeys(("22", "23", "109", "B11"), ("coordination_of_benefits", _V)),
    **dict.fromkeys(("119", "149", "35", "278"), ("benefit_limit", _A)),
    **dict.fromkeys(("B7", "52", "170", "185"), ("credentialing", _C)),
    **dict.fromkeys(("45", "253"), ("other", _W)),
}
"""CARC -> (category, action) for CO/OA/PI adjustments."""

RARC_HINTS: dict[str, tuple[str, str]] = {
    "N54": ("authorization", _C),
    "M62": ("authorization", _C),
    "N30": ("eligibility", _V),
    "M76": ("missing_information", _C),
    "N290": ("credentialing", _C),
}
"""RARC -> (category, action), used when the CARC maps to nothing specific."""


def categorize(group: str, reason: str, remarks: Sequence[str] = ()) -> tuple[str, str]:
    """The denial category and suggested action of one adjustment (group, CARC, its RARCs)."""
    reason = reason.strip().upper()
    category, action = CARC_CATEGORIES.get(reason, ("other", _A))
    if category == "other" and reason not in ("45", "253"):
        hint = next((RARC_HINTS[r.strip().upper()] for r in remarks if r.strip().upper() in RARC_HINTS), None)
        if hint is not None:
            category, action = hint
    if group.strip().upper() == "PR" and category in ("benefit_limit", "other") and action != _W:
        action = _B
    return category, action
