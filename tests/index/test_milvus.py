"""The Milvus store against the embedded one: a real `milvus-lite server` on a loopback port, the
real model, a small real corpus built by the normal pipeline and copied to Milvus."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from tests.conftest import REPO, SEED, free_port  # noqa: E402
from quoteback.answer import Answerer  # noqa: E402
from quoteback.build import IndexBuilder  # noqa: E402
from quoteback.embeddings import Embedder  # noqa: E402
from quoteback.index import load_index  # noqa: E402
from quoteback.index.milvus_schema import CHUNK_CHARS  # noqa: E402
from quoteback.index.milvus import MilvusStore, collection_name  # noqa: E402
from quoteback.fusion import Fusion, configurations  # noqa: E402
from quoteback.retrieval import Retriever  # noqa: E402
from quoteback.settings import Settings  # noqa: E402

QUESTIONS = [
    "What is the Wagner Group?",
    "Why is the UN withdrawing its troops from Mali?",
    "When was MINUSMA established?",
    "How long does sourdough need to rise?",
    "What temperature should the oven be for bread?",
    "Which café in Zürich serves the lemon cake?",
]
GUIDE = """---
title: Baking bread at home
---
# Baking bread at home

## Sourdough

A sourdough starter is flour and water fermented by wild yeast. Feed it daily for a week before the first loaf.

The dough needs to rise for eight to twelve hours at room temperature, or overnight in a cool kitchen.

## Baking

Bake the loaf at 230 °C for the first twenty minutes with steam, then lower the oven to 210 °C.

Let the bread cool for an hour before cutting it: the crumb is still setting.
"""


def long_document() -> str:
    """More than one VARCHAR chunk of text, with characters of 2 to 4 UTF-8 bytes near the chunk edges."""
    cafes = ["Zürich", "Kraków", "São Paulo", "Reykjavík", "Tōkyō", "Ålesund"]
    paragraphs = [f"Café number {i} in {cafes[i % 6]} serves {'lemon' if i == 37 else 'plum'} cake 🍰 with coffee "
                  + ", ".join(f"opened in {1900 + i + j}, seats {10 + (i + j) % 40} guests on {(i + j) % 3 + 1} floors" for j in range(12))
                  + "." for i in range(40)]  # long sentences: few to embed
    text = "---\ntitle: Cafés of the world\n---\n" + "\n\n".join(paragraphs) + "\n"
    assert len(text) > CHUNK_CHARS
    return text


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    """`milvus-lite server` on 127.0.0.1 and a free port; stopped by its process id at the end."""
    from quoteback.bench.distributed import local_milvus

    with local_milvus(tmp_path_factory.mktemp("milvus")) as uri:
        yield uri


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(SEED, folder / SEED.name)
    (folder / "bread.md").write_text(GUIDE, encoding="utf-8")
    (folder / "cafes.md").write_text(long_document(), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The default runtime: a text's vector does not depend on the batch it is in, so an incremental
    build equals a fresh one to float16 precision, and what is compared is the store alone."""
    return Embedder()


def build(corpus: Path, index: Path, embedder, force: bool = False):
    settings = Settings(corpus=corpus, index=index)
    IndexBuilder(settings, embedder).build(force=force)
    return settings, load_index(index)


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder) -> Path:
    """A folder with the corpus and its embedded index."""
    root = tmp_path_factory.mktemp("built")
    build(make_corpus(root / "corpus"), root / "index", embedder)
    return root


@pytest.fixture(scope="module")
def pair(built, milvus, embedder):
    """(settings, embedded index, Milvus index) of the same corpus."""
    settings = Settings(corpus=built / "corpus", index=built / "index")
    embedded = load_index(settings.index)
    store = MilvusStore(milvus, None, collection_name(settings.corpus))
    store.drop()
    store.write_index(embedded)
    return settings, embedded, store.load()


def same_content(a, b) -> None:
    assert [(p.document, p.start, p.end, p.text, p.sentences) for p in a.passages] == \
           [(p.document, p.start, p.end, p.text, p.sentences) for p in b.passages]
    assert a.documents == b.documents
    for p in b.passages:
        assert b.documents[p.document].text[p.start : p.end] == p.text
    ids = np.arange(len(a.passages))
    np.testing.assert_allclose(a.store.passage_vectors(ids), b.store.passage_vectors(ids), atol=1e-3)
    (ra, ca), (rb, cb) = a.store.sentence_vectors(ids), b.store.sentence_vectors(ids)
    assert (ca == cb).all()
    np.testing.assert_allclose(ra, rb, atol=1e-3)


def same_answers(settings, embedder, a, b) -> None:
    named = configurations(Fusion.from_settings(settings))
    for mode in ("hybrid+sentences", "hybrid", "dense", "bm25"):
        ra, rb = Retriever(a, embedder, named[mode]), Retriever(b, embedder, named[mode])
        for q in QUESTIONS:
            ha, hb = ra.search(q, 5), rb.search(q, 5)
            assert ha[0].passage_id == hb[0].passage_id, (mode, q)
            assert [h.score for h in ha] == pytest.approx([h.score for h in hb], abs=1e-3)
    qa, qb = Answerer(a, embedder, settings), Answerer(b, embedder, settings)
    for q in QUESTIONS:
        ja, jb = qa.ask(q).to_json(), qb.ask(q).to_json()
        assert ja["outcome"] == jb["outcome"], q
        assert [(x["document"], x["start"], x["end"], x["text"], x["highlights"], x["pages"], x["section"]) for x in ja["quotes"]] == \
               [(x["document"], x["start"], x["end"], x["text"], x["highlights"], x["pages"], x["section"]) for x in jb["quotes"]], q
        for x in jb["quotes"]:
            assert b.documents[x["document"]].text[x["start"] : x["end"]] == x["text"]


def test_same_passages_documents_vectors_and_manifest(pair):
    _, embedded, milvus = pair
    same_content(embedded, milvus)
    assert milvus.manifest.to_dict() == embedded.manifest.to_dict()
    assert any(len(d.text) > CHUNK_CHARS for d in milvus.documents.values())  # stored in chunks, read back whole


def test_same_keyword_scores_and_statistics(pair):
    _, embedded, milvus = pair
    a, b = embedded.lexical, milvus.lexical
    for q in QUESTIONS + ["the of and", "xylophone quasar"]:
        np.testing.assert_allclose(a.scores(q), b.scores(q), rtol=1e-4, atol=1e-5)
        wa, wb = a.weights(q), b.weights(q)
        assert wa.keys() == wb.keys() and all(wa[t][1] == wb[t][1] and wa[t][0] == pytest.approx(wb[t][0]) for t in wa)
        assert a.ideal(q) == pytest.approx(b.ideal(q))
        sentences = [[p.text[x - p.start : y - p.start] for x, y in p.sentences] for p in embedded.passages[:20]]
        np.testing.assert_allclose(a.coverage(q, sentences), b.coverage(q, sentences), atol=1e-6)
        texts = [p.text for p in embedded.passages[:2]]
        np.testing.assert_allclose(a.expansion(q, texts), b.expansion(q, texts), atol=1e-4)
    assert b.words("Bakers baked breads") == a.words("Bakers baked breads")


def test_same_first_passages_and_answers(pair, embedder):
    settings, embedded, milvus = pair
    same_answers(settings, embedder, embedded, milvus)


def test_milvus_scores_without_rescoring_match_on_one_segment(pair, milvus):
    settings, embedded, _ = pair
    raw = MilvusStore(milvus, None, collection_name(settings.corpus), rescore=False).load()
    for q in QUESTIONS:
        np.testing.assert_allclose(embedded.lexical.scores(q), raw.lexical.scores(q), rtol=1e-4, atol=1e-5)


def test_document_replaced_and_deleted_matches_a_fresh_build(tmp_path, built, milvus, embedder):
    corpus = shutil.copytree(built / "corpus", tmp_path / "corpus")
    shutil.copytree(built / "index", tmp_path / "index", symlinks=True)
    before = load_index(tmp_path / "index")
    store = MilvusStore(milvus, None, collection_name(corpus))
    store.drop()
    store.write_index(before)
    guide = corpus / "bread.md"
    guide.write_text(GUIDE.replace("eight to twelve hours", "four to six hours") + "\n## Storing\n\nKeep bread in a linen bag.\n")
    settings, incremental = build(corpus, tmp_path / "index", embedder)
    store.write_index(incremental, paths=["bread.md"])  # delete + insert of one document
    _, fresh = build(corpus, tmp_path / "fresh", embedder, force=True)
    changed = store.load()
    same_content(fresh, changed)
    assert "four to six hours" in changed.documents["bread.md"].text
    same_answers(settings, embedder, fresh, changed)
    for q in QUESTIONS:  # rescored with the collection's statistics: deleted rows and new segments do not shift BM25
        np.testing.assert_allclose(fresh.lexical.scores(q), changed.lexical.scores(q), rtol=1e-4, atol=1e-5)

    (corpus / "cafes.md").unlink()
    settings, smaller = build(corpus, tmp_path / "fresh", embedder, force=True)
    store.delete_documents(["cafes.md"])
    store.write_manifest(smaller.manifest)
    shrunk = store.load()
    assert "cafes.md" not in shrunk.documents
    same_content(smaller, shrunk)
    for q in QUESTIONS:
        np.testing.assert_allclose(smaller.lexical.scores(q), shrunk.lexical.scores(q), rtol=1e-4, atol=1e-5)
    store.drop()
    assert store.read_manifest() is None


def test_collection_names_are_safe_and_per_path(tmp_path):
    a, b = collection_name(tmp_path / "my corpus-1"), collection_name(tmp_path / "other" / "my corpus-1")
    assert a.startswith("qb_my_corpus_1_") and a != b and a == collection_name(tmp_path / "my corpus-1")
    assert all(c.isalnum() or c == "_" for c in a) and len(a) < 200


def test_missing_pymilvus_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(ImportError, match=r"pip install 'quoteback\[milvus\]'"):
        MilvusStore("http://127.0.0.1:1", None, "x")


def test_retrieval_does_not_import_pymilvus():
    code = ("import sys, quoteback.index, quoteback.retrieval, quoteback.answer, quoteback.index.milvus; "
            "assert 'pymilvus' not in sys.modules, 'pymilvus imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"})


def test_build_and_ask_with_store_milvus(tmp_path, milvus, embedder):
    """`quoteback build --store milvus`: the builder writes into Milvus document by document, the
    answer comes from Milvus, and an update touches only the changed documents."""
    from quoteback.index.backends import open_backend
    from quoteback.pipeline import open_answerer
    from quoteback.status import index_status

    corpus = make_corpus(tmp_path / "corpus")
    settings = Settings(corpus=corpus, index=tmp_path / "index", store="milvus", uri=milvus,
                        milvus_collection="build_test")
    first = IndexBuilder(settings, embedder).build()
    assert (first.added, first.wrote) == (3, True) and not index_status(settings).stale
    assert not (tmp_path / "index" / "current").exists()  # nothing of the index is written locally
    answer = open_answerer(settings, build=False, embedder=embedder).answerer.ask("When was MINUSMA established?")
    assert answer.answered and answer.quotes[0].document == SEED.name
    assert all(SEED.read_text(encoding="utf-8")[q.start : q.end] == q.text for q in answer.quotes)

    (corpus / "bread.md").write_text(GUIDE.replace("eight to twelve hours", "ten hours"), encoding="utf-8")
    (corpus / "cafes.md").unlink()
    assert index_status(settings).stale
    second = IndexBuilder(settings, embedder).build()
    _, fresh = build(corpus, tmp_path / "fresh", embedder)
    bread = [p for p in fresh.passages if p.document == "bread.md"]
    assert (second.unchanged, second.changed, second.removed) == (1, 1, 1)
    assert second.embedded_passages == len(bread) and second.passages == len(fresh.passages)
    stored = open_backend(settings).load()
    assert [(p.document, p.start, p.end, p.text) for p in stored.passages] == \
        [(p.document, p.start, p.end, p.text) for p in fresh.passages]
    ids = np.arange(len(fresh.passages))
    np.testing.assert_allclose(stored.store.passage_vectors(ids), fresh.store.passage_vectors(ids), atol=1e-3)
    assert not index_status(settings).stale
    assert IndexBuilder(settings, embedder).build().wrote is False  # up to date: nothing written


def test_two_collections_through_milvus_give_the_files_stores_quotes(tmp_path, milvus, embedder):
    """`--corpus seed=… --corpus bread=… --store milvus`: one Milvus collection each, named from
    the collection; searched together they quote what the embedded stores quote."""
    from quoteback.collections import CollectionsAnswerer, collections_of
    from quoteback.index.backends import open_backend
    from quoteback.settings import Collections

    (tmp_path / "seed").mkdir()
    shutil.copy(SEED, tmp_path / "seed" / SEED.name)
    (tmp_path / "bread").mkdir()
    (tmp_path / "bread" / "bread.md").write_text(GUIDE, encoding="utf-8")
    files = Settings(index=tmp_path / "index", collections=Collections.parse({"seed": tmp_path / "seed", "bread": tmp_path / "bread"}))
    stores = {}
    for settings in (files, files.replace(store="milvus", uri=milvus)):
        answerers = {}
        for c in collections_of(settings):
            IndexBuilder(c.settings, embedder).build(force=True)
            answerers[c.name] = Answerer(open_backend(c.settings).load(), embedder, c.settings)
        stores[settings.store] = CollectionsAnswerer(answerers)
    names = [open_backend(c.settings).collection for c in collections_of(files.replace(store="milvus", uri=milvus))]
    assert len(set(names)) == 2 and names[0].startswith("qb_seed_") and names[1].startswith("qb_bread_")
    for q in QUESTIONS:
        a, b = stores["files"].ask(q).to_json(), stores["milvus"].ask(q).to_json()
        assert a["outcome"] == b["outcome"], q
        keys = ("collection", "document", "start", "end", "text", "highlights", "section")
        assert [tuple(x[k] for k in keys) for x in a["quotes"]] == [tuple(x[k] for k in keys) for x in b["quotes"]], q
        assert [x["score"] for x in a["quotes"]] == pytest.approx([x["score"] for x in b["quotes"]], abs=1e-3)
    bread = stores["milvus"].ask("How long does sourdough need to rise?").to_json()["quotes"][0]
    assert (bread["collection"], bread["document"]) == ("bread", "bread.md")
