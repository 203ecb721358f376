"""The stages wired together, as the CLI and the app use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .answer import Answerer
from .build import BuildReport, IndexBuilder, Progress
from .status import index_status
from .embeddings import Embedder, Encoder
from .index import IndexMismatch
from .index.backends import open_backend
from .settings import Settings

if TYPE_CHECKING:
    from .collections import CollectionsAnswerer


@dataclass
class Ready:
    answerer: "Answerer | CollectionsAnswerer"  # several named collections: one over all of them (collections.py)
    report: BuildReport | None  # set when a build ran first


def open_answerer(settings: Settings, build: bool = True, embedder: Encoder | None = None, progress: Progress | None = None) -> Ready:
    """Build the index when missing or stale (if allowed), then load it for answering."""
    embedder = embedder or Embedder.from_settings(settings)
    report = None
    if build and index_status(settings).stale:
        report = IndexBuilder(settings, embedder).build(progress=progress)
    index = open_backend(settings).load()
    built_with = (index.model, index.manifest.model.backend)
    if built_with != (settings.model, settings.backend):
        raise IndexMismatch(
            f"the index was built with {built_with[0]!r} ({built_with[1]}) but the settings say "
            f"{settings.model!r} ({settings.backend}); run `quoteback build` to rebuild it with the current model"
        )
    return Ready(Answerer(index, embedder, settings), report)
