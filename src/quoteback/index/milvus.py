"""Milvus as the index store, for corpora that outgrow one machine (layout: `milvus_schema`).

`MilvusStore` writes documents, passages, vectors and BM25 statistics, replaces or deletes them
document by document, and `load()`s the `Index` the embedded files give, whose store searches
Milvus (dense ANN, vectors by id, BM25 full-text search). Quotes stay exact slices: every passage
is checked against its document on load. Milvus Lite keeps BM25 statistics per segment (counting
deleted rows) where bm25s and Milvus use the collection's, so Milvus's BM25 hits are re-scored
from their stored tokens with the collection-wide statistics kept at each write: scores equal
the embedded store's for every hit (`rescore=False`: Milvus's scores over k1 + 1, bm25s's scale).
A `--where` filter runs inside Milvus, as an expression over the passages' filter fields
(`milvus_filters`), in the dense and the BM25 search alike; a collection written before those
fields still loads and answers, its hits filtered after the search (one note says so).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..documents import Document
from .files import IndexCorrupt, IndexMissing
from .manifest import Manifest
from .store import Index
from .lexical import Lexical
from .milvus_schema import (  # noqa: F401  (collection_name: the per-corpus name, offered here too)
    DUMMY_DIM, SUFFIXES, TERM_LIMIT, TOPK, among, blob_rows, blobs, by_ids, collection_name, create, fits, passage_row, pymilvus, scan,
    terms, unpack)
from .milvus_filters import expression, has_fields
from .milvus_keywords import MilvusKeywords
from ..filters import Filter
from ..passages import Passage, embedding_text

BATCH = 256  # rows per insert
CACHE = 20_000  # passages whose vectors a loaded index keeps (about 10 kB each with sentences)
log = logging.getLogger(__name__)


class MilvusStore:
    """The collections of one corpus in one Milvus (a server URI; `token` for authentication)."""

    def __init__(self, uri: str, token: str | None = None, collection: str = "quoteback", *, candidates: int = 1000,
                 index_type: str = "flat", analyzer: dict[str, Any] | None = None, rescore: bool = True) -> None:
        self.client = pymilvus().MilvusClient(uri=uri, token=token or "")
        self.collection = collection
        self.candidates = candidates  # BM25 hits per question; other passages score 0
        self.index_type = index_type
        self.analyzer = analyzer or {"tokenizer": "standard"}  # splits the stored tokens as they were joined
        self.rescore = rescore
        self.lexical = Lexical()  # the tokenizer (bm25s + Snowball) the embedded store uses

    def _name(self, suffix: str) -> str:
        return self.collection + suffix

    def exists(self) -> bool:
        return self.client.has_collection(self.collection)

    def close(self) -> None:
        self.client.close()

    def _ensure(self, dim: int, bm25: dict[str, float] | None = None) -> None:
        create(self.client, self.collection, dim, self.analyzer, self.index_type, bm25 or {"k1": 0.9, "b": 0.4})

    def _insert(self, suffix: str, rows: list[dict[str, Any]]) -> None:
        for i in range(0, len(rows), BATCH):
            self.client.insert(self._name(suffix), rows[i : i + BATCH])

    # writing

    def write_documents(self, documents: Sequence[Document], passages: Sequence[Passage], embeddings: np.ndarray,
                        sentence_vectors: np.ndarray | None, search_texts: Sequence[str], bm25: dict[str, float] | None = None) -> None:
        """Insert (or replace) `documents` with their passages, passage vectors, sentence vectors
        (rows in passage order, then sentence order) and search texts; then refresh the BM25 statistics."""
        self._ensure(np.shape(embeddings)[1], bm25)
        self._delete([d.path for d in documents])
        by_path = {d.path: d for d in documents}
        for doc in documents:
            meta = {k: v for k, v in asdict(doc).items() if k != "text"}
            self._insert("_documents", blob_rows(doc.path, "text", doc.text) + blob_rows(doc.path, "meta", json.dumps(meta)))
        bounds = np.cumsum([0] + [len(p.sentences) for p in passages])
        filterable = has_fields(self.client, self.collection)  # a collection written before the filter fields keeps its layout
        for a in range(0, len(passages), 8 * BATCH):  # a batch at a time: vectors may be memory-mapped
            b = min(a + 8 * BATCH, len(passages))
            sentences = None if sentence_vectors is None else np.asarray(sentence_vectors[bounds[a] : bounds[b]], dtype=np.float32)
            self._insert("", [passage_row(passages[i], by_path[passages[i].document], embeddings[i], words, search_texts[i],
                                          None if sentences is None else sentences[bounds[i] - bounds[a] : bounds[i + 1] - bounds[a]],
                                          filterable)
                              for i, words in zip(range(a, b), terms(self.lexical, search_texts[a:b]))])
        self._refresh()

    def write_index(self, index: Index, paths: Iterable[str] | None = None) -> None:
        """Copy a loaded index (e.g. the embedded one) to Milvus: all of it, or only the documents
        `paths` (an incremental update: those are replaced, the rest stays); the manifest too."""
        paths = set(index.documents) if paths is None else set(paths)
        ids = np.array([i for i, p in enumerate(index.passages) if p.document in paths], dtype=np.int64)
        passages = [index.passages[i] for i in ids]
        documents = [index.documents[d] for d in sorted(paths) if d in index.documents]
        vectors = index.store.passage_vectors(ids) if len(ids) else np.zeros((0, index.manifest.model.dimension), np.float32)
        sentences = index.store.sentence_vectors(ids)[0] if index.store.has_sentences and len(ids) else None
        texts = [embedding_text(p, index.documents[p.document], bool(index.manifest.embed_title)) for p in passages]
        self._ensure(index.manifest.model.dimension, index.manifest.bm25)
        gone = [d for d in paths if d not in index.documents]
        if gone:
            self._delete(gone)
        self.write_documents(documents, passages, vectors, sentences, texts, index.manifest.bm25)
        self.write_manifest(index.manifest)

    def delete_documents(self, paths: Iterable[str]) -> None:
        """Delete every row of these documents (passages and their text), then refresh the statistics."""
        if self.exists():
            self._delete(list(paths))
            self._refresh()

    def _delete(self, paths: list[str]) -> None:
        for i in range(0, len(paths), 500):
            part = paths[i : i + 500]
            self.client.delete(self._name(""), filter=among("document", part))
            self.client.delete(self._name("_documents"), filter=among("name", part))

    def _refresh(self) -> None:
        """Recompute the document frequencies and lengths of BM25 from the stored tokens."""
        df: Counter[str] = Counter()
        n = length = 0
        for row in scan(self.client, self.collection, ["terms"]):
            words = row["terms"].split()
            n, length = n + 1, length + len(words)
            df.update(set(words))
        generation = time.time_ns()
        rows = [{"term": t, "df": f, "generation": generation, "dummy": [0.0] * DUMMY_DIM}
                for t, f in df.items() if fits(t, TERM_LIMIT)]
        for i in range(0, len(rows), 4 * BATCH):
            self.client.upsert(self._name("_terms"), rows[i : i + 4 * BATCH])
        self.client.delete(self._name("_terms"), filter=f"generation != {generation}")
        self._put("stats", {"passages": n, "length": length, "generation": generation})
        for suffix in SUFFIXES:  # Lite scores BM25 on unflushed rows with their own statistics, and slowly
            self.client.flush(self._name(suffix))

    def _put(self, name: str, value: dict[str, Any]) -> None:
        self.client.delete(self._name("_meta"), filter=among("name", [name]))
        self._insert("_meta", blob_rows(name, "json", json.dumps(value, ensure_ascii=False)))

    def _get(self, name: str) -> dict[str, Any] | None:
        if not self.client.has_collection(self._name("_meta")):
            return None
        self.client.load_collection(self._name("_meta"))  # a restarted milvus-lite server has released it
        rows = self.client.query(self._name("_meta"), filter=among("name", [name]), output_fields=["name", "kind", "seq", "content"])
        return json.loads(blobs(rows)[(name, "json")]) if rows else None

    def write_manifest(self, manifest: Manifest | dict[str, Any]) -> None:
        data = manifest.to_dict() if isinstance(manifest, Manifest) else dict(manifest)
        self._ensure(int(data["model"]["dimension"]), data.get("bm25"))
        self._put("manifest", data)
        self.client.flush(self._name("_meta"))

    def read_manifest(self) -> dict[str, Any] | None:
        return self._get("manifest")

    def drop(self) -> None:
        for suffix in SUFFIXES:
            if self.client.has_collection(self._name(suffix)):
                self.client.drop_collection(self._name(suffix))

    # reading

    def load(self, folder: Path | None = None) -> Index:
        """The index as retrieval and answers read it: documents and passages in memory (passage
        ids in document path, then start order), vectors and BM25 searched in Milvus."""
        raw = self.read_manifest()
        if raw is None:
            raise IndexMissing(f"no index in the Milvus collection {self.collection}; write one first")
        manifest = Manifest.from_dict(raw)
        for suffix in SUFFIXES:
            self.client.load_collection(self._name(suffix))
        found = blobs(scan(self.client, self._name("_documents"), ["name", "kind", "seq", "content"]))
        documents = {name: Document(text=text, **json.loads(found[(name, "meta")])) for (name, kind), text in sorted(found.items())
                     if kind == "text"}
        rows = sorted(scan(self.client, self.collection, ["id", "document", "start", "end", "text", "sentences"]),
                      key=lambda r: (r["document"], r["start"], r["end"]))
        passages = []
        for r in rows:
            doc = documents.get(r["document"])
            text = doc.text[r["start"] : r["end"]] if doc is not None else None
            if text is None or (r["text"] and r["text"] != text):
                raise IndexCorrupt(f"passage {r['document']}:{r['start']} in {self.collection} is not a slice of its document")
            passages.append(Passage(r["document"], r["start"], r["end"], text, [tuple(s) for s in r["sentences"]]))
        if manifest.passages != len(passages):
            raise IndexCorrupt(f"{self.collection} holds {len(passages)} passages, its manifest {manifest.passages}")
        keys = np.array([r["id"] for r in rows], dtype=np.int64)
        filters = has_fields(self.client, self.collection)
        if not filters:
            log.warning(f"note: the Milvus collection {self.collection} was written before filter fields: --where drops its BM25 "
                        "hits after the search there (keyword matches may be missed); `quoteback build --store milvus --force` rewrites it")
        return Index(folder or Path(self.collection), manifest, documents, passages, MilvusSearch(self, keys, manifest, documents, filters))


class MilvusSearch:
    """The `Store` of a loaded index: passage ids are positions, mapped to Milvus primary keys.
    `applies_filters`: its dense and BM25 searches take a `where`, which Milvus applies as a
    filter expression, so every hit is an allowed passage (False for a collection written before
    the filter fields: retrieval then filters the hits itself)."""

    def __init__(self, store: MilvusStore, keys: np.ndarray, manifest: Manifest, documents: dict[str, Document] | None = None,
                 filters: bool = False) -> None:
        self.store, self.client, self.keys = store, store.client, keys
        self.documents, self.applies_filters = documents or {}, filters
        self._expressions: dict[Filter, str] = {}
        self.ids = {int(k): i for i, k in enumerate(keys)}
        self._sentences = bool(manifest.sentence_vectors)
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self.lexical = MilvusKeywords(self, manifest.bm25 or {"k1": 0.9, "b": 0.4})

    @property
    def has_sentences(self) -> bool:
        return self._sentences

    def expression(self, where: Filter | None) -> str:
        """`where` as this collection's filter expression ("" for none), made once a filter."""
        if not where:
            return ""
        if not self.applies_filters:
            raise ValueError(f"the Milvus collection {self.store.collection} has no filter fields; rebuild it to filter inside Milvus")
        if where not in self._expressions:
            if len(self._expressions) >= 64:
                self._expressions.clear()
            self._expressions[where] = expression(where, self.documents)
        return self._expressions[where]

    def dense_search(self, vector: np.ndarray, depth: int, where: Filter | None = None) -> np.ndarray:
        """The `depth` passages nearest `vector`, among those `where` allows (Milvus filters them)."""
        params = {"metric_type": "IP", "params": {"ef": max(depth, 128), "nprobe": 64}}
        hits = self.client.search(self.store.collection, data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="vector",
                                  limit=min(depth, TOPK), search_params=params, output_fields=["id"],  # Lite sends every field without
                                  filter=self.expression(where))[0]
        return np.array([self.ids[h["id"]] for h in hits if h["id"] in self.ids], dtype=np.int64)

    def _fetch(self, ids: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(vector, sentence vectors) of each passage id: one query for those not cached. Retrieval
        asks for the same candidates' passage vectors, then their sentences; questions share passages."""
        keys = [int(k) for k in self.keys[np.asarray(ids, dtype=np.int64)]]
        with self._lock:
            found = {k: self._cache[k] for k in keys if k in self._cache}
        fields = ["id", "vector"] + (["sentence_vectors"] if self._sentences else [])
        for r in by_ids(self.client, self.store.collection, "id", [k for k in keys if k not in found], fields):
            vector = np.asarray(r["vector"], dtype=np.float32)
            found[r["id"]] = (vector, unpack(r["sentence_vectors"] if self._sentences else []).reshape(-1, len(vector)))
        with self._lock:  # the app answers from several threads
            self._cache.update(found)
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return [found[k] for k in keys]

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray:
        rows = [v for v, _ in self._fetch(ids)]
        return np.array(rows, dtype=np.float32).reshape(len(rows), -1)

    def sentence_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        blocks = [s for _, s in self._fetch(ids)]
        counts = np.array([len(b) for b in blocks], dtype=np.int64)
        return (np.concatenate(blocks) if blocks else np.zeros((0, 0), dtype=np.float32)), counts
