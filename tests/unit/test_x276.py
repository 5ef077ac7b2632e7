"""276 builder (005010X212): loops and required segments checked directly (pyx12 has no 276 map); the parser:
round trips, the inspect JSON and broken sets."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from edi.errors import BuildError, TransactionError
from edi.inspect import inspect_stream
from edi.x12 import Segment, open_x12, read_segments
from edi.x276 import Batch276, ClaimStatusRequest, EnvelopeSpec, StatusRequest276, build_276, parse_276
from edi.x837p import clean_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures" / "276").glob("*.x12"))


def _load_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_outbound_fixtures", ROOT / "fixtures" / "make_outbound_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_outbound_fixtures", module)
    spec.loader.exec_module(module)
    return module


S = _load_samples()
DOS = date(2026, 11, 2)
SELF = StatusRequest276("C000201", S.AETNA, S.JANE, Decimal("180.00"), DOS, date(2026, 11, 3),
                        payer_claim_number="PCN5")
DEP = StatusRequest276("C000202", S.AETNA, S.JOHN, Decimal("99.50"), DOS, DOS, patient=S.CHILD)


def batch_of(*requests: StatusRequest276) -> Batch276:
    return Batch276(S.SUBMITTER, S.RECEIVER, S.BATCHES_276["subscriber_and_dependent"].provider, requests, "S9")


def build(batch: Batch276, **kw: object) -> str:
    args: dict[str, object] = {"isa_control": 3, "gs_control": 4, "st_control": "0005",
                               "created": datetime(2026, 11, 5, 8, 0), "usage": "T"}
    args.update(kw)
    return build_276(batch, envelope=EnvelopeSpec(**args))  # type: ignore[arg-type]


def body(text: str) -> list[Segment]:
    """Segments between ST and SE of the first set."""
    seq = read_segments(text)
    st_i = next(i for i, s in enumerate(seq) if s[0] == "ST")
    se_i = next(i for i, s in enumerate(seq) if s[0] == "SE")
    return seq[st_i + 1:se_i]


class TestFixtures:
    def test_fixtures_are_regenerated_by_the_script(self) -> None:
        """The 276 fixture files on disk are exactly what make_outbound_fixtures.py builds."""
        built = {p: t for p, t in S.build_all().items() if p.parent.name == "276"}
        assert sorted(built) == FIXTURES
        for path, text in built.items():
            assert path.read_text(encoding="ascii") == text

    @pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
    def test_fixture_envelopes_read_back(self, path: Path) -> None:
        """Each 276 fixture reads back strictly as 276 sets of 005010X212 in an HR group."""
        env = open_x12(path.read_bytes())
        sets = [(t.set_id, t.implementation) for t in env]
        assert sets and all(s == ("276", "005010X212") for s in sets)
        assert env.interchanges[0].groups[0].functional_id == "HR"


class TestLoops:
    def test_subscriber_is_patient(self) -> None:
        """2000A-2000D with their NM1s, DMG in 2000D, then 2200D TRN, REF*1K, REF*EJ, AMT*T3, DTP*472 RD8."""
        assert body(build(batch_of(SELF))) == [
            ["BHT", "0010", "13", "S9", "20261105", "0800"],
            ["HL", "1", "", "20", "1"], ["NM1", "PR", "2", "AETNA", "", "", "", "", "PI", "60054"],
            ["HL", "2", "1", "21", "1"],
            ["NM1", "41", "2", "SUNRISE BEHAVIORAL HEALTH", "", "", "", "", "46", "SUNRISE01"],
            ["HL", "3", "2", "19", "1"],
            ["NM1", "1P", "2", "SUNRISE BEHAVIORAL HEALTH", "", "", "", "", "XX", "1234567893"],
            ["HL", "4", "3", "22", "0"], ["DMG", "D8", "19800102", "F"],
            ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W100200300"],
            ["TRN", "1", "C000201"], ["REF", "1K", "PCN5"], ["REF", "EJ", "C000201"], ["AMT", "T3", "180"],
            ["DTP", "472", "RD8", "20261102-20261103"],
        ]

    def test_dependent(self) -> None:
        """A dependent gets 2000E (HL 23, no HL04) with DMG and NM1*QC; the subscriber has no DMG."""
        seg = body(build(batch_of(DEP)))
        tail = seg[seg.index(["HL", "4", "3", "22", "1"]):]
        assert tail == [
            ["HL", "4", "3", "22", "1"],
            ["NM1", "IL", "1", "ROE", "JOHN", "", "", "", "MI", "W900800700"],
            ["HL", "5", "4", "23"], ["DMG", "D8", "20130405", "M"], ["NM1", "QC", "1", "ROE", "TIMMY"],
            ["TRN", "1", "C000202"], ["REF", "EJ", "C000202"], ["AMT", "T3", "99.5"],
            ["DTP", "472", "RD8", "20261102-20261102"],
        ]

    def test_claims_of_one_person_share_a_subscriber_loop(self) -> None:
        """Two claims for the same subscriber and payer are two 2200D loops under one HL 22."""
        seg = body(build(batch_of(SELF, replace(SELF, claim_id="C000203", payer_claim_number=""))))
        assert [s[3] for s in seg if s[0] == "HL"] == ["20", "21", "19", "22"]
        assert [s[2] for s in seg if s[0] == "TRN"] == ["C000201", "C000203"]

    def test_one_set_per_payer(self) -> None:
        """Requests to two payers become two sets with ST02 counting up, and counts read back."""
        text = build(batch_of(SELF, replace(DEP, payer=S.MEDICAID)), st_control="0010")
        env = open_x12(text)
        counted = [(t.control_number, len(list(t.segments))) for t in env]
        assert counted == [("0010", 17), ("0011", 18)]
        assert [(s[2], int(s[1])) for s in read_segments(text) if s[0] == "SE"] == counted
        assert env.interchanges[0].groups[0].declared_transactions == 2

    @pytest.mark.parametrize(("pcn", "expected"), [("PCN5", ["PCN5"]), ("", [])], ids=["known", "unknown"])
    def test_payer_claim_number_when_known(self, pcn: str, expected: list[str]) -> None:
        """REF*1K is written only when the payer claim number is known."""
        seg = body(build(batch_of(replace(SELF, payer_claim_number=pcn))))
        assert [s[2] for s in seg if s[:2] == ["REF", "1K"]] == expected


class TestBuildErrors:
    CASES = [
        ("dates_reversed", batch_of(replace(SELF, service_to=date(2026, 11, 1))), "service dates"),
        ("claim_id_too_long", batch_of(replace(SELF, claim_id="C" * 21)), "claim id"),
        ("negative_charge", batch_of(replace(SELF, total_charge=Decimal("-1.00"))), "charge"),
        ("no_requests", batch_of(), "no status requests"),
        ("member_id_missing", batch_of(replace(SELF, subscriber=replace(S.JANE, member_id=""))), "member id"),
        ("dob_missing_self", batch_of(replace(SELF, subscriber=replace(S.JANE, dob=None))), "date of birth"),
    ]

    @pytest.mark.parametrize(("batch", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    def test_bad_input(self, batch: Batch276, fragment: str) -> None:
        """Input a 276 cannot carry raises BuildError naming the field, without the person's data."""
        with pytest.raises(BuildError) as err:
            build(batch)
        assert fragment in str(err.value)
        assert "DOE" not in str(err.value) and "W100200300" not in str(err.value)


def parse(text: str) -> list[ClaimStatusRequest]:
    return [parse_276(ts) for ts in open_x12(text)]


def asked(batch: Batch276) -> list[tuple[object, ...]]:
    """What each request of ``batch`` asks, grouped by payer and person as the builder writes them."""
    by_payer: dict[object, dict[object, list[StatusRequest276]]] = {}
    for r in batch.requests:
        by_payer.setdefault(r.payer, {}).setdefault((r.subscriber, r.patient), []).append(r)
    out: list[tuple[object, ...]] = []
    for people in by_payer.values():
        for rs in people.values():
            for r in rs:
                s, p = r.subscriber, r.patient
                out.append((r.payer.payer_id, r.claim_id, r.claim_id, r.payer_claim_number or None, r.total_charge,
                            r.service_from, r.service_to,
                            (clean_text(s.last_name), clean_text(s.first_name), s.member_id,
                             s.dob if p is None else None),
                            None if p is None else (clean_text(p.last_name), clean_text(p.first_name), p.dob)))
    return out


def read_back(requests: list[ClaimStatusRequest]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for r in requests:
        for q in r.inquiries:
            s, p = q.subscriber, q.patient
            out.append((r.payer_id, q.trace_number, q.claim_id, q.payer_claim_number, q.charge, q.service_from,
                        q.service_to, (s.last_name, s.first_name, s.member_id, s.birth_date),
                        None if p is None else (p.last_name, p.first_name, p.birth_date)))
    return out


class TestParse:
    @pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
    def test_inspect_matches_expected_json(self, path: Path) -> None:
        """`edi inspect --json` of each 276 fixture equals the expected JSON stored beside it."""
        expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
        with path.open("rb") as fh:
            assert inspect_stream(fh) == expected

    @pytest.mark.parametrize("batch", [S.BATCHES_276["subscriber_and_dependent"], batch_of(SELF, DEP),
                                       batch_of(DEP, replace(DEP, claim_id="C000203"), SELF)],
                             ids=["fixture", "self_and_dependent", "two_claims_one_dependent"])
    def test_build_then_parse_gives_the_same_requests(self, batch: Batch276) -> None:
        """Every claim asked about is read back with its trace, ids, charge, dates and people."""
        requests = parse(build(batch))
        assert read_back(requests) == asked(batch)
        assert all(r.provider is not None and r.provider.id == "1234567893" for r in requests)

    def test_inspect_lists_claims_with_trace_numbers_and_no_names(self) -> None:
        """The inspect JSON has each claim's trace, claim id, charge and dates, and no name or member id."""
        doc = inspect_stream(io.BytesIO(build(batch_of(SELF, DEP)).encode()))
        (tx,) = doc["interchanges"][0]["groups"][0]["transactions"]
        assert [(q["trace_number"], q["level"], q["charge"], q["service_from"], q["service_to"])
                for q in tx["inquiries"]] == [("C000201", "subscriber", "180.00", "2026-11-02", "2026-11-03"),
                                              ("C000202", "dependent", "99.50", "2026-11-02", "2026-11-02")]
        assert tx["inquiries"][0]["payer_claim_number"] == "PCN5"
        for phi in ("DOE", "JANE", "W100200300", "TIMMY"):
            assert phi not in json.dumps(doc)

    @pytest.mark.parametrize(("old", "new", "segment_id", "element"), [
        ("NM1*PR*2*AETNA*****PI*60054", "NM1*PR*2*AETNA", "ST", 0),
        ("AMT*T3*180", "AMT*T3*1X0", "AMT", 2),
        ("DTP*472*RD8*20261102-20261103", "DTP*472*RD8*20261102-2026110", "DTP", 3),
        ("TRN*1*C000201", "TRN*1*", "TRN", 2),
    ], ids=["no_payer_id", "bad_charge", "bad_date", "empty_trace"])
    def test_broken_set_names_the_segment_and_element(self, old: str, new: str, segment_id: str,
                                                      element: int) -> None:
        """A 276 the parser cannot read raises TransactionError with the segment number, id and element."""
        text = build(batch_of(SELF))
        assert old in text
        with pytest.raises(TransactionError) as err:
            parse(text.replace(old, new))
        assert (err.value.segment_id, err.value.element) == (segment_id, element)
        for phi in ("DOE", "JANE", "W100200300"):
            assert phi not in str(err.value)
