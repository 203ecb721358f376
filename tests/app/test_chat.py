"""The chat app end to end: a real server, the real model and index, a real Chromium, gradio_client."""

from __future__ import annotations

import concurrent.futures
import os
import time
from pathlib import Path

import pytest

from tests.app.helpers import served
from tests.conftest import REPO, SEED, free_port

SEED_TEXT = SEED.read_text(encoding="utf-8")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
XSS = "Harmless markup test: <script>alert('xss')</script> and <img src=x onerror=alert('img')> and [a link](javascript:alert('md')). The zebra migration happens every spring."


_free_port = free_port  # other test modules import it from here


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # a text file's text is the file itself: the markup stays in it
    # --no-watch: the Documents tab's tests see the stale line and press Rebuild themselves
    with served(tmp_path_factory.mktemp("app"), {"markup.txt": XSS}, "--no-watch") as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("QUOTEBACK_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here: apt-get install -y chromium")
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    outside: list[str] = []
    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1100, "height": 1000})

    def route(r):
        if r.request.url.startswith((server["url"], "data:", "blob:")):
            r.continue_()
        else:  # the network is closed: the page must not need anything from outside
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server["url"], wait_until="load")
    page.wait_for_selector("textarea", timeout=120_000)  # Gradio renders after load; slow on a busy machine
    page.outside, page.dialogs = outside, dialogs
    yield page
    assert outside == [], f"requests left the machine: {outside}"
    assert dialogs == [], f"a script ran: {dialogs}"
    page.close()


def _ask(page, question: str, n: int, expect: str = "From ") -> str:
    """Ask in the chat box and wait until the n-th bot reply shows `expect`."""
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    try:
        page.wait_for_function(f"document.querySelectorAll('[data-testid=\"bot\"]').length >= {n}", timeout=60_000)
    except Exception:
        _shot(page, f"failed-ask-{n}")
        raise
    bot = page.locator('[data-testid="bot"]').nth(n - 1)
    page.wait_for_function("([el, text]) => el.innerText.includes(text)", arg=[bot.element_handle(), expect], timeout=60_000)
    return bot.inner_text()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_chat_quotes_and_declines(page):
    reply = _ask(page, "Why is the UN withdrawing its troops from Mali?", 1)
    assert "From FAQ: Russia’s Wagner Group in Mali:" in reply
    assert "The UN peacekeeping mission in Mali, known as MINUSMA, was established in 2013" in reply
    assert "wagner-group-in-mali-faq.txt · 2023-12-12" in reply
    assert page.locator('[data-testid="bot"]').first.locator("mark").count() >= 1  # highlighted sentence
    link = page.locator('[data-testid="bot"]').first.locator("a", has_text="open at the quote").first
    assert link.get_attribute("href").startswith("/view?doc=wagner-group-in-mali-faq.txt&start=")
    follow = _ask(page, "when was it set up?", 2)
    assert "Searched for" in follow and "established in 2013" in follow
    decline = _ask(page, "What is the capital of France?", 3, expect="The documents are not about this")
    assert "The documents are not about this" in decline and "From " not in decline
    bad = _ask(page, "a\x01b", 4, expect="control characters")
    assert "control characters" in bad
    _shot(page, "chat")


def test_related_passages_are_shown_as_such(page, server):
    """An on-topic question the FAQ does not answer: the closest passages, framed as not answering,
    with the confidence and no highlighted sentence."""
    client = _client(server)
    candidates = ["What is the capital of Mali?", "Who leads the military government of Mali?", "How many Wagner fighters are in Mali?"]
    question = next((q for q in candidates if client.predict(q, api_name="/ask")["outcome"] == "related"), None)
    assert question, "none of the on-topic questions the FAQ does not answer came back as related passages"
    reply = _ask(page, question, 1, expect="Related passage")
    assert "The documents are about this but don't answer it directly. The closest passages:" in reply and "confidence" in reply
    assert "From FAQ" not in reply
    assert page.locator('[data-testid="bot"]').first.locator("mark").count() == 0
    _shot(page, "chat-related")


def test_document_markup_renders_as_text(page):
    reply = _ask(page, "When does the zebra migration happen?", 1)
    assert "<script>alert('xss')</script>" in reply and "<img src=x onerror=alert('img')>" in reply
    bot = page.locator('[data-testid="bot"]').first
    assert bot.locator("script").count() == 0 and bot.locator("img").count() == 0
    assert bot.locator("a[href^='javascript']").count() == 0
    _shot(page, "markup")


def test_examples_and_tabs_render(page):
    assert page.get_by_text("What is the Wagner Group?").count() >= 1  # an example question from the FAQ
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_function("document.body.innerText.includes('wagner-group-in-mali-faq.txt')", timeout=30_000)
    assert "all-MiniLM-L6-v2" in page.locator("body").inner_text()
    _shot(page, "documents")
    page.get_by_role("tab", name="Evaluate").click()
    page.get_by_role("button", name="Run evaluation").click()
    page.wait_for_selector("#eval-summary table", timeout=120_000)
    summary = page.locator("#eval-summary").inner_text()
    assert "shipped-questions" in summary and "Success@1" in summary and "hybrid+sentences" in summary
    _shot(page, "evaluate")


def _client(server):
    from gradio_client import Client

    return Client(server["url"], verbose=False)


def test_api_ask_returns_verbatim_json(server):
    client = _client(server)
    result = client.predict("What is MINUSMA?", api_name="/ask")
    assert set(result) >= {"question", "answered", "quotes", "message"}
    assert result["answered"] and result["quotes"]
    for q in result["quotes"]:
        assert SEED_TEXT[q["start"] : q["end"]] == q["text"]
    declined = client.predict("Who won the 2018 FIFA World Cup?", api_name="/ask")
    assert declined["answered"] is False and declined["quotes"] == []
    bad = client.predict("", api_name="/ask")
    assert bad["answered"] is False and "empty" in bad["message"]
    huge = client.predict("x" * 100_000, api_name="/ask")
    assert huge["answered"] is False and "limit" in huge["message"]


def test_twenty_concurrent_asks(server):
    questions = ["What is MINUSMA?", "Is the Wagner Group replacing the UN in Mali?", "What is the Wagner Group?", "Why is the UN withdrawing its troops from Mali?"]
    expected = ["known as MINUSMA", "not officially replacing the UN", "Russian private military company", "gradually reducing its troop presence"]

    def one(i):
        return i, _client(server).predict(questions[i % 4], api_name="/ask")

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20), timeout=180))
    assert time.time() - started < 180
    for i, result in results:
        assert result["answered"] and expected[i % 4] in result["quotes"][0]["text"]


def test_upload_rebuild_and_ask_while_rebuilding(page, server):
    corpus = server["corpus"]
    for i in range(250):  # make the rebuild last long enough to ask during it
        (corpus / f"filler{i}.txt").write_text(f"Filler note {i} about lighthouse keeping and coastal fog signals.\n\n" * 3)
    upload = server["root"] / "okapi-facts.md"
    upload.write_text("# Okapi facts\n\nThe okapi is a giraffid native to the Democratic Republic of the Congo.\n")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Save to corpus").click()
    page.wait_for_selector("text=saved; press Rebuild index", timeout=30_000)
    assert (corpus / "okapi-facts.md").is_file()
    page.get_by_role("button", name="Rebuild index").click()
    client = _client(server)
    answered_during = 0
    progress_seen: set[str] = set()
    deadline = time.time() + 300
    while time.time() < deadline:
        result = client.predict("What is MINUSMA?", api_name="/ask")
        assert result["answered"] and "known as MINUSMA" in result["quotes"][0]["text"]
        answered_during += 1
        shown = page.locator("#rebuild-result").inner_text()
        if "Rebuilding the index" in shown:
            progress_seen.add(shown)
            if "embedding passages:" in shown and not (ARTIFACTS / "rebuild-progress.png").exists():
                _shot(page, "rebuild-progress")
            # one progress display: no Gradio progress bars or timers over the tables
            assert page.locator(".eta-bar, .progress-bar-wrap, .progress-level").count() == 0
        if "Rebuilt:" in shown:
            break
    assert "Rebuilt:" in page.locator("#rebuild-result").inner_text()
    assert answered_during >= 2
    # stage by stage, with counts
    assert any("embedding passages:" in s and " of " in s for s in progress_seen), progress_seen
    _shot(page, "rebuilt")
    result = client.predict("Where is the okapi native to?", api_name="/ask")
    assert result["answered"] and result["quotes"][0]["document"] == "okapi-facts.md"


def test_chat_builds_and_warms_before_announcing_the_url(server):
    """`quoteback chat` with a stale index shows the build summary, then the URL (issue 12, item 5)."""
    log = (server["root"] / "server.log").read_text()
    assert "0 unchanged, 0 changed, 2 added, 0 removed" in log and "Running on http://127.0.0.1:" in log
    assert log.index("2 added") < log.index("Running on")
    assert "share=True" not in log and "Traceback" not in log


def _documents(page):
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_function("document.querySelector('#index-status') && document.querySelector('#index-status').innerText.includes('Index:')", timeout=30_000)


def test_documents_status_follows_uploads_and_removals(page, server):
    _documents(page)
    status = page.locator("#index-status")
    assert "up to date" in status.inner_text()
    assert page.locator("#skipped").inner_text().count("none") == 1  # not a blank row
    label = page.locator("#upload").inner_text()
    assert ".pdf" in label and ".docx" in label and "20 MB" in label
    note = server["root"] / "heron-notes.md"
    note.write_text("# Heron notes\n\nThe grey heron waits motionless in the shallows of the estuary.\n")
    empty = server["root"] / "empty.txt"
    empty.write_text("")
    page.locator("#upload input[type=file]").set_input_files([str(note), str(empty)])
    page.get_by_role("button", name="Save to corpus").click()
    page.wait_for_selector("text=heron-notes.md: saved", timeout=30_000)
    assert "empty.txt: refused: empty file" in page.locator("#rebuild-result").inner_text()
    assert not (server["corpus"] / "empty.txt").exists()
    page.wait_for_function("document.querySelector('#index-status').innerText.includes('stale')", timeout=10_000)
    assert "1 added: heron-notes.md" in status.inner_text()  # no reload needed
    _shot(page, "documents-stale")
    page.locator("#remove-choice input").click()
    page.locator("#remove-choice input").press_sequentially("heron-notes")  # filter: the folder may hold hundreds of files
    page.locator("[role=option]", has_text="heron-notes.md").first.click()
    page.get_by_role("button", name="Remove from corpus").click()
    page.get_by_role("button", name="Move to trash").click()  # asked first: nothing goes in one click
    page.wait_for_selector("text=heron-notes.md: moved to the trash", timeout=30_000)
    assert not (server["corpus"] / "heron-notes.md").exists() and (server["corpus"] / SEED.name).exists()
    assert list((server["corpus"] / ".quoteback-trash").glob("*/heron-notes.md"))
    page.wait_for_function("document.querySelector('#index-status').innerText.includes('up to date')", timeout=10_000)


def test_evaluate_and_chat_layout_at_desktop_and_phone_widths(browser, server):
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(server["url"], wait_until="load")
        page.wait_for_selector("textarea", timeout=120_000)
        box = page.locator("#question textarea")
        box.fill("What is MINUSMA?")
        page.get_by_role("button", name="Send").click()  # a send button, not only Enter
        page.wait_for_function("document.querySelectorAll('[data-testid=\"bot\"]').length >= 1", timeout=60_000)
        page.wait_for_function("document.querySelector('#question textarea').placeholder.length > 0", timeout=10_000)
        assert box.get_attribute("placeholder") == "Ask about the documents…"  # kept after the first question
        assert page.get_by_role("button", name="Send").is_visible()
        _shot(page, f"chat-{width}")
        page.get_by_role("tab", name="Evaluate").click()
        page.get_by_role("button", name="Run evaluation").click()
        page.wait_for_selector("#eval-summary table", timeout=180_000)
        page.wait_for_function("document.querySelector('#eval-failures').innerText.includes('…')", timeout=30_000)
        # metrics never wrap mid-number: every cell is one line high
        heights = page.evaluate("() => [...document.querySelectorAll('#eval-summary td')].map(td => td.getClientRects().length && td.scrollHeight)")
        assert max(heights) < 2.2 * min(heights)
        # the failures fit their box at both widths: nothing hidden to the right, no sideways scroll
        fits = page.evaluate("() => { const b = document.querySelector('#eval-failures'); return [b.scrollWidth, b.clientWidth] }")
        assert fits[0] <= fits[1] + 2, fits
        # the answering/declining trade-off drawn beside Success@k; each measure's name explains itself
        page.wait_for_selector("#eval-trade-off img", timeout=30_000)
        for name in ("RR@10", "nDCG@10", "confidence", "observed"):
            assert len(page.locator("#eval-summary abbr", has_text=name).first.get_attribute("title")) > 20
        assert "Abstention" not in page.locator("#eval-summary").inner_text()
        text = page.locator("#eval-failures").inner_text()
        assert "expected:" in text and any(line.endswith(" …") for line in text.split("\n"))  # clipped at a word
        _shot(page, f"evaluate-{width}")
        page.close()
