"""The chat's filter panel: which documents (and which dates, types, sections, pages) the next
questions are searched in, until cleared; and "ask this document" under every quote. Closed, the
panel is one line whose title names the filter in force; every filtered reply names it too.

The filter is kept as `--where` strings, the one syntax of the CLI and `/ask`: a document picked
in the list is `doc=<its path>`, the conditions typed beside it are split at `;` or a new line.
"""

from __future__ import annotations

import glob
import json
import re
from typing import Any, Collection

from .render import ASK_DOCUMENT, escape
from .service import ChatService

DOCUMENTS_HELP = "None chosen: all documents; or type a name pattern: 3M_*"
ALL_COLLECTIONS = "All collections"  # the collection selector's default: every collection, ranked together
CONDITIONS_PLACEHOLDER = "e.g. date>=2023; type=pdf; page<=10"
CONDITIONS_HELP = "doc, type, date, section or page with =, >= or <=; a ; between conditions"
_SEPARATOR = re.compile(r"[;\n]")
# A click (or Enter) on a quote's "ask this document" link: the page keeps its place, the link's
# document goes to the server through the hidden button, and the keyboard returns to the question.
ASK_DOCUMENT_JS = """() => {
  if (window.quotebackAskDocument !== undefined) return;
  window.quotebackAskDocument = '';
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^=%s]');
    if (!link) return;
    event.preventDefault(); event.stopPropagation();
    window.quotebackAskDocument = decodeURIComponent(link.getAttribute('href').slice(%d));
    document.querySelector('#ask-document-go').click();
  }, true);
}""" % (json.dumps(ASK_DOCUMENT), len(ASK_DOCUMENT))
# Opened, one line on a desktop; on a phone the list takes a line, the conditions and Clear filter the
# next (no help lines there: the placeholder shows the syntax, and a mistake is answered with what is wrong).
CSS = """
#filter-row { align-items: flex-end; }
#filter-row > .form { flex: 1 1 320px; }
#filter-documents .token { min-width: 0; max-width: 100%; }
#filter-documents .token > span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#filter-documents .secondary-wrap { flex: 1 1 4em; min-width: 4em; } #filter-documents input { width: 1em; min-width: 1em; }
#filter-clear { align-self: flex-end; }
#collection-row > .form { flex: 0 1 360px !important; min-width: 0; }
@media (max-width: 640px) {  /* the list on its own line; the conditions and Clear filter under it */
  #filter-row { gap: 6px; } #filter-row .info-text { display: none; }
  #filter-row > .form { display: contents; }
  #filter-documents { flex: 1 1 100% !important; } #filter-conditions { flex: 1 1 0 !important; min-width: 0 !important; }
  #filter-clear { min-width: 0 !important; flex: 0 0 auto; align-self: flex-end; }
}
"""
FOCUS_QUESTION = "() => document.querySelector('#question textarea')?.focus()"


def conditions(documents: list[str] | None, typed: str | None, indexed: Collection[str] = ()) -> list[str]:
    """The filter as `--where` strings: one `doc=` each document chosen (alternatives), then the
    typed conditions. An indexed path is matched exactly (glob characters in it escaped); a name
    typed into the list is a pattern (`3M_*`), and one gone since a rebuild matches nothing."""
    chosen = [f"doc={glob.escape(d) if d in indexed else d}" for d in documents or []]
    return chosen + [c.strip() for c in _SEPARATOR.split(typed or "") if c.strip()]


def searched_in(where: list[str], reply: str) -> str:
    """The reply under one line naming the filter it was searched with (nothing without one)."""
    return f"*Searched in:* {escape('; '.join(where))}\n\n{reply}" if where else reply


TITLE, NO_FILTER = "Filter: ", "all documents"


def summary(where: list[str]) -> str:
    """The filter panel's title: what the next question will be searched in (TITLE_JS in the page)."""
    return TITLE + ("; ".join(where) if where else NO_FILTER)


TITLE_JS = """(documents, typed) => {
  const where = (documents || []).map((d) => 'doc=' + d)
    .concat(String(typed || '').split(/[;\\n]/).map((c) => c.trim()).filter(Boolean));
  const title = document.querySelector('#filter button.label-wrap > span');
  if (title) title.textContent = %s + (where.length ? where.join('; ') : %s);
}""" % (json.dumps(TITLE), json.dumps(NO_FILTER))


def collection_selector(service: ChatService) -> Any:
    """The collection the next questions are asked of, above the conversation: "All collections"
    (value "") or one by name; hidden when only the unnamed corpus is served."""
    import gradio as gr

    with gr.Row(elem_id="collection-row", visible=bool(service.names)):
        return gr.Dropdown(choices=[(ALL_COLLECTIONS, "")] + [(name, name) for name in service.names], value="",
                           label="Collection", visible=bool(service.names), elem_id="collection", min_width=200)


def filter_row(service: ChatService, collection: Any = None) -> tuple[Any, Any, Any]:
    """Build the panel; returns the document list and the conditions box (the chat's extra inputs,
    in this order) and the function that lists the indexed documents of the collection chosen in
    `collection` (the selector, if any: run on load, on the tab and when the choice changes)."""
    import gradio as gr

    def listed(chosen: str | None = None):
        try:
            return gr.update(choices=service.documents(chosen or None))
        except ValueError:  # a collection gone from the page's list: all of them
            return gr.update(choices=service.documents())

    def ask_document(path: str):
        """Only an indexed document: a link in a reply older than the last rebuild may name a gone one."""
        if path not in service.documents():
            return gr.skip(), gr.skip()
        return gr.update(choices=service.documents(), value=[path]), ""

    with gr.Accordion(summary([]), open=False, elem_id="filter"):  # one line until opened
        with gr.Row(elem_id="filter-row"):
            documents = gr.Dropdown(choices=service.documents(), value=[], multiselect=True, allow_custom_value=True,
                                    label="Only from", info=DOCUMENTS_HELP, elem_id="filter-documents", scale=3, min_width=160)
            typed = gr.Textbox(label="Conditions", placeholder=CONDITIONS_PLACEHOLDER, info=CONDITIONS_HELP, max_lines=1,
                               elem_id="filter-conditions", scale=3, min_width=160)
            clear = gr.Button("Clear filter", size="md", scale=0, min_width=110, elem_id="filter-clear")
    link = gr.Textbox(visible=False)  # carries the link's document: the page script fills it in
    go = gr.Button(visible="hidden", elem_id="ask-document-go")
    # The closed panel's title is written in the page, in the order the fields change: answers to
    # requests can arrive out of order, and the second of a pair of changes set by one answer (the
    # list and the box) is the one that sees both new values.
    gr.on([documents.change, typed.change], None, [documents, typed], None, js=TITLE_JS)
    typed.submit(None, js=FOCUS_QUESTION)  # Enter: on to the question
    clear.click(lambda: ([], ""), None, [documents, typed], api_visibility="private", queue=False)
    go.click(ask_document, link, [documents, typed], api_visibility="private", queue=False,
             js="() => [window.quotebackAskDocument || '']").then(None, js=FOCUS_QUESTION)
    if collection is not None:
        collection.change(listed, collection, documents, api_visibility="private", queue=False)
    return documents, typed, listed
