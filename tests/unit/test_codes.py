"""Code lists: bundled lookups, unknown codes, operator-supplied CSVs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from edi import codes
from edi.codes import DESCRIPTION_NOT_LOADED, CodeEntry, CodeList, CodeListError


class TestBundledLists:
    @pytest.mark.parametrize(("loader", "code", "words"), [
        (codes.carc, "45", "fee schedule"),
        (codes.carc, "197", "authorization"),
        (codes.rarc, "N54", "inconsistent with pre-certified"),
        (codes.rarc, "MA15", "separated"),
        (codes.claim_status_categories, "A1", "received"),
        (codes.claim_status_codes, "1", "remittance advice"),
        (codes.service_types, "30", "Health Benefit Plan Coverage"),
        (codes.service_types, "MH", "Mental Health"),
        (codes.adjustment_groups, "CO", "Contractual"),
        (codes.adjustment_groups, "PR", "Patient Responsibility"),
    ], ids=["carc_45", "carc_197", "rarc_n54", "rarc_ma15", "category_a1", "status_1", "service_30",
            "service_mh", "group_co", "group_pr"])
    def test_known_code_is_described(self, loader: Callable[[], CodeList], code: str, words: str) -> None:
        """A code in a bundled list is described with its X12 text."""
        assert words.lower() in loader().describe(code).lower()

    @pytest.mark.parametrize(("loader", "code"), [
        (codes.carc, "299"), (codes.rarc, "N9999"), (codes.claim_status_codes, "99999"),
        (codes.adjustment_groups, "ZZ"),
    ], ids=["carc_newer_than_list", "rarc_newer_than_list", "status_unknown", "group_unknown"])
    def test_unknown_code_is_not_loaded(self, loader: Callable[[], CodeList], code: str) -> None:
        """A code a list lacks is described as 'description not loaded' and looked up as None."""
        assert loader().describe(code) == DESCRIPTION_NOT_LOADED
        assert loader().get(code) is None and code not in loader()

    def test_list_sizes_match_the_reference_data(self) -> None:
        """Every row of the copied CSVs is loaded (296 CARC, 824 RARC, 47, 749, 184) and five groups."""
        sizes = [len(f()) for f in (codes.carc, codes.rarc, codes.claim_status_categories,
                                    codes.claim_status_codes, codes.service_types, codes.adjustment_groups)]
        assert sizes == [296, 824, 47, 749, 184, 5]

    def test_dates_are_parsed(self) -> None:
        """Start and stop dates become dates, and active_on follows them."""
        entry = codes.carc().get("17")
        assert entry is not None and entry.stop_date == date(2009, 7, 1)
        assert entry.active_on(date(2008, 1, 1)) and not entry.active_on(date(2010, 1, 1))


class TestOperatorCsv:
    def test_load_and_overlay(self, tmp_path: Path) -> None:
        """An operator CSV's rows load and, laid over the bundled list, add new and replace old codes."""
        path = tmp_path / "carc.csv"
        path.write_text("code,description,start_date,stop_date,last_modified,notes\n"
                        "299,Newer code,2026-03-01,,,\n45,Updated text,01/01/1995,,03/01/2026,note\n")
        rows = codes.load_csv(path)
        assert rows == [CodeEntry("299", "Newer code", date(2026, 3, 1)),
                        CodeEntry("45", "Updated text", date(1995, 1, 1), None, date(2026, 3, 1), "note")]
        merged = codes.carc().updated(rows)
        assert merged.describe("299") == "Newer code" and merged.describe("45") == "Updated text"
        assert len(merged) == len(codes.carc()) + 1
        assert codes.carc().describe("299") == DESCRIPTION_NOT_LOADED  # the bundled list is unchanged

    @pytest.mark.parametrize(("text", "match"), [
        ("code,notes\n45,x\n", "missing column"),
        ("code,description,start_date\n45,x,13/45/2020\n", "line 2"),
        ("code,description\n,Only a description\n", "empty code"),
    ], ids=["missing_description_column", "bad_date", "empty_code"])
    def test_bad_csv_is_refused(self, tmp_path: Path, text: str, match: str) -> None:
        """A CSV without the required columns, with a bad date or an empty code raises CodeListError."""
        path = tmp_path / "bad.csv"
        path.write_text(text)
        with pytest.raises(CodeListError, match=match):
            codes.load_csv(path)

    def test_optional_columns_and_bom(self, tmp_path: Path) -> None:
        """Only code and description are required; a UTF-8 byte order mark and blank lines are ignored."""
        path = tmp_path / "rarc.csv"
        path.write_text("\ufeffCode,Description\nN9999,Brand new remark\n,\n", encoding="utf-8")
        assert codes.load_csv(path) == [CodeEntry("N9999", "Brand new remark")]
