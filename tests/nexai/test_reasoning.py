"""The `<think>` filter, fed whole and in every possible split."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.nexai.reasoning import ThinkFilter, strip_think


def feed_all(pieces: list[str]) -> str:
    think = ThinkFilter()
    return "".join(think.feed(piece) for piece in pieces) + think.flush()


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("plain answer", "plain answer"),
        ("<think>hidden</think>answer", "answer"),
        ("<think>hidden</think>\n\n  answer", "answer"),
        ("before <think>hidden</think> after", "before after"),
        ("<think>a</think>one<think>b</think>two", "onetwo"),
        ("<think>never closed", ""),
        ("answer <think>trailing thoughts", "answer "),
        ("stray closing</think> tag", "stray closing tag"),
        ("a < b and <b>bold</b>", "a < b and <b>bold</b>"),
        ("ends with <", "ends with <"),
        ("ends with <thi", "ends with <thi"),
        ("<think></think>", ""),
        ("<THINK>upper case is not a tag</THINK>", "<THINK>upper case is not a tag</THINK>"),
        ("x<<think>y</think>z", "x<z"),
    ],
)
def test_strip_think(text: str, visible: str) -> None:
    assert strip_think(text) == visible


SAMPLE = "Intro <think>step 1\nstep 2 < 3</think>\n\nThe answer is <b>42</b>."


@pytest.mark.parametrize("cut", range(len(SAMPLE) + 1))
def test_split_at_every_position_gives_the_same_text(cut: int) -> None:
    assert feed_all([SAMPLE[:cut], SAMPLE[cut:]]) == strip_think(SAMPLE)


def test_one_character_at_a_time_gives_the_same_text() -> None:
    assert feed_all(list(SAMPLE)) == "Intro The answer is <b>42</b>."


def test_partial_tag_is_held_until_it_can_be_decided() -> None:
    think = ThinkFilter()
    assert think.feed("Hello <thi") == "Hello "
    assert think.feed("nk>secret") == ""
    assert think.inside
    assert think.feed("</thi") == ""
    assert think.feed("nk>World") == "World"
    assert think.flush() == ""


def test_text_is_released_as_soon_as_it_cannot_be_a_tag() -> None:
    think = ThinkFilter()
    assert think.feed("a <") == "a "
    assert think.feed("x") == "<x"


ALPHABET = st.sampled_from(["<think>", "</think>", "<", ">", "/", "t", "think", " ", "\n", "a"])


@given(st.lists(ALPHABET, max_size=30), st.data())
def test_any_split_equals_the_whole(tokens: list[str], data: st.DataObject) -> None:
    text = "".join(tokens)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert feed_all(pieces) == strip_think(text)


@given(st.text(alphabet=st.characters(exclude_characters="<")))
def test_text_without_tags_passes_through_unchanged(text: str) -> None:
    assert strip_think(text) == text


@given(st.text(), st.text())
def test_nothing_inside_a_closed_block_is_visible(hidden: str, answer: str) -> None:
    assume("</think>" not in hidden)
    assume("<think>" not in answer and "</think>" not in answer)
    assert strip_think(f"<think>{hidden}</think>{answer}") == answer.lstrip()


# -- models that think inline, often without the opening tag (DeepSeek-R1 and kin) -----------


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("my reasoning\n</think>\n\nThe answer.", "The answer."),
        ("<think>my reasoning</think>The answer.", "The answer."),
        ("The answer, no reasoning at all.", "The answer, no reasoning at all."),
        ("reasoning</think>one<think>more</think>two", "onetwo"),
        ("<think>opened and never closed", ""),
        ("a < b, said without a tag", "a < b, said without a tag"),
    ],
)
def test_inline_reasoning_is_hidden_with_or_without_its_opening_tag(
    text: str, visible: str
) -> None:
    assert strip_think(text, inline=True) == visible


def test_inline_reasoning_cut_by_the_budget_is_not_released_as_the_answer() -> None:
    assert strip_think("still thinking about it", inline=True, truncated=True) == ""
    assert strip_think("still thinking about it", inline=True) == "still thinking about it"


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=6))
def test_inline_filter_gives_the_same_answer_however_the_text_is_split(cuts: list[int]) -> None:
    text = "thinking < hard\n</think>\n\nThe <b>answer</b>."
    points = sorted({min(cut, len(text)) for cut in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    think = ThinkFilter(inline=True)
    shown = "".join(think.feed(piece) for piece in pieces) + think.flush()
    assert shown == "The <b>answer</b>."
