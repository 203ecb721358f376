import numpy as np

from quoteback.index import make_dense, recall_at
from quoteback.index.dense import ivf_lists, ivf_of, search


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
    ivf = ivf_of(dense)
    assert 1 <= ivf.nprobe <= ivf.nlist
    rng = np.random.default_rng(7)  # unseen questions near the data, as real ones are
    queries = x[rng.choice(len(x), 200)] + rng.normal(0, 0.15, (200, x.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(queries, 10)
    assert recall_at(search(dense, x.__getitem__, queries, 10), truth) >= 0.95  # unseen queries: close to the tuned target


def test_ivf_codes_keep_the_recall_in_a_quarter_of_the_memory():
    """8-bit codes (the default IVF) against float32 lists: recall@10 against exact search on
    unseen questions with the tuned nprobe, re-ranked by the float16 vectors the index stores."""
    import faiss

    from quoteback.index import FileStore

    x = _vectors(5_000, 384)
    codes, flat = make_dense(x, "ivf"), make_dense(x, "ivf-flat")
    rng = np.random.default_rng(11)
    queries = x[rng.choice(len(x), 300)] + rng.normal(0, np.sqrt(3 / 384), (300, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    _, truth = make_dense(x, "flat").search(queries, 10)
    stored = x.astype(np.float16)  # as embeddings.npy holds them
    rows = lambda ids: stored[ids].astype(np.float32)  # noqa: E731
    found = search(codes, rows, queries, 10)
    assert recall_at(found, truth) >= 0.98
    assert recall_at(search(flat, rows, queries, 10), truth) >= 0.98
    assert len(faiss.serialize_index(codes)) < 0.3 * len(faiss.serialize_index(flat))
    store = FileStore(codes, stored, lexical=None)
    assert store.dense_search(queries[0], 10).tolist() == found[0].tolist()  # the store searches the same way
    cosines = stored[store.dense_search(queries[0], 50)].astype(np.float32) @ queries[0]
    assert np.all(np.diff(cosines) <= 1e-6)  # nearest first, by the stored vectors


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
    old_ivf, new_ivf = ivf_of(first), ivf_of(second)
    assert new_ivf.nlist == old_ivf.nlist and second.ntotal == len(grown)
    assert np.array_equal(new_ivf.quantizer.reconstruct_n(0, new_ivf.nlist), old_ivf.quantizer.reconstruct_n(0, old_ivf.nlist))
    _, truth = make_dense(grown, "flat").search(grown[-200:], 10)
    assert recall_at(search(second, grown.__getitem__, grown[-200:], 10), truth) >= 0.95  # the new passages are found through the old centroids
    # an IVF of float32 lists in an IDMap2, as earlier versions wrote it, lends its centroids too
    lists = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], ivf_lists(len(x)), faiss.METRIC_INNER_PRODUCT)
    lists.train(x)
    older = faiss.IndexIDMap2(lists)
    older.add_with_ids(x, np.arange(len(x)))
    assert ivf_of(make_dense(grown, "ivf", trained=older)).nlist == ivf_of(older).nlist
    # retrained when the corpus has outgrown them, or when there were none
    outgrown = make_dense(_vectors(100_000, seed=2), "ivf", trained=previous)
    assert ivf_of(outgrown).nlist != old_ivf.nlist
    assert make_dense(grown, "ivf", trained=make_dense(x, "flat")).ntotal == len(grown)


def _write(tmp_path):
    """A two-passage index (non-ASCII text: line offsets count bytes); its folder, passages and vectors."""
    from quoteback.documents import Document
    from quoteback.index import DocumentEntry, Manifest, ModelInfo, write_index
    from quoteback.passages import Passage

    text = "One séntence here. Another one there. A third passage sentence."
    doc = Document("a.txt", "A", None, text, 0, "h")
    passages = [Passage("a.txt", 0, 37, text[:37], [(0, 18), (19, 37)]), Passage("a.txt", 38, len(text), text[38:], [(38, len(text))])]
    embeddings, sentences = _vectors(2, 384), _vectors(3, 384, seed=1)
    manifest = Manifest(ModelInfo("m", 384), chunker={}, passages=2, documents={"a.txt": DocumentEntry("h", "A", None, 2)},
                        bm25={"k1": 0.9, "b": 0.4}, sentence_vectors=True)
    folder = write_index(tmp_path / "index", manifest, [doc], passages, embeddings, sentences, [p.text for p in passages], "flat", 128)
    return folder, passages, embeddings, sentences


def test_passages_are_read_from_their_file_when_asked_for(tmp_path):
    from quoteback.index import live_folder, load_index
    from quoteback.index.files import PASSAGE_OFFSETS, PassageFile

    folder, passages, _, _ = _write(tmp_path)
    index = load_index(tmp_path / "index")
    assert isinstance(index.passages, PassageFile) and len(index.passages) == 2
    assert list(index.passages) == passages and index.passages[-1] == passages[1] and index.passages[0:5] == passages
    assert index.passages[np.int64(1)].sentences == [(38, len(passages[1].text) + 38)]
    assert index.store.sentence_offsets.tolist() == [0, 2, 3]
    assert isinstance(load_index(tmp_path / "index", mmap=False).passages, list)  # everything in memory
    _write(tmp_path)  # a rebuild: the new version's swap removes the old folder ...
    assert not folder.exists() and index.passages[1] == passages[1]  # ... which stays readable
    assert np.abs(index.store.passage_vectors(np.array([1, 0])) - _vectors(2, 384)[[1, 0]]).max() < 1e-3
    folder = live_folder(tmp_path / "index")
    (folder / PASSAGE_OFFSETS).unlink()  # as indexes written before the offsets: parsed when loaded
    older = load_index(tmp_path / "index")
    assert older.passages == passages and older.store.sentence_offsets.tolist() == [0, 2, 3]


def test_vectors_are_stored_as_float16_memory_mapped_and_read_as_float32(tmp_path):
    from quoteback.index import load_index

    folder, _, embeddings, sentences = _write(tmp_path)
    assert np.load(folder / "sentences.npy").dtype == np.float16 and np.load(folder / "embeddings.npy").dtype == np.float16
    assert (folder / "sentences.npy").stat().st_size < 3 * 384 * 4 * 0.6  # half of float32
    index = load_index(tmp_path / "index")
    assert isinstance(index.store.sentence_matrix, np.memmap) and isinstance(index.store.embeddings, np.memmap)  # read with pread
    rows = index.sentence_rows(0)
    assert rows.dtype == np.float32 and rows.shape == (2, 384) and np.abs(rows - sentences[:2]).max() < 1e-3
    assert index.sentence_rows(1).shape == (1, 384)
    query = sentences[2]
    assert abs(float(index.sentence_rows(1)[0] @ query) - 1.0) < 1e-3  # cosines barely move
    assert index.store.dense_search(embeddings[1], 1).tolist() == [1]


def test_a_loaded_index_is_memory_mapped_searches_and_lends_its_centroids(tmp_path):
    from quoteback.documents import Document
    from quoteback.index import DocumentEntry, Manifest, ModelInfo, load_index, write_index
    from quoteback.passages import Passage

    x = _vectors(4_000, 384)
    doc = Document("a.txt", "A", None, "text " * 10, 0, "h")
    passages = [Passage("a.txt", 0, 4, "text", [(0, 4)])] * len(x)
    manifest = Manifest(ModelInfo("m", 384), chunker={}, passages=len(x), documents={"a.txt": DocumentEntry("h", "A", None, len(x))},
                        bm25={"k1": 0.9, "b": 0.4}, index_type="ivf")
    write_index(tmp_path / "index", manifest, [doc], passages, x, None, ["text"] * len(x), "ivf", 128)
    index = load_index(tmp_path / "index")
    assert index.store.dense_search(x[7], 1).tolist() == [7]
    rebuilt = make_dense(x, "ivf", trained=index.store.dense)  # as the next build does
    assert ivf_of(rebuilt).nlist == ivf_of(index.store.dense).nlist and rebuilt.ntotal == len(x)
    assert load_index(tmp_path / "index", mmap=False).store.dense_search(x[7], 1).tolist() == [7]
