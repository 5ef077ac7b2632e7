"""`edi report` numbers on a small hand-computed dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from models import Adjustment, Claim, ClaimPayment, ClaimStatusEvent, File, Remittance
from pipelines.cli.app import App
from pipelines.usecases.report import build_report, cmd_report
from tests.integration.test_posting import add_claim

D = Decimal
AS_OF = date(2026, 12, 31)


def _remittance(s: Session) -> int:
    f = File(name="r.835", direction="in", kind="835", sha256="0" * 64, size=1, state="processed")
    s.add(f)
    s.flush()
    r = Remittance(file_id=f.id, st_control="0001", payer_key="1123456789", trace_number="T1", amount=D("0"),
                   balanced=True, balance_errors=[])
    s.add(r)
    s.flush()
    return r.id


def _claim(s: Session, claim_id: str, payer: str, billed: str, status: str, dos: date, *, paid: str = "0",
           paid_days: int | None = None, adjustments: tuple[tuple[str, str, str], ...] = (),
           remittance_id: int | None = None) -> Claim:
    c = add_claim(s, claim_id, [(f"L{claim_id}", "90834", (), billed)], status=status, payer_id=payer, dos=dos,
                  submitted_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    c.paid = D(paid)
    if paid_days is not None:
        c.paid_at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC) + timedelta(days=paid_days)
    if adjustments:
        assert remittance_id is not None
        cp = ClaimPayment(remittance_id=remittance_id, claim_pk=c.id, status_code="1", charge=D(billed), paid=D(paid),
                          patient_responsibility=D("0"))
        s.add(cp)
        s.flush()
        for group, reason, amount in adjustments:
            s.add(Adjustment(claim_payment_id=cp.id, claim_pk=c.id, group=group, reason=reason, amount=D(amount)))
    s.flush()
    return c


@pytest.fixture
def dataset(app: App) -> App:
    """Seven sent claims and one held claim over three payers (numbers worked out in the tests)."""
    app.as_of = AS_OF
    with app.transaction() as s:
        rid = _remittance(s)
        _claim(s, "A", "AETNA", "200", "paid", date(2026, 10, 25), paid="150", paid_days=10,
               adjustments=(("CO", "45", "20"), ("OA", "23", "30")), remittance_id=rid)
        _claim(s, "B", "AETNA", "100", "denied", date(2026, 12, 15), adjustments=(("CO", "197", "100"),),
               remittance_id=rid)
        _claim(s, "C", "BCBS", "300", "paid", date(2026, 10, 1), paid="240", paid_days=20,
               adjustments=(("CO", "45", "60"),), remittance_id=rid)
        _claim(s, "D", "BCBS", "50", "submitted", date(2026, 9, 15))
        e = _claim(s, "E", "MEDICAID", "80", "rejected", date(2026, 8, 1))
        s.add(ClaimStatusEvent(claim_pk=e.id, source="277CA", category="A7", code="21"))
        _claim(s, "F", "AETNA", "120", "accepted", date(2026, 11, 20))
        _claim(s, "H", "AETNA", "100", "patient_responsibility", date(2026, 10, 20),
               adjustments=(("PR", "1", "100"),), remittance_id=rid)
        _claim(s, "G", "AETNA", "999", "held", date(2026, 12, 1))
    return app


class TestReportNumbers:
    def test_billed_and_paid(self, dataset: App) -> None:
        """Billed counts every sent claim (not held); paid counts claims with a net payment."""
        r = build_report(dataset)
        assert r["claims"] == {"billed": {"count": 7, "amount": "950.00"}, "paid": {"count": 2, "amount": "390.00"}}

    def test_first_pass_acceptance(self, dataset: App) -> None:
        """Accepted without rejection over original claims sent (5 of 7: one rejected, one unanswered)."""
        r = build_report(dataset)
        assert r["first_pass"] == {"submitted": 7, "accepted": 5}
        assert r["first_pass_acceptance_rate"] == pytest.approx(5 / 7, abs=1e-4)

    def test_denial_rate_by_count_and_dollars(self, dataset: App) -> None:
        """One denied of four adjudicated claims; $100 of $700 billed."""
        d = build_report(dataset)["denial_rate"]
        assert (d["by_count"], d["by_dollars"]) == (0.25, pytest.approx(100 / 700, abs=1e-4))
        assert (d["denied_claims"], d["denied_amount"], d["adjudicated_amount"]) == (1, "100.00", "700.00")

    def test_top_carcs_leave_out_contractual_and_patient_responsibility(self, dataset: App) -> None:
        """Top CARCs are CO/OA/PI dollars other than CARC 45, largest first, with descriptions."""
        top = build_report(dataset)["top_carcs"]
        assert [(t["reason"], t["amount"], t["count"]) for t in top] == [("197", "100.00", 1), ("23", "30.00", 1)]
        assert all(t["description"] and t["description"] != "description not loaded" for t in top)

    def test_per_payer(self, dataset: App) -> None:
        """Per payer: billed, paid, paid ratio, denial rate and average days to payment."""
        payers = {p["payer_id"]: p for p in build_report(dataset)["payers"]}
        aetna, bcbs, medicaid = payers["AETNA"], payers["BCBS"], payers["MEDICAID"]
        assert (aetna["claims"], aetna["billed"], aetna["paid"]) == (4, "520.00", "150.00")
        assert aetna["paid_ratio"] == pytest.approx(150 / 520, abs=1e-4)
        assert aetna["denial_rate"] == pytest.approx(1 / 3, abs=1e-4)
        assert aetna["average_days_to_payment"] == 10.0
        assert (bcbs["billed"], bcbs["paid"], bcbs["denial_rate"], bcbs["average_days_to_payment"]) == (
            "350.00", "240.00", 0.0, 20.0)
        assert (medicaid["paid_ratio"], medicaid["denial_rate"], medicaid["average_days_to_payment"]) == (
            0.0, None, None)

    def test_aging_buckets(self, dataset: App) -> None:
        """Unpaid submitted, accepted and denied balances by days since the date of service."""
        aging = build_report(dataset)["aging"]
        assert [(b["bucket"], b["claims"], b["amount"]) for b in aging["buckets"]] == [
            ("0-30", 1, "100.00"), ("31-60", 1, "120.00"), ("61-90", 0, "0.00"), ("91-120", 1, "50.00"),
            ("over 120", 0, "0.00")]
        assert (aging["basis"], aging["total"]) == ("date_of_service", "270.00")


class TestAgingBoundaries:
    @pytest.mark.parametrize(("days", "bucket"), [
        pytest.param(30, "0-30", id="day_30_is_0_30"),
        pytest.param(31, "31-60", id="day_31_is_31_60"),
        pytest.param(90, "61-90", id="day_90_is_61_90"),
        pytest.param(120, "91-120", id="day_120_is_91_120"),
        pytest.param(121, "over 120", id="day_121_is_over_120"),
    ])
    def test_bucket_edges(self, app: App, days: int, bucket: str) -> None:
        """A claim's age in days since its date of service decides its bucket, edges included."""
        app.as_of = AS_OF
        with app.transaction() as s:
            _claim(s, "X", "AETNA", "75", "submitted", AS_OF - timedelta(days=days))
        rows = {b["bucket"]: b["claims"] for b in build_report(app)["aging"]["buckets"]}
        assert [k for k, n in rows.items() if n] == [bucket]


class TestReportCommand:
    def test_json_and_html(self, dataset: App, tmp_path: Path) -> None:
        """--json prints the report; --html writes a page with the numbers and no patient data."""
        dataset.json, dataset.out = True, io.StringIO()
        page = tmp_path / "report.html"
        assert cmd_report(dataset, argparse.Namespace(html=str(page))) == 0
        printed = json.loads(dataset.out.getvalue())
        assert printed["claims"]["billed"]["amount"] == "950.00"
        text = page.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "950.00" in text and "AETNA" in text
        assert "DOE" not in text and "W123456789" not in text
