"""The remembered JSON of bulk writes and reads: always what json.dumps / json.loads would give."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipelines.usecases.bulk import _json_text, _JSONText

VALUES: list[Any] = [[], ["F33.1"], ["F33.1", "F41.1"], [1, 2], [1], [True], [True, 2], [1.0], ["1"], [None],
                     [{"a": 1}], [[1]], {"x": [1]}, None, "text", 3]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_written_as_json_dumps(value: Any) -> None:
    """Lists that compare equal but are written differently ([1] and [True]) never share an entry."""
    for v in (value, [1], [True], [1.0]):  # fill the cache with look-alikes first
        _json_text(v)
    assert _json_text(value) == json.dumps(value)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_read_as_json_loads(value: Any) -> None:
    text = json.dumps(value)
    read = _JSONText().process_result_value(text, None)
    assert read == json.loads(text) and type(read) is type(json.loads(text))


def test_each_read_is_a_list_of_its_own() -> None:
    first = _JSONText().process_result_value('["F33.1"]', None)
    first.append("changed")
    assert _JSONText().process_result_value('["F33.1"]', None) == ["F33.1"]
