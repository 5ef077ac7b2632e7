"""The X12 syntax core: delimiters, the streaming reader, envelopes, the writer."""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi.errors import DelimiterError, EnvelopeError, X12SyntaxError
from edi.x12 import (
    Delimiters,
    Element,
    Envelope,
    GroupSpec,
    InterchangeSpec,
    SegmentReader,
    TransactionSpec,
    build_interchange,
    format_segment,
    open_x12,
    read_segments,
)

ISA = InterchangeSpec("SENDER", "RECEIVER", "261127", "1200", 17)
BODY: list[list[Element]] = [["BHT", "0019", "00", "B1", "20261127", "1200", "CH"], ["NM1", "41", "2", "SUNRISE", None, None, None, None,
                                                              "46", "S1"]]


STANDARD = Delimiters()


def _file(d: Delimiters = STANDARD, newline: bool = False, n_sets: int = 1, isa: InterchangeSpec = ISA) -> str:
    sets = [TransactionSpec("837", f"{i + 1:04d}", BODY, "005010X222A1") for i in range(n_sets)]
    return build_interchange(isa, [GroupSpec("HC", "S", "R", "20261127", "1200", 5, "005010X222A1", sets)],
                             d, newline=newline)


class TestDelimiters:
    @pytest.mark.parametrize("d", [
        Delimiters(), Delimiters("|", "!", "^", "\n"), Delimiters("+", "^", ":", "'"),
        Delimiters("*", "", ">", "~"), Delimiters("\x1d", "\x1f", "\x1e", "\x1c"),
    ], ids=["standard", "pipe-newline-terminator", "edifact-like", "no-repetition", "control-chars"])
    def test_delimiters_come_from_the_isa(self, d: Delimiters) -> None:
        """Whatever delimiters the ISA declares, the segments read back as written."""
        segs = read_segments(_file(d))
        assert segs[0][0] == "ISA" and segs[0][16] == d.component
        assert segs[3] == BODY[0]
        assert segs[4][:4] == ["NM1", "41", "2", "SUNRISE"]
        assert segs[-1] == ["IEA", "1", "000000017"]

    @pytest.mark.parametrize("sep", ["~\n", "~\r\n", "~\r", "~"], ids=["lf", "crlf", "cr", "none"])
    def test_line_breaks_after_the_terminator_are_ignored(self, sep: str) -> None:
        """A terminator followed by CR, LF, CRLF or nothing gives the same segments."""
        text = _file().replace("~", sep)
        assert read_segments(text) == read_segments(_file())

    def test_short_isa_is_refused(self) -> None:
        """An ISA cut short raises DelimiterError naming the ISA element."""
        with pytest.raises(DelimiterError) as err:
            read_segments("ISA*00*          *00*   ")
        assert err.value.segment_id == "ISA" and "short ISA" in str(err.value)

    def test_file_not_starting_with_isa_is_refused(self) -> None:
        """A file that is not X12 is refused at byte 0 with what was expected."""
        with pytest.raises(DelimiterError) as err:
            read_segments("hello world, this is not x12 at all" * 5)
        assert err.value.offset == 0 and err.value.expected == "ISA"

    def test_alphanumeric_delimiter_is_refused(self) -> None:
        """A letter declared as component separator is an unusable delimiter."""
        text = _file()
        bad = text[:104] + "A" + text[105:]
        with pytest.raises(DelimiterError, match="unusable delimiter"):
            read_segments(bad)


class TestReader:
    def test_several_interchanges_with_blank_lines_and_different_delimiters(self) -> None:
        """Interchanges with their own delimiters, separated by blank lines, are all read."""
        a = _file(Delimiters(), newline=True)
        b = _file(Delimiters("|", "!", "^", "'"), isa=InterchangeSpec("X", "Y", "261127", "1200", 18))
        env = open_x12(a + "\n\n\r\n" + b + "\n")
        sets = [(ts.set_id, ts.control_number, ts.interchange.control_number) for ts in env]
        assert sets == [("837", "0001", "000000017"), ("837", "0001", "000000018")]
        assert [i.delimiters.element for i in env.interchanges] == ["*", "|"]

    def test_several_groups_and_sets(self) -> None:
        """Two GS groups with three sets each are each reported in order."""
        sets = [TransactionSpec("835", f"{i:04d}", [["BPR", "I", "1.00"]]) for i in range(3)]
        groups = [GroupSpec("HP", "S", "R", "20261127", "1200", g, "005010X221A1", sets) for g in (1, 2)]
        env = open_x12(build_interchange(ISA, groups))
        got = [(ts.group.control_number, ts.control_number, list(ts.segments)[1]) for ts in env]
        assert got == [(str(g), f"{i:04d}", ["BPR", "I", "1.00"]) for g in (1, 2) for i in range(3)]

    def test_ta1_between_isa_and_gs(self) -> None:
        """A TA1 after the ISA is kept on the interchange and the group after it still parses."""
        text = _file()
        isa_end = text.index("~") + 1
        text = text[:isa_end] + "TA1*000000005*261126*1200*A*000~" + text[isa_end:]
        env = open_x12(text)
        assert [ts.set_id for ts in env] == ["837"]
        assert env.interchanges[0].ta1 == [["TA1", "000000005", "261126", "1200", "A", "000"]]

    def test_small_chunks_give_the_same_segments(self) -> None:
        """Reading with a tiny chunk size splits nothing wrongly across chunk edges."""
        text = (_file(newline=True) + "\n") * 3
        big = list(SegmentReader(io.BytesIO(text.encode()), chunk_size=1 << 20))
        for size in (1, 7, 64, 250):
            assert list(SegmentReader(io.BytesIO(text.encode()), chunk_size=size)) == big

    def test_unterminated_last_segment_is_an_error(self) -> None:
        """Text after the last terminator at the end of a file is reported with its offset."""
        text = _file()[:-1]
        with pytest.raises(X12SyntaxError, match="unterminated") as err:
            read_segments(text)
        assert err.value.offset == text.rindex("~") + 1


class TestHostileInput:
    """Issue 11: cut files, files without terminators and malformed ISAs fail typed, in linear time."""

    @pytest.mark.parametrize("strict", [True, False])
    def test_cut_exactly_at_a_read_boundary(self, strict: bool) -> None:
        """A file cut at a segment boundary that is also the end of a read (the last read returns
        nothing) is a typed EnvelopeError with its position, never an IndexError."""
        text = _file(n_sets=3).encode()
        cuts = [i + 1 for i, b in enumerate(text) if b == ord("~")][2:-1]
        for cut in cuts:
            data = text[:cut]
            for chunk in (cut, cut // 2 or 1, 8192):
                with pytest.raises(EnvelopeError) as err:
                    for ts in Envelope(io.BytesIO(data), strict=strict, chunk_size=chunk):
                        list(ts.segments)
                assert err.value.segment_number is not None and err.value.offset is not None

    def test_unterminated_20_mb_is_linear(self) -> None:
        """An ISA, a GS, then 20 MB with no terminator fails in about a second, not minutes
        (the bound is only a hang guard)."""
        head = _file().split("ST*")[0].encode()
        data = head + b"NM1*IL*1*DOE" * (20 * (1 << 20) // 12)
        start = time.perf_counter()
        with pytest.raises(X12SyntaxError, match="unterminated") as err:
            for ts in open_x12(data):
                list(ts.segments)
        assert time.perf_counter() - start < 10
        assert err.value.offset == len(head) and err.value.segment_number == 3

    def test_many_findings_stay_linear(self) -> None:
        """A MB of tiny sets with a wrong SE01 each (a finding each, lenient) reads in seconds."""
        head, _, _ = _file().partition("ST*")
        data = (head + "ST*837*0001~SE*9*0001~" * 50_000).encode()
        start = time.perf_counter()
        env = open_x12(data, strict=False)
        with pytest.raises(EnvelopeError, match="no GE"):
            for ts in env:
                list(ts.segments)
        assert time.perf_counter() - start < 10
        assert len(env.findings) == 50_000

    @pytest.mark.parametrize(("element", "value"), [(2, "SHORT"), (6, "SENDER"), (12, "0501"), (9, "2611270")])
    def test_isa_fixed_widths(self, element: int, value: str) -> None:
        """Strict mode refuses an ISA element of the wrong width, naming it; lenient mode reads on
        with a finding."""
        text = _file()
        isa = text[:text.index("~")].split("*")
        isa[element] = value
        bad = "*".join(isa) + text[text.index("~"):]
        with pytest.raises(DelimiterError) as err:
            list(open_x12(bad))
        assert (err.value.segment_id, err.value.element, err.value.segment_number) == ("ISA", element, 1)
        env = open_x12(bad, strict=False)
        assert [ts.set_id for ts in env] == ["837"]
        assert [(f.segment_id, f.element) for f in env.findings] == [("ISA", element)]


class TestEnvelope:
    def test_se_count_mismatch_points_at_the_se(self) -> None:
        """A wrong SE01 raises EnvelopeError with the SE's segment number, element and offset."""
        text = _file().replace("SE*4*0001", "SE*9*0001")
        with pytest.raises(EnvelopeError) as err:
            list(open_x12(text))
        e = err.value
        assert (e.segment_id, e.element, e.segment_number, e.expected) == ("SE", 1, 6, "4")
        assert e.offset == text.index("SE*9")

    def test_ge_control_mismatch(self) -> None:
        """GE02 that differs from GS06 is refused, naming GE02."""
        text = _file().replace("GE*1*5", "GE*1*6")
        with pytest.raises(EnvelopeError, match="GE02") as err:
            list(open_x12(text))
        assert err.value.element == 2

    def test_iea_control_mismatch(self) -> None:
        """IEA02 that differs from ISA13 is refused."""
        text = _file().replace("IEA*1*000000017", "IEA*1*000000099")
        with pytest.raises(EnvelopeError, match="IEA02"):
            list(open_x12(text))

    def test_missing_se(self) -> None:
        """A set without SE is refused when the GE arrives."""
        text = _file().replace("SE*4*0001~", "")
        with pytest.raises(EnvelopeError, match="has no SE") as err:
            list(open_x12(text))
        assert err.value.segment_id == "GE"

    def test_lenient_mode_collects_findings(self) -> None:
        """In lenient mode count and control mismatches become findings and parsing goes on."""
        text = _file().replace("SE*4*0001", "SE*5*0002").replace("IEA*1*", "IEA*2*")
        env = open_x12(text, strict=False)
        assert [ts.set_id for ts in env] == ["837"]
        msgs = [str(f) for f in env.findings]
        assert len(msgs) == 3
        assert any("SE01" in m for m in msgs) and any("SE02" in m for m in msgs) and any("IEA01" in m for m in msgs)

    def test_segment_counts_are_recorded(self) -> None:
        """The envelope tree records each set's segment count, ST and SE included."""
        env = open_x12(_file(n_sets=2))
        for ts in env:
            list(ts.segments)
        assert [t.segment_count for t in env.interchanges[0].groups[0].transactions] == [4, 4]


class TestWriter:
    def test_trailing_empty_elements_and_components_are_dropped(self) -> None:
        """Empty trailing elements and composite components are not written."""
        assert format_segment(["SV1", ["HC", "90837", "95", None, ""], "180", None, None]) == "SV1*HC:90837:95*180"  # type: ignore[list-item]
        nm1: list[Element] = ["NM1", "IL", None, "X"]
        assert format_segment(nm1) == "NM1*IL**X"

    def test_isa_has_fixed_width(self) -> None:
        """The ISA is 106 characters with its terminator whatever the ids' lengths."""
        text = _file()
        assert text.index("~") == 105

    def test_counts_are_computed(self) -> None:
        """SE01, GE01 and IEA01 are counted from what was written."""
        segs = read_segments(_file(n_sets=3))
        assert [s for s in segs if s[0] == "SE"][0][1] == "4"
        assert [s for s in segs if s[0] == "GE"][0][1] == "3"
        assert segs[-1][1] == "1"


_ELEMENT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=0, max_size=12)
_DELIMS = st.tuples(
    st.lists(st.sampled_from(list("*|~^:>!'+\x1c\x1d\x1e\x1f")), min_size=4, max_size=4, unique=True),
    st.booleans(),
).map(lambda t: Delimiters(t[0][0], t[0][1], t[0][2], "\n" if t[1] else t[0][3]))


class TestRoundTrip:
    @settings(max_examples=200, deadline=None)
    @given(d=_DELIMS, body=st.lists(st.tuples(st.sampled_from(["NM1", "REF", "DTP", "SV1", "HI"]),
                                              st.lists(_ELEMENT, min_size=1, max_size=8)), min_size=1, max_size=15),
           newline=st.booleans())
    def test_any_values_with_any_delimiters_read_back_identical(
            self, d: Delimiters, body: list[tuple[str, list[str]]], newline: bool) -> None:
        """Segments written with any legal delimiter set read back identical (trailing empties dropped)."""
        forbidden = {d.element, d.repetition, d.component, d.segment, "\r", "\n"}
        segments = []
        for sid, values in body:
            clean = ["".join(ch for ch in v if ch not in forbidden) or "X" for v in values]
            segments.append([sid, *clean])
        ts = TransactionSpec("837", "0001", segments)
        text = build_interchange(ISA, [GroupSpec("HC", "S", "R", "20261127", "1200", 1, "005010X222A1", [ts])], d,
                                 newline=newline)
        env = open_x12(text)
        got = [list(t.segments) for t in env]
        assert got[0][1:-1] == segments
        assert env.interchanges[0].delimiters == d
