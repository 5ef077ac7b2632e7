"""Every file the clearinghouse simulator writes validates with pyx12 at zero errors.

Integration testers use the simulator's answers as fixtures, so a realistic mailbox is answered over
two passes (837P with primary claims naming other coverage, secondary and tertiary claims, denials,
a dependent, a member id the front end refuses, a set the 999 rejects, unreadable interchanges, 270s;
then a replacement, a void and a 276) and every answer goes through :func:`edi.validate.validate_x12`
(pyx12's maps plus the project's 270/271 maps). Only the 277 (005010X212) has no map anywhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from edi.validate import validate_x12
from edi.x837p import Address, Patient, Payer
from pipelines.simulator import PayerRules
from tests.unit.test_simulator import (
    AETNA,
    BCBS,
    BCBS_T,
    FIXTURES,
    MEDICAID,
    MEDICAID_S,
    Mailbox,
    _without_hi,
    _wrong_iea_count,
    claim,
    coverage,
    secondary,
    tertiary,
    with_coverage,
    x837,
)

D = Decimal
PAYERS = {
    AETNA: PayerRules(name="Aetna", necessity_denial_rate=0.2, interest_rate=1.0, crossover_rate=0.5),
    MEDICAID: PayerRules(name="State Medicaid", copay=D("0"), insurance_type="MC", cob_denial_rate=0.3,
                         inactive_rate=0.5),
    BCBS: PayerRules(name="Blue Cross", copay=D("0"), coinsurance=D("0.20"), crossover_rate=1.0, cob_denial_rate=0.0),
}
_KID = Patient("DOE", "SAM", date(2014, 3, 9), "M", Address("1 Main St", "Los Angeles", "CA", "900120000"), "child")


def _first_mailbox_pass(box: Mailbox) -> None:
    """837P (primaries with and without other coverage, secondaries, tertiaries, denials, a rejection),
    a set the 999 rejects, two unreadable interchanges, two 270s."""
    primaries = [
        claim("C000001"),
        claim("C000002", procedure="90837", charge="180.00", member="W200300400"),  # no auth: CO 197
        replace(claim("C000003", member="W300400500", procedure="90832", charge="100.00"), patient=_KID),
        claim("C000004", member="12345"),  # refused by the front end: 277CA A7
        *(with_coverage(claim(f"C00001{n}", member=f"W40050060{n}", day=date(2026, 11, 1 + n)), MEDICAID_S,
                        BCBS_T) for n in range(4)),
        *(with_coverage(claim(f"C00002{n}", member=f"W50060070{n}"), MEDICAID_S) for n in range(3)),
    ]
    bcbs_primary = with_coverage(
        replace(claim("C000030", member="B111222333"), payer=Payer("BLUE CROSS", BCBS, "BL")),
        coverage("S", AETNA, "AETNA", "W600700800"))
    chain = [secondary(f"C00004{n}", member=f"M20030040{n}", day=date(2026, 10, 20 + n)) for n in range(4)]
    chain += [tertiary("C000050"), tertiary("C000051", secondary_left=(("OA", "23", "110.00"), ("PR", "2", "10.00")))]
    box.drop(x837(*primaries, bcbs_primary, *chain), "claims.x12")
    box.drop(_without_hi(x837(claim("C000090"))), "no_hi.x12")
    box.drop(b"ISA*00*garbage", "garbage.x12")
    box.drop(_wrong_iea_count(x837(claim("C000091"))), "bad_iea.x12")
    for name in ("single_subscriber", "subscribers_and_dependent"):
        box.drop((FIXTURES / "270" / f"{name}.x12").read_bytes(), f"{name}.x12")


def _second_mailbox_pass(box: Mailbox) -> None:
    """A replacement and a void of paid claims, and a 276."""
    pcn = {c.claim_id: c.payer_claim_number for _r, cs in box.remittances() for c in cs if c.status_code != "22"}
    box.drop(x837(replace(claim("C000101"), frequency_code="7", payer_claim_number=pcn["C000001"]),
                  replace(claim("C000102", procedure="90832", charge="100.00", member="W300400500"), patient=_KID,
                          frequency_code="8", payer_claim_number=pcn["C000003"])), "corrections.x12")
    box.drop((FIXTURES / "276" / "subscriber_and_dependent.x12").read_bytes(), "status.x12")


def _kind(name: str) -> str:
    return name.split("_")[1]


@pytest.mark.parametrize("seed", [1, 7], ids=lambda s: f"seed_{s}")
def test_every_answer_validates_with_pyx12(tmp_path: Path, seed: int) -> None:
    """Every 999, TA1, 277CA, 835, 271 and 277 the simulator writes for a realistic mailbox has zero pyx12
    errors (the 277 X212 is the only file pyx12 has no map for), and the 835s cover every claim shape."""
    box = Mailbox(tmp_path / "mailbox")
    _first_mailbox_pass(box)
    first = box.run(seed=seed, payers=PAYERS)
    _second_mailbox_pass(box)
    second = box.run(seed=seed, payers=PAYERS, as_of=date(2026, 11, 17))
    written = [*first.written, *second.written]
    assert {_kind(n) for n in written} == {"999", "TA1", "277CA", "835", "271", "277"}
    failures = {}
    for name in written:
        result = validate_x12(box.root / "outbound" / name)
        if _kind(name) == "277":
            assert result.not_validated == ["not validated: no map for 005010X212"], name
        else:
            assert result.not_validated == [], name
        if not result.ok or result.errors:
            failures[name] = [str(e) for e in result.errors]
    assert failures == {}
    statuses = {c.status_code for _r, cs in box.remittances() for c in cs}
    assert {"1", "2", "3", "4", "19", "22"} <= statuses
    assert all(r.balance() == [] for r, _cs in box.remittances())
    assert any(a.code == "R" for a in box.acks())
    assert {r.payer.id for r, _cs in box.remittances()} == {AETNA, MEDICAID, BCBS}
