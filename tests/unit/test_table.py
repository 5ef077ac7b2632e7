"""pipelines.cli.table: one money format, right-aligned numbers, long texts wrapped and never cut."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.cli.table import render_table, usd


@pytest.mark.parametrize(("amount", "text"), [
    ("6470.00", "$6,470.00"), (Decimal("6470"), "$6,470.00"), ("-25", "-$25.00"), (0, "$0.00"),
    ("1234567.5", "$1,234,567.50"), (None, ""), ("", ""),
])
def test_usd(amount: object, text: str) -> None:
    assert usd(amount) == text


def test_money_columns_are_formatted_and_right_aligned() -> None:
    out = render_table(["claim", "billed"], [["C1", "6470.00"], ["C2", "5"]], money=("billed",), width=80)
    lines = out.splitlines()
    assert lines[0] == "claim     billed"
    assert lines[2] == "C1     $6,470.00"
    assert lines[3] == "C2         $5.00"


def test_number_columns_right_aligned_and_text_left_aligned() -> None:
    out = render_table(["name", "n"], [["a", 5], ["bbb", 120]], width=80).splitlines()
    assert out[2] == "a       5"
    assert out[3] == "bbb   120"


def test_long_text_wraps_at_word_boundaries_without_losing_words() -> None:
    text = "Precertification or authorization or notification absent and the payer says so at length here"
    out = render_table(["code", "description"], [["197", text]], width=40)
    lines = out.splitlines()
    assert all(len(line) <= 40 for line in lines)
    assert len(lines) > 3  # header, rule, and the text on more than one line
    body = " ".join(line[5:].strip() for line in lines[2:])
    assert body == text  # every word, in order, none cut


def test_a_word_longer_than_the_width_stays_whole() -> None:
    word = "x" * 60
    out = render_table(["a", "b"], [["1", word]], width=30)
    assert word in out


def test_none_is_empty_and_rows_keep_their_columns() -> None:
    out = render_table(["a", "b", "c"], [[None, "x", None]], width=80).splitlines()
    assert out[2].strip() == "x"


def test_not_a_terminal_keeps_lines_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under pytest stdout is not a terminal: even with COLUMNS set, lines stay whole (pipes, files, cron)."""
    monkeypatch.setenv("COLUMNS", "50")
    text = ("word " * 60).strip()
    assert text in render_table(["a", "b"], [["1", text]])
