"""Benchmark building blocks (the benchmark itself is run by hand: `quoteback bench`)."""

import numpy as np

from quoteback.answer import Answerer
from quoteback.bench.scale import ivf_rebuild, latencies_ms, scaled_index
from quoteback.index import recall_at
from tests.conftest import SEED

SEED_TEXT = SEED.read_text(encoding="utf-8")


def test_scaled_index_grows_and_still_answers(seed_ready, embedder):
    base = seed_ready.answerer.index
    grown = scaled_index(base, 3000, "ivf")
    store = grown.store
    assert len(grown.passages) == store.dense.ntotal == store.embeddings.shape[0] == 3000
    assert store.sentence_offsets[-1] == store.sentence_matrix.shape[0]
    norms = np.linalg.norm(store.embeddings, axis=1)
    assert np.allclose(norms, 1, atol=1e-4)
    assert np.allclose(store.embeddings[: len(base.passages)], base.store.embeddings)  # the real vectors are kept
    answerer = Answerer(grown, embedder, seed_ready.answerer.settings)
    answer = answerer.ask("What is MINUSMA?")
    assert answer.answered and "known as MINUSMA" in answer.quotes[0].text
    assert all(SEED_TEXT[q.start : q.end] == q.text for q in answer.quotes)
    times = latencies_ms(answerer, ["What is MINUSMA?", "What is the Wagner Group?"], warmup=1)
    assert len(times) == 2 and all(t > 0 for t in times)
    vectors = embedder.encode(["What is MINUSMA?"])
    _, exact = store.dense.search(vectors, 10)
    assert recall_at(exact, exact) == 1.0
    rebuilt = ivf_rebuild(grown, embedder.encode(["What is MINUSMA?", "Who are Wagner?"]))
    assert {"ivf_build_s", "ivf_rebuild_reusing_centroids_s"} <= set(rebuilt)
    assert rebuilt["ivf_rebuild_recall_at_10"] >= 0.9 and min(rebuilt["ivf_rebuild_nprobe"].values()) >= 1


def test_answering_memory_is_measured_from_the_written_index(seed_ready, tmp_path):
    from quoteback.bench.scale import answer_memory
    from quoteback.index.files import write_store

    grown = scaled_index(seed_ready.answerer.index, 3000, "ivf")
    store = grown.store
    write_store(tmp_path / "index", grown.manifest, list(grown.documents.values()), grown.passages, store.embeddings,
                store.sentence_matrix, store.dense, store.lexical)
    out = answer_memory(tmp_path / "index", ["What is MINUSMA?", "Who are Wagner?"])
    parts = out["answer_memory_mb"]
    assert out["answer_rss_mb"] > 0 and out["answer_query_ms_p50"] > 0
    assert {"model", "documents", "passages", "vectors", "dense", "lexical", "questions"} <= set(parts)
    assert set(parts["mapped_resident"]) <= set(out["index_files_mb"]) and "sentences.npy" in parts["mapped_resident"]
    assert out["answer_passage_bytes"] < 100  # passages are read from their file when asked for
