"""271 (005010X279A1): guide-style fixtures, coverage rules, builder round trips and pyx12 validation."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import pyx12
import pyx12.params
import pyx12.x12n_document

from edi.errors import BuildError, TransactionError
from edi.validate import map_folder
from edi.x12 import Delimiters, open_x12
from edi.x271 import (
    Benefit,
    BenefitDate,
    EligibilityResponse,
    EnvelopeSpec,
    Limit,
    Member,
    Party,
    Rejection,
    Trace,
    build_271,
    inspect_271,
    parse_271,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
def envelope(gs: int | None = None, st: str = "0001") -> EnvelopeSpec:
    """The clearinghouse's envelope to us: ISA13 21, GS06 ``gs``, ST02 from ``st``."""
    return EnvelopeSpec(isa_control=21, gs_control=gs, created=datetime(2026, 11, 3, 9, 15), st_control=st, sender="CLEARHOUSE",
                        receiver="SUNRISE01")
DAY = date(2026, 11, 3)
PAYER = Party("AETNA", "60054", "PI", "PR")
PROVIDER = Party("SUNRISE BEHAVIORAL HEALTH", "1234567893", "XX", "1P")


@pytest.fixture(scope="module")
def map_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of pyx12's map folder with the project's 270/271 X279A1 maps registered."""
    return str(map_folder(tmp_path_factory.mktemp("pyx12")))


def _pyx12_valid(text: str, map_path: str) -> bool:
    return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None,
                                                  map_path=map_path))


def _inspect_file(path: Path) -> dict[str, object]:
    env = open_x12(path.read_bytes())
    txs = [(ts.group, inspect_271(ts)) for ts in env]
    return {"interchanges": [{
        "sender": isa.sender_id, "receiver": isa.receiver_id, "control_number": isa.control_number,
        "ta1": [],
        "groups": [{"functional_id": g.functional_id, "version": g.version,
                    "transactions": [j for grp, j in txs if grp is g]} for g in isa.groups],
    } for isa in env.interchanges]}


def _parse(data: str | bytes) -> list[EligibilityResponse]:
    return [parse_271(ts) for ts in open_x12(data)]


MH_BENEFITS = (
    Benefit("1", "IND", ("30",), "PR", "GOLD PPO"),
    Benefit("B", "IND", ("MH",), time_period="27", amount=Decimal("25.00"), auth_indicator="N", network_indicator="Y"),
    Benefit("B", "IND", ("MH",), time_period="27", amount=Decimal("60.00"), network_indicator="N"),
    Benefit("A", "IND", ("MH",), time_period="27", percent=Decimal("0.2"), network_indicator="N"),
    Benefit("C", "IND", ("MH",), time_period="23", amount=Decimal("500.00"), network_indicator="Y",
            dates=(BenefitDate("291", date(2026, 1, 1), date(2026, 12, 31)),)),
    Benefit("F", "IND", ("MH",), time_period="23", quantity_qualifier="VS", quantity=Decimal("30"),
            limits=(Limit("VS", Decimal("30"), time_period="23"),), messages=("VISITS PER CALENDAR YEAR",)),
    Benefit("F", "IND", ("MH",), time_period="29", quantity_qualifier="VS", quantity=Decimal("18")),
    Benefit("1", None, ("MH",), auth_indicator="Y", procedure=("HC", "90837"), messages=("AUTH REQUIRED",)),
)
SUBSCRIBER = Member(
    "subscriber", "DOE", "JANE", "W123456789", "MI",
    traces=(Trace("2", "E0000017", "9123456789"), Trace("1", "PAYER-1", "9060054000")),
    birth_date=date(1985, 3, 14), gender="F", references=(("6P", "GRP100"),),
    dates=(BenefitDate("346", date(2026, 1, 1)), BenefitDate("347", date(2026, 12, 31))), benefits=MH_BENEFITS)
DEPENDENT = Member("dependent", "DOE", "JIMMY", traces=(Trace("2", "E0000018", "9123456789"),),
                   birth_date=date(2012, 5, 5), gender="M", subscriber_member_id="W123456789",
                   dates=(BenefitDate("357", date(2025, 12, 31)),), benefits=(Benefit("6", None, ("30",)),))
NOT_FOUND = Member("subscriber", "ROE", "RICHARD", "W98765", "MI", traces=(Trace("2", "E0000019", "9123456789"),),
                   rejections=(Rejection("75", "C", "2100C", True),))


def _response(*members: Member, rejections: tuple[Rejection, ...] = ()) -> EligibilityResponse:
    return EligibilityResponse(PAYER, PROVIDER, members, DAY, "0915", "ELIG-B1", rejections=rejections)


class TestFixtures:
    @pytest.mark.parametrize("name", ["271/active_mh", "271/inactive", "271/rejected_aaa"])
    def test_inspect_matches_expected_json(self, name: str) -> None:
        """Inspecting each fixture gives exactly the JSON stored beside it."""
        expected = json.loads((FIXTURES / f"{name}.expected.json").read_text())
        assert _inspect_file(FIXTURES / f"{name}.x12") == expected

    def test_active_mh_benefits(self) -> None:
        """An active 271 gives copays in and out of network, coinsurance, deductible, visit limits and auth flags."""
        (r,) = _parse((FIXTURES / "271/active_mh.x12").read_bytes())
        (m,) = r.members
        assert (m.trace, m.member_id, m.coverage) == ("E0000017", "W123456789", "active")
        assert m.coverage_period == (date(2026, 1, 1), date(2026, 12, 31))
        assert m.benefits[0].service_types == ("30", "MH", "A4")
        copays = [(b.amount, b.in_network) for b in m.benefits if b.code == "B"]
        assert copays == [(Decimal("25.00"), True), (Decimal("60.00"), False)]
        coins = next(b for b in m.benefits if b.code == "A")
        assert (coins.percent, coins.in_network, coins.description) == (Decimal(".2"), False, "Co-Insurance")
        limit, remaining = m.visit_limits
        assert (limit.limits[0].quantity, limit.limits[0].time_period_description) == (Decimal("30"), "Calendar Year")
        assert (remaining.time_period_description, remaining.quantity) == ("Remaining", Decimal("18"))
        auth = m.benefits[-1]
        assert (auth.auth_required, auth.procedure, auth.messages) == (
            True, ("HC", "90837"), ("PRIOR AUTHORIZATION REQUIRED FOR 90837",))

    def test_inactive_coverage(self) -> None:
        """A 271 with EB*6 shows the coverage inactive on any date."""
        (r,) = _parse((FIXTURES / "271/inactive.x12").read_bytes())
        (m,) = r.members
        assert m.coverage == "inactive" and m.is_active_on(date(2026, 3, 1)) is False
        assert m.benefits[0].messages == ("COVERAGE TERMINATED",)

    def test_aaa_rejections_at_subscriber_and_source_level(self) -> None:
        """AAA rejections carry their loop, reason and follow-up action with descriptions."""
        first, second = _parse((FIXTURES / "271/rejected_aaa.x12").read_bytes())
        bad_id, not_found = first.members
        assert bad_id.coverage is None and bad_id.is_active_on(DAY) is None
        assert [(x.loop, x.reason_code, x.reason) for x in bad_id.rejections] == [
            ("2100C", "72", "Invalid/Missing Subscriber/Insured ID")]
        assert not_found.rejections[0].reason == "Subscriber/Insured Not Found"
        assert not_found.rejections[0].follow_up == "Please Correct and Resubmit"
        assert second.members == () and [(x.loop, x.reason_code, x.follow_up_code) for x in second.rejections] == [
            ("2000A", "42", "R")]


class TestCoverageRules:
    @pytest.mark.parametrize(("codes", "dates", "day", "active"), [
        pytest.param(["1"], (), DAY, True, id="eb1_active_without_dates"),
        pytest.param(["3", "B"], (), DAY, True, id="eb3_capitated_is_active"),
        pytest.param(["6"], (), DAY, False, id="eb6_inactive"),
        pytest.param(["8"], (), DAY, False, id="eb8_inactive_pending_investigation"),
        pytest.param(["1"], (BenefitDate("346", date(2026, 1, 1)), BenefitDate("347", date(2026, 6, 30))),
                     DAY, False, id="after_plan_end_not_active"),
        pytest.param(["1"], (BenefitDate("291", date(2026, 1, 1), date(2026, 12, 31)),), DAY, True,
                     id="inside_plan_period_active"),
        pytest.param(["1"], (BenefitDate("356", date(2026, 12, 1)),), DAY, False, id="before_eligibility_begin"),
        pytest.param(["B", "C"], (), DAY, None, id="no_coverage_code_unknown"),
    ])
    def test_is_active_on(self, codes: list[str], dates: tuple[BenefitDate, ...], day: date,
                          active: bool | None) -> None:
        """Coverage on a date follows EB01 (1-5 active, 6-8 inactive) and the plan dates."""
        m = Member("subscriber", dates=dates, benefits=tuple(Benefit(c) for c in codes))
        assert m.is_active_on(day) is active

    @pytest.mark.parametrize(("eb11", "eb12", "auth", "network"), [
        pytest.param("Y", "Y", True, True, id="yes_yes"),
        pytest.param("N", "N", False, False, id="no_no"),
        pytest.param("U", "W", None, None, id="unknown_and_not_applicable"),
        pytest.param(None, None, None, None, id="absent"),
    ])
    def test_auth_and_network_indicators(self, eb11: str | None, eb12: str | None, auth: bool | None,
                                         network: bool | None) -> None:
        """EB11 and EB12 read as True, False or unknown."""
        b = Benefit("1", auth_indicator=eb11, network_indicator=eb12)
        assert (b.auth_required, b.in_network) == (auth, network)


class TestBuild:
    @pytest.mark.parametrize("response", [
        pytest.param(_response(SUBSCRIBER), id="active_mh_benefits"),
        pytest.param(_response(SUBSCRIBER, DEPENDENT), id="subscriber_and_inactive_dependent"),
        pytest.param(_response(NOT_FOUND), id="aaa_subscriber_not_found"),
        pytest.param(_response(replace(NOT_FOUND, rejections=(Rejection("72", "C", "2100C"),))),
                     id="aaa_invalid_member_id"),
    ])
    def test_271_round_trips_and_validates(self, response: EligibilityResponse, map_path: str) -> None:
        """A built 271 parses back to the same response and passes pyx12's X279A1 map with no error."""
        text = build_271([response], envelope=envelope(3))
        assert _parse(text) == [response]
        assert _pyx12_valid(text, map_path)

    def test_source_level_rejection_round_trips(self, map_path: str) -> None:
        """A 271 that answers only with a payer-level AAA has no members and keeps the rejection."""
        response = EligibilityResponse(PAYER, None, (), DAY, "0915", "ELIG-B2",
                                       rejections=(Rejection("42", "R", "2000A", True),))
        text = build_271([response], envelope=envelope(3))
        assert _parse(text) == [response]
        assert _pyx12_valid(text, map_path)

    def test_repeated_service_types_use_the_repetition_separator(self) -> None:
        """EB03 with several service types is written with ISA11 and read back as a tuple."""
        member = replace(SUBSCRIBER, benefits=(Benefit("1", "IND", ("30", "MH", "A8")),))
        d = Delimiters(element="|", repetition="^", component=">", segment="~")
        text = build_271([_response(member)], envelope=envelope(3), delimiters=d)
        assert "EB|1|IND|30^MH^A8~" in text
        assert _parse(text)[0].members[0].benefits[0].service_types == ("30", "MH", "A8")

    @pytest.mark.parametrize(("response", "delimiters"), [
        pytest.param(_response(DEPENDENT), Delimiters(), id="dependent_without_subscriber"),
        pytest.param(_response(replace(SUBSCRIBER, level="patient")), Delimiters(), id="unknown_level"),
        pytest.param(_response(replace(SUBSCRIBER, benefits=(Benefit("1", None, ("30", "MH")),))),
                     Delimiters(repetition=""), id="repeat_without_separator"),
        pytest.param(EligibilityResponse(PAYER, None, (SUBSCRIBER,), DAY), Delimiters(), id="members_need_receiver"),
    ])
    def test_builder_refuses_invalid_responses(self, response: EligibilityResponse,
                                               delimiters: Delimiters) -> None:
        """Responses that cannot be written as a valid 271 raise BuildError."""
        with pytest.raises(BuildError):
            build_271([response], envelope=envelope(1), delimiters=delimiters)


class TestErrors:
    @pytest.mark.parametrize(("old", "new", "segment_id"), [
        pytest.param("DMG*D8*19850314*F", "DMG*D8*19851314*F", "DMG", id="bad_birth_date"),
        pytest.param("EB*B*IND*MH***27*25", "EB*B*IND*MH***27*2X5", "EB", id="bad_amount"),
    ])
    def test_malformed_values_raise_without_phi(self, old: str, new: str, segment_id: str) -> None:
        """A malformed date or amount raises TransactionError with its segment and no member data."""
        text = build_271([_response(SUBSCRIBER)], envelope=envelope(3)).replace(old, new)
        with pytest.raises(TransactionError) as err:
            _parse(text)
        message = str(err.value)
        assert err.value.segment_id == segment_id and err.value.segment_number is not None
        for phi in ("W123456789", "DOE", "JANE", "1985", "19851314"):
            assert phi not in message
