"""A loopback fake of Discord (REST, gateway, CDN) that the real, unmodified discord.py logs into.

One aiohttp server on a random 127.0.0.1 port serves ``/api/v10/...`` (REST), ``/gateway`` and
``/resume`` (websocket) and ``/attachments/...`` (CDN). ``start()``/``async with`` also
``install()``s it: ``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` point at
the fake (process-wide; ``_set_api_version`` is wrapped so it cannot point them back), and
``close()`` undoes that. Stop the bot before closing the fake.

The world: one guild (``guild_id``) with text channels ``channel_id`` ("general") and
``other_channel_id`` ("random"), roles @everyone and the bot's, members: the bot
(``bot_user_id`` == ``application_id``, as on Discord) and a default member ``user_id`` who
sends messages and invokes commands unless told otherwise; ``dm_channel_id`` is that member's
DM with the bot. ``add_member``/``add_role``/``add_channel`` work before or after the bot starts.

Fast start: pass ``guild_ready_timeout=0.1`` to ``commands.Bot(...)`` — discord.py waits that
long (default 2 s) after the last GUILD_CREATE before ``on_ready``.

Module-scoped bot (pytest-asyncio 1.x; pyproject sets ``asyncio_mode = "auto"``)::

    import pytest
    import pytest_asyncio
    from tests.fakes.discord import FakeDiscord, run_bot, stop_bot

    pytestmark = pytest.mark.asyncio(loop_scope="module")

    @pytest_asyncio.fixture(scope="module", loop_scope="module")
    async def env():
        async with FakeDiscord() as fake:
            bot = make_bot()  # a commands.Bot(..., guild_ready_timeout=0.1)
            task = await run_bot(bot, fake)  # returns after on_ready
            yield fake, bot
            await stop_bot(bot, task)

    async def test_ask(env):
        fake, bot = env
        inter = await fake.invoke("ask", {"prompt": "hi"})
        await inter.wait_done()  # a reply, or a defer that was edited / followed up
        assert inter.original is not None and inter.original.content == "..."

Every test of the module shares the fake's records (``messages``, ``requests``, ...): look at
what your test created (its ``FakeInteraction``, ``await fake.wait_reply(sent)``) rather than
at counts or ``[-1]`` — the bot may still be answering an earlier test's message.

Members act: ``invoke`` (slash command; options typed from the registered command, user /
channel / role options take ids, attachment options ``FakeAttachment``s), ``autocomplete``
(returns the choices), ``invoke_message_command`` / ``invoke_user_command`` (context menus),
``send_message`` (MESSAGE_CREATE; returns the payload), ``delete_message`` (MESSAGE_DELETE),
``press_button`` (a message's button).
The bot's doings: ``messages`` / ``bot_messages(channel_id=None)`` (``FakeMessage``s of every
channel, in order), each ``FakeInteraction``'s ``callbacks``/``original``/``followups``,
``requests`` ((method, path after ``/api/v10``) of every call, CDN GETs as
``/attachments/...``), ``connections`` (the client end of every connection REST calls came
on), ``typing``, ``commands``/``command_syncs``; a message's ``edits`` and
``edit_times`` (``time.monotonic()`` of each version). Waiting:
``wait_for(predicate)``, ``interaction.wait_done()``, ``wait_reply(message)``,
``wait_bot_message(predicate)``. ``response_delay_s`` makes every REST call take that long,
as a round trip to Discord does.

Behaviour worth knowing (all as on Discord):

- JSON answers carry ``Content-Type: application/json`` exactly.
- Rate limits (``_ratelimits``, Topics > Rate Limits): every route has a bucket per top-level
  resource (channel, guild, webhook + token) with Discord's budgets in practice (5 messages,
  5 edits, 5 typings per 5 s in a channel; 5 per 5 s per interaction token for its edits and
  follow-ups; 50 requests per second in all, interaction routes excepted), announced in
  ``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`` (the bucket name differs per
  route, not per channel). A spent bucket answers 429 with JSON ``retry_after`` and
  ``global``, ``Retry-After``, ``X-RateLimit-Scope`` and ``Via`` (so discord.py sleeps and
  retries); refused calls land in ``rate_limited``. ``budget(bucket, limit, per_s)`` (a
  context manager) or ``set_budget`` changes one bucket; ``limiter.time_scale = 0.1`` runs
  Discord's clock ten times faster (the e2e suite does, with the bot's edit interval scaled
  alike). ``rate_limit(method, path_regex, times, retry_after)`` forces the next matching
  calls to 429.
- Unknown routes answer 404 JSON, are logged as warnings and listed in ``unhandled``; a bug in
  the fake answers 400 and lands in ``errors`` (never 5xx, which discord.py retries slowly).
- Interactions: the first callback must come within ``interaction_response_timeout`` (3 s;
  None disables) else 404 10062; a second callback is 400 40060; the token works for
  ``interaction_token_ttl`` seconds (900; lower it to test long streams) else 401 50027.
  A defer creates a "thinking" message (flags LOADING, plus EPHEMERAL if asked) that the first
  edit of ``@original`` or the first follow-up completes: that follow-up *is* ``original``
  (also appended to ``followups``; it keeps the defer's visibility). After the thinking message
  was deleted, follow-ups are new messages (an ephemeral one is then possible).
  ``messages``/``bot_messages`` hold every message the bot created, ephemeral ones too
  (``.ephemeral``); ``edits`` starts with the creation content ("" after a defer).
- Validation (``_limits``, Resources > Message): content over 2000 characters, over 10
  embeds or files, an embed over its limits (title 256, description 4096, 25 fields, field
  name 256 / value 1024, footer 2048, author 256, 6000 across a message's embeds), malformed
  ``allowed_mentions`` -> 400 50035 "Invalid Form Body" with an ``errors`` object naming the
  field; command definitions (Interactions > Application Commands: names, descriptions,
  options, choices, sizes, counts) likewise; an empty message -> 50006; a file over
  ``upload_limit`` (10 MiB; interactions carry it as ``attachment_size_limit``) -> 413 40005;
  a voice message (flag 1 << 13) needs one audio file with ``duration_secs`` and ``waveform``
  in its attachment entry and no content (50159-50161), and cannot be edited (50162). Files'
  ``content_type`` is sniffed from the bytes or the filename, as Discord does (discord.py
  sends every file as application/octet-stream).
- Mentions: a message's ``mentions`` / ``mention_roles`` are who it really pings
  (``FakeMessage.pinged``): its content's mentions as ``allowed_mentions`` lets them through,
  plus the replied-to author for a reply with its ping on. A member's reply
  (``send_message(..., reference_id=id)``) pings by default, as Discord's client does
  (``mention_author=False`` turns it off), so replying to the bot mentions the bot.
- Buttons (Interactions > Message Components; Receiving and Responding): messages keep their
  ``components``; action rows of at most 5 buttons, at most 5 rows, ``custom_id`` 1-100
  characters and unique, ``label`` at most 80, else 400 50035. ``press_button(message_id,
  custom_id, user_id=...)`` presses a button the message shows: INTERACTION_CREATE of type 3
  (MESSAGE_COMPONENT) with ``data`` {custom_id, component_type 2} and the ``message``. The bot
  answers with 4/5 (a new message), 6 DEFERRED_UPDATE_MESSAGE or 7 UPDATE_MESSAGE (edits the
  pressed message); after 6 or 7 the interaction's ``original`` is the pressed message.
- User-installed apps (Application Commands: ``integration_types`` 0 guild / 1 user install,
  ``contexts`` 0 guild / 1 bot DM / 2 private channel): kept as synced, and checked when a
  member invokes (``ValueError`` where Discord's client would not offer the command).
  ``invoke(..., installs="user")`` sends ``authorizing_integration_owners`` {"1": user id};
  ``add_group_dm()`` makes a group DM (context 2) the bot is not in: its REST calls there get
  403 50001 Missing Access, so only the interaction's token answers. An interaction
  authorised by a user install alone gets 5 follow-ups; the sixth is 400 40094.
- Threads (``_threads``): ``start_thread(name, channel_id=, message_id=)`` (a member's,
  THREAD_CREATE), ``set_archived(thread_id, True)``; the bot may start threads (from a message
  or not), post in them and archive them (Modify Channel, THREAD_UPDATE). Posting in an
  archived thread reopens it unless it is locked. ``threads`` holds their payloads; members
  post in one with ``send_message(..., channel_id=thread_id)``.
- Intents from IDENTIFY are honoured: MESSAGE_CREATE needs GUILD_MESSAGES / DIRECT_MESSAGES;
  without MESSAGE_CONTENT the bot gets empty content unless it is mentioned or it is a DM;
  GUILD_MEMBER_ADD needs GUILD_MEMBERS.
- The bot's own non-ephemeral messages are echoed as MESSAGE_CREATE/UPDATE/DELETE
  (``echo_bot_messages = False`` turns that off).
- ``wait_for(predicate)`` re-checks on every change of the fake's state (REST call, gateway
  frame sent or received, ...), never by polling; ``notify()`` wakes it for other reasons. It
  raises ``TimeoutError`` listing the last requests and any unhandled routes. The fake does not
  know when the bot has *processed* a frame: for the bot's internal state use discord.py's own
  ``bot.wait_for(...)``, or wait for a REST effect.
- ``disconnect_gateway()`` closes shard 0's socket (4000); discord.py RESUMEs on ``/resume``
  (``resume_gateway_url``) and gets the missed events replayed; ``resume=False`` sends
  INVALID_SESSION and the bot IDENTIFYs again after its ``before_identify_hook`` (5 s unless
  the bot overrides it; sooner is refused unless ``identify_limit.window_s`` is lowered).
  Both return once the bot is back (``resumes``/``identifies`` count).
- Frames are zlib-stream (one compressor per connection, each ending 00 00 ff ff) when the
  client asks for it, as discord.py does without ``zstandard``; for ``zstd-stream`` (or none)
  they are plain text, which discord.py accepts too.
- Shards (``_shards``, Topics > Gateway > Sharding): ``commands.AutoShardedBot`` works, with
  the count from ``GET /gateway/bot`` (``identify_limit.recommended_shards``, 1 by default) or
  its own ``shard_ids``/``shard_count``; every shard has its own session (``sessions``).
  ``add_guild(name, shard=(id, count))`` adds a guild (one "general" channel, the same
  members without roles) whose events go to that shard; a guild's events go to shard
  ``(guild_id >> 22) % shard_count``, DMs and guild-less events to shard 0 only.
  ``GET /gateway/bot`` has ``session_start_limit``, whose ``remaining`` drops on every IDENTIFY
  (not on RESUME). Each bucket ``shard_id % max_concurrency`` may IDENTIFY once per 5 s
  (``identify_limit.window_s``); a faster IDENTIFY gets INVALID_SESSION, as on Discord, and
  lands in ``identify_violations``. A shard id beyond the count is closed with 4010.
  ``disconnect_gateway(shard_id=...)`` drops one shard.
"""

from ._fake import FakeDiscord, run_bot, stop_bot
from ._models import (
    BOT_ROLE_PERMISSIONS,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    IS_VOICE_MESSAGE,
    LOADING,
    FakeAttachment,
    FakeFile,
    FakeInteraction,
    FakeMessage,
)
from ._rest import DiscordError
from ._shards import IdentifyLimit, IdentifyViolation

__all__ = [
    "BOT_ROLE_PERMISSIONS",
    "EPHEMERAL",
    "EVERYONE_PERMISSIONS",
    "IS_VOICE_MESSAGE",
    "LOADING",
    "DiscordError",
    "FakeAttachment",
    "FakeDiscord",
    "FakeFile",
    "FakeInteraction",
    "FakeMessage",
    "IdentifyLimit",
    "IdentifyViolation",
    "run_bot",
    "stop_bot",
]
