"""Filters inside Milvus: each `--where` as a Milvus expression selects exactly the passages
`Filter.mask` selects (a property test against a real `milvus-lite server`, adversarial values
included), and a filtered search draws its dense and BM25 hits from the matching passages."""

from __future__ import annotations

import fnmatch
import itertools
import re
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings, strategies as st

from quoteback.documents import Document
from quoteback.filters import Filter
from quoteback.index.milvus_filters import ANY, ONE, _glob, expression
from quoteback.passages import Passage

WILD = "ab%_\\\"'*?[]!/.é ßİ🍰-"  # quotes, backslashes, like's and glob's wildcards, folding that changes length


def _regex(tokens) -> str:
    return "".join(".*" if t is ANY else "." if t is ONE else re.escape(t) for t in tokens)


@settings(max_examples=300, deadline=None)
@given(st.text(WILD, max_size=6), st.text(WILD.replace("*", "").replace("?", ""), max_size=6))
@example(pattern="\\[?]", name="\\?")  # a literal backslash before a class: hypothesis found it in a full test run
def test_glob_tokens_match_what_fnmatch_matches(pattern, name):
    tokens = _glob(pattern)
    if tokens is None:  # a [class]: fnmatch's regex holds one (a "[" after an even run of backslashes: `\\[?]`)
        assert re.search(r"(?<!\\)(?:\\\\)*\[", fnmatch.translate(pattern))
    else:
        assert (re.fullmatch(_regex(tokens), name, re.S) is not None) == fnmatch.fnmatchcase(name, pattern)


def test_expressions_quote_and_escape_what_they_are_given():
    docs = {}
    assert expression(Filter(), docs) == ""
    assert 'doc_name like "a\\"b%"' in expression(Filter.parse(['doc=a"b*']), docs)  # the quote escaped
    # a backslash, which milvus-lite's `like` misreads: a doc glob names the documents it matches, a section
    # prefix is the range of strings starting with it (the backslash doubled in the literal)
    a_b = Document('a"b\\x.md', "A", None, "x", 0, "0")
    assert expression(Filter.parse(['doc=a"b\\*']), {a_b.path: a_b, "c.md": Document("c.md", "C", None, "x", 0, "0")}) == \
        '(document in ["a\\"b\\\\x.md"])'
    assert expression(Filter.parse(["section=Part 1\\"]), docs) == \
        '(section_key >= "part 1\\\\" and section_key < "part 1]")'
    assert 'doc_path like "%50_x%"' in expression(Filter.parse(["doc=*50?x*"]), docs)  # ? any one character
    fifty = Document("q_50%.md", "Q", None, "x", 0, "0")  # a literal % or _: the matching documents are named
    assert expression(Filter.parse(["doc=*50%*"]), {fifty.path: fifty, "c.md": Document("c.md", "C", None, "x", 0, "0")}) == \
        '(document in ["q_50%.md"])'
    assert expression(Filter.parse(["type=HTML"]), docs) == '(doc_type in ["htm", "html"])'
    assert expression(Filter.parse(["tag=Q1 Results", "tag=legal", "page>=3"]), docs) == \
        '((array_contains(doc_tags, "q1 results")) or (array_contains(doc_tags, "legal"))) and (last_page >= 3)'
    assert expression(Filter.parse(["date<=2023-05"]), docs) == '(doc_date != "" and (doc_date <= "2023-05" or doc_date like "2023-05%"))'
    a, b = Document("a[1].txt", "A", None, "x", 0, "0"), Document("b.txt", "B", None, "x", 0, "0")
    assert expression(Filter.parse(["doc=[!b]*"]), {"a[1].txt": a, "b.txt": b}) == '(document in ["a[1].txt"])'  # a class: named


# ---- the property test: Milvus selects what Filter.mask selects ----

TYPES = ["txt", "md", "markdown", "htm", "html", "pdf", "PDF", "Md", "t%x", "d_c"]
COLLECTION = "filters_property"
_ids = itertools.count()
_batches = itertools.count()


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    """`milvus-lite server` on 127.0.0.1 and a free port (skipped without milvus-lite); stopped by its process id."""
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    from quoteback.bench.distributed import local_milvus

    with local_milvus(tmp_path_factory.mktemp("milvus")) as uri:
        yield uri


@pytest.fixture(scope="module")
def client(milvus):
    """A collection of the filter fields alone (and the document path), one batch of rows an example."""
    from quoteback.index.milvus_filters import add_fields
    from quoteback.index.milvus_schema import pymilvus

    m = pymilvus()
    c = m.MilvusClient(uri=milvus)
    s = c.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", m.DataType.INT64, is_primary=True)
    s.add_field("batch", m.DataType.INT64)
    s.add_field("document", m.DataType.VARCHAR, max_length=4096)
    add_fields(s, m.DataType)
    s.add_field("dummy", m.DataType.FLOAT_VECTOR, dim=2)
    params = c.prepare_index_params()
    params.add_index(field_name="dummy", index_type="FLAT", metric_type="L2")
    c.create_collection(COLLECTION, schema=s, index_params=params, consistency_level="Strong")
    yield c
    c.close()


@st.composite
def documents(draw):
    """A few documents with adversarial paths, tags and headings, some with pages and dates, and passages of each."""
    out, passages = {}, []
    for _ in range(draw(st.integers(1, 4))):
        stem = draw(st.text(WILD, min_size=1, max_size=6)).strip("/") or "x"
        path = f"{draw(st.sampled_from(['', 'reports/', 'A b/']))}{stem}.{draw(st.sampled_from(TYPES))}"
        if path in out:
            continue
        words = draw(st.lists(st.text(WILD + "AZ09", min_size=1, max_size=5), min_size=3, max_size=8))
        text = " ".join(words) + " tail of the text"
        cuts = sorted(draw(st.sets(st.integers(1, len(text) - 1), max_size=4)))
        bounds = [0, *cuts, len(text)]
        spans = [(a, b) for a, b in zip(bounds, bounds[1:])]
        headings = [[a, b, draw(st.integers(1, 3))] for a, b in spans[:-1] if draw(st.booleans())]
        pages = [0, *sorted(draw(st.sets(st.integers(1, len(text) - 1), max_size=3)))] if draw(st.booleans()) else []
        date = draw(st.none() | st.sampled_from(["2019-12-31", "2020-01-01", "2020-06-15", "2021-02-03", "2023-05-30"]))
        tags = draw(st.lists(st.text(WILD, min_size=1, max_size=5).map(lambda t: " ".join(t.split()) or "t"), max_size=3, unique=True))
        out[path] = doc = Document(path, stem, date, text, 0, "0" * 64, pages=pages, headings=headings, tags=tags)
        for _ in range(draw(st.integers(1, 4))):
            a = draw(st.integers(0, len(text) - 1))
            passages.append(Passage(path, a, draw(st.integers(a + 1, len(text))), ""))
    return out, passages


def _flip(draw, text: str) -> str:
    return "".join(ch.swapcase() if draw(st.booleans()) else ch for ch in text)


@st.composite
def conditions(draw, docs):
    """`KEY OP VALUE` strings: most derived from the documents (so they match some), some random."""
    doc = draw(st.sampled_from(sorted(docs.values(), key=lambda d: d.path)))
    key = draw(st.sampled_from(["doc", "doc", "type", "date", "tag", "section", "section", "page"]))
    op = draw(st.sampled_from(["=", ">=", "<="])) if key in ("date", "page") else "="
    if key == "doc":
        name = draw(st.sampled_from([doc.path, doc.path.rsplit("/", 1)[-1], doc.title]))
        value = "".join(draw(st.sampled_from([ch, ch, ch, "*", "?"])) for ch in _flip(draw, name))
        value = draw(st.sampled_from([value, value + "*", "*" + value[1:], draw(st.text(WILD, min_size=1, max_size=4))]))
    elif key == "type":
        value = draw(st.sampled_from(TYPES + [".txt", "docx"]))
    elif key == "date":
        value = draw(st.sampled_from(["2019", "2020", "2020-01", "2020-06-15", "2021-02", "2023", "2023-05-30", "2024"]))
    elif key == "tag":
        value = _flip(draw, draw(st.sampled_from(doc.tags))) if doc.tags and draw(st.booleans()) else draw(st.text(WILD, min_size=1, max_size=3))
    elif key == "section":
        label = doc.section_label(draw(st.integers(0, len(doc.text) - 1))) or ""
        value = _flip(draw, label[: draw(st.integers(1, max(1, len(label))))]) if label else draw(st.text(WILD, min_size=1, max_size=3))
    else:
        value = str(draw(st.integers(0, 5)))
    return f"{key}{op}{value}"


def _selected(client, batch: int, expr: str) -> set[int]:
    rows = client.query(COLLECTION, filter=f"batch == {batch}" + (f" and ({expr})" if expr else ""), output_fields=["id"], limit=16384)
    return {r["id"] for r in rows}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_milvus_selects_the_passages_the_mask_selects(client, data):
    docs, passages = data.draw(documents())
    texts = data.draw(st.lists(conditions(docs), min_size=1, max_size=3))
    try:
        where = Filter.parse(texts)
    except ValueError:
        assume(False)
    mask = where.mask(SimpleNamespace(documents=docs, passages=passages))
    event("selects some, not all" if 0 < mask.sum() < len(mask) else "selects all" if mask.all() else "selects none")
    same_selection(client, docs, passages, [where])


def test_adversarial_names_and_values_select_alike(client):
    """Quotes, backslashes, % and _ where Milvus's `like` shortcuts would misread them, a glob
    with a [class], case folding that changes length."""
    texts = {'a\\b%_"x.txt': "# C:\\temp 50%_off\n\nbody", "a\\\\b.md": "# \"quoted\" \\ head\n\nbody", "50%_.HTM": "plain body",
             "q'x[1].pdf": "# ß İ 🍰\n\nbody"}
    docs = {p: Document(p, p, "2020-06-15" if "%" in p else None, t, 0, "0", pages=[0, 5] if p.endswith("pdf") else [],
                        headings=[[2, t.index("\n"), 1]] if t.startswith("#") else [], tags=["A\\b", 'x"y'] if "\\" in p else ["%"])
            for p, t in texts.items()}
    passages = [Passage(p, a, len(d.text), "") for p, d in docs.items() for a in (0, 3, len(d.text) - 2)]
    asks = [["doc=*\\*"], ["doc=a\\*"], ["doc=*\\b.md"], ['doc=*"x.txt'], ["doc=*%*"], ["doc=*_*"], ["doc=50%_*"], ["doc=?\\*"],
            ["doc=*[1]*"], ["doc=q'x[1].pdf"], ["section=c:\\"], ["section=c:\\temp 50%_"], ['section="quoted" \\'], ["section=%"],
            ["section=SS İ"], ["tag=a\\B"], ['tag=X"Y'], ["tag=%"], ["type=htm"], ["type=html"], ["page=2"], ["page<=1", "page>=2"],
            ["date<=2020-06"], ["date>=2020-06-16"], ["date=2020", "doc=*\\*"]]
    wheres = [Filter.parse(a) for a in asks]
    assert sum(bool(w.mask(SimpleNamespace(documents=docs, passages=passages)).any()) for w in wheres) >= 20  # most select some
    same_selection(client, docs, passages, wheres)


def same_selection(client, docs, passages, wheres) -> None:
    """Insert the passages' filter fields as a batch of their own; each filter's expression selects what its mask does."""
    from quoteback.index.milvus_filters import values

    batch, ids = next(_batches), [next(_ids) for _ in passages]
    rows = [{"id": i, "batch": batch, "document": p.document, "dummy": [0.0, 0.0],
             **values(p, docs[p.document], docs[p.document].section_label(p.start) or "")} for i, p in zip(ids, passages)]
    client.insert(COLLECTION, rows)
    for where in wheres:
        mask = where.mask(SimpleNamespace(documents=docs, passages=passages))
        assert _selected(client, batch, expression(where, docs)) == {i for i, keep in zip(ids, mask) if keep}, str(where)


# ---- filtered asks through Milvus against the files store ----

ASKS = [
    ("What is the Wagner Group?", ["doc=wagner*"]),
    ("What is the Wagner Group?", ["doc=bread*", "doc=CAFES.md"]),  # either file, neither about it
    ("How long does sourdough need to rise?", ["tag=BAKING"]),
    ("What temperature should the oven be for bread?", ["section=baking bread at home › baking"]),
    ("When does the ferry leave?", ["type=pdf", "page>=2"]),
    ("Which café in Zürich serves the lemon cake?", ["date<=2022", "type=md"]),
    ("Why is the UN withdrawing its troops from Mali?", ["date>=2023-12", "type=txt"]),
    ("Who trims the lamp?", ["page=2"]),
]
HARBOUR = ["The harbour ferry leaves the north quay at seven in the morning and returns at noon.",
           "The lighthouse keeper trims the lamp every evening; the ferry passes the lighthouse at half past seven.",
           "Spring tides flood the quay twice a month; the ferry then leaves from the south pier."]


def harbour_pdf(path):
    """Three pages, one paragraph each: pages for `page=` filters."""
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=12)
    for text in HARBOUR:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


@pytest.fixture(scope="module")
def indexes(tmp_path_factory, milvus, embedder):
    """(settings, the files store's index, the same in Milvus) of the shipped corpus plus a guide
    with tags and a date (sidecar), a long document and a three-page PDF."""
    from quoteback.build import IndexBuilder
    from quoteback.index import load_index
    from quoteback.index.milvus import MilvusStore
    from quoteback.settings import Settings
    from tests.index.test_milvus import make_corpus

    root = tmp_path_factory.mktemp("where")
    corpus = make_corpus(root / "corpus")
    (corpus / "bread.md.meta.json").write_text('{"date": "2021-05-01", "tags": ["Baking", "home"]}')
    harbour_pdf(corpus / "harbour.pdf")
    settings = Settings(corpus=corpus, index=root / "index")
    IndexBuilder(settings, embedder).build()
    files = load_index(settings.index)
    store = MilvusStore(milvus, None, "where_test")
    store.drop()
    store.write_index(files)
    return settings, files, store.load()


def allowed_spans(index, where):
    mask = where.mask(index)
    return [(p.document, p.start, p.end) for p, keep in zip(index.passages, mask) if keep]


def test_filtered_asks_quote_what_the_files_store_quotes(indexes, embedder):
    from quoteback.answer import Answerer
    from quoteback.fusion import Fusion, configurations
    from quoteback.retrieval import Retriever

    settings, files, milvus = indexes
    assert milvus.store.applies_filters and {p.document for p in files.passages} >= {"bread.md", "harbour.pdf", "cafes.md"}
    named = configurations(Fusion.from_settings(settings))
    for mode in ("hybrid+sentences", "bm25", "dense"):
        ra, rb = Retriever(files, embedder, named[mode]), Retriever(milvus, embedder, named[mode])
        for question, texts in ASKS:
            where = Filter.parse(texts)
            ha, hb = ra.search(question, 5, where=where), rb.search(question, 5, where=where)
            assert [h.passage_id for h in ha][:1] == [h.passage_id for h in hb][:1], (mode, question, texts)
            assert [h.score for h in ha] == pytest.approx([h.score for h in hb], abs=1e-3), (mode, question, texts)
            assert len(hb) == min(5, int(where.mask(milvus).sum())) or mode == "bm25"  # k come back when k match
    qa, qb = Answerer(files, embedder, settings), Answerer(milvus, embedder, settings)
    answered = 0
    for question, texts in ASKS:
        where = Filter.parse(texts)
        ja, jb = qa.ask(question, where=where).to_json(), qb.ask(question, where=where).to_json()
        keys = ("document", "start", "end", "text", "highlights", "pages", "section")
        assert ja["outcome"] == jb["outcome"], (question, texts)
        assert [tuple(x[k] for k in keys) for x in ja["quotes"]] == [tuple(x[k] for k in keys) for x in jb["quotes"]], (question, texts)
        spans = allowed_spans(milvus, where)
        assert all(any(d == x["document"] and a <= x["start"] and x["end"] <= b for d, a, b in spans) for x in jb["quotes"]), texts
        answered += bool(jb["quotes"])
    assert answered >= 6


def test_the_hits_are_drawn_from_matching_passages_inside_milvus(indexes, milvus):
    """Few BM25 hits a question (candidates=3) and a shallow dense search: unfiltered, the top hits
    are the Wagner FAQ's, and a filter to the café guide applied afterwards would leave none;
    applied inside Milvus, every hit is one of the guide's."""
    import numpy as np

    from quoteback.index.milvus import MilvusStore

    _, files, _ = indexes
    shallow = MilvusStore(milvus, None, "where_test", candidates=3).load()
    where, question = Filter.parse(["doc=cafes*"]), "Wagner Group troops in Mali opened"
    allowed = where.mask(shallow)
    plain, inside = shallow.lexical.scores(question), shallow.lexical.scores(question, where=where)
    assert not (plain[allowed] > 0).any() and (inside > 0).sum() == 3 and (inside[~allowed] == 0).all()
    vector = files.store.passage_vectors(np.array([0]))[0]  # a passage of the FAQ as the question
    assert not allowed[shallow.store.dense_search(vector, 3)].any()
    hits = shallow.store.dense_search(vector, 3, where=where)
    assert len(hits) == 3 and allowed[hits].all()


def test_a_collection_written_before_filter_fields_still_answers_with_a_note(indexes, milvus, embedder, monkeypatch, caplog):
    """Its filters run as before (the hits filtered here) with a one-line note to rebuild; a later
    write keeps its layout."""
    from quoteback.answer import Answerer
    from quoteback.index import milvus_schema
    from quoteback.index.milvus import MilvusStore

    settings, files, _ = indexes
    old = MilvusStore(milvus, None, "where_old")
    old.drop()
    with monkeypatch.context() as m:
        m.setattr(milvus_schema, "add_fields", lambda schema, types: None)  # the layout before filter fields
        old.write_index(files)
    with caplog.at_level("WARNING"):
        index = old.load()
    notes = [r.getMessage() for r in caplog.records if "filter fields" in r.getMessage()]
    assert len(notes) == 1 and "\n" not in notes[0] and "quoteback build --store milvus --force" in notes[0]
    assert not index.store.applies_filters
    old.write_index(files, paths=["bread.md"])  # an incremental write into the old layout
    qa, qb = Answerer(files, embedder, settings), Answerer(old.load(), embedder, settings)
    for question, texts in ASKS[:4]:
        where = Filter.parse(texts)
        a, b = qa.ask(question, where=where).to_json()["quotes"], qb.ask(question, where=where).to_json()["quotes"]
        assert [(x["document"], x["start"], x["end"]) for x in a] == [(x["document"], x["start"], x["end"]) for x in b], texts
    old.drop()


def test_ask_through_store_milvus_with_where_and_a_filter_that_matches_nothing(tmp_path, milvus):
    """`quoteback ask --store milvus --where …` quotes what the files store quotes; a filter that
    matches nothing is one line, exit 2."""
    import json
    import shutil

    from typer.testing import CliRunner

    from quoteback.cli import app
    from tests.conftest import SEED
    from tests.index.test_milvus import GUIDE

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "bread.md").write_text(GUIDE, encoding="utf-8")
    (corpus / "bread.md.meta.json").write_text('{"tags": ["Baking"]}')
    runner, question = CliRunner(), "How long does the dough rise?"
    paths = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    through = ["--store", "milvus", "--uri", milvus, "--milvus-collection", "where_cli"]
    files = runner.invoke(app, ["ask", question, "--json", "--where", "tag=baking", *paths])
    stored = runner.invoke(app, ["ask", question, "--json", "--where", "tag=baking", *paths, *through])
    assert files.exit_code == 0 and stored.exit_code == 0, stored.output
    a, b = (json.loads(r.stdout.strip().splitlines()[-1])["quotes"] for r in (files, stored))
    assert a and [(x["document"], x["start"], x["end"]) for x in a] == [(x["document"], x["start"], x["end"]) for x in b]
    assert {x["document"] for x in b} == {"bread.md"}
    nothing = runner.invoke(app, ["ask", question, "--where", "section=no such heading", *paths, *through])
    assert nothing.exit_code == 2 and nothing.output.strip() == \
        "error: no passage matches --where section=no such heading; `quoteback info` lists the documents"
