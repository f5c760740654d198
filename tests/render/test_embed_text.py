"""Lists cut to Discord's size limits say how many items they left out."""

from __future__ import annotations

import pytest

from bot.render.embed_text import clip, fit_items


def more(count: int) -> str:
    return f"… and {count} more"


def test_a_list_that_fits_is_shown_whole() -> None:
    assert fit_items(["a", "b", "c"], 7, more) == "a, b, c"


@pytest.mark.parametrize("count", [43, 100, 1000])
@pytest.mark.parametrize("limit", [40, 1024, 4096])
def test_a_long_list_shows_what_fits_and_counts_the_rest(count: int, limit: int) -> None:
    items = [f"<#{10**18 + n}>" for n in range(count)]
    text = fit_items(items, limit, more)
    assert len(text) <= limit
    shown = [item for item in text.split(", ") if item.startswith("<#")]
    assert shown == items[: len(shown)]
    if len(shown) < count:
        assert text.endswith(more(count - len(shown)))
    else:
        assert text == ", ".join(items)


def test_lines_keep_their_separator() -> None:
    lines = [f"• limit {n}" for n in range(100)]
    text = fit_items(lines, 60, more, separator="\n")
    assert text.splitlines()[:2] == ["• limit 0", "• limit 1"]
    assert len(text) <= 60 and text.endswith("more")


def test_clip_marks_a_cut() -> None:
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 4) == "abc"
