"""Stage 1: load documents from a folder, with their metadata and extracted text.

Every later offset refers to `Document.text`. For .txt and .md files that text is the file's
decoded content unchanged, so a quote is also an exact slice of the file itself; a metadata
header (`date 2023-12-12` on the first line, or `---` front matter) is skipped via `body_start`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

_DATE_HEADER = re.compile(r"\A\s*date:?\s+(\d{4}-\d{2}-\d{2})\s*")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_BLOCK_TAGS = "p h1 h2 h3 h4 h5 h6 li dt dd pre blockquote tr div section article br table ul ol".split()


class DocumentError(Exception):
    """A document that cannot be indexed; the message says why, for the build report."""


@dataclass(frozen=True)
class Document:
    path: str  # relative to the corpus folder, with forward slashes
    title: str
    date: str | None  # ISO yyyy-mm-dd when known
    text: str
    body_start: int  # offset where quotable text starts (after any metadata header)
    content_hash: str  # sha256 of the file's bytes


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    skipped: list[Skipped]


def corpus_files(folder: Path) -> list[Path]:
    """Supported files under `folder`, recursively, in a stable order; hidden files ignored."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {folder} does not exist")
    found = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_corpus(folder: Path, only: set[str] | None = None) -> Corpus:
    """Load every supported file; unreadable ones are reported in `skipped`, never fatal.

    `only` restricts loading to these relative paths (the incremental build re-reads just the
    changed documents).
    """
    folder = Path(folder)
    documents, skipped = [], []
    for path in corpus_files(folder):
        rel = path.relative_to(folder).as_posix()
        if only is not None and rel not in only:
            continue
        try:
            documents.append(load_document(path, rel))
        except DocumentError as err:
            skipped.append(Skipped(rel, str(err)))
        except Exception as err:  # a broken file of any kind must not stop the build
            skipped.append(Skipped(rel, f"unreadable {path.suffix} file ({type(err).__name__}: {err})"))
    return Corpus(documents, skipped)


def load_document(path: Path, rel: str | None = None) -> Document:
    path = Path(path)
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md", ".markdown"):
        text = _decode(data)
        title, date, body_start = _text_metadata(text, markdown=suffix != ".txt")
    elif suffix in (".html", ".htm"):
        text, title, date = _html(_decode(data))
        body_start = 0
    elif suffix == ".pdf":
        text, title, date = _pdf(path)
        body_start = 0
    elif suffix == ".docx":
        text, title, date = _docx(path)
        body_start = 0
    else:
        raise DocumentError(f"unsupported file type {suffix}")
    if not text[body_start:].strip():
        raise DocumentError("no text to index (empty, or only images)")
    return Document(
        path=rel or path.name,
        title=title or _title_from_name(path),
        date=date,
        text=text,
        body_start=body_start,
        content_hash=hashlib.sha256(data).hexdigest(),
    )


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentError(f"not valid UTF-8 text (byte {err.start})") from None


def _text_metadata(text: str, markdown: bool) -> tuple[str | None, str | None, int]:
    title = date = None
    body_start = 0
    front = _FRONT_MATTER.match(text)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            value = value.strip().strip("\"'")
            if key.strip().lower() == "title" and value:
                title = value
            elif key.strip().lower() == "date" and value:
                date = _iso(value)
        body_start = front.end()
    else:
        header = _DATE_HEADER.match(text)
        if header:
            date, body_start = header.group(1), header.end()
    body = text[body_start:]
    if title is None and markdown:
        heading = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", body, re.M)
        title = heading.group(1).strip() if heading else None
    if title is None:
        title = _heading_line(body)
    return title, date, body_start


def _heading_line(body: str) -> str | None:
    """The first standalone short line with no closing punctuation: how plain text titles look."""
    for block in re.split(r"\n[ \t\r]*\n", body)[:40]:
        line = block.strip()
        if line and "\n" not in line and len(line) <= 100 and line[-1] not in ".!?,;:":
            return line
    return None


def _title_from_name(path: Path) -> str:
    words = re.sub(r"[_\-]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def _iso(value: str | None) -> str | None:
    match = _ISO_DATE.search(value or "")
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


def _html(markup: str) -> tuple[str, str | None, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    date = None
    for meta in soup.find_all("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        if name in ("date", "article:published_time", "dc.date", "pubdate") and meta.get("content"):
            date = _iso(meta["content"])
            break
    if date is None and soup.find("time", datetime=True):
        date = _iso(soup.find("time", datetime=True)["datetime"])
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "svg"]):
        tag.decompose()
    if not title:
        heading = soup.find(["h1", "h2"])
        title = heading.get_text(" ", strip=True) if heading else None
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return _tidy(soup.get_text()), title or None, date


def _tidy(text: str) -> str:
    """Collapse layout whitespace from extraction: one space inside lines, blank lines between blocks."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _pdf(path: Path) -> tuple[str, str | None, str | None]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as err:
        raise DocumentError(f"broken PDF ({type(err).__name__}: {err})") from None
    meta = reader.metadata or {}
    title = (meta.get("/Title") or "").strip() or None
    date = _iso(str(meta.get("/CreationDate") or "").removeprefix("D:"))
    return _tidy("\n\n".join(pages)), title, date


def _docx(path: Path) -> tuple[str, str | None, str | None]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as err:
        raise DocumentError(f"broken .docx ({type(err).__name__}: {err})") from None
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    props = document.core_properties
    title = (props.title or "").strip() or None
    if title is None:
        for p in document.paragraphs:
            if p.text.strip() and p.style is not None and p.style.name.startswith(("Title", "Heading")):
                title = p.text.strip()
                break
    date = props.created.date().isoformat() if props.created else None
    return "\n\n".join(paragraphs), title, date
