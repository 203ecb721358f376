"""`quoteback info`'s facts: the manifest, staleness, and whether the files it lists still load."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..status import index_status
from ..documents import corpus_files
from ..index import IndexError_
from ..index.backends import open_backend
from ..settings import Settings


def index_report(settings: Settings) -> dict[str, Any]:
    """Status of the index: "no index", "damaged" (with `error`), "stale" or "up to date".

    The index is loaded without the model (FAISS file, passages, BM25 files, sentence vectors):
    a truncated or missing file must not read as "up to date" while `ask` refuses it."""
    corpus_files(settings.corpus)  # a missing corpus (or a file) is an error even before any index exists
    if settings.store == "files" and settings.index.exists() and not settings.index.is_dir():
        raise ValueError(f"the index path {settings.index} is a file, not a folder; choose a folder with --index")
    status = index_status(settings)
    m = status.manifest
    error = None
    if status.exists and status.manifest is None:
        error = status.reasons[0]  # the manifest itself is unreadable
    elif status.exists:
        try:
            open_backend(settings).load()
        except IndexError_ as err:
            error = str(err)
    state = "no index" if not status.exists else "damaged" if error else "stale" if status.stale else "up to date"
    return {
        "corpus": str(settings.corpus), "index": open_backend(settings).describe(), "exists": status.exists, "stale": status.stale,
        "status": state, "error": error, "reasons": [] if error and not status.manifest else status.reasons,
        "documents": len(m.documents) if m else 0, "passages": m.passages if m else 0,
        "model": asdict(m.model) if m else None, "index_type": m.index_type if m else None,
        "built_at": m.built_at if m else None, "skipped": [asdict(s) for s in m.skipped] if m else [],
    }
