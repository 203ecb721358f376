"""Stage 1: load documents from a folder: the text as a reader sees it, its pages and headings.

Every later offset refers to `Document.text`. A .txt file's text is the file's decoded content
unchanged (a `date 2023-12-12` first line or `---` front matter is skipped via `body_start`);
the other formats are extracted to clean text (see each reader), and that text is what is
stored with the index, quoted and shown in the document view. A sidecar `NAME.meta.json` beside
a file overrides its title and date and gives it tags (see `sidecar`).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path
from typing import Callable

from .model import Corpus, Document, DocumentError, Extracted, Notice, Skipped, TextBuilder
from .sidecar import Sidecar, SidecarError, document_of, read_sidecar, sidecar_path, with_sidecar
from .filing import cover_end, filing_title
from .text import title_from_name, usable_title

__all__ = ["Corpus", "Document", "DocumentError", "Extracted", "Notice", "Skipped", "TextBuilder", "SUPPORTED",
           "corpus_files", "file_hash", "load_corpus", "load_document", "source_hash"]

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _reader(suffix: str) -> Callable[[Path, bytes], Extracted]:
    """The reader of a file type, imported only when such a file is read."""
    if suffix == ".txt":
        from .text import read_text

        return lambda path, data: read_text(data)
    if suffix in (".md", ".markdown"):
        from .markdown import read_markdown

        return lambda path, data: read_markdown(data)
    if suffix in (".html", ".htm"):
        from .html import read_html

        return lambda path, data: read_html(data)
    if suffix == ".pdf":
        from .pdf import read_pdf

        return read_pdf
    if suffix == ".docx":
        from .docx import read_docx

        return read_docx
    shown = suffix or "(no extension)"
    raise DocumentError(f"unsupported file type {shown}; supported: {', '.join(SUPPORTED)}")


def corpus_files(folder: Path) -> list[Path]:
    """Every file under `folder`, recursively, in a stable order; hidden files and folders ignored.

    Unsupported types are listed too: the build reports them as skipped, so every file the user
    put in the folder shows up either as indexed or as skipped with a reason. A sidecar
    (`report.pdf.meta.json`) is part of its document, not listed; one without its document is."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"corpus folder {folder} {what}")
    found = [p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    present = set(found)
    found = [p for p in found if document_of(p) not in present]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def file_hash(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_hash(path: Path) -> str:
    """What the index records for a corpus file: its hash, folded with its sidecar's when it has
    one, so a changed sidecar makes the document stale (without one: the plain file hash)."""
    return with_sidecar(file_hash(path), path)


def load_corpus(folder: Path, only: set[str] | None = None, progress: Progress | None = None) -> Corpus:
    """Load every file; unreadable ones are reported in `skipped`, never fatal.

    `only` restricts loading to these relative paths (the incremental build re-reads just the
    changed documents). Warnings a library prints while reading a file are collected in
    `notices` with the file's name, instead of appearing on the console without it."""
    folder = Path(folder)
    paths = [p for p in corpus_files(folder) if only is None or p.relative_to(folder).as_posix() in only]
    documents, skipped, notices = [], [], []
    for done, path in enumerate(paths):
        rel = path.relative_to(folder).as_posix()
        if progress:
            progress("reading documents", done, len(paths))
        with _captured() as caught:
            try:
                documents.append(load_document(path, rel))
            except DocumentError as err:
                skipped.append(Skipped(rel, str(err)))
            except Exception as err:  # a broken file of any kind must not stop the build
                skipped.append(Skipped(rel, f"unreadable {path.suffix} file ({type(err).__name__}: {err})"))
        notices += [Notice(rel, message) for message in dict.fromkeys(caught)]
    if progress and paths:
        progress("reading documents", len(paths), len(paths))
    return Corpus(documents, skipped, notices)


def load_document(path: Path, rel: str | None = None) -> Document:
    """One document; a bad sidecar is a warning (a `Notice` under `load_corpus`), never a lost document."""
    path = Path(path)
    described = document_of(path)
    if described is not None:
        raise DocumentError(f"a sidecar of {described.name}, which is not in this folder (a sidecar is named "
                            "after the full file name: report.pdf.meta.json)")
    reader = _reader(path.suffix.lower())
    data = path.read_bytes()
    if not data.strip():
        raise DocumentError("empty file")
    extracted = reader(path, data)
    text = extracted.text
    if not text[extracted.body_start :].strip():
        raise DocumentError("no text to index (empty, or only images)")
    first_heading = next((text[a:b] for a, b, _ in extracted.headings), None)
    cover = cover_end(text, extracted.pages)
    try:
        meta = read_sidecar(path) or Sidecar()
    except SidecarError as err:  # collected by load_corpus as a notice naming the document
        warnings.warn(f"sidecar {sidecar_path(path).name} ignored: {err}")
        meta = Sidecar()
    return Document(
        path=rel or path.name,
        title=meta.title or filing_title(text) or usable_title(extracted.title) or usable_title(first_heading) or title_from_name(path.stem),
        date=meta.date or extracted.date,
        text=text,
        body_start=extracted.body_start,
        content_hash=hashlib.sha256(data).hexdigest(),
        pages=list(extracted.pages),
        headings=[list(h) for h in extracted.headings if h[0] >= cover],  # a filing's cover is no section
        tags=list(meta.tags),
    )


class _captured:
    """Collects Python warnings and library log records (pypdf, pdfminer, ...) while one file is read."""

    def __enter__(self) -> list[str]:
        self.messages: list[str] = []
        self._warnings = warnings.catch_warnings(record=True)
        self._records = self._warnings.__enter__()
        warnings.simplefilter("always")
        self._handler = _ListHandler(self.messages)
        self._root = logging.getLogger()
        self._root.addHandler(self._handler)
        self._propagate = {}
        for name in ("pypdf", "pdfminer", "docx", "trafilatura", "readability", "PIL"):
            logger = logging.getLogger(name)
            self._propagate[name] = logger.propagate
            logger.propagate = False
            logger.addHandler(self._handler)
        return self.messages

    def __exit__(self, *exc) -> None:
        # a ResourceWarning is the garbage collector finding something else left open (an event
        # loop, a socket) while this file was read: never about the file, so never its notice
        self.messages += [str(w.message) for w in self._records if not issubclass(w.category, ResourceWarning)]
        self._warnings.__exit__(*exc)
        self._root.removeHandler(self._handler)
        for name, propagate in self._propagate.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self._handler)
            logger.propagate = propagate


class _ListHandler(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split())[:300])
