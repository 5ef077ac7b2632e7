"""`edi report` figures on small hand-computed datasets, on SQLite and PostgreSQL.

The section 6 figures (billed, paid, first pass, denial rate, top CARCs, payers, aging) and the
section 8 ones (clean-claim rate, first-pass resolution, net collection, days in A/R, denials by
category, underpaid, timely filing at risk, median days to payment and its data errors), plus the
held, weekly-trend and period figures the HTML page shows, each worked out by hand in its test.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import Adjustment, Claim, ClaimPayment, ClaimStatusEvent, Denial, File, Remittance
from pipelines.cli.app import App
from pipelines.cli.report import cmd_report
from pipelines.usecases.report import build_report, median_from_counts
from tests.integration.test_posting import add_claim

D = Decimal
AS_OF = date(2026, 12, 31)
SUBMITTED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def report(app: App, **period: date) -> dict[str, Any]:
    return build_report(app.config, app.uow, as_of=app.as_of, **period)


def _remittance(s: Session, trace: str = "T1", payment_date: date | None = None) -> int:
    f = File(name=f"{trace}.835", direction="in", kind="835", sha256=trace.ljust(64, "0"), size=1,
             state="processed")
    s.add(f)
    s.flush()
    r = Remittance(file_id=f.id, st_control="0001", payer_key="1123456789", trace_number=trace, amount=D("0"),
                   balanced=True, balance_errors=[], payment_date=payment_date)
    s.add(r)
    s.flush()
    return r.id


def _claim(s: Session, claim_id: str, payer: str, billed: str, status: str, dos: date, *, paid: str = "0",
           paid_days: int | None = None, adjustments: tuple[tuple[str, str, str], ...] = (),
           remittance_id: int | None = None, hold_reasons: tuple[str, ...] = (),
           submitted_at: datetime = SUBMITTED) -> Claim:
    c = add_claim(s, claim_id, [(f"L{claim_id}", "90834", (), billed)], status=status, payer_id=payer, dos=dos,
                  submitted_at=submitted_at)
    c.paid = D(paid)
    c.hold_reasons = list(hold_reasons)
    c.patient_responsibility = sum((D(a) for g, _, a in adjustments if g == "PR"), D("0.00"))
    if paid_days is not None:
        c.paid_at = submitted_at + timedelta(days=paid_days)
    if adjustments:
        assert remittance_id is not None
        cp = ClaimPayment(remittance_id=remittance_id, claim_pk=c.id, status_code="1", charge=D(billed), paid=D(paid),
                          patient_responsibility=c.patient_responsibility)
        s.add(cp)
        s.flush()
        for group, reason, amount in adjustments:
            s.add(Adjustment(claim_payment_id=cp.id, claim_pk=c.id, group=group, reason=reason, amount=D(amount)))
    s.flush()
    return c


def _denial(s: Session, claim: Claim, group: str, reason: str, amount: str, category: str, action: str, *,
            state: str = "open", line: bool = False) -> None:
    s.add(Denial(claim_pk=claim.id, line_pk=claim.lines[0].id if line else None, group=group, reason=reason,
                 amount=D(amount), category=category, action=action, state=state, remarks=[]))
    s.flush()


@pytest.fixture
def dataset(app: App) -> App:
    """Seven sent claims and one held claim over three payers (numbers worked out in the tests).

    A, B and H were adjudicated by an 835 dated 2026-11-11, C by one dated 2026-12-20."""
    app.as_of = AS_OF
    with app.transaction() as s:
        nov, dec = _remittance(s, "T1", date(2026, 11, 11)), _remittance(s, "T2", date(2026, 12, 20))
        a = _claim(s, "A", "AETNA", "200", "paid", date(2026, 10, 25), paid="150", paid_days=10,
                   adjustments=(("CO", "45", "20"), ("OA", "23", "30")), remittance_id=nov)
        b = _claim(s, "B", "AETNA", "100", "denied", date(2026, 12, 15), adjustments=(("CO", "197", "100"),),
                   remittance_id=nov)
        c = _claim(s, "C", "BCBS", "300", "paid", date(2026, 10, 1), paid="240", paid_days=20,
                   adjustments=(("CO", "45", "60"),), remittance_id=dec)
        d = _claim(s, "D", "BCBS", "50", "submitted", date(2026, 9, 15))
        e = _claim(s, "E", "MEDICAID", "80", "rejected", date(2026, 8, 1))
        s.add(ClaimStatusEvent(claim_pk=e.id, source="277CA", category="A7", code="21"))
        _claim(s, "F", "AETNA", "120", "accepted", date(2026, 11, 20))
        _claim(s, "H", "AETNA", "100", "patient_responsibility", date(2026, 10, 20),
               adjustments=(("PR", "1", "100"),), remittance_id=nov)
        _claim(s, "G", "AETNA", "999", "held", date(2026, 12, 1), hold_reasons=("NPI_INVALID", "AUTH_MISSING"))
        _denial(s, b, "CO", "197", "100", "authorization", "correct_and_resubmit")
        _denial(s, a, "OA", "23", "30", "coordination_of_benefits", "verify_eligibility", line=True)
        _denial(s, a, "CO", "45", "12.50", "underpaid", "appeal", line=True)
        _denial(s, c, "CO", "45", "7.25", "underpaid", "appeal", line=True)
        _denial(s, d, "CO", "16", "50", "missing_information", "correct_and_resubmit")  # not adjudicated
    return app


class TestReportNumbers:
    def test_billed_and_paid(self, dataset: App) -> None:
        """Billed counts every sent claim (not held); paid counts claims with a net payment."""
        r = report(dataset)
        assert r["claims"] == {"billed": {"count": 7, "amount": "950.00"}, "paid": {"count": 2, "amount": "390.00"},
                               "by_payer_sequence": [{"payer_sequence": "P", "claims": 7, "billed": "950.00",
                                                      "paid": "390.00"}]}

    def test_first_pass_acceptance(self, dataset: App) -> None:
        """Accepted without rejection over original claims sent (5 of 7: one rejected, one unanswered)."""
        r = report(dataset)
        assert r["first_pass"] == {"submitted": 7, "accepted": 5}
        assert r["first_pass_acceptance_rate"] == pytest.approx(5 / 7, abs=1e-4)

    def test_denial_rate_by_count_and_dollars(self, dataset: App) -> None:
        """One denied of four adjudicated claims; $100 of $700 billed."""
        d = report(dataset)["denial_rate"]
        assert (d["by_count"], d["by_dollars"]) == (0.25, pytest.approx(100 / 700, abs=1e-4))
        assert (d["denied_claims"], d["denied_amount"], d["adjudicated_amount"]) == (1, "100.00", "700.00")

    def test_top_carcs_leave_out_contractual_and_patient_responsibility(self, dataset: App) -> None:
        """Top CARCs are CO/OA/PI dollars other than CARC 45, largest first, with descriptions."""
        top = report(dataset)["top_carcs"]
        assert [(t["reason"], t["amount"], t["count"]) for t in top] == [("197", "100.00", 1), ("23", "30.00", 1)]
        assert all(t["description"] and t["description"] != "description not loaded" for t in top)

    def test_carc_pareto_has_full_descriptions_and_cumulative_share(self, dataset: App) -> None:
        """The pareto is the top CARCs with their share of the dollars, running total, and uncut descriptions."""
        pareto = report(dataset)["carc_pareto"]
        assert [(p["reason"], p["share"], p["cumulative_share"]) for p in pareto] == [
            ("197", pytest.approx(100 / 130, abs=1e-4), pytest.approx(100 / 130, abs=1e-4)), ("23", 0.2308, 1.0)]
        assert pareto[0]["description"] == "Precertification/authorization/notification absent."
        assert pareto[1]["description"] == "The impact of prior payer(s) adjudication including payments and/or " \
            "adjustments."

    def test_per_payer(self, dataset: App) -> None:
        """Per payer: billed, paid, paid ratio, denial rate and average days to payment."""
        payers = {p["payer_id"]: p for p in report(dataset)["payers"]}
        aetna, bcbs, medicaid = payers["AETNA"], payers["BCBS"], payers["MEDICAID"]
        assert (aetna["claims"], aetna["billed"], aetna["paid"]) == (4, "520.00", "150.00")
        assert aetna["paid_ratio"] == pytest.approx(150 / 520, abs=1e-4)
        assert aetna["denial_rate"] == pytest.approx(1 / 3, abs=1e-4)
        assert aetna["average_days_to_payment"] == 10.0
        assert (bcbs["billed"], bcbs["paid"], bcbs["denial_rate"], bcbs["average_days_to_payment"]) == (
            "350.00", "240.00", 0.0, 20.0)
        assert (medicaid["paid_ratio"], medicaid["denial_rate"], medicaid["average_days_to_payment"]) == (
            0.0, None, None)
        assert (aetna["median_days_to_payment"], bcbs["median_days_to_payment"],
                medicaid["median_days_to_payment"]) == (10.0, 20.0, None)
        assert aetna["name"] == "Aetna" and aetna["denied_amount"] == "100.00"

    def test_aging_buckets(self, dataset: App) -> None:
        """Unpaid submitted, accepted and denied balances by days since the date of service."""
        aging = report(dataset)["aging"]
        assert [(b["bucket"], b["claims"], b["amount"]) for b in aging["buckets"]] == [
            ("0-30", 1, "100.00"), ("31-60", 1, "120.00"), ("61-90", 0, "0.00"), ("91-120", 1, "50.00"),
            ("over 120", 0, "0.00")]
        assert (aging["basis"], aging["total"]) == ("date_of_service", "270.00")

    def test_aging_by_payer(self, dataset: App) -> None:
        """The same balances per payer: AETNA B (0-30) and F (31-60), BCBS D (91-120); MEDICAID has none open."""
        by = {p["payer_id"]: p for p in report(dataset)["aging_by_payer"]}
        assert set(by) == {"AETNA", "BCBS"}
        assert [b["amount"] for b in by["AETNA"]["buckets"]] == ["100.00", "120.00", "0.00", "0.00", "0.00"]
        assert (by["AETNA"]["total"], by["BCBS"]["total"]) == ("220.00", "50.00")
        assert by["BCBS"]["buckets"][3] == {"bucket": "91-120", "claims": 1, "amount": "50.00"}


class TestSection8:
    def test_clean_claim_rate(self, dataset: App) -> None:
        """Six of eight original claims coded went out clean: G is held, E was rejected."""
        r = report(dataset)
        assert r["clean_claims"] == {"coded": 8, "clean": 6}
        assert r["clean_claim_rate"] == 0.75

    def test_first_pass_resolution_rate(self, dataset: App) -> None:
        """A and C (paid) and H (patient responsibility) were settled by their only posting; B was denied."""
        r = report(dataset)
        assert r["first_pass_resolution"] == {"adjudicated": 4, "resolved": 3}
        assert r["first_pass_resolution_rate"] == 0.75

    def test_first_pass_resolution_needs_a_single_posting(self, dataset: App) -> None:
        """A claim paid on its second 835 (denied first, paid on appeal) is not resolved on the first pass."""
        with dataset.transaction() as s:
            c = s.query(Claim).filter_by(claim_id="C").one()
            rid = _remittance(s, "T3", date(2026, 12, 21))
            s.add(ClaimPayment(remittance_id=rid, claim_pk=c.id, status_code="1", charge=D("300"), paid=D("0"),
                               patient_responsibility=D("0")))
        assert report(dataset)["first_pass_resolution"] == {"adjudicated": 4, "resolved": 2}

    def test_payer_net_collection_rate(self, dataset: App) -> None:
        """Paid 390 / (billed 700 - CO 45 80 - patient responsibility 100) = 390 / 520."""
        r = report(dataset)
        assert r["net_collection"] == {"paid": "390.00", "billed": "700.00", "contractual": "80.00",
                                       "patient_responsibility": "100.00", "collectible": "520.00"}
        assert r["payer_net_collection_rate"] == 0.75

    def test_days_in_ar(self, dataset: App) -> None:
        """Open A/R 270 / (charges of 2026-10-03..12-31: A 200 + H 100 + F 120 + B 100 = 520, / 90) = 46.7 days."""
        r = report(dataset)
        assert r["ar"] == {"open_insurance_ar": "270.00", "charges_last_90_days": "520.00",
                           "average_daily_charges": "5.78", "charges_from": "2026-10-03"}
        assert r["days_in_ar"] == 46.7

    def test_denials_by_category(self, dataset: App) -> None:
        """Work items of adjudicated claims by category, largest first; D's (not adjudicated) and underpaid left out."""
        assert report(dataset)["denials_by_category"] == {
            "authorization": {"count": 1, "dollars": "100.00"},
            "coordination_of_benefits": {"count": 1, "dollars": "30.00"}}

    def test_underpaid(self, dataset: App) -> None:
        """Underpaid work items: lines and dollars short, per payer and code."""
        u = report(dataset)["underpaid"]
        assert (u["lines"], u["dollars"]) == (2, "19.75")
        assert [(x["payer_id"], x["procedure"], x["lines"], x["dollars"]) for x in u["by_payer_code"]] == [
            ("AETNA", "90834", 1, "12.50"), ("BCBS", "90834", 1, "7.25")]

    def test_held_by_reason(self, dataset: App) -> None:
        """G is held for two reasons: it counts under both, and once in the total."""
        assert report(dataset)["held"] == {"claims": 1, "dollars": "999.00", "by_reason": [
            {"reason": "AUTH_MISSING", "claims": 1, "dollars": "999.00"},
            {"reason": "NPI_INVALID", "claims": 1, "dollars": "999.00"}]}

    def test_weekly_trend(self, dataset: App) -> None:
        """13 weeks (Mondays) up to the week of as-of; sent claims by week of the date of service."""
        t = report(dataset)["weekly_trend"]
        weeks = {w["week"]: w for w in t["weeks"]}
        assert (len(t["weeks"]), t["weeks"][0]["week"], t["weeks"][-1]["week"]) == (13, "2026-10-05", "2026-12-28")
        assert weeks["2026-10-19"] == {"week": "2026-10-19", "claims": 2, "billed": "300.00", "paid": "150.00",
                                       "denied": "0.00"}
        assert weeks["2026-12-14"]["denied"] == weeks["2026-12-14"]["billed"] == "100.00"
        assert weeks["2026-11-16"]["billed"] == "120.00"
        assert sum(D(w["billed"]) for w in t["weeks"]) == D("520")  # C (10-01) is before the first week

    def test_period(self, dataset: App) -> None:
        """With a period: claim counts by date of service, section 8 by the date of the claim's last 835."""
        r = report(dataset, since=date(2026, 11, 1), until=date(2026, 11, 30))
        assert r["period"] == {"since": "2026-11-01", "until": "2026-11-30"}
        assert r["claims"]["billed"] == {"count": 1, "amount": "120.00"}  # F only
        assert r["first_pass_resolution"] == {"adjudicated": 3, "resolved": 2}  # A, B, H (C paid in December)
        assert r["net_collection"]["collectible"] == "280.00"  # 400 - 20 - 100
        assert r["payer_net_collection_rate"] == pytest.approx(150 / 280, abs=1e-4)
        assert [w["week"] for w in r["weekly_trend"]["weeks"]][:1] == ["2026-10-26"]


@pytest.fixture
def filing_set(app: App) -> App:
    """Claims around their timely-filing deadlines as of 2026-12-31 (AETNA 180 days, BCBS 90)."""
    app.as_of = AS_OF
    with app.transaction() as s:
        _claim(s, "R1", "AETNA", "100", "held", date(2026, 7, 4), hold_reasons=("AUTH_MISSING",))  # due today
        _claim(s, "R2", "BCBS", "200", "ready", date(2026, 11, 1))  # due 2027-01-30, in 30 days
        _claim(s, "R3", "BCBS", "400", "rejected", date(2026, 11, 2))  # due in 31 days
        _claim(s, "R4", "AETNA", "800", "held", date(2026, 7, 3), hold_reasons=("TIMELY_FILING_EXPIRED",))  # past
        r5 = _claim(s, "R5", "BCBS", "50", "denied", date(2026, 10, 15))  # awaiting correction
        r6 = _claim(s, "R6", "BCBS", "25", "denied", date(2026, 10, 15))  # appealed
        _claim(s, "R7", "BCBS", "75", "submitted", date(2026, 10, 15))  # with the payer
        _denial(s, r5, "CO", "16", "50", "missing_information", "correct_and_resubmit")
        _denial(s, r6, "CO", "50", "25", "medical_necessity", "appeal", state="appealed")
    return app


class TestAtRisk:
    def test_at_risk(self, filing_set: App) -> None:
        """R1 (due today), R2 (due in 30 days) and R5 (denied, being corrected) are at risk: 3 claims, $350."""
        a = report(filing_set)["at_risk"]
        assert (a["within_days"], a["claims"], a["dollars"]) == (30, 3, "350.00")
        assert [(c["claim_id"], c["deadline"], c["days_left"]) for c in a["soonest"]] == [
            ("R1", "2026-12-31", 0), ("R5", "2027-01-13", 13), ("R2", "2027-01-30", 30)]
        assert {p["payer_id"]: (p["claims"], p["dollars"]) for p in a["by_payer"]} == {
            "AETNA": (1, "100.00"), "BCBS": (2, "250.00")}


class TestDaysToPayment:
    def test_median_of_counts(self) -> None:
        """The median of a {value: count} histogram, odd and even totals."""
        assert median_from_counts({}) is None
        assert median_from_counts({7: 1}) == 7.0
        assert median_from_counts({2: 1, 5: 1, 30: 1}) == 5.0
        assert median_from_counts({2: 2, 6: 2}) == 4.0
        assert median_from_counts({1: 5, 100: 1}) == 1.0

    def test_median_and_data_errors(self, app: App) -> None:
        """Median over whole days; a payment dated before its submission is a data error, not a figure."""
        app.as_of = AS_OF
        with app.transaction() as s:
            for cid, days in (("P1", 2), ("P2", 5), ("P3", 30), ("P4", -3)):
                _claim(s, cid, "AETNA", "100", "paid", date(2026, 10, 1), paid="80", paid_days=days)
        r = report(app)
        aetna = r["payers"][0]
        assert (aetna["median_days_to_payment"], aetna["average_days_to_payment"], aetna["data_errors"]) == (
            5.0, 12.3, 1)
        assert r["data_errors_total"] == 1
        assert r["data_errors"] == [{"claim_id": "P4", "payer_id": "AETNA", "error": "payment dated before its "
                                     "submission", "submitted": "2026-11-01", "paid": "2026-10-29"}]

    def test_same_day_payment_is_zero_days(self, app: App) -> None:
        """An 835 dated the day of submission (stored as midnight) is 0 days, not a negative fraction."""
        app.as_of = AS_OF
        with app.transaction() as s:
            c = _claim(s, "S1", "BCBS", "100", "paid", date(2026, 10, 1), paid="80",
                       submitted_at=datetime(2026, 11, 1, 23, 30, tzinfo=UTC))
            c.paid_at = datetime(2026, 11, 1, tzinfo=UTC)
        r = report(app)
        assert (r["payers"][0]["median_days_to_payment"], r["payers"][0]["average_days_to_payment"]) == (0.0, 0.0)
        assert r["data_errors"] == []


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
        rows = {b["bucket"]: b["claims"] for b in report(app)["aging"]["buckets"]}
        assert [k for k, n in rows.items() if n] == [bucket]


class TestReportCommand:
    def test_json_and_html(self, dataset: App, tmp_path: Path) -> None:
        """--json prints the report; --html writes a page with the numbers and no patient data."""
        dataset.json, dataset.out = True, io.StringIO()
        page = tmp_path / "report.html"
        assert cmd_report(dataset, argparse.Namespace(html=str(page), csv=None)) == 0
        printed = json.loads(dataset.out.getvalue())
        assert printed["claims"]["billed"]["amount"] == "950.00"
        text = page.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "950.00" in text and "AETNA" in text
        assert "DOE" not in text and "W123456789" not in text
        assert "$950.00" in text and 'data-key="clean_claim_rate"' in text and "<svg" in text
        assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")

    def test_csv(self, dataset: App, tmp_path: Path) -> None:
        """--csv writes one CSV per table with plain amounts a spreadsheet reads."""
        dataset.out = io.StringIO()
        folder = tmp_path / "csv"
        assert cmd_report(dataset, argparse.Namespace(html=None, csv=str(folder))) == 0
        names = sorted(p.name for p in folder.iterdir())
        assert {"summary.csv", "payers.csv", "carc_pareto.csv", "aging_by_payer.csv", "weekly_trend.csv",
                "denials_by_category.csv", "held_by_reason.csv", "underpaid.csv", "at_risk.csv"} <= set(names)
        with (folder / "payers.csv").open(encoding="utf-8") as fh:
            rows = {r["payer"]: r for r in csv.DictReader(fh)}
        assert (rows["Aetna"]["billed"], rows["Aetna"]["paid"], rows["Aetna"]["median days to pay"]) == (
            "520.00", "150.00", "10.0")
        with (folder / "summary.csv").open(encoding="utf-8") as fh:
            summary = dict(csv.reader(fh))
        assert (summary["clean-claim rate"], summary["billed"]) == ("0.75", "950.00")
        assert "CSV files written" in dataset.out.getvalue()

    def test_text(self, dataset: App) -> None:
        """The terminal report shows money as money and CARC descriptions uncut."""
        dataset.out = io.StringIO()
        assert cmd_report(dataset, argparse.Namespace(html=None, csv=None)) == 0
        out = dataset.out.getvalue()
        assert "$950.00" in out and "75.0%" in out and "46.7" in out
        assert "The impact of prior payer(s) adjudication including payments and/or adjustments." in out
