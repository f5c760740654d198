"""Schema migrations, numbered by their position: MIGRATIONS[0] is version 1.

Append new migrations; never edit one that has shipped.
"""

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
)
