"""Stage 4: the index on disk: FAISS vectors, passage and document stores, BM25, a manifest.

Everything is a plain file in a version folder (`v-<stamp>/`); the `current` symlink names the
live one and is swapped atomically, so readers never see a half-written index.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .documents import Document
from .lexical import Lexical
from .passages import Passage

FORMAT_VERSION = 2  # 2: documents carry pages and headings
TEXT_VERSION = 5  # how documents are read, cut and contextualised: a change rebuilds indexes fully
VECTOR_DTYPE = np.float16  # how passage and sentence vectors are stored (cosines change by < 1e-3); older float32 files still load
CURRENT = "current"
REBUILD_HINT = "run `quoteback build --force` to rebuild it"
MANIFEST_KEYS = ("model", "chunker", "passages", "documents")  # what status, info and loading read


class IndexError_(Exception):
    """Base for index problems; messages name the fix."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


@dataclass
class Index:
    """A loaded index: what retrieval and answers read."""

    folder: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    embeddings: np.ndarray  # float16 on disk (float32 in indexes before), memory-mapped: cast the rows you use
    dense: Any  # faiss.Index
    lexical: Lexical
    sentence_vectors: np.ndarray | None = None  # rows in passage order, then sentence order; float16 like embeddings
    sentence_offsets: np.ndarray | None = None  # passage i owns rows offsets[i]:offsets[i + 1]

    @property
    def model(self) -> str:
        return self.manifest["model"]["name"]

    def sentence_rows(self, passage_id: int) -> np.ndarray | None:
        """The stored vectors of one passage's sentences, in sentence order, as float32 (None without them)."""
        if self.sentence_vectors is None:
            return None
        rows = self.sentence_vectors[self.sentence_offsets[passage_id] : self.sentence_offsets[passage_id + 1]]
        return np.asarray(rows, dtype=np.float32)


def live_folder(index_dir: Path) -> Path | None:
    link = Path(index_dir) / CURRENT
    return link.resolve() if link.exists() else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The live manifest, None when there is no index; IndexCorrupt when it cannot be read."""
    folder = live_folder(index_dir)
    if folder is None:
        return None
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatch(
                f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}; {REBUILD_HINT}"
            )
        missing = [k for k in MANIFEST_KEYS if k not in manifest] + [f"model.{k}" for k in ("name", "dimension") if "model" in manifest and k not in manifest["model"]]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return manifest
    except (OSError, ValueError, AttributeError, TypeError) as err:
        raise IndexCorrupt(f"the index manifest in {index_dir} is unreadable ({err}); {REBUILD_HINT}") from None


def make_dense(vectors: np.ndarray, index_type: str, ef_search: int = 128, target_recall: float = 0.99,
               trained: Any = None) -> Any:
    """Exact inner-product search, or an ANN index (IVF, HNSW) for large corpora; ids are passage ids.

    IVF's nprobe is tuned at build time: the smallest that reaches `target_recall`@10 against
    exact search on held-out perturbed passage vectors. `trained`, the previous version's dense
    index, lends its IVF centroids when their number still suits the corpus (see
    `reusable_quantizer`): k-means is most of an IVF build, and the nprobe tuning keeps the
    recall target either way.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if index_type == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = 80
        inner.hnsw.efSearch = ef_search
    elif index_type == "ivf":
        nlist = ivf_lists(n)
        quantizer = reusable_quantizer(trained, dim, nlist)
        if quantizer is not None:
            inner = faiss.IndexIVFFlat(quantizer, dim, quantizer.ntotal, faiss.METRIC_INNER_PRODUCT)
        else:
            inner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            inner.train(vectors[rng.choice(n, size=min(n, nlist * 40), replace=False)])
    else:
        inner = faiss.IndexFlatIP(dim)
    dense = faiss.IndexIDMap2(inner)
    if n:
        dense.add_with_ids(vectors, np.arange(n, dtype=np.int64))
    if index_type == "ivf":
        inner.nprobe = tune_nprobe(dense, vectors, target_recall)
    return dense


def ivf_lists(n: int) -> int:
    """IVF list count for n passages: about 4·sqrt(n), with the 39 points per centroid faiss wants."""
    return max(1, min(8192, int(4 * np.sqrt(max(n, 1))), n // 39))


def reusable_quantizer(trained: Any, dim: int, nlist: int) -> Any:
    """A copy of the IVF centroids of `trained` when it has `dim` dimensions and between half and
    twice `nlist` lists; otherwise None (train afresh)."""
    import faiss

    if trained is None:
        return None
    try:
        old = faiss.extract_index_ivf(trained.index if hasattr(trained, "id_map") else trained)
    except RuntimeError:  # not an IVF index (flat or HNSW before)
        return None
    if old.d != dim or not (nlist / 2 <= old.nlist <= 2 * nlist):
        return None
    return faiss.clone_index(old.quantizer)


def tune_nprobe(dense: Any, vectors: np.ndarray, target_recall: float, samples: int = 200) -> int:
    """The smallest power-of-two nprobe whose recall@10 against exact search reaches the target on
    pseudo-questions, times four as a margin (measured on real questions against 1M passages:
    the pseudo-question optimum 16 gave recall 0.981, 32 gave 0.993, at 0.7 ms a search)."""
    import faiss

    inner = faiss.extract_index_ivf(dense.index)
    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(len(vectors), size=min(samples, len(vectors)), replace=False)]
    # noise of norm ~1.7: cosine ~0.5 to the source passage, as far as a typical question is
    queries = queries + rng.normal(0, np.sqrt(3 / vectors.shape[1]), queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    nprobe = 1
    while nprobe < inner.nlist:
        inner.nprobe = nprobe
        _, found = dense.search(queries, 10)
        if recall_at(found, truth) >= target_recall:
            break
        nprobe *= 2
    return min(inner.nlist, nprobe * 4)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top-k ids that an approximate search also returned."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def write_index(
    index_dir: Path,
    manifest: dict[str, Any],
    documents: list[Document],
    passages: list[Passage],
    embeddings: np.ndarray,
    sentence_vectors: np.ndarray | None,
    search_texts: list[str],
    index_type: str,
    ef_search: int,
    trained: Any = None,
) -> Path:
    """Write a complete new version folder, then swap it in; returns the new folder. `trained` is
    the previous dense index, whose IVF centroids may be reused (see `make_dense`)."""
    import faiss

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    folder = index_dir / f"v-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir()
    with open(tmp / "documents.jsonl", "w", encoding="utf-8") as out:
        for doc in documents:
            out.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")
    with open(tmp / "passages.jsonl", "w", encoding="utf-8") as out:
        for i, p in enumerate(passages):
            row = {"id": i, "document": p.document, "start": p.start, "end": p.end, "text": p.text, "sentences": p.sentences}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    np.save(tmp / "embeddings.npy", embeddings.astype(VECTOR_DTYPE))
    if sentence_vectors is not None:
        np.save(tmp / "sentences.npy", sentence_vectors.astype(VECTOR_DTYPE))
    faiss.write_index(make_dense(embeddings, index_type, ef_search, trained=trained), str(tmp / "dense.faiss"))
    Lexical.build(search_texts or [""], **manifest["bm25"]).save(tmp / "bm25")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    _fsync_tree(tmp)
    os.rename(tmp, folder)
    link_tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(folder.name, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)  # the atomic swap
    _remove_old_versions(index_dir, keep=folder)
    return folder


def embedding_text(passage: Passage, document: Document, with_context: bool) -> str:
    """What gets embedded (and BM25-indexed): the passage, optionally after where it sits: the
    document title and the headings above it that the passage does not itself start with (a list
    item under "Label comment severity" is about comment severity)."""
    if not with_context:
        return passage.text
    path = [h for h in document.section_at(passage.start) if h != document.title and not passage.text.startswith(h)]
    context = " › ".join(x for x in (document.title, *path) if x)
    return f"{context}\n{passage.text}" if context else passage.text


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _remove_old_versions(index_dir: Path, keep: Path) -> None:
    """Old versions go after the swap; a version still open by a reader stays readable on POSIX."""
    for path in index_dir.glob("v-*"):
        if path.resolve() != keep.resolve():
            shutil.rmtree(path, ignore_errors=True)


def load_index(index_dir: Path, mmap: bool = True) -> Index:
    import faiss

    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissing(f"no index in {index_dir}; run `quoteback build` first")
    folder = live_folder(index_dir)
    try:
        documents = {}
        with open(folder / "documents.jsonl", encoding="utf-8") as rows:
            for line in rows:
                doc = Document(**json.loads(line))
                documents[doc.path] = doc
        passages = []
        with open(folder / "passages.jsonl", encoding="utf-8") as rows:
            for line in rows:
                row = json.loads(line)
                passages.append(Passage(row["document"], row["start"], row["end"], row["text"], [tuple(s) for s in row["sentences"]]))
        embeddings = np.load(folder / "embeddings.npy", mmap_mode="r" if mmap else None)
        dense = faiss.read_index(str(folder / "dense.faiss"))
        lexical = Lexical.load(folder / "bm25")
        sentence_vectors = np.load(folder / "sentences.npy", mmap_mode="r" if mmap else None) if manifest.get("sentence_vectors") else None
    except Exception as err:
        raise IndexCorrupt(f"index files in {folder} are damaged ({type(err).__name__}: {err}); {REBUILD_HINT}") from None
    n = len(passages)
    if dense.ntotal != n or embeddings.shape[0] != n or manifest.get("passages") != n:
        raise IndexCorrupt(
            f"index files in {folder} disagree ({n} passages, {dense.ntotal} vectors, "
            f"{embeddings.shape[0]} embeddings); {REBUILD_HINT}"
        )
    if embeddings.ndim != 2 or (n and embeddings.shape[1] != manifest["model"]["dimension"]):
        raise IndexCorrupt(f"embeddings in {folder} do not match the manifest's dimension; {REBUILD_HINT}")
    offsets = np.concatenate([[0], np.cumsum([len(p.sentences) for p in passages])]).astype(np.int64)
    if sentence_vectors is not None and sentence_vectors.shape[0] != offsets[-1]:
        raise IndexCorrupt(f"sentence vectors in {folder} do not match the passages; {REBUILD_HINT}")
    return Index(Path(index_dir), manifest, documents, passages, embeddings, dense, lexical, sentence_vectors, offsets)
