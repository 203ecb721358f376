"""Word (.docx): interim reader (paragraphs only)."""

from __future__ import annotations

from pathlib import Path

from .model import DocumentError, Extracted, TextBuilder


def read_docx(path: Path, data: bytes) -> Extracted:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as err:
        raise DocumentError(f"broken .docx ({type(err).__name__}: {err})") from None
    out = TextBuilder()
    for p in document.paragraphs:
        style = p.style.name if p.style is not None else ""
        if style.startswith("Heading") and style[-1:].isdigit():
            out.heading(p.text, int(style[-1]))
        else:
            out.paragraph(p.text)
    props = document.core_properties
    return out.build((props.title or "").strip() or None, props.created.date().isoformat() if props.created else None)
