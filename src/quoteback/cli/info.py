"""`quoteback info`'s facts: the manifest, staleness, and whether the files it lists still load."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

import typer

from ..status import index_status
from ..documents import corpus_files
from ..index import IndexError_
from ..index.backends import open_backend
from ..settings import Settings
from .checks import describe_model
from .running import fail

STATES = {"no index": "no index yet — run `quoteback build`"}


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


def collection_reports(collections: Sequence[Any]) -> list[dict[str, Any]]:
    """`index_report` of each collection (`collections.Collection`), named by a `collection` key when
    collections are named; a problem is one error line naming the collection."""
    reports = []
    for target in collections:
        try:
            data = index_report(target.settings)
        except (FileNotFoundError, ValueError, ConnectionError) as err:
            fail(f"collection {target.name}: {err}" if target.name else str(err))
        reports.append({"collection": target.name, **data} if target.name else data)
    return reports


def print_info(reports: Sequence[dict[str, Any]]) -> None:
    """The reports as aligned lines, a blank line between collections."""
    for n, data in enumerate(reports):
        if n:
            typer.echo("")
        keys = ("collection",) * ("collection" in data) + ("corpus", "index", "documents", "passages", "model", "index_type", "built_at")
        for key in keys:
            typer.echo(f"{key:>10}: {describe_model(data[key]) if key == 'model' else data[key]}")
        state = {"damaged": f"damaged — {data['error']}", "stale": "stale — " + "; ".join(data["reasons"]), **STATES}
        typer.echo(f"{'status':>10}: " + state.get(data["status"], data["status"]))
        for s in data["skipped"]:
            typer.echo(f"{'skipped':>10}: {s['path']}: {s['reason']}")
