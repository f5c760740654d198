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
)
