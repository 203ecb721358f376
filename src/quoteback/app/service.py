"""What the chat app serves: the live answerers (one a collection), each swapped in place after its
rebuild, and the files of each collection's folder (uploads, removal to the trash, restore).

Every method that names a `collection` takes None for the default: all collections for answers
and the document list, the first one for a collection's files and builds (the unnamed corpus
when none is named)."""

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
from ..collections import CollectionsAnswerer, collections_of
from ..documents.model import Document
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
    """Answers from the current indexes while a rebuild prepares the next one."""

    watched = False  # a live folder re-indexes the folders as they change (watch.py sets it)

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.names = list(settings.collections)  # the named collections; empty: the one unnamed corpus
        self.embedder = embedder or Embedder.from_settings(settings)
        self._build_embedder = Embedder.from_settings(settings)  # builds never block chat
        self._answerers: dict[str, Answerer] = {  # the CLI built them
            c.name: open_answerer(c.settings, build=False, embedder=self.embedder).answerer for c in collections_of(settings)}
        self._all = self._combined()
        self._swap = threading.Lock()
        self._building = threading.Lock()  # one build at a time, whichever collection: they share the build model

    def _combined(self) -> Answerer | CollectionsAnswerer:
        return CollectionsAnswerer(self._answerers) if self.names else self._answerers[""]

    @property
    def answerer(self) -> Answerer | CollectionsAnswerer:
        """What answers a question asked of everything (all the collections, ranked together)."""
        with self._swap:
            return self._all

    def answerer_of(self, collection: str | None = None) -> Answerer | CollectionsAnswerer:
        """The answerer of one collection (its quotes tagged with it), or of all (None or "")."""
        if not collection:
            return self.answerer
        name = self.name_of(collection)
        with self._swap:
            return CollectionsAnswerer({name: self._answerers[name]})

    def name_of(self, collection: str | None) -> str:
        """The collection meant: a known name, the first when None, "" for the unnamed corpus;
        a ValueError names the collections when it is none of them."""
        names = list(self.settings.collections)
        if not collection and not names:
            return ""
        if collection and collection not in names:
            self.settings.for_collection(collection)  # raises, naming the known ones
        return collection or names[0]

    def settings_of(self, collection: str | None = None) -> Settings:
        """One collection's settings: its folder, its index (the unnamed corpus: the settings)."""
        name = self.name_of(collection)
        return self.settings.for_collection(name) if name else self.settings

    def page_source(self, document: Document) -> tuple[Path, Document]:
        """The folder and the indexed document behind a document the view shows (for PDF pages)."""
        if not self.settings.collections:
            return Path(self.settings.corpus), document
        name, original = self.answerer.index.source(document)
        return Path(self.settings_of(name).corpus), original

    def warm(self) -> None:
        """One real question end to end: model weights, BM25 and FAISS pages are hot before any user asks."""
        self.ask(self.example_questions(1)[0] if self.example_questions(1) else "What are these documents about?")

    def ask(self, question: str, history: Sequence[str] = (), where: Sequence[str] | str | None = None,
            collection: str | None = None) -> Answer:
        """`where`: `--where` conditions; `collection`: one collection's name (None: all). A bad
        condition or an unknown collection is answered like a bad question (valid=False, the CLI's
        one-line reason), so a typo never costs a traceback or a server error."""
        try:
            scope = Filter.parse(where)
            answerer = self.answerer_of(collection)
        except ValueError as err:
            return Answer(question if isinstance(question, str) else "", False, [], str(err), valid=False)
        return answerer.ask(question, history=history, where=scope)

    def documents(self, collection: str | None = None) -> list[str]:
        """The indexed documents' paths (what `doc=` matches exactly) in one collection or all, sorted."""
        with self._swap:
            chosen = [self._answerers[self.name_of(collection)]] if collection else list(self._answerers.values())
        return sorted({path for answerer in chosen for path in answerer.index.documents})

    def rebuild(self, progress: Progress | None = None, wait: bool = False, collection: str | None = None) -> BuildReport:
        """Update one collection's index and swap it in. `wait`: queue behind a build under way
        (the live folder) instead of refusing (the button)."""
        name = self.name_of(collection)
        settings = self.settings_of(name)
        if not self._building.acquire(blocking=wait):
            raise RuntimeError("a rebuild is already running")
        try:
            report = IndexBuilder(settings, self._build_embedder).build(progress=progress)
            fresh = Answerer(open_backend(settings).load(), self.embedder, settings)
            with self._swap:
                self._answerers[name] = fresh
                self._all = self._combined()
            return report
        finally:
            self._building.release()

    def status(self, collection: str | None = None) -> dict:
        """One collection's index: model, build time, passages, staleness, documents and skipped files."""
        name = self.name_of(collection)
        with self._swap:
            index = self._answerers[name].index
        current = index_status(self.settings_of(name))
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
        with self._swap:
            documents = [doc for answerer in self._answerers.values() for doc in answerer.index.documents.values()]
        for doc in documents:
            for line in doc.text[doc.body_start :].splitlines():
                line = line.strip()
                if line.endswith("?") and 10 < len(line) < 100 and line not in found:
                    found.append(line)
        return found[:limit]

    def save_upload(self, source: Path, original_name: str, collection: str | None = None) -> Saved:
        """Copy an uploaded file into a collection's folder under a safe, non-clobbering name."""
        name = safe_name(original_name)
        if name is None:
            return Saved(original_name, False, f"not a supported type (allowed: {', '.join(SUPPORTED)})")
        size = Path(source).stat().st_size
        if size > MAX_UPLOAD_BYTES:
            return Saved(name, False, f"too large ({size / 1e6:.1f} MB; limit {MAX_UPLOAD_BYTES // 2**20} MB)")
        if twin := self.same_content(Path(source), collection):
            return Saved(name, False, f"refused: the same content is already in the corpus as {twin}")
        corpus = Path(self.settings_of(collection).corpus).resolve()
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
        return Saved(target.name, True, "saved; it will be indexed automatically in a moment" if self.watched
                     else "saved; press Rebuild index to add it")

    def corpus_names(self, collection: str | None = None) -> list[str]:
        """Every file of a collection's folder, by its path relative to it (the names removal accepts)."""
        corpus = Path(self.settings_of(collection).corpus)
        return [p.relative_to(corpus).as_posix() for p in corpus_files(corpus)]

    def same_content(self, path: Path, collection: str | None = None) -> str | None:
        """The indexed-type corpus file holding exactly these bytes, if any: a second copy would only
        index every passage twice (and cite `notes-1.md`). Only files of the same size are hashed."""
        size, digest = path.stat().st_size, None
        corpus = Path(self.settings_of(collection).corpus)
        for other in corpus_files(corpus):
            if other.suffix.lower() not in SUPPORTED or other.stat().st_size != size:
                continue
            if (digest := digest or file_hash(path)) == file_hash(other):
                return other.relative_to(corpus).as_posix()
        return None

    def remove_document(self, name: str, collection: str | None = None) -> Saved:
        """Move one file of a collection's folder (and its sidecar) to the trash, chosen by the name
        the Documents tab lists; nothing outside the folder can be named. The index keeps it until
        the next rebuild."""
        if not name or name not in self.corpus_names(collection):
            return Saved(name or "", False, "not a file of the corpus folder")
        Trash(Path(self.settings_of(collection).corpus)).put(name)
        then = ("it leaves the answers once the live folder has re-indexed" if self.watched
                else "press Rebuild index to drop it from the answers")
        return Saved(name, True, f"moved to the trash ({TRASH} in the corpus folder; restore it below); {then}")

    def trashed(self, collection: str | None = None) -> list[Trashed]:
        return Trash(Path(self.settings_of(collection).corpus)).entries()

    def restore_document(self, key: str, collection: str | None = None) -> Saved:
        """Put a removed file (and its sidecar) back under its original name: never over another
        file, nor as a second copy of content the folder holds now."""
        trash = Trash(Path(self.settings_of(collection).corpus))
        entry = next((e for e in trash.entries() if e.key == key), None)
        if entry is None:
            return Saved("", False, "choose a removed file to restore")
        if twin := self.same_content(trash.folder / key / entry.name, collection):
            return Saved(entry.name, False, f"refused: the same content is in the corpus now as {twin}")
        try:
            trash.restore(key)
        except TrashError as err:
            return Saved(entry.name, False, str(err))
        return Saved(entry.name, True, "restored to the corpus folder" + ("; it will be indexed automatically in a moment"
                                                                          if self.watched else "; press Rebuild index to add it back"))


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
