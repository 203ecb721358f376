"""The export: spans found again in edited documents (property-tested), stale ones listed, and
the layout `quoteback eval` reads."""

from __future__ import annotations

import json
import shutil

from hypothesis import assume, given, settings as hsettings, strategies as st

from quoteback.build import IndexBuilder
from quoteback.evaluation.datasets import load_dataset
from quoteback.feedback.export import CHANGED, GONE, export_set, locate
from quoteback.feedback.store import FeedbackStore, Judgment, feedback_db, quote_ref
from quoteback.index import load_index
from quoteback.settings import Settings

ALPHABET = "ab c.\n"  # few letters: the span's text often recurs elsewhere, the hard case for finding it again


@st.composite
def document_span_edit(draw, inside: bool):
    text = draw(st.text(ALPHABET, min_size=2, max_size=120))
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    replacement = draw(st.text(ALPHABET, max_size=20))
    if inside:  # an edit that touches at least one character of the span, or inserts strictly within it
        a = draw(st.integers(0, end - 1))
        b = draw(st.integers(max(a, start + 1) if a < start else a, len(text)))
        if a == b:
            assume(start < a < end and replacement)
    else:
        before = draw(st.booleans())
        a = draw(st.integers(0, start)) if before else draw(st.integers(end, len(text)))
        b = draw(st.integers(a, start)) if before else draw(st.integers(a, len(text)))
    return text, start, end, a, b, replacement


@hsettings(max_examples=400, deadline=None)
@given(document_span_edit(inside=False))
def test_an_edit_outside_the_span_keeps_it_found_with_the_same_text(case):
    text, start, end, a, b, replacement = case
    ref = quote_ref("d.txt", text, start, end)
    edited = text[:a] + replacement + text[b:]
    found = locate(ref, edited)
    assert found is not None
    assert edited[found[0] : found[1]] == text[start:end]
    shift = len(replacement) - (b - a) if b <= start else 0
    piece = text[start:end]
    if sum(edited.startswith(piece, i) for i in range(len(edited))) == 1:  # one place only: where the edit moved it
        assert found == (start + shift, end + shift)


@hsettings(max_examples=400, deadline=None)
@given(document_span_edit(inside=True))
def test_an_edit_inside_the_span_makes_it_stale(case):
    text, start, end, a, b, replacement = case
    ref = quote_ref("d.txt", text, start, end)
    edited = text[:a] + replacement + text[b:]
    assume(text[start:end] not in edited)  # else the same words still stand elsewhere, and are found there
    assert locate(ref, edited) is None


def test_unchanged_offsets_win_over_an_earlier_copy():
    text = "alpha beta. alpha beta."
    ref = quote_ref("d.txt", text, 12, 22)
    assert locate(ref, text) == (12, 22)
    assert locate(ref, "xx" + text) == (14, 24)  # the nearest copy, not the first
    assert locate(ref, None) is None


PARAGRAPHS = ["The Wagner Group is a Russian private military company with ties to the Kremlin.",
              "MINUSMA, the UN peacekeeping mission in Mali, was established in 2013.",
              "Private military contractors raise questions of accountability and oversight."]


def _index(tmp_path, embedder, paragraphs=PARAGRAPHS, other=True):
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "mali.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    if other:
        (corpus / "other.txt").write_text("Nothing here is about Mali; this file speaks of bread and ovens.\n", encoding="utf-8")
    else:
        (corpus / "other.txt").unlink()
    settings = Settings(corpus=corpus, index=tmp_path / "index", sentence_vectors=False)
    IndexBuilder(settings, embedder).build()
    return settings, load_index(settings.index)


def _span(index, phrase, document="mali.txt"):
    text = index.documents[document].text
    start = text.index(phrase)
    return quote_ref(document, text, start, start + len(phrase))


def test_export_maps_moves_and_lists_stale_spans(tmp_path, embedder):
    settings, index = _index(tmp_path, embedder)
    store = FeedbackStore(feedback_db(settings))
    kept = _span(index, "established in 2013")
    wrong = _span(index, "ties to the Kremlin")
    changed = _span(index, "accountability and oversight")
    gone = _span(index, "bread and ovens", "other.txt")
    store.add(Judgment("When was MINUSMA founded?", "answers", span=kept))
    store.add(Judgment("When was MINUSMA founded?", "wrong", span=wrong, quotes=(wrong, kept)))
    store.add(Judgment("What worries people?", "answers", span=changed))
    store.add(Judgment("What do the ovens bake?", "answers", span=gone))
    store.add(Judgment("Who won the world cup?", "none", quotes=(wrong,)))
    store.add(Judgment("Why the Kremlin?", "wrong", span=wrong))
    store.add(Judgment("Declined, but wrongly?", "wrong"))
    store.add(Judgment("Elsewhere?", "answers", span=kept, collection="news"))

    # a paragraph added before every span, one span's words rewritten, one document removed
    edited = ["A new first paragraph moves everything after it."] + PARAGRAPHS[:2] + [
        "Private military contractors raise questions of transparency and control."]
    _, index = _index(tmp_path, embedder, edited, other=False)
    summary = export_set(settings, store, tmp_path / "set")

    assert summary.judgments == 7 and summary.other_collections == 1
    assert summary.questions == 1 and summary.unanswerable == 1 and summary.wrong_only == 1 and summary.untestable == 1
    assert summary.spans == 3 and summary.moved == 3  # the kept, wrong (twice: two questions) spans, each moved
    assert sorted((s.document, s.reason) for s in summary.stale) == [("mali.txt", CHANGED), ("other.txt", GONE)]
    stale = [json.loads(line) for line in (tmp_path / "set" / "stale.jsonl").read_text().splitlines()]
    assert sorted(s["question"] for s in stale) == ["What do the ovens bake?", "What worries people?"]

    rows = {json.loads(line)["question"]: json.loads(line) for line in (tmp_path / "set" / "queries.jsonl").read_text().splitlines()}
    text = index.documents["mali.txt"].text
    founded = rows["When was MINUSMA founded?"]["spans"]
    assert {(text[s["start"] : s["end"]], s["gain"]) for s in founded} == {("established in 2013", 1), ("ties to the Kremlin", 0)}
    assert all(s["moved"] and s["passages"] for s in founded)
    assert [s["gain"] for s in rows["Why the Kremlin?"]["spans"]] == [0]

    data = load_dataset(tmp_path / "set")  # what `quoteback eval` reads
    assert data.spans and list(data.unanswerable.values()) == ["Who won the world cup?"]
    assert data.corpus_dir == settings.corpus.resolve() and data.index_dir == settings.index.resolve()
    meta = json.loads((tmp_path / "set" / "dataset.json").read_text())
    assert meta["kind"] == "spans" and meta["summary"]["stale"] == 2 and meta["summary"]["index_version"].startswith("v-")


def test_a_follow_up_is_exported_as_what_is_searched(tmp_path, embedder):
    settings, index = _index(tmp_path, embedder)
    store = FeedbackStore(feedback_db(settings))
    store.add(Judgment("since when?", "answers", span=_span(index, "established in 2013"), history=("What is MINUSMA?",)))
    export_set(settings, store, tmp_path / "set")
    [row] = [json.loads(line) for line in (tmp_path / "set" / "queries.jsonl").read_text().splitlines()]
    assert row["question"] == "since when?" and row["history"] == ["What is MINUSMA?"]
    assert "MINUSMA" in row["text"] and "since when" in row["text"]
    shutil.rmtree(tmp_path / "set")
