"""270 builder: fixtures validate with pyx12, set planning, per-inquiry content, input checks."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.errors import BuildError
from edi.validate import validate_x12
from edi.x12 import Segment, open_x12, read_segments
from edi.x270 import Batch270, Inquiry270, build_270, plan_sets

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures" / "270").glob("*.x12"))


def _load_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_outbound_fixtures", ROOT / "fixtures" / "make_outbound_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_outbound_fixtures", module)
    spec.loader.exec_module(module)
    return module


S = _load_samples()
DOS = date(2026, 11, 2)


def build(batch: Batch270, **kw: object) -> str:
    args: dict[str, object] = {"isa_control": 5, "gs_control": 6, "st_control": "0007",
                               "created": datetime(2026, 11, 5, 8, 0), "usage": "T"}
    args.update(kw)
    return build_270(batch, **args)  # type: ignore[arg-type]


def batch_of(*inquiries: Inquiry270) -> Batch270:
    return Batch270(S.SUBMITTER, S.RECEIVER, S.INFO_RECEIVER, inquiries, "E9")


def segs(text: str, seg_id: str | None = None) -> list[Segment]:
    return [s for s in read_segments(text) if seg_id is None or s[0] == seg_id]


SELF = Inquiry270("T1", S.AETNA, S.JANE, DOS)
DEP = Inquiry270("T2", S.AETNA, S.JOHN, DOS, patient=S.CHILD)


class TestFixtures:
    @pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
    def test_fixture_validates_with_pyx12(self, path: Path) -> None:
        """Every 270 fixture passes pyx12 X279A1 validation with zero errors."""
        result = validate_x12(path)
        assert result.errors == []
        assert result.ok

    def test_fixtures_are_regenerated_by_the_script(self) -> None:
        """The 270 fixture files on disk are exactly what make_outbound_fixtures.py builds."""
        built = {p: t for p, t in S.build_all().items() if p.parent.name == "270"}
        assert sorted(built) == FIXTURES
        for path, text in built.items():
            assert path.read_text(encoding="ascii") == text


class TestPlanSets:
    CASES = [
        ("self_only_one_set", [SELF, replace(SELF, trace_number="T3")], [["T1", "T3"]]),
        ("dependent_goes_last", [DEP, SELF], [["T1", "T2"]]),
        ("second_dependent_own_set", [DEP, replace(DEP, trace_number="T4"), SELF], [["T1", "T2"], ["T4"]]),
        ("one_set_per_payer", [SELF, replace(SELF, trace_number="T5", payer=S.MEDICAID)], [["T1"], ["T5"]]),
    ]

    @pytest.mark.parametrize(("inquiries", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    def test_plan(self, inquiries: list[Inquiry270], expected: list[list[str]]) -> None:
        """Sets hold one payer, subscriber-is-patient inquiries first and at most one dependent, last."""
        assert [[q.trace_number for q in qs] for qs in plan_sets(inquiries)] == expected

    def test_set_control_numbers_count_up(self) -> None:
        """Several sets get ST02 st_control, st_control + 1, ... and GE01 counts them."""
        text = build(batch_of(DEP, replace(DEP, trace_number="T4"), replace(SELF, payer=S.MEDICAID)),
                     st_control="0098")
        env = open_x12(text)
        assert [t.control_number for t in env] == ["0098", "0099", "0100"]
        assert env.interchanges[0].groups[0].declared_transactions == 3
        assert validate_x12(text).ok


class TestContent:
    def test_self_inquiry_loops(self) -> None:
        """Payer NM1*PR/PI, practice NM1*1P/XX, subscriber TRN, NM1*IL/MI, DMG, DTP*291 and EQ*MH."""
        seq = segs(build(batch_of(SELF)))
        body = seq[seq.index(["BHT", "0022", "13", "E9", "20261105", "0800"]) + 1:-3]
        assert body == [
            ["HL", "1", "", "20", "1"], ["NM1", "PR", "2", "AETNA", "", "", "", "", "PI", "60054"],
            ["HL", "2", "1", "21", "1"],
            ["NM1", "1P", "2", "SUNRISE BEHAVIORAL HEALTH", "", "", "", "", "XX", "1234567893"],
            ["HL", "3", "2", "22", "0"], ["TRN", "1", "T1", "1123456789"],
            ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W100200300"],
            ["DMG", "D8", "19800102", "F"], ["DTP", "291", "D8", "20261102"], ["EQ", "MH"],
        ]

    def test_dependent_inquiry_loops(self) -> None:
        """A dependent gets HL 23 under the subscriber with the TRN, NM1*03, DMG, date and EQs."""
        seq = segs(build(batch_of(DEP)))
        i = seq.index(["HL", "3", "2", "22", "1"])
        assert seq[i + 1] == ["NM1", "IL", "1", "ROE", "JOHN", "", "", "", "MI", "W900800700"]
        assert seq[i + 2] == ["HL", "4", "3", "23", "0"]
        assert seq[i + 3][:3] == ["TRN", "1", "T2"]
        assert seq[i + 4] == ["NM1", "03", "1", "ROE", "TIMMY"]
        assert seq[i + 5] == ["DMG", "D8", "20130405", "M"]
        assert seq[i + 6:i + 8] == [["DTP", "291", "D8", "20261102"], ["EQ", "MH"]]

    @pytest.mark.parametrize("types", [("MH",), ("A4", "A6", "A7", "A8"), ("AI", "AJ", "AK", "MH")],
                             ids=["default_mh", "psychiatric", "substance_use"])
    def test_service_types(self, types: tuple[str, ...]) -> None:
        """One EQ per service type asked, in order, and the file validates."""
        text = build(batch_of(replace(SELF, service_types=types)))
        assert [s[1] for s in segs(text, "EQ")] == list(types)
        assert validate_x12(text).ok


class TestBuildErrors:
    CASES = [
        ("unknown_service_type", batch_of(replace(SELF, service_types=("ZZ",))), "service type"),
        ("no_service_type", batch_of(replace(SELF, service_types=())), "service type"),
        ("duplicate_trace", batch_of(SELF, SELF), "twice"),
        ("bad_trace", batch_of(replace(SELF, trace_number="t 1")), "trace number"),
        ("bad_npi", replace(batch_of(SELF), information_receiver=replace(S.INFO_RECEIVER, npi="12")), "NPI"),
        ("bad_tax_id", replace(batch_of(SELF), information_receiver=replace(S.INFO_RECEIVER, tax_id="1")), "tax id"),
        ("member_id_missing", batch_of(replace(SELF, subscriber=replace(S.JANE, member_id=""))), "member id"),
        ("empty_batch", batch_of(), "no inquiries"),
    ]

    @pytest.mark.parametrize(("batch", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    def test_bad_input(self, batch: Batch270, fragment: str) -> None:
        """Input a 270 cannot carry raises BuildError naming the field, without the person's data."""
        with pytest.raises(BuildError) as err:
            build(batch)
        assert fragment in str(err.value)
        assert "DOE" not in str(err.value) and "W100200300" not in str(err.value)


@st.composite
def inquiries(draw: st.DrawFn) -> Batch270:
    n = draw(st.integers(1, 10))
    out = []
    for i in range(n):
        out.append(Inquiry270(
            f"T{i}", draw(st.sampled_from([S.AETNA, S.MEDICAID])), draw(st.sampled_from([S.JANE, S.JOHN])),
            date(2026, 1, 1 + draw(st.integers(0, 27))),
            patient=draw(st.sampled_from([None, S.CHILD, S.SPOUSE])),
            service_types=tuple(draw(st.lists(st.sampled_from(["MH", "A4", "A6", "A7", "A8", "AI", "AJ", "AK"]),
                                              min_size=1, max_size=8, unique=True)))))
    return batch_of(*out)


class TestRandomBatches:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(inquiries())
    def test_random_batch_validates(self, batch: Batch270) -> None:
        """Any mix of payers, subscribers and dependents builds a 270 file with zero pyx12 errors."""
        text = build(batch)
        assert validate_x12(text).errors == []
        assert sorted(s[2] for s in segs(text, "TRN")) == sorted(q.trace_number for q in batch.inquiries)
        assert len(list(open_x12(text))) == len(plan_sets(batch.inquiries))
