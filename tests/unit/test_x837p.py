"""837P builder and parser: fixtures, hierarchy, envelope counts, claim content, input checks, round trips,
the inspect JSON, broken sets, random batches."""

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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.errors import BuildError, TransactionError
from edi.inspect import inspect_stream
from edi.validate import validate_x12
from edi.x12 import Segment, open_x12, read_segments
from edi.x837p import (
    Batch837,
    Claim837,
    ClaimSubmission,
    EnvelopeSpec,
    Patient,
    Payer,
    ServiceLine,
    Subscriber,
    build_837p,
    clean_text,
    parse_837p,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures" / "837p").glob("*.x12"))


def _load_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_outbound_fixtures", ROOT / "fixtures" / "make_outbound_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_outbound_fixtures", module)
    spec.loader.exec_module(module)
    return module


S = _load_samples()
CREATED = datetime(2026, 11, 5, 21, 30)


def build(batch: Batch837, **kw: object) -> str:
    args: dict[str, object] = {"isa_control": 7, "gs_control": 8, "st_control": "0009", "created": CREATED,
                               "usage": "T"}
    args.update(kw)
    return build_837p(batch, envelope=EnvelopeSpec(**args))  # type: ignore[arg-type]


def segs(text: str, seg_id: str | None = None) -> list[Segment]:
    out = read_segments(text)
    return [s for s in out if seg_id is None or s[0] == seg_id]


def one_claim(**changes: object) -> Batch837:
    base: Batch837 = S.CLAIMS_837["single_claim_self_subscriber"]
    claim = replace(base.claims[0], **changes)  # type: ignore[arg-type]
    return replace(base, claims=(claim,))


def check_hierarchy(text: str) -> None:
    """HL01 counts 1.. in order, parents precede children, levels nest 20 > 22 > 23, HL04 is right."""
    hls = segs(text, "HL")
    levels: dict[str, str] = {}
    children: dict[str, int] = {}
    for n, hl in enumerate(hls, 1):
        assert hl[1] == str(n)
        parent = hl[2] if len(hl) > 2 else ""
        if hl[3] == "20":
            assert parent == ""
        else:
            assert levels[parent] == {"22": "20", "23": "22"}[hl[3]]
            children[parent] = children.get(parent, 0) + 1
        levels[hl[1]] = hl[3]
    for hl in hls:
        assert hl[4] == ("1" if children.get(hl[1]) else "0")


class TestFixtures:
    @pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
    def test_fixture_validates_with_pyx12(self, path: Path) -> None:
        """Every 837P fixture passes pyx12 implementation-guide validation with zero errors."""
        result = validate_x12(path)
        assert result.errors == []
        assert result.ok

    def test_fixtures_are_regenerated_by_the_script(self) -> None:
        """The fixture files on disk are exactly what make_outbound_fixtures.py builds."""
        built = {p: t for p, t in S.build_all().items() if p.parent.name == "837p"}
        assert sorted(built) == FIXTURES
        for path, text in built.items():
            assert path.read_text(encoding="ascii") == text

    @pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
    def test_fixture_hierarchy(self, path: Path) -> None:
        """HL numbering and child codes are consistent in every fixture."""
        check_hierarchy(path.read_text())


class TestEnvelope:
    def test_counts_read_back(self) -> None:
        """SE01, GE01 and IEA01 match what the strict reader counts, with the given control numbers."""
        text = build(S.CLAIMS_837["dual_diagnosis_multi_line"], isa_control=42, gs_control=43, st_control="0044")
        env = open_x12(text)
        sets = [(t.set_id, t.control_number, t.implementation, len(list(t.segments))) for t in env]
        assert sets == [("837", "0044", "005010X222A1", len(segs(text)) - 4)]
        isa = env.interchanges[0]
        assert (isa.control_number, isa.usage, isa.sender_id, isa.receiver_id) == (
            "000000042", "T", "SUNRISE01", "CLEARHOUSE")
        assert isa.declared_groups == 1
        assert isa.groups[0].control_number == "43"
        assert isa.groups[0].declared_transactions == 1
        assert segs(text, "SE")[0][1] == str(isa.groups[0].transactions[0].segment_count)

    @pytest.mark.parametrize("usage", ["T", "P"], ids=["test", "production"])
    def test_usage_indicator(self, usage: str) -> None:
        """ISA15 carries the usage indicator asked for."""
        assert segs(build(one_claim(), usage=usage), "ISA")[0][15] == usage

    def test_bht(self) -> None:
        """BHT is 0019, 00, the batch reference, the creation date and time, CH."""
        bht = segs(build(S.CLAIMS_837["single_claim_self_subscriber"]), "BHT")[0]
        assert bht[1:] == ["0019", "00", "B000101", "20261105", "2130", "CH"]


class TestClaimContent:
    def test_total_is_sum_of_lines(self) -> None:
        """CLM02 is the sum of the SV102 line charges."""
        text = build(S.CLAIMS_837["dual_diagnosis_multi_line"])
        clm = segs(text, "CLM")[0]
        assert Decimal(clm[2]) == sum(Decimal(s[2]) for s in segs(text, "SV1")[:3])
        assert Decimal(clm[2]) == Decimal("325.00")

    @pytest.mark.parametrize("freq", ["1", "7", "8"], ids=["original", "replacement", "void"])
    def test_clm_composite_and_flags(self, freq: str) -> None:
        """CLM05 is POS:B:frequency and CLM06-09 are Y, A, Y, Y."""
        text = build(one_claim(frequency_code=freq, payer_claim_number="PCN1", place_of_service="10"))
        clm = segs(text, "CLM")[0]
        assert clm[5] == f"10:B:{freq}"
        assert clm[6:10] == ["Y", "A", "Y", "Y"]

    @pytest.mark.parametrize(("freq", "expected"), [("1", []), ("7", ["PCN1"]), ("8", ["PCN1"])],
                             ids=["original_no_f8", "replacement_f8", "void_f8"])
    def test_ref_f8_only_for_replacement_and_void(self, freq: str, expected: list[str]) -> None:
        """REF*F8 carries the payer claim number on frequency 7 and 8 claims only."""
        text = build(one_claim(frequency_code=freq, payer_claim_number="PCN1"))
        assert [s[2] for s in segs(text, "REF") if s[1] == "F8"] == expected

    @pytest.mark.parametrize(("auth", "expected"), [("AUTH1", ["AUTH1"]), ("", [])], ids=["with_auth", "no_auth"])
    def test_ref_g1_prior_authorization(self, auth: str, expected: list[str]) -> None:
        """REF*G1 is written when the claim has a prior authorization number."""
        assert [s[2] for s in segs(build(one_claim(prior_auth=auth)), "REF") if s[1] == "G1"] == expected

    def test_diagnoses_without_dot_principal_first(self) -> None:
        """HI has ABK for the principal then ABF for the others, codes without the dot."""
        hi = segs(build(S.CLAIMS_837["dual_diagnosis_multi_line"]), "HI")[0]
        assert hi[1:] == ["ABK:F331", "ABF:F1020", "ABF:Z630"]

    def test_service_line(self) -> None:
        """SV1 has HC:code:modifiers, charge, UN, units, no POS, pointers; then DTP*472 and REF*6R."""
        text = build(S.CLAIMS_837["telehealth_modifiers"])
        sv1 = segs(text, "SV1")[0]
        assert sv1[1:] == ["HC:90837:HO:95", "180", "UN", "1", "", "", "1"]
        assert ["DTP", "472", "D8", "20261102"] in segs(text)
        assert [s[2] for s in segs(text, "REF") if s[1] == "6R"] == ["L000108", "L000109"]

    def test_units_and_pointers(self) -> None:
        """Units and the diagnosis pointer composite are written as given."""
        sv1 = segs(build(S.CLAIMS_837["dual_diagnosis_multi_line"]), "SV1")
        assert [(s[4], s[7]) for s in sv1] == [("1", "1:2:3"), ("1", "1:2"), ("1", "1"), ("4", "1:2")]

    @pytest.mark.parametrize(("name", "sbr02", "pat"), [
        ("single_claim_self_subscriber", "18", None),
        ("patient_not_subscriber", "", "19"),
    ], ids=["self_is_18", "dependent_blank_with_pat"])
    def test_subscriber_relationship(self, name: str, sbr02: str, pat: str | None) -> None:
        """SBR02 is 18 when the subscriber is the patient; otherwise PAT carries the relationship."""
        text = build(S.CLAIMS_837[name])
        assert segs(text, "SBR")[0][2] == sbr02
        pats = segs(text, "PAT")
        assert (pats[0][1] if pats else None) == pat

    @pytest.mark.parametrize(("relationship", "code"), [("spouse", "01"), ("child", "19"), ("other", "G8")],
                             ids=["spouse_01", "child_19", "other_g8"])
    def test_patient_relationship_codes(self, relationship: str, code: str) -> None:
        """PAT01 is 01 for a spouse, 19 for a child, G8 for anyone else."""
        base = S.CLAIMS_837["patient_not_subscriber"]
        claim = replace(base.claims[0], patient=replace(S.CHILD, relationship=relationship))
        assert segs(build(replace(base, claims=(claim,))), "PAT")[0][1] == code

    def test_claim_filing_indicator_per_payer(self) -> None:
        """SBR09 is the payer's claim filing indicator (CI by default, MC for Medicaid)."""
        text = build(S.CLAIMS_837["dual_diagnosis_multi_line"])
        assert [s[9] for s in segs(text, "SBR")] == ["CI", "MC"]

    def test_subscriber_demographics_only_when_patient(self) -> None:
        """DMG follows the subscriber only when the subscriber is the patient, and the patient otherwise."""
        text = build(S.CLAIMS_837["patient_not_subscriber"])
        ids = [s[0] for s in segs(text)]
        assert ids.count("DMG") == 2  # the two dependents
        assert all(ids[i - 3] == "NM1" and segs(text)[i - 3][1] == "QC" for i, x in enumerate(ids) if x == "DMG")

    def test_same_subscriber_claims_share_one_hl(self) -> None:
        """Two claims of one subscriber and payer sit under one subscriber HL."""
        text = build(S.CLAIMS_837["telehealth_modifiers"])
        assert [s[3] for s in segs(text, "HL")] == ["20", "22"]
        assert len(segs(text, "CLM")) == 2

    def test_billing_provider_loop(self) -> None:
        """2000A/2010AA carry PRV*BI*PXC, NM1*85 with XX NPI, N3, N4 and REF*EI."""
        seq = segs(build(one_claim()))
        i = next(n for n, s in enumerate(seq) if s[0] == "HL")
        assert seq[i + 1] == ["PRV", "BI", "PXC", "261QM0801X"]
        assert seq[i + 2][1:3] == ["85", "2"] and seq[i + 2][8:] == ["XX", "1234567893"]
        assert [s[0] for s in seq[i + 3:i + 6]] == ["N3", "N4", "REF"]
        assert seq[i + 5] == ["REF", "EI", "123456789"]

    def test_rendering_provider(self) -> None:
        """2310B is NM1*82*1 with the clinician's NPI, then PRV*PE*PXC with the taxonomy."""
        seq = segs(build(one_claim()))
        i = next(n for n, s in enumerate(seq) if s[:2] == ["NM1", "82"])
        assert seq[i] == ["NM1", "82", "1", "RIVERA", "ANA", "", "", "", "XX", "1245319599"]
        assert seq[i + 1] == ["PRV", "PE", "PXC", "1041C0700X"]


class TestText:
    @pytest.mark.parametrize(("raw", "clean"), [
        ("O'Brien-Smith", "O'BRIEN-SMITH"),
        ("José  Núñez", "JOSE NUNEZ"),
        ("A*B~C:D^E", "A B C D E"),
        ("  lower case  ", "LOWER CASE"),
        ("Tab\tNew\nLine", "TAB NEW LINE"),
    ], ids=["apostrophe_dash_kept", "accents_folded", "delimiters_removed", "upper_and_trim", "controls_removed"])
    def test_clean_text(self, raw: str, clean: str) -> None:
        """Free text is upper case, basic character set only, with no delimiter characters."""
        assert clean_text(raw) == clean

    def test_names_cannot_break_segments(self) -> None:
        """A subscriber name holding delimiters still builds a file that validates."""
        sub = replace(S.JANE, last_name="Do*e~", first_name="Ja:ne^")
        text = build(one_claim(subscriber=sub))
        nm1 = next(s for s in segs(text, "NM1") if s[1] == "IL")
        assert nm1[3:5] == ["DO E", "JA NE"]
        assert validate_x12(text).ok


def _line(**kw: object) -> ServiceLine:
    base = ServiceLine("90837", Decimal("180.00"), date(2026, 11, 2), "L1", (1,))
    return replace(base, **kw)  # type: ignore[arg-type]


class TestBuildErrors:
    CASES = [
        ("billing_npi_missing", lambda: replace(one_claim(), billing_provider=replace(S.PRACTICE, npi="")),
         "billing provider NPI"),
        ("rendering_npi_missing", lambda: one_claim(rendering=replace(S.LCSW, npi="")), "rendering provider NPI"),
        ("too_many_diagnoses", lambda: one_claim(diagnoses=tuple(f"F{n}.0" for n in range(10, 23))),
         "more than 12 diagnoses"),
        ("too_many_modifiers", lambda: one_claim(lines=(_line(modifiers=("HO", "95", "GT", "25", "59")),)),
         "more than 4 modifiers"),
        ("claim_id_too_long", lambda: one_claim(claim_id="C" * 21), "claim id"),
        ("pointer_out_of_range", lambda: one_claim(lines=(_line(diagnosis_pointers=(2,)),)), "points to a diagnosis"),
        ("too_many_pointers", lambda: one_claim(diagnoses=("F33.1", "F41.1", "F43.10", "F90.0", "F42.2"),
                                                lines=(_line(diagnosis_pointers=(1, 2, 3, 4, 5)),)),
         "more than 4 diagnosis pointers"),
        ("replacement_without_pcn", lambda: one_claim(frequency_code="7", payer_claim_number=""), "REF*F8"),
        ("no_lines", lambda: one_claim(lines=()), "no service lines"),
        ("bad_diagnosis", lambda: one_claim(diagnoses=("33.1",)), "not an ICD-10-CM code"),
        ("fractional_cents", lambda: one_claim(lines=(_line(charge=Decimal("1.005")),)), "cents"),
        ("member_id_missing", lambda: one_claim(subscriber=replace(S.JANE, member_id="")), "member id"),
        ("subscriber_address_missing", lambda: one_claim(subscriber=replace(S.JANE, address=None)),
         "subscriber address"),
        ("duplicate_line_control", lambda: one_claim(lines=(_line(), _line())), "control number"),
        ("bad_frequency", lambda: one_claim(frequency_code="5"), "frequency"),
        ("bad_relationship", lambda: one_claim(patient=replace(S.CHILD, relationship="cousin")), "relationship"),
    ]

    @pytest.mark.parametrize(("make", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    def test_bad_input_raises_build_error(self, make: object, fragment: str) -> None:
        """Unwritable input raises BuildError naming the field and the claim id, without PHI."""
        batch = make()  # type: ignore[operator]
        with pytest.raises(BuildError) as err:
            build(batch)
        message = str(err.value)
        assert fragment in message
        assert batch.claims[0].claim_id in message or "billing provider" in message
        for phi in ("DOE", "Doe", "JANE", "W100200300", "19800102", "Oak"):
            assert phi not in message

    def test_duplicate_claim_ids(self) -> None:
        """The same claim id twice in one batch is refused."""
        batch = one_claim()
        with pytest.raises(BuildError, match="C000101"):
            build(replace(batch, claims=batch.claims * 2))

    @pytest.mark.parametrize(("kw", "fragment"), [
        ({"usage": "X"}, "usage"), ({"st_control": "12"}, "ST02"), ({"st_control": "ABCD"}, "ST02"),
    ], ids=["usage_t_or_p", "st_control_short", "st_control_not_digits"])
    def test_bad_envelope_arguments(self, kw: dict[str, object], fragment: str) -> None:
        """Usage must be T or P and ST02 4-9 digits."""
        with pytest.raises(BuildError, match=fragment):
            build(one_claim(), **kw)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse(text: str) -> list[ClaimSubmission]:
    return [parse_837p(ts) for ts in open_x12(text)]


def what_was_built(batch: Batch837) -> list[dict[str, object]]:
    """The claims of ``batch`` as the builder writes them (upper-cased text, diagnoses without the dot)."""
    out: list[dict[str, object]] = []
    for c in batch.claims:
        bp = c.billing_provider or batch.billing_provider
        out.append({
            "claim_id": c.claim_id, "charge": c.total_charge, "pos": c.place_of_service, "freq": c.frequency_code,
            "payer": (clean_text(c.payer.name), c.payer.payer_id), "filing": c.payer.claim_filing_indicator,
            "subscriber": (clean_text(c.subscriber.last_name), clean_text(c.subscriber.first_name) or None,
                           c.subscriber.member_id, c.subscriber.dob if c.patient is None else None),
            "patient": None if c.patient is None else (clean_text(c.patient.last_name),
                                                       clean_text(c.patient.first_name) or None, c.patient.dob,
                                                       c.patient.sex),
            "billing": (clean_text(bp.name), bp.npi, bp.tax_id),
            "rendering": None if c.rendering is None else c.rendering.npi,
            "diagnoses": tuple(d.replace(".", "") for d in c.diagnoses),
            "prior_auth": c.prior_auth or None, "payer_claim_number": c.payer_claim_number or None,
            "lines": [(n, ln.procedure, ln.modifiers, ln.charge, Decimal(ln.units), ln.diagnosis_pointers,
                       ln.date_of_service, ln.line_control_number) for n, ln in enumerate(c.lines, 1)],
        })
    return out


def what_was_read(sub: ClaimSubmission) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for c in sub.claims:
        s, p = c.subscriber, c.patient
        out.append({
            "claim_id": c.claim_id, "charge": c.charge, "pos": c.place_of_service, "freq": c.frequency_code,
            "payer": (c.payer.name, c.payer.id), "filing": c.filing_indicator,
            "subscriber": (s.last_name, s.first_name, s.member_id, s.birth_date),
            "patient": None if p is None else (p.last_name, p.first_name, p.birth_date, p.sex),
            "billing": (c.billing_provider.name, c.billing_provider.id, c.billing_tax_id),
            "rendering": None if c.rendering is None else c.rendering.id,
            "diagnoses": c.diagnoses, "prior_auth": c.prior_auth, "payer_claim_number": c.payer_claim_number,
            "lines": [(ln.number, ln.procedure, ln.modifiers, ln.charge, ln.units, ln.diagnosis_pointers,
                       ln.service_date, ln.line_control_number) for ln in c.lines],
        })
    return out


def with_segments(text: str, after: str, new: list[str]) -> str:
    """``text`` with ``new`` segments after the first segment starting with ``after``, SE01 recounted."""
    seq = text.split("~\n")
    i = next(k for k, seg in enumerate(seq) if seg.startswith(after))
    seq[i + 1:i + 1] = new
    se = next(k for k, seg in enumerate(seq) if seg.startswith("SE*"))
    parts = seq[se].split("*")
    seq[se] = "*".join([parts[0], str(int(parts[1]) + len(new)), *parts[2:]])
    return "~\n".join(seq)


SECONDARY_2320 = ["SBR*P*18*******CI", "CAS*PR*3*25", "AMT*D*110", "NM1*IL*1*DOE*JANE****MI*W100200300",
                  "NM1*PR*2*AETNA*****PI*60054", "DTP*573*D8*20261120"]
SECONDARY_2430 = ["SVD*60054*110*HC:90837:HO**1", "CAS*CO*45*45", "CAS*PR*3*25", "DTP*573*D8*20261120"]


class TestParse:
    @pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
    def test_inspect_matches_expected_json(self, path: Path) -> None:
        """`edi inspect --json` of each 837P fixture equals the expected JSON stored beside it."""
        expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
        with path.open("rb") as fh:
            assert inspect_stream(fh) == expected

    @pytest.mark.parametrize("name", sorted(S.CLAIMS_837))
    def test_build_then_parse_gives_the_same_claims(self, name: str) -> None:
        """Every claim, party, diagnosis and line the builder wrote is read back unchanged."""
        batch = S.CLAIMS_837[name]
        (sub,) = parse(build(batch))
        assert what_was_read(sub) == what_was_built(batch)
        assert (sub.reference, sub.submitter.id, sub.receiver and sub.receiver.id) == (
            batch.batch_reference, "SUNRISE01", "CLEARHOUSE")
        assert sub.created == CREATED.date()

    def test_inspect_shows_claims_payers_diagnoses_and_lines_but_no_names(self) -> None:
        """The inspect JSON has the contract's claim fields, dotted diagnoses, and no patient name or member id."""
        text = build(S.CLAIMS_837["dual_diagnosis_multi_line"])
        doc = inspect_stream(io.BytesIO(text.encode()))
        (tx,) = doc["interchanges"][0]["groups"][0]["transactions"]
        claim = tx["claims"][0]
        assert (claim["claim_id"], claim["charge"], claim["place_of_service"], claim["frequency_code"]) == (
            "C000104", "325.00", "11", "1")
        assert claim["payer"] == {"name": "AETNA", "id": "60054"}
        assert claim["diagnoses"] == ["F33.1", "F10.20", "Z63.0"]
        assert [(ln["procedure"], ln["units"], ln["charge"], ln["line_control_number"]) for ln in claim["lines"]] == [
            ("99214", 1, "160.00", "L000104"), ("90836", 1, "140.00", "L000105"), ("90785", 1, "25.00", "L000106")]
        assert tx["claims"][1]["lines"][0]["units"] == 4
        dumped = json.dumps(doc)
        for phi in ("DOE", "JANE", "W100200300", "19800102", "1980-01-02", "OAK"):
            assert phi not in dumped

    def test_other_payer_and_line_adjudication_loops(self) -> None:
        """2320/2330A/2330B (SBR01, CAS, AMT*D, NM1*PR, DTP*573) and 2430 (SVD, CAS, DTP*573) are read."""
        text = build(S.CLAIMS_837["telehealth_modifiers"])
        text = with_segments(text, "NM1*82", SECONDARY_2320)
        text = with_segments(text, "REF*6R*L000108", SECONDARY_2430)
        (sub,) = parse(text)
        claim = sub.claims[0]
        (other,) = claim.other_payers
        assert (other.sequence, other.relationship, other.filing_indicator, other.paid) == ("P", "18", "CI",
                                                                                           Decimal("110.00"))
        assert other.payer is not None and (other.payer.name, other.payer.id) == ("AETNA", "60054")
        assert other.subscriber is not None and other.subscriber.member_id == "W100200300"
        assert [(a.group, a.reason, a.amount) for a in other.adjustments] == [("PR", "3", Decimal("25.00"))]
        assert other.adjudication_date == date(2026, 11, 20)
        (adj,) = claim.lines[0].adjudications
        assert (adj.payer_id, adj.paid, adj.procedure, adj.modifiers, adj.units, adj.date) == (
            "60054", Decimal("110.00"), "90837", ("HO",), Decimal(1), date(2026, 11, 20))
        assert [(a.group, a.reason, a.amount) for a in adj.adjustments] == [
            ("CO", "45", Decimal("45.00")), ("PR", "3", Decimal("25.00"))]
        assert claim.lines[0].line_control_number == "L000108"
        assert sub.claims[1].other_payers == () and sub.claims[1].lines[0].adjudications == ()

    def test_service_dates_and_ids(self) -> None:
        """A claim's first and last date of service, payer id and member id come from its lines and 2010 loops."""
        (sub,) = parse(build(S.CLAIMS_837["single_claim_self_subscriber"]))
        claim = sub.claims[0]
        assert claim.service_dates == (date(2026, 11, 2), date(2026, 11, 2))
        assert (claim.payer_id, claim.member_id, claim.payer_sequence) == ("60054", "W100200300", "P")
        assert sub.billing_provider.id == "1234567893"
        assert "W100200300" not in repr(claim.subscriber)

    @pytest.mark.parametrize(("old", "new", "segment_id", "element"), [
        ("HI*ABK:F331", "NTE*ADD*NOTE", "CLM", 0),
        ("CLM*C000101*180", "CLM*C000101*1X0", "CLM", 2),
        ("SV1*HC:90837*180", "SV1*HC:90837*ABC", "SV1", 2),
        ("SV1*HC:90837*180", "SV1*HC*180", "SV1", 1),
        ("DTP*472*D8*20261102", "DTP*472*D8*20261302", "DTP", 3),
        ("NM1*PR*2*AETNA*****PI*60054", "NM1*PR*2*AETNA", "CLM", 0),
        ("BHT*0019*00*B000101*20261105", "BHT*0019*00*B000101*2026110", "BHT", 4),
        ("LX*1", "LX*A", "LX", 1),
    ], ids=["no_hi", "bad_charge", "bad_line_charge", "no_procedure", "bad_date", "no_payer_id", "bad_bht_date",
            "bad_lx"])
    def test_broken_set_names_the_segment_and_element(self, old: str, new: str, segment_id: str,
                                                      element: int) -> None:
        """A set the parser cannot read raises TransactionError with the segment number, id and element."""
        text = build(one_claim())
        assert old in text
        with pytest.raises(TransactionError) as err:
            parse(text.replace(old, new))
        assert (err.value.segment_id, err.value.element) == (segment_id, element)
        assert err.value.segment_number is not None
        seq = [s.split("*")[0] for s in text.replace(old, new).split("~\n")]
        assert seq[err.value.segment_number - 1] == segment_id
        for phi in ("DOE", "JANE", "W100200300"):
            assert phi not in str(err.value)


# --------------------------------------------------------------------------------------------
# Random batches
# --------------------------------------------------------------------------------------------

DX_POOL = ["F33.1", "F10.20", "F41.1", "F90.0", "F43.10", "F32.9", "F11.20", "Z63.0", "F42.2", "F84.0",
           "F31.81", "F60.3", "F40.10", "F12.20", "F43.23"]
CODES = ["90791", "90832", "90834", "90837", "90833", "90785", "99214", "H0004", "90853", "90847"]
MODIFIERS = ["HO", "HP", "95", "93", "GT", "59", "25", "AH"]
NAMES = ["Smith", "O'Neil", "Núñez", "Lee-Park", "Do*e", "Zhang"]


@st.composite
def claims(draw: st.DrawFn, claim_id: str) -> Claim837:
    dx = tuple(draw(st.lists(st.sampled_from(DX_POOL), min_size=1, max_size=12, unique=True)))
    n_lines = draw(st.integers(1, 6))
    lines = []
    for n in range(n_lines):
        pointers = draw(st.lists(st.integers(1, len(dx)), min_size=1, max_size=min(4, len(dx)), unique=True))
        mods = draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True))
        cents = draw(st.integers(0, 500_000))
        lines.append(ServiceLine(draw(st.sampled_from(CODES)), Decimal(cents).scaleb(-2),
                                 date(2026, 1, 1 + draw(st.integers(0, 27))), f"{claim_id}L{n}",
                                 tuple(pointers), tuple(mods), draw(st.integers(1, 12))))
    subscriber = Subscriber(draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES)),
                            draw(st.sampled_from(["W1", "W2", "W3"])), date(1970, 1, 1), "F", S.HOME)
    patient = draw(st.one_of(st.none(), st.builds(
        Patient, st.sampled_from(NAMES), st.sampled_from(NAMES), st.just(date(2010, 2, 3)),
        st.sampled_from(["M", "F", "U"]), st.just(S.HOME), st.sampled_from(["spouse", "child", "other"]))))
    payer = draw(st.sampled_from([S.AETNA, S.MEDICAID, Payer("Cigna", "62308", "CI")]))
    freq = draw(st.sampled_from(["1", "1", "7", "8"]))
    return Claim837(claim_id, draw(st.sampled_from(["11", "10", "02"])), dx, subscriber, payer, tuple(lines),
                    patient=patient, rendering=draw(st.sampled_from([S.LCSW, S.MD, None])), frequency_code=freq,
                    prior_auth=draw(st.sampled_from(["", "AUTH9"])),
                    payer_claim_number="PCN77" if freq != "1" else "")


@st.composite
def batches(draw: st.DrawFn) -> Batch837:
    n = draw(st.integers(1, 20))
    return Batch837(S.SUBMITTER, S.RECEIVER, S.PRACTICE,
                    tuple(draw(claims(f"C{i:06d}")) for i in range(n)), "BATCH1")


class TestRandomBatches:
    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches())
    def test_random_batch_validates(self, batch: Batch837) -> None:
        """Any batch of valid claims builds a file pyx12 accepts with zero errors and a sound hierarchy."""
        text = build(batch)
        result = validate_x12(text)
        assert result.errors == []
        check_hierarchy(text)
        assert sorted(s[1] for s in segs(text, "CLM")) == sorted(c.claim_id for c in batch.claims)
        assert sum(Decimal(s[2]) for s in segs(text, "CLM")) == sum(c.total_charge for c in batch.claims)
        assert len(segs(text, "LX")) == sum(len(c.lines) for c in batch.claims)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches())
    def test_random_batch_round_trips(self, batch: Batch837) -> None:
        """Any batch the builder writes parses back to the same claims (grouped by subscriber, so sorted here)."""
        (sub,) = parse(build(batch))

        def by_id(claims: list[dict[str, object]]) -> list[dict[str, object]]:
            return sorted(claims, key=lambda c: str(c["claim_id"]))

        assert by_id(what_was_read(sub)) == by_id(what_was_built(batch))
