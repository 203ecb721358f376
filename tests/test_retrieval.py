"""Fusion logic, on a real index built with a fake (hashing) encoder: unit tests of the arithmetic."""

import re
import zlib

import numpy as np
import pytest

from quoteback.build import IndexBuilder
from quoteback.index import load_index
from quoteback.fusion import Fusion
from quoteback.retrieval import LEXICAL_FLOOR, Retriever


class HashingEncoder:
    """Bag of words hashed into 64 dimensions: deterministic, no model."""

    name = "all-MiniLM-L6-v2"  # the settings' model name, so the index matches the settings
    dimension = 64

    def encode(self, texts, progress=None):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, zlib.crc32(w.encode()) % 64] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@pytest.fixture
def index(tmp_path, settings_for):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Glaciers retreat in warm summers. Ice melts fast.\n\nThe valley floods every spring.")
    (corpus / "b.txt").write_text("Bakers bake rye bread at dawn. The oven is hot.")
    (corpus / "c.txt").write_text("Rivers carry glacier water to the sea.")
    (corpus / "d.txt").write_text("Thin ice melts in the summer sun.")
    settings = settings_for(corpus)
    IndexBuilder(settings, HashingEncoder()).build()
    return load_index(settings.index)


def test_hybrid_is_the_weighted_sum_of_its_parts(index):
    retriever = Retriever(index, HashingEncoder(), Fusion("hybrid", dense_weight=0.4, sentence_weight=0.3, coverage_weight=0.0))
    hits = retriever.search("glaciers melt in summer", k=5)
    assert hits and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert h.score == pytest.approx(0.4 * h.dense + 0.3 * h.sentence + 0.3 * h.lexical, abs=1e-6)
        assert h.sentence >= h.dense - 1e-6 or len(index.passages[h.passage_id].sentences) > 1
    assert max(h.lexical for h in hits) == pytest.approx(1.0)  # BM25 normalised by the question's best
    assert index.passages[hits[0].passage_id].document == "a.txt"


def test_a_stray_word_match_earns_little_lexical_credit(index):
    retriever = Retriever(index, HashingEncoder(), Fusion("hybrid", dense_weight=0.4, sentence_weight=0.3, coverage_weight=0.0))
    assert retriever.search("rye bread oven", k=1)[0].lexical == pytest.approx(1.0)  # a complete match
    stray = "oven telescopes galaxies nebulae quasars"  # one known word out of five
    best = max(retriever.search(stray, k=5), key=lambda h: h.lexical)
    assert best.lexical == pytest.approx(index.lexical.scores(stray).max() / (LEXICAL_FLOOR * index.lexical.ideal(stray)), rel=1e-5)
    assert best.lexical < 0.9


def test_modes_and_validation(index):
    enc = HashingEncoder()
    dense = Retriever(index, enc, Fusion("dense", 1.0, 0.0, 0.0)).search("bread oven", k=2)
    bm25 = Retriever(index, enc, Fusion("bm25", 0.0, 0.0, 0.0)).search("bread oven", k=2)
    assert index.passages[dense[0].passage_id].document == "b.txt" == index.passages[bm25[0].passage_id].document
    assert all(h.score == h.dense for h in dense) and all(h.score == h.lexical for h in bm25)
    assert Retriever(index, enc, Fusion("bm25", 0.0, 0.0, 0.0)).search("zzzz qqqq", k=2) == []
    with pytest.raises(ValueError):
        Fusion("magic")
    with pytest.raises(ValueError):
        Fusion("hybrid", dense_weight=0.8, sentence_weight=0.5)


def test_feedback_adds_words_of_the_best_passage_and_keeps_the_question_cosine(index):
    enc = HashingEncoder()
    question = "glaciers retreat"
    plain = Retriever(index, enc, Fusion("hybrid", 0.4, 0.3, 0.0)).search(question, k=10)
    broad = Retriever(index, enc, Fusion("hybrid", 0.4, 0.3, 0.0, feedback=1)).search(question, k=10)
    first = index.passages[plain[0].passage_id]
    assert first.document == "a.txt" and "Glaciers" in first.text
    expansion = index.lexical.expansion(question, [first.text])
    assert expansion.max() == pytest.approx(1.0) and expansion.min() >= 0
    by_doc = {p.document: i for i, p in enumerate(index.passages)}
    assert expansion[by_doc["d.txt"]] > 0  # shares "ice", "melt", "summer" with the best passage only
    assert expansion[by_doc["c.txt"]] == 0  # shares "glacier", a word of the question itself
    assert index.lexical.scores(question)[by_doc["d.txt"]] == 0
    q = enc.encode([question])[0]
    for hit in broad:  # the reported cosine is the question's own, so abstention is unchanged
        assert hit.dense == pytest.approx(float(index.store.passage_vectors(np.array([hit.passage_id]))[0] @ q), abs=1e-5)
    lexical_plain = {h.passage_id: h.lexical for h in plain}
    gained = [h for h in broad if h.lexical > 0 and lexical_plain.get(h.passage_id, 0) == 0]
    assert gained, "feedback should give BM25 weight to a passage that shares only the best passage's words"


def test_coverage_rewards_the_question_words_in_one_sentence(index):
    question = "glaciers melt"
    lexical = index.lexical
    # both words in one sentence, in two sentences, one word only, none
    cov = lexical.coverage(question, [["Glaciers melt."], ["Glaciers grow.", "Snow will melt."], ["Glaciers grow."], ["Bread."]])
    assert cov[0] == pytest.approx(1.0) and cov[3] == 0
    assert 0 < cov[2] < 1 and cov[1] == pytest.approx(cov[2])  # scattered words count as the best single sentence
    assert lexical.coverage("zzzz", [["Glaciers melt."]])[0] == 0  # words not in the corpus carry no weight

    retriever = Retriever(index, HashingEncoder(), Fusion("hybrid", 0.4, 0.3, coverage_weight=0.15))
    hits = retriever.search("glaciers melt in summer", k=5)
    for h in hits:
        assert h.score == pytest.approx(0.4 * h.dense + 0.3 * h.sentence + 0.15 * h.lexical + 0.15 * h.coverage, abs=1e-6)
    top = index.passages[hits[0].passage_id]
    assert top.document == "a.txt" and hits[0].coverage > 0
    with pytest.raises(ValueError):
        Fusion("hybrid", 0.4, 0.3, coverage_weight=0.4)


@pytest.mark.parametrize("question, codes", [
    ("What outcome does subcategory DE.CM-1 of the framework core describe?", ["DE.CM-1"]),
    ("Which status does HTTP/1.1 give?", ["HTTP/1.1"]),
    ("Who won in 2018?", []), ("Is it 3.5 or the U.S. one?", []), ("What is e.g. this?", []),
    ("Does a 30-second rest help 7-day-old mice?", []), ("Does PD-1 block HIV-1?", ["PD-1", "HIV-1"]),
])
def test_identifiers_in_questions(question, codes):
    from quoteback.cues import identifiers

    assert identifiers(question) == codes


def test_a_passage_holding_the_asked_identifier_verbatim_comes_first(tmp_path, embedder, settings_for):
    """Word-level BM25 cuts "DE.CM-2" into "de" and "cm" that every row shares; the verbatim code decides."""
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    refs = "| CIS CSC 1, 7, 8, 12 | COBIT 5 DSS01.03, DSS03.05 | ISA 62443-3-3:2013 SR 6.2 | NIST SP 800-53 Rev. 4 AC-2, AU-12, CA-7"
    rows = [f"DE.CM-{i}: The {thing} is monitored to detect potential cybersecurity events {refs}" for i, thing in
            enumerate(["network", "physical environment", "personnel activity", "malicious code", "external service provider"], 1)]
    for i, row in enumerate(rows, 1):
        (corpus / f"core-{i}.txt").write_text(row + "\n")
    answerer = open_answerer(settings_for(corpus), embedder=embedder).answerer
    assert len(answerer.index.passages) == 5, [p.text for p in answerer.index.passages]  # one row each: the ranking, not the packing, must pick the row
    for i in range(1, 6):
        first = answerer.retriever.search(f"What outcome does subcategory DE.CM-{i} of the framework core describe?", 1)[0]
        assert answerer.index.passages[first.passage_id].document == f"core-{i}.txt"


@pytest.mark.parametrize("question, sentence, defined", [
    ("What does over-engineering mean when reviewing code?",
     "A particular type of complexity is **over-engineering**, where developers made the code too generic.", True),
    ("What does over-engineering mean?", "Reviewers should be especially vigilant about over-engineering.", False),
    ("What is MINUSMA?", "The UN mission in Mali, known as MINUSMA, was established in 2013.", True),
    ("What is the Wagner Group?", "The Wagner Group is a Russian private military company.", True),
    ("What is the Wagner Group?", "Reports link the Wagner Group to the Kremlin.", False),
    ("Who is the Wagner Group?", "The Wagner Group is a Russian private military company.", False),  # not a definition question
    ("According to the incident handling guide, what exactly counts as a computer security incident?",
     "A computer security incident is a violation or imminent threat of violation of security policies.", True),
    ("According to the guide, what exactly counts as a computer security incident?",
     "Keywords: computer security incident; incident handling; incident response", False),
])
def test_a_definition_question_and_a_sentence_that_defines_the_term(question, sentence, defined):
    from quoteback.cues import defines

    assert defines(question, sentence) is defined


def test_a_definition_question_prefers_the_passage_that_defines_the_term(tmp_path, embedder, settings_for):
    """A keyword list and a list item naming the term match its words best; the passage saying what it is answers."""
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "guide.md").write_text(
        "# Keywords\n\ncomputer security incident; incident handling; incident response; computer security\n\n"
        "# Policy elements\n\n* Definition of computer security incidents and related terms\n"
        "* Organizational structure and definition of roles, responsibilities, and levels of authority\n\n"
        "# Events and incidents\n\nAn event is any observable occurrence in a system or network. A computer security "
        "incident is a violation or imminent threat of violation of computer security policies, acceptable use "
        "policies, or standard security practices.\n")
    answerer = open_answerer(settings_for(corpus), embedder=embedder).answerer
    first = answerer.retriever.search("According to the guide, what exactly counts as a computer security incident?", 1)[0]
    assert "imminent threat of violation" in answerer.index.passages[first.passage_id].text


def test_coverage_ceiling_bounds_coverage(index):
    """Read from the posting lists, never below what a sentence holds: a stop word's stem counts
    ("its" asked stems to "it", which BM25 dropped as a stop word), the title's words may add."""
    lexical = index.lexical
    ids = np.arange(len(index.passages))
    sentences = [[p.text[a - p.start : b - p.start] for a, b in p.sentences] for p in index.passages]
    for question in ("glaciers melt in summer", "Is its ice thin?", "rye bread oven at dawn", "zzzz", "it"):
        ceiling = lexical.coverage_ceiling(question, ids)
        assert (lexical.coverage(question, sentences) <= ceiling + 1e-6).all(), question  # coverage is float32
    assert lexical.coverage_ceiling("bread", ids)[[p.document == "b.txt" for p in index.passages]].min() == pytest.approx(1.0)
    assert lexical.coverage_ceiling("bread", ids)[[p.document != "b.txt" for p in index.passages]].max() == 0


def test_pruning_changes_no_hit(index, monkeypatch):
    """Coverage and the identifier bonus are skipped only where they could not reach the k best."""
    from quoteback import retrieval

    retriever = Retriever(index, HashingEncoder(), Fusion("hybrid", 0.4, 0.3, coverage_weight=0.15))
    questions = ["glaciers melt in summer", "ice", "bread at dawn", "Does the X-1 valley flood?", "its water"]
    pruned = [retriever.search(q, k) for q in questions for k in (1, 2, 3)]
    monkeypatch.setattr(retrieval, "_within_reach", lambda fused, k, most: np.ones(len(fused), dtype=bool))
    assert pruned == [retriever.search(q, k) for q in questions for k in (1, 2, 3)]


class WordReader:
    """A stand-in reader for the arithmetic: its logit is how often the passage says "bread"."""

    def __init__(self):
        self.read = []

    def score(self, question, texts):
        self.read.append(list(texts))
        return np.array([t.lower().count("bread") * 3.0 for t in texts], dtype=np.float32)


def test_the_reader_reranks_the_best_candidates_by_fused_plus_weighted_logit(index):
    plain = Retriever(index, HashingEncoder(), Fusion())
    reader = WordReader()
    read = Retriever(index, HashingEncoder(), Fusion(reader_depth=3, reader_weight=0.5), reader=reader)
    before = plain.search("ice melts in summer", k=10)
    after = read.search("ice melts in summer", k=10)
    assert len(reader.read[0]) == 3  # only the best three are read, each with its title line
    assert all(t.endswith(index.passages[h.passage_id].text) for t, h in zip(reader.read[0], before[:3]))
    by_id = {h.passage_id: h for h in before}
    for h in after[:3]:
        assert h.score == pytest.approx(by_id[h.passage_id].score + 0.5 * h.reader)
    assert [h.score for h in after] == sorted((h.score for h in after), reverse=True)  # the unread stay below
    assert {h.passage_id for h in after[:3]} == {h.passage_id for h in before[:3]}
    assert [h.passage_id for h in after[3:]] == [h.passage_id for h in before[3:]]
    assert all(h.reader is None for h in after[3:])


def test_reader_off_is_todays_ranking_exactly(index):
    on = Retriever(index, HashingEncoder(), Fusion(reader_depth=0, reader_weight=0.5), reader=WordReader())
    assert on.reader is None
    plain = Retriever(index, HashingEncoder(), Fusion())
    assert on.search("bread at dawn", k=5) == plain.search("bread at dawn", k=5)
