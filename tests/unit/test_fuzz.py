"""Fuzzing the X12 reader, every set parser and ``ingest`` with inputs made from the fixtures.

A bounded slice of ``benchmarks/fuzz_campaign.py`` (which shares its mutators): fixture files,
often concatenated past one read batch (8 KiB), with byte flips, cuts at a random byte or at a
segment boundary, duplicated or removed segments, inserted delimiters, or no terminator at all.
Whatever the input, reading fails only with an :mod:`edi.errors` type that carries a position,
in well under a second per MB; ``ingest`` processes the file or fails it with that message,
never with an internal error.
"""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_campaign import BATCH, MB, MUTATORS, fixtures
from edi.errors import EdiError
from edi.inspect import inspect_stream
from pipelines.cli.app import App
from pipelines.usecases.ingest import IngestResult, ingest_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FILES = fixtures()
SLOW = 1.0  # seconds of CPU per MB (inputs below one read batch count as one batch)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A fixture, or several past one read batch, with one or two mutations."""
    first = draw(st.sampled_from(FILES))
    parts = [first]
    if draw(st.booleans()):
        while sum(map(len, parts)) <= BATCH:
            parts.append(draw(st.sampled_from(FILES)))
    data = b"".join(parts)
    rng: random.Random = draw(st.randoms(use_true_random=False))
    for name in draw(st.lists(st.sampled_from(sorted(MUTATORS)), min_size=1, max_size=2)):
        data = MUTATORS[name](rng, data)
    return data


def read(data: bytes, *, strict: bool) -> EdiError | None:
    """Inspect ``data``; the typed error it raised, or None. Anything untyped propagates."""
    try:
        inspect_stream(io.BytesIO(data), strict=strict)
    except EdiError as exc:
        return exc
    return None


def cpu_per_mb(data: bytes, *, strict: bool) -> float:
    """The best of three CPU times per MB (a shared machine stalls now and then)."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        read(data, strict=strict)
        best = min(best, time.process_time() - start)
        if best * MB / max(len(data), BATCH) < SLOW:
            break
    return best * MB / max(len(data), BATCH)


def setup_module() -> None:
    for data in FILES:  # code tables load on first use: keep that out of the timings
        read(data, strict=False)


class TestReaderAndParsers:
    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated(), st.booleans())
    def test_only_typed_errors_with_a_position(self, data: bytes, strict: bool) -> None:
        """Every failure is an edi.errors type naming a segment or a byte offset; time stays linear."""
        err = read(data, strict=strict)
        if err is not None:
            assert err.segment_number is not None or err.offset is not None, repr(err)
            assert str(err)
        assert cpu_per_mb(data, strict=strict) < SLOW

    @pytest.mark.parametrize("kind", sorted({p.parent.name for p in FIXTURES.glob("*/*.x12")}))
    def test_segment_boundary_cuts_past_one_batch(self, kind: str) -> None:
        """A file over 8 KiB cut at a segment boundary (a partial download) gives a typed error:
        every boundary near the end of a read batch, and a sample of the others."""
        data = sorted((FIXTURES / kind).glob("*.x12"))[0].read_bytes()
        first = data
        while len(data) <= 2 * BATCH:
            data += first
        t = data[105:106]
        cuts = [i + 1 for i in range(len(data)) if data[i:i + 1] == t][:-1]
        near_a_batch_end = [c for c in cuts if min(abs(c - BATCH), abs(c - 2 * BATCH)) < 512]
        for cut in near_a_batch_end + cuts[::50]:
            err = read(data[:cut], strict=True)
            if data[:cut].rsplit(t, 2)[-2].lstrip().startswith(b"IEA"):
                assert err is None, (cut, str(err))  # whole interchanges: a valid file
            else:
                assert err is not None and err.segment_number is not None, cut


class TestIngest:
    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(data=mutated())
    def test_processed_or_failed_with_a_message(self, sqlite_app: App, data: bytes) -> None:
        """A mutated file is processed, or failed with its X12 error: never an internal error."""
        f = ingest_bytes(sqlite_app.config, sqlite_app.uow, "fuzz.x12", data, IngestResult())
        assert f.state in ("processed", "failed")
        if f.state == "failed":
            assert f.error and not f.error.startswith("internal error"), f.error


class TestFound:
    """Inputs the campaign found, kept as regressions."""

    @pytest.mark.parametrize(("fixture", "old", "new"), [
        ("999/rejected_partial.x12", "IK3*", "IK3*NM1*\xb38*"),  # IK302 of '³8': str.isdigit() says yes
        ("835/ig_example.x12", "GE*1*", "GE*1\xb2*"),  # GE01 with a superscript digit
    ])
    def test_non_ascii_digits_are_typed_errors(self, fixture: str, old: str, new: str) -> None:
        """'²' and '³' pass str.isdigit() but not int(): a TransactionError or EnvelopeError, not ValueError."""
        text = (FIXTURES / fixture).read_bytes().decode("latin-1")
        assert old in text
        data = text.replace(old, new, 1).encode("latin-1")
        for strict in (True, False):
            err = read(data, strict=strict)
            assert err is None or err.segment_number is not None
