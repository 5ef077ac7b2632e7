"""Underpaid work items (CONTRACT section 8) opened by 835 posting, on SQLite and PostgreSQL.

The payer AETNA gets ``contract_rates``; the 835s are the posting fixtures (built as in
tests/integration/test_posting.py). The fixture ``payer_claim_line_cas`` allows line L000456 (90837)
paid 100.00 + PR 20.00 = 120.00, and L000457 (90791) 127.50 + 57.50 = 185.00.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from edi.x12 import open_x12
from edi.x835 import Adjustment as Adj835
from edi.x835 import parse_835
from models import Denial
from pipelines.cli.app import App
from pipelines.cli.claims import cmd_denials_list
from pipelines.config import load_config
from pipelines.usecases.report import build_report
from tests.conftest import FIXTURES
from tests.integration.test_posting import (
    PAID_LINES,
    add_claim,
    fixture,
    ingest,
    negated,
    one,
    remittance_text,
)

D = Decimal
MakeApp = Callable[[dict[str, str]], App]


@pytest.fixture
def rated_app(tmp_path: Path, db_url: str) -> Iterator[MakeApp]:
    """Makes an App over the sample config with AETNA's ``contract_rates`` set as given."""
    apps: list[App] = []

    def make(rates: dict[str, str]) -> App:
        cfg_dir = tmp_path / "practice"
        (cfg_dir / "var" / "mailbox").mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "edi.toml", cfg_dir / "edi.toml")
        text = (cfg_dir / "edi.toml").read_text()
        table = ", ".join(f'"{code}" = {amount}' for code, amount in rates.items())
        anchor = 'id = "AETNA"\n'
        assert anchor in text
        text = text.replace(anchor, anchor + f"contract_rates = {{ {table} }}\n" if rates else anchor)
        (cfg_dir / "edi.toml").write_text(text)
        app = App(load_config(cfg_dir / "edi.toml", env={"EDI_DATABASE_URL": db_url}))
        apps.append(app)
        return app

    yield make
    for a in apps:
        a.close()


def denials(app: App, *where: Any) -> list[Denial]:
    with app.transaction() as s:
        return list(s.scalars(select(Denial).where(*where).order_by(Denial.id)))


def underpaid(app: App) -> list[tuple[str, str, Decimal, str]]:
    """(group, reason, amount, state) of every underpaid item."""
    return [(d.group, d.reason, d.amount, d.state) for d in denials(app, Denial.category == "underpaid")]


def listed(app: App) -> list[dict[str, Any]]:
    """`edi denials list --json` (open items)."""
    app.json, app.out = True, io.StringIO()
    assert cmd_denials_list(app, argparse.Namespace(state=None)) == 0
    items: list[dict[str, Any]] = json.loads(app.out.getvalue())["denials"]
    return items


def paid_claim(app: App) -> None:
    """C000123 (L000456 90837, L000457 90791) posted from the ``payer_claim_line_cas`` fixture."""
    with app.transaction() as s:
        add_claim(s, "C000123", PAID_LINES)
    f, _ = ingest(app, fixture("payer_claim_line_cas"))
    assert f.state == "processed"


class TestUnderpaid:
    def test_below_rate_opens_one_item_listed_like_any_other(self, rated_app: MakeApp) -> None:
        """90837 allowed 120.00 against 142.50: one underpaid item of 22.50; 90791 has no rate."""
        app = rated_app({"90837": "142.50"})
        paid_claim(app)
        assert one(app, "C000123").status == "paid"
        [item] = listed(app)
        assert {k: item[k] for k in ("claim_id", "line_control_number", "group", "reason", "remarks", "amount",
                                     "category", "action", "state")} == {
            "claim_id": "C000123", "line_control_number": "L000456", "group": "CO", "reason": "45",
            "remarks": ["N381"], "amount": "22.50", "category": "underpaid", "action": "appeal", "state": "open"}

    def test_rate_times_units(self, rated_app: MakeApp) -> None:
        """A two-unit line is compared with twice the rate."""
        app = rated_app({"90837": "70.00"})
        with app.transaction() as s:
            claim = add_claim(s, "C000123", PAID_LINES)
            claim.lines[0].units = 2
        ingest(app, fixture("payer_claim_line_cas"))
        assert underpaid(app) == [("CO", "45", D("20.00"), "open")]

    @pytest.mark.parametrize("rate", ["120.00", "120.01", "100.00"])
    def test_at_rate_or_within_a_cent_opens_none(self, rated_app: MakeApp, rate: str) -> None:
        """Allowed 120.00: a rate of 120.00 or 120.01 (one cent short) or less opens nothing."""
        app = rated_app({"90837": rate})
        paid_claim(app)
        assert underpaid(app) == []

    def test_no_rate_opens_none(self, rated_app: MakeApp) -> None:
        """Rates for other codes only: no item."""
        app = rated_app({"99999": "500.00"})
        paid_claim(app)
        assert underpaid(app) == []

    def test_payer_without_rates_opens_none(self, rated_app: MakeApp) -> None:
        """The claim's payer (BCBS) has no rates, even if AETNA does."""
        app = rated_app({"90837": "142.50"})
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES, payer_id="BCBS")
        ingest(app, fixture("payer_claim_line_cas"))
        assert one(app, "C000123").status == "paid"
        assert underpaid(app) == []

    def test_denied_claim_is_a_denial_not_an_underpayment(self, rated_app: MakeApp) -> None:
        """A CO 197 zero payment: the authorization denial only."""
        app = rated_app({"90837": "142.50"})
        with app.transaction() as s:
            add_claim(s, "C000500", [("L000800", "90837", ("95",), "180.00")])
        ingest(app, fixture("denial_co197"))
        assert [d.category for d in denials(app)] == ["authorization"]

    def test_denied_line_of_a_paid_claim_is_a_denial_not_an_underpayment(self, rated_app: MakeApp) -> None:
        """A paid claim whose 90791 line is denied (CO 197, paid 0): that line's denial item only."""
        app = rated_app({"90837": "120.00", "90791": "300.00"})
        base = parse_835(next(iter(open_x12(fixture("payer_claim_line_cas"))))).claims[0]
        first, second = base.lines
        denied = dataclasses.replace(second, paid=D("0"), adjustments=(Adj835("CO", "197", D("250")),))
        clp = dataclasses.replace(base, paid=D("100"), patient_responsibility=D("20"), adjustments=(),
                                  lines=(first, denied))
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        f, _ = ingest(app, remittance_text([clp], "EFT0000300", D("100"), 901))
        assert f.state == "processed"
        assert [(d.category, d.reason) for d in denials(app)] == [("authorization", "197")]

    def test_same_835_again_does_not_duplicate(self, rated_app: MakeApp) -> None:
        """The same 835 posted again is a duplicate remittance: still one item."""
        app = rated_app({"90837": "142.50"})
        paid_claim(app)
        ingest(app, fixture("payer_claim_line_cas"), name="again.835")
        assert underpaid(app) == [("CO", "45", D("22.50"), "open")]

    def test_later_posting_with_same_shortfall_keeps_the_item(self, rated_app: MakeApp) -> None:
        """A second 835 for the claim that pays nothing more: the item stays as it is (not closed, not doubled)."""
        app = rated_app({"90837": "142.50"})
        paid_claim(app)
        base = parse_835(next(iter(open_x12(fixture("payer_claim_line_cas"))))).claims[0]
        zero = dataclasses.replace(base, status_code="1", paid=D("0"), patient_responsibility=D("0"),
                                   charge=D("0"), adjustments=(),
                                   lines=tuple(dataclasses.replace(ln, paid=D("0"), charge=D("0"), adjustments=())
                                               for ln in base.lines))
        ingest(app, remittance_text([zero], "EFT0000301", D("0"), 902))
        assert one(app, "C000123").status == "paid"
        assert underpaid(app) == [("CO", "45", D("22.50"), "open")]

    def test_reversal_closes_and_correction_recomputes(self, rated_app: MakeApp) -> None:
        """Paid 120 + PR 20 against 150.00 (short 10.00); the reversal and a correction to 130 + PR 20 = 150:
        no longer short, closed."""
        app = rated_app({"90837": "150.00"})
        with app.transaction() as s:
            add_claim(s, "C000200", [("L000500", "90837", (), "180.00")])
        rc = parse_835(next(iter(open_x12(fixture("reversal_correction")))))
        ingest(app, remittance_text([negated(rc.claims[0], "1")], "EFT0000100", D("120"), 801))
        assert underpaid(app) == [("CO", "45", D("10.00"), "open")]
        ingest(app, fixture("reversal_correction"))
        assert one(app, "C000200").paid == D("130.00")
        assert underpaid(app) == [("CO", "45", D("10.00"), "closed")]
        assert listed(app) == []

    def test_correction_still_short_updates_the_amount(self, rated_app: MakeApp) -> None:
        """Against a rate of 160.00: short 20.00 after the first payment (120 + PR 20), 10.00 after the
        correction (130 + PR 20)."""
        app = rated_app({"90837": "160.00"})
        with app.transaction() as s:
            add_claim(s, "C000200", [("L000500", "90837", (), "180.00")])
        rc = parse_835(next(iter(open_x12(fixture("reversal_correction")))))
        ingest(app, remittance_text([negated(rc.claims[0], "1")], "EFT0000100", D("120"), 801))
        assert underpaid(app) == [("CO", "45", D("20.00"), "open")]
        ingest(app, fixture("reversal_correction"))
        assert underpaid(app) == [("CO", "45", D("10.00"), "open")]

    def test_reversal_alone_closes(self, rated_app: MakeApp) -> None:
        """A reversal that takes back the only payment (120 + PR 20, short 2.50) leaves the claim reversed and
        its item closed."""
        app = rated_app({"90837": "142.50"})
        with app.transaction() as s:
            add_claim(s, "C000200", [("L000500", "90837", (), "180.00")])
        rc = parse_835(next(iter(open_x12(fixture("reversal_correction")))))
        ingest(app, remittance_text([negated(rc.claims[0], "1")], "EFT0000101", D("120"), 802))
        ingest(app, remittance_text([rc.claims[0]], "EFT0000102", D("-120"), 803))
        assert one(app, "C000200").status == "reversed"
        assert underpaid(app) == [("CO", "45", D("2.50"), "closed")]

    def test_report_sums_items_per_payer_and_code(self, rated_app: MakeApp) -> None:
        """`edi report`'s underpaid section counts the posted item under AETNA / 90837."""
        app = rated_app({"90837": "142.50"})
        paid_claim(app)
        u = build_report(app.config, app.uow, as_of=app.as_of)["underpaid"]
        assert (u["lines"], u["dollars"]) == (1, "22.50")
        assert [(x["payer_id"], x["procedure"], x["lines"], x["dollars"]) for x in u["by_payer_code"]] == [
            ("AETNA", "90837", 1, "22.50")]

    def test_correction_after_a_reversal_reopens_the_same_item(self, rated_app: MakeApp) -> None:
        """Against 160.00: short 20.00, closed by the reversal alone, then the correction (130 + PR 20) in a
        later 835 leaves it short 10.00: the one item is open again with the new amount."""
        app = rated_app({"90837": "160.00"})
        with app.transaction() as s:
            add_claim(s, "C000200", [("L000500", "90837", (), "180.00")])
        rc = parse_835(next(iter(open_x12(fixture("reversal_correction")))))
        ingest(app, remittance_text([negated(rc.claims[0], "1")], "EFT0000101", D("120"), 802))
        ingest(app, remittance_text([rc.claims[0]], "EFT0000102", D("-120"), 803))
        assert underpaid(app) == [("CO", "45", D("20.00"), "closed")]
        ingest(app, remittance_text([rc.claims[1]], "EFT0000103", D("130"), 804))
        assert one(app, "C000200").status == "paid"
        assert underpaid(app) == [("CO", "45", D("10.00"), "open")]
