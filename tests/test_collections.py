"""Collections searched together (collections.py): two small collections of markdown files and an
index of their union, built with the real model, asked through the merged ranking."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from quoteback.answer import Answerer
from quoteback.build import IndexBuilder
from quoteback.collections import CollectionsAnswerer, chosen, collections_of, lexical_scales, merge_quotes, tagged
from quoteback.filters import Filter
from quoteback.index.backends import open_backend
from quoteback.passages import Passage
from quoteback.settings import Collections, Settings

POLICIES = {
    "leave.md": "# Leave policy\n\nEmployees receive twenty-five days of paid annual leave each calendar year. Unused leave of "
                "up to five days may be carried over into the first quarter of the next year.\n",
    "expenses.md": "# Expenses\n\nTravel expenses are reimbursed within thirty days when the receipts are submitted through "
                   "the finance portal. Meals abroad are covered up to forty euros a day.\n",
}
HARBOUR = {
    "ferry.md": "# Ferry timetable\n\nThe ferry to the island leaves at seven in the morning from the north quay, and it "
                "returns at six in the evening.\n",
    "rules.md": "# Harbour rules\n\nFishing boats unload their catch at the harbour wall every evening at dusk. Visiting "
                "yachts must report to the harbour master on arrival.\n",
}
SHARED = "# Fire drill\n\nThe fire assembly point is the car park behind the boathouse, next to the blue container.\n"
QUESTIONS = [
    "When does the ferry to the island leave?", "How many days of paid annual leave do employees receive?",
    "Where do fishing boats unload their catch?", "How fast are travel expenses reimbursed?", "Where is the fire assembly point?",
    "When does the ferry return?", "Can unused leave be carried over?", "What must visiting yachts do?", "leave", "euros",
]


def _folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    """Settings naming the two collections (each also holding the fire-drill note), built, and an
    index of the union of their files for comparison."""
    root = tmp_path_factory.mktemp("collections")
    policies = _folder(root / "policies", {**POLICIES, "drill.md": SHARED})
    harbour = _folder(root / "harbour", {**HARBOUR, "drill.md": SHARED})
    settings = Settings(index=root / "index", collections=Collections.parse({"policies": policies, "harbour": harbour}))
    answerers = {}
    for c in collections_of(settings):
        IndexBuilder(c.settings, embedder).build()
        answerers[c.name] = Answerer(open_backend(c.settings).load(), embedder, c.settings)
    union = Settings(corpus=_folder(root / "union", {**POLICIES, **HARBOUR}), index=root / "union-index")
    IndexBuilder(union, embedder).build()
    return {"settings": settings, "answerers": answerers, "union": union}


def test_named_collections_have_their_own_folders_and_indexes(library):
    settings = library["settings"]
    assert [c.name for c in collections_of(settings)] == ["policies", "harbour"]
    harbour = settings.for_collection("harbour")
    assert harbour.index == settings.index / "harbour" and harbour.corpus.name == "harbour" and not harbour.collections
    assert [c.name for c in chosen(settings, "harbour")] == ["harbour"] and len(chosen(settings, None)) == 2
    with pytest.raises(ValueError, match="unknown collection 'boats'; the collections: policies, harbour"):
        chosen(settings, "boats")
    with pytest.raises(ValueError, match="no collections are named"):
        chosen(Settings(), "boats")
    assert [c.name for c in collections_of(Settings())] == [""]  # the one unnamed corpus


def test_a_question_only_one_collection_answers_is_answered_from_it_first(library):
    both = CollectionsAnswerer(library["answerers"])
    for question, collection, document in (("When does the ferry to the island leave?", "harbour", "ferry.md"),
                                           ("How many days of paid annual leave do employees receive?", "policies", "leave.md")):
        answer = both.ask(question)
        assert answer.answered, answer.message
        first = answer.quotes[0]
        assert (first.collection, first.document) == (collection, document)
        assert answer.to_json()["quotes"][0]["collection"] == collection


def test_bm25_is_scaled_alike_in_every_collection(library):
    """Each index alone scales BM25 by its own best match: "leaves" beside the ferry would count as
    fully as "leave" in the leave policy, which holds it more often. Together: each a share of a
    complete match in its own statistics, the best share of all counting 1."""
    answerers = library["answerers"]
    question = "leave"
    vector = next(iter(answerers.values())).embedder.encode([question])[0]
    alone = {name: a.retriever.search(question, 1, vector=vector)[0] for name, a in answerers.items()}
    found = CollectionsAnswerer.search(answerers, question, vector, 6)
    together = {name: next(hit for n, hit in found if n == name) for name in answerers}
    assert alone["policies"].lexical == pytest.approx(1.0) and alone["harbour"].lexical == pytest.approx(1.0)
    share = {name: float(a.index.lexical.scores(question).max()) / a.index.lexical.ideal(question) for name, a in answerers.items()}
    assert share["policies"] > share["harbour"] > 0
    assert together["policies"].lexical == pytest.approx(1.0)
    assert together["harbour"].lexical == pytest.approx(share["harbour"] / share["policies"], rel=1e-4)
    assert together["harbour"].score < alone["harbour"].score and found[0][0] == "policies"
    assert [h.score for _, h in found] == sorted((h.score for _, h in found), reverse=True)
    one = {"harbour": answerers["harbour"]}  # alone, the single index's own scale
    assert lexical_scales(one, question) == {"harbour": answerers["harbour"].retriever.lexical_scale(question)}


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(QUESTIONS), st.integers(1, 6))
def test_dense_ranking_of_all_collections_is_the_ranking_of_their_union(library, embedder, question, depth):
    """Cosines need no scaling: with dense retrieval, the merged list is the union index's list."""
    dense = {name: Answerer(a.index, embedder, a.settings.replace(retrieval="dense")) for name, a in library["answerers"].items()}
    union = library["union"].replace(retrieval="dense")
    single = Answerer(open_backend(union).load(), embedder, union)
    vector = embedder.encode([question])[0]
    merged = CollectionsAnswerer.search(dense, question, vector, depth)
    alone = single.retriever.search(question, depth, vector=vector)
    documents = {dense[name].index.passages[h.passage_id].document for name, h in merged}
    if "drill.md" in documents:  # two copies in the collections, none in the union
        return
    merged_scores, union_scores = [h.score for _, h in merged], [h.score for h in alone]
    assert merged_scores == pytest.approx(union_scores, abs=2e-3)  # vectors encoded in other batches: float noise only
    texts = [dense[name].index.passages[h.passage_id].text for name, h in merged]
    for i, hit in enumerate(alone):  # the same passage at every rank not within noise of a neighbour
        if all(abs(hit.score - other.score) > 2e-3 for other in alone if other is not hit):
            assert texts[i] == single.index.passages[hit.passage_id].text


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(QUESTIONS), st.sampled_from([None, "doc=ferry.md", "doc=leave.md", "doc=*.md", "doc=none.md"]),
       st.integers(1, 4))
def test_every_quote_is_an_exact_slice_of_its_own_collection(library, question, where, k):
    answerers = library["answerers"]
    answer = CollectionsAnswerer(answerers).ask(question, k=k, where=Filter.parse([where] if where else []))
    if where == "doc=none.md":
        assert not answer.valid and answer.message.startswith("No passage matches the filter doc=none.md")
        return
    assert len(answer.quotes) <= k
    assert [q.score for q in answer.quotes] == sorted((q.score for q in answer.quotes), reverse=True)
    for quote in answer.quotes:
        document = answerers[quote.collection].index.documents[quote.document]
        assert document.text[quote.start : quote.end] == quote.text
        assert Filter.parse([where] if where else []).allows(Passage(quote.document, quote.start, quote.end, quote.text), document)


def test_the_same_text_in_two_collections_is_quoted_once_naming_both(library):
    answer = CollectionsAnswerer(library["answerers"]).ask("Where is the fire assembly point?")
    drills = [q for q in answer.quotes if q.document == "drill.md"]
    assert len(drills) == 1
    assert {drills[0].collection} | {s.collection for s in drills[0].also_in if s.document == "drill.md"} == {"policies", "harbour"}
    assert answer.to_json()["quotes"][0]["also_in"][0]["collection"] in {"policies", "harbour"}


def test_one_collection_answers_as_its_own_index_does(library):
    harbour = library["answerers"]["harbour"]
    for question in QUESTIONS[:4]:
        own, one = harbour.ask(question), CollectionsAnswerer({"harbour": harbour}).ask(question)
        assert (one.outcome, one.confidence) == (own.outcome, own.confidence)
        assert [(q.document, q.start, q.end) for q in one.quotes] == [(q.document, q.start, q.end) for q in own.quotes]
        assert all(q.collection == "harbour" for q in one.quotes)


def test_refusals_come_before_any_search(library):
    both = CollectionsAnswerer(library["answerers"])
    assert not both.ask("").valid and not both.ask("x" * 3000).valid
    assert both.matches(Filter.parse(["doc=ferry.md"])) and not both.matches(Filter.parse(["doc=nothing*"]))
    off = both.ask("banana bread recipe", history=["When does the ferry leave?"])
    assert not off.answered and not off.quotes


def test_merging_keeps_k_within_the_margin_and_folds_copies():
    def quote(text: str, score: float, collection: str):
        from quoteback.answer import Quote

        return tagged(Quote(text, f"{collection}.md", "T", None, 0, len(text), score), collection)

    words = "the blue container stands next to the car park behind the boathouse"
    merged = merge_quotes([quote("alpha beta gamma delta", 0.5, "a"), quote(words, 0.9, "a"), quote(words, 0.8, "b"),
                           quote("one two three four", 0.3, "b")], floor=0.4, k=2)
    assert [(q.collection, q.score) for q in merged] == [("a", 0.9), ("a", 0.5)]  # 0.3 is below the floor
    assert [(s.collection, s.document) for s in merged[0].also_in] == [("b", "b.md")]

