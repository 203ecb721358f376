"""Where an index lives: the build writes into a backend, status reads its manifest, answers load it.

`files` (the default) is the embedded store: FAISS, bm25s and plain files in the index folder,
rewritten as a whole new version and swapped in atomically. `milvus` keeps passages, vectors
and BM25 in a Milvus server and is updated document by document (delete + insert), so the
build never needs every vector at once. Nothing of pymilvus is imported unless it is chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from .files import REBUILD_HINT, IndexCorrupt, IndexError_, IndexMissing, load_index, read_manifest, write_index
from .manifest import Manifest
from .store import Index

if TYPE_CHECKING:
    from ..documents import Document
    from ..passages import Passage
    from ..settings import Settings

class StoreUnavailable(IndexError_, ConnectionError):
    """The store named in the settings cannot be reached."""


class Backend(Protocol):
    by_document: bool  # True: `remove` + `add` per document, then `commit`; False: `write_all`

    def describe(self) -> str: ...

    def read_manifest(self) -> Manifest | None: ...

    def load(self) -> Index: ...


class FilesBackend:
    """The embedded store in `folder` (see files.py)."""

    by_document = False

    def __init__(self, folder: Path, ef_search: int = 128) -> None:
        self.folder = Path(folder)
        self.ef_search = ef_search

    def describe(self) -> str:
        return str(self.folder)

    def read_manifest(self) -> Manifest | None:
        return read_manifest(self.folder)

    def load(self) -> Index:
        return load_index(self.folder)

    def write_all(self, manifest: Manifest, documents: list["Document"], passages: list["Passage"], embeddings: np.ndarray,
                  sentence_vectors: np.ndarray | None, search_texts: list[str], trained: Any = None) -> None:
        write_index(self.folder, manifest, documents, passages, embeddings, sentence_vectors, search_texts,
                    manifest.index_type, self.ef_search, trained=trained)


class MilvusBackend:
    """A corpus's collections in a Milvus server (`uri`, optional `token`)."""

    by_document = True

    def __init__(self, uri: str, token: str | None, collection: str, index_type: str = "flat") -> None:
        from .milvus import MilvusStore

        self.uri, self.collection = uri, collection
        try:
            self.store = MilvusStore(uri, token, collection, index_type=index_type)
        except ImportError:
            raise
        except Exception as err:  # pymilvus's MilvusException: no server there, or a bad token
            raise StoreUnavailable(f"cannot reach Milvus at {uri} ({getattr(err, 'message', None) or err}); "
                                   "start the server or fix --uri / QUOTEBACK_TOKEN") from None

    def describe(self) -> str:
        return f"Milvus collection {self.collection} at {self.uri}"

    def read_manifest(self) -> Manifest | None:
        try:
            raw = self.store.read_manifest()
            return None if raw is None else Manifest.from_dict(raw)
        except (ValueError, KeyError, TypeError) as err:
            raise IndexCorrupt(f"the manifest in {self.describe()} is unreadable ({err}); {REBUILD_HINT}") from None

    def load(self) -> Index:
        if self.read_manifest() is None:
            raise IndexMissing(f"no index in {self.describe()}; run `quoteback build --store milvus` first")
        return self.store.load()

    def clear(self) -> None:
        """Drop the corpus's collections (a full rebuild)."""
        if self.store.exists():
            self.store.drop()

    def remove(self, paths: Sequence[str]) -> None:
        if paths:
            self.store.delete_documents(list(paths))

    def add(self, documents: list["Document"], passages: list["Passage"], embeddings: np.ndarray,
            sentence_vectors: np.ndarray | None, search_texts: list[str], bm25: dict[str, float]) -> None:
        self.store.write_documents(documents, passages, embeddings, sentence_vectors, search_texts, bm25)

    def commit(self, manifest: Manifest) -> None:
        self.store.write_manifest(manifest)


def open_backend(settings: "Settings") -> FilesBackend | MilvusBackend:
    """The backend the settings name; a Milvus backend needs `uri` (the collection defaults to one per corpus)."""
    if settings.store == "milvus":  # the choices are checked by Settings
        if not settings.uri:
            raise ValueError("--store milvus needs --uri http://HOST:19530 (or uri in quoteback.toml)")
        from .milvus_schema import collection_name

        return MilvusBackend(settings.uri, settings.token or None, settings.milvus_collection or collection_name(settings.corpus))
    return FilesBackend(settings.index, ef_search=settings.hnsw_ef_search)
