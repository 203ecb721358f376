"""PDF: text with page boundaries, headings and paragraphs, via poppler's `pdftotext -bbox-layout`.

poppler was chosen by measurement on the dev PDFs (NIST, Raft, Dynamo, Bitcoin, Paxos): it
found every expected phrase, split the fewest words (19 word pairs whose join is a dictionary
word, against 156 for pypdf and 275 for PDFium) and took 0.4 s for 190 pages (pypdf 6.8 s,
pdfminer 10.7 s, pdfplumber 21 s). Its word boxes let `pdf_layout` drop running headers and
footers, put two-column pages in reading order and rebuild paragraphs and headings.

Pages without a usable text layer (no text on a page with images, or garbage: private-use
glyphs, few letters, few word-like tokens) are OCR'd with Tesseract when it is installed; when
it is not, such pages are left out with a warning, and a PDF with no usable page at all is
skipped with the reason. Without poppler (`pdftotext` not on PATH) pypdf's text is used, with
the same cleanup but no geometry.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from .model import DocumentError, Extracted
from .pdf_layout import assemble
from .pdf_lines import LEADERS, Block, Line, Page, clean_chars
from .pdf_words import Word, join_words, vocabulary, without_note_marks
from .text import iso_date

NO_OCR = "no usable text layer; install tesseract-ocr to read it"
LOCKED = "password-protected PDF: remove the password (e.g. print it to a new PDF) and add it again"
_TIMEOUT = 600


def read_pdf(path: Path, data: bytes) -> Extracted:
    if not data.lstrip()[:5].startswith(b"%PDF") and b"%PDF-" not in data[:1024]:
        raise DocumentError("broken PDF (no %PDF header)")
    with _on_disk(path, data) as source:
        try:
            if shutil.which("pdftotext"):
                pages, title, date = _poppler_pages(source)
            else:
                pages, title, date = _pypdf_pages(source)
        except DocumentError:
            if _locked(source):
                raise DocumentError(LOCKED) from None
            raise
        _fix_unusable(source, pages)
    return assemble(pages, _plausible_title(title, pages), date)


def _locked(source: str) -> bool:
    """Encrypted with a user password (asked after the text could not be read: one with an empty
    password opens, and is simply read)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(source)
        if not reader.is_encrypted:
            return False
    except Exception:  # noqa: BLE001 - a PDF too broken to tell: reported as broken
        return False
    try:
        return not reader.decrypt("")
    except Exception:  # noqa: BLE001 - an AES cipher pypdf can't open without `cryptography`: the text failed anyway
        return True


def _plausible_title(title: str | None, pages: list[Page]) -> str | None:
    """The metadata title unless it is unrelated to the document (a leftover from a template, such
    as `System Model` on a paper): most of its words must be on the first two pages."""
    words = re.findall(r"\w+", (title or "").casefold())
    if not words:
        return None
    start = " ".join(page_text(page) for page in pages[:2]).casefold()
    if len(words) <= 3:  # a short title must be there as written
        return title if " ".join(words) in " ".join(re.findall(r"\w+", start)) else None
    seen = set(re.findall(r"\w+", start))
    return title if sum(w in seen for w in words) >= len(words) * 0.6 else None


class _on_disk:
    """The PDF as a file for the command-line tools: `path` when it holds `data`, else a temp copy."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path, self.data, self.tmp = Path(path), data, None

    def __enter__(self) -> str:
        try:
            if self.path.is_file() and self.path.stat().st_size == len(self.data) and self.path.read_bytes() == self.data:
                return str(self.path)
        except OSError:
            pass
        handle, name = tempfile.mkstemp(suffix=".pdf")
        with os.fdopen(handle, "wb") as out:
            out.write(self.data)
        self.tmp = name
        return name

    def __exit__(self, *exc) -> None:
        if self.tmp:
            os.unlink(self.tmp)


# ---------------------------------------------------------------- poppler

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_BLOCK = re.compile(r"<block [^>]*>(.*?)</block>", re.S)
_LINE = re.compile(r"<line [^>]*>(.*?)</line>", re.S)
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', re.S)
_META = re.compile(r'<meta name="([^"]+)" content="([^"]*)"/>')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _run(args: list[str], what: str) -> bytes:
    try:
        done = subprocess.run(args, capture_output=True, timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DocumentError(f"{what} took longer than {_TIMEOUT} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = next((m for m in message if m.strip()), f"exit status {done.returncode}")
        raise DocumentError(f"broken PDF ({what}: {detail[:200]})")
    return done.stdout


def _poppler_pages(source: str) -> tuple[list[Page], str | None, str | None]:
    out = _run(["pdftotext", "-q", "-bbox-layout", "-enc", "UTF-8", source, "-"], "pdftotext").decode("utf-8", "replace")
    head = out[: out.find("<body>")] if "<body>" in out else ""
    meta = {name: html.unescape(value) for name, value in _META.findall(head)}
    title_match = _TITLE.search(head)
    title = html.unescape(title_match.group(1)).strip() if title_match else None
    parsed: list[tuple[Page, list[list[list[Word]]]]] = []  # each page with its blocks' lines' words
    for width, height, body in _PAGE.findall(out):
        blocks = [[without_note_marks([w for w in _words(line_xml) if w[4].strip()]) for line_xml in _LINE.findall(block_xml)]
                  for block_xml in _BLOCK.findall(body)]
        parsed.append((Page(float(width), float(height)), blocks))
    known = vocabulary(words for _, blocks in parsed for lines in blocks for words in lines)
    pages = []
    for page, blocks in parsed:
        for block in blocks:
            lines = [Line(join_words(words, known), min(w[0] for w in words), min(w[1] for w in words), max(w[2] for w in words),
                          max(w[3] for w in words), sorted(w[3] - w[1] for w in words)[len(words) // 2]) for words in block if words]
            if lines:
                page.blocks.append(Block(lines))
        pages.append(page)
    if not pages:
        raise DocumentError("broken PDF (no pages)")
    return pages, title or None, iso_date(meta.get("CreationDate"))


def _words(line_xml: str) -> list[Word]:
    return [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in _WORD.findall(line_xml)]


def _pypdf_pages(source: str) -> tuple[list[Page], str | None, str | None]:
    """Without poppler: pypdf's text, one block per page, line boxes estimated from the text."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(source)
        texts = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata or {}
    except Exception as err:
        raise DocumentError(f"broken PDF ({type(err).__name__}: {err})") from None
    pages = []
    for text in texts:
        raw = [line for line in text.splitlines() if line.strip()]
        width = max([len(line) for line in raw] + [1]) * 5.0
        lines = [Line(line, 0.0, 12.0 * i, len(line.rstrip()) * 5.0, 12.0 * i + 10, 10.0) for i, line in enumerate(raw)]
        page = Page(width, 12.0 * len(raw) + 10, [Block(lines)] if lines else [])
        pages.append(page)
    title = str(meta.get("/Title") or "").strip() or None
    return pages, title, iso_date(str(meta.get("/CreationDate") or "").removeprefix("D:"))


# ---------------------------------------------------------------- unusable pages

def page_text(page: Page) -> str:
    return "\n".join(line.text for block in page.blocks for line in block.lines)


def usable(text: str) -> bool:
    """Whether a page's text layer can be indexed: enough letters, few private-use or replacement
    characters, and mostly word-like tokens (garbage from fonts without a Unicode map fails)."""
    text = LEADERS.sub(" ", clean_chars(text))
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 3:
        return False
    odd = sum(0xE000 <= ord(ch) <= 0xF8FF or ch == "\ufffd" or ord(ch) < 32 for ch in visible)
    if odd > len(visible) * 0.1:
        return False
    letters = sum(ch.isalpha() for ch in visible)
    if letters < len(visible) * 0.4:
        return False
    tokens = re.findall(r"[^\W\d_]+", text)
    if len(tokens) < 5:
        return True  # too little to judge: a title page, a figure page
    wordlike = sum(_wordlike(token) for token in tokens)
    return wordlike >= len(tokens) * 0.5


_VOWELS = set("aeiouyAEIOUYàáâäèéêëìíîïòóôöùúûüÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜ")


def _wordlike(token: str) -> bool:
    if not token.isascii():
        return True  # other scripts: no judgement
    if len(token) == 1:
        return token in "aAI"
    if len(token) > 24:
        return False
    if not any(ch in _VOWELS for ch in token) and len(token) > 3:
        return token.isupper()  # acronyms
    inner = token[1:]
    return inner.islower() or inner.isupper() or token.islower()


def _image_pages(source: str) -> set[int] | None:
    """0-based pages that hold an image, None when `pdfimages` is not available."""
    if not shutil.which("pdfimages"):
        return None
    try:
        out = subprocess.run(["pdfimages", "-list", source], capture_output=True, timeout=_TIMEOUT).stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None
    found = set()
    for line in out.splitlines()[2:]:
        first = line.split()[:1]
        if first and first[0].isdigit():
            found.add(int(first[0]) - 1)
    return found


def _fix_unusable(source: str, pages: list[Page]) -> None:
    """OCR the pages without a usable text layer, or leave them out with a warning."""
    empty = [i for i, page in enumerate(pages) if not page_text(page).strip()]
    garbage = [i for i, page in enumerate(pages) if page_text(page).strip() and not usable(page_text(page))]
    if empty:
        images = _image_pages(source)
        empty = [i for i in empty if images is None or i in images]  # a page with nothing on it is just blank
    bad = sorted(empty + garbage)
    if not bad:
        return
    for i in garbage:
        pages[i].blocks = []  # never index garbage
    from .ocr import ocr_available, ocr_pages

    if not ocr_available():
        if len(bad) == len(pages) or all(not page.blocks for page in pages):
            raise DocumentError(NO_OCR)
        warnings.warn(f"{_pages_phrase(bad)} without a usable text layer left out; install tesseract-ocr to read them")
        return
    for i, page in ocr_pages(source, bad).items():
        pages[i] = page


def _pages_phrase(indexes: list[int]) -> str:
    numbers = [str(i + 1) for i in indexes]
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    shown = ", ".join(numbers[:10]) + (", ..." if len(numbers) > 10 else "")
    return f"pages {shown}"
