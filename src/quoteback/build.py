"""Build or update the index incrementally: only documents whose content hash changed are embedded."""

from __future__ import annotations

import fcntl
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .documents import SUPPORTED, Notice, Skipped, corpus_files, file_hash, load_corpus
from .embeddings import Embedder, Encoder
from .index import Index, IndexError_, IndexMissing, Manifest, SkippedEntry, DocumentEntry, load_index, read_manifest, write_index
from .passages import Chunker, Passage, embedding_text
from .settings import Settings

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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


@dataclass
class Status:
    """How the index relates to the corpus, without loading any model."""

    exists: bool
    stale: bool
    reasons: list[str]
    manifest: Manifest | None


def settings_fingerprint(settings: Settings) -> dict[str, Any]:
    """What must match for stored vectors to be reused (also keys the evaluation's index cache)."""
    return Manifest.fingerprint_of(settings)


def index_status(settings: Settings) -> Status:
    try:
        manifest = read_manifest(settings.index)
    except IndexError_ as err:
        return Status(True, True, [str(err)], None)
    if manifest is None:
        return Status(False, True, ["no index yet"], None)
    reasons = []
    if not manifest.reusable_for(settings):
        reasons.append("settings differ from the index's (model, backend, chunking, title embedding or sentence vectors)")
    elif not manifest.same_bm25(settings):
        reasons.append("BM25 settings differ from the index's (no re-embedding needed)")
    known = manifest.known_files()
    files = {p.relative_to(settings.corpus).as_posix(): p for p in corpus_files(settings.corpus)}
    added = sorted(set(files) - set(known))
    removed = sorted(set(known) - set(files))
    changed = sorted(r for r in set(files) & set(known) if known[r] != file_hash(files[r]))
    for label, paths in (("added", added), ("removed", removed), ("changed", changed)):
        if paths:
            reasons.append(f"{len(paths)} {label}: {', '.join(paths[:5])}")
    return Status(True, bool(reasons), reasons, manifest)


class BuildBusy(RuntimeError):
    """Another process holds the build lock: the live index is intact and still readable."""


class BuildError(RuntimeError):
    """A build that cannot run as asked; the message names the fix."""


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    try:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        handle = open(Path(index_dir) / ".lock", "w")
    except (FileExistsError, NotADirectoryError):
        raise BuildError(f"the index path {index_dir} is a file, not a folder; choose a folder with --index") from None
    except OSError as err:
        raise BuildError(f"cannot write to the index folder {index_dir} ({err.strerror or err}); "
                         "choose a writable folder with --index") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy(f"another build of {index_dir} is running; wait for it to finish") from None
        yield


class IndexBuilder:
    def __init__(self, settings: Settings, embedder: Encoder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder.from_settings(settings)
        self.chunker = Chunker(**settings.chunker_settings())

    def build(self, force: bool = False, progress: Progress | None = None) -> BuildReport:
        started = time.perf_counter()
        corpus_files(self.settings.corpus)  # a missing corpus fails before an index folder is created
        with build_lock(self.settings.index):
            for leftover in Path(self.settings.index).glob("v-*.tmp"):  # from a build that was killed
                shutil.rmtree(leftover, ignore_errors=True)
            report = self._build(force, progress)
        report.seconds = time.perf_counter() - started
        return report

    def _previous(self, force: bool) -> tuple[Index | None, str | None]:
        """The index to reuse vectors from, or None with the reason for a full rebuild."""
        if force:
            return None, "forced"
        try:
            previous = load_index(self.settings.index)
        except IndexMissing:
            return None, None
        except IndexError_ as err:
            return None, f"previous index unusable: {err}"
        if not previous.manifest.reusable_for(self.settings):
            return None, "settings changed"
        return previous, None

    def _build(self, force: bool, progress: Progress | None) -> BuildReport:
        s = self.settings
        previous, reason = self._previous(force)
        report = BuildReport(full_rebuild_reason=reason)
        files = {p.relative_to(s.corpus).as_posix(): p for p in corpus_files(s.corpus)}
        hashes = {rel: file_hash(path) for rel, path in files.items()}
        old_docs = previous.documents if previous else {}
        old_skipped = {k.path: k for k in (previous.manifest.skipped if previous else [])}
        keep = {rel for rel, h in hashes.items() if rel in old_docs and old_docs[rel].content_hash == h}
        still_skipped = [
            Skipped(rel, k.reason) for rel, k in old_skipped.items() if hashes.get(rel) == k.hash
        ]
        known_before = set(old_docs) | set(old_skipped)
        report.unchanged = len(keep) + len(still_skipped)
        report.added = len(set(hashes) - known_before)
        report.removed = len(known_before - set(hashes))
        report.changed = len(hashes) - report.unchanged - report.added
        same_bm25 = previous is not None and previous.manifest.same_bm25(s)
        if previous and same_bm25 and not (report.added or report.removed or report.changed):
            report.skipped = still_skipped
            report.passages = len(previous.passages)
            return report
        loaded = load_corpus(s.corpus, only=set(hashes) - keep - {k.path for k in still_skipped}, progress=progress)
        report.skipped = still_skipped + loaded.skipped
        report.notices = loaded.notices
        documents = sorted([old_docs[r] for r in keep] + loaded.documents, key=lambda d: d.path)
        if not documents:
            raise BuildError(f"the corpus folder {s.corpus} has no documents to index"
                             + (f" ({len(report.skipped)} skipped: {report.skipped[0].path}: {report.skipped[0].reason})" if report.skipped else "")
                             + f"; add {', '.join(SUPPORTED)} files")
        fresh = {d.path for d in loaded.documents}
        old_rows = _rows_by_document(previous) if previous else {}
        passages: list[Passage] = []
        source: list[int] = []  # the passage's row in the previous index, or -1 when new
        for doc in documents:
            if doc.path in fresh:
                for p in self.chunker.split(doc):
                    passages.append(p)
                    source.append(-1)
            else:
                for i in old_rows.get(doc.path, []):
                    passages.append(previous.passages[i])
                    source.append(i)
        by_path = {d.path: d for d in documents}
        texts = [embedding_text(p, by_path[p.document], s.embed_title) for p in passages]
        to_embed = [i for i, src in enumerate(source) if src < 0]
        reused = [i for i, src in enumerate(source) if src >= 0]
        contextual = s.sentence_vectors and s.sentence_pooling == "contextual" and hasattr(self.embedder, "encode_with_spans")
        fresh_sentences: list[np.ndarray] | None = None
        if contextual:  # one forward pass per new passage gives its vector and its sentences' vectors
            spans, prefixes = [], []
            for i in to_embed:
                p, prefix = passages[i], len(texts[i]) - len(passages[i].text)
                spans.append([(a - p.start + prefix, b - p.start + prefix) for a, b in p.sentences])
                prefixes.append(prefix)
            new_vectors, fresh_sentences = self.embedder.encode_with_spans(
                [texts[i] for i in to_embed], spans, prefixes,
                progress=(lambda d, t: progress("embedding passages and sentences", d, t)) if progress else None)
        else:
            new_vectors = self.embedder.encode(
                [texts[i] for i in to_embed], progress=(lambda d, t: progress("embedding passages", d, t)) if progress else None
            )
        dimension = self.embedder.dimension if (to_embed or not passages) else previous.manifest.model.dimension
        embeddings = np.zeros((len(passages), dimension), dtype=np.float32)
        embeddings[to_embed] = new_vectors
        if reused:
            embeddings[reused] = previous.store.passage_vectors(np.array([source[i] for i in reused]))
        sentence_vectors = None
        if s.sentence_vectors:
            if fresh_sentences is None:
                fresh_sentences = self._separate_sentence_vectors([passages[i] for i in to_embed], documents, progress)
            sentence_vectors = _sentence_blocks(passages, source, fresh_sentences, previous, dimension)
        report.embedded_passages = len(to_embed)
        report.embedded_sentences = sum(len(passages[i].sentences) for i in to_embed) if s.sentence_vectors else 0
        report.passages = len(passages)
        index_type = _index_type(s, len(passages))
        manifest = Manifest.for_build(
            s, dimension, index_type=index_type, passages=len(passages),
            documents={d.path: DocumentEntry(d.content_hash, d.title, d.date, sum(p.document == d.path for p in passages)) for d in documents},
            skipped=[SkippedEntry(k.path, k.reason, hashes.get(k.path)) for k in report.skipped])
        if progress:
            progress("writing index", 0, 1)
        write_index(s.index, manifest, documents, passages, embeddings, sentence_vectors, texts, index_type, s.hnsw_ef_search,
                    trained=getattr(previous.store, "dense", None) if previous else None)
        report.wrote = True
        return report


    def _separate_sentence_vectors(self, fresh: list[Passage], documents, progress) -> list[np.ndarray]:
        """Each new passage's sentences encoded alone (sentence_pooling "separate")."""
        texts = {d.path: d.text for d in documents}
        vectors = self.embedder.encode([texts[p.document][a:b] for p in fresh for a, b in p.sentences],
                                       progress=(lambda d, t: progress("embedding sentences", d, t)) if progress else None)
        bounds = np.cumsum([0] + [len(p.sentences) for p in fresh])
        return [vectors[bounds[j] : bounds[j + 1]] for j in range(len(fresh))]


def _sentence_blocks(passages, source, fresh: list[np.ndarray], previous, dimension: int) -> np.ndarray:
    """One vector per sentence, passage by passage: new passages' in order, old ones' reused."""
    blocks, fresh_iter = [], iter(fresh)
    for src in source:
        blocks.append(next(fresh_iter) if src < 0 else np.asarray(previous.sentence_rows(src), dtype=np.float32))
    return np.concatenate(blocks) if blocks else np.zeros((0, dimension), dtype=np.float32)


def _rows_by_document(index: Index) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for i, p in enumerate(index.passages):
        rows.setdefault(p.document, []).append(i)
    return rows


def _index_type(settings: Settings, n: int) -> str:
    if settings.index_type != "auto":
        return settings.index_type
    return "ivf" if n >= settings.ann_from else "flat"
