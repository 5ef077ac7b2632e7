"""pipelines.rules.holds.explain: every held claim explains itself."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.rules.coding import CODING_HOLD_ORDER
from pipelines.rules.holds import MEANINGS, AuthorizationFacts, HoldContext, explain
from pipelines.rules.scrub import HOLD_ORDER

AUTH = AuthorizationFacts("AUTH-200", date(2025, 1, 1), date(2025, 12, 31), 20, ("90837",))
CTX = HoldContext(date_of_service=date(2026, 5, 5), payer_id="AETNA", procedures=("90837",),
                  authorization_number="AUTH-200", authorization=AUTH, visit_limit_per_year=20,
                  filing_deadline=date(2026, 8, 3))


@pytest.mark.parametrize(("reason", "ctx", "expected"), [
    ("AUTH_EXPIRED", CTX, "AUTH_EXPIRED: date of service 2026-05-05 is outside authorization AUTH-200 "
                          "(2025-01-01 to 2025-12-31, 20 visits, for 90837)"),
    ("AUTH_EXHAUSTED", CTX, "AUTH_EXHAUSTED: all 20 visits of authorization AUTH-200 (2025-01-01 to 2025-12-31, "
                            "20 visits, for 90837) are used"),
    ("AUTH_NOT_FOR_SERVICE", HoldContext(procedures=("H0015",), authorization=AUTH),
     "AUTH_NOT_FOR_SERVICE: authorization AUTH-200 (2025-01-01 to 2025-12-31, 20 visits, for 90837) does not "
     "cover H0015"),
    ("AUTH_MISSING", HoldContext(payer_id="AETNA", procedures=("90837",)),
     "AUTH_MISSING: AETNA requires a prior authorization for 90837; the encounter gives no authorization number"),
    ("AUTH_MISSING", HoldContext(payer_id="AETNA", procedures=("90837",), authorization_number="X9"),
     "AUTH_MISSING: AETNA requires a prior authorization for 90837; authorization X9 is not on file for this "
     "patient and payer"),
    ("VISIT_LIMIT_REACHED", HoldContext(date_of_service=date(2026, 5, 26), payer_id="MEDICAID",
                                        visit_limit_per_year=20),
     "VISIT_LIMIT_REACHED: the patient has used all 20 visits MEDICAID allows per year in 2026"),
    ("TIMELY_FILING_EXPIRED", CTX, "TIMELY_FILING_EXPIRED: the timely-filing deadline 2026-08-03 has passed"),
    ("DX_INVALID", CTX, f"DX_INVALID: {MEANINGS['DX_INVALID']}"),
    ("AUTH_EXPIRED", None, f"AUTH_EXPIRED: {MEANINGS['AUTH_EXPIRED']}"),  # authorization unknown: the meaning
    ("VISIT_LIMIT_REACHED", None, f"VISIT_LIMIT_REACHED: {MEANINGS['VISIT_LIMIT_REACHED']}"),
    ("SOMETHING_NEW", None, "SOMETHING_NEW: no description is known for this reason"),
])
def test_explain(reason: str, ctx: HoldContext | None, expected: str) -> None:
    assert explain(reason, ctx) == expected


def test_every_hold_reason_has_a_meaning() -> None:
    assert set(HOLD_ORDER) | set(CODING_HOLD_ORDER) <= set(MEANINGS)
