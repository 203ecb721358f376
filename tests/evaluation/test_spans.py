"""Span sets: passages right by overlap with a judged span, judged-wrong spans as gain 0, the layout read."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from quoteback.evaluation.datasets import load_dataset
from quoteback.evaluation.evaluate import ConfigResult, EvalResult, score_runs
from quoteback.evaluation.report import first_relevant_ranks, span_summary
from quoteback.evaluation.spans import span_qrels, wrong_first
from quoteback.passages import Passage

PASSAGES = [Passage("a.txt", 0, 10, "x" * 10), Passage("a.txt", 10, 20, "x" * 10), Passage("a.txt", 20, 30, "x" * 10),
            Passage("b.txt", 0, 10, "x" * 10)]
INDEX = SimpleNamespace(passages=PASSAGES)


def span(document, start, end, gain=1):
    return {"document": document, "start": start, "end": end, "gain": gain}


def test_a_passage_counts_when_it_shares_a_character_with_a_span():
    data = SimpleNamespace(spans={
        "q1": [span("a.txt", 5, 12)],  # two passages of a.txt, none of b.txt
        "q2": [span("a.txt", 12, 15, 0), span("a.txt", 25, 26), span("a.txt", 14, 16)],  # judged both ways: answers wins
        "q3": [span("a.txt", 0, 10, 0)],  # judged wrong only: not scored
        "q4": [span("a.txt", 10, 20), span("b.txt", 0, 10, 0)],  # the end offset is not part of a span
    })
    units, qrels = span_qrels(data, INDEX)
    assert units == ["a.txt#0", "a.txt#10", "a.txt#20", "b.txt#0"]
    assert qrels == {"q1": {"a.txt#0": 1, "a.txt#10": 1}, "q2": {"a.txt#10": 1, "a.txt#20": 1},
                     "q4": {"a.txt#10": 1, "b.txt#0": 0}}


def test_a_judged_wrong_passage_first_is_a_miss():
    per_query, metrics = score_runs({"q": {"a.txt#0": 0, "a.txt#10": 1}}, {"q": {"a.txt#0": 0.9, "a.txt#10": 0.5}})
    assert per_query["q"]["Success@1"] == 0 and per_query["q"]["RR@10"] == pytest.approx(0.5)


def test_wrong_first_counts_the_questions_whose_first_passage_was_judged_wrong():
    data = SimpleNamespace(spans={
        "again": [span("a.txt", 0, 5, 0)],
        "fixed": [span("a.txt", 0, 5, 0), span("a.txt", 12, 14)],
        "both": [span("a.txt", 0, 3, 0), span("a.txt", 6, 8)],  # the first passage holds the answer too: not wrong
        "nothing": [span("a.txt", 0, 5, 0)],
        "answered": [span("a.txt", 0, 5)],  # no span judged wrong: not counted
    })
    result = SimpleNamespace(top_passage={"again": 0, "fixed": 1, "both": 0, "nothing": -1, "answered": 0})
    out = wrong_first(data, result, INDEX)
    assert out["judged_wrong"] == 4 and out["questions"] == ["again"] and out["wrong_first_share"] == 0.25
    assert out["first"] == {"again": "a.txt#0", "fixed": "a.txt#10", "both": "a.txt#0", "nothing": None}
    assert "1 of 4" in span_summary(SimpleNamespace(spans=out))


def test_reports_rank_only_passages_judged_to_answer():
    config = ConfigResult("main", {}, {}, {"q": [("a.txt#0", 0.9), ("a.txt#10", 0.5)]}, {}, {})
    result = EvalResult("feedback", 1, [config], qrels={"q": {"a.txt#0": 0, "a.txt#10": 1}})
    assert first_relevant_ranks(result) == {"main": [2]}


def _write(folder, rows, meta, unanswerable=()):
    folder.mkdir()
    (folder / "dataset.json").write_text(json.dumps(meta))
    (folder / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if unanswerable:
        (folder / "queries-unanswerable.jsonl").write_text("".join(json.dumps(r) + "\n" for r in unanswerable))


def test_a_span_set_loads_with_its_filters_and_index(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "index").mkdir()
    meta = {"name": "feedback", "kind": "spans", "corpus_dir": str(tmp_path / "corpus"), "index": str(tmp_path / "index")}
    _write(tmp_path / "set", [{"_id": "fb-1", "text": "Q?", "where": ["type=pdf"], "spans": [{"document": "a.txt", "start": 1, "end": 4}]}],
           meta, [{"_id": "fb-2", "text": "None?", "where": ["doc=a.txt"]}])
    data = load_dataset(tmp_path / "set")
    assert data.spans == {"fb-1": [span("a.txt", 1, 4)]} and data.queries == {"fb-1": "Q?"}
    assert data.unanswerable == {"fb-2": "None?"} and data.where == {"fb-1": ["type=pdf"], "fb-2": ["doc=a.txt"]}
    assert data.corpus_dir == tmp_path / "corpus" and data.index_dir == tmp_path / "index"
    with pytest.raises(ValueError, match="no splits"):
        load_dataset(tmp_path / "set", split="dev")
    _write(tmp_path / "bad", [{"_id": "fb-1", "text": "Q?", "spans": [{"document": "a.txt", "start": 1}]}],
           {**meta, "index": str(tmp_path / "gone")})
    with pytest.raises(ValueError, match="lack document, start or end"):
        load_dataset(tmp_path / "bad")
