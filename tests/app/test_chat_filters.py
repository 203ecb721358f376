"""Filters in the app (issue 27, item 2): `/ask`'s `where`, the chat's filter row, and "ask this
document" under a quote. A second document on the FAQ's topic, so that a filter has a choice."""

from __future__ import annotations

import pytest

from quoteback.answer import Answer, Quote
from quoteback.app.filter_row import conditions, searched_in, summary
from quoteback.app.render import ASK_DOCUMENT, to_markdown
from quoteback.filters import Filter
from tests.app.helpers import app_page, box, served
from tests.app.test_chat import _ask, _client, _shot, browser, page  # noqa: F401  (fixtures)
from tests.conftest import SEED

NOTES = "mali-notes.md"
NOTES_TEXT = """---
title: Notes on Mali
date: 2024-01-15
---
# Notes on Mali

MINUSMA is the name of the United Nations stabilisation mission in Mali. The Security Council ended
its mandate in June 2023, at the request of the transitional government in Bamako.

The last MINUSMA convoy left Timbuktu in December 2023, and the mission handed its camps to the Malian army.
"""
QUESTION = "What is MINUSMA?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The chat on the FAQ and the notes (this module's own: `page` from test_chat uses it here)."""
    with served(tmp_path_factory.mktemp("filters"), {NOTES: NOTES_TEXT}) as running:
        yield running


def test_the_chat_filter_is_the_clis_conditions():
    indexed = {"a[1].md", NOTES}
    where = conditions(["a[1].md", NOTES, "3M_*"], "date>=2023;\n type=pdf ; ", indexed)
    assert where == ["doc=a[[]1].md", f"doc={NOTES}", "doc=3M_*", "date>=2023", "type=pdf"]  # a chosen path exactly
    assert str(Filter.parse(where)) == " ".join(where)
    assert conditions(None, None) == [] and conditions([], " ; \n") == []
    assert summary([]) == "Filter: all documents" and summary(where[:2]) == f"Filter: doc=a[[]1].md; doc={NOTES}"
    assert searched_in([], "reply") == "reply" and searched_in(["doc=x_y.md"], "reply").startswith("*Searched in:* doc=x\\_y")


def test_every_quote_offers_ask_this_document():
    text = "The osprey nests on the old radio mast."
    quote = Quote(text, "notes/<b>&x y#1.md", "T", None, 0, len(text), 0.9, [[0, len(text)]])
    md = to_markdown(Answer("q", True, [quote], ""))
    assert f'<a href="{ASK_DOCUMENT}notes%2F%3Cb%3E%26x%20y%231.md">ask this document</a>' in md  # one link, the path encoded


def _documents(result: dict) -> set[str]:
    return {q["document"] for q in result["quotes"]}


def test_api_ask_where_searches_only_what_it_allows(server):
    client = _client(server)
    for where, document in ([f"doc={NOTES}"], NOTES), (["doc=wagner*"], SEED.name), (["date>=2024"], NOTES):
        result = client.predict(QUESTION, where, api_name="/ask")
        assert result["valid"] and result["quotes"] and _documents(result) == {document}, (where, result)
    either = client.predict(QUESTION, ["doc=mali*", "doc=wagner*", "type=md"], api_name="/ask")  # doc alternatives, type must hold
    assert either["quotes"] and _documents(either) == {NOTES}
    plain = client.predict(QUESTION, api_name="/ask")  # an older client, no `where`: everything is searched
    assert plain["valid"] and plain["answered"] and "MINUSMA" in plain["quotes"][0]["text"]


def test_api_ask_a_bad_condition_is_the_clis_one_line_message(server):
    client = _client(server)
    for bad in (["colour=red"], ["date>=last year"], ["page=one"], ["doc"]):
        with pytest.raises(ValueError) as expected:
            Filter.parse(bad)
        result = client.predict(QUESTION, bad, api_name="/ask")
        assert result["valid"] is False and result["answered"] is False and result["quotes"] == []
        assert result["message"] == str(expected.value) and "\n" not in result["message"]
    assert client.predict(QUESTION, api_name="/ask")["answered"]  # and the app keeps serving


def test_api_ask_a_filter_matching_nothing_says_so_in_one_line(server):
    client = _client(server)
    for where in (["doc=nothing-like-this*"], ["date<=1999"], [f"doc={NOTES}", "page=3"]):
        result = client.predict(QUESTION, where, api_name="/ask")
        assert result["valid"] is False and result["quotes"] == [], result
        assert result["message"].startswith("No passage matches the filter ") and "\n" not in result["message"]
        assert str(Filter.parse(where)) in result["message"]


def _panel(page):
    """The filter panel's title: a button naming the filter in force, that opens the panel."""
    return page.locator("#filter button.label-wrap")


def _open(page) -> None:
    if not page.locator("#filter-row").is_visible():
        _panel(page).click()
    page.wait_for_selector("#filter-row", state="visible", timeout=5_000)


def _shows(page, text: str) -> None:
    """Wait until the panel's title reads `text`: the filter in force, visible with the panel closed."""
    page.wait_for_function("(t) => document.querySelector('#filter button.label-wrap > span').innerText.trim() === t", arg=text,
                           timeout=15_000)


def _filter_to(page, name: str) -> None:
    """Pick a document in the filter row's list, as a person does: type part of its name, choose it."""
    _open(page)
    page.locator("#filter-documents input").click()
    page.locator("#filter-documents input").press_sequentially(name.split(".")[0][:8])
    page.locator("[role=option]", has_text=name).first.click()
    page.keyboard.press("Escape")


def _quote_documents(page, n: int) -> list[str]:
    """The document named in each quote's source line of the n-th reply."""
    sources = page.locator('[data-testid="bot"]').nth(n - 1).locator("details summary").all_inner_texts()
    return [s.split(" · ")[1] for s in sources]




@pytest.mark.browser
def test_a_filter_applies_to_every_question_until_cleared(page):
    _shows(page, "Filter: all documents")
    assert not page.locator("#collection").is_visible()  # one unnamed corpus: no collection selector
    _filter_to(page, NOTES)
    _shows(page, f"Filter: doc={NOTES}")
    reply = _ask(page, QUESTION, 1)
    assert reply.startswith(f"Searched in: doc={NOTES}")
    assert set(_quote_documents(page, 1)) == {NOTES}
    follow = _ask(page, "When did the last convoy leave Timbuktu?", 2)  # still filtered: nothing to set again
    assert follow.startswith(f"Searched in: doc={NOTES}") and set(_quote_documents(page, 2)) <= {NOTES}
    page.locator("#filter-conditions input, #filter-conditions textarea").first.fill("colour=red")
    bad = _ask(page, QUESTION, 3, expect="unknown key")
    assert bad.strip() == str(_bad("colour=red")) and "Searched in" not in bad
    page.locator("#filter-conditions input, #filter-conditions textarea").first.fill("date<=1999")
    none = _ask(page, QUESTION, 4, expect="No passage matches")
    assert none.strip().startswith("No passage matches the filter doc=mali-notes.md date<=1999") and "\n" not in none.strip()
    _shows(page, f"Filter: doc={NOTES}; date<=1999")
    page.get_by_role("button", name="Clear filter").click()
    _shows(page, "Filter: all documents")
    assert NOTES not in page.locator("#filter-documents").inner_text()
    assert page.locator("#filter-conditions input, #filter-conditions textarea").first.input_value() == ""
    cleared = _ask(page, "What is the Wagner Group?", 5)  # only the FAQ says: filtered to the notes, it could not be quoted
    assert "Searched in" not in cleared and SEED.name in _quote_documents(page, 5)
    typed = page.locator("#filter-documents input")  # a name pattern typed into the list, Enter: a filter too
    typed.press_sequentially("wagner*")
    typed.press("Enter")
    page.keyboard.press("Escape")
    _shows(page, "Filter: doc=wagner*")
    pattern = _ask(page, QUESTION, 6)
    assert pattern.startswith("Searched in: doc=wagner*") and set(_quote_documents(page, 6)) == {SEED.name}


def _bad(text: str) -> ValueError:
    try:
        Filter.parse([text])
    except ValueError as err:
        return err
    raise AssertionError(f"{text} parsed")


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_ask_this_document_from_a_quote_sets_the_filter(browser, server, width):
    with app_page(browser, server["url"], width, 900) as page:
        _ask(page, QUESTION, 1)
        documents = _quote_documents(page, 1)
        assert documents, "the reply has no quote"
        target = NOTES if NOTES in documents else documents[0]
        link = page.locator('[data-testid="bot"]').first.locator("details", has_text=target).first.get_by_role(
            "link", name="ask this document")
        if width == 390:  # the keyboard: the link is reachable and Enter follows it
            link.focus()
            link.press("Enter")
        else:
            link.click()
        _shows(page, f"Filter: doc={target}")  # set, and shown with the panel closed
        assert page.url.rstrip("/") == server["url"].rstrip("/")  # no reload, no navigation
        page.wait_for_function("document.activeElement === document.querySelector('#question textarea')", timeout=5_000)
        assert page.locator('[data-testid="bot"]').count() == 1  # the conversation is still there
        reply = _ask(page, QUESTION, 2)
        _shot(page, f"chat-filter-{width}")
        assert reply.startswith(f"Searched in: doc={target}") and set(_quote_documents(page, 2)) == {target}
        fits = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert fits[0] <= fits[1], fits  # the filter row and the replies fit the width: no sideways scroll
        assert box(page, "#filter")["height"] < 60  # closed, the filter takes one line
        _open(page)
        assert target in page.locator("#filter-documents").inner_text()
        assert box(page, "#filter-row")["height"] < (200 if width == 390 else 130)
        _shot(page, f"chat-filter-open-{width}")
        page.get_by_role("button", name="Clear filter").click()
        _shows(page, "Filter: all documents")


@pytest.mark.browser
def test_the_filter_row_is_reachable_with_the_keyboard(page):
    reached = set()
    _panel(page).focus()
    page.keyboard.press("Enter")  # the panel opens from the keyboard
    page.wait_for_selector("#filter-row", state="visible", timeout=5_000)
    for _ in range(8):
        reached.add(page.evaluate("document.activeElement.closest('[id]')?.id"))
        page.keyboard.press("Tab")
    assert {"filter-documents", "filter-conditions", "filter-clear"} <= reached, reached
