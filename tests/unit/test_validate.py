"""pyx12 wrapper: clean files pass, broken files report segment, loop, element and code."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edi.validate import Issue, ValidationResult, map_folder, validate_x12

ROOT = Path(__file__).resolve().parents[2]
CLAIM = ROOT / "fixtures" / "837p" / "single_claim_self_subscriber.x12"
INQUIRY = ROOT / "fixtures" / "270" / "single_subscriber.x12"


def number_of(text: str, prefix: str) -> int:
    """1-based segment number of the first segment starting with ``prefix``."""
    lines = [s.strip() for s in text.split("~") if s.strip()]
    return next(i for i, s in enumerate(lines, 1) if s.startswith(prefix))


class TestCleanFiles:
    @pytest.mark.parametrize("kind", ["path", "str_path", "text", "bytes"],
                             ids=["pathlib_path", "string_path", "x12_text", "x12_bytes"])
    def test_accepts_path_text_and_bytes(self, kind: str) -> None:
        """A valid 837P is ok with no errors whether given as a path, a text or bytes."""
        sources: dict[str, str | bytes | Path] = {"path": CLAIM, "str_path": str(CLAIM), "text": CLAIM.read_text(),
                                                  "bytes": CLAIM.read_bytes()}
        source = sources[kind]
        assert validate_x12(source) == ValidationResult(True, [])

    def test_270_uses_the_x279a1_maps(self) -> None:
        """A valid 270 X279A1 (no map in pyx12 itself) validates with zero errors."""
        assert validate_x12(INQUIRY) == ValidationResult(True, [])


class TestBrokenFiles:
    CASES = [
        ("element_bad_date", CLAIM, "DMG*D8*19800102*F~", "DMG*D8*19801302*F~", "DMG*D8*", "DMG", "2010BA", 2, "8"),
        ("element_bad_code", CLAIM, "DMG*D8*19800102*F~", "DMG*D8*19800102*X~", "DMG*D8*", "DMG", "2010BA", 3, "7"),
        ("segment_missing", CLAIM, "REF*EI*123456789~\n", "", "HL*2*", "REF", None, 0, "3"),
        ("segment_unknown", CLAIM, "SBR*P*18*", "SBR*Q*18*", "SBR*", "SBR", None, 0, "1"),
        ("270_bad_eq", INQUIRY, "EQ*MH~", "EQ*Q9~", "EQ*", "EQ", "2110C", 1, "7"),
    ]

    @pytest.mark.parametrize(("path", "old", "new", "at", "seg_id", "loop", "element", "code"),
                             [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    def test_error_is_located(self, path: Path, old: str, new: str, at: str, seg_id: str, loop: str | None,
                              element: int, code: str) -> None:
        """A broken file is not ok and the issue names the segment number, id, loop, element and code."""
        text = path.read_text()
        assert old in text
        broken = text.replace(old, new, 1)
        result = validate_x12(broken)
        assert not result.ok
        match = [i for i in result.errors if i.segment_id == seg_id and i.code == code]
        assert match, result.errors
        issue = match[0]
        assert issue.segment_number == number_of(broken, at)
        assert issue.element == element
        if loop is not None:
            assert issue.loop_id == loop
        assert issue.message

    def test_wrong_segment_count(self) -> None:
        """A wrong SE01 is reported as a transaction-set error."""
        text = CLAIM.read_text()
        se = next(s for s in text.split("~\n") if s.startswith("SE*"))
        broken = text.replace(se, "SE*99*" + se.split("*")[2])
        result = validate_x12(broken)
        assert not result.ok
        assert any(i.segment_id == "ST" and "SE" in i.message for i in result.errors)

    def test_not_x12(self) -> None:
        """Text with a broken ISA is reported, not raised."""
        result = validate_x12(b"ISA*00*broken~")
        assert not result.ok
        assert result.errors and result.errors[0].code == "ENGINE"

    def test_pyx12_logs_nothing_with_values(self, caplog: pytest.LogCaptureFixture) -> None:
        """pyx12's error log records (which quote values, i.e. PHI) are suppressed during validation."""
        broken = CLAIM.read_text().replace("DMG*D8*19800102*F~", "DMG*D8*19801302*F~")
        with caplog.at_level(logging.DEBUG):
            result = validate_x12(broken)
        assert not result.ok
        assert not [r for r in caplog.records if r.name.startswith("pyx12")]
        assert "19801302" not in caplog.text


class TestMapFolder:
    def test_registers_the_x279a1_maps(self, tmp_path: Path) -> None:
        """The map copy holds pyx12's maps plus the 270/271 X279A1 maps, registered under 00501."""
        folder = map_folder(tmp_path)
        index = (folder / "maps.xml").read_text(encoding="utf-8")
        block = index[index.index('<version icvn="00501">'):]
        assert 'vriic="005010X279A1" fic="HS" abbr="270">270.5010.X279.A1.xml' in block
        assert 'vriic="005010X279A1" fic="HB" abbr="271">271.5010.X279.A1.xml' in block
        for name in ("270.5010.X279.A1.xml", "271.5010.X279.A1.xml", "837.5010.X222.A1.xml",
                     "x12.control.00501.xml", "dataele.xml", "codes.xml"):
            assert (folder / name).is_file(), name

    def test_built_once(self, tmp_path: Path) -> None:
        """A second call reuses the folder already built."""
        first = map_folder(tmp_path)
        stamp = (first / "maps.xml").stat().st_mtime_ns
        assert map_folder(tmp_path) == first
        assert (first / "maps.xml").stat().st_mtime_ns == stamp
        assert validate_x12(INQUIRY, cache_dir=tmp_path).ok


class TestIssue:
    def test_str_names_the_place(self) -> None:
        """An issue prints segment number, element reference, loop and code."""
        issue = Issue(18, "DMG", "2010BA", 2, "8", "bad date")
        assert str(issue) == "segment 18, DMG02, loop 2010BA: [8] bad date"


FIXTURE_FILES = sorted((ROOT / "fixtures").glob("*/*.x12"))
# pyx12's own verdict on the fixtures: its code list for MOA03 lacks the RARC MA15.
PYX12_REJECTS = {"split_claim.x12": {("MOA", 3, "7")}}


class TestFixtures:
    @pytest.mark.parametrize("path", FIXTURE_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FIXTURE_FILES])
    def test_agrees_with_pyx12_on_every_fixture(self, path: Path) -> None:
        """No false errors: every fixture is valid, not validated (no map), or has exactly pyx12's errors."""
        result = validate_x12(path)
        if path.parent.name in ("276", "277"):
            assert result == ValidationResult(True, [], ["not validated: no map for 005010X212"])
            return
        assert result.not_validated == []
        assert {(i.segment_id, i.element, i.code) for i in result.errors} == PYX12_REJECTS.get(path.name, set())

    def test_no_map_is_not_an_error(self) -> None:
        """A 276 (005010X212, no pyx12 map) says 'not validated', not an ENGINE error."""
        result = validate_x12(ROOT / "fixtures" / "276" / "subscriber_and_dependent.x12")
        assert result.ok and result.errors == []
        assert result.not_validated == ["not validated: no map for 005010X212"]


class TestRepetitions:
    ACTIVE = ROOT / "fixtures" / "271" / "active_mh.x12"

    def test_repeated_eb03_is_split(self) -> None:
        """EB03 30^MH^A4 is three service type codes, each valid."""
        text = self.ACTIVE.read_text()
        assert "30^MH^A4" in text
        assert validate_x12(text) == ValidationResult(True, [])

    @pytest.mark.parametrize("value", ["Q9^MH^A4", "30^Q9^A4", "30^MH^Q9", "30^MH^A4^Q9"])
    def test_bad_repetition_is_located(self, value: str) -> None:
        """A bad code in any repetition is reported once, at its segment and element."""
        text = self.ACTIVE.read_text().replace("30^MH^A4", value, 1)
        result = validate_x12(text)
        assert not result.ok
        assert [(i.segment_id, i.element, i.code) for i in result.errors] == [("EB", 3, "7")]
        assert result.errors[0].segment_number == number_of(text, "EB*1*IND*" + value.split("^")[0])
        assert "Q9" in result.errors[0].message
