"""Addresses and requests of the document view: the URLs a quote links to, the parameters a
request names (checked, never trusted: a document is looked up in the index, offsets must be whole
numbers inside its text), and the error that carries an HTTP status to the page that says why."""

from typing import Any
from urllib.parse import quote, urlencode

from ..documents.model import Document


def view_url(document: str, start: int, end: int, pick: str | None = None) -> str:
    """The relative URL of the view of `document` at the quote `text[start:end]`. `pick`: a reply
    id, the view in pick mode (the reader selects where that reply's answer is; feedback_pick.py)."""
    params = {"doc": document, "start": int(start), "end": int(end), **({"pick": pick} if pick else {})}
    return "/view?" + urlencode(params, quote_via=quote)


def page_image_url(document: str, page: int, start: int, end: int) -> str:
    """The relative URL of page `page` of a PDF, rendered with the quote's lines marked."""
    return "/view/page.png?" + urlencode({"doc": document, "page": int(page), "start": int(start), "end": int(end)}, quote_via=quote)


class ViewError(Exception):
    """A request the view cannot serve: the HTTP status and a one-line reason for the reader."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def int_param(params: Any, name: str, required: bool = True) -> int | None:
    """A whole-number query parameter, or a ViewError (400) naming it."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise ViewError(400, f"missing parameter '{name}'")
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 18:
        raise ViewError(400, f"parameter '{name}' must be a whole number, not {raw[:40]!r}")
    return int(raw)


def lookup(documents: dict[str, Document], params: Any, pick: bool = False) -> tuple[Document, int, int]:
    """The document and quote span a request names, or a ViewError (400 / 404) saying why. `pick`:
    the span may be empty or left out (a document opened to pick a passage in, no quote marked)."""
    name = params.get("doc")
    if not name:
        raise ViewError(400, "missing parameter 'doc' (the document's path as listed in the Documents tab)")
    document = documents.get(name)
    if document is None:
        raise ViewError(404, f"no document {name[:200]!r} in the index: removed from the collection, or never in it")
    if pick and params.get("start") in (None, "") and params.get("end") in (None, ""):
        return document, 0, 0
    start, end = int_param(params, "start"), int_param(params, "end")
    if pick and start == end and 0 <= start <= len(document.text):
        return document, start, end
    if start < 0 or end > len(document.text):
        raise ViewError(400, f"offsets {start}–{end} are outside the document (0–{len(document.text)})")
    if start >= end:
        raise ViewError(400, f"start ({start}) must be before end ({end})")
    return document, start, end


def is_pdf(document: Document) -> bool:
    """Whether the document has page images to show (a PDF)."""
    return document.path.lower().endswith(".pdf")
