"""The chat box in a real Chromium: an empty message is refused at the box, and the conversation
takes the window's height."""

from __future__ import annotations

import pytest

from tests.app.helpers import app_page, box
from tests.app.test_chat import _ask, _shot, browser, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
HINT = "#question-hint"


def test_an_empty_message_shows_a_hint_under_the_box_and_no_bubble(page):
    page.wait_for_selector("#question[data-guarded]", state="attached", timeout=10_000)  # the page's check is in place
    question = page.locator("#question textarea")
    for send in (lambda: question.press("Enter"), lambda: page.get_by_role("button", name="Send").click()):
        question.fill("  \n ")
        page.wait_for_selector(HINT, state="hidden", timeout=5_000)  # typing hides it again
        send()
        page.wait_for_selector(HINT, state="visible", timeout=10_000)
        assert page.locator(HINT).inner_text() == "Type a question first."
        assert box(page, HINT)["top"] >= box(page, "#question textarea")["bottom"]  # under the box
        page.wait_for_timeout(1_000)  # time for a bubble to appear, were one to come
        assert page.locator('[data-testid="user"]').count() == 0 and page.locator('[data-testid="bot"]').count() == 0
        assert page.locator(HINT).is_visible()  # and the hint stays
    _shot(page, "chat-empty")
    reply = _ask(page, "What is MINUSMA?", 1)
    assert "known as MINUSMA" in reply and not page.locator(HINT).is_visible()
    assert page.locator('[data-testid="user"]').count() == 1


@pytest.mark.parametrize("width", [1280, 390])
def test_the_conversation_fills_the_windows_height(browser, server, width):
    heights = {}
    for height in (800, 1100):
        with app_page(browser, server["url"], width, height) as page:
            conversation, question = box(page, "#conversation"), box(page, "#question")
            assert page.evaluate("document.documentElement.scrollHeight") <= height + 1  # nothing pushed below the fold
            assert height - question["bottom"] < 80, (width, height, question)  # only the footer under the box
            heights[height] = conversation["height"]
            if height == 800:
                _shot(page, f"chat-fill-{width}")
    assert heights[1100] - heights[800] > 250, heights  # the extra 300 px go to the conversation
    assert heights[800] > (450 if width == 1280 else 350), heights  # less the filter panel's line (~48 px) above it
