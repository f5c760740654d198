"""Schema migrations, numbered by their position: MIGRATIONS[0] is version 1.

Append new migrations; never edit one that has shipped.
"""

#: Counted ledger rows (in flight or done), as migration 5's triggers and backfill know them.
_V5_COUNTED = "('reserved', 'ok')"


def _v5_add_to_counters(row: str, units: str) -> str:
    """Migration 5: add `units` to the six counters of ledger row `row` (NEW or OLD): hour, day
    and month window of its created_at, for the member and for the server total (user 0).

    Window starts are whole UTC seconds: created_at floored (CAST; created_at is positive),
    then floored to the hour, day or month. Part of migration 5's text: never change it.
    """
    second = f"CAST({row}.created_at AS INTEGER)"
    starts = {
        "hour": f"{second} / 3600 * 3600",
        "day": f"{second} / 86400 * 86400",
        "month": f"CAST(strftime('%s', {second}, 'unixepoch', 'start of month') AS INTEGER)",
    }
    values = ",\n".join(
        f"            (COALESCE({row}.guild_id, 0), {user}, {row}.feature, '{period}', {start},"
        f" {units})"
        for period, start in starts.items()
        for user in (f"{row}.user_id", "0")
    )
    return (
        "INSERT INTO usage_counters (guild_key, user_key, feature, period, window_start, units)"
        f" VALUES\n{values}\n"
        "        ON CONFLICT (guild_key, user_key, feature, period, window_start)"
        " DO UPDATE SET units = units + excluded.units;"
    )


def _v5_counted(row: str) -> str:
    """What ledger row `row` counts against limits: its units if reserved or settled, else 0."""
    return f"(CASE WHEN {row}.outcome IN {_V5_COUNTED} THEN {row}.units ELSE 0 END)"


def _v5_take_from_counters(row: str) -> str:
    """Migration 5: take deleted row `row`'s units from its six counters, where they still
    exist (pruning deletes the counters of ended windows first, so it costs no writes here)."""
    second = f"CAST({row}.created_at AS INTEGER)"
    starts = {
        "hour": f"{second} / 3600 * 3600",
        "day": f"{second} / 86400 * 86400",
        "month": f"CAST(strftime('%s', {second}, 'unixepoch', 'start of month') AS INTEGER)",
    }
    return "\n        ".join(
        f"UPDATE usage_counters SET units = units - {row}.units"
        f" WHERE guild_key = COALESCE({row}.guild_id, 0) AND user_key = {user}"
        f" AND feature = {row}.feature AND period = '{period}' AND window_start = {start};"
        for period, start in starts.items()
        for user in (f"{row}.user_id", "0")
    )


_V5_SAME_KEYS = (
    "NEW.guild_id IS OLD.guild_id AND NEW.user_id IS OLD.user_id"
    " AND NEW.feature IS OLD.feature AND NEW.created_at IS OLD.created_at"
)

MIGRATIONS: tuple[str, ...] = (
    # 1: channel memory and bot metadata (e.g. the hash of the last synced command tree).
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        channel_id  INTEGER NOT NULL,
        role        TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
        author_id   INTEGER NOT NULL,
        author_name TEXT    NOT NULL,
        content     TEXT    NOT NULL,
        model       TEXT,
        created_at  REAL    NOT NULL
    );
    CREATE INDEX messages_by_channel ON messages (channel_id, id);
    """,
    # 2: the usage ledger (reservations settle or refund), voice-note channels, and which
    # voice notes were already transcribed (so a reconnect or restart never repeats one).
    """
    CREATE TABLE usage (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id   INTEGER,
        channel_id INTEGER,
        user_id    INTEGER NOT NULL,
        feature    TEXT    NOT NULL CHECK (feature IN ('ask', 'imagine', 'tts', 'transcribe')),
        units      REAL    NOT NULL,
        tokens     INTEGER NOT NULL DEFAULT 0,
        model      TEXT,
        outcome    TEXT    NOT NULL CHECK (outcome IN ('reserved', 'ok', 'refunded')),
        created_at REAL    NOT NULL,
        settled_at REAL
    );
    CREATE INDEX usage_by_member ON usage (guild_id, user_id, feature, created_at);
    CREATE INDEX usage_by_guild ON usage (guild_id, feature, created_at);
    CREATE INDEX usage_open ON usage (outcome) WHERE outcome = 'reserved';
    CREATE TABLE voice_channels (
        channel_id INTEGER PRIMARY KEY,
        guild_id   INTEGER NOT NULL,
        enabled_by INTEGER NOT NULL,
        enabled_at REAL    NOT NULL
    );
    CREATE TABLE transcribed_messages (
        message_id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL,
        claimed_at REAL    NOT NULL
    );
    """,
    # 3: limits and exempt roles, per-server settings, the channels where mentions are answered,
    # when each kind of API alert was last posted, and the ledger by time (for pruning).
    """
    CREATE TABLE limits (
        guild_id  INTEGER NOT NULL,
        feature   TEXT    NOT NULL CHECK (feature IN ('ask', 'imagine', 'tts', 'transcribe')),
        period    TEXT    NOT NULL CHECK (period IN ('hour', 'day', 'month')),
        scope     TEXT    NOT NULL CHECK (scope IN ('server', 'role', 'member', 'total')),
        target_id INTEGER NOT NULL DEFAULT 0,
        amount    REAL    NOT NULL CHECK (amount >= 0),
        set_by    INTEGER NOT NULL,
        set_at    REAL    NOT NULL,
        PRIMARY KEY (guild_id, feature, period, scope, target_id)
    );
    CREATE TABLE exempt_roles (
        guild_id INTEGER NOT NULL,
        role_id  INTEGER NOT NULL,
        added_by INTEGER NOT NULL,
        added_at REAL    NOT NULL,
        PRIMARY KEY (guild_id, role_id)
    );
    CREATE TABLE guild_settings (
        guild_id         INTEGER PRIMARY KEY,
        chat_model       TEXT,
        image_model      TEXT,
        system_prompt    TEXT,
        alert_channel_id INTEGER,
        updated_by       INTEGER NOT NULL,
        updated_at       REAL    NOT NULL
    );
    CREATE TABLE mention_channels (
        channel_id INTEGER PRIMARY KEY,
        guild_id   INTEGER NOT NULL,
        added_by   INTEGER NOT NULL,
        added_at   REAL    NOT NULL
    );
    CREATE INDEX mention_channels_by_guild ON mention_channels (guild_id);
    CREATE INDEX voice_channels_by_guild ON voice_channels (guild_id);
    CREATE TABLE alerts_sent (
        guild_id INTEGER NOT NULL,
        kind     TEXT    NOT NULL,
        sent_at  REAL    NOT NULL,
        PRIMARY KEY (guild_id, kind)
    );
    CREATE INDEX usage_by_time ON usage (created_at);
    """,
    # 4: covering indexes for quota checks, so summing a window's usage reads the index only
    # (a server-total check over 100,000 rows of a day took ~100 ms without them).
    """
    DROP INDEX usage_by_member;
    DROP INDEX usage_by_guild;
    CREATE INDEX usage_by_member ON usage (guild_id, user_id, feature, created_at, outcome, units);
    CREATE INDEX usage_by_guild ON usage (guild_id, feature, created_at, outcome, units);
    """,
    # 5: running counters of counted usage per window, so a quota check reads one row per limit
    # instead of summing the ledger (a server total over 100,000 rows of a day took ~13 ms).
    # guild_key is the guild (0 in DMs), user_key the member (0: the server total); window_start
    # is the UTC start (unix seconds) of the hour, day or month. Triggers keep each counter equal
    # to the SUM of the counted rows (reserved or ok) of its window, in the same statement as
    # every ledger change (insert, settle, refund, delete), so no writer can forget them.
    # Ledger.prune deletes the counters of ended windows, then the rows they counted; a deleted
    # row whose member-month counter is gone has no counters left to adjust (a month is the
    # longest window), so pruning skips the trigger's writes.
    f"""
    CREATE TABLE usage_counters (
        guild_key    INTEGER NOT NULL,
        user_key     INTEGER NOT NULL,
        feature      TEXT    NOT NULL,
        period       TEXT    NOT NULL CHECK (period IN ('hour', 'day', 'month')),
        window_start INTEGER NOT NULL,
        units        REAL    NOT NULL,
        PRIMARY KEY (guild_key, user_key, feature, period, window_start)
    ) WITHOUT ROWID;
    INSERT INTO usage_counters (guild_key, user_key, feature, period, window_start, units)
    SELECT guild_key, user_key, feature, period, window_start, SUM(units) FROM (
        SELECT COALESCE(guild_id, 0) AS guild_key,
            CASE WHEN t.total THEN 0 ELSE user_id END AS user_key,
            feature, p.period,
            CASE p.period
                WHEN 'hour' THEN CAST(created_at AS INTEGER) / 3600 * 3600
                WHEN 'day' THEN CAST(created_at AS INTEGER) / 86400 * 86400
                ELSE CAST(strftime('%s', CAST(created_at AS INTEGER), 'unixepoch',
                    'start of month') AS INTEGER)
            END AS window_start,
            units
        FROM usage,
            (SELECT 0 AS total UNION ALL SELECT 1) AS t,
            (SELECT 'hour' AS period UNION ALL SELECT 'day' UNION ALL SELECT 'month') AS p
        WHERE outcome IN {_V5_COUNTED}
    ) GROUP BY guild_key, user_key, feature, period, window_start;
    CREATE TRIGGER usage_counters_insert AFTER INSERT ON usage
    WHEN NEW.outcome IN {_V5_COUNTED}
    BEGIN
        {_v5_add_to_counters("NEW", "NEW.units")}
    END;
    CREATE TRIGGER usage_counters_update AFTER UPDATE ON usage
    WHEN {_V5_SAME_KEYS} AND {_v5_counted("NEW")} != {_v5_counted("OLD")}
    BEGIN
        {_v5_add_to_counters("NEW", f"{_v5_counted('NEW')} - {_v5_counted('OLD')}")}
    END;
    CREATE TRIGGER usage_counters_move_out AFTER UPDATE ON usage
    WHEN NOT ({_V5_SAME_KEYS}) AND OLD.outcome IN {_V5_COUNTED}
    BEGIN
        {_v5_add_to_counters("OLD", "-OLD.units")}
    END;
    CREATE TRIGGER usage_counters_move_in AFTER UPDATE ON usage
    WHEN NOT ({_V5_SAME_KEYS}) AND NEW.outcome IN {_V5_COUNTED}
    BEGIN
        {_v5_add_to_counters("NEW", "NEW.units")}
    END;
    CREATE TRIGGER usage_counters_delete AFTER DELETE ON usage
    WHEN OLD.outcome IN {_V5_COUNTED} AND EXISTS (
        SELECT 1 FROM usage_counters WHERE guild_key = COALESCE(OLD.guild_id, 0)
        AND user_key = OLD.user_id AND feature = OLD.feature AND period = 'month'
        AND window_start = CAST(strftime('%s', CAST(OLD.created_at AS INTEGER), 'unixepoch',
            'start of month') AS INTEGER))
    BEGIN
        {_v5_take_from_counters("OLD")}
    END;
    """,
    # 6: whether a row's tokens were counted by the bot (the API's stream sent no usage).
    """
    ALTER TABLE usage ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0
        CHECK (tokens_estimated IN (0, 1));
    """,
    # 7: what a channel does with voice notes (once `voice_channels` turns them on): the mode
    # (transcript; transcript + answer, spoken too when `spoken`; summary), and the language
    # hint for every transcription there ('auto': the API detects it).
    """
    CREATE TABLE channel_voice_settings (
        channel_id INTEGER PRIMARY KEY,
        guild_id   INTEGER NOT NULL,
        mode       TEXT    NOT NULL DEFAULT 'transcript'
            CHECK (mode IN ('transcript', 'answer', 'summary')),
        spoken     INTEGER NOT NULL DEFAULT 0 CHECK (spoken IN (0, 1)),
        language   TEXT    NOT NULL DEFAULT 'auto' CHECK (language IN ('auto', 'en', 'vi')),
        updated_by INTEGER NOT NULL,
        updated_at REAL    NOT NULL
    );
    CREATE INDEX channel_voice_settings_by_guild ON channel_voice_settings (guild_id);
    """,
    # 8: the bot processes sharing this database (each run registers and beats), and which
    # run made each reservation: a crash's reservations are refunded once its run is known
    # dead, never a live neighbour's (bot/ops/processes.py).
    """
    CREATE TABLE processes (
        id         TEXT    PRIMARY KEY,
        host       TEXT    NOT NULL,
        pid        INTEGER NOT NULL,
        started_at REAL    NOT NULL,
        seen_at    REAL    NOT NULL
    );
    ALTER TABLE usage ADD COLUMN process_id TEXT;
    """,
    # 9: where the bot answers and with which persona. `chat_places` holds a category's,
    # channel's or thread's own settings (NULL: as the place above it): its mode (answer
    # mentions, every message, or nothing) and persona (system prompt, model, temperature).
    # The server's level is in `guild_settings` (chat_model and system_prompt were already
    # there), with its aside prefix (messages starting with it are not answered in "every
    # message" channels; NULL: the bot's) and whether answers open in a new thread.
    # The old mention channels keep their meaning: a server that listed some now has mode
    # "off" with those channels on "mention"; the list's table goes.
    """
    CREATE TABLE chat_places (
        place_id      INTEGER PRIMARY KEY,
        guild_id      INTEGER NOT NULL,
        mode          TEXT CHECK (mode IN ('mention', 'every', 'off')),
        system_prompt TEXT,
        model         TEXT,
        temperature   REAL CHECK (temperature >= 0 AND temperature <= 2),
        updated_by    INTEGER NOT NULL,
        updated_at    REAL NOT NULL
    );
    CREATE INDEX chat_places_by_guild ON chat_places (guild_id);
    ALTER TABLE guild_settings ADD COLUMN chat_mode TEXT
        CHECK (chat_mode IN ('mention', 'every', 'off'));
    ALTER TABLE guild_settings ADD COLUMN temperature REAL
        CHECK (temperature >= 0 AND temperature <= 2);
    ALTER TABLE guild_settings ADD COLUMN aside_prefix TEXT;
    ALTER TABLE guild_settings ADD COLUMN answer_in_threads INTEGER NOT NULL DEFAULT 0
        CHECK (answer_in_threads IN (0, 1));
    INSERT INTO chat_places (place_id, guild_id, mode, updated_by, updated_at)
        SELECT channel_id, guild_id, 'mention', added_by, added_at FROM mention_channels;
    INSERT INTO guild_settings (guild_id, chat_mode, updated_by, updated_at)
        SELECT guild_id, 'off', MAX(added_by), MAX(added_at) FROM mention_channels WHERE true
        GROUP BY guild_id
        ON CONFLICT (guild_id) DO UPDATE SET chat_mode = excluded.chat_mode;
    DROP TABLE mention_channels;
    """,
    # 10: the Discord messages a remembered answer was shown in (ids separated by spaces, in
    # order; NULL: one message, or not known), so its Delete and Regenerate buttons reach
    # every part of a long answer, after a restart too.
    """
    ALTER TABLE messages ADD COLUMN message_ids TEXT;
    """,
)
