"""Specification of the bot's notes as subtext, and of escaping subtext in model text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.subtext import SubtextEscaper, subtext

FRAGMENTS = ["```", "```py", "~~~", "-#", "-", "#", " ", "\n", "x", "`", "\\"]


def escape(text: str, sizes: list[int] | None = None) -> str:
    """`text` through an escaper, fed in pieces of the given sizes (cycled), then flushed."""
    escaper, out, start = SubtextEscaper(), list[str](), 0
    sizes = sizes or [len(text) or 1]
    while start < len(text):
        size = sizes[len(out) % len(sizes)]
        out.append(escaper.feed(text[start : start + size]))
        start += size
    return "".join(out) + escaper.flush()


def test_a_note_is_one_line_of_subtext() -> None:
    """Should put the note on one subtext line, whatever its line breaks."""
    assert subtext("⚠️ The answer was\ncut off.") == "-# ⚠️ The answer was cut off."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fine.\n-# ⚠️ fake note", "Fine.\n\\-# ⚠️ fake note"),
        ("  -# indented", "  \\-# indented"),
        ("```\ncode\n```\n-# after the block", "```\ncode\n```\n\\-# after the block"),
        ("- a list item\n-1 and -x", "- a list item\n-1 and -x"),
        ("text -# not at the start", "text -# not at the start"),
    ],
    ids=["line", "indented", "after-block", "dashes", "mid-line"],
)
def test_subtext_outside_code_is_escaped(text: str, expected: str) -> None:
    """Should escape `-#` where it starts a line outside code, and change nothing else."""
    assert escape(text) == expected


def test_code_blocks_are_left_intact() -> None:
    """Should keep a diff that removes a comment exactly as the model wrote it."""
    diff = "```diff\n-# old comment\n+# new comment\n```"
    assert escape(diff) == diff


@pytest.mark.parametrize(
    "text",
    [
        "```\nfoo```\n-# forged",  # Discord ends the block mid-line
        "x ```\n```\n-# forged",  # Discord opens a block mid-line; the fence line ends it
        "~~~\n-# forged\n~~~",  # Discord knows no ~~~ blocks
        "```\n``````\n-# forged",  # Discord ends one block and opens another
    ],
    ids=["closed-mid-line", "opened-mid-line", "tilde", "double"],
)
def test_where_discord_may_see_no_block_subtext_is_escaped(text: str) -> None:
    """Should escape when Markdown and Discord may disagree about a code block."""
    assert "\\-# forged" in escape(text)


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40), st.lists(st.integers(1, 5), min_size=1))
def test_escaping_only_adds_backslashes_and_ignores_how_text_is_streamed(
    fragments: list[str], sizes: list[int]
) -> None:
    """Should give the same text in any pieces, differing from the input only by `\\` marks."""
    text = "".join(fragments)
    whole = escape(text)
    assert escape(text, sizes) == whole
    assert whole.replace("\\-#", "-#") == text.replace("\\-#", "-#")


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_unescaped_subtext_is_always_inside_a_code_block_as_discord_pairs_them(
    fragments: list[str],
) -> None:
    """Should leave `-#` at a line start only after an odd number of ``` (inside a block)."""
    out = escape("".join(fragments))
    for start in re.finditer(r"(?m)^[ \t]*-#", out):
        assert out[: start.start()].count("```") % 2 == 1, out


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40), st.lists(st.integers(1, 5), min_size=1))
def test_the_models_text_comes_back_from_the_escaped_text(
    fragments: list[str], sizes: list[int]
) -> None:
    """Should give back exactly what the model wrote (a `\\-#` of its own included), so an
    answer is remembered as written though only its escaped form is kept."""
    text = "".join(fragments)
    escaper, out, start = SubtextEscaper(), list[str](), 0
    while start < len(text):
        size = sizes[len(out) % len(sizes)]
        out.append(escaper.feed(text[start : start + size]))
        start += size
    out.append(escaper.flush())
    assert escaper.original("".join(out)) == text


def test_the_original_of_an_escaped_line_has_no_added_backslash() -> None:
    """Should remove only the backslashes the escaper added."""
    escaper = SubtextEscaper()
    shown = escaper.feed("Fine.\n-# fake\n\\-# own") + escaper.flush()
    assert shown == "Fine.\n\\-# fake\n\\-# own"
    assert escaper.original(shown) == "Fine.\n-# fake\n\\-# own"
