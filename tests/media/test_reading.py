"""What "Read aloud" reads of a message."""

from __future__ import annotations

import pytest

from bot.media.reading import NothingToRead, text_to_read


@pytest.mark.parametrize(
    ("content", "read"),
    [
        ("Hello there.", "Hello there."),
        ("Run this:\n```python\nprint('hi')\n```\nThen relax.", "Run this:\n\nThen relax."),
        ("Use `pip install` first.", "Use pip install first."),
        ("The answer.\n\n-# ⚠️ The answer was cut off before it finished.", "The answer."),
        ("Unclosed fence:\n```\ncode to the end", "Unclosed fence:"),
    ],
)
def test_code_blocks_and_the_bots_notes_are_not_read(content: str, read: str) -> None:
    reading = text_to_read(content)
    assert (reading.text, reading.cut) == (read, False)


def test_a_long_text_is_cut_at_a_word_within_the_limit() -> None:
    reading = text_to_read("word " * 30, limit=52)
    assert reading.cut and len(reading.text) <= 52
    assert reading.text.endswith("word") and reading.text.count("word") == 10


@pytest.mark.parametrize("content", ["", "   ", "```\nonly code\n```", "-# only a note"])
def test_a_message_with_nothing_to_read_is_refused(content: str) -> None:
    with pytest.raises(NothingToRead):
        text_to_read(content)
