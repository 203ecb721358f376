"""A loaded index: documents, passages and manifest, and the store that searches them.

Retrieval and answers address passages by id, their position in `Index.passages`; everything
that depends on where vectors and keywords live goes through the `Store` protocol, so the
embedded files (FAISS + bm25s, below) and a database (Milvus) answer the same way.
"""

from __future__ import annotations

import functools
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from ..documents import Document
from ..passages import Passage
from .dense import search
from .manifest import Manifest


class Keywords(Protocol):
    """BM25 and the idf statistics answers use; `index.lexical.Lexical` is the embedded one."""

    def scores(self, question: str) -> np.ndarray: ...  # raw BM25 of every passage, by passage id
    def ideal(self, question: str) -> float: ...
    def weights(self, question: str) -> dict[str, tuple[float, bool]]: ...
    def words(self, text: str) -> frozenset[str]: ...
    def coverage(self, question: str, passages: Sequence[Sequence[str]]) -> np.ndarray: ...
    def coverage_ceiling(self, question: str, ids: np.ndarray) -> np.ndarray: ...  # at least coverage, per passage
    def expansion(self, question: str, passages: Sequence[str], terms: int = 20) -> np.ndarray: ...


class Store(Protocol):
    """The search side of an index, by passage id."""

    lexical: Keywords

    @property
    def has_sentences(self) -> bool: ...

    def dense_search(self, vector: np.ndarray, depth: int) -> np.ndarray: ...  # passage ids, nearest first

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray: ...  # float32, one row per id

    def sentence_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...  # (rows of their sentences in order, counts)


@dataclass
class FileStore:
    """The embedded store: a FAISS index, vectors and bm25s files in the index folder.

    Memory-mapped vectors are read with pread, only the rows asked for: touching the map instead
    makes Linux map whole page-cache folios around each row into the process, and a few hundred
    questions then hold every sentence vector of a 1M-passage index in its RSS (2.4 GB).
    """

    dense: Any  # faiss.Index; ids are passage ids
    embeddings: np.ndarray  # float16 on disk (float32 in older indexes), memory-mapped: cast the rows you use
    lexical: Any  # index.lexical.Lexical
    sentence_matrix: np.ndarray | None = None  # rows in passage order, then sentence order
    sentence_offsets: np.ndarray | None = None  # passage i owns rows offsets[i]:offsets[i + 1]

    def __post_init__(self) -> None:
        self._files: dict[str, int] = {}  # opened now, while the version folder is there (a rebuild removes it)
        for name in ("embeddings", "sentence_matrix"):
            matrix = getattr(self, name)
            if isinstance(matrix, np.memmap) and hasattr(os, "preadv") and _whole_file(matrix):
                self._files[name] = os.open(matrix.filename, os.O_RDONLY)
                weakref.finalize(self, os.close, self._files[name])

    @property
    def has_sentences(self) -> bool:
        return self.sentence_matrix is not None

    def dense_search(self, vector: np.ndarray, depth: int) -> np.ndarray:
        found = search(self.dense, self.passage_vectors, np.asarray(vector, dtype=np.float32)[None, :], depth)[0]
        return found[found >= 0]

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        return self._rows("embeddings", ids, ids + 1)

    def sentence_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        starts, ends = self.sentence_offsets[ids], self.sentence_offsets[ids + 1]
        return self._rows("sentence_matrix", starts, ends), ends - starts

    def _rows(self, name: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Rows starts[i]:ends[i] of a matrix, one range after another, as float32; ranges that
        meet are read together (a document's passages are often candidates side by side)."""
        matrix = getattr(self, name)
        if name not in self._files:
            rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(starts) else np.zeros(0, dtype=np.int64)
            return _single(np.asarray(matrix[rows]))
        width = matrix.shape[1] * matrix.itemsize
        out = np.empty((int(np.sum(ends - starts)), matrix.shape[1]), dtype=matrix.dtype)
        view, at, file = memoryview(out).cast("B"), 0, self._files[name]
        for a, b in zip(*_runs(starts, ends)):
            os.preadv(file, [view[at : at + (b - a) * width]], matrix.offset + a * width)
            at += (b - a) * width
        return _single(out)


def _runs(starts: np.ndarray, ends: np.ndarray) -> tuple[list[int], list[int]]:
    """The ranges starts[i]:ends[i] with each one that begins where the previous ends joined to it."""
    if not len(starts):
        return [], []
    cuts = np.flatnonzero(starts[1:] != ends[:-1]) + 1
    return starts[np.concatenate(([0], cuts))].tolist(), ends[np.concatenate((cuts - 1, [len(ends) - 1]))].tolist()


@functools.cache
def _halves() -> np.ndarray:
    """Every float16 bit pattern's float32 value (256 kB)."""
    return np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)


def _single(rows: np.ndarray) -> np.ndarray:
    """`rows` as float32. numpy casts float16 without SIMD, ~2.5 ns a value (0.5 ms for a
    question's sentence rows); looking the values up in a table gives the same bits in half that."""
    if rows.dtype != np.float16:
        return rows.astype(np.float32)
    return np.take(_halves(), rows.view(np.uint16))


def _whole_file(matrix: np.memmap) -> bool:
    """The map is a whole .npy file's data, rows in order (not a view of part of it): rows can be read by offset."""
    return bool(matrix.filename) and matrix.flags.c_contiguous and matrix.offset + matrix.nbytes == os.path.getsize(matrix.filename)


@dataclass
class Index:
    """What retrieval and answers read: documents and passages in memory, vectors in the store."""

    folder: Path
    manifest: Manifest
    documents: dict[str, Document]
    passages: list[Passage]
    store: Store

    @property
    def model(self) -> str:
        return self.manifest.model.name

    @property
    def lexical(self) -> Keywords:
        return self.store.lexical

    def sentence_rows(self, passage_id: int) -> np.ndarray | None:
        """The vectors of one passage's sentences, in sentence order, as float32 (None without them)."""
        if not self.store.has_sentences:
            return None
        return self.store.sentence_vectors(np.array([passage_id]))[0]
