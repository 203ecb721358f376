"""The embedded index on disk: every part a plain file in a version folder (`v-<stamp>/`).

The `current` symlink names the live version and is swapped atomically, so readers never see a
half-written index, and an interrupted build leaves the previous one usable.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import shutil
import time
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, overload

import numpy as np

from ..documents import Document
from ..passages import Passage
from .dense import make_dense
from .lexical import Lexical
from .manifest import FORMAT_VERSION, Manifest
from .store import FileStore, Index

PASSAGE_OFFSETS = "passages.offsets.npy"
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
    offsets = np.zeros((2, len(passages) + 1), dtype=np.int64)  # see PassageFile
    with open(tmp / "passages.jsonl", "wb") as out:
        for i, p in enumerate(passages):
            row = {"id": i, "document": p.document, "start": p.start, "end": p.end, "text": p.text, "sentences": p.sentences}
            line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
            out.write(line)
            offsets[:, i + 1] = offsets[:, i] + (len(line), len(p.sentences))
    np.save(tmp / PASSAGE_OFFSETS, offsets)
    np.save(tmp / "embeddings.npy", np.asarray(embeddings, dtype=VECTOR_DTYPE))  # no copy when already float16
    if sentence_vectors is not None:
        np.save(tmp / "sentences.npy", np.asarray(sentence_vectors, dtype=VECTOR_DTYPE))
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
    """The live index. Unless `mmap` is False, nothing large is read into memory: searches read the
    vector rows and passages they need from the files (see FileStore, PassageFile), and the FAISS
    index is memory-mapped, read-only (adding to it aborts: builds make a new one). `loaded`, when
    given, is called with each part's name once it is in memory (the benchmark's memory breakdown)."""
    import faiss

    loaded = loaded or (lambda part: None)
    mapped = getattr(faiss, "IO_FLAG_MMAP_IFC", 0)  # older faiss has no such flag: read into memory
    if mmap:
        _reuse_freed_buffers()

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
        passages, offsets = _passages(folder, lazy=mmap)
        loaded("passages")
        embeddings = np.load(folder / "embeddings.npy", mmap_mode="r" if mmap else None)
        sentence_vectors = np.load(folder / "sentences.npy", mmap_mode="r" if mmap else None) if manifest.sentence_vectors else None
        loaded("vectors")
        dense = faiss.read_index(str(folder / "dense.faiss"), mapped if mmap else 0)
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
    if sentence_vectors is not None and sentence_vectors.shape[0] != offsets[-1]:
        raise IndexCorrupt(f"sentence vectors in {folder} do not match the passages; {REBUILD_HINT}")
    store = FileStore(dense, embeddings, lexical, sentence_vectors, offsets)
    return Index(Path(index_dir), manifest, documents, passages, store)


def _reuse_freed_buffers() -> None:
    """Let glibc's malloc keep freed blocks up to 32 MB for reuse, as it does by itself once a
    process has freed one that large. A question allocates several arrays of one score per
    passage (4 MB each at 1M passages: BM25, fusion); a lean process that never freed a big
    block gets fresh pages from the kernel for each, every question: 3,400 page faults, about
    15 ms of a 45 ms question at 1M passages. No-op without glibc."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: larger blocks only are mapped afresh
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD: free memory kept before returning it
    except (OSError, AttributeError):
        pass


class PassageFile(Sequence[Passage]):
    """The passages of a version folder, each parsed from its line of passages.jsonl when asked for.

    In memory: 8 bytes a passage of line offsets, and the passages asked for lately. As Python
    objects, passages cost ~1.4 kB each (text, spans as tuples of ints, the dataclass): 1.3 GB at
    1M passages, the largest part of answering at that size. Lines are read with pread, not a
    memory map, for the reason FileStore gives.
    """

    CACHED = 8192  # parsed passages kept: a question reads a few hundred

    def __init__(self, path: Path, lines: np.ndarray) -> None:
        self._file = os.open(path, os.O_RDONLY)  # stays readable when a rebuild removes the folder (POSIX)
        weakref.finalize(self, os.close, self._file)
        self._lines = lines
        self._cached = functools.lru_cache(maxsize=self.CACHED)(self._parse)

    def __len__(self) -> int:
        return len(self._lines) - 1

    @overload
    def __getitem__(self, i: int) -> Passage: ...

    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...

    def __getitem__(self, i: int | slice) -> Passage | list[Passage]:
        if isinstance(i, slice):
            return [self._cached(j) for j in range(*i.indices(len(self)))]
        i = operator.index(i)
        i = i + len(self) if i < 0 else i
        if not 0 <= i < len(self):
            raise IndexError(f"passage {i} of {len(self)}")
        return self._cached(i)

    def __iter__(self) -> Iterator[Passage]:
        return (self._parse(i) for i in range(len(self)))  # a full pass would only churn the cache

    def _parse(self, i: int) -> Passage:
        start, end = int(self._lines[i]), int(self._lines[i + 1])
        return _passage(os.pread(self._file, end - start, start))


def _passages(folder: Path, lazy: bool) -> tuple[Sequence[Passage], np.ndarray]:
    """The passages and where each one's sentence vectors start: read when asked for when `lazy`
    and the folder has their offsets, else all parsed now (indexes written before the offsets)."""
    path = folder / "passages.jsonl"
    if lazy and hasattr(os, "pread") and (folder / PASSAGE_OFFSETS).is_file():
        offsets = np.load(folder / PASSAGE_OFFSETS)
        if offsets.shape[0] == 2 and offsets.shape[1] > 1 and offsets[0, -1] == path.stat().st_size:
            return PassageFile(path, offsets[0]), offsets[1]
    with open(path, "rb") as rows:
        passages = [_passage(line) for line in rows]
    return passages, np.concatenate([[0], np.cumsum([len(p.sentences) for p in passages])]).astype(np.int64)


def _passage(line: bytes) -> Passage:
    row = json.loads(line)
    return Passage(row["document"], row["start"], row["end"], row["text"], [tuple(s) for s in row["sentences"]])
