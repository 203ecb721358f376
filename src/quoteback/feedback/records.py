"""A judgment built from what a script or a test names (a document and offsets), checked against
the index; and the facts an evaluation run is recorded with (the index's build id, the settings
that shape retrieval)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..index import IndexError_, live_folder
from ..index.backends import open_backend
from ..question import validate_question
from .store import Judgment, quote_ref

if TYPE_CHECKING:
    from ..index import Index
    from ..settings import Settings

# what decides which passages come first and how the reply is judged: a run's "settings" in the trend
RETRIEVAL_SETTINGS = ("model", "backend", "max_chars", "min_chars", "embed_title", "sentence_vectors", "sentence_pooling",
                      "retrieval", "dense_weight", "sentence_weight", "coverage_weight", "heading_weight", "bm25_k1", "bm25_b", "k",
                      "candidates", "feedback", "reader", "reader_depth", "reader_weight", "abstain_below", "answer_from",
                      "related_from", "index_type", "store")


def scoped(settings: "Settings", collection: str = "") -> "Settings":
    """The settings of the collection a judgment was asked in ("" = the single corpus)."""
    if not collection and settings.collections:
        raise ValueError(f"the documents are named collections; choose one with --collection ({', '.join(settings.collections)})")
    return settings.for_collection(collection) if collection else settings


def index_version(settings: "Settings") -> str:
    """The live index's build id: its version folder (a new one each build), else the time the
    manifest records (an index in a database); "" when there is none."""
    folder = live_folder(settings.index)
    if folder is not None:
        return folder.name
    try:
        manifest = open_backend(settings).read_manifest()
    except (IndexError_, ValueError, ConnectionError, OSError):
        return ""
    return (manifest.built_at or "") if manifest else ""


def settings_summary(settings: "Settings") -> dict[str, Any]:
    """The settings that shape retrieval, as plain JSON values."""
    return {name: (str(value) if not isinstance(value, (bool, int, float, str)) else value)
            for name in RETRIEVAL_SETTINGS if (value := getattr(settings, name, None)) is not None}


def judgment_from(index: "Index", question: str, judgment: str, document: str | None = None, start: int | None = None,
                  end: int | None = None, **facts: Any) -> Judgment:
    """The record `quoteback feedback add` writes: the question, and the span `document[start:end]`
    of an indexed document (its text hashed), plus `facts` (comment, collection, user, index_version,
    ...). A ValueError names what is wrong; nothing is written until it is right."""
    problem = validate_question(question)
    if problem:
        raise ValueError(problem)
    given = [x is not None for x in (document, start, end)]
    if any(given) and not all(given):
        raise ValueError("a passage needs all of --document, --start and --end")
    span = None
    if document is not None:
        found = index.documents.get(document)
        if found is None:
            known = sorted(index.documents)
            hint = ", ".join(known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
            raise ValueError(f"{document!r} is not an indexed document (`quoteback info` lists them; e.g. {hint or 'none yet'})")
        span = quote_ref(document, found.text, start, end)
    return Judgment(question=question.strip(), judgment=judgment, span=span, **facts)
