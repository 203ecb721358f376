"""Stage 4: the index: a store that searches passages, and the manifest that describes it.

- `manifest.py`  the typed manifest (fingerprint, checks against settings), owner of manifest.json
- `store.py`     `Index` (documents, passages, manifest) and the `Store` protocol retrieval reads
- `dense.py`     FAISS: exact search, or IVF / HNSW with nprobe tuned for recall
- `lexical.py`   BM25 (bm25s) and the idf statistics answers use
- `files.py`     the embedded store as plain files in atomically swapped version folders
"""

from .dense import make_dense, recall_at
from .files import (
    CURRENT, REBUILD_HINT, IndexCorrupt, IndexError_, IndexMismatch, IndexMissing, live_folder, load_index, read_manifest,
    write_index,
)
from .manifest import FORMAT_VERSION, TEXT_VERSION, DocumentEntry, Manifest, ModelInfo, SkippedEntry
from .store import FileStore, Index, Keywords, Store

__all__ = [
    "CURRENT", "REBUILD_HINT", "FORMAT_VERSION", "TEXT_VERSION", "DocumentEntry", "FileStore", "Index", "IndexCorrupt",
    "IndexError_", "IndexMismatch", "IndexMissing", "Keywords", "Manifest", "ModelInfo", "SkippedEntry", "Store",
    "live_folder", "load_index", "make_dense", "read_manifest", "recall_at", "write_index",
]
