"""Page sets: loading, judging a reply by its quotes' pages, and the baseline's splitter."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from quoteback.answer import Answer, Quote
from quoteback.evaluation.datasets import load_dataset
from quoteback.evaluation.page_baseline import split
from quoteback.evaluation.pages import page_hits


def page_set(tmp_path):
    (tmp_path / "corpus").mkdir()
    rows = [{"_id": "q1", "text": "What was 3M's capex in 2018?", "doc": "3M_2018_10K", "pages": [60]},
            {"_id": "q2", "text": "What was Amazon's revenue?", "doc": "AMAZON_2017_10K", "pages": [37, 38]},
            {"_id": "q3", "text": "Who audits PepsiCo?", "doc": "PEPSICO_2023_8K", "pages": [2]}]
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return load_dataset(tmp_path)


def quote(document: str, page: int, pages: list[int] | None = None) -> Quote:
    return Quote("text", document, "title", None, 0, 4, 0.5, page=page, pages=pages or [])


def test_a_page_set_loads_its_evidence(tmp_path):
    data = page_set(tmp_path)
    assert data.evidence["q2"] == ("AMAZON_2017_10K", [37, 38])
    assert data.corpus_dir == (tmp_path / "corpus").resolve()
    with pytest.raises(ValueError, match="no splits"):
        load_dataset(tmp_path, split="dev")


def test_replies_are_judged_by_file_and_page(tmp_path):
    data = page_set(tmp_path)
    answers = {
        "q1": Answer("", True, [quote("3M_2018_10K.pdf", 60)], "", outcome="answer"),
        # the right page on the second quote; the first crosses into an evidence page of the wrong file
        "q2": Answer("", True, [quote("AMCOR.pdf", 37, [37, 38]), quote("sub/AMAZON_2017_10K.pdf", 36, [36, 37])], "", outcome="answer"),
        "q3": Answer("", False, [], "", outcome="declined"),
    }
    hits = page_hits(data, answers)
    assert hits["page@1_ids"] == ["q1"] and hits["page@3_ids"] == ["q1", "q2"]
    assert hits["page@1"] == pytest.approx(1 / 3, abs=1e-4) and hits["page@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert hits["declined"] == pytest.approx(1 / 3, abs=1e-4) and hits["right_file_first"] == pytest.approx(1 / 3, abs=1e-4)


@given(st.lists(st.tuples(st.text(alphabet="abc", min_size=1, max_size=30), st.sampled_from([" ", "\n", "\n\n", "  "])), max_size=400))
def test_baseline_chunks_are_bounded_and_cover_the_words(words):
    text = "".join(w + gap for w, gap in words)
    chunks = split(text, 100, 20)
    assert all(len(c) <= 100 for c in chunks)
    assert " ".join(chunks).split() == text.split() or len(chunks) > 1  # overlap repeats words only between chunks
    assert set(" ".join(chunks).split()) == set(text.split())
