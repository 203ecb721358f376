"""The manifest: what an index holds and how it was made, the one owner of `manifest.json`.

Status, info, the builder and the app read these typed fields; nothing outside this package
reads a manifest key as a string. The JSON layout is the one indexes have always had.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..settings import Settings

FORMAT_VERSION = 2  # 2: documents carry pages and headings
TEXT_VERSION = 28  # how documents are read, cut and contextualised: a change rebuilds indexes fully
REQUIRED = ("model", "chunker", "passages", "documents")  # what status, info and loading read


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dimension: int
    backend: str = "torch"

    def describe(self) -> str:
        """As a person reads it: name (dimensions, runtime)."""
        return f"{self.name} ({self.dimension} dimensions, {self.backend})"


@dataclass(frozen=True)
class DocumentEntry:
    hash: str
    title: str
    date: str | None
    passages: int


@dataclass(frozen=True)
class SkippedEntry:
    path: str
    reason: str
    hash: str | None = None


@dataclass
class Manifest:
    model: ModelInfo
    chunker: dict[str, Any]
    passages: int
    documents: dict[str, DocumentEntry]
    skipped: list[SkippedEntry] = field(default_factory=list)
    embed_title: bool | None = None
    sentence_vectors: bool | None = None
    sentence_pooling: str | None = None  # only with sentence vectors; None in indexes from before the setting
    text_version: int | None = None
    bm25: dict[str, float] | None = None
    index_type: str = "flat"
    built_at: str | None = None
    quoteback_version: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    store: dict[str, Any] | None = None  # where the passages live when not in the index folder (e.g. Milvus)
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they were

    @classmethod
    def for_build(cls, settings: "Settings", dimension: int, **facts: Any) -> "Manifest":
        """A new manifest recording `settings` as the build used them; `facts` are the counts,
        documents, skipped files and index type the build found."""
        from .. import __version__

        return cls(model=ModelInfo(settings.model, dimension, settings.backend), chunker=settings.chunker_settings(),
                   embed_title=settings.embed_title, sentence_vectors=settings.sentence_vectors,
                   sentence_pooling=settings.sentence_pooling if settings.sentence_vectors else None,
                   text_version=TEXT_VERSION, bm25=settings.bm25_settings(), built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                   quoteback_version=__version__, versions=_library_versions(), **facts)

    @staticmethod
    def fingerprint_of(settings: "Settings") -> dict[str, Any]:
        """What decides whether stored vectors can be reused: model, runtime, chunking, text."""
        fp = {"model": settings.model, "chunker": settings.chunker_settings(), "embed_title": settings.embed_title,
              "sentence_vectors": settings.sentence_vectors, "text_version": TEXT_VERSION}
        if settings.backend != "torch":  # named only when not the default, so older indexes stay valid
            fp["backend"] = settings.backend
        if settings.sentence_vectors:
            fp["sentence_pooling"] = settings.sentence_pooling
        return fp

    def fingerprint(self) -> dict[str, Any]:
        fp = {"model": self.model.name, "chunker": self.chunker, "embed_title": self.embed_title,
              "sentence_vectors": self.sentence_vectors, "text_version": self.text_version}
        if self.model.backend != "torch":
            fp["backend"] = self.model.backend
        if self.sentence_vectors:  # indexes from before the setting pooled sentences separately
            fp["sentence_pooling"] = self.sentence_pooling or "separate"
        return fp

    def reusable_for(self, settings: "Settings") -> bool:
        """The stored vectors are what `settings` would compute."""
        return self.fingerprint() == self.fingerprint_of(settings)

    def same_bm25(self, settings: "Settings") -> bool:
        return self.bm25 == settings.bm25_settings()

    def known_files(self) -> dict[str, str | None]:
        """Every corpus file the build saw, indexed or skipped, with its content hash."""
        return {**{path: d.hash for path, d in self.documents.items()}, **{s.path: s.hash for s in self.skipped}}

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out = {k: v for k, v in out.items() if v is not None or k in ("sentence_vectors",)}
        out["model"] = asdict(self.model)
        out["documents"] = {path: asdict(d) for path, d in self.documents.items()}
        out["skipped"] = [asdict(s) for s in self.skipped]
        return {**out, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        """ValueError naming what is missing or malformed."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        model = data.get("model")
        missing = [k for k in REQUIRED if k not in data]
        missing += [f"model.{k}" for k in ("name", "dimension") if isinstance(model, dict) and k not in model]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and k != "extra"}
        values["model"] = ModelInfo(model["name"], int(model["dimension"]), model.get("backend", "torch"))
        values["documents"] = {path: DocumentEntry(d["hash"], d["title"], d.get("date"), d["passages"])
                               for path, d in data["documents"].items()}
        values["skipped"] = [SkippedEntry(s["path"], s["reason"], s.get("hash")) for s in data.get("skipped", [])]
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})

    def write(self, folder: Path) -> None:
        (Path(folder) / "manifest.json").write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> "Manifest":
        """OSError or ValueError when unreadable; the caller says what to do."""
        return cls.from_dict(json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8")))


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("faiss-cpu", "sentence-transformers", "bm25s", "nupunkt"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out
