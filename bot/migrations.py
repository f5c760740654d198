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
)
