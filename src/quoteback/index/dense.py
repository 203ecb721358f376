"""FAISS, the dense half of search: exact inner product, or IVF / HNSW for large corpora."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Iterator

import numpy as np

# "ivf" keeps each vector as 8-bit codes (1 byte a dimension, a quarter of float32: 0.38 GB
# instead of 1.5 GB at 1M MiniLM passages); the candidates are then re-ranked by the stored
# float16 vectors, so the codes only have to find them. "ivf-flat" keeps float32 vectors in
# the lists (IVF indexes built before "ivf" meant codes are of this kind and still load).
IVF_TYPES = ("ivf", "ivf-flat")
RERANK = 2  # a quantised index fetches this many times the candidates asked for, re-ranked exactly


def make_dense(vectors: np.ndarray, index_type: str, ef_search: int = 128, target_recall: float = 0.99,
               trained: Any = None) -> Any:
    """Exact inner-product search, or an ANN index (IVF, HNSW) for large corpora; ids are passage ids.

    IVF's nprobe is tuned at build time: the smallest that reaches `target_recall`@10 against
    exact search on held-out perturbed passage vectors, searching as the store does (see
    `search`). `trained`, the previous version's dense index, lends its IVF centroids when
    their number still suits the corpus (see `reusable_quantizer`): k-means is most of an IVF
    build, and the nprobe tuning keeps the recall target either way.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if index_type in IVF_TYPES:
        ivf = _ivf(vectors, ivf_lists(n), trained, quantised=index_type == "ivf")
        dense = faiss.IndexIDMap(ivf)  # not IDMap2: its reverse map (~40 MB at 1M) serves reconstruct, unused
        if n:
            dense.add_with_ids(vectors, np.arange(n, dtype=np.int64))
        ivf.nprobe = tune_nprobe(dense, vectors, target_recall)
        return dense
    if index_type == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = 80
        inner.hnsw.efSearch = ef_search
    else:
        inner = faiss.IndexFlatIP(dim)
    dense = faiss.IndexIDMap2(inner)
    if n:
        dense.add_with_ids(vectors, np.arange(n, dtype=np.int64))
    return dense


def _ivf(vectors: np.ndarray, nlist: int, trained: Any, quantised: bool) -> Any:
    """An empty trained IVF index: the previous centroids when they fit, else k-means on a sample;
    8-bit codes (ranges trained on the residuals, cheap) or float32 lists."""
    import faiss

    n, dim = vectors.shape
    quantizer = reusable_quantizer(trained, dim, nlist)
    reused = quantizer is not None
    if not reused:
        quantizer = faiss.IndexFlatIP(dim)
    lists = quantizer.ntotal if reused else nlist
    if quantised:
        ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    else:
        ivf = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
    if quantised or not reused:  # with reused centroids, this trains the 8-bit ranges only
        rng = np.random.default_rng(0)
        ivf.train(vectors[rng.choice(n, size=min(n, lists * 40), replace=False)])
    return ivf


def ivf_lists(n: int) -> int:
    """IVF list count for n passages: about 4·sqrt(n), with the 39 points per centroid faiss wants."""
    return max(1, min(8192, int(4 * np.sqrt(max(n, 1))), n // 39))


def ivf_of(dense: Any) -> Any:
    """The IVF index inside `dense` (in an IDMap or IDMap2, or bare), else None."""
    import faiss

    try:
        return faiss.extract_index_ivf(dense)
    except RuntimeError:  # flat or HNSW
        return None


def reusable_quantizer(trained: Any, dim: int, nlist: int) -> Any:
    """A copy of the IVF centroids of `trained` when it has `dim` dimensions and between half and
    twice `nlist` lists; otherwise None (train afresh)."""
    import faiss

    old = ivf_of(trained) if trained is not None else None
    if old is None or old.d != dim or not (nlist / 2 <= old.nlist <= 2 * nlist):
        return None
    return faiss.clone_index(old.quantizer)


def search(dense: Any, rows: Callable[[np.ndarray], np.ndarray], queries: np.ndarray, k: int) -> np.ndarray:
    """Passage ids of the k nearest for each query (rows; -1 pads). An index of 8-bit codes
    fetches RERANK·k candidates and orders them by their stored vectors, `rows(ids)` (float32):
    the codes only have to find the neighbours."""
    queries = np.asarray(queries, dtype=np.float32)
    ivf = ivf_of(dense)
    with one_thread() if len(queries) == 1 else nullcontext():
        if ivf is None or ivf.code_size >= 4 * ivf.d:  # exact vectors in the index: its order is exact
            return dense.search(queries, k)[1]
        _, found = dense.search(queries, k * RERANK)
    out = np.full((len(queries), k), -1, dtype=np.int64)
    for row, (q, ids) in enumerate(zip(queries, found)):
        ids = np.sort(ids[ids >= 0])  # in file order
        best = ids[np.argsort(-(rows(ids) @ q), kind="stable")[:k]]
        out[row, : len(best)] = best
    return out


@contextmanager
def one_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread for the calling thread (the setting is per thread): one
    question's scan takes under a millisecond on one core, and waking and joining a team of
    threads costs more than it saves; far more when the cores are busy (10 ms instead of 0.6 ms
    at 10k passages on a loaded two-core machine, where the embedder's threads also spin)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def tune_nprobe(dense: Any, vectors: np.ndarray, target_recall: float, samples: int = 200) -> int:
    """The smallest power-of-two nprobe whose recall@10 against exact search reaches the target on
    pseudo-questions: passage vectors pushed far off by noise (cosine ~0.38 to their source).

    They are chosen to be harder than real questions where it matters: on 1M passages (real
    text, 300 SQuAD questions) the pseudo-question recall at nprobe 16/32/64 was 0.948/0.970/0.989
    against real questions' 0.972/0.993/0.998, so their nprobe for 0.99 (128) gives real recall
    1.0 at ~1 ms a search. The milder noise used before (cosine ~0.5, times four as a margin)
    was easier than real questions and tuned 16, real recall 0.971.
    """
    import faiss

    inner = ivf_of(dense)
    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(len(vectors), size=min(samples, len(vectors)), replace=False)]
    queries = queries + rng.normal(0, np.sqrt(6 / vectors.shape[1]), queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    nprobe = 1
    while nprobe < inner.nlist:
        inner.nprobe = nprobe
        if recall_at(search(dense, vectors.__getitem__, queries, 10), truth) >= target_recall:
            break
        nprobe *= 2
    return min(inner.nlist, nprobe)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top-k ids that an approximate search also returned."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))
