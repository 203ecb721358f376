import numpy as np

from quoteback.index import make_dense, recall_at


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(50, dim))
    x = centers[rng.integers(0, 50, n)] + rng.normal(0, 0.3, (n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_recall_at():
    assert recall_at(np.array([[1, 2, 3]]), np.array([[3, 2, 1]])) == 1.0
    assert recall_at(np.array([[1, 2, 9]]), np.array([[1, 2, 3]])) == 2 / 3


def test_flat_is_exact_and_ids_are_passage_ids():
    x = _vectors(500)
    dense = make_dense(x, "flat")
    scores, ids = dense.search(x[:5], 1)
    assert ids[:, 0].tolist() == [0, 1, 2, 3, 4] and np.allclose(scores[:, 0], 1, atol=1e-5)


def test_ivf_tunes_nprobe_to_reach_the_recall_target():
    import faiss

    x = _vectors(20_000)
    dense = make_dense(x, "ivf", target_recall=0.98)
    ivf = faiss.extract_index_ivf(dense.index)
    assert 1 <= ivf.nprobe <= ivf.nlist
    rng = np.random.default_rng(7)  # unseen questions near the data, as real ones are
    queries = x[rng.choice(len(x), 200)] + rng.normal(0, 0.15, (200, x.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(queries, 10)
    _, found = dense.search(queries, 10)
    assert recall_at(found, truth) >= 0.95  # unseen queries: close to the tuned target


def test_hnsw_option():
    x = _vectors(2_000)
    dense = make_dense(x, "hnsw")
    _, ids = dense.search(x[:20], 1)
    assert (ids[:, 0] == np.arange(20)).mean() >= 0.95


def test_ivf_reuses_the_previous_centroids_when_they_still_fit(tmp_path):
    import faiss

    x = _vectors(20_000)
    first = make_dense(x, "ivf")
    faiss.write_index(first, str(tmp_path / "dense.faiss"))
    previous = faiss.read_index(str(tmp_path / "dense.faiss"))  # as a rebuild finds it on disk
    grown = np.vstack([x, _vectors(2_000, seed=1)])
    second = make_dense(grown, "ivf", target_recall=0.98, trained=previous)
    old_ivf, new_ivf = faiss.extract_index_ivf(first.index), faiss.extract_index_ivf(second.index)
    assert new_ivf.nlist == old_ivf.nlist and second.ntotal == len(grown)
    assert np.array_equal(new_ivf.quantizer.reconstruct_n(0, new_ivf.nlist), old_ivf.quantizer.reconstruct_n(0, old_ivf.nlist))
    _, truth = make_dense(grown, "flat").search(grown[-200:], 10)
    _, found = second.search(grown[-200:], 10)
    assert recall_at(found, truth) >= 0.95  # the new passages are found through the old centroids
    # retrained when the corpus has outgrown them, or when there were none
    outgrown = make_dense(_vectors(100_000, seed=2), "ivf", trained=previous)
    assert faiss.extract_index_ivf(outgrown.index).nlist != old_ivf.nlist
    assert make_dense(grown, "ivf", trained=make_dense(x, "flat")).ntotal == len(grown)


def test_vectors_are_stored_as_float16_memory_mapped_and_read_as_float32(tmp_path):
    from quoteback.documents import Document
    from quoteback.index import DocumentEntry, Manifest, ModelInfo, load_index, write_index
    from quoteback.passages import Passage

    text = "One sentence here. Another one there. A third passage sentence."
    doc = Document("a.txt", "A", None, text, 0, "h")
    passages = [Passage("a.txt", 0, 37, text[:37], [(0, 18), (19, 37)]), Passage("a.txt", 38, len(text), text[38:], [(38, len(text))])]
    embeddings, sentences = _vectors(2, 384), _vectors(3, 384, seed=1)
    manifest = Manifest(ModelInfo("m", 384), chunker={}, passages=2, documents={"a.txt": DocumentEntry("h", "A", None, 2)},
                        bm25={"k1": 0.9, "b": 0.4}, sentence_vectors=True)
    folder = write_index(tmp_path / "index", manifest, [doc], passages, embeddings, sentences, [p.text for p in passages], "flat", 128)
    assert np.load(folder / "sentences.npy").dtype == np.float16 and np.load(folder / "embeddings.npy").dtype == np.float16
    assert (folder / "sentences.npy").stat().st_size < 3 * 384 * 4 * 0.6  # half of float32
    index = load_index(tmp_path / "index")
    assert isinstance(index.store.sentence_matrix, np.memmap) and isinstance(index.store.embeddings, np.memmap)
    rows = index.sentence_rows(0)
    assert rows.dtype == np.float32 and rows.shape == (2, 384) and np.abs(rows - sentences[:2]).max() < 1e-3
    assert index.sentence_rows(1).shape == (1, 384)
    query = sentences[2]
    assert abs(float(index.sentence_rows(1)[0] @ query) - 1.0) < 1e-3  # cosines barely move
    assert index.store.dense_search(embeddings[1], 1).tolist() == [1]
