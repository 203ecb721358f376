"""OCR of PDF pages with Tesseract: pages rendered by poppler (`pdftoppm`, else PDFium), read by
the `tesseract` command in TSV mode, so the words come with boxes and feed the same cleanup as
a text layer (paragraphs, headings, headers and footers)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .model import DocumentError
from .pdf_lines import Block, Line, Page

DPI = 300
_TIMEOUT = 300


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None and (shutil.which("pdftoppm") is not None or _has_pdfium())


def _has_pdfium() -> bool:
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        return False
    return True


def ocr_pages(source: str, indexes: list[int], language: str = "eng") -> dict[int, Page]:
    """0-based page index → the page as Tesseract reads it (in PDF points)."""
    result = {}
    with tempfile.TemporaryDirectory(prefix="quoteback-ocr-") as folder:
        for index in indexes:
            image = _render(source, index, Path(folder))
            result[index] = read_image(image, language)
    return result


def _render(source: str, index: int, folder: Path) -> Path:
    target = folder / f"page-{index + 1}"
    if shutil.which("pdftoppm"):
        number = str(index + 1)
        subprocess.run(["pdftoppm", "-q", "-r", str(DPI), "-gray", "-png", "-singlefile", "-f", number, "-l", number,
                        source, str(target)], capture_output=True, timeout=_TIMEOUT)
        png = target.with_suffix(".png")
        if png.exists():
            return png
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(source)
    try:
        bitmap = document[index].render(scale=DPI / 72, grayscale=True)
        png = target.with_suffix(".png")
        bitmap.to_pil().save(png)
    finally:
        document.close()
    return png


def read_image(image: Path, language: str = "eng") -> Page:
    """Tesseract's words of one page image, grouped in its paragraphs and lines; boxes in points."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        done = subprocess.run(["tesseract", str(image), "stdout", "-l", language, "--psm", "3", "tsv"],
                              capture_output=True, timeout=_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        raise DocumentError(f"OCR took longer than {_TIMEOUT} s on one page") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DocumentError(f"OCR failed ({detail[-1][:200] if detail else done.returncode})")
    scale = 72 / DPI
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE))
    width = height = 0.0
    paragraphs: dict[tuple, dict[tuple, list]] = {}
    for row in rows:
        try:
            level = int(row["level"])
            box = [int(row[k]) * scale for k in ("left", "top", "width", "height")]
        except (KeyError, TypeError, ValueError):
            continue
        if level == 1:
            width, height = box[2], box[3]
        text = (row.get("text") or "").strip()
        if level != 5 or not text:
            continue
        if float(row.get("conf") or -1) < 0:
            continue
        para = (row["block_num"], row["par_num"])
        line = para + (row["line_num"],)
        paragraphs.setdefault(para, {}).setdefault(line, []).append((box, text))
    page = Page(width or 612.0, height or 792.0)
    for lines in paragraphs.values():
        block = []
        for words in lines.values():
            x0 = min(b[0] for b, _ in words)
            y0 = min(b[1] for b, _ in words)
            x1 = max(b[0] + b[2] for b, _ in words)
            y1 = max(b[1] + b[3] for b, _ in words)
            heights = sorted(b[3] for b, _ in words)
            block.append(Line(" ".join(t for _, t in words), x0, y0, x1, y1, heights[len(heights) // 2]))
        if block:
            page.blocks.append(Block(block))
    return page
