"""What the chat app serves: the live answerer, swapped in place after a rebuild, and uploads."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..answer import Answer, Answerer
from ..build import BuildReport, IndexBuilder, Progress
from ..status import index_status
from ..documents import SUPPORTED, DocumentError, corpus_files, file_hash, load_document
from ..embeddings import Embedder
from ..filters import Filter
from ..index.backends import open_backend
from ..pipeline import open_answerer
from ..settings import Settings
from .trash import TRASH, Trash, Trashed, TrashError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@dataclass
class Saved:
    name: str
    ok: bool
    message: str


class ChatService:
    """Answers from the current index while a rebuild prepares the next one."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder.from_settings(settings)
        self._build_embedder = Embedder.from_settings(settings)  # builds never block chat
        self._answerer: Answerer = open_answerer(settings, build=False, embedder=self.embedder).answerer  # the CLI built it
        self._swap = threading.Lock()
        self._building = threading.Lock()

    @property
    def answerer(self) -> Answerer:
        with self._swap:
            return self._answerer

    def warm(self) -> None:
        """One real question end to end: model weights, BM25 and FAISS pages are hot before any user asks."""
        self.ask(self.example_questions(1)[0] if self.example_questions(1) else "What are these documents about?")

    def ask(self, question: str, history: Sequence[str] = (), where: Sequence[str] | str | None = None) -> Answer:
        """`where`: `--where` conditions. A bad one is answered like a bad question (valid=False, the
        CLI's one-line reason), so a typo in a filter never costs a traceback or a server error."""
        try:
            scope = Filter.parse(where)
        except ValueError as err:
            return Answer(question if isinstance(question, str) else "", False, [], str(err), valid=False)
        return self.answerer.ask(question, history=history, where=scope)

    def documents(self) -> list[str]:
        """The indexed documents' paths (what `doc=` matches exactly), sorted."""
        return sorted(self.answerer.index.documents)

    def rebuild(self, progress: Progress | None = None, wait: bool = False) -> BuildReport:
        """`wait`: queue behind a build under way (the live folder) instead of refusing (the button)."""
        if not self._building.acquire(blocking=wait):
            raise RuntimeError("a rebuild is already running")
        try:
            report = IndexBuilder(self.settings, self._build_embedder).build(progress=progress)
            fresh = Answerer(open_backend(self.settings).load(), self.embedder, self.settings)
            with self._swap:
                self._answerer = fresh
            return report
        finally:
            self._building.release()

    def status(self) -> dict:
        index = self.answerer.index
        current = index_status(self.settings)
        return {
            "model": index.model,
            "built_at": index.manifest.built_at,
            "passages": len(index.passages),
            "stale": current.stale,
            "reasons": current.reasons,
            "documents": [
                [path, doc.title, doc.date or "", doc.passages] for path, doc in index.manifest.documents.items()
            ],
            "skipped": [[s.path, s.reason] for s in index.manifest.skipped],
        }

    def example_questions(self, limit: int = 4) -> list[str]:
        """Question lines found in the documents (an FAQ's own questions make good examples)."""
        found = []
        for doc in self.answerer.index.documents.values():
            for line in doc.text[doc.body_start :].splitlines():
                line = line.strip()
                if line.endswith("?") and 10 < len(line) < 100 and line not in found:
                    found.append(line)
        return found[:limit]

    def save_upload(self, source: Path, original_name: str) -> Saved:
        """Copy an uploaded file into the corpus under a safe, non-clobbering name."""
        name = safe_name(original_name)
        if name is None:
            return Saved(original_name, False, f"not a supported type (allowed: {', '.join(SUPPORTED)})")
        size = Path(source).stat().st_size
        if size > MAX_UPLOAD_BYTES:
            return Saved(name, False, f"too large ({size / 1e6:.1f} MB; limit {MAX_UPLOAD_BYTES // 2**20} MB)")
        if twin := self.same_content(Path(source)):
            return Saved(name, False, f"refused: the same content is already in the corpus as {twin}")
        corpus = Path(self.settings.corpus).resolve()
        target = corpus / name
        stem, suffix = target.stem, target.suffix
        n = 1
        while target.exists():
            target = corpus / f"{stem}-{n}{suffix}"
            n += 1
        if target.resolve().parent != corpus:
            return Saved(name, False, "refused: the name points outside the corpus folder")
        with tempfile.TemporaryDirectory(prefix="quoteback-upload-") as tmp:  # checked under its own name
            probe = Path(tmp) / target.name
            shutil.copyfile(source, probe)
            problem = readable_problem(probe, target.name)
        if problem:
            return Saved(target.name, False, "refused: " + problem.replace(str(probe), target.name))
        staged = corpus / f".upload-{uuid.uuid4().hex}{suffix}"  # hidden until complete: a rebuild never sees half a file
        shutil.copyfile(source, staged)
        os.replace(staged, target)
        return Saved(target.name, True, "saved; press Rebuild index to add it")

    def corpus_names(self) -> list[str]:
        """Every file of the corpus folder, by its path relative to it (the names removal accepts)."""
        corpus = Path(self.settings.corpus)
        return [p.relative_to(corpus).as_posix() for p in corpus_files(corpus)]

    def same_content(self, path: Path) -> str | None:
        """The indexed-type corpus file holding exactly these bytes, if any: a second copy would only
        index every passage twice (and cite `notes-1.md`). Only files of the same size are hashed."""
        size, digest = path.stat().st_size, None
        corpus = Path(self.settings.corpus)
        for other in corpus_files(corpus):
            if other.suffix.lower() not in SUPPORTED or other.stat().st_size != size:
                continue
            if (digest := digest or file_hash(path)) == file_hash(other):
                return other.relative_to(corpus).as_posix()
        return None

    def remove_document(self, name: str) -> Saved:
        """Move one file of the corpus folder to the trash, chosen by the name the Documents tab
        lists; nothing outside the folder can be named. The index keeps it until the next rebuild."""
        if not name or name not in self.corpus_names():
            return Saved(name or "", False, "not a file of the corpus folder")
        Trash(Path(self.settings.corpus)).put(name)
        return Saved(name, True, f"moved to the trash ({TRASH} in the corpus folder; restore it below); "
                                 "press Rebuild index to drop it from the answers")

    def trashed(self) -> list[Trashed]:
        return Trash(Path(self.settings.corpus)).entries()

    def restore_document(self, key: str) -> Saved:
        """Put a removed file back under its original name: never over another file, nor as a second
        copy of content the corpus holds now."""
        trash = Trash(Path(self.settings.corpus))
        entry = next((e for e in trash.entries() if e.key == key), None)
        if entry is None:
            return Saved("", False, "choose a removed file to restore")
        if twin := self.same_content(trash.folder / key / entry.name):
            return Saved(entry.name, False, f"refused: the same content is in the corpus now as {twin}")
        try:
            trash.restore(key)
        except TrashError as err:
            return Saved(entry.name, False, str(err))
        return Saved(entry.name, True, "restored to the corpus folder")


def readable_problem(path: Path, name: str) -> str | None:
    """Why an uploaded file would be skipped at the next rebuild (empty, no text, not what its
    extension says), or None: refused at upload, with the reason, instead of silently later."""
    try:
        load_document(path, name)
    except DocumentError as err:
        return str(err)
    except Exception as err:  # a reader's own failure on a damaged or disguised file
        return f"not a readable {Path(name).suffix} file ({type(err).__name__})"
    return None


MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240  # file systems allow 255 bytes a name; UTF-8 letters take up to 4
_UNSAFE = re.compile(r"[^\w .'(),+&-]")  # \w keeps letters and digits of every script


def safe_name(original: str) -> str | None:
    """A plain file name that keeps the user's words: NFC Unicode letters, digits, spaces and
    common punctuation; no folders, control characters or leading dots; a supported suffix that
    survives shortening (a name cut before its extension would be saved and never indexed)."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", original or "")[-1])
    base = _UNSAFE.sub("_", base).strip(" .")
    base = re.sub(r"\.{2,}", ".", base)
    stem, dot, suffix = base.rpartition(".")
    if not stem or not dot or f".{suffix.lower()}" not in SUPPORTED:
        return None
    suffix = "." + suffix
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    return stem + suffix if stem else None
