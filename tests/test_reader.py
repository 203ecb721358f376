"""The shipped reader (when a version ships one): the file is the one recorded, it ranks a right
passage above a wrong one for questions of several kinds; and, with the default settings, a
question naming the document's subject is not declined."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from quoteback.reader import READER_FILE, Reader, file_sha256

REALDOCS = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdocs-dev" / "corpus"
PAIRS = [  # (question, a passage that answers it, one on the same topic that does not)
    ("Who founded the Wagner Group?",
     "Wagner › Origins\nThe group was founded in 2014 by Dmitry Utkin, a former officer of Russia's military intelligence.",
     "Wagner › Operations\nThe group has fought in Syria, Libya, the Central African Republic and Mali."),
    ("When did the UN mission in Mali end?",
     "MINUSMA › Withdrawal\nThe Security Council ended the mission's mandate on 30 June 2023, and the last troops left in December.",
     "MINUSMA › Mandate\nThe mission was set up to support the political process and to protect civilians."),
    ("How many replicas does the store keep of each key?",
     "Replication\nEach key is replicated at N hosts, where N is a parameter configured per instance; the coordinator stores it "
     "locally and at the N-1 clockwise successor nodes in the ring.",
     "Partitioning\nThe store partitions data with consistent hashing; the output range of the hash function is treated as a ring."),
    ("Why do Raft servers use randomized election timeouts?",
     "Leader election\nRaft uses randomized election timeouts to ensure that split votes are rare and that they are resolved quickly.",
     "Log replication\nOnce a leader has been elected, it begins servicing client requests, each containing a command."),
    ("What was the company's capital expenditure in 2018?",
     "Consolidated Statement of Cash Flows\nPurchases of property, plant and equipment (PP&E) | (1,577) | (1,373) | (1,420)\n"
     "Years ended December 31 | 2018 | 2017 | 2016",
     "Consolidated Statement of Income\nNet sales | 32,765 | 31,657 | 30,109\nYears ended December 31 | 2018 | 2017 | 2016"),
]

shipped = pytest.mark.skipif(not Reader.available(), reason="no reader shipped in this version")


@shipped
def test_the_shipped_file_is_the_recorded_one():
    recorded = json.loads(READER_FILE.with_suffix(".json").read_text())
    assert file_sha256(READER_FILE) == recorded["sha256"]
    assert READER_FILE.stat().st_size <= 25e6


@shipped
@pytest.mark.parametrize("question, right, wrong", PAIRS)
def test_a_right_passage_scores_above_a_wrong_one(question, right, wrong):
    scores = Reader().score(question, [right, wrong])
    assert scores[0] > scores[1]


def test_a_question_naming_the_documents_subject_is_not_declined(tmp_path, embedder, settings_for):
    dynamo = REALDOCS / "pdf" / "dynamo-amazons-highly-available-key-value-store.pdf"
    if not dynamo.is_file():
        pytest.skip("realdocs-dev is not beside this checkout")
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(dynamo, corpus / dynamo.name)
    answerer = open_answerer(settings_for(corpus, reader=Reader.available()), embedder=embedder).answerer
    answer = answerer.ask("How many replicas does Dynamo store each key on?")
    assert answer.outcome != "declined", answer.confidence
    replication = ["N hosts" in q.text or "N-1" in q.text for q in answer.quotes]
    assert any(replication), [q.section for q in answer.quotes]  # §4.3 Replication is shown (third without the reader)
    if Reader.available():
        assert replication[0], [q.section for q in answer.quotes]  # the reader reads it first
    assert all(answerer.index.documents[q.document].text[q.start : q.end] == q.text for q in answer.quotes)
