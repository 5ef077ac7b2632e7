"""277CA (X214) and 277 (X212): guide-style fixtures, builders, round trips and pyx12 validation."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document

from edi.errors import BuildError, TransactionError
from edi.x12 import open_x12
from edi.x277 import (
    ClaimStatus,
    ClaimStatusReport,
    EnvelopeSpec,
    LineStatus,
    Party,
    Person,
    ProviderStatus,
    Status,
    StatusCode,
    build_277,
    build_277ca,
    inspect_277,
    parse_277,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
def envelope(gs: int | None = None, st: str = "0001") -> EnvelopeSpec:
    """The clearinghouse's envelope to us: ISA13 11, GS06 ``gs``, ST02 from ``st``."""
    return EnvelopeSpec(isa_control=11, gs_control=gs, created=datetime(2026, 11, 3, 9, 15), st_control=st, sender="CLEARHOUSE",
                        receiver="SUNRISE01")
DAY = date(2026, 11, 3)
PROVIDER = Party("SUNRISE BEHAVIORAL HEALTH", "1234567893", "XX")
RECEIVER = Party("SUNRISE BEHAVIORAL HEALTH", "SUNRISE01", "46")


def _inspect_file(path: Path) -> dict[str, object]:
    env = open_x12(path.read_bytes())
    txs = [(ts.group, inspect_277(ts)) for ts in env]
    return {"interchanges": [{
        "sender": isa.sender_id, "receiver": isa.receiver_id, "control_number": isa.control_number,
        "ta1": [],
        "groups": [{"functional_id": g.functional_id, "version": g.version,
                    "transactions": [j for grp, j in txs if grp is g]} for g in isa.groups],
    } for isa in env.interchanges]}


def _parse(data: str | bytes) -> list[ClaimStatusReport]:
    return [parse_277(ts) for ts in open_x12(data)]


def _pyx12_valid(text: str) -> bool:
    return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None))


def _ca_report(*claims: ClaimStatus) -> ClaimStatusReport:
    total = sum((s.charge or Decimal(0) for c in claims for s in c.statuses[:1]), Decimal("0.00"))
    batch = Status("A1", "19", "PR", DAY, "WQ", total)
    return ClaimStatusReport(
        source=Party("EXAMPLE CLEARINGHOUSE", "CLEARHOUSE", "46"), receiver=RECEIVER,
        providers=(ProviderStatus(PROVIDER, claims, "0", (Status("A1", "19", "PR", None, "WQ", total),)),),
        created=DAY, created_time="0915", reference="277CA-1", source_trace="CH1", receipt_date=DAY,
        process_date=DAY, receiver_trace="B000017", receiver_statuses=(batch,))


ACCEPTED = ClaimStatus(
    "C000123", (Status("A1", "19", "PR", DAY, "WQ", Decimal("180.00")),
                Status("A2", "20", "PR", DAY, "WQ", Decimal("180.00"))),
    Person("DOE", "JANE", "W123456789"), payer_claim_number="26307A00123", clearinghouse_trace="CH-77",
    service_date=date(2026, 10, 28))
REJECTED = ClaimStatus(
    "C000125", (Status("A3", "21", "IL", DAY, "U", Decimal("180.00"), additional=(StatusCode("A7", "164", "IL"),),
                       message="MEMBER ID INVALID"),),
    Person("ROE", "RICHARD", "W987654321"), clearinghouse_trace="CH-79", service_date=date(2026, 10, 30),
    service_date_end=date(2026, 10, 31),
    lines=(LineStatus("90837", Decimal("180.00"), (Status("A7", "454", None, DAY, "U"),), modifiers=("HO", "95"),
                      units=Decimal("1"), line_control_number="L000458", service_date=date(2026, 10, 30)),))


class TestFixtures:
    @pytest.mark.parametrize("name", ["277ca/accepted_rejected", "277/status"])
    def test_inspect_matches_expected_json(self, name: str) -> None:
        """Inspecting each fixture gives exactly the JSON stored beside it."""
        expected = json.loads((FIXTURES / f"{name}.expected.json").read_text())
        assert _inspect_file(FIXTURES / f"{name}.x12") == expected

    def test_277ca_claims_accepted_and_rejected(self) -> None:
        """A 277CA gives each claim's id, categories, payer claim number and clearinghouse trace."""
        (r,) = _parse((FIXTURES / "277ca/accepted_rejected.x12").read_bytes())
        claims = {c.claim_id: c for c in r.claims}
        assert [(s.category, s.code, s.entity) for s in claims["C000123"].statuses] == [
            ("A1", "19", "PR"), ("A2", "20", "PR")]
        assert claims["C000123"].payer_claim_number == "26307A00123"
        assert claims["C000123"].clearinghouse_trace == "CH-0001-77"
        assert not claims["C000124"].rejected and claims["C000124"].service_date == date(2026, 10, 29)
        bad = claims["C000125"]
        assert bad.rejected and bad.payer_claim_number is None
        assert bad.statuses[0].additional == (StatusCode("A7", "164", "IL"),)
        assert bad.statuses[0].charge == Decimal("180.00")
        assert [(ln.line_control_number, ln.statuses[0].category, ln.statuses[0].code) for ln in bad.lines] == [
            ("L000458", "A7", "454")]

    def test_277ca_source_receiver_and_batch_status(self) -> None:
        """A 277CA keeps the information source, receiver, receipt dates and batch-level status."""
        (r,) = _parse((FIXTURES / "277ca/accepted_rejected.x12").read_bytes())
        assert (r.source.name, r.receiver.id, r.receiver_trace) == ("EXAMPLE CLEARINGHOUSE", "SUNRISE01", "B000017")
        assert (r.receipt_date, r.process_date) == (date(2026, 11, 2), date(2026, 11, 3))
        assert r.receiver_statuses[0].charge == Decimal("610.00")
        assert r.providers[0].provider == PROVIDER

    def test_277_status_for_subscriber_and_dependent_claims(self) -> None:
        """A 277 gives finalized, pending and acknowledged claims with REF*EJ as the claim id."""
        (r,) = _parse((FIXTURES / "277/status.x12").read_bytes())
        got = {c.claim_id: c for c in r.claims}
        paid = got["C000123"]
        assert (paid.statuses[0].category, paid.statuses[0].code) == ("F1", "65")
        assert (paid.statuses[0].payment, paid.statuses[0].remittance_trace) == (Decimal("120.00"), "EFT0098765")
        assert paid.trace_number == "ST-C000123" and paid.lines[0].paid == Decimal("120.00")
        pending = got["C000124"]
        assert pending.statuses[0].category == "P1"
        assert pending.patient.first_name == "EMMA" and pending.member_id == "W555000111"
        assert got["C000126"].statuses[0].category_description == "Acknowledgement/Receipt"


class TestRules:
    @pytest.mark.parametrize(("category", "rejected"), [
        pytest.param("A1", False, id="receipt_is_not_rejection"),
        pytest.param("A2", False, id="acceptance_is_not_rejection"),
        pytest.param("A3", True, id="returned_unprocessable_is_rejection"),
        pytest.param("A6", True, id="missing_information_is_rejection"),
        pytest.param("A7", True, id="invalid_information_is_rejection"),
        pytest.param("A8", True, id="relational_field_is_rejection"),
        pytest.param("F1", False, id="paid_is_not_rejection"),
        pytest.param("P1", False, id="pending_is_not_rejection"),
    ])
    def test_rejection_categories(self, category: str, rejected: bool) -> None:
        """A claim counts as rejected when a claim-level STC has a rejection category."""
        claim = ClaimStatus("C1", (Status(category, "21"),), Person("X"))
        assert claim.rejected is rejected

    def test_unknown_codes_have_placeholder_descriptions(self) -> None:
        """A category or status code outside the tables is described as 'description not loaded'."""
        s = Status("Z9", "99999")
        assert (s.category_description, s.code_description) == ("description not loaded",) * 2


class TestBuild:
    @pytest.mark.parametrize("claims", [
        pytest.param((ACCEPTED,), id="accepted"),
        pytest.param((ACCEPTED, REJECTED), id="accepted_and_rejected_with_line"),
    ])
    def test_277ca_round_trips_and_validates(self, claims: tuple[ClaimStatus, ...]) -> None:
        """A built 277CA parses back to the same report and passes pyx12 with no error."""
        report = _ca_report(*claims)
        text = build_277ca([report], envelope=envelope(4))
        assert _parse(text) == [report]
        assert _pyx12_valid(text)

    def test_277_round_trips_with_dependent(self) -> None:
        """A built 277 with subscriber- and dependent-level claims parses back to the same report."""
        sub = Person("SMITH", "ROBERT", "W555000111")
        paid = ClaimStatus(
            "ST-1", (Status("F1", "65", None, DAY, charge=Decimal("180.00"), payment=Decimal("120.00"),
                            finalized_date=date(2026, 11, 1), remittance_date=DAY, remittance_trace="EFT1"),),
            Person("SMITH", "EMMA"), subscriber=sub, patient_control_number="C000130",
            payer_claim_number="PCN1", service_date=date(2026, 10, 1),
            lines=(LineStatus("90834", Decimal("180.00"), (Status("F1", "65", None, DAY),), paid=Decimal("120.00"),
                              units=Decimal("1"), line_control_number="L9", service_date=date(2026, 10, 1)),))
        pending = ClaimStatus("ST-2", (Status("P1", "20", None, DAY),), sub, patient_control_number="C000131",
                              service_date=date(2026, 10, 2))
        report = ClaimStatusReport(Party("AETNA", "60054", "PI"), RECEIVER,
                                   (ProviderStatus(PROVIDER, (paid, pending)),), DAY, "1015", "STAT-1")
        text = build_277([report], envelope=envelope(5))
        assert _parse(text) == [report]
        assert [c.claim_id for c in _parse(text)[0].claims] == ["C000130", "C000131"]

    def test_provider_status_date_is_left_out_of_277ca(self) -> None:
        """The 277CA provider-level STC02 is 'not used', so the builder leaves the date out."""
        report = _ca_report(ACCEPTED)
        dated = ProviderStatus(PROVIDER, (ACCEPTED,), "0", (Status("A1", "19", "PR", DAY, "WQ", Decimal("1")),))
        text = build_277ca([replace(report, providers=(dated,))],
                           envelope=envelope(4))
        assert _parse(text)[0].providers[0].statuses[0].date is None
        assert _pyx12_valid(text)

    @pytest.mark.parametrize("report", [
        pytest.param(replace(_ca_report(ACCEPTED), source_trace=None),
                     id="277ca_needs_source_trace"),
        pytest.param(_ca_report(ClaimStatus("C1", (), Person("X", member_id="1"), service_date=DAY)),
                     id="claim_needs_a_status"),
        pytest.param(_ca_report(ClaimStatus("C1", (Status("A1", "19"),), Person("X", member_id="1"))),
                     id="277ca_claim_needs_service_date"),
    ])
    def test_builder_refuses_incomplete_reports(self, report: ClaimStatusReport) -> None:
        """A report missing what the 277CA guide requires raises BuildError."""
        with pytest.raises(BuildError):
            build_277ca([report], envelope=envelope(1))


class TestErrors:
    def test_bad_date_is_a_transaction_error_without_phi(self) -> None:
        """A malformed STC date raises TransactionError with its segment and no member id in the message."""
        text = build_277ca([_ca_report(ACCEPTED)], envelope=envelope(4))
        text = text.replace("STC*A2:20:PR*20261103", "STC*A2:20:PR*2026X103")
        with pytest.raises(TransactionError) as err:
            _parse(text)
        assert err.value.segment_id == "STC" and err.value.element == 2
        assert "W123456789" not in str(err.value) and "DOE" not in str(err.value)

    def test_missing_source_name_is_refused(self) -> None:
        """A 277 without the information source NM1 raises TransactionError."""
        text = build_277ca([_ca_report(ACCEPTED)], envelope=envelope(4))
        text = text.replace("NM1*PR*2*EXAMPLE CLEARINGHOUSE*****46*CLEARHOUSE~\n", "")
        ts = next(iter(open_x12(text, strict=False)))
        with pytest.raises(TransactionError):
            parse_277(ts)
