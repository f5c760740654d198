"""Specification of bot.splitter: Discord-sized pieces that keep words and code blocks whole."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.splitter import MIN_LIMIT, Fence, next_piece, scan_fences, split_message

_OPENER = re.compile(r"([`~]{3,})[\w+#.\-]*\n")
_FENCE_LINE = re.compile(r"`{3,}|~{3,}")
_CLOSER = re.compile(r"\n([`~]{3,})\Z")


@dataclass(frozen=True)
class Located:
    """A piece taken apart: the added markup, its body, and where the body is in the text."""

    opener: str
    body: str
    closer: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.body)


def locate(text: str, pieces: list[str]) -> list[Located] | None:
    """Take the added fence markup off each piece and find the bodies in ``text`` in order,
    with only whitespace between them (and before the first and after the last).
    Returns None when that is impossible."""
    failed: set[tuple[int, int]] = set()

    def search(index: int, pos: int) -> list[Located] | None:
        if index == len(pieces):
            # Only whitespace is left, or the fence that closes the block the last piece cut
            # (the piece wrote its own closer for it).
            tail = text[pos:].strip()
            closed = bool(pieces) and _CLOSER.search(pieces[-1]) and _FENCE_LINE.fullmatch(tail)
            return [] if tail == "" or closed else None
        if (index, pos) in failed:
            return None
        piece = pieces[index]
        openers = [""] + ([m.group()] if (m := _OPENER.match(piece)) else [])
        closers = [""] + ([m.group()] if (m := _CLOSER.search(piece)) else [])
        gap_end = pos + len(text[pos:]) - len(text[pos:].lstrip())
        for opener in openers:
            for closer in closers:
                body = piece[len(opener) : len(piece) - len(closer)]
                if not body.strip():
                    continue
                for start in range(pos, gap_end + 1):
                    if text.startswith(body, start):
                        here = Located(opener, body, closer, start)
                        rest = search(index + 1, here.end)
                        if rest is not None:
                            return [here, *rest]
        failed.add((index, pos))
        return None

    return search(0, 0)


def balanced(piece: str) -> bool:
    return scan_fences(piece) is None


# --- structured answers: paragraphs and code blocks whose fences are known -----------------

WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzÀéß—.,:;!?()[]{}<>#*_-+=/\\'\"0123456789",
    min_size=1,
    max_size=12,
)
LANGUAGES = st.sampled_from(["python", "js", "c++", "objective-c", "", "sh"])
MARKERS = st.sampled_from(["```", "```", "~~~", "````"])


@dataclass(frozen=True)
class Block:
    """A code block in a generated answer: its fence, and the span between its fence lines."""

    fence: Fence
    open_line: int  # where the opening fence line starts
    body_start: int  # just after that line's newline
    close_line: int  # where the closing fence line starts (past the end when unclosed)


@st.composite
def answers(draw: st.DrawFn) -> tuple[str, list[Block]]:
    text = ""
    blocks: list[Block] = []
    count = draw(st.integers(1, 8))
    for index in range(count):
        if index:
            text += draw(st.sampled_from(["\n\n", "\n", "\n\n\n", " \n\n"]))
        if draw(st.booleans()):
            lines = draw(st.lists(st.lists(WORD, min_size=1, max_size=25), min_size=1, max_size=6))
            text += "\n".join(draw(st.sampled_from([" ", "  "])).join(line) for line in lines)
        else:
            fence = Fence(draw(MARKERS), draw(LANGUAGES))
            code = draw(
                st.lists(st.tuples(st.integers(0, 8), st.lists(WORD, max_size=10)), max_size=25)
            )
            open_line = len(text)
            text += fence.opener
            body_start = len(text)
            text += "".join(" " * indent + " ".join(words) + "\n" for indent, words in code)
            closed = index < count - 1 or draw(st.integers(0, 5)) > 0  # only the last may stay open
            blocks.append(Block(fence, open_line, body_start, len(text) if closed else 10**9))
            if closed:
                text += fence.marker
    return text, blocks


def block_at(blocks: list[Block], lo: int, hi: int) -> Block | None:
    """The block whose inside holds a position between lo and hi (exclusive) — if any."""
    return next((b for b in blocks if lo < b.close_line and b.open_line < hi), None)


@settings(max_examples=100, deadline=None)
@given(answers(), st.integers(MIN_LIMIT, 400))
def test_answer_pieces_fit_keep_the_text_and_reopen_cut_blocks(
    answer: tuple[str, list[Block]], limit: int
) -> None:
    """Should keep every piece within the limit, lose only whitespace at cuts, and close a cut
    code block at the end of a piece and reopen it with its language in the next."""
    text, blocks = answer
    pieces = split_message(text, limit)
    assert all(len(p) <= limit and p.strip() for p in pieces)
    assert all(balanced(p) for p in pieces)
    located = locate(text, pieces)
    assert located is not None
    for index, part in enumerate(located):
        start_inside = block_at(blocks, part.start - 1, part.start)  # open just before the body
        start_inside = (
            start_inside if start_inside and start_inside.body_start <= part.start else None
        )
        assert part.opener == (start_inside.fence.opener if start_inside else "")
        end_inside = next((b for b in blocks if b.open_line < part.end <= b.close_line - 1), None)
        assert part.closer == (end_inside.fence.closer if end_inside else "")
        if part.closer and end_inside and index + 1 < len(located):
            assert located[index + 1].opener == end_inside.fence.opener
        # Never inside a word: words are far shorter than any room.
        assert part.end == len(text) or text[part.end].isspace()
        assert part.start == 0 or text[part.start - 1].isspace()


# --- arbitrary text ---------------------------------------------------------------------------

ANY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["`", "~", " ", "\n", "\t", "```", "~~~", "```py\n", "\n```\n", "\n\n"]),
        st.text(st.characters(codec="utf-8"), max_size=8),
        st.text("ab ", min_size=20, max_size=200),
        st.text("x", min_size=50, max_size=400),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, st.integers(MIN_LIMIT, 300))
def test_any_text_pieces_fit_are_visible_balanced_and_keep_the_text(text: str, limit: int) -> None:
    """Should hold the invariants for any text: within the limit, visible, balanced fences,
    and the text itself with only whitespace lost."""
    pieces = split_message(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert all(p.strip() for p in pieces)
    assert all(balanced(p) for p in pieces)
    assert locate(text, pieces) is not None
    assert (pieces == []) == (text.strip() == "")


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, ANY_TEXT, st.integers(MIN_LIMIT, 300))
def test_settled_cut_does_not_change_when_text_is_appended(
    text: str, more: str, limit: int
) -> None:
    """Should cut a settled piece the same way whatever text follows (streaming relies on it)."""
    start, fence = 0, None
    while (cut := next_piece(text, start, fence, limit)) is not None and cut.settled:
        assert next_piece(text + more, start, fence, limit) == cut
        start, fence = cut.end, cut.fence


# --- examples ---------------------------------------------------------------------------------


def five_thousand_char_answer() -> str:
    intro = "\n\n".join(
        f"Paragraph {i}: " + " ".join(["streaming answers need careful splitting"] * 6)
        for i in range(7)
    )
    code = "\n".join(
        f"def handler_{i}(event):\n    if event.ok:\n        return process(event, {i})\n"
        for i in range(24)
    )
    outro = "\n\n".join(
        f"Closing note {i}: " + "the code above is complete. " * 8 for i in range(5)
    )
    text = f"{intro}\n\n```python\n{code}```\n\n{outro}"
    assert 4800 <= len(text) <= 5400
    return text


def test_long_answer_with_code_block_is_split_with_the_block_reopened() -> None:
    """Should split a 5,000-character answer into messages that fit and reopen its python
    block with its language in the next message."""
    text = five_thousand_char_answer()
    pieces = split_message(text)
    assert len(pieces) == 3
    assert all(len(p) <= 2000 for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    cut_inside = [i for i, p in enumerate(pieces[:-1]) if p.endswith("\n```") and "```python" in p]
    assert cut_inside, "the code block should be cut across two messages"
    following = pieces[cut_inside[0] + 1]
    assert following.startswith("```python\ndef handler_") or following.startswith(
        "```python\n    "
    )
    assert locate(text, pieces) is not None


def test_short_text_is_one_piece() -> None:
    """Should return a text that fits unchanged, apart from whitespace at its ends."""
    assert split_message("hello **world**") == ["hello **world**"]
    assert split_message("\n\n  hi there \n") == ["  hi there"]  # indentation kept


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_text_without_visible_characters_gives_no_pieces(text: str) -> None:
    """Should return no pieces for a blank text (Discord refuses empty messages)."""
    assert split_message(text) == []


def test_prefers_a_paragraph_break_over_a_line_break() -> None:
    """Should cut at the paragraph break when it leaves the piece well filled."""
    first = "word " * 14 + "end."  # 74 characters
    text = first + "\n\n" + "next line\n" * 5 + "more " * 30
    assert split_message(text, 100)[0] == first


def test_prefers_a_line_break_over_a_space() -> None:
    """Should cut at a line break rather than between two words of one line."""
    text = "a" * 70 + "\n" + "b " * 40
    assert split_message(text, 100)[0] == "a" * 70


def test_cuts_between_words_when_no_line_break_fits() -> None:
    """Should never cut inside a word that fits in a piece."""
    words = [f"w{i:03d}" for i in range(120)]
    pieces = split_message(" ".join(words), 100)
    assert " ".join(pieces).split() == words


def test_word_longer_than_the_room_is_cut_hard() -> None:
    """Should cut a word that cannot fit in one piece at the limit."""
    assert split_message("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_fence_markup_counts_toward_the_limit() -> None:
    """Should keep pieces within the limit including the added closing and opening fences."""
    text = "```python\n" + "print(1)\n" * 60 + "```"
    pieces = split_message(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert all(p.startswith("```python\n") and p.endswith("\n```") for p in pieces)


def test_indentation_after_a_cut_inside_code_is_kept() -> None:
    """Should keep a code line's indentation at the start of the next piece."""
    text = "```py\n" + "x = 1\n" * 14 + "    return value_of_the_function\n```"
    pieces = split_message(text, 100)
    assert pieces[1].startswith("```py\n    return")


def test_tilde_fence_is_reopened_with_tildes() -> None:
    """Should close and reopen a ~~~ block with tildes."""
    pieces = split_message("~~~rust\n" + "let x = 1;\n" * 20 + "~~~", 100)
    assert pieces[0].endswith("\n~~~") and pieces[1].startswith("~~~rust\n")


def test_fence_without_language_is_reopened_bare() -> None:
    """Should reopen a block that had no language with a bare fence."""
    pieces = split_message("```\n" + "line\n" * 40 + "```", 100)
    assert pieces[1].startswith("```\nline")


def test_unclosed_block_at_the_end_is_closed() -> None:
    """Should close a code block the answer left open, so the last piece renders."""
    assert split_message("see:\n```js\nlet a = 1;") == ["see:\n```js\nlet a = 1;\n```"]


def test_too_small_limit_is_refused() -> None:
    """Should refuse a limit too small for fence markup and text."""
    with pytest.raises(ValueError):
        split_message("text", MIN_LIMIT - 1)
