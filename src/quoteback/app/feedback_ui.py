"""The chat's feedback: 👍 / 👎 under each reply (Gradio's own message buttons), "This answers it"
beside each quote, and under a 👎 the optional follow-ups: "where is the answer?" (the document
view in pick mode, feedback_pick.py), "none of the documents answer this" and a short comment.

Every click names a reply id the server handed out (feedback_replies.Replies) and is recorded by
the Recorder, with the login name Gradio gives the event. Confirmations and comments are shown
escaped: as the characters typed, never as markup. With feedback off there is none of this.
"""

# no `from __future__ import annotations`: Gradio reads the events' gr.LikeData / gr.Request hints at runtime

import json
import re
from typing import Any

from ..settings import Settings
from .feedback_replies import FeedbackError, Recorded, Recorder, Replies
from .render import ANSWERS_CLASS, REPLY_CLASS, escape
from .view_links import view_url

_REPLY = re.compile(re.escape(REPLY_CLASS) + r"([0-9a-f]{16})")
_ANSWERS = re.compile(r"([0-9a-f]{16})-(\d{1,4})")
WHERE_LABEL = "Where is the answer? Pick it in a document"
NONE_LABEL = "None of the documents answer this"
# A click (or Enter) on a quote's "This answers it": its reply and position go to the server through
# the hidden button (the pattern of filter_row's "ask this document").
FEEDBACK_JS = """() => {
  if (window.quotebackAnswers !== undefined) return;
  window.quotebackAnswers = '';
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('button.qb-answers');
    if (!button) return;
    const name = Array.from(button.classList).find((c) => c.startsWith(%s));
    if (!name) return;
    event.preventDefault(); event.stopPropagation();
    window.quotebackAnswers = name.slice(%d);
    document.querySelector('#feedback-answers-go').click();
  }, true);
}""" % (json.dumps(ANSWERS_CLASS), len(ANSWERS_CLASS))
CSS = """
button.qb-answers { font: inherit; font-size: 0.95em; padding: 1px 8px; margin: 2px 0; border: 1px solid #2563eb; border-radius: 999px;
  background: #eff6ff; color: #1e40af; cursor: pointer; white-space: nowrap; }
button.qb-answers:hover { background: #dbeafe; } button.qb-answers:focus-visible { outline: 3px solid #f59e0b; outline-offset: 1px; }
#feedback-status:empty { display: none; }
#conversation button:is([aria-label="Like"], [aria-label="Liked"], [aria-label="Dislike"], [aria-label="Disliked"]) {
  width: 28px; height: 28px; }  /* a finger's target on a phone, not 18 px */
#feedback-actions, #feedback-buttons { gap: 8px; } #feedback-actions > *, #feedback-buttons > * { flex: 1 1 220px; min-width: 0; }
#feedback-actions a, #feedback-actions button { white-space: normal; height: auto; min-height: 2.5em; }
#eval-trend img { padding-top: 36px; }  /* below the image's label, as the other plots */
#eval-trend-table li { overflow-wrap: anywhere; }
"""


def recorder_for(settings: Settings, service: Any) -> Recorder | None:
    """The chat's recorder over the feedback database the settings name; None with feedback off."""
    if not settings.feedback_enabled:
        return None
    from ..feedback.records import index_version, scoped
    from ..feedback.store import FeedbackStore, feedback_db

    return Recorder(FeedbackStore(feedback_db(settings)), Replies(), lambda: service.answerer.index.documents,
                    lambda collection: index_version(scoped(service.settings, collection)))


def reply_in(value: Any) -> str | None:
    """The reply id a liked message carries (its content as the page holds it), if any."""
    found = _REPLY.search(json.dumps(value, default=str))
    return found.group(1) if found else None


def quoted(text: str) -> str:
    """Escaped text as a block quote (every line), shown as the characters typed."""
    return "\n".join("> " + escape(line) if line.strip() else ">" for line in text.split("\n"))


def _user(request: Any) -> str:
    return (getattr(request, "username", None) or "") if request is not None else ""


def _said(action, *args: Any) -> tuple[Recorded | None, str]:
    """Run a Recorder call: the record and its line, or None and the reason (never a traceback)."""
    try:
        recorded = action(*args)
    except FeedbackError as err:
        return None, f"⚠️ {escape(str(err))}"
    except Exception as err:  # the database unwritable, locked past its timeout: say so and keep serving
        return None, f"⚠️ The feedback could not be stored ({escape(type(err).__name__)}); try again."
    return recorded, escape(recorded.message)


def feedback_ui(recorder: Recorder, chatbot: Any, service: Any) -> None:
    """The status line, the 👎 panel and the events; built inside the Chat tab, under the chat."""
    import gradio as gr

    status = gr.Markdown(elem_id="feedback-status")
    disliked = gr.State("")
    with gr.Column(visible=False, elem_id="feedback-panel", variant="panel") as panel:
        about = gr.Markdown(elem_id="feedback-about")
        with gr.Row(elem_id="feedback-actions"):
            where = gr.Button(WHERE_LABEL, link="/", link_target="_blank", elem_id="feedback-where")
            none = gr.Button(NONE_LABEL, elem_id="feedback-none")
        from ..feedback.store import MAX_COMMENT

        comment = gr.Textbox(label=f"Comment (optional, at most {MAX_COMMENT} characters)", max_length=MAX_COMMENT, lines=2,
                             elem_id="feedback-comment")
        with gr.Row(elem_id="feedback-buttons"):
            send = gr.Button("Send comment", elem_id="feedback-send")
            close = gr.Button("Close", elem_id="feedback-close")
    position = gr.Textbox(visible=False)  # carries a quote's "reply-position": the page script fills it in
    go = gr.Button(visible="hidden", elem_id="feedback-answers-go")
    closed = (gr.update(visible=False), "")

    def pick_link(reply_id: str) -> str:
        """The view in pick mode at the reply's first quote, or at the start of a document."""
        quotes = recorder.reply(reply_id).answer.quotes
        if quotes:
            return view_url(quotes[0].document, quotes[0].start, quotes[0].end, reply_id)
        first = next(iter(sorted(service.documents())), None)
        return view_url(first, 0, 0, reply_id) if first else "/"

    def on_like(data: gr.LikeData, request: gr.Request):
        reply_id = reply_in(data.value)
        if data.liked not in (True, False):  # a thumb clicked off: what was recorded stays
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if reply_id is None:
            return "⚠️ Only a reply from the documents can be judged.", *closed, gr.skip(), gr.skip(), gr.skip()
        recorded, line = _said(recorder.thumbs, reply_id, bool(data.liked), _user(request))
        if recorded is None or data.liked:
            return line, *closed, gr.skip(), gr.skip(), gr.skip()
        question = escape(recorder.reply(reply_id).answer.question)
        return (line, gr.update(visible=True), reply_id, f"If you know better for “{question}” (optional):",
                gr.update(link=pick_link(reply_id)), "")

    def on_answers(value: str, request: gr.Request):
        found = _ANSWERS.fullmatch(value or "")
        if not found:
            return "⚠️ Only a quote of a reply can be judged."
        return _said(recorder.answers, found.group(1), int(found.group(2)), _user(request))[1]

    def on_none(reply_id: str, text: str, request: gr.Request):
        recorded, line = _said(recorder.none, reply_id, _user(request), text)
        return (line, *closed, "") if recorded else (line, gr.skip(), gr.skip(), gr.skip())

    def on_send(reply_id: str, text: str, request: gr.Request):
        recorded, line = _said(recorder.comment, reply_id, text, _user(request))
        if recorded is None:
            return line, gr.skip(), gr.skip(), gr.skip()
        return (f"{line}\n\n{quoted(text.strip())}", *closed, "")

    private = {"api_visibility": "private", "show_progress": "hidden"}
    chatbot.like(on_like, None, [status, panel, disliked, about, where, comment], **private)
    go.click(on_answers, position, status, js="() => [window.quotebackAnswers || '']", **private)
    none.click(on_none, [disliked, comment], [status, panel, disliked, comment], **private)
    send.click(on_send, [disliked, comment], [status, panel, disliked, comment], **private)
    close.click(lambda: (*closed, ""), None, [panel, disliked, comment], **private, queue=False)
