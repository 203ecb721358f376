"""The browser chat (Gradio): Chat, Documents and Evaluate tabs, and the `/ask` API endpoint."""

from __future__ import annotations

import json
from typing import Any, Callable

from .feedback_ui import CSS as FEEDBACK_CSS, FEEDBACK_JS, feedback_ui, recorder_for
from .feedback_replies import Recorder
from .filter_row import ASK_DOCUMENT_JS, CSS as FILTER_CSS, collection_selector, conditions, filter_row, searched_in
from .render import escape, to_markdown
from .service import ChatService
from .watch import LiveFolder
from ..settings import Settings, offline_environment

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # no font fetched from a CDN
PLACEHOLDER = "Ask about the documents…"
EMPTY_HINT = "Type a question first."
# An empty question is stopped in the page, with the hint under the box: no round trip, no bubble.
# (The server's validator stays as the guard behind it; its own hint can be cleared by the queue's
# first message in Gradio 6, so it is not what a browser user sees.)
GUARD_EMPTY = """() => {
  const root = document.querySelector('#question');
  if (!root || root.dataset.guarded) return;
  root.dataset.guarded = '1';
  const hint = document.createElement('div');
  hint.id = 'question-hint'; hint.setAttribute('role', 'status'); hint.hidden = true; hint.textContent = %s;
  root.appendChild(hint);
  const stop = (event) => {
    if (root.querySelector('textarea').value.trim()) return;
    event.preventDefault(); event.stopImmediatePropagation(); hint.hidden = false;
  };
  root.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) stop(e); }, true);
  root.addEventListener('click', (e) => { if (e.target.closest('button[data-testid="submit-button"]')) stop(e); }, true);
  root.addEventListener('input', () => { hint.hidden = true; });
}""" % json.dumps(EMPTY_HINT)
MIN_CHAT_HEIGHT = 320  # px; otherwise the conversation takes the window's height left by the header and the box
CSS = """
#tabs { display: flex; flex-direction: column; }
#question label { display: flex; flex-direction: column; }
#question [data-testid="block-info"] { order: 2; font-size: 0; margin: 6px 0 0; }
#question div.validation-error, #question-hint { font-size: var(--text-md); }
#question-hint { color: var(--error-text-color, #b91c1c); font-weight: 600; margin-top: 6px; }
mark { background: #fde68a; color: inherit; padding: 0 1px; } details summary { font-size: 0.85em; color: #555; }
#eval-summary table { display: block; overflow-x: auto; max-width: 100%; width: fit-content; }
#eval-summary abbr[title] { cursor: help; text-decoration: underline dotted; }
#eval-success img, #eval-trade-off img { padding-top: 36px; }
#eval-summary th, #eval-summary td { white-space: nowrap; }
#eval-failures td, #eval-failures td *, #eval-failures th * { word-break: normal !important; overflow-wrap: break-word !important; hyphens: auto; }
""" + FILTER_CSS + FEEDBACK_CSS


def _text(content: Any) -> str:
    """Message content as plain text, whichever shape this Gradio version uses."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, (list, tuple)):
        return " ".join(_text(c) for c in content)
    return ""


def not_empty(message: Any) -> dict:
    """Checked before the message joins the conversation: a blank one is refused at the box."""
    import gradio as gr

    return gr.validate(bool(_text(message).strip()), EMPTY_HINT)


def build_app(service: ChatService, eval_sets: list[str] | None = None, live: LiveFolder | None = None,
              feedback: Recorder | None = None):
    """`feedback`: where the 👍 / 👎 and "this answers it" clicks are recorded; None: no such buttons."""
    import gradio as gr

    def respond(message: str, history: list[dict], documents: list[str] | None, typed: str | None,
                collection: str | None = None) -> str:
        asked = [_text(m.get("content")) for m in history if m.get("role") == "user"]
        try:
            where = conditions(documents, typed, set(service.documents(collection or None)))
            answer = service.ask(message, history=asked, where=where, collection=collection or None)
        except Exception as err:  # keep serving whatever happens to one question
            return escape(f"Sorry, that question could not be answered ({type(err).__name__}).")
        reply = feedback.replies.remember(answer, asked, where, collection or "") if feedback is not None and answer.valid else None
        return searched_in(where, to_markdown(answer, reply)) if answer.valid else to_markdown(answer)

    def ask(question: str, where: list[str] | None = None, collection: str | None = None) -> dict:
        """The same JSON object as `quoteback ask --json`. `where`: a list of
        conditions as `--where` takes them ("doc=3M_2018*", "date>=2023"); omitted: everything.
        `collection`: one named collection; omitted: all of them, ranked together."""
        answer = service.ask(question, where=where, collection=collection or None)
        return answer.to_json()

    with gr.Blocks(title="quoteback", fill_height=True) as demo:
        gr.Markdown("# quoteback\nAnswers only in the documents' own words: every reply is quoted verbatim, with its source.")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Chat", scale=1) as chat_tab:
                collection = collection_selector(service)  # hidden with the one unnamed corpus
                documents, typed, listed = filter_row(service, collection)
                if live is not None:  # the live folder's state, polled: a build finishes with no request of its own
                    live_line = gr.Markdown(live.status(), elem_id="live-status")
                    gr.Timer(1.0).tick(live.status, None, live_line, api_visibility="private", queue=False,
                                       show_progress="hidden")
                textbox = gr.Textbox(placeholder=PLACEHOLDER, elem_id="question", submit_btn="Send", label="Question",
                                     show_label=False)
                chat = gr.ChatInterface(
                    respond,
                    examples=[[q, None, None, None] for q in service.example_questions()] or None,
                    additional_inputs=[documents, typed, collection],  # the filter row above: applies to every question until cleared
                    api_name="chat",
                    chatbot=gr.Chatbot(height=None, min_height=MIN_CHAT_HEIGHT, scale=1, sanitize_html=True, label="quoteback",
                                       elem_id="conversation"),
                    textbox=textbox,
                    validator=not_empty,  # no empty bubble: the hint shows under the box instead
                )
                # ChatInterface blanks the placeholder while answering and never restores it
                chat.chatbot.change(lambda: gr.update(placeholder=PLACEHOLDER, submit_btn="Send"), None, textbox,
                                    api_visibility="private", queue=False)
                chat_tab.select(listed, collection, documents, api_visibility="private", queue=False)  # after a rebuild
                if feedback is not None:
                    feedback_ui(feedback, chat.chatbot, service)
            with gr.Tab("Documents"):
                from .documents_tab import documents_tab

                documents_view, document_outputs = documents_tab(service)
            if eval_sets is not None:
                from .evaluate_tab import evaluate_tab

                evaluate_tab(service, eval_sets, feedback.store if feedback is not None else None)
        gr.api(ask, api_name="ask", concurrency_limit=4)
        demo.load(documents_view, None, document_outputs, api_visibility="private")
        demo.load(None, js=GUARD_EMPTY)
        demo.load(None, js=ASK_DOCUMENT_JS)
        if feedback is not None:
            demo.load(None, js=FEEDBACK_JS)
        demo.load(listed, collection, documents, api_visibility="private", queue=False)
    return demo


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, credentials: tuple[str, str] | None = None,
           eval_sets: list[str] | None = None, embedder: Any = None, announce: Callable[[str], None] | None = None,
           watch: bool = True) -> None:
    """Serve the app; the URL is announced only once the model is loaded and warm (the first
    answer otherwise took 11 s instead of 0.2-0.7 s). `watch`: re-index the corpus folder as it
    changes (watch.py), from before the warm-up so no change after the announcement is missed."""
    offline_environment()
    service = ChatService(settings, embedder)
    live = LiveFolder(service).start() if watch else None
    try:
        _serve(service, eval_sets, live, host, port, credentials, announce)
    finally:
        if live is not None:
            live.stop()


def _serve(service: ChatService, eval_sets: list[str] | None, live: LiveFolder | None, host: str, port: int,
           credentials: tuple[str, str] | None, announce: Callable[[str], None] | None) -> None:
    import gradio as gr

    service.warm()
    feedback = recorder_for(service.settings, service)  # None with feedback off
    demo = build_app(service, eval_sets, live, feedback)
    demo.queue(default_concurrency_limit=2)
    from .viewer import serve  # the chat plus /view (the document at a quote) on one server

    serve(
        demo,
        service,
        server_name=host,
        server_port=port,
        announce=announce,
        auth=credentials,
        feedback=feedback,
        theme=gr.themes.Default(font=SYSTEM_FONTS, font_mono=["ui-monospace", "monospace"]),
        css=CSS,
        max_file_size="20mb",
        footer_links=["api"],
        ssr_mode=False,
    )
