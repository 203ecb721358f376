"""Open a document at a quote: an HTML page with the quote highlighted in the document's text
and, for PDFs, the rendered page image(s) with the quoted lines marked.

    GET /view?doc=<path>&start=<int>&end=<int>[&from=<int>]
    GET /view/page.png?doc=<path>&page=<n>&start=<int>&end=<int>

The routes live beside the Gradio Blocks in one FastAPI app (`create_app`, `serve`): the Blocks
is mounted at "/" with `gr.mount_gradio_app`, Gradio's supported way to share a server with
other routes. With a login (`auth`), the view honours Gradio's own session cookie: a request
without a valid login gets 401 and a link to the login page.

Only documents of the live index can be opened: `doc` is looked up in `index.documents`, never
joined to a path before that; the PDF file read for a page image is the indexed document's own
path inside the corpus folder, checked to stay inside it and to still have the indexed hash.
Document text is always HTML-escaped; the page allows no script but its own (CSP nonce).
"""

# no `from __future__ import annotations`: FastAPI reads the route signatures at runtime

import html
import io
import os
import secrets
import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from .documents.model import SECTION_SEPARATOR, Document

WINDOW = 6000  # characters shown around a quote in a long document
LONG = 12000  # documents up to this length are shown whole
MAX_SIDE_PX = 1400  # the longer side of a rendered page image
DEFAULT_SCALE = 2.0  # 144 dpi: readable, not huge
MARK_RGBA = (255, 214, 0, 96)  # semi-transparent yellow


def view_url(document: str, start: int, end: int) -> str:
    """The relative URL of the view of `document` at the quote `text[start:end]`."""
    return "/view?" + urlencode({"doc": document, "start": int(start), "end": int(end)}, quote_via=quote)


def page_image_url(document: str, page: int, start: int, end: int) -> str:
    return "/view/page.png?" + urlencode({"doc": document, "page": int(page), "start": int(start), "end": int(end)}, quote_via=quote)


class ViewError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------------------------------------
# Parameters


def _int(params: Any, name: str, required: bool = True) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise ViewError(400, f"missing parameter '{name}'")
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 18:
        raise ViewError(400, f"parameter '{name}' must be a whole number, not {raw[:40]!r}")
    return int(raw)


def lookup(documents: dict[str, Document], params: Any) -> tuple[Document, int, int]:
    """The document and quote span a request names, or a ViewError (400 / 404) saying why."""
    name = params.get("doc")
    if not name:
        raise ViewError(400, "missing parameter 'doc' (the document's path as listed in the Documents tab)")
    document = documents.get(name)
    if document is None:
        raise ViewError(404, f"no document {name[:200]!r} in the index")
    start, end = _int(params, "start"), _int(params, "end")
    if start < 0 or end > len(document.text):
        raise ViewError(400, f"offsets {start}–{end} are outside the document (0–{len(document.text)})")
    if start >= end:
        raise ViewError(400, f"start ({start}) must be before end ({end})")
    return document, start, end


# ---------------------------------------------------------------------------------------------
# The HTML page


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
    """Escaped text[a:b] with a small page marker at each page start (not inside `skip`)."""
    out, cursor = [], a
    for number, page_start in enumerate(document.pages, start=1):
        if a < page_start < b and not (skip[0] < page_start < skip[1]):
            out.append(html.escape(document.text[cursor:page_start]))
            out.append(f'<span class="page-break" aria-hidden="true">— page {number} —</span>')
            cursor = page_start
    out.append(html.escape(document.text[cursor:b]))
    return "".join(out)


def view_html(document: Document, start: int, end: int, at: int | None = None, nonce: str = "") -> str:
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
    body.append(f"<dt>Quote</dt><dd id=\"span\">characters {start}–{end} of {len(text)}</dd></dl>")
    if a > 0:
        earlier = max(0, a - WINDOW)
        body.append(f'<a class="more" id="earlier" href="{html.escape(view_url(document.path, start, end))}&amp;from={earlier}">↑ Earlier part (from character {earlier})</a>')
    body.append("<pre id=\"text\">")
    if s < e:
        body.append(_text_with_pages(document, a, s, (start, end)))
        body.append(f'<mark id="quote">{html.escape(text[s:e])}</mark>')
        body.append(_text_with_pages(document, e, b, (start, end)))
    else:
        body.append(_text_with_pages(document, a, b, (start, end)))
    body.append("</pre>")
    if b < len(text):
        body.append(f'<a class="more" id="later" href="{html.escape(view_url(document.path, start, end))}&amp;from={b}">↓ Later part (from character {b})</a>')
    if (at is not None) and not (s < e):
        body.append(f'<p><a href="{html.escape(view_url(document.path, start, end))}">Back to the quote</a></p>')
    if pages and is_pdf(document):
        body.append("<section id=\"pages\"><h2>The page as printed</h2>")
        for number in pages:
            src = html.escape(page_image_url(document.path, number, start, end))
            body.append(f'<figure><figcaption>Page {number}, the quoted lines marked</figcaption>'
                        f'<img src="{src}" alt="Page {number} of {html.escape(document.path)}, the quoted lines marked" class="page-image"></figure>')
        body.append("</section>")
    script = "var q=document.getElementById('quote');if(q){q.scrollIntoView({block:'center'});}" if s < e else ""
    return _page_html(f"{document.title} · quoteback", "".join(body), nonce, script)


def is_pdf(document: Document) -> bool:
    return document.path.lower().endswith(".pdf")


# ---------------------------------------------------------------------------------------------
# PDF page images


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
    from .documents import file_hash

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


# ---------------------------------------------------------------------------------------------
# Routes and server


def add_routes(app: Any, service: Any, logged_in: Callable[[Any], bool]) -> None:
    """Register GET /view and GET /view/page.png on a FastAPI app."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, Response

    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

    def refuse(err: ViewError) -> HTMLResponse:
        return HTMLResponse(error_html(err.status, err.message), status_code=err.status, headers=headers)

    @app.get("/view", include_in_schema=False)
    def view(request: Request):
        if not logged_in(request):
            return refuse(ViewError(401, "log in to the chat first, then open this link again"))
        try:
            document, start, end = lookup(service.answerer.index.documents, request.query_params)
            at = _int(request.query_params, "from", required=False)
            if at is not None and not 0 <= at < len(document.text):
                raise ViewError(400, f"'from' must be 0–{len(document.text) - 1}, not {at}")
            nonce = secrets.token_urlsafe(16)
            page = view_html(document, start, end, at, nonce)
        except ViewError as err:
            return refuse(err)
        csp = f"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'"
        return HTMLResponse(page, headers={**headers, "Content-Security-Policy": csp})

    @app.get("/view/page.png", include_in_schema=False)
    def page_image(request: Request):
        if not logged_in(request):
            return refuse(ViewError(401, "log in to the chat first"))
        try:
            document, start, end = lookup(service.answerer.index.documents, request.query_params)
            number = _int(request.query_params, "page")
            data = page_png(Path(service.settings.corpus), document, number, start, end)
        except ViewError as err:
            return refuse(err)
        except Exception as err:  # a PDF pdfium cannot render: say so, never a traceback
            return refuse(ViewError(500, f"the page could not be rendered ({type(err).__name__})"))
        return Response(data, media_type="image/png", headers={**headers, "Cache-Control": "private, max-age=300"})


def gradio_login_check(gradio_app: Any) -> Callable[[Any], bool]:
    """Whether a request carries the login of the mounted Gradio app: the same session cookie
    (`access-token[-unsecure]-<cookie_id>`) and token table Gradio's own /login_check reads.
    Fails closed if this Gradio version keeps them elsewhere."""

    def check(request: Any) -> bool:
        if getattr(gradio_app, "auth", None) is None and getattr(gradio_app, "auth_dependency", None) is None:
            return True
        cookie_id, tokens = getattr(gradio_app, "cookie_id", None), getattr(gradio_app, "tokens", None)
        if cookie_id is None or tokens is None:
            return False
        token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(f"access-token-unsecure-{cookie_id}")
        return token is not None and token in tokens

    return check


def create_app(demo: Any, service: Any, *, server_name: str = "127.0.0.1", server_port: int = 7860, auth: Any = None,
               show_error: bool = False, **mount_kwargs: Any):
    """One FastAPI app: the view routes, then the Blocks mounted at "/" (with its theme, css, auth,
    ssr and file-size settings passed through to `gr.mount_gradio_app`)."""
    import gradio as gr
    from fastapi import FastAPI
    from starlette.routing import Mount

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    holder: dict[str, Callable[[Any], bool]] = {}
    add_routes(app, service, lambda request: holder["check"](request))
    gr.mount_gradio_app(app, demo, path="/", server_name=server_name, server_port=server_port, auth=auth, show_error=show_error, **mount_kwargs)
    gradio_app = [route.app for route in app.routes if isinstance(route, Mount)][-1]
    holder["check"] = gradio_login_check(gradio_app) if auth is not None else (lambda request: True)
    if auth is not None and getattr(gradio_app, "auth", None) is None:
        raise RuntimeError("the login was not applied to the chat")
    return app


def serve(demo: Any, service: Any, *, server_name: str = "127.0.0.1", server_port: int = 7860,
          announce: Callable[[str], None] | None = None, **settings: Any) -> None:
    """Run the chat and the document view on one server (in place of `demo.launch`); the URL is
    announced once the server listens."""
    import time

    import uvicorn

    app = create_app(demo, service, server_name=server_name, server_port=server_port, **settings)
    shown = "localhost" if server_name in ("0.0.0.0", "::") else f"[{server_name}]" if ":" in server_name else server_name
    server = uvicorn.Server(uvicorn.Config(app, host=server_name, port=server_port, timeout_graceful_shutdown=5,
                                           log_level=os.environ.get("QUOTEBACK_LOG_LEVEL", "warning")))

    def announce_when_listening() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            (announce or (lambda url: print(f"Running on {url}", flush=True)))(f"http://{shown}:{server_port}/")

    threading.Thread(target=announce_when_listening, daemon=True).start()
    server.run()
