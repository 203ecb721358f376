"""The HTML page of the document view: the document's details, a window of its text around the
quote with the quote marked and page starts shown, links to earlier and later parts, and, for a
PDF, the page images. All document text is HTML-escaped; the only script is the page's own."""

import html

from ..documents.model import SECTION_SEPARATOR, Document
from .view_links import is_pdf, page_image_url, view_url

WINDOW = 6000  # characters shown around a quote in a long document
LONG = 12000  # documents up to this length are shown whole

STYLE = """
body { font-family: ui-sans-serif, system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem 4rem; color: #1f2937; }
h1 { font-size: 1.4rem; margin: 0.5rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
dt { color: #6b7280; } dd { margin: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit; line-height: 1.5; background: #fafafa; border: 1px solid #e5e7eb; border-radius: 6px; padding: 1rem; }
mark { background: #fde68a; color: inherit; padding: 0 1px; box-shadow: 0 0 0 1px #f59e0b; }
.page-break { display: block; color: #9ca3af; font-size: 0.8rem; text-align: center; margin: 0.3rem 0; user-select: none; }
.more { display: block; margin: 0.5rem 0; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #d1d5db; box-shadow: 0 1px 4px #0002; }
figcaption { color: #6b7280; font-size: 0.9rem; margin-bottom: 0.3rem; }
nav a { font-size: 0.9rem; }
"""


def _page_html(title: str, body: str, nonce: str | None = None, script: str = "") -> str:
    tag = f'<script nonce="{nonce}">{script}</script>' if nonce and script else ""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<meta name=\"referrer\" content=\"no-referrer\"><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}{tag}</body></html>"
    )


def error_html(status: int, message: str) -> str:
    head = {400: "Bad request", 401: "Login required", 404: "Not found", 409: "Changed"}.get(status, "Error")
    return _page_html(f"{head} · quoteback", f"<h1>{head}</h1><p id=\"error\">{html.escape(message)}</p><nav><a href=\"/\">Back to the chat</a></nav>")


def _snap(text: str, offset: int, forward: bool) -> int:
    """Move a window edge to the nearest line (or at least word) boundary within 300 chars."""
    lo, hi = (offset, min(len(text), offset + 300)) if forward else (max(0, offset - 300), offset)
    cut = text.find("\n", lo, hi) if forward else text.rfind("\n", lo, hi)
    if cut < 0:
        cut = text.find(" ", lo, hi) if forward else text.rfind(" ", lo, hi)
    if cut < 0:
        return offset
    return cut + 1 if forward else cut + 1


def window(document: Document, start: int, end: int, at: int | None = None) -> tuple[int, int]:
    """The part of the text shown: all of a short document, else a few thousand characters around
    the quote (or from `at`, when the reader follows a link to an earlier or later part)."""
    n = len(document.text)
    if n <= LONG:
        return 0, n
    if at is None:
        half = max(0, (WINDOW - (end - start)) // 2)
        a, b = max(0, start - half), min(n, end + half)
    else:
        a = min(max(0, at), n - 1)
        b = min(n, a + WINDOW)
    if a > 0:
        a = min(_snap(document.text, a, forward=False), start if at is None else n)
    if b < n:
        b = max(_snap(document.text, b, forward=True), end if at is None else 0)
    return a, b


def _text_with_pages(document: Document, a: int, b: int, skip: tuple[int, int]) -> str:
    """Escaped text[a:b] with a small page marker at each page start (not inside `skip`). Each run
    of document text is a `data-at` span naming its offset: a selection in the page maps back to
    exact offsets (feedback_pick.py), the markers in between being no part of the text."""
    out, cursor = [], a
    for number, page_start in enumerate(document.pages, start=1):
        if a < page_start < b and not (skip[0] < page_start < skip[1]):
            out.append(_run(document.text, cursor, page_start))
            out.append(f'<span class="page-break" aria-hidden="true">— page {number} —</span>')
            cursor = page_start
    out.append(_run(document.text, cursor, b))
    return "".join(out)


def _run(text: str, a: int, b: int, tag: str = "span", attributes: str = "") -> str:
    return f'<{tag}{attributes} data-at="{a}">{html.escape(text[a:b])}</{tag}>' if a < b else ""


def view_html(document: Document, start: int, end: int, at: int | None = None, nonce: str = "", pick: str | None = None,
              top: str = "", script: str = "") -> str:
    """The page; `pick` (a reply id) keeps pick mode in the links to other parts, `top` is HTML put
    above the text and `script` runs after the page's own (pick mode's bar and script)."""
    text = document.text
    a, b = window(document, start, end, at)
    s, e = max(start, a), min(end, b)  # the part of the quote inside the window
    body = [f"<nav><a href=\"/\">← Back to the chat</a></nav><h1>{html.escape(document.title)}</h1><dl>"]
    body.append(f"<dt>File</dt><dd id=\"file\">{html.escape(document.path)}</dd>")
    body.append(f"<dt>Date</dt><dd id=\"date\">{html.escape(document.date or 'undated')}</dd>")
    section = SECTION_SEPARATOR.join(document.section_at(start))
    body.append(f"<dt>Section</dt><dd id=\"section\">{html.escape(section) if section else '—'}</dd>")
    pages = document.pages_of(start, end)
    if pages:
        shown = f"{pages[0]}" if len(pages) == 1 else f"{pages[0]}–{pages[-1]}"
        body.append(f"<dt>{'Page' if len(pages) == 1 else 'Pages'}</dt><dd id=\"page\">{shown} of {len(document.pages)}</dd>")
    body.append(f"<dt>Quote</dt><dd id=\"span\">characters {start}–{end} of {len(text)}</dd></dl>" if start < end else "</dl>")
    body.append(top)
    if a > 0:
        earlier = max(0, a - WINDOW)
        body.append(f'<a class="more" id="earlier" href="{html.escape(view_url(document.path, start, end, pick))}&amp;from={earlier}">↑ Earlier part (from character {earlier})</a>')
    body.append("<pre id=\"text\">")
    if s < e:
        body.append(_text_with_pages(document, a, s, (start, end)))
        body.append(_run(text, s, e, "mark", ' id="quote"'))
        body.append(_text_with_pages(document, e, b, (start, end)))
    else:
        body.append(_text_with_pages(document, a, b, (start, end)))
    body.append("</pre>")
    if b < len(text):
        body.append(f'<a class="more" id="later" href="{html.escape(view_url(document.path, start, end, pick))}&amp;from={b}">↓ Later part (from character {b})</a>')
    if (at is not None) and not (s < e) and start < end:
        body.append(f'<p><a href="{html.escape(view_url(document.path, start, end, pick))}">Back to the quote</a></p>')
    if pages and is_pdf(document) and start < end:
        body.append("<section id=\"pages\"><h2>The page as printed</h2>")
        for number in pages:
            src = html.escape(page_image_url(document.path, number, start, end))
            body.append(f'<figure><figcaption>Page {number}, the quoted lines marked</figcaption>'
                        f'<img src="{src}" alt="Page {number} of {html.escape(document.path)}, the quoted lines marked" class="page-image"></figure>')
        body.append("</section>")
    script = ("var q=document.getElementById('quote');if(q){q.scrollIntoView({block:'center'});}" if s < e else "") + script
    return _page_html(f"{document.title} · quoteback", "".join(body), nonce, script)
