"""The 837P written straight to text: each segment as :func:`edi.x12.format_segment` writes it.

The builder writes its segments as text (no element lists), remembers checked codes and the
2310B/2010BB of a rendering provider or payer already written in the file, and :func:`clean_text`
takes short cuts for plain ASCII. These tests pin what those short cuts must not change: empty
trailing elements left out, a value refused the same way on every claim that carries it, and
clean_text equal to its general path.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi._envelope import _ALLOWED
from edi.errors import BuildError
from edi.x12 import (
    GroupSpec,
    InterchangeSpec,
    TransactionSpec,
    build_interchange,
    format_segment,
    read_segments,
)
from edi.x837p import CasAdjustment, RenderingProvider, clean_text
from tests.unit.test_x837p import S, build, one_claim
from tests.unit.test_x837p_cob import cas, one_line_secondary, text_of


def segments(text: str) -> list[str]:
    """The segment texts of a built file (line breaks dropped)."""
    return [s for s in text.replace("\n", "").split("~") if s]


def _general_clean_text(value: str, max_len: int | None) -> str:
    """clean_text's general path, without its short cuts."""
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).upper()
    text = " ".join("".join(c if c in _ALLOWED else " " for c in folded).split())
    return text if max_len is None else text[:max_len].rstrip()


class TestCleanText:
    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x17F), max_size=24),
           st.one_of(st.none(), st.integers(min_value=0, max_value=30)))
    def test_short_cuts_equal_the_general_path(self, value: str, max_len: int | None) -> None:
        assert clean_text(value, max_len) == _general_clean_text(value, max_len)

    @pytest.mark.parametrize("value", ["", "Doe", "doe3", "1 Main St", " Pat ", "O'Brien-Smith", "Müller", "A*B~C"])
    def test_examples(self, value: str) -> None:
        assert clean_text(value, 5) == _general_clean_text(value, 5)


class TestTextSegments:
    def test_writer_takes_a_segment_as_text(self) -> None:
        lists = [["BHT", "0019", "00", "X", None], ["SV1", ["HC", "90837", None], "180", None, "1"]]
        isa = InterchangeSpec("S", "R", "261105", "2130", 1)

        def file(body: list[object]) -> str:
            t = TransactionSpec("837", "0001", body, "005010X222A1")  # type: ignore[arg-type]
            return build_interchange(isa, [GroupSpec("HC", "S", "R", "20261105", "2130", 1, "005010X222A1", [t])])

        assert file([format_segment(s) for s in lists]) == file(lists)  # type: ignore[arg-type]
        assert file([format_segment(lists[0]), lists[1]]) == file(lists)  # type: ignore[arg-type]

    def test_every_segment_is_what_format_segment_writes(self) -> None:
        """Read back and written again by the generic writer, every segment is unchanged."""
        for batch in S.CLAIMS_837.values():
            text = build(batch)
            for written, read in zip(segments(text), read_segments(text), strict=True):
                if read[0] != "ISA":
                    assert format_segment(read) == written

    def test_patient_without_first_name_has_no_empty_nm104(self) -> None:
        base = S.CLAIMS_837["patient_not_subscriber"]
        claim = replace(base.claims[0], patient=replace(base.claims[0].patient, first_name="  "))
        nm1 = [s for s in segments(build(replace(base, claims=(claim,)))) if s.startswith("NM1*QC*")]
        assert nm1 == ["NM1*QC*1*ROE"]

    def test_no_address_line_2_no_empty_n302(self) -> None:
        n3 = [s for s in segments(build(one_claim())) if s.startswith("N3*")]
        assert n3 and all(not s.endswith("*") for s in n3)

    def test_cas_without_quantity_last_has_no_trailing_separator(self) -> None:
        claim_adjs = (CasAdjustment("PR", "1", D("10.00"), D("2")), CasAdjustment("PR", "2", D("5.00")))
        claim = one_line_secondary(cas(("CO", "45", "30.00")), claim_adjs)
        written = [s for s in segments(text_of(claim)) if s.startswith("CAS*")]
        assert written == ["CAS*PR*1*10*2*2*5", "CAS*CO*45*30"]


class TestRememberedLoops:
    def test_a_rendering_provider_is_written_the_same_for_every_claim(self) -> None:
        text = build(S.CLAIMS_837["telehealth_modifiers"])  # two claims, one rendering provider
        nm1 = [s for s in segments(text) if s.startswith("NM1*82*")]
        assert nm1 == ["NM1*82*1*RIVERA*ANA****XX*1245319599"] * 2

    def test_a_bad_rendering_provider_is_refused_on_each_claim(self) -> None:
        bad = RenderingProvider("1245319599", "Rivera", "Ana", "BAD")
        base = S.CLAIMS_837["telehealth_modifiers"]
        first, second = base.claims
        for claims, cid in (((replace(first, rendering=bad), second), first.claim_id),
                            ((first, replace(second, rendering=bad)), second.claim_id)):
            with pytest.raises(BuildError, match=f"claim {cid}: rendering taxonomy 'BAD' is not a valid code"):
                build(replace(base, claims=claims))

    def test_a_bad_payer_is_refused_on_its_first_subscriber(self) -> None:
        base = S.CLAIMS_837["patient_not_subscriber"]  # one payer, two subscriber loops
        payer = replace(base.claims[0].payer, name=" ")
        claims = tuple(replace(c, payer=payer) for c in base.claims)
        with pytest.raises(BuildError, match=f"claim {claims[0].claim_id}: payer name is missing"):
            build(replace(base, claims=claims))

    def test_the_same_file_twice(self) -> None:
        batch = S.CLAIMS_837["dual_diagnosis_multi_line"]
        assert build(batch) == build(batch)
        assert build(batch, created=datetime(2026, 11, 6, 8, 0)) != build(batch)
