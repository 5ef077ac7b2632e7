"""ICD-10-CM normalization, billable check and Excludes1 pairs."""

from __future__ import annotations

import pytest

from pipelines.rules.icd10 import excludes1_pairs, is_billable, normalize


class TestNormalize:
    @pytest.mark.parametrize(
        ("raw", "dotted"),
        [
            pytest.param("F331", "F33.1", id="dot_inserted"),
            pytest.param("f33.1", "F33.1", id="lower_case"),
            pytest.param(" F33.1 ", "F33.1", id="spaces_stripped"),
            pytest.param("F1020", "F10.20", id="two_after_dot"),
            pytest.param("F32A", "F32.A", id="letter_after_dot"),
            pytest.param("F33", "F33", id="category_has_no_dot"),
            pytest.param("Z6372", "Z63.72", id="z_code"),
        ],
    )
    def test_dotted_form(self, raw: str, dotted: str) -> None:
        """A code with or without its dot, any case, is written in its dotted upper-case form."""
        assert normalize(raw) == dotted


class TestBillable:
    @pytest.mark.parametrize(
        ("code", "billable"),
        [
            pytest.param("F33.1", True, id="leaf_dotted"),
            pytest.param("F331", True, id="leaf_undotted"),
            pytest.param("F10.20", True, id="leaf_sud"),
            pytest.param("F32.A", True, id="leaf_with_letter"),
            pytest.param("Z63.0", True, id="leaf_z_code"),
            pytest.param("F33", False, id="category_not_leaf"),
            pytest.param("F10.2", False, id="subcategory_not_leaf"),
            pytest.param("F30-F39", False, id="block_not_code"),
            pytest.param("F99.99", False, id="does_not_exist"),
            pytest.param("", False, id="empty"),
            pytest.param("XYZ", False, id="garbage"),
        ],
    )
    def test_billable(self, code: str, billable: bool) -> None:
        """Only a valid ICD-10-CM code with no codes below it is billable."""
        assert is_billable(code) is billable


class TestExcludes1:
    @pytest.mark.parametrize(
        ("codes", "pairs"),
        [
            pytest.param(["F32.9", "F33.1"], [("F32.9", "F33.1")], id="category_note_names_category"),
            pytest.param(["F33.1", "F32.9"], [("F33.1", "F32.9")], id="either_order"),
            pytest.param(["f329", "F331"], [("F32.9", "F33.1")], id="normalized_first"),
            pytest.param(["F32.9", "F31.81"], [("F32.9", "F31.81")], id="bipolar_with_depression"),
            pytest.param(["F10.20", "F10.10"], [("F10.20", "F10.10")], id="subcategory_note_wildcard"),
            pytest.param(["F10.20", "F10.21"], [], id="same_subcategory_allowed"),
            pytest.param(["F33.1", "F41.1", "F43.10"], [], id="depression_anxiety_ptsd_allowed"),
            pytest.param(["F10.20", "F32.9"], [], id="sud_with_depression_allowed"),
            pytest.param(["F32.9", "F32.9"], [], id="duplicate_is_no_pair"),
            pytest.param(["F32.9", "F99.99"], [], id="unknown_code_ignored"),
        ],
    )
    def test_pairs(self, codes: list[str], pairs: list[tuple[str, str]]) -> None:
        """Two codes pair when an Excludes1 note of one or of a category above it names the other or above."""
        assert list(excludes1_pairs(codes)) == pairs

    def test_several_pairs_in_claim_order(self) -> None:
        """Every forbidden pair is reported, in the order the codes appear in the claim."""
        assert excludes1_pairs(["F33.1", "F10.10", "F32.9", "F10.20"]) == (
            ("F33.1", "F32.9"),
            ("F10.10", "F10.20"),
        )
