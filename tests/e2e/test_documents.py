"""Documents as context end to end: /ask's file option and a mention's attachments, read
into the prompt (or refused before any API call), trimmed with a note, remembered briefly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.chat.pdfs import blank_pdf, make_pdf
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.media_support import usage_rows
from tests.e2e.test_ask import ask, chat_requests, finished, last_user_text
from tests.fakes.discord import FakeAttachment, FakeInteraction
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

MARKDOWN = "# Shopping\n\n- rice\n- phở noodles\n- fish sauce\n"
CSV = "name,score\nAn,9\nBình,7\n"


def markdown_file(text: str = MARKDOWN, name: str = "list.md") -> FakeAttachment:
    return FakeAttachment(name, text.encode(), content_type="text/markdown; charset=utf-8")


def error_text(inter: FakeInteraction) -> str:
    """The ephemeral refusal: the reply itself (before the defer) or the follow-up after."""
    if inter.response_type == 4:
        assert inter.original is not None and inter.original.ephemeral
        return inter.original.content
    assert inter.original is not None and inter.original.deleted
    assert inter.followups and inter.followups[-1].ephemeral
    return inter.followups[-1].content


async def test_ask_file_text_goes_to_the_model_named_with_its_type(env: BotEnv) -> None:
    channel = env.discord.add_channel("docs")
    env.api.enqueue("/chat/completions", Reply("Rice, noodles, fish sauce."))
    inter = await ask(
        env, "What's on my list?", options={"file": markdown_file()}, channel_id=channel
    )
    assert inter.original is not None and inter.original.content == "Rice, noodles, fish sauce."
    sent = last_user_text(chat_requests(env)[-1])
    assert sent.split(": ", 1)[1].startswith("What's on my list?\n\nThe member attached")
    assert 'the file "list.md" (Markdown)' in sent
    assert MARKDOWN.strip() in sent and "----- END list.md -----" in sent


@pytest.mark.parametrize(
    ("attachment", "kind"),
    [
        (FakeAttachment("notes.txt", b"plain words", "text/plain; charset=utf-8"), "plain text"),
        (FakeAttachment("cfg.json", b'{"debug": true}', "application/json; charset=utf-8"), "JSON"),
        (FakeAttachment("app.py", b"print('hi')\n", "text/x-python; charset=utf-8"), "Python"),
        (FakeAttachment("main.go", b"package main\n", None), "Go"),
    ],
    ids=["text", "json", "python", "go-untyped"],
)
async def test_each_text_kind_reaches_the_model(
    env: BotEnv, attachment: FakeAttachment, kind: str
) -> None:
    env.api.enqueue("/chat/completions", Reply("Read."))
    await ask(env, "Explain", options={"file": attachment})
    sent = last_user_text(chat_requests(env)[-1])
    assert f'the file "{attachment.filename}" ({kind})' in sent
    assert attachment.data.decode().strip() in sent


async def test_memory_keeps_a_mention_of_the_file_not_its_text(env: BotEnv) -> None:
    channel = env.discord.add_channel("docs-memory")
    body = "secret ingredient: " + "x" * 2_000
    env.api.enqueue("/chat/completions", Reply("Noted."))
    await ask(env, "Read this", options={"file": markdown_file(body)}, channel_id=channel)
    (user_turn, answer) = await env.bot.history.recent(channel, 10)
    assert user_turn.content.startswith('Read this\n[attached file "list.md" (Markdown')
    assert "secret ingredient" not in user_turn.content and answer.content == "Noted."
    env.api.enqueue("/chat/completions", Reply("Yes."))
    await ask(env, "And then?", channel_id=channel)
    sent_again = chat_requests(env)[-1]["messages"]
    assert not any("secret ingredient" in str(m["content"]) for m in sent_again)
    assert any('attached file "list.md"' in str(m["content"]) for m in sent_again)


async def test_pdf_text_goes_to_the_model(env: BotEnv) -> None:
    pdf = FakeAttachment(
        "report.pdf", make_pdf(["Quarterly sales rose", "Costs fell"]), "application/pdf"
    )
    env.api.enqueue("/chat/completions", Reply("Good quarter."))
    await ask(env, "Summarise", options={"file": pdf})
    sent = last_user_text(chat_requests(env)[-1])
    assert '"report.pdf" (PDF, 2 pages)' in sent
    assert "Quarterly sales rose" in sent and "Costs fell" in sent


@pytest.mark.parametrize(
    ("attachment", "expected"),
    [
        (
            FakeAttachment("tool.exe", b"MZ\x90\x00" + bytes(60), "application/x-msdownload"),
            "isn't a text file",
        ),
        (FakeAttachment("data.csv", b"a,b\x00\x01\x02", "text/csv"), "isn't a text file"),
        (FakeAttachment("old.txt", "café crème".encode("latin-1"), "text/plain"), "isn't UTF-8"),
        (
            FakeAttachment("plans.pdf", make_pdf(["top secret"], password="pw"), "application/pdf"),
            "protected by a password",
        ),
        (
            FakeAttachment("broken.pdf", b"%PDF-1.7\n1 0 obj <<", "application/pdf"),
            "seems damaged",
        ),
        (FakeAttachment("scan.pdf", blank_pdf(2), "application/pdf"), "found no text"),
    ],
    ids=["binary-type", "binary-bytes", "not-utf8", "encrypted", "damaged", "scan"],
)
async def test_unreadable_file_is_refused_before_any_api_call_or_charge(
    env: BotEnv, attachment: FakeAttachment, expected: str
) -> None:
    channel = env.discord.add_channel("refusals")
    calls = len(env.api.calls("/chat/completions"))
    charged = len(await usage_rows(env, env.discord.user_id))
    inter = await env.discord.invoke(
        "ask", {"prompt": "Read it", "file": attachment}, channel_id=channel
    )
    await inter.wait_done(finished)
    assert expected in error_text(inter) and attachment.filename in error_text(inter)
    assert len(env.api.calls("/chat/completions")) == calls
    assert len(await usage_rows(env, env.discord.user_id)) == charged
    assert await env.bot.history.recent(channel, 10) == []


async def test_file_over_the_byte_cap_is_refused_at_once(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(env.bot.documents, "max_bytes", 2 * 2**20)
    calls = len(env.api.calls("/chat/completions"))
    big = markdown_file("y" * (3 * 2**20), name="big.md")
    inter = await env.discord.invoke("ask", {"prompt": "Read it", "file": big})
    await inter.wait_done()
    assert inter.response_type == 4, "refused by Discord's size before deferring"
    assert "`big.md` is too large (3 MB); I can read files up to 2 MB." in error_text(inter)
    assert len(env.api.calls("/chat/completions")) == calls


async def test_refusal_is_in_the_members_language(env: BotEnv) -> None:
    bad = FakeAttachment("song.mp3", b"ID3" + bytes(64), "audio/mpeg")
    inter = await env.discord.invoke("ask", {"prompt": "Đọc", "file": bad}, locale="vi")
    await inter.wait_done()
    assert "Mình không đọc được `song.mp3`" in error_text(inter)


async def test_document_past_the_character_cap_is_cut_with_a_note(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(env.bot.documents, "max_chars", 1_000)
    env.api.enqueue("/chat/completions", Reply("It is long."))
    inter = await ask(env, "How long?", options={"file": markdown_file("z" * 5_000, "long.md")})
    sent = last_user_text(chat_requests(env)[-1])
    assert "z" * 1_000 in sent and "z" * 1_001 not in sent
    assert "----- long.md IS CUT HERE" in sent
    assert inter.original is not None
    assert inter.original.content == (
        "It is long.\n\n-# 📄 `long.md` is too long to read whole: "
        "I read only its first 1000 characters."
    )


async def test_document_is_trimmed_to_the_models_context(tmp_path: Path) -> None:
    small = {"gpt-4o-mini": {"context_tokens": 4_000}}
    async with bot_env(
        tmp_path / "nexbot.db", model_capabilities=small, answer_max_tokens=500
    ) as env:
        env.api.enqueue("/chat/completions", Reply("Trimmed."))
        inter = await ask(env, "Read", options={"file": markdown_file("w" * 40_000, "big.md")})
        sent = last_user_text(chat_requests(env)[-1])
        shown = max(len(run) for run in re.findall("w+", sent))
        assert 5_000 < shown < 4_000 * 4, "the document fills what the context leaves"
        assert inter.original is not None
        assert inter.original.content.endswith(
            f"-# 📄 `big.md` is too long to read whole: I read only its first {shown} characters."
        )


async def test_image_on_the_file_option_is_still_seen(env: BotEnv) -> None:
    png = FakeAttachment("cat.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
    env.api.enqueue("/chat/completions", Reply("A cat."))
    await ask(env, "What is it?", options={"file": png, "model": "gpt-4o"})
    parts = chat_requests(env)[-1]["messages"][-1]["content"]
    assert parts[1]["type"] == "image_url"


async def test_mention_attachment_goes_to_the_model(env: BotEnv) -> None:
    env.api.enqueue("/chat/completions", Reply("Bình has 7."))
    csv = FakeAttachment("scores.csv", CSV.encode(), "text/csv; charset=utf-8")
    sent = await env.discord.send_message(
        "what did Bình score?", mentions_bot=True, attachments=[csv]
    )
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: not reply.content.endswith("▌"))
    assert reply.content == "Bình has 7."
    text = last_user_text(chat_requests(env)[-1])
    assert 'the file "scores.csv" (CSV)' in text and CSV.strip() in text


@pytest.mark.parametrize(
    ("attachments", "expected"),
    [
        ([FakeAttachment("x.pdf", make_pdf(["s"], password="pw"), "application/pdf")], "password"),
        ([FakeAttachment("a.zip", b"PK\x03\x04" + bytes(20), "application/zip")], "isn't a text"),
        ([markdown_file(name="a.md"), markdown_file(name="b.md")], "one file per question"),
    ],
    ids=["encrypted", "binary", "two-files"],
)
async def test_mention_with_an_unreadable_file_is_told_before_any_api_call(
    env: BotEnv, attachments: list[FakeAttachment], expected: str
) -> None:
    channel = env.discord.add_channel("mention-refusals")
    calls = len(env.api.calls("/chat/completions"))
    charged = len(await usage_rows(env, env.discord.user_id))
    sent = await env.discord.send_message(
        "read this", mentions_bot=True, attachments=attachments, channel_id=channel
    )
    reply = await env.discord.wait_reply(sent)
    assert expected in reply.content
    assert len(env.api.calls("/chat/completions")) == calls
    assert len(await usage_rows(env, env.discord.user_id)) == charged
    assert await env.bot.history.recent(channel, 10) == []
