"""The feedback store: schema and migrations, validation, prune, runs, and writes that are never
lost or doubled (threads, processes, a rebuild beside them, kill -9)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from quoteback.feedback.store import (
    KEEP_RUNS, MAX_COMMENT, EvalRun, FeedbackStore, Judgment, QuoteRef, feedback_db, quote_ref, text_hash,
)
from quoteback.feedback.schema import SCHEMA_VERSION
from quoteback.settings import Settings

import feedback_writers

TEXT = feedback_writers.TEXT

# The schema as version 1 shipped it, frozen here: a database written then must open now.
V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE judgments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, time TEXT NOT NULL, question TEXT NOT NULL,
    judgment TEXT NOT NULL CHECK (judgment IN ('answers', 'wrong', 'none')),
    document TEXT, start INTEGER, "end" INTEGER, sha256 TEXT, quotes TEXT NOT NULL DEFAULT '[]',
    history TEXT NOT NULL DEFAULT '[]', collection TEXT NOT NULL DEFAULT '', "where" TEXT NOT NULL DEFAULT '[]',
    outcome TEXT NOT NULL DEFAULT '', confidence REAL, comment TEXT NOT NULL DEFAULT '', user TEXT NOT NULL DEFAULT '',
    index_version TEXT NOT NULL DEFAULT '');
INSERT INTO judgments (uid, time, question, judgment, document, start, "end", sha256, quotes, history)
VALUES ('a1', '2024-01-02T03:04:05.000000Z', 'What is Wagner?', 'answers', 'doc.txt', 4, 16, 'abc',
        '[{"document": "doc.txt", "start": 4, "end": 16, "sha256": "abc"}]', '["earlier?"]');
INSERT INTO judgments (uid, time, question, judgment) VALUES ('a2', '2024-01-03T00:00:00.000000Z', 'Who won?', 'none');
"""


def full(tag: str = "x", **changes) -> Judgment:
    span = quote_ref("doc.txt", TEXT, 4, 16)
    fields = dict(question=f"What is Wagner {tag}?", judgment="wrong", span=span, quotes=(span, quote_ref("doc.txt", TEXT, 20, 40)),
                  history=("earlier?",), collection="news", where=("type=pdf",), outcome="answer", confidence=0.71,
                  comment="<b>not</b> this one", user="ana", index_version="v-1")
    return Judgment(**{**fields, **changes})


def test_a_judgment_round_trips_with_every_field(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    item = full()
    row = store.add(item)
    [got] = store.list()
    assert got.id == row and got.time.endswith("Z")
    assert Judgment(**{k: getattr(got, k) for k in Judgment.__dataclass_fields__}) == item  # the comment kept as text
    assert got.span.sha256 == text_hash("Wagner Group")


def test_the_database_is_wal_and_versioned(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert FeedbackStore(store.path).version == SCHEMA_VERSION  # opening again migrates nothing


def test_a_version_1_database_migrates_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(V1)
    con.close()
    store = FeedbackStore(path)
    assert store.version == SCHEMA_VERSION > 1
    old = store.list()
    assert [(j.question, j.judgment) for j in old] == [("What is Wagner?", "answers"), ("Who won?", "none")]
    assert old[0].span == QuoteRef("doc.txt", 4, 16, "abc") and old[0].history == ("earlier?",) and old[1].span is None
    store.add(full())
    store.add_run(EvalRun("feedback", {"Success@1": 1.0}))  # the tables later versions added are there
    assert store.count() == 3 and len(store.runs()) == 1
    indexes = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "judgments_time" in indexes


def test_a_newer_database_or_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    FeedbackStore(path)
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(ValueError, match="newer"):
        FeedbackStore(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="not a readable feedback database"):
        FeedbackStore(junk)


@pytest.mark.parametrize("changes, message", [
    ({"judgment": "meh"}, "judgment must be"),
    ({"question": "  "}, "needs the question"),
    ({"comment": "x" * (MAX_COMMENT + 1)}, "at most 500"),
    ({"judgment": "answers", "span": None}, "names the passage"),
    ({"judgment": "none"}, "names no passage"),
])
def test_bad_judgments_are_refused_before_anything_is_written(tmp_path, changes, message):
    store = FeedbackStore(tmp_path / "f.sqlite")
    with pytest.raises(ValueError, match=message):
        store.add(full(**changes))
    assert store.count() == 0
    store.add(full(comment="x" * MAX_COMMENT))  # the limit itself is fine


def test_quote_ref_checks_the_span_and_hashes_its_text():
    ref = quote_ref("doc.txt", TEXT, 4, 16)
    assert ref.sha256 == text_hash(TEXT[4:16])
    for start, end in ((5, 5), (-1, 3), (0, len(TEXT) + 1)):
        with pytest.raises(ValueError):
            quote_ref("doc.txt", TEXT, start, end)


def test_prune_removes_only_the_older_judgments(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(V1)  # rows from January 2024
    con.close()
    store = FeedbackStore(path)
    store.add(full())  # now
    assert store.prune("2024-01-03") == 1  # the row of January 2nd
    assert [j.question for j in store.list()] == ["Who won?", "What is Wagner x?"]
    assert store.prune("2024-01-03T00:00:00+01:00") == 0  # 23:00 UTC on January 2nd
    with pytest.raises(ValueError, match="ISO date"):
        store.prune("last tuesday")
    assert store.count() == 2


def test_runs_keep_the_latest_fifty_in_order(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    for i in range(KEEP_RUNS + 5):
        store.add_run(EvalRun("feedback", {"Success@1": i / 100}, {"k": 3}, f"v-{i}", queries=20, stale=1))
    runs = store.runs()
    assert len(runs) == KEEP_RUNS
    assert [r.index_version for r in runs] == [f"v-{i}" for i in range(5, KEEP_RUNS + 5)]
    assert runs[-1].metrics == {"Success@1": (KEEP_RUNS + 4) / 100} and runs[-1].settings == {"k": 3}
    assert [r.index_version for r in store.runs(limit=2)] == [f"v-{KEEP_RUNS + 3}", f"v-{KEEP_RUNS + 4}"]


def test_the_default_location_is_in_the_index_folder_unless_named(tmp_path):
    assert feedback_db(Settings(index=tmp_path / "idx")) == tmp_path / "idx" / "feedback.sqlite"
    assert feedback_db(Settings(index=tmp_path / "idx", feedback_db=str(tmp_path / "f.db"))) == tmp_path / "f.db"
    with pytest.raises(ValueError, match="is a folder"):
        FeedbackStore(tmp_path)


def test_fifty_threads_eight_processes_and_a_rebuild_lose_and_double_nothing(seed_corpus, tmp_path, embedder):
    from quoteback.build import IndexBuilder

    settings = Settings(corpus=seed_corpus, index=tmp_path / "index")
    IndexBuilder(settings, embedder).build()
    path = feedback_db(settings)
    store = FeedbackStore(path)
    rebuilt: list = []
    building = threading.Event()  # the writers start once the rebuild is under way
    rebuild = threading.Thread(target=lambda: rebuilt.append(
        IndexBuilder(settings, embedder).build(force=True, progress=lambda *_: building.set())))
    context = multiprocessing.get_context("spawn")  # no fork of a process running threads
    gate = context.Barrier(8)
    processes = [context.Process(target=feedback_writers.write_many, args=(str(path), f"p{i}", 25, gate)) for i in range(8)]
    for p in processes:
        p.start()
    start = threading.Barrier(50)

    def thread_writer(i: int) -> None:
        building.wait(60)
        start.wait()
        for j in range(4):
            store.add(feedback_writers.judgment(f"t{i}-{j}"))

    threads = [threading.Thread(target=thread_writer, args=(i,)) for i in range(50)]
    rebuild.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in processes:
        p.join(timeout=300)
        assert p.exitcode == 0
    rebuild.join()
    assert rebuilt and rebuilt[0].wrote  # the rebuild ran alongside and swapped in a new version
    questions = [j.question for j in FeedbackStore(path).list()]
    expected = {f"question t{i}-{j}" for i in range(50) for j in range(4)} | {f"question p{i}-{j}" for i in range(8) for j in range(25)}
    assert len(questions) == len(expected) == 400 and set(questions) == expected


def test_kill_9_mid_write_keeps_every_committed_row(tmp_path):
    path = tmp_path / "f.sqlite"
    FeedbackStore(path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(feedback_writers.__file__).parent), *sys.path])}
    child = subprocess.Popen([sys.executable, feedback_writers.__file__, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    reported = []
    try:
        while len(reported) < 150:
            line = child.stdout.readline()
            assert line, "the writer stopped before it was killed"
            reported.append(int(line))
        time.sleep(0.05)  # let it be somewhere inside the next writes
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        reported += [int(line) for line in child.stdout.read().split()]  # what it printed before dying
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    stored = {j.id for j in FeedbackStore(path).list()}
    assert set(reported) <= stored and len(stored) >= len(reported) > 150
