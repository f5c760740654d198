"""History: trimming to a budget, and memory stored per channel."""

from pathlib import Path

from bot.chat.history import (
    CHARS_PER_TOKEN,
    IMAGE_TOKENS,
    Exchange,
    History,
    Turn,
    as_message,
    build_messages,
    estimate_tokens,
    fit_turns,
    room_for_document,
)
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store


def turns(count: int, size: int = 40) -> list[Turn]:
    roles = ("user", "assistant")
    return [Turn(roles[i % 2], "ana", f"{i:03d}" + "x" * size) for i in range(count)]


def test_all_turns_fit_a_large_budget() -> None:
    assert fit_turns(turns(6), budget_tokens=10_000, max_turns=20) == turns(6)


def test_oldest_turns_are_dropped_first_to_fit_the_budget() -> None:
    history = turns(10)
    kept = fit_turns(history, budget_tokens=60, max_turns=20)
    assert kept == history[-len(kept) :]
    assert sum(estimate_tokens(as_message(t)["content"]) for t in kept) <= 60
    assert 0 < len(kept) < 10


def test_turn_limit_caps_history_whatever_the_budget() -> None:
    assert len(fit_turns(turns(30), budget_tokens=10**9, max_turns=4)) == 4


def test_kept_history_never_starts_with_an_assistant_turn() -> None:
    kept = fit_turns(turns(5), budget_tokens=10**9, max_turns=4)  # would start at index 1
    assert kept[0].role == "user"


def test_zero_turn_limit_means_no_memory() -> None:
    assert fit_turns(turns(4), budget_tokens=10**9, max_turns=0) == []


def test_messages_carry_system_prompt_history_and_named_prompt() -> None:
    messages = build_messages(
        system_prompt="Be brief.",
        turns=[Turn("user", "bao", "hi"), Turn("assistant", "nexbot", "hello")],
        prompt="how are you?",
        author_name="ana",
        image_url=None,
        context_tokens=10_000,
        answer_tokens=100,
        max_turns=10,
    )
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "bao: hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "ana: how are you?"},
    ]


def test_an_image_becomes_an_image_part() -> None:
    messages = build_messages(
        system_prompt="s",
        turns=[],
        prompt="what is this?",
        author_name="ana",
        image_url="data:image/png;base64,AAAA",
        context_tokens=10_000,
        answer_tokens=100,
        max_turns=10,
    )
    assert messages[-1]["content"] == [
        {"type": "text", "text": "ana: what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]


def test_a_small_context_window_leaves_no_room_for_history() -> None:
    messages = build_messages(
        system_prompt="s",
        turns=turns(6),
        prompt="p",
        author_name="a",
        image_url=None,
        context_tokens=120,
        answer_tokens=100,
        max_turns=10,
    )
    assert len(messages) == 2


async def test_exchanges_are_kept_per_channel_and_forgotten(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "h.db")
    history = History(store)
    try:
        await history.add_exchange(
            1, author_id=7, author_name="ana", prompt="q1", answer="a1", model="m",
            bot_id=9, bot_name="nexbot",
        )  # fmt: skip
        await history.add_exchange(
            2, author_id=7, author_name="ana", prompt="other", answer="x", model="m",
            bot_id=9, bot_name="nexbot",
        )  # fmt: skip
        assert await history.recent(1, 10) == [
            Turn("user", "ana", "q1"),
            Turn("assistant", "nexbot", "a1"),
        ]
        assert await history.forget(1) == 2
        assert await history.recent(1, 10) == []
        assert len(await history.recent(2, 10)) == 2
    finally:
        await store.close()


async def test_the_exchange_of_a_replied_answer_is_found_by_a_part_of_it(
    tmp_path: Path,
) -> None:
    store = await SQLiteStore.open(tmp_path / "h.db")
    history = History(store)
    try:
        for prompt, answer in (("q1", "Paris is the capital."), ("q2", "About 2.1 million.")):
            await history.add_exchange(
                1, author_id=7, author_name="ana", prompt=prompt, answer=answer, model="m",
                bot_id=9, bot_name="nexbot",
            )  # fmt: skip
        assert await history.exchange_with(1, "the capital") == [
            Turn("user", "ana", "q1"),
            Turn("assistant", "nexbot", "Paris is the capital."),
        ]
        assert await history.exchange_with(1, "never said") == []
        assert await history.exchange_with(2, "the capital") == []
    finally:
        await store.close()


def _room(**kw: object) -> int:
    values: dict[str, object] = {
        "system_prompt": "s" * 400,
        "prompt": "p" * 400,
        "author_name": "ana",
        "image_url": None,
        "context_tokens": 10_000,
        "answer_tokens": 2_000,
        **kw,
    }
    return room_for_document(**values)  # type: ignore[arg-type]


def test_document_gets_the_context_left_after_prompt_and_answer() -> None:
    room = _room()
    assert 0 < room < (10_000 - 2_000 - 200) * CHARS_PER_TOKEN
    assert _room(answer_tokens=3_000) == room - 1_000 * CHARS_PER_TOKEN
    assert _room(image_url="data:") == room - IMAGE_TOKENS * CHARS_PER_TOKEN


def test_no_room_for_a_document_in_a_full_context() -> None:
    assert _room(context_tokens=1_000) == 0


async def test_an_exchange_is_found_by_its_ids_removed_and_copied(store: Store) -> None:
    """Should find one exchange by the ids its answer's buttons carry, copy it into a new
    thread's memory, and forget it (both rows) on its own (on each backend)."""
    history = History(store)
    first = await history.add_exchange(
        1, author_id=7, author_name="ana", prompt="q1", answer="a1", model="m",
        bot_id=9, bot_name="nexbot",
    )  # fmt: skip
    second = await history.add_exchange(
        1, author_id=8, author_name="bo", prompt="q2", answer="a2", model="m2",
        bot_id=9, bot_name="nexbot",
    )  # fmt: skip
    remembered = await history.exchange(first)
    assert remembered is not None
    assert (remembered.channel_id, remembered.author_id, remembered.prompt) == (1, 7, "q1")
    assert (remembered.answer, remembered.model) == ("a1", "m")
    assert await history.exchange(Exchange(first.prompt_id, second.answer_id)) is not None
    assert await history.exchange(Exchange(first.answer_id, first.prompt_id)) is None

    await history.copy_exchange(remembered, 50, bot_id=9, bot_name="nexbot")
    assert await history.recent(50, 10) == [
        Turn("user", "ana", "q1"),
        Turn("assistant", "nexbot", "a1"),
    ]
    assert await history.remove_exchange(first) == 2
    assert await history.exchange(first) is None
    assert [t.content for t in await history.recent(1, 10)] == ["q2", "a2"]
