"""The Milvus layout of an index: collection names, schemas, primary keys, filters, text chunks.

One corpus is four collections named after a base name `<c>`:

- `<c>`            one row a passage: document, start/end, text, sentence spans, pages, section,
                   the fields `--where` filters on (`milvus_filters`: document path, name, type,
                   date, tags, section path, first and last page; absent in older collections),
                   `terms` (the passage's search text as the stemmed BM25 tokens `Lexical` uses,
                   analysed by Milvus and fed to a BM25 Function), its vector, the BM25 sparse
                   vector, and its sentences' vectors (float16, base64, one array element each:
                   a passage's sentences come with its vector in one query; measured 4x cheaper
                   than one row a sentence in a collection of their own)
- `<c>_documents`  document text and document metadata (JSON), in chunks under VARCHAR's limit
- `<c>_meta`       the manifest and the BM25 statistics (passage count, total length), as JSON
- `<c>_terms`      one row a BM25 term: its document frequency (idf for answers and re-scoring)

Milvus Lite's analysers know only the `standard` and `jieba` tokenizers (no stemmer, no
`english`), so the stemming happens here and Milvus sees already-stemmed, space-separated tokens:
its BM25 then scores exactly the tokens bm25s does.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .milvus_filters import add_fields, among, values

VARCHAR_LIMIT = 65535  # bytes
CHUNK_CHARS = VARCHAR_LIMIT // 4  # characters per text chunk: at most 4 UTF-8 bytes each
IDS = 4096  # keys per query filter (Milvus returns at most 16,384 rows a query)
TOPK = 16384  # Milvus's largest search limit
PATH_LIMIT = 4096
TERM_LIMIT = 1024
DUMMY_DIM = 2  # every collection needs a vector field; the blob and term collections carry a dummy
SUFFIXES = ("", "_documents", "_meta", "_terms")
MAX_SENTENCES = 4096  # Milvus's largest array capacity


def pymilvus() -> Any:
    # gRPC's C core prints keepalive chatter ("too_many_pings") to stderr on long builds;
    # pymilvus raises real errors itself, so the core's own log stays quiet unless asked for.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        import pymilvus as module
    except ImportError:
        raise ImportError("the Milvus store needs pymilvus: pip install 'quoteback[milvus]'") from None
    return module


class _NoMvccWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:  # Milvus Lite gives iterators no timestamp: harmless
        return "mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_NoMvccWarning())


def collection_name(corpus_path: Path | str) -> str:
    """A safe collection base name for a corpus folder: its name, then a hash of its absolute path."""
    path = Path(corpus_path).expanduser().resolve()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", path.name).strip("_")[:40] or "corpus"
    return f"qb_{slug}_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}"


def key(*parts: Any) -> int:
    """A stable 63-bit primary key for the parts (a passage: document, start, end, search text)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def fits(text: str, limit: int = VARCHAR_LIMIT) -> bool:
    return len(text) * 4 <= limit or len(text.encode("utf-8", "surrogatepass")) <= limit


def clip_tokens(tokens: list[str], limit: int = VARCHAR_LIMIT) -> str:
    """Tokens joined by spaces, cut at a token boundary to fit a VARCHAR (only very long passages)."""
    text = " ".join(tokens)
    while not fits(text, limit):
        tokens = tokens[: len(tokens) * 9 // 10]
        text = " ".join(tokens)
    return text


def chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]


def create(client: Any, base: str, dim: int, analyzer: dict[str, Any], index_type: str, bm25: dict[str, float]) -> None:
    """Create the collections that do not exist yet, with their indexes."""
    m = pymilvus()
    DataType, Function, FunctionType = m.DataType, m.Function, m.FunctionType
    for suffix in SUFFIXES:
        name = base + suffix
        if client.has_collection(name):
            continue
        s = client.create_schema(auto_id=False, enable_dynamic_field=False)
        params = client.prepare_index_params()
        if suffix == "":
            s.add_field("id", DataType.INT64, is_primary=True)
            s.add_field("document", DataType.VARCHAR, max_length=PATH_LIMIT)
            s.add_field("start", DataType.INT64)
            s.add_field("end", DataType.INT64)
            s.add_field("text", DataType.VARCHAR, max_length=VARCHAR_LIMIT)  # "" when over the limit: the slice stands in
            s.add_field("sentences", DataType.JSON)  # [[start, end], ...] absolute offsets
            s.add_field("pages", DataType.JSON)  # pages the passage touches; [] without pages
            s.add_field("section", DataType.VARCHAR, max_length=PATH_LIMIT)  # "" without headings
            add_fields(s, DataType)  # what `--where` reads (milvus_filters)
            s.add_field("terms", DataType.VARCHAR, max_length=VARCHAR_LIMIT, enable_analyzer=True, analyzer_params=analyzer)
            s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            s.add_field("sentence_vectors", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_SENTENCES,
                        max_length=packed_length(dim))
            s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            s.add_function(Function(name=f"{base}_bm25", function_type=FunctionType.BM25,
                                    input_field_names=["terms"], output_field_names=["sparse"]))
            params.add_index(field_name="vector", **dense_index(index_type))
            # nested "params": Milvus Lite reads only that key (pymilvus 3 flattens a plain params
            # dict, and Lite then scores with its defaults k1 = 1.5, b = 0.75); Milvus reads both
            params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                             params={"params": {"bm25_k1": bm25["k1"], "bm25_b": bm25["b"]}})
        elif suffix == "_terms":
            s.add_field("term", DataType.VARCHAR, max_length=TERM_LIMIT, is_primary=True)
            s.add_field("df", DataType.INT64)
            s.add_field("generation", DataType.INT64)
            s.add_field("dummy", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
            params.add_index(field_name="dummy", index_type="FLAT", metric_type="L2")
        else:  # _documents, _meta: named JSON or text in chunks
            s.add_field("id", DataType.INT64, is_primary=True)
            s.add_field("name", DataType.VARCHAR, max_length=PATH_LIMIT)  # a document path, or "manifest" / "stats"
            s.add_field("kind", DataType.VARCHAR, max_length=16)  # text | meta | json
            s.add_field("seq", DataType.INT64)
            s.add_field("content", DataType.VARCHAR, max_length=VARCHAR_LIMIT)
            s.add_field("dummy", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
            params.add_index(field_name="dummy", index_type="FLAT", metric_type="L2")
        client.create_collection(name, schema=s, index_params=params, consistency_level="Strong")


def packed_length(dim: int) -> int:
    return 4 * ((2 * dim + 2) // 3)  # base64 of dim float16 values


def pack(vectors: np.ndarray) -> list[str]:
    return [base64.b64encode(v.tobytes()).decode("ascii") for v in np.asarray(vectors, dtype="<f2")]


def unpack(packed: list[str]) -> np.ndarray:
    return np.frombuffer(b"".join(base64.b64decode(p) for p in packed), dtype="<f2").astype(np.float32)


def dense_index(index_type: str) -> dict[str, Any]:
    """Milvus index parameters for the manifest's index types (flat is exact, as in FAISS)."""
    if index_type == "hnsw":
        return {"index_type": "HNSW", "metric_type": "IP", "params": {"M": 32, "efConstruction": 80}}
    if index_type == "ivf":
        return {"index_type": "IVF_FLAT", "metric_type": "IP", "params": {"nlist": 1024}}
    return {"index_type": "FLAT", "metric_type": "IP"}


def blob_rows(name: str, kind: str, text: str) -> list[dict[str, Any]]:
    return [{"id": key(name, kind, i), "name": name, "kind": kind, "seq": i, "content": part, "dummy": [0.0] * DUMMY_DIM}
            for i, part in enumerate(chunks(text))]


def blobs(rows: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(name, kind) -> the text its chunks spell."""
    parts: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for r in rows:
        parts.setdefault((r["name"], r["kind"]), []).append((int(r["seq"]), r["content"]))
    return {k: "".join(c for _, c in sorted(v)) for k, v in parts.items()}


def terms(lexical: Any, texts: Sequence[str]) -> list[list[str]]:
    """The BM25 tokens of each text, as `Lexical` makes them (bm25s: English stop words, Snowball)."""
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=lexical._stem, return_ids=False, show_progress=False) if texts else []


def passage_row(p: Any, doc: Any, vector: np.ndarray, words: list[str], search_text: str, sentences: np.ndarray | None,
                filterable: bool = True) -> dict[str, Any]:
    """A passage's row; its key hashes what was embedded, so a changed title or heading makes a new row.
    `filterable`: with the filter fields (a collection written before them keeps its layout)."""
    if len(p.sentences) > MAX_SENTENCES:
        raise ValueError(f"a passage of {p.document} has {len(p.sentences)} sentences; Milvus stores at most {MAX_SENTENCES}")
    section = doc.section_label(p.start) or ""
    return {"id": key(p.document, p.start, p.end, search_text), "document": p.document, "start": p.start, "end": p.end,
            "text": p.text if fits(p.text) else "", "sentences": [list(x) for x in p.sentences],
            "pages": doc.pages_of(p.start, p.end), "section": section[:1000],
            "terms": clip_tokens(words), "vector": np.asarray(vector, dtype=np.float32).tolist(),
            "sentence_vectors": [] if sentences is None else pack(sentences), **(values(p, doc, section) if filterable else {})}


def scan(client: Any, name: str, fields: list[str]) -> list[dict[str, Any]]:
    """Every row of a collection, page by page (a query returns at most 16,384 rows)."""
    it = client.query_iterator(name, batch_size=1000, filter="", output_fields=fields)
    out: list[dict[str, Any]] = []
    try:
        while page := it.next():
            out.extend(page)
    finally:
        it.close()
    return out


def by_ids(client: Any, name: str, field: str, ids: Iterable[Any], fields: list[str]) -> list[dict[str, Any]]:
    """The rows whose `field` is one of `ids` (keys or strings), in batches."""
    ids = list(dict.fromkeys(ids))
    return [r for i in range(0, len(ids), IDS) for r in client.query(name, filter=among(field, ids[i : i + IDS]), output_fields=fields)]
