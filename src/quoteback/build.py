"""Build or update the index incrementally: only documents whose content hash changed are embedded."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .documents import SUPPORTED, Corpus, Document, Notice, Skipped, corpus_files, load_corpus, source_hash
from .embeddings import Embedder, Encoder
from .index import DocumentEntry, IndexError_, Manifest, SkippedEntry
from .index.backends import open_backend
from .passages import Chunker, Passage, embedding_text
from .settings import Settings
from .status import BuildError, build_lock

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Reader = Callable[..., Corpus]  # load_corpus(folder, only=..., progress=...) or a distributed one


@dataclass
class BuildReport:
    unchanged: int = 0
    changed: int = 0
    added: int = 0
    removed: int = 0
    embedded_passages: int = 0
    embedded_sentences: int = 0
    passages: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # library warnings while reading, by file
    full_rebuild_reason: str | None = None
    wrote: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        text = f"{self.unchanged} unchanged, {self.changed} changed, {self.added} added, {self.removed} removed"
        text += f"; {self.embedded_passages} passages embedded, {self.passages} in the index"
        if self.full_rebuild_reason:
            text += f" (full rebuild: {self.full_rebuild_reason})"
        if not self.wrote:
            text += "; index already up to date"
        return text


GROUP = 2048  # passages embedded and written together when the store is updated document by document


class IndexBuilder:
    """Configuration in the constructor, work in `build`. `embedder` and `reader` may be swapped for
    distributed ones (see ray_build.py); the store is the one the settings name (index/backends.py)."""

    def __init__(self, settings: Settings, embedder: Encoder | None = None, reader: Reader = load_corpus) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder.from_settings(settings)
        self.reader = reader
        self.chunker = Chunker(**settings.chunker_settings())
        self.backend = open_backend(settings)
        self._loaded = None  # the previous embedded index, when its vectors are reused
        self._hashes: dict[str, str] = {}  # this build's corpus files and their source hashes (file + sidecar)

    def build(self, force: bool = False, progress: Progress | None = None) -> BuildReport:
        started = time.perf_counter()
        corpus_files(self.settings.corpus)  # a missing corpus fails before an index folder is created
        with build_lock(self.settings.index):
            for leftover in Path(self.settings.index).glob("v-*.tmp"):  # from a build that was killed
                shutil.rmtree(leftover, ignore_errors=True)
            report = self._build(force, progress or _quiet)
        report.seconds = time.perf_counter() - started
        return report

    def _previous(self, force: bool) -> tuple[Manifest | None, str | None]:
        """The manifest of the index whose vectors can be reused, or None with the reason for a full rebuild."""
        if force:
            return None, "forced"
        try:
            previous = self.backend.read_manifest()
            # the embedded store reuses vectors from its files: they must load
            self._loaded = None if previous is None or self.backend.by_document else self.backend.load()
        except IndexError_ as err:
            return None, f"previous index unusable: {err}"
        if previous is None:
            return None, None
        if not previous.reusable_for(self.settings):
            return None, "settings changed"
        if self.backend.by_document and not previous.same_bm25(self.settings):
            return None, "BM25 settings changed"
        return previous, None

    def _build(self, force: bool, progress: Progress) -> BuildReport:
        s = self.settings
        previous, reason = self._previous(force)
        report = BuildReport(full_rebuild_reason=reason)
        hashes = self._hashes = {p.relative_to(s.corpus).as_posix(): source_hash(p) for p in corpus_files(s.corpus)}
        old = previous.documents if previous else {}
        old_skipped = {k.path: k for k in (previous.skipped if previous else [])}
        keep = {rel for rel, h in hashes.items() if rel in old and old[rel].hash == h}
        still_skipped = [Skipped(rel, k.reason) for rel, k in old_skipped.items() if hashes.get(rel) == k.hash]
        known_before = set(old) | set(old_skipped)
        report.unchanged = len(keep) + len(still_skipped)
        report.added = len(set(hashes) - known_before)
        report.removed = len(known_before - set(hashes))
        report.changed = len(hashes) - report.unchanged - report.added
        if previous and previous.same_bm25(s) and not (report.added or report.removed or report.changed):
            report.skipped, report.passages = still_skipped, previous.passages
            return report
        loaded = self.reader(s.corpus, only=set(hashes) - keep - {k.path for k in still_skipped}, progress=progress)
        report.skipped = still_skipped + loaded.skipped
        report.notices = loaded.notices
        if not keep and not loaded.documents:
            raise BuildError(f"the corpus folder {s.corpus} has no documents to index"
                             + (f" ({len(report.skipped)} skipped: {report.skipped[0].path}: {report.skipped[0].reason})" if report.skipped else "")
                             + f"; add {', '.join(SUPPORTED)} files")
        fresh = sorted(loaded.documents, key=lambda d: d.path)
        skipped = [SkippedEntry(k.path, k.reason, hashes.get(k.path)) for k in report.skipped]
        if self.backend.by_document:
            self._write_by_document(previous, keep, fresh, skipped, report, progress)
        else:
            self._write_all(keep, fresh, skipped, report, progress)
        report.wrote = True
        return report

    def _write_all(self, keep: set[str], fresh: list[Document], skipped: list[SkippedEntry], report: BuildReport,
                   progress: Progress) -> None:
        """The embedded store: a complete new version, kept documents' passages and vectors reused."""
        s = self.settings
        previous = self._loaded if keep else None
        documents = sorted([previous.documents[r] for r in keep] + fresh, key=lambda d: d.path) if previous else fresh
        new = {d.path for d in fresh}
        old_rows: dict[str, list[int]] = {}
        for i, p in enumerate(previous.passages if previous else []):
            old_rows.setdefault(p.document, []).append(i)
        passages: list[Passage] = []
        source: list[int] = []  # the passage's row in the previous index, or -1 when new
        for doc in documents:
            rows = [(p, -1) for p in self.chunker.split(doc)] if doc.path in new else [(previous.passages[i], i) for i in old_rows.get(doc.path, [])]
            passages += [p for p, _ in rows]
            source += [i for _, i in rows]
        by_path = {d.path: d for d in documents}
        texts = [embedding_text(p, by_path[p.document], s.embed_title) for p in passages]
        to_embed = [i for i, src in enumerate(source) if src < 0]
        reused = [i for i, src in enumerate(source) if src >= 0]
        new_vectors, new_sentences = self._embed([passages[i] for i in to_embed], [texts[i] for i in to_embed], by_path,
                                                 _Ticker(progress, [passages[i] for i in to_embed], s))
        dimension = self.embedder.dimension if (to_embed or not previous) else previous.manifest.model.dimension
        embeddings = np.zeros((len(passages), dimension), dtype=np.float32)
        embeddings[to_embed] = new_vectors
        if reused:
            embeddings[reused] = previous.store.passage_vectors(np.array([source[i] for i in reused]))
        sentence_vectors = None
        if s.sentence_vectors:
            old_sentences = previous.store.sentence_vectors(np.array([source[i] for i in reused])) if reused else None
            sentence_vectors = _sentence_blocks(passages, source, new_sentences, old_sentences, dimension)
        report.embedded_passages = len(to_embed)
        report.embedded_sentences = sum(len(passages[i].sentences) for i in to_embed) if s.sentence_vectors else 0
        report.passages = len(passages)
        manifest = self._manifest(dimension, {d.path: d for d in documents}, Counter(p.document for p in passages), skipped)
        progress("writing index", 0, 1)
        self.backend.write_all(manifest, documents, passages, embeddings, sentence_vectors, texts,
                               trained=getattr(previous.store, "dense", None) if previous else None)

    def _write_by_document(self, previous: Manifest | None, keep: set[str], fresh: list[Document],
                           skipped: list[SkippedEntry], report: BuildReport, progress: Progress) -> None:
        """A store updated in place (Milvus): changed and removed documents deleted, new ones embedded
        and inserted GROUP passages at a time, so no more vectors than that are ever held here."""
        s, backend = self.settings, self.backend
        if previous is None:
            backend.clear()
        backend.remove(sorted(set(previous.documents) - keep) if previous else [])
        chunks = {d.path: self.chunker.split(d) for d in fresh}
        ticker = _Ticker(progress, [p for d in fresh for p in chunks[d.path]], s)
        group: list[Document] = []
        for i, doc in enumerate(fresh):
            group.append(doc)
            if i + 1 == len(fresh) or sum(len(chunks[d.path]) for d in group) + len(chunks[fresh[i + 1].path]) > GROUP:
                passages = [p for d in group for p in chunks[d.path]]
                by_path = {d.path: d for d in group}
                texts = [embedding_text(p, by_path[p.document], s.embed_title) for p in passages]
                vectors, sentences = self._embed(passages, texts, by_path, ticker)
                backend.add(group, passages, vectors, np.concatenate(sentences) if sentences else None, texts, s.bm25_settings())
                group = []
        counts = Counter({path: previous.documents[path].passages for path in keep} if previous else {})
        counts.update({path: len(found) for path, found in chunks.items()})
        report.embedded_passages = sum(len(found) for found in chunks.values())
        report.embedded_sentences = sum(len(p.sentences) for found in chunks.values() for p in found) if s.sentence_vectors else 0
        report.passages = sum(counts.values())
        entries = {path: previous.documents[path] for path in keep} if previous else {}
        dimension = self.embedder.dimension if fresh else previous.model.dimension
        manifest = self._manifest(dimension, {**entries, **{d.path: d for d in fresh}}, counts, skipped)
        manifest.store = {"kind": "milvus", "collection": backend.collection}
        progress("writing index", 0, 1)
        backend.commit(manifest)

    def _manifest(self, dimension: int, documents: dict, counts: Counter, skipped: list[SkippedEntry]) -> Manifest:
        # a read document records its source hash (sidecar included), which staleness compares against
        entries = {path: d if isinstance(d, DocumentEntry) else DocumentEntry(self._hashes.get(path, d.content_hash), d.title, d.date, counts[path])
                   for path, d in sorted(documents.items())}
        total = sum(counts.values())
        return Manifest.for_build(self.settings, dimension, index_type=_index_type(self.settings, total), passages=total,
                                  documents=entries, skipped=skipped)

    def _embed(self, passages: list[Passage], texts: list[str], documents: dict[str, Document],
               ticker: "_Ticker") -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Passage vectors, and each passage's sentence vectors when the settings keep them: from the
        passage's own forward pass (contextual) or each sentence encoded alone (separate)."""
        s = self.settings
        if s.sentence_vectors and s.sentence_pooling == "contextual" and hasattr(self.embedder, "encode_with_spans"):
            spans, prefixes = [], []
            for p, text in zip(passages, texts):
                prefix = len(text) - len(p.text)
                spans.append([(a - p.start + prefix, b - p.start + prefix) for a, b in p.sentences])
                prefixes.append(prefix)
            return self.embedder.encode_with_spans(texts, spans, prefixes, progress=ticker("embedding passages and sentences", len(texts)))
        vectors = self.embedder.encode(texts, progress=ticker("embedding passages", len(texts)))
        if not s.sentence_vectors:
            return vectors, None
        sentences = [documents[p.document].text[a:b] for p in passages for a, b in p.sentences]
        flat = self.embedder.encode(sentences, progress=ticker("embedding sentences", len(sentences)))
        bounds = np.cumsum([0] + [len(p.sentences) for p in passages])
        return vectors, [flat[bounds[j] : bounds[j + 1]] for j in range(len(passages))]


class _Ticker:
    """Progress over several embedding calls: each stage counts up to its total for the whole build."""

    def __init__(self, progress: Progress, passages: list[Passage], settings: Settings) -> None:
        self.progress = progress
        self.done: Counter = Counter()
        self.totals = {"embedding passages": len(passages), "embedding sentences": sum(len(p.sentences) for p in passages),
                       "embedding passages and sentences": len(passages)}

    def __call__(self, stage: str, size: int) -> Callable[[int, int], None]:
        base = self.done[stage]
        self.done[stage] += size
        return lambda done, total: self.progress(stage, base + done, self.totals[stage])


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def _sentence_blocks(passages: list[Passage], source: list[int], fresh: list[np.ndarray] | None,
                     old: tuple[np.ndarray, np.ndarray] | None, dimension: int) -> np.ndarray:
    """One vector per sentence, passage by passage: new passages' in order, old ones' reused."""
    blocks, fresh_iter = [], iter(fresh or [])
    old_rows, old_counts = old if old is not None else (None, [])
    old_bounds = np.cumsum([0, *old_counts])
    j = 0
    for src in source:
        if src < 0:
            blocks.append(next(fresh_iter))
        else:
            blocks.append(old_rows[old_bounds[j] : old_bounds[j + 1]])
            j += 1
    return np.concatenate(blocks).astype(np.float32) if blocks else np.zeros((0, dimension), dtype=np.float32)


def _index_type(settings: Settings, n: int) -> str:
    if settings.index_type != "auto":
        return settings.index_type
    return "ivf" if n >= settings.ann_from else "flat"
