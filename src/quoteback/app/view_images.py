"""PDF page images for the document view: a page rendered once with pypdfium2 (cached), the
quote found among the page's own characters (tolerant to ligatures, hyphenation and spacing) and
its lines marked. Only the indexed file, unchanged since indexing, is ever rendered."""

import io
import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from ..documents.model import Document
from .view_links import ViewError, is_pdf

MAX_SIDE_PX = 1400  # the longer side of a rendered page image
DEFAULT_SCALE = 2.0  # 144 dpi: readable, not huge
MARK_RGBA = (255, 214, 0, 96)  # semi-transparent yellow

_PDFIUM = threading.Lock()  # pdfium is not thread-safe
_CACHE_LOCK = threading.Lock()


class _LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def fetch(self, key: Any, make: Callable[[], Any]) -> Any:
        with _CACHE_LOCK:
            if key in self:
                self.move_to_end(key)
                return self[key]
        value = make()
        with _CACHE_LOCK:
            self[key] = value
            while len(self) > self.size:
                self.popitem(last=False)
        return value


_PAGES = _LRU(24)  # (doc, hash, page) -> rendered page and its text geometry
_IMAGES = _LRU(64)  # (doc, hash, page, start, end) -> marked PNG bytes
_HASHES = _LRU(256)  # (file, size, mtime) -> sha256


def normalise(text: str) -> tuple[str, list[int]]:
    """Letters and digits only, compatibility-decomposed and case-folded, with each kept
    character's index in `text`: tolerant to whitespace, ligatures (ﬁ → fi), hyphenation and
    punctuation differences between a PDF's own text and the cleaned document text."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            if ch.isalnum():
                out.append(ch.lower())
                where.append(i)
            continue
        for part in unicodedata.normalize("NFKC", ch):
            if part.isalnum():
                for folded in part.casefold():
                    out.append(folded)
                    where.append(i)
    return "".join(out), where


class _RenderedPage:
    """A page rendered once: its image, its characters and where each one is drawn."""

    def __init__(self, path: Path, number: int) -> None:
        import ctypes

        import pypdfium2 as pdfium
        import pypdfium2.raw as pdfium_c

        with _PDFIUM:
            pdf = pdfium.PdfDocument(str(path))
            try:
                if not 1 <= number <= len(pdf):
                    raise ViewError(404, f"the PDF has {len(pdf)} pages, not {number}")
                page = pdf[number - 1]
                width, height = page.get_size()
                self.scale = min(DEFAULT_SCALE, MAX_SIDE_PX / max(width, height, 1))
                bitmap = page.render(scale=self.scale)
                self.image = bitmap.to_pil().convert("RGB")
                size_x, size_y = self.image.size
                textpage = page.get_textpage()
                count = textpage.count_chars()
                chars = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 0xFFFD) for i in range(count))
                self.text, self.where = normalise(chars)
                boxes = []
                dx, dy = ctypes.c_int(), ctypes.c_int()
                for i in range(count):
                    left, bottom, right, top = textpage.get_charbox(i)
                    corners = []
                    for x, y in ((left, top), (right, bottom)):
                        pdfium_c.FPDF_PageToDevice(page, 0, 0, size_x, size_y, 0, ctypes.c_double(x), ctypes.c_double(y), ctypes.byref(dx), ctypes.byref(dy))
                        corners.append((dx.value, dy.value))
                    (x0, y0), (x1, y1) = corners
                    boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
                self.boxes = boxes
                textpage.close()
                page.close()
            finally:
                pdf.close()

    def find(self, quote: str, expected: int) -> list[int]:
        """PDF char indices of the quote on this page: the whole quote if it is found, else each
        line (or run of words) of it found in order; the occurrence nearest `expected` (the
        quote's position in normalised page text) wins."""
        whole, _ = normalise(quote)
        if not whole:
            return []
        hit = self._nearest(whole, expected)
        if hit is not None:
            return sorted({self.where[k] for k in range(hit, hit + len(whole))})
        found: set[int] = set()
        cursor = max(0, expected - 200)
        for chunk in _chunks(quote):
            key, _ = normalise(chunk)
            if len(key) < 6:
                continue
            k = self.text.find(key, cursor)
            if k < 0:
                k = self.text.find(key)
            if k < 0:
                continue
            found.update(self.where[j] for j in range(k, k + len(key)))
            cursor = k + len(key)
        return sorted(found)

    def _nearest(self, key: str, expected: int) -> int | None:
        best, k = None, self.text.find(key)
        while k >= 0:
            if best is None or abs(k - expected) < abs(best - expected):
                best = k
            k = self.text.find(key, k + 1)
        return best

    def rectangles(self, indices: list[int]) -> list[tuple[float, float, float, float]]:
        """Line rectangles covering the chars: boxes of neighbouring chars on one line merged."""
        rects: list[list[float]] = []
        for i in indices:
            x0, y0, x1, y1 = self.boxes[i]
            if x1 - x0 <= 0 and y1 - y0 <= 0:
                continue  # generated chars (spaces, line ends) have no box
            if rects:
                r = rects[-1]
                overlap = min(r[3], y1) - max(r[1], y0)
                if overlap > 0.5 * min(r[3] - r[1], y1 - y0) and x0 >= r[0] - 2 and x0 - r[2] < 4 * (y1 - y0 + 1):
                    r[0], r[1], r[2], r[3] = min(r[0], x0), min(r[1], y0), max(r[2], x1), max(r[3], y1)
                    continue
            rects.append([x0, y0, x1, y1])
        return [tuple(r) for r in rects]

    def png(self, rects: list[tuple[float, float, float, float]]) -> bytes:
        from PIL import Image, ImageDraw

        base = self.image.convert("RGBA")
        overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        pad = max(1.0, 1.5 * self.scale)
        for x0, y0, x1, y1 in rects:
            draw.rectangle([x0 - pad, y0 - pad, x1 + pad, y1 + pad], fill=MARK_RGBA)
        out = io.BytesIO()
        Image.alpha_composite(base, overlay).convert("RGB").save(out, format="PNG", optimize=False)
        return out.getvalue()


def _chunks(quote: str, words: int = 8) -> list[str]:
    """The quote's lines, long ones split into runs of a few words (the fallback search units)."""
    pieces = []
    for line in quote.splitlines():
        tokens = line.split()
        for k in range(0, len(tokens), words):
            pieces.append(" ".join(tokens[k : k + words]))
    return pieces


def _file_hash(path: Path) -> str:
    from ..documents import file_hash

    stat = path.stat()
    return _HASHES.fetch((str(path), stat.st_size, stat.st_mtime_ns), lambda: file_hash(path))


def source_file(corpus: Path, document: Document) -> Path:
    """The indexed document's file inside the corpus folder, unchanged since it was indexed."""
    root = Path(corpus).resolve()
    path = (root / document.path).resolve()
    if root not in path.parents or not path.is_file():
        raise ViewError(404, f"the file of {document.path!r} is no longer in the corpus folder")
    if _file_hash(path) != document.content_hash:
        raise ViewError(409, f"{document.path!r} changed since the index was built; rebuild the index to view its pages")
    return path


def page_png(corpus: Path, document: Document, number: int, start: int, end: int) -> bytes:
    """Page `number` of the PDF rendered, with the part of `text[start:end]` on it marked."""
    if not (is_pdf(document) and document.pages):
        raise ViewError(404, f"{document.path!r} is not a PDF; it has no page images")
    if not 1 <= number <= len(document.pages):
        raise ViewError(400, f"page must be 1–{len(document.pages)}, not {number}")
    key = (document.path, document.content_hash, number)

    def make() -> bytes:
        path = source_file(corpus, document)
        page = _PAGES.fetch(key, lambda: _RenderedPage(path, number))
        page_start = document.pages[number - 1]
        page_end = document.pages[number] if number < len(document.pages) else len(document.text)
        s, e = max(start, page_start), min(end, page_end)
        indices: list[int] = []
        if s < e:
            expected = len(normalise(document.text[page_start:s])[0])
            indices = page.find(document.text[s:e], expected)
        return page.png(page.rectangles(indices))

    return _IMAGES.fetch((*key, start, end), make)
