"""Filters: parsed with clear messages, applied inside retrieval (k come back when k match)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from quoteback.build import IndexBuilder
from quoteback.documents import Document
from quoteback.filters import Filter, parse_condition
from quoteback.fusion import Fusion
from quoteback.index import load_index
from quoteback.passages import Passage
from quoteback.retrieval import Retriever
from tests.test_retrieval import HashingEncoder


@pytest.mark.parametrize("bad, message", [
    ("colour=red", "unknown key 'colour'"), ("doc", "is not KEY=VALUE"), ("doc=", "has no value"),
    ("doc>=a", "only date and page take >= and <="), ("date=May 2023", "YYYY, YYYY-MM or YYYY-MM-DD"),
    ("page>=one", "a page is a number"),
])
def test_a_bad_condition_says_what_is_wrong(bad, message):
    with pytest.raises(ValueError, match=message):
        parse_condition(bad)


def test_conditions_on_one_key_are_alternatives_and_keys_must_all_hold():
    doc = Document("filings/3M_2018_10K.pdf", "FORM 10-K", "2019-02-07", "x" * 100, 0, "0" * 64, pages=[0, 50])
    passage = Passage(doc.path, 60, 80, "x" * 20)
    assert Filter.parse(["doc=3M_2018*"]).allows(passage, doc)
    assert Filter.parse(["doc=3m_2018_10k.pdf"]).allows(passage, doc)  # case does not matter; the name or the stem
    assert Filter.parse(["doc=AMCOR*", "doc=3M*"]).allows(passage, doc)  # either file
    assert not Filter.parse(["doc=3M*", "type=docx"]).allows(passage, doc)  # both must hold
    assert Filter.parse(["date=2019", "date<=2019-02-07", "type=.PDF"]).allows(passage, doc)
    assert not Filter.parse(["date>=2019-03"]).allows(passage, doc)
    assert Filter.parse(["page=2"]).allows(passage, doc) and not Filter.parse(["page<=1"]).allows(passage, doc)
    undated = Document("notes.txt", "Notes", None, "x", 0, "0" * 64)
    assert not Filter.parse(["date>=2000"]).allows(Passage("notes.txt", 0, 1, "x"), undated)


def test_tags_are_a_document_key_whose_alternatives_ignore_case():
    doc = Document("q1.pdf", "Q1", None, "x" * 10, 0, "0" * 64, tags=["Finance", "2019 results"])
    assert Filter.parse(["tag=finance"]).allows(None, doc, ("tag",))
    assert Filter.parse(["tag=legal", "tag=2019 RESULTS"]).allows(None, doc, ("tag",))  # either tag
    assert not Filter.parse(["tag=legal"]).allows(None, doc, ("tag",))
    assert not Filter.parse(["tag=finance", "type=docx"]).allows(None, doc, ("tag", "type"))
    assert not Filter.parse(["tag=finance"]).allows(None, Document("n.txt", "N", None, "x", 0, "0" * 64), ("tag",))
    with pytest.raises(ValueError, match="only date and page take >= and <="):
        parse_condition("tag>=a")


DOCS = {
    "reports/glaciers-2021.txt": "date 2021-06-01\nGlaciers retreat in warm summers. Ice melts fast.\n\nThe valley floods every spring.",
    "reports/glaciers-2023.md": "---\ndate: 2023-03-02\n---\n# Ice\n\nGlaciers melt faster each year.\n\n# Rivers\n\nRivers carry glacier water to the sea.",
    "bakery.txt": "date 2022-01-01\nBakers bake rye bread at dawn. The oven is hot.\n\nThin ice melts in the summer sun.",
    "notes/ice.md": "# Ice\n\nIce is frozen water.\n\n# Snow\n\nSnow falls in winter and melts in spring.",
    "notes/ice.md.meta.json": '{"tags": ["ice", "Water"]}',  # a sidecar: tags stored with the index
    "bakery.txt.meta.json": '{"tags": ["food"], "date": "2022-07-01"}',
}
CONDITIONS = ["doc=reports/*", "doc=bakery*", "doc=*ice*", "type=md", "type=txt", "date>=2022", "date<=2022-06",
              "date=2021", "section=Ice", "section=Rivers", "page=1", "tag=ice", "tag=water", "tag=food"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("filters")
    for path, text in DOCS.items():
        (root / "corpus" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "corpus" / path).write_text(text)
    from quoteback.settings import Settings

    settings = Settings(corpus=root / "corpus", index=root / "index")
    IndexBuilder(settings, HashingEncoder()).build()
    index = load_index(settings.index)
    return index, Retriever(index, HashingEncoder(), Fusion("hybrid", dense_weight=0.4, sentence_weight=0.3, coverage_weight=0.0))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(CONDITIONS), max_size=3), st.sampled_from(["glaciers melt", "rye bread oven", "water", "zzz"]),
       st.integers(1, 8))
def test_every_hit_satisfies_its_filter_and_k_come_back_when_k_match(small, conditions, question, k):
    index, retriever = small
    where = Filter.parse(conditions)
    allowed = [i for i, p in enumerate(index.passages) if where.allows(p, index.documents[p.document])]
    hits = retriever.search(question, k=k, where=where)
    assert all(where.allows(index.passages[h.passage_id], index.documents[index.passages[h.passage_id].document]) for h in hits)
    if question != "zzz":  # words of the corpus: the dense search ranks every allowed passage
        assert len(hits) == min(k, len(allowed))


def test_no_filter_is_the_same_search(small):
    index, retriever = small
    plain = retriever.search("glaciers melt", k=5)
    assert retriever.search("glaciers melt", k=5, where=Filter()) == plain
    assert retriever.search("glaciers melt", k=5, where=Filter.parse(["doc=*"])) == plain


def test_sidecar_tags_survive_the_index_and_scope_the_search(small):
    index, retriever = small
    assert index.documents["notes/ice.md"].tags == ["ice", "Water"] and index.documents["bakery.txt"].date == "2022-07-01"
    assert index.documents["reports/glaciers-2023.md"].tags == [] and "notes/ice.md.meta.json" not in index.documents
    hits = retriever.search("ice melts", k=8, where=Filter.parse(["tag=water", "tag=FOOD"]))
    assert hits and {index.passages[h.passage_id].document for h in hits} == {"notes/ice.md", "bakery.txt"}
