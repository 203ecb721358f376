"""Milvus as the index store, for corpora that outgrow one machine (layout: `milvus_schema`).

`MilvusStore` writes documents, passages, vectors and BM25 statistics, replaces or deletes them
document by document, and `load()`s the `Index` the embedded files give, whose store searches
Milvus (dense ANN, vectors by id, BM25 full-text search). Quotes stay exact slices: every passage
is checked against its document on load. Milvus Lite keeps BM25 statistics per segment (counting
deleted rows) where bm25s and Milvus use the collection's, so Milvus's BM25 hits are re-scored
from their stored tokens with the collection-wide statistics kept at each write: scores equal
the embedded store's for every hit (`rescore=False`: Milvus's scores over k1 + 1, bm25s's scale).
"""

from __future__ import annotations

import json
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
    DUMMY_DIM, SUFFIXES, TERM_LIMIT, among, blob_rows, blobs, by_ids, collection_name, create, fits, passage_row, pymilvus, scan, terms, unpack)
from ..passages import Passage, embedding_text

BATCH = 256  # rows per insert
TOPK = 16384  # Milvus's largest search limit
CACHE = 20_000  # passages whose vectors a loaded index keeps (about 10 kB each with sentences)


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
        for a in range(0, len(passages), 8 * BATCH):  # a batch at a time: vectors may be memory-mapped
            b = min(a + 8 * BATCH, len(passages))
            sentences = None if sentence_vectors is None else np.asarray(sentence_vectors[bounds[a] : bounds[b]], dtype=np.float32)
            self._insert("", [passage_row(passages[i], by_path[passages[i].document], embeddings[i], words, search_texts[i],
                                          None if sentences is None else sentences[bounds[i] - bounds[a] : bounds[i + 1] - bounds[a]])
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
        return Index(folder or Path(self.collection), manifest, documents, passages, MilvusSearch(self, keys, manifest))


class MilvusSearch:
    """The `Store` of a loaded index: passage ids are positions, mapped to Milvus primary keys."""

    def __init__(self, store: MilvusStore, keys: np.ndarray, manifest: Manifest) -> None:
        self.store, self.client, self.keys = store, store.client, keys
        self.ids = {int(k): i for i, k in enumerate(keys)}
        self._sentences = bool(manifest.sentence_vectors)
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self.lexical = MilvusKeywords(self, manifest.bm25 or {"k1": 0.9, "b": 0.4})

    @property
    def has_sentences(self) -> bool:
        return self._sentences

    def dense_search(self, vector: np.ndarray, depth: int) -> np.ndarray:
        params = {"metric_type": "IP", "params": {"ef": max(depth, 128), "nprobe": 64}}
        hits = self.client.search(self.store.collection, data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="vector",
                                  limit=min(depth, TOPK), search_params=params, output_fields=["id"])[0]  # Lite sends every field without
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


class MilvusKeywords:
    """The `Keywords` of a Milvus index: BM25 from Milvus full-text search, idf from the stored statistics."""

    def __init__(self, search: MilvusSearch, bm25: dict[str, float]) -> None:
        self.search, self.store = search, search.store
        self.k1, self.b = float(bm25["k1"]), float(bm25["b"])
        stats = self.store._get("stats") or {"passages": 0, "length": 0}
        self.n, self.avgdl = int(stats["passages"]), (stats["length"] / stats["passages"]) if stats["passages"] else 1.0
        self._df: dict[str, int] = {}
        self.tokens, self.words = self.store.lexical.tokens, self.store.lexical.words  # bm25s + Snowball, as embedded

    def df(self, tokens: Iterable[str]) -> dict[str, int]:
        """Document frequencies (0 for words no passage uses), fetched once per word."""
        tokens = set(tokens)
        missing = sorted(t for t in tokens if t not in self._df)
        self._df.update(dict.fromkeys(missing, 0))
        self._df.update({r["term"]: int(r["df"]) for r in by_ids(self.store.client, self.store._name("_terms"), "term", missing, ["term", "df"])})
        return {t: self._df[t] for t in tokens}

    def _idf(self, df: int) -> float:
        return float(np.log(1 + (self.n - df + 0.5) / (df + 0.5)))

    def _bm25(self, queries: list[list[str]]) -> list[np.ndarray]:
        """BM25 of every passage for each token list: Milvus's top hits, zeros elsewhere."""
        out = [np.zeros(len(self.search.keys), dtype=np.float32) for _ in queries]
        asked = [(i, q) for i, q in enumerate(queries) if q]
        if not asked or not self.n:
            return out
        fields = ["terms"] if self.store.rescore else ["id"]  # not none: Milvus Lite would send every field
        found = self.store.client.search(self.store.collection, data=[" ".join(q) for _, q in asked], anns_field="sparse",
                                         limit=min(self.store.candidates, TOPK), output_fields=fields,
                                         search_params={"metric_type": "BM25"})
        df = self.df(t for _, q in asked for t in q)
        for (i, q), hits in zip(asked, found):
            weights = {t: c * self._idf(df[t]) for t, c in Counter(q).items() if df[t]}
            for h in hits:
                pid = self.search.ids.get(h["id"])
                if pid is not None:
                    out[i][pid] = self._rescore(h["entity"]["terms"].split(), weights) if self.store.rescore else abs(h["distance"]) / (self.k1 + 1)
        return out

    def _rescore(self, words: list[str], weights: dict[str, float]) -> float:
        """BM25 as bm25s's "lucene" variant scores it: without Milvus's (k1 + 1) factor."""
        norm = self.k1 * (1 - self.b + self.b * len(words) / self.avgdl)
        return sum(w * tf / (tf + norm) for t, w in weights.items() if (tf := words.count(t)))

    def scores(self, question: str) -> np.ndarray:
        return self._bm25([self.tokens(question)])[0]

    def weights(self, question: str) -> dict[str, tuple[float, bool]]:
        return {t: (self._idf(f), f > 0) for t, f in self.df(self.tokens(question)).items()}

    def ideal(self, question: str) -> float:
        return sum(idf for idf, _ in self.weights(question).values())

    def expansion(self, question: str, passages: Sequence[str], terms: int = 20) -> np.ndarray:
        asked = set(self.tokens(question))
        tokens = [[t for t in self.tokens(text) if t not in asked] for text in passages]
        df = self.df(t for ts in tokens for t in ts)
        weight: Counter[str] = Counter()
        for ts in tokens:
            counts = Counter(t for t in ts if df[t])
            total = sum(counts.values()) or 1
            for token, count in counts.items():
                weight[token] += count / total * np.log(self.n / max(df[token], 1))
        chosen = [(t, w) for t, w in weight.most_common(terms) if w > 0]
        out = np.zeros(len(self.search.keys), dtype=np.float32)
        for (_, w), scores in zip(chosen, self._bm25([[t] for t, _ in chosen])):
            out += w * scores
        return out / out.max() if out.max() > 0 else out

    def coverage_ceiling(self, question: str, ids: np.ndarray) -> np.ndarray:
        return np.ones(len(ids))  # no bound short of the whole weight: every candidate's coverage is computed

    def coverage(self, question: str, passages: Sequence[Sequence[str]]) -> np.ndarray:
        idf = {t: self._idf(f) for t, f in self.df(self.tokens(question)).items() if f}
        total = sum(idf.values())
        out = np.zeros(len(passages), dtype=np.float32)
        if not total:
            return out
        asked = set(idf)
        for i, sentences in enumerate(passages):
            for sentence in sentences:
                out[i] = max(out[i], sum(idf[t] for t in asked & self.words(sentence)) / total)
        return out
