"""835 claims read one chunk ahead by a thread (:func:`pipelines.usecases.posting._read_ahead`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pipelines.errors import ApplyError
from pipelines.usecases.posting import _read_ahead


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "835-read-ahead"]


@pytest.mark.parametrize(("n", "size", "chunks"), [(0, 3, []), (1, 3, [[0]]), (6, 3, [[0, 1, 2], [3, 4, 5]]),
                                                   (7, 3, [[0, 1, 2], [3, 4, 5], [6]])])
def test_chunks_in_order(n: int, size: int, chunks: list[list[int]]) -> None:
    assert list(_read_ahead(iter(range(n)), size)) == chunks
    assert _threads() == []


def test_a_reading_error_comes_after_the_chunks_read_before_it() -> None:
    def claims() -> Iterator[int]:
        yield from range(5)
        raise ApplyError("CLP at segment 40: bad amount", {"segment_number": 40})

    got: list[list[int]] = []
    with pytest.raises(ApplyError, match="segment 40"):
        for chunk in _read_ahead(claims(), 2):
            got.append(chunk)
    assert got == [[0, 1], [2, 3]]
    assert _threads() == []


def test_the_thread_stops_when_the_caller_stops_early() -> None:
    read: list[int] = []

    def claims() -> Iterator[int]:
        for i in range(1000):
            read.append(i)
            yield i

    chunks = _read_ahead(claims(), 10)
    with pytest.raises(RuntimeError, match="posting failed"):
        for _ in chunks:
            raise RuntimeError("posting failed")
    chunks.close()  # what the for loop's frame going away does
    assert _threads() == []
    assert len(read) < 1000  # it did not read the rest of the file


def test_a_key_keeps_neighbours_of_one_key_in_one_chunk() -> None:
    """A chunk is not cut between two items of the same key (a reversal and its correction)."""
    items = ["a", "b", "b", "c", "d", "d", "d", "e"]
    assert list(_read_ahead(iter(items), 2, key=lambda x: x)) == [["a", "b", "b"], ["c", "d", "d", "d"], ["e"]]
    assert list(_read_ahead(iter(items), 2)) == [["a", "b"], ["b", "c"], ["d", "d"], ["d", "e"]]
