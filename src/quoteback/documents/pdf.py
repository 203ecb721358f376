"""PDF: interim reader (pypdf text, pages kept)."""

from __future__ import annotations

from pathlib import Path

from .html import tidy
from .model import DocumentError, Extracted
from .text import iso_date


def read_pdf(path: Path, data: bytes) -> Extracted:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        pages = [tidy(page.extract_text() or "") for page in reader.pages]
    except Exception as err:
        raise DocumentError(f"broken PDF ({type(err).__name__}: {err})") from None
    meta = reader.metadata or {}
    text, starts = "", []
    for page in pages:
        starts.append(len(text) + (2 if text else 0))
        text = f"{text}\n\n{page}" if text else page
    return Extracted(text, (meta.get("/Title") or "").strip() or None,
                     iso_date(str(meta.get("/CreationDate") or "").removeprefix("D:")), 0, starts)
