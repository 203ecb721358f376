"""Users' judgments of replies, kept in SQLite: the raw material of the feedback evaluation set.

One file (WAL mode, `synchronous=FULL`: a row is on disk before `add` returns, so neither kill -9
nor a power cut loses a committed judgment). Each operation opens its own short connection with
a busy timeout and takes the write lock up front (`BEGIN IMMEDIATE`), so any number of threads
and processes may write at once; every row carries a random `uid`, so a retried insert can never
store a judgment twice. The schema is versioned (`schema_version`) and migrated on open.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .schema import migrate

if TYPE_CHECKING:
    from ..settings import Settings

JUDGMENTS = ("answers", "wrong", "none")  # this span answers / these quotes don't / the documents don't answer it
MAX_COMMENT = 500  # characters of a comment
DB_NAME = "feedback.sqlite"  # in the index folder, beside (never inside) the version folders a rebuild swaps and removes
KEEP_RUNS = 50  # evaluation runs kept for the trend
BUSY_S = 60.0  # how long a writer waits for the lock before it gives up
RETRIES = 5  # further tries of an operation that still found the database locked



@dataclass(frozen=True)
class QuoteRef:
    """An exact span of a document, with the hash of its text (how an export finds it again)."""

    document: str  # the document's path as the index names it (Quote.document)
    start: int
    end: int
    sha256: str  # of document_text[start:end], UTF-8

    def __post_init__(self) -> None:
        if not self.document or not 0 <= self.start < self.end:
            raise ValueError(f"a passage needs a document and 0 <= start < end, not {self.document!r} {self.start}:{self.end}")


@dataclass(frozen=True)
class Judgment:
    """One judgment of one reply, as the chat's buttons and `quoteback feedback add` write it."""

    question: str
    judgment: str  # one of JUDGMENTS
    span: QuoteRef | None = None  # the passage judged (answers: where the answer is; wrong: the quote judged wrong)
    quotes: tuple[QuoteRef, ...] = ()  # every quote the reply showed, in order
    history: tuple[str, ...] = ()  # earlier questions of the conversation
    collection: str = ""  # the collection asked ("" = the single corpus)
    where: tuple[str, ...] = ()  # the --where conditions in force
    outcome: str = ""  # answer | related | declined (Answer's outcome)
    confidence: float | None = None
    comment: str = ""  # at most MAX_COMMENT characters, plain text
    user: str = ""  # the login name, when logged in
    index_version: str = ""  # the index's build id (see feedback.records.index_version)

    def __post_init__(self) -> None:
        """Bad input is refused whole, before anything is written."""
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError("a judgment needs the question")
        if self.judgment not in JUDGMENTS:
            raise ValueError(f"judgment must be one of {', '.join(JUDGMENTS)}, not {self.judgment!r}")
        if self.judgment == "answers" and self.span is None:
            raise ValueError("an `answers` judgment names the passage that answers (a document, start and end)")
        if self.judgment == "none" and self.span is not None:
            raise ValueError("a `none` judgment (no document answers) names no passage; put the quotes shown in `quotes`")
        if not isinstance(self.comment, str) or len(self.comment) > MAX_COMMENT:
            raise ValueError(f"a comment is plain text of at most {MAX_COMMENT} characters")
        if "\x00" in self.comment + self.question:
            raise ValueError("the question and comment may not hold NUL characters")


@dataclass(frozen=True)
class StoredJudgment(Judgment):
    """A judgment as stored: its row id and when it was written (ISO 8601, UTC)."""

    id: int = 0
    time: str = ""


@dataclass(frozen=True)
class EvalRun:
    """One `quoteback eval --feedback` run, for the trend across index versions and settings."""

    dataset: str
    metrics: dict[str, float]
    settings: dict[str, Any] = field(default_factory=dict)  # the settings that shape retrieval (records.settings_summary)
    index_version: str = ""
    queries: int = 0
    stale: int = 0  # judged spans the export could not find in the current documents
    id: int = 0
    time: str = ""


def quote_ref(document: str, text: str, start: int, end: int) -> QuoteRef:
    """The reference to `text[start:end]` of `document`, with the hash of that text."""
    if not 0 <= start < end <= len(text):
        raise ValueError(f"{start}:{end} is not a passage of {document} ({len(text)} characters)")
    return QuoteRef(document, start, end, text_hash(text[start:end]))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def feedback_db(settings: "Settings") -> Path:
    """Where the feedback lives: `feedback_db`, else feedback.sqlite in the index folder. A build
    only replaces and removes the `v-*` version folders in there, so the file outlives rebuilds."""
    return Path(settings.feedback_db) if settings.feedback_db else Path(settings.index) / DB_NAME


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_cutoff(before: str) -> str:
    """An ISO date or time as the stored time format (a time without a zone is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(before.strip())
    except (ValueError, AttributeError):
        raise ValueError(f"--before must be an ISO date such as 2024-05-01 (or a time, 2024-05-01T12:00), not {before!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FeedbackStore:
    """The feedback database at `path` (created and migrated on open)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"the feedback database {self.path} is a folder; name a file with --feedback-db")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.version = self._migrate()

    @contextmanager
    def _connect(self, write: bool | None) -> Iterator[sqlite3.Connection]:
        """A short connection in one transaction: committed on success, rolled back on error."""
        con = sqlite3.connect(self.path, timeout=BUSY_S, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_S * 1000)}")
            con.execute("PRAGMA synchronous = FULL")
            if write is None:
                yield con
                return
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def _retry(self, work, write: bool | None = True):
        """`work(connection)` in a transaction (`write` None: outside any), tried again while the
        database stays locked."""
        for attempt in range(RETRIES + 1):
            try:
                with self._connect(write) as con:
                    return work(con)
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err) or attempt == RETRIES:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _migrate(self) -> int:
        try:
            self._retry(_wal, write=None)
            return self._retry(lambda con: migrate(con, self.path))
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError) and "locked" in str(err):
                raise
            raise ValueError(f"{self.path} is not a readable feedback database ({err})") from None

    def add(self, item: Judgment) -> int:
        """Store one judgment; returns its row id once it is committed to disk."""
        uid = uuid.uuid4().hex
        span = item.span
        row = {
            "uid": uid, "time": now(), "question": item.question, "judgment": item.judgment,
            "document": span.document if span else None, "start": span.start if span else None,
            "end": span.end if span else None, "sha256": span.sha256 if span else None,
            "quotes": json.dumps([asdict(q) for q in item.quotes], ensure_ascii=False),
            "history": json.dumps(list(item.history), ensure_ascii=False), "collection": item.collection,
            "where": json.dumps(list(item.where), ensure_ascii=False), "outcome": item.outcome,
            "confidence": item.confidence, "comment": item.comment, "user": item.user, "index_version": item.index_version,
        }
        columns = ", ".join(f'"{k}"' for k in row)
        values = ", ".join(f":{k}" for k in row)

        def work(con: sqlite3.Connection) -> int:
            con.execute(f"INSERT INTO judgments ({columns}) VALUES ({values}) ON CONFLICT (uid) DO NOTHING", row)
            return con.execute("SELECT id FROM judgments WHERE uid = ?", (uid,)).fetchone()[0]

        return self._retry(work)

    def list(self, limit: int | None = None) -> list[StoredJudgment]:
        """The judgments, oldest first; with `limit`, the latest `limit` of them."""
        sql = "SELECT * FROM judgments ORDER BY id DESC" + (" LIMIT ?" if limit is not None else "")
        rows = self._retry(lambda con: _rows(con, sql, (limit,) if limit is not None else ()), write=False)
        return [_judgment(r) for r in reversed(rows)]

    def count(self) -> int:
        return self._retry(lambda con: con.execute("SELECT COUNT(*) FROM judgments").fetchone()[0], write=False)

    def prune(self, before: str) -> int:
        """Remove the judgments written before `before` (an ISO date or time); returns how many."""
        cutoff = utc_cutoff(before)
        return self._retry(lambda con: con.execute("DELETE FROM judgments WHERE time < ?", (cutoff,)).rowcount)

    def add_run(self, run: EvalRun, keep: int = KEEP_RUNS) -> int:
        """Store an evaluation run, keeping only the latest `keep`; returns its row id."""
        row = (now(), run.dataset, run.index_version, json.dumps(run.settings, sort_keys=True),
               json.dumps(run.metrics, sort_keys=True), run.queries, run.stale)

        def work(con: sqlite3.Connection) -> int:
            cursor = con.execute("INSERT INTO runs (time, dataset, index_version, settings, metrics, queries, stale) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            con.execute("DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?)", (keep,))
            return cursor.lastrowid

        return self._retry(work)

    def runs(self, limit: int | None = None) -> list[EvalRun]:
        """The evaluation runs kept, oldest first (the trend's order); with `limit`, the latest ones."""
        sql = "SELECT * FROM runs ORDER BY id DESC" + (" LIMIT ?" if limit is not None else "")
        rows = self._retry(lambda con: _rows(con, sql, (limit,) if limit is not None else ()), write=False)
        return [EvalRun(r["dataset"], json.loads(r["metrics"]), json.loads(r["settings"]), r["index_version"], r["queries"],
                        r["stale"], r["id"], r["time"]) for r in reversed(rows)]


def _wal(con: sqlite3.Connection) -> None:
    """WAL is a property of the file, set once; switching needs the database to itself."""
    con.execute("PRAGMA journal_mode = WAL")


def _rows(con: sqlite3.Connection, sql: str, args: tuple) -> list[sqlite3.Row]:
    con.row_factory = sqlite3.Row
    return con.execute(sql, args).fetchall()


def _judgment(r: sqlite3.Row) -> StoredJudgment:
    span = QuoteRef(r["document"], r["start"], r["end"], r["sha256"]) if r["document"] is not None else None
    return StoredJudgment(
        question=r["question"], judgment=r["judgment"], span=span,
        quotes=tuple(QuoteRef(**q) for q in json.loads(r["quotes"])), history=tuple(json.loads(r["history"])),
        collection=r["collection"], where=tuple(json.loads(r["where"])), outcome=r["outcome"], confidence=r["confidence"],
        comment=r["comment"], user=r["user"], index_version=r["index_version"], id=r["id"], time=r["time"])
