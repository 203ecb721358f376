"""Collections in the app (issue 27, item 1): one server, two named folders. `/ask` with and
without `collection`, the live folder re-indexing only the collection changed, and the chat and
Documents tab in Chromium with their collection selectors."""

from __future__ import annotations

import shutil
import urllib.request

import pytest

from tests.app.helpers import app_page
from tests.app.test_chat import _ask, _client, _shot, browser  # noqa: F401  (fixtures)
from tests.app.test_chat_filters import _quote_documents
from tests.app.test_live_folder import KESTREL, KESTREL_Q, _until
from tests.conftest import chat_server

POLICIES = {"leave.md": "# Leave policy\n\nEmployees receive twenty-five days of paid annual leave each calendar year. Unused "
                        "leave of up to five days may be carried over into the next year.\n",
            "expenses.md": "# Expenses\n\nTravel expenses are reimbursed within thirty days of the receipts being submitted.\n"}
HARBOUR = {"ferry.md": "# Ferry timetable\n\nThe ferry to the island leaves at seven in the morning from the north quay.\n",
           "rules.md": "# Harbour rules\n\nVisiting yachts must report to the harbour master on arrival.\n"}
FERRY_Q = "When does the ferry to the island leave?"
LEAVE_Q = "How many days of paid annual leave do employees receive?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`quoteback chat --corpus policies=… --corpus harbour=…`, watching both folders."""
    root = tmp_path_factory.mktemp("collections")
    folders = {}
    for name, files in (("policies", POLICIES), ("harbour", HARBOUR)):
        folders[name] = root / name
        folders[name].mkdir()
        for file, text in files.items():
            (folders[name] / file).write_text(text)
    flags = [arg for name, folder in folders.items() for arg in ("--corpus", f"{name}={folder}")]
    with chat_server(root, None, *flags) as url:
        yield {"url": url + "/", "root": root, **folders}
    shutil.rmtree(root, ignore_errors=True)


def _quotes(result: dict) -> list[tuple[str, str]]:
    return [(q["collection"], q["document"]) for q in result["quotes"]]


def test_api_ask_searches_all_collections_as_one_list_or_the_one_named(server):
    client = _client(server)
    everything = client.predict(FERRY_Q, api_name="/ask")
    assert everything["answered"] and _quotes(everything)[0] == ("harbour", "ferry.md")
    leave = client.predict(LEAVE_Q, None, None, api_name="/ask")
    assert leave["answered"] and _quotes(leave)[0] == ("policies", "leave.md")
    only = client.predict(LEAVE_Q, None, "harbour", api_name="/ask")
    assert {c for c, _ in _quotes(only)} <= {"harbour"} and not only["answered"]
    scoped = client.predict(FERRY_Q, ["doc=leave.md"], "policies", api_name="/ask")
    assert scoped["valid"] and _quotes(scoped) in ([], [("policies", "leave.md")])
    unknown = client.predict(FERRY_Q, None, "boats", api_name="/ask")
    assert unknown["valid"] is False and unknown["message"] == "unknown collection 'boats'; the collections: policies, harbour"
    assert client.predict(FERRY_Q, api_name="/ask")["answered"]  # and the app keeps serving


def test_a_file_dropped_into_one_collection_is_answerable_from_it(server):
    client = _client(server)
    (server["harbour"] / "kestrel.md").write_text(KESTREL)

    def quoted() -> bool:
        return ("harbour", "kestrel.md") in _quotes(client.predict(KESTREL_Q, api_name="/ask"))

    _until(quoted, 20, "kestrel.md quoted from harbour")
    assert ("harbour", "kestrel.md") in _quotes(client.predict(KESTREL_Q, None, "harbour", api_name="/ask"))
    assert all(c == "policies" for c, _ in _quotes(client.predict(KESTREL_Q, None, "policies", api_name="/ask")))
    log = (server["root"] / "server.log").read_text()
    assert "changed path(s) in harbour re-indexed" in log and "in policies re-indexed" not in log


def _choose(page, selector: str, label: str) -> None:
    """Pick `label` in a Gradio dropdown, as a person does."""
    page.locator(f"{selector} input").click()
    page.locator("[role=option]", has_text=label).first.click()
    page.wait_for_function("([s, l]) => document.querySelector(s + ' input').value === l", arg=[selector, label], timeout=10_000)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_chat_asks_the_collection_chosen_above_the_conversation(browser, server, width):
    with app_page(browser, server["url"], width, 900) as page:
        selector = page.locator("#collection")
        assert selector.is_visible() and page.locator("#collection input").input_value() == "All collections"
        top = page.evaluate("() => [document.querySelector('#collection').getBoundingClientRect().bottom, "
                            "document.querySelector('#conversation').getBoundingClientRect().top]")
        assert top[0] <= top[1]  # above the conversation
        first = _ask(page, FERRY_Q, 1)
        assert "harbour: ferry.md" in first and _quote_documents(page, 1)[0] == "harbour: ferry.md"
        link = page.locator('[data-testid="bot"]').first.locator("a", has_text="open at the quote").first
        href = link.get_attribute("href")
        assert href.startswith("/view?doc=harbour%2Fferry.md&start=")
        with urllib.request.urlopen(server["url"].rstrip("/") + href) as view:  # the view finds the collection's document
            assert "The ferry to the island leaves at seven" in view.read().decode()
        _choose(page, "#collection", "policies")
        page.locator("#filter button.label-wrap").click()  # the doc= list: the chosen collection's documents only
        page.locator("#filter-documents input").click()
        page.wait_for_selector("[role=option]:has-text('leave.md')", timeout=10_000)
        options = page.locator("[role=option]").all_inner_texts()
        assert "leave.md" in options and "ferry.md" not in options, options
        page.keyboard.press("Escape")
        page.locator("#filter button.label-wrap").click()
        _ask(page, FERRY_Q, 2, expect="")
        page.wait_for_function("/From |Related passage|The documents/.test(document.querySelectorAll('[data-testid=\"bot\"]')[1].innerText)",
                               timeout=60_000)
        assert all(d.startswith("policies: ") for d in _quote_documents(page, 2)), _quote_documents(page, 2)
        third = _ask(page, LEAVE_Q, 3)
        assert _quote_documents(page, 3)[0] == "policies: leave.md", third
        _shot(page, f"chat-collections-{width}")
        fits = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert fits[0] <= fits[1], fits


@pytest.mark.browser
def test_the_documents_tab_acts_on_the_chosen_collection(browser, server):
    with app_page(browser, server["url"], 1280, 900) as page:
        page.get_by_role("tab", name="Documents").click()
        table = page.locator("#documents")
        page.wait_for_function("() => document.querySelector('#index-status').innerText.includes('Collection: policies')",
                               timeout=30_000)
        assert "leave.md" in table.inner_text() and "ferry.md" not in table.inner_text()
        _choose(page, "#documents-collection", "harbour")
        page.wait_for_function("() => document.querySelector('#index-status').innerText.includes('Collection: harbour')",
                               timeout=30_000)
        page.wait_for_function("() => document.querySelector('#documents').innerText.includes('ferry.md')", timeout=30_000)
        assert "leave.md" not in table.inner_text()
        page.locator("#remove-choice input").click()
        options = page.locator("[role=option]").all_inner_texts()
        assert "ferry.md" in options and "leave.md" not in options, options
        page.keyboard.press("Escape")
        _shot(page, "documents-collections-1280")
