"""The document view at a quote: a real server (chat + /view), the real model and index, Chromium.

The corpus holds the shipped FAQ, a PDF made here with fpdf2 (three sections over two pages),
a text file with markup in it, and a long text file (shown as a window around the quote).
"""

from __future__ import annotations

import html
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from quoteback.app.viewer import view_url
from tests.conftest import SEED, chat_server
from tests.app.test_chat import ARTIFACTS, _free_port, browser  # noqa: F401  (the Chromium fixture)

FOG = "The fog horn sounds two blasts every thirty seconds whenever visibility drops below two nautical miles"
LENS = "The lens is cleaned every morning with a soft linen cloth"
MARKUP = "Keeper's note: <script>alert(1)</script> and <img src=x onerror=alert(2)> must show as text. The okapi eats leaves."
GUIDE = "Plug the radio into a grounded socket before switching it on."
FILLER = "The keeper records the weather at dawn and at dusk in the station log, as every keeper before him did. "


def make_pdf(path: Path) -> None:
    """Two A4 pages: 1 Introduction and 2 Fog Signals on page 1, 3 Lamp Maintenance on page 2."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title("Lighthouse Keeping Manual")
    pdf.set_margins(25, 25)

    def heading(text: str, size: int) -> None:
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(0, size * 0.6, text)
        pdf.ln(3)

    def paragraph(text: str) -> None:
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, text)
        pdf.ln(4)

    pdf.add_page()
    heading("Lighthouse Keeping Manual", 20)
    heading("1 Introduction", 15)
    paragraph(FILLER * 5)
    heading("2 Fog Signals", 15)
    paragraph(FOG + ", and the keeper must stay on watch until the fog has fully lifted from the harbour entrance.")
    paragraph(FILLER * 4)
    pdf.add_page()
    heading("3 Lamp Maintenance", 15)
    paragraph(LENS + " and the brass fittings are polished on Sundays, so that the beam reaches its full rated range of eighteen nautical miles.")
    paragraph(FILLER * 3)
    pdf.output(str(path))


@pytest.fixture(scope="module")
def viewer_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    make_pdf(corpus / "lighthouse.pdf")
    (corpus / "markup.txt").write_text(MARKUP + "\n")
    (corpus / "guide.md").write_text("# Radio Guide\n\n## Setup\n\n### Power\n\n" + GUIDE + "\n\n## Use\n\nTurn the dial.\n")
    (corpus / "long-log.txt").write_text("Station Log\n\n" + "".join(f"Entry {i}: {FILLER}\n" for i in range(400)))
    with chat_server(root, corpus) as url:
        from quoteback.index import load_index

        index = load_index(root / "index")
        yield SimpleNamespace(url=url, corpus=corpus, root=root, documents=index.documents)


@pytest.fixture
def view_page(browser, viewer_server):  # noqa: F811
    outside: list[str] = []
    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1100, "height": 900})

    def route(r):
        if r.request.url.startswith((viewer_server.url, "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.outside, page.dialogs = outside, dialogs
    yield page
    assert outside == [], f"requests left the machine: {outside}"
    assert dialogs == [], f"a script ran: {dialogs}"
    page.close()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def _quote_in_view(page) -> bool:
    return page.evaluate(
        "() => { const r = document.getElementById('quote').getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.top < window.innerHeight; }"
    )


def _marked_pixels(png: bytes) -> int:
    """Pixels of the marker's yellow over white paper in a page image."""
    import io

    from PIL import Image

    import numpy as np

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r > 240) & (g > 210) & (g < 245) & (b < 190)).sum())


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_pdf_quote_from_an_answer_opens_at_the_page(view_page, viewer_server):
    from gradio_client import Client

    answer = Client(viewer_server.url + "/", verbose=False).predict("How often does the fog horn sound?", api_name="/ask")
    quote = next(q for q in answer["quotes"] if q["document"] == "lighthouse.pdf")
    document = viewer_server.documents["lighthouse.pdf"]
    assert document.text[quote["start"] : quote["end"]] == quote["text"]
    assert "fog horn sounds two blasts" in quote["text"]

    page = view_page
    page.goto(viewer_server.url + view_url("lighthouse.pdf", quote["start"], quote["end"]), wait_until="load")
    mark = page.locator("mark#quote")
    assert mark.text_content() == quote["text"]
    assert _quote_in_view(page)
    assert page.locator("h1").inner_text() == "Lighthouse Keeping Manual"
    assert page.locator("#file").inner_text() == "lighthouse.pdf"
    section = page.locator("#section").inner_text()
    assert section == (" › ".join(document.section_at(quote["start"])) or "—")
    if document.headings:  # the PDF reader may or may not find headings; when it does, this one
        assert "2 Fog Signals" in section
    assert page.locator("#page").inner_text().startswith("1 of 2")

    image = page.locator("img.page-image")
    assert image.count() == 1
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
    width = page.evaluate("() => document.querySelector('img.page-image').naturalWidth")
    assert width >= 800
    status, kind, data = _get(viewer_server.url + image.get_attribute("src"))
    assert status == 200 and kind == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert _marked_pixels(data) > 5_000  # the quoted lines are painted yellow
    image.scroll_into_view_if_needed()
    _shot(page, "viewer-pdf")
    ARTIFACTS.joinpath("viewer-pdf-page1.png").write_bytes(data)


def test_quote_across_a_page_break_shows_both_pages(view_page, viewer_server):
    document = viewer_server.documents["lighthouse.pdf"]
    assert len(document.pages) == 2
    start = document.text.rindex("The keeper records", 0, document.pages[1])
    end = document.text.index(LENS) + len(LENS)
    page = view_page
    page.goto(viewer_server.url + view_url("lighthouse.pdf", start, end), wait_until="load")
    assert page.locator("mark#quote").text_content() == document.text[start:end]
    assert page.locator("#page").inner_text().startswith("1–2 of 2")
    assert page.locator("img.page-image").count() == 2
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
    _shot(page, "viewer-pdf-two-pages")
    status, kind, data = _get(viewer_server.url + page.locator("img.page-image").nth(1).get_attribute("src"))
    assert status == 200 and kind == "image/png" and _marked_pixels(data) > 1_000
    ARTIFACTS.joinpath("viewer-pdf-page2.png").write_bytes(data)


def test_long_text_is_a_window_scrolled_to_the_quote(view_page, viewer_server):
    document = viewer_server.documents["long-log.txt"]
    start = document.text.index("Entry 250:")
    end = document.text.index("\n", start)
    page = view_page
    page.goto(viewer_server.url + view_url("long-log.txt", start, end), wait_until="load")
    assert page.locator("mark#quote").text_content() == document.text[start:end]
    assert _quote_in_view(page) and page.evaluate("() => window.scrollY") > 0
    shown = page.locator("#text").text_content()
    assert len(shown) < len(document.text) / 2 and "Entry 1:" not in shown
    assert page.locator("#page").count() == 0 and page.locator("img").count() == 0  # no pages in a text file
    page.locator("#later").click()
    page.wait_for_load_state("load")
    assert page.locator("mark#quote").count() == 0 and "Entry 300:" in page.locator("#text").text_content()
    page.locator("#earlier").click()
    page.wait_for_load_state("load")
    assert page.locator("#earlier").count() + page.locator("#later").count() >= 1


def test_shipped_faq_quote_and_markup_shown_as_text(view_page, viewer_server):
    faq = viewer_server.documents[SEED.name]
    start = faq.text.index("The UN peacekeeping mission in Mali")
    page = view_page
    page.goto(viewer_server.url + view_url(SEED.name, start, start + 80), wait_until="load")
    assert page.locator("mark#quote").text_content() == faq.text[start : start + 80]
    assert page.locator("#date").inner_text() == "2023-12-12"

    guide = viewer_server.documents["guide.md"]
    start = guide.text.index(GUIDE)
    page.goto(viewer_server.url + view_url("guide.md", start, start + len(GUIDE)), wait_until="load")
    assert page.locator("mark#quote").text_content() == GUIDE
    assert page.locator("#section").inner_text() == "Radio Guide › Setup › Power"

    markup = viewer_server.documents["markup.txt"]
    start = markup.text.index("<script>")
    end = markup.text.index("must show")
    page.goto(viewer_server.url + view_url("markup.txt", start, end), wait_until="load")
    page.wait_for_timeout(500)
    assert page.locator("mark#quote").text_content() == markup.text[start:end]
    assert "<script>alert(1)</script>" in page.locator("#text").text_content()
    assert page.locator("#text script").count() == 0 and page.locator("#text img").count() == 0
    _shot(page, "viewer-markup")
    # the dialogs list is checked empty by the fixture


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("doc=nope.txt&start=0&end=5", 404, "no document"),
        ("doc=../../etc/passwd&start=0&end=5", 404, "no document"),
        ("doc=%2Fetc%2Fpasswd&start=0&end=5", 404, "no document"),
        ("doc=markup.txt&start=abc&end=5", 400, "whole number"),
        ("doc=markup.txt&start=1.5&end=5", 400, "whole number"),
        ("doc=markup.txt&start=5&end=5", 400, "before end"),
        ("doc=markup.txt&start=-1&end=5", 400, "outside"),
        ("doc=markup.txt&start=0&end=100000", 400, "outside"),
        ("doc=markup.txt&start=0", 400, "missing parameter 'end'"),
        ("start=0&end=5", 400, "missing parameter 'doc'"),
        ("doc=markup.txt&start=0&end=5&from=x", 400, "whole number"),
    ],
)
def test_bad_parameters_get_a_one_line_error(viewer_server, query, status, message):
    code, kind, body = _get(viewer_server.url + "/view?" + query)
    text = html.unescape(body.decode())
    assert code == status and kind.startswith("text/html")
    assert message in text and "Traceback" not in text


def test_page_image_errors(viewer_server):
    base = viewer_server.url + "/view/page.png?"
    assert _get(base + "doc=markup.txt&page=1&start=0&end=5")[0] == 404  # not a PDF
    assert _get(base + "doc=lighthouse.pdf&page=3&start=0&end=5")[0] == 400
    assert _get(base + "doc=lighthouse.pdf&page=x&start=0&end=5")[0] == 400
    assert _get(base + "doc=..%2F..%2Fetc%2Fpasswd&page=1&start=0&end=5")[0] == 404


def test_pdf_text_matching_tolerates_extraction_differences():
    from quoteback.app.view_images import normalise

    assert normalise("The \ufb01ne exam-\nple,  ok")[0] == normalise("The fine example ok")[0] == "thefineexampleok"
    text, where = normalise("a\ufb01 b")
    assert text == "afib" and where == [0, 1, 1, 3]


def test_view_url_is_relative_and_encoded():
    assert view_url("a b/c&d.pdf", 3, 9) == "/view?doc=a%20b%2Fc%26d.pdf&start=3&end=9"
    assert view_url("a.txt", 0, 0, "0123456789abcdef") == "/view?doc=a.txt&start=0&end=0&pick=0123456789abcdef"


def test_pick_mode_may_name_no_quote():
    """Pick mode opens a document with no quote marked (no offsets, or an empty span); a view of a
    quote still needs one."""
    from quoteback.app.view_links import ViewError, lookup
    from quoteback.documents.model import Document

    docs = {"n.txt": Document("n.txt", "N", None, "Hello there.", 0, "x")}
    assert lookup(docs, {"doc": "n.txt"}, pick=True)[1:] == (0, 0)
    assert lookup(docs, {"doc": "n.txt", "start": "4", "end": "4"}, pick=True)[1:] == (4, 4)
    for params in ({"doc": "n.txt"}, {"doc": "n.txt", "start": "4", "end": "4"}):
        with pytest.raises(ViewError):
            lookup(docs, params)
    with pytest.raises(ViewError):
        lookup(docs, {"doc": "n.txt", "start": "40", "end": "40"}, pick=True)


def test_view_requires_the_chat_login(tmp_path):
    """With a login, /view answers 401 until Gradio's own /login has set its session cookie."""
    import gradio as gr
    from fastapi.testclient import TestClient

    from quoteback.documents.model import Document
    from quoteback.app.viewer import create_app

    doc = Document("note.txt", "Note", None, "Hello <b>world</b>, plain text.", 0, "x")
    service = SimpleNamespace(answerer=SimpleNamespace(index=SimpleNamespace(documents={"note.txt": doc})), settings=SimpleNamespace(corpus=tmp_path))
    with gr.Blocks() as demo:
        gr.Markdown("hi")
    app = create_app(demo, service, auth=("ann", "secret"), ssr_mode=False)
    client = TestClient(app)  # plain http on loopback: Gradio's non-secure cookie is the one sent
    url = view_url("note.txt", 6, 18)
    assert client.get(url).status_code == 401
    assert client.post("/login", data={"username": "ann", "password": "wrong"}).status_code == 400
    assert client.get(url).status_code == 401
    assert client.post("/login", data={"username": "ann", "password": "secret"}).status_code == 200
    page = client.get(url)
    assert page.status_code == 200 and '<mark id="quote" data-at="6">&lt;b&gt;world&lt;/b&gt;</mark>' in page.text
    assert "script-src 'nonce-" in page.headers["content-security-policy"]

    with gr.Blocks() as other:
        gr.Markdown("hi")
    open_app = create_app(other, service, ssr_mode=False)  # no login: the view is open like the chat
    assert TestClient(open_app).get(url).status_code == 200


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab <&>\n\u00e9\u2014", min_size=1, max_size=400), st.data())
def test_every_run_of_text_in_the_view_names_its_offset(text, data):
    """Each `data-at` run of the page holds exactly text[at:at + its length] (what pick mode maps a
    selection back with), and the runs together are the shown window, page markers aside."""
    import re

    from quoteback.app.view_page import view_html, window
    from quoteback.documents.model import Document

    pages = sorted(set(data.draw(st.lists(st.integers(1, len(text)), max_size=3))))
    doc = Document("t.txt", "T", None, text, 0, "x", pages=[0, *pages] if pages else [])
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    page = view_html(doc, start, end)
    runs = [(int(at), html.unescape(body)) for at, body in re.findall(r'<(?:span|mark)[^>]*? data-at="(\d+)">([^<]*)</', page)]
    a, b = window(doc, start, end)
    assert runs and all(text[at : at + len(body)] == body for at, body in runs)
    assert "".join(body for _, body in runs) == text[a:b] and runs[0][0] == a
