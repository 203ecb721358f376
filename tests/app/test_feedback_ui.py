"""The chat's feedback in Chromium, on a real index of the shipped corpus: 👍, a quote's "This
answers it", 👎 then the passage picked in the document view, "none of the documents answer
this" with a comment, the keyboard alone, feedback off, and the layout at 1280 and 390 px.
Each click is checked in the database itself (FeedbackStore), against the quotes the page showed."""

from __future__ import annotations

import hashlib
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest

from quoteback.feedback.store import FeedbackStore, feedback_db
from quoteback.settings import Settings
from tests.app.helpers import app_page
from tests.app.test_chat import ARTIFACTS, _ask, browser  # noqa: F401  (the Chromium fixture)
from tests.conftest import REPO, SEED, chat_server

TEXT = SEED.read_text(encoding="utf-8")
BOT = '[data-testid="bot"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback")
    shutil.copytree(REPO / "corpus", root / "corpus")
    with chat_server(root, root / "corpus", "--no-watch") as url:
        yield {"url": url + "/", "root": root, "store": FeedbackStore(feedback_db(Settings(index=root / "index")))}


def shown_quotes(page, n: int = 1) -> list[tuple[str, int, int]]:
    """The (document, start, end) of each quote of the n-th reply, read from its "open at the quote" links."""
    out = []
    for href in page.locator(BOT).nth(n - 1).locator("a", has_text="open at the quote").evaluate_all("(a) => a.map((x) => x.getAttribute('href'))"):
        q = parse_qs(urlsplit(href).query)
        out.append((q["doc"][0], int(q["start"][0]), int(q["end"][0])))
    return out


def new_rows(store: FeedbackStore, after: int, count: int = 1, timeout: float = 30) -> list:
    """The judgments stored after row `after`, once there are `count` of them."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = [r for r in store.list() if r.id > after]
        if len(rows) >= count:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"expected {count} new judgments, found {[r for r in store.list() if r.id > after]}")


def last_id(store: FeedbackStore) -> int:
    rows = store.list(1)
    return rows[0].id if rows else 0


def span(row) -> tuple[str, int, int]:
    return row.span.document, row.span.start, row.span.end


def sha(a: int, b: int) -> str:
    return hashlib.sha256(TEXT[a:b].encode("utf-8")).hexdigest()


def status_says(page, text: str) -> str:
    page.wait_for_function("(t) => (document.querySelector('#feedback-status')?.innerText || '').includes(t)", arg=text, timeout=30_000)
    return page.locator("#feedback-status").inner_text()


def test_thumbs_up_stores_the_first_quote_shown(browser, server):
    store = server["store"]
    before = last_id(store)
    with app_page(browser, server["url"], 1280) as page:
        _ask(page, "What is MINUSMA?", 1)
        quotes = shown_quotes(page)
        page.get_by_role("button", name="Like", exact=True).first.click()
        status_says(page, "Recorded: the first quote answers it")
    (row,) = new_rows(store, before)
    assert row.judgment == "answers" and span(row) == quotes[0] and row.span.sha256 == sha(*quotes[0][1:])
    assert [(q.document, q.start, q.end) for q in row.quotes] == quotes
    assert (row.question, row.history, row.where, row.outcome, row.user) == ("What is MINUSMA?", (), (), "answer", "")
    assert 0 < row.confidence <= 1 and row.index_version.startswith("v-")


def test_this_answers_it_stores_that_quote(browser, server):
    store = server["store"]
    before = last_id(store)
    with app_page(browser, server["url"], 1280) as page:
        _ask(page, "What is MINUSMA?", 1)
        _ask(page, "What is the Wagner Group?", 2)  # a follow-up in a conversation: its history is stored too
        quotes = shown_quotes(page, 2)
        buttons = page.locator(BOT).nth(1).get_by_role("button", name="This answers it")
        assert buttons.count() == len(quotes) >= 1
        buttons.last.click()
        status_says(page, f"quote {len(quotes)} answers it")
    (row,) = new_rows(store, before)
    assert row.judgment == "answers" and span(row) == quotes[-1] and row.history == ("What is MINUSMA?",)


def _select(view, phrase: str, mouse: bool = False) -> None:
    """Select `phrase` in the view's text: with a DOM range built here (independently of the page's
    own mapping), across any runs and marks it spans."""
    view.evaluate("""(phrase) => {
      const walk = document.createTreeWalker(document.getElementById('text'), NodeFilter.SHOW_TEXT);
      const nodes = []; let all = '';
      for (let t; (t = walk.nextNode());) { if (t.parentElement.closest('.page-break')) continue; nodes.push([t, all.length]); all += t.data; }
      const at = all.indexOf(phrase), end = at + phrase.length;
      const find = (i) => { for (const [t, base] of nodes) if (i <= base + t.length) return [t, i - base]; };
      const r = document.createRange(); r.setStart(...find(at)); r.setEnd(...find(end));
      const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
    }""", phrase)


def test_thumbs_down_then_the_answer_picked_in_the_document(browser, server):
    store = server["store"]
    before = last_id(store)
    with app_page(browser, server["url"], 1280) as page:
        _ask(page, "What is MINUSMA?", 1)
        quotes = shown_quotes(page)
        assert quotes
        page.get_by_role("button", name="Dislike", exact=True).first.click()
        status_says(page, "the quotes shown don't answer it")
        page.wait_for_selector("#feedback-panel", state="visible")
        with page.expect_popup() as popup:
            page.get_by_role("link", name="Where is the answer? Pick it in a document").click()
        view = popup.value
        view.wait_for_load_state("load")
        assert "What is MINUSMA?" in view.locator("#pick-question").inner_text()
        # across the end of the marked quote and the text after it: two runs of the page
        phrase = TEXT[quotes[0][2] - 20 : quotes[0][2] + 25].strip()
        _select(view, phrase)
        view.get_by_role("button", name="Use the selected text as the answer").click()
        view.wait_for_selector("#pick-status.ok", timeout=30_000)
        assert "Recorded: the answer is" in view.locator("#pick-status").inner_text()
        # with the mouse: a double click selects a word
        view.locator("#quote").dblclick(position={"x": 30, "y": 8})
        selected = view.evaluate("() => window.getSelection().toString()")
        view.get_by_role("button", name="Use the selected text as the answer").click()
        view.wait_for_function("() => document.querySelector('#pick-status').innerText.includes(', characters')")
        # a selection whose text is not the document's at those offsets is refused, nothing stored
        refused = view.evaluate("""async () => { const bar = document.getElementById('pick');
          const r = await fetch('/feedback/pick', {method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({reply: bar.dataset.reply, doc: bar.dataset.doc, start: 10, end: 20, text: 'not that'})});
          return [r.status, (await r.json()).message]; }""")
        assert refused[0] == 400 and "does not match the document's text" in refused[1]
        view.close()
    wrong, picked, clicked = rows = new_rows(store, before, 3)
    assert wrong.judgment == "wrong" and span(wrong) == quotes[0]
    assert [(q.document, q.start, q.end) for q in wrong.quotes] == quotes
    assert picked.judgment == "answers" and TEXT[picked.span.start : picked.span.end] == phrase
    assert picked.span.sha256 == sha(picked.span.start, picked.span.end) and picked.question == "What is MINUSMA?"
    assert clicked.judgment == "answers" and TEXT[clicked.span.start : clicked.span.end] == selected.strip() != ""
    assert len(rows) == 3  # the refused one stored nothing


def test_none_with_a_comment_is_stored_and_shown_as_text(browser, server):
    store = server["store"]
    before = last_id(store)
    comment = "<script>window.pwned = 1</script> <b>not bold</b> & the FAQ never says"
    with app_page(browser, server["url"], 1280) as page:
        _ask(page, "What is MINUSMA?", 1)
        page.get_by_role("button", name="Dislike", exact=True).first.click()
        assert page.locator("#feedback-comment textarea").get_attribute("maxlength") == "500"
        page.locator("#feedback-comment textarea").fill(comment)
        page.get_by_role("button", name="None of the documents answer this").click()
        status_says(page, "none of the documents answer this")
        page.wait_for_selector("#feedback-panel", state="hidden")
        page.get_by_role("button", name="Disliked", exact=True).first.click()  # off (nothing recorded)
        page.get_by_role("button", name="Dislike", exact=True).first.click()  # on again: a second 👎
        page.locator("#feedback-comment textarea").fill(comment)
        page.get_by_role("button", name="Send comment").click()
        shown = status_says(page, "Recorded your comment")
        assert comment in shown  # the characters typed, shown as such
        status = page.locator("#feedback-status")
        assert status.locator("script").count() == 0 and status.locator("b").count() == 0
        assert page.evaluate("() => window.pwned") is None
    rows = new_rows(store, before, 4)
    assert [r.judgment for r in rows] == ["wrong", "none", "wrong", "wrong"]
    assert rows[1].span is None and rows[1].comment == comment and rows[3].comment == comment


def _tab_to(page, selector: str, key: str = "Tab", limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the focus is on `selector` (fails if it never gets there)."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_keyboard_alone_reaches_and_presses_every_button(browser, server):
    store = server["store"]
    before = last_id(store)
    with app_page(browser, server["url"], 1280) as page:
        _ask(page, "What is MINUSMA?", 1)  # the focus stays in the question box, under the reply
        _tab_to(page, "button[aria-label='Like']", "Shift+Tab")
        page.keyboard.press("Enter")
        status_says(page, "the first quote answers it")
        _tab_to(page, "button.qb-answers", "Shift+Tab")  # back up into the reply
        page.keyboard.press("Enter")
        status_says(page, "quote 1 answers it")
        _tab_to(page, "button[aria-label='Dislike']")
        page.keyboard.press("Enter")
        page.wait_for_selector("#feedback-panel", state="visible")
        _tab_to(page, "#feedback-none")
        page.keyboard.press("Enter")
        status_says(page, "none of the documents answer this")
    assert [r.judgment for r in new_rows(store, before, 4)] == ["answers", "answers", "wrong", "none"]


@pytest.mark.parametrize("width", [1280, 390])
def test_layout_at_desktop_and_phone_widths(browser, server, width):
    with app_page(browser, server["url"], width, 900) as page:
        _ask(page, "What is MINUSMA?", 1)
        page.get_by_role("button", name="Dislike", exact=True).first.click()
        page.wait_for_selector("#feedback-panel", state="visible")
        page.locator("#feedback-panel").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"feedback-{width}.png"), full_page=True)
        problems = page.evaluate("""() => {
          const out = [];
          if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page wider than the window');
          const els = [...document.querySelectorAll("#feedback-panel button, #feedback-panel a, button.qb-answers, button[aria-label='Like'], button[aria-label='Dislike']")]
            .filter((e) => e.offsetParent !== null);
          const boxes = els.map((e) => [e, e.getBoundingClientRect()]);
          for (const [e, r] of boxes) {
            if (r.width < 24 || r.height < 20) out.push('too small: ' + (e.innerText || e.getAttribute('aria-label')));
            if (e.scrollWidth > e.clientWidth + 1) out.push('text cut: ' + e.innerText);
            if (r.right > window.innerWidth + 1) out.push('off screen: ' + e.innerText);
          }
          for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
            const [a, b] = [boxes[i][1], boxes[j][1]];
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
              out.push('overlap: ' + boxes[i][0].innerText + ' / ' + boxes[j][0].innerText);
          }
          return out; }""")
        assert problems == []
