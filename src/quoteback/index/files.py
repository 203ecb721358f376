"""The embedded index on disk: every part a plain file in a version folder (`v-<stamp>/`).

The `current` symlink names the live version and is swapped atomically, so readers never see a
half-written index, and an interrupted build leaves the previous one usable.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..documents import Document
from ..passages import Passage
from .dense import make_dense
from .lexical import Lexical
from .manifest import FORMAT_VERSION, Manifest
from .store import FileStore, Index

VECTOR_DTYPE = np.float16  # how passage and sentence vectors are stored (cosines change by < 1e-3); older float32 files still load
CURRENT = "current"
REBUILD_HINT = "run `quoteback build --force` to rebuild it"


class IndexError_(Exception):
    """Base for index problems; messages name the fix."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


def live_folder(index_dir: Path) -> Path | None:
    link = Path(index_dir) / CURRENT
    return link.resolve() if link.exists() else None


def read_manifest(index_dir: Path) -> Manifest | None:
    """The live manifest, None when there is no index; IndexCorrupt when it cannot be read."""
    folder = live_folder(index_dir)
    if folder is None:
        return None
    try:
        raw = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if isinstance(raw, dict) and raw.get("format_version") != FORMAT_VERSION:
            raise IndexMismatch(f"index format {raw.get('format_version')} is not {FORMAT_VERSION}; {REBUILD_HINT}")
        return Manifest.from_dict(raw)
    except (OSError, ValueError, AttributeError, TypeError, KeyError) as err:
        raise IndexCorrupt(f"the index manifest in {index_dir} is unreadable ({err}); {REBUILD_HINT}") from None


def write_index(
    index_dir: Path,
    manifest: Manifest,
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
    dense = make_dense(embeddings, index_type, ef_search, trained=trained)
    lexical = Lexical.build(search_texts or [""], **manifest.bm25)
    return write_store(index_dir, manifest, documents, passages, embeddings, sentence_vectors, dense, lexical)


def write_store(
    index_dir: Path,
    manifest: Manifest,
    documents: list[Document],
    passages: Sequence[Passage],
    embeddings: np.ndarray,
    sentence_vectors: np.ndarray | None,
    dense: Any,
    lexical: Lexical,
) -> Path:
    """`write_index` once the dense and BM25 indexes exist (the benchmark writes grown ones as they are)."""
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
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    lexical.save(tmp / "bm25")
    manifest.write(tmp)
    _fsync_tree(tmp)
    os.rename(tmp, folder)
    link_tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(folder.name, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)  # the atomic swap
    _remove_old_versions(index_dir, keep=folder)
    return folder


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


def load_index(index_dir: Path, mmap: bool = True, loaded: Callable[[str], None] | None = None) -> Index:
    """The live index, vectors memory-mapped unless `mmap` is False. `loaded`, when given, is called
    with each part's name once it is in memory (documents, passages, vectors, dense, lexical): the
    benchmark's memory breakdown."""
    import faiss

    loaded = loaded or (lambda part: None)

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
        loaded("documents")
        passages = []
        with open(folder / "passages.jsonl", encoding="utf-8") as rows:
            for line in rows:
                row = json.loads(line)
                passages.append(Passage(row["document"], row["start"], row["end"], row["text"], [tuple(s) for s in row["sentences"]]))
        loaded("passages")
        embeddings = np.load(folder / "embeddings.npy", mmap_mode="r" if mmap else None)
        sentence_vectors = np.load(folder / "sentences.npy", mmap_mode="r" if mmap else None) if manifest.sentence_vectors else None
        loaded("vectors")
        dense = faiss.read_index(str(folder / "dense.faiss"))
        loaded("dense")
        lexical = Lexical.load(folder / "bm25")
        loaded("lexical")
    except Exception as err:
        raise IndexCorrupt(f"index files in {folder} are damaged ({type(err).__name__}: {err}); {REBUILD_HINT}") from None
    n = len(passages)
    if dense.ntotal != n or embeddings.shape[0] != n or manifest.passages != n:
        raise IndexCorrupt(
            f"index files in {folder} disagree ({n} passages, {dense.ntotal} vectors, "
            f"{embeddings.shape[0]} embeddings); {REBUILD_HINT}"
        )
    if embeddings.ndim != 2 or (n and embeddings.shape[1] != manifest.model.dimension):
        raise IndexCorrupt(f"embeddings in {folder} do not match the manifest's dimension; {REBUILD_HINT}")
    offsets = np.concatenate([[0], np.cumsum([len(p.sentences) for p in passages])]).astype(np.int64)
    if sentence_vectors is not None and sentence_vectors.shape[0] != offsets[-1]:
        raise IndexCorrupt(f"sentence vectors in {folder} do not match the passages; {REBUILD_HINT}")
    store = FileStore(dense, embeddings, lexical, sentence_vectors, offsets)
    return Index(Path(index_dir), manifest, documents, passages, store)
