"""The payers behind the clearinghouse: what each knows and does (:class:`PayerRules`), the front-end
member id check, and the rules read from a practice's configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipelines.simulator.amounts import ZERO

__all__ = ["DEFAULT_RULES", "PSYCHOTHERAPY_CODES", "PayerRules", "payer_rules_from_config", "valid_member_id"]

PSYCHOTHERAPY_CODES = frozenset({"90832", "90833", "90834", "90836", "90837", "90838", "90846", "90847",
                                 "90849", "90853"})
_MEMBER_ID = re.compile(r"^[A-Z0-9]{6,20}$")


@dataclass(frozen=True)
class PayerRules:
    """What one payer knows and does; keyed by the payer id we send (2010BB NM109)."""

    name: str = ""
    visit_limit_per_year: int = 30  # psychotherapy visits per member and calendar year; 0 = none
    auth_required: frozenset[str] = frozenset({"90837", "H0015"})
    known_auths: frozenset[str] | None = None  # None: every number not in unknown_auths is known
    unknown_auths: frozenset[str] = frozenset({"UNKNOWN", "PENDING", "NONE"})
    allowed_share: Decimal = Decimal("0.75")  # fee schedule: allowed = charge x share (+/- 5% by code)
    copay: Decimal = Decimal("25.00")  # PR 3, once per claim
    coinsurance: Decimal = Decimal("0")  # PR 2, share of the allowed amount (0.20 = 20%)
    insurance_type: str = "PR"  # 271 EB04
    necessity_denial_rate: float = 0.04  # share of lines denied CO 50
    inactive_rate: float = 0.05  # share of members a 271 reports inactive
    interest_rate: float = 0.25  # share of 835s with a PLB L6 interest payment
    crossover_rate: float = 0.2  # share of claims naming a next payer that this payer forwards (CLP02 19)
    cob_share: Decimal = Decimal("0.80")  # as secondary/tertiary: share of what earlier payers left it pays
    cob_denial_rate: float = 0.08  # as secondary/tertiary: share of claims denied CO 22 (another payer first)

    def knows_auth(self, number: str | None) -> bool:
        if not number:
            return False
        if number.upper() in self.unknown_auths:
            return False
        return self.known_auths is None or number in self.known_auths


DEFAULT_RULES = PayerRules()


def valid_member_id(member_id: str | None) -> bool:
    """A member id a payer's front end accepts: 6-20 letters or digits, not one repeated character."""
    m = (member_id or "").upper()
    return bool(_MEMBER_ID.match(m)) and len(set(m)) > 1


def payer_rules_from_config(config: Any, overrides: Mapping[str, Mapping[str, Any]] | None = None
                            ) -> dict[str, PayerRules]:
    """Payer rules keyed by payer id from a loaded :class:`pipelines.config.Config` (visit limits,
    auth codes); ``overrides`` (by the config's payer ``id``) sets other PayerRules fields.

    Duck-typed on purpose: the simulator imports nothing of ``pipelines`` outside itself."""
    out: dict[str, PayerRules] = {}
    for p in config.payers.values():
        values: dict[str, Any] = {"name": p.name, "visit_limit_per_year": p.visit_limit_per_year,
                                  "auth_required": frozenset(p.auth_required)}
        if p.claim_filing_indicator == "MC":
            values.update(insurance_type="MC", copay=ZERO)
        values.update((overrides or {}).get(p.id, {}))
        out[p.payer_id] = PayerRules(**values)
    return out
