"""835 claims in chunks (:func:`pipelines.usecases.posting._chunked`), read one chunk ahead by a thread
(:class:`pipelines.usecases.posting._ReadAhead`), set after set (:func:`pipelines.usecases.posting._set_chunks`)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest

from benchmarks.gen_835 import generate
from edi.x835 import EnvelopeSpec, build_835
from pipelines.errors import ApplyError
from pipelines.usecases.posting import _chunked, _ReadAhead, _set_chunks


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "835-read-ahead"]


@pytest.mark.parametrize(("n", "size", "chunks"), [
    (0, 3, [([], True)]), (1, 3, [([0], True)]), (6, 3, [([0, 1, 2], False), ([3, 4, 5], True)]),
    (7, 3, [([0, 1, 2], False), ([3, 4, 5], False), ([6], True)])])
def test_chunks_in_order_the_last_marked(n: int, size: int, chunks: list[tuple[list[int], bool]]) -> None:
    assert list(_ReadAhead(_chunked(iter(range(n)), size))) == chunks
    assert _threads() == []


def test_a_reading_error_comes_after_the_chunks_read_before_it() -> None:
    def claims() -> Iterator[int]:
        yield from range(5)
        raise ApplyError("CLP at segment 40: bad amount", {"segment_number": 40})

    got: list[list[int]] = []
    with pytest.raises(ApplyError, match="segment 40"):
        for chunk, _ in _ReadAhead(_chunked(claims(), 2)):
            got.append(chunk)
    assert got == [[0, 1], [2, 3]]
    assert _threads() == []


def test_the_thread_stops_when_the_caller_stops_early() -> None:
    read: list[int] = []

    def claims() -> Iterator[int]:
        for i in range(1000):
            read.append(i)
            yield i

    chunks = _ReadAhead(_chunked(claims(), 10))
    with pytest.raises(RuntimeError, match="posting failed"):
        for _ in chunks:
            raise RuntimeError("posting failed")
    chunks.close()  # what the for loop's frame going away does
    assert _threads() == []
    assert len(read) < 1000  # it did not read the rest of the file


def test_a_key_keeps_neighbours_of_one_key_in_one_chunk() -> None:
    """A chunk is not cut between two items of the same key (a reversal and its correction)."""
    items = ["a", "b", "b", "c", "d", "d", "d", "e"]
    assert [c for c, _ in _chunked(iter(items), 2, key=lambda x: x)] == [["a", "b", "b"], ["c", "d", "d", "d"], ["e"]]
    assert [c for c, _ in _chunked(iter(items), 2)] == [["a", "b"], ["b", "c"], ["d", "d"], ["d", "e"]]


def test_the_next_item_is_made_when_asked_for_or_wanted_not_sooner() -> None:
    """Parsing waits for :meth:`_ReadAhead.want` (posting calls it once its writes are queued), so it
    does not compete with the poster's own Python for the interpreter."""
    made: list[int] = []
    second = threading.Event()

    def items() -> Iterator[int]:
        for i in range(3):
            made.append(i)
            if i == 1:
                second.set()
            yield i

    with _ReadAhead(items()) as ahead:
        it = iter(ahead)
        assert next(it) == 0
        assert not second.wait(0.2) and made == [0]  # nobody wants the next one yet
        ahead.want()
        ahead.want()  # a second call changes nothing
        assert second.wait(5) and made == [0, 1]
        assert next(it) == 1
        assert list(it) == [2]
    assert _threads() == []


def _file(*sizes: int) -> bytes:
    """One 835 file holding a generated (balanced) set of each size, its claims C1, C2, ... across the file;
    a set of size 0 pays nothing."""
    out, start = [], 1
    for k, n in enumerate(sizes, start=1):
        rem = next(iter(generate(max(n, 1), k, per_set=max(n, 1))))
        claims = tuple(dataclasses.replace(c, claim_id=f"C{start + i}") for i, c in enumerate(rem.claims))
        start += n
        rem = dataclasses.replace(rem, claims=claims) if n else dataclasses.replace(
            rem, claims=(), provider_adjustments=(), payment=dataclasses.replace(rem.payment, amount=Decimal("0.00")))
        out.append(build_835(rem, envelope=EnvelopeSpec(isa_control=k, gs_control=k, created=datetime(2026, 11, 20),
                                                        sender="PAYER", receiver="SUNRISE01")))
    return "".join(out).encode("latin-1")


def test_sets_come_in_chunks_of_their_own_each_set_read_to_its_end_at_its_last_chunk() -> None:
    chunks = list(_ReadAhead(_set_chunks(_file(3, 0, 1), 2)))
    assert [([c.claim_id for c in ch.claims], ch.last) for ch in chunks] == [
        (["C1", "C2"], False), (["C3"], True), ([], True), (["C4"], True)]
    readers = [ch.reader for ch in chunks]
    assert readers[0] is readers[1] and len({id(r) for r in readers}) == 3
    assert all(ch.reader.balance() == [] for ch in chunks if ch.last)  # totals complete: read to its SE
    assert _threads() == []


def test_a_set_that_is_not_an_835_fails_after_the_sets_before_it() -> None:
    first, second = _file(1), _file(0, 1)  # the second file's second interchange holds claim C1 too
    data = first + second[second.index(b"ISA", 1):].replace(b"ST*835*", b"ST*277*")
    got: list[list[str]] = []
    with pytest.raises(ApplyError, match="transaction set 277"):
        for ch in _ReadAhead(_set_chunks(data, 10)):
            got.append([c.claim_id for c in ch.claims])
    assert got == [["C1"]]
