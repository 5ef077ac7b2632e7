"""999 and TA1: parsing the guide-style fixtures, building, round trips and pyx12 validation."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document

from edi.errors import BuildError, TransactionError
from edi.x12 import open_x12
from edi.x999 import (
    ElementError,
    EnvelopeSpec,
    GroupAck,
    SegmentError,
    Ta1,
    TransactionAck,
    build_999,
    build_ta1,
    inspect_999,
    inspect_ta1,
    parse_999,
    parse_ta1,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
def envelope(gs: int | None = None, st: str = "0001") -> EnvelopeSpec:
    """The clearinghouse's envelope to us: ISA13 7, GS06 ``gs``, ST02 from ``st``."""
    return EnvelopeSpec(isa_control=7, gs_control=gs, created=datetime(2026, 11, 3, 9, 15), st_control=st, sender="CLEARHOUSE",
                        receiver="SUNRISE01")


def _inspect_file(path: Path) -> dict[str, object]:
    env = open_x12(path.read_bytes())
    txs = [(ts.group, inspect_999(ts)) for ts in env]
    return {"interchanges": [{
        "sender": isa.sender_id, "receiver": isa.receiver_id, "control_number": isa.control_number,
        "ta1": [inspect_ta1(s, isa.delimiters) for s in isa.ta1],
        "groups": [{"functional_id": g.functional_id, "version": g.version,
                    "transactions": [j for grp, j in txs if grp is g]} for g in isa.groups],
    } for isa in env.interchanges]}


def _parse_one(text: str) -> GroupAck:
    (ack,) = [parse_999(ts) for ts in open_x12(text)]
    return ack


def _pyx12_valid(text: str) -> bool:
    return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None))


REJECTED = TransactionAck(
    "837", "0002", "R", "005010X222A1", ("5",), (
        SegmentError("NM1", 21, "2010", "8", (ElementError(9, "I12", data_element="67", bad_value="X"),),
                     ("CLM01", "C000124")),
        SegmentError("CLM", 28, "2300", "8", (ElementError(5, "7", component=1, data_element="1331",
                                                           bad_value="99"),)),
        SegmentError("REF", 40, None, "I8"),
    ))
ACCEPTED = TransactionAck("837", "0001", "A", "005010X222A1")
NOTED = TransactionAck("837", "0003", "E", "005010X222A1", (), (
    SegmentError("DTP", 30, "2400", "8", (ElementError(3, "8", data_element="1251", bad_value="20261345"),)),))


class TestFixtures:
    @pytest.mark.parametrize("name", ["999/accepted", "999/rejected_partial", "ta1/rejected", "ta1/accepted"])
    def test_inspect_matches_expected_json(self, name: str) -> None:
        """Inspecting each fixture gives exactly the JSON stored beside it."""
        expected = json.loads((FIXTURES / f"{name}.expected.json").read_text())
        assert _inspect_file(FIXTURES / f"{name}.x12") == expected

    def test_accepted_999_acknowledges_the_837(self) -> None:
        """An accepted 999 names the 837 group and transaction it accepts."""
        ack = _parse_one((FIXTURES / "999/accepted.x12").read_text())
        assert (ack.functional_id, ack.group_control_number, ack.code) == ("HC", "1001", "A")
        assert [(t.set_id, t.control_number, t.accepted) for t in ack.transactions] == [("837", "0001", True)]

    def test_partial_999_reports_rejected_transaction_with_segment_and_element_errors(self) -> None:
        """A partial 999 keeps IK3 positions, loops, CTX claim ids and IK4 element errors per transaction."""
        ack = _parse_one((FIXTURES / "999/rejected_partial.x12").read_text())
        assert (ack.code, ack.included, ack.received, ack.accepted) == ("P", 3, 3, 2)
        rejected = ack.transactions[1]
        assert not rejected.accepted and rejected.error_codes == ("I5",)
        first = rejected.segment_errors[0]
        assert (first.segment_id, first.position, first.loop_id, first.code) == ("NM1", 21, "2010", "8")
        assert first.business_unit == ("CLM01", "C000124")
        assert first.elements[0].description == "Implementation pattern match failure"
        clm = rejected.segment_errors[1].elements[0]
        assert (clm.position, clm.component, clm.data_element, clm.code, clm.bad_value) == (5, 1, "1331", "7", "99")
        assert rejected.segment_errors[2].description == "Implementation segment below minimum use"
        assert ack.transactions[2].accepted and ack.transactions[2].code == "E"

    def test_rejected_ta1_has_note_code_and_description(self) -> None:
        """A rejected TA1 gives the interchange control number, its date and the note code's meaning."""
        env = open_x12((FIXTURES / "ta1/rejected.x12").read_bytes())
        assert list(env) == []
        ta1 = parse_ta1(env.interchanges[0].ta1[0])
        assert (ta1.control_number, ta1.date, ta1.time) == ("000000042", date(2026, 11, 2), "2200")
        assert not ta1.accepted and ta1.note == "Invalid interchange sender ID"


class TestCodes:
    @pytest.mark.parametrize(("transactions", "code", "accepted"), [
        pytest.param(["A", "A"], "A", 2, id="all_accepted_is_A"),
        pytest.param(["A", "E"], "E", 2, id="accepted_with_errors_is_E"),
        pytest.param(["A", "R"], "P", 1, id="some_rejected_is_partial"),
        pytest.param(["R", "R"], "R", 0, id="none_accepted_is_R"),
    ])
    def test_group_code_follows_the_transactions(self, transactions: list[str], code: str, accepted: int) -> None:
        """AK9's code and accepted count are computed from the IK5 codes."""
        acks = [TransactionAck("837", f"{i:04d}", c) for i, c in enumerate(transactions, 1)]
        group = GroupAck.of("HC", "1", "005010X222A1", acks)
        assert (group.code, group.included, group.accepted) == (code, len(transactions), accepted)

    @pytest.mark.parametrize(("make", "text"), [
        pytest.param(lambda: SegmentError("X", 1, code="7"), "Segment not in proper sequence", id="ik304"),
        pytest.param(lambda: ElementError(1, "I6"), "Code value not used in implementation", id="ik403"),
        pytest.param(lambda: TransactionAck("837", "1", "W"), "Rejected, assurance failed validity tests",
                     id="ik501"),
        pytest.param(lambda: SegmentError("X", 1, code="Z9"), "description not loaded", id="unknown_code"),
    ])
    def test_codes_have_descriptions(self, make: object, text: str) -> None:
        """Each error code carries its description from the guide; an unknown one says so."""
        assert callable(make)
        assert make().description == text


class TestBuild:
    @pytest.mark.parametrize("transactions", [
        pytest.param([ACCEPTED], id="accepted"),
        pytest.param([ACCEPTED, REJECTED, NOTED], id="partial_with_errors"),
        pytest.param([REJECTED], id="all_rejected"),
    ])
    def test_999_round_trips_and_validates(self, transactions: list[TransactionAck]) -> None:
        """A built 999 parses back to the same acknowledgment and passes pyx12 with no error."""
        ack = GroupAck.of("HC", "1002", "005010X222A1", transactions)
        text = build_999([ack], envelope=envelope(12))
        assert _parse_one(text) == ack
        assert _pyx12_valid(text)

    def test_one_999_per_acknowledged_group(self) -> None:
        """Two group acknowledgments become two 999 sets with consecutive control numbers."""
        a = GroupAck.of("HC", "1", "005010X222A1", [ACCEPTED])
        b = GroupAck.of("HS", "2", "005010X279A1", [TransactionAck("270", "0001", "A")])
        text = build_999([a, b], envelope=envelope(3, "0005"))
        sets = list(open_x12(text))
        assert [ts.control_number for ts in sets] == ["0005", "0006"]

    @pytest.mark.parametrize("ta1", [
        pytest.param(Ta1("000000042", date(2026, 11, 2), "2200", "R", "006"), id="rejected"),
        pytest.param(Ta1("000000043", date(2026, 11, 2), "2215", "A", "000"), id="accepted"),
    ])
    def test_ta1_round_trips(self, ta1: Ta1) -> None:
        """A built TA1 interchange holds the TA1 and parses back to the same values."""
        text = build_ta1(ta1, envelope=envelope())
        env = open_x12(text)
        assert list(env) == []
        assert parse_ta1(env.interchanges[0].ta1[0]) == ta1
        assert _pyx12_valid(text)

    @pytest.mark.parametrize("bad", [
        pytest.param(lambda: build_999([GroupAck.of("HC", "1", None, [TransactionAck("837", "1", "P")])],
                                       envelope=envelope(1)), id="ik501_P_not_allowed"),
        pytest.param(lambda: build_999([GroupAck.of("HC", "1", None, [TransactionAck(
            "837", "1", "R", segment_errors=(SegmentError("NM1", 3, "2010BA", "8"),))])],
            envelope=envelope(1)), id="loop_id_over_4"),
        pytest.param(lambda: build_ta1(Ta1("1", date(2026, 1, 1), "0000", "Q", "000"), envelope=envelope()),
                     id="ta104_unknown"),
        pytest.param(lambda: build_999([], envelope=envelope(1)), id="nothing_to_ack"),
    ])
    def test_builder_refuses_invalid_data(self, bad: object) -> None:
        """Data that cannot be written as a valid 999 or TA1 raises BuildError."""
        assert callable(bad)
        with pytest.raises(BuildError):
            bad()


class TestErrors:
    def test_missing_ak9_is_a_transaction_error_with_position(self) -> None:
        """A 999 without AK9 raises TransactionError naming the missing segment."""
        text = build_999([GroupAck.of("HC", "1", None, [ACCEPTED])], envelope=envelope(1))
        text = text.replace("AK9*A*1*1*1~\n", "")
        ts = next(iter(open_x12(text, strict=False)))
        with pytest.raises(TransactionError) as err:
            parse_999(ts)
        assert err.value.expected == "AK9" and err.value.segment_number is not None

    def test_bad_ik4_position_does_not_echo_the_bad_value(self) -> None:
        """An IK4 with a non-numeric position raises without copying the element's bad value (PHI)."""
        text = build_999([GroupAck.of("HC", "1", None, [REJECTED])], envelope=envelope(1))
        text = text.replace("IK4*9*67*I12*X", "IK4*Q*67*I12*W123456789")
        with pytest.raises(TransactionError) as err:
            _parse_one(text)
        assert err.value.segment_id == "IK4" and "W123456789" not in str(err.value)

    def test_short_ta1_is_refused(self) -> None:
        """A TA1 with fewer than five elements raises TransactionError."""
        with pytest.raises(TransactionError):
            parse_ta1(["TA1", "000000001", "261101"])
