"""The feedback database's schema: numbered migrations, applied in order on open.

`MIGRATIONS[n - 1]` takes a database from version n - 1 to n. Never edit one that has shipped;
add the next. The version lives in the one-row table `schema_version`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    ("""CREATE TABLE judgments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            uid TEXT NOT NULL UNIQUE,
            time TEXT NOT NULL,
            question TEXT NOT NULL,
            judgment TEXT NOT NULL CHECK (judgment IN ('answers', 'wrong', 'none')),
            document TEXT, start INTEGER, "end" INTEGER, sha256 TEXT,
            quotes TEXT NOT NULL DEFAULT '[]',
            history TEXT NOT NULL DEFAULT '[]',
            collection TEXT NOT NULL DEFAULT '',
            "where" TEXT NOT NULL DEFAULT '[]',
            outcome TEXT NOT NULL DEFAULT '',
            confidence REAL,
            comment TEXT NOT NULL DEFAULT '',
            user TEXT NOT NULL DEFAULT '',
            index_version TEXT NOT NULL DEFAULT '')""",),
    ("""CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            dataset TEXT NOT NULL,
            index_version TEXT NOT NULL DEFAULT '',
            settings TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            queries INTEGER NOT NULL DEFAULT 0,
            stale INTEGER NOT NULL DEFAULT 0)""",),
    ("CREATE INDEX judgments_time ON judgments (time)",),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(con: sqlite3.Connection, path: Path) -> int:
    """Bring the database to SCHEMA_VERSION inside the caller's write transaction (so two
    processes opening a new file at once migrate it once); refuse a newer one."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = con.execute("SELECT version FROM schema_version").fetchone()
    version = row[0] if row else 0
    if version > SCHEMA_VERSION:
        raise ValueError(f"the feedback database {path} has schema version {version}, newer than this "
                         f"quoteback's {SCHEMA_VERSION}; upgrade quoteback")
    for statements in MIGRATIONS[version:]:
        for statement in statements:
            con.execute(statement)
    if row is None:
        con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
    elif version != SCHEMA_VERSION:
        con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    return SCHEMA_VERSION
