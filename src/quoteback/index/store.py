"""A loaded index: documents, passages and manifest, and the store that searches them.

Retrieval and answers address passages by id, their position in `Index.passages`; everything
that depends on where vectors and keywords live goes through the `Store` protocol, so the
embedded files (FAISS + bm25s, below) and a database (Milvus) answer the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from ..documents import Document
from ..passages import Passage
from .manifest import Manifest


class Keywords(Protocol):
    """BM25 and the idf statistics answers use; `index.lexical.Lexical` is the embedded one."""

    def scores(self, question: str) -> np.ndarray: ...  # raw BM25 of every passage, by passage id
    def ideal(self, question: str) -> float: ...
    def weights(self, question: str) -> dict[str, tuple[float, bool]]: ...
    def words(self, text: str) -> frozenset[str]: ...
    def coverage(self, question: str, passages: Sequence[Sequence[str]]) -> np.ndarray: ...
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
    """The embedded store: a FAISS index, memory-mapped vectors and bm25s files in the index folder."""

    dense: Any  # faiss.Index; ids are passage ids
    embeddings: np.ndarray  # float16 on disk (float32 in older indexes), memory-mapped: cast the rows you use
    lexical: Any  # index.lexical.Lexical
    sentence_matrix: np.ndarray | None = None  # rows in passage order, then sentence order
    sentence_offsets: np.ndarray | None = None  # passage i owns rows offsets[i]:offsets[i + 1]

    @property
    def has_sentences(self) -> bool:
        return self.sentence_matrix is not None

    def dense_search(self, vector: np.ndarray, depth: int) -> np.ndarray:
        _, found = self.dense.search(np.asarray(vector, dtype=np.float32)[None, :], depth)
        return found[0][found[0] >= 0]

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.embeddings[ids], dtype=np.float32)

    def sentence_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        starts, ends = self.sentence_offsets[ids], self.sentence_offsets[ids + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(ids) else np.zeros(0, dtype=np.int64)
        return np.asarray(self.sentence_matrix[rows], dtype=np.float32), ends - starts


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
