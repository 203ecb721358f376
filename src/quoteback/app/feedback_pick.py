""""Where is the answer?": the document view in pick mode (`/view?...&pick=<reply id>`) and the
route its button posts to (`POST /feedback/pick`).

The reader selects the answer in the document's text; the page maps the selection back to
document offsets (every run of text in the view is a `data-at` span naming its offset, the page
markers between them no part of the text) and sends the offsets with the text it saw. The server
stores them only if `text[start:end]` is exactly that text (Recorder.picked), else answers why.

The route needs the chat's login when one is set, a same-origin JSON request (a form on another
site can send neither), and a reply id the server handed out; its answer is JSON, shown as text.
"""

# no `from __future__ import annotations`: FastAPI reads the route signature at runtime

import html
import json
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from .feedback_replies import FeedbackError, Recorder, shown
from .view_links import view_url

PICK_ROUTE = "/feedback/pick"
MAX_BODY = 64 * 1024  # bytes of a pick request (a passage of MAX_PICK characters, JSON-escaped)
MAX_LISTED = 300  # other documents offered to pick in
USE_LABEL = "Use the selected text as the answer"
STYLE = """
#pick { position: sticky; top: 0; z-index: 2; background: #eff6ff; border: 1px solid #93c5fd; border-radius: 6px;
        padding: 0.6rem 0.9rem; margin: 0.5rem 0 1rem; box-shadow: 0 2px 6px #0001; }
#pick p { margin: 0.3rem 0; } #pick button { font: inherit; padding: 0.4rem 0.8rem; border-radius: 6px; border: 1px solid #2563eb;
        background: #2563eb; color: #fff; cursor: pointer; max-width: 100%; }
#pick button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
#pick-status.error { color: #b91c1c; font-weight: 600; } #pick-status.ok { color: #166534; font-weight: 600; }
#pick details { font-size: 0.9rem; } #pick ul { max-height: 12rem; overflow: auto; margin: 0.3rem 0; padding-left: 1.2rem; }
#pick li a { overflow-wrap: anywhere; }
"""
# Runs in the view page under its CSP nonce; reads the reply and document from the bar's data
# attributes (never from text put into the script).
SCRIPT = """
(function () {
  var bar = document.getElementById('pick'), pre = document.getElementById('text');
  if (!bar || !pre) return;
  var status = document.getElementById('pick-status'), chosen = null;
  function say(text, kind) { status.textContent = text; status.className = kind || ''; }
  function span() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var r = sel.getRangeAt(0), start = null, end = null, parts = [], runs = pre.querySelectorAll('[data-at]');
    for (var i = 0; i < runs.length; i++) {
      var base = parseInt(runs[i].getAttribute('data-at'), 10), seen = 0, t;
      var walk = document.createTreeWalker(runs[i], NodeFilter.SHOW_TEXT);
      while ((t = walk.nextNode())) {
        if (r.intersectsNode(t)) {
          var a = t === r.startContainer ? r.startOffset : 0, b = t === r.endContainer ? r.endOffset : t.length;
          if (b > a) { if (start === null) start = base + seen + a; end = base + seen + b; parts.push(t.data.slice(a, b)); }
        }
        seen += t.length;
      }
    }
    return start === null ? null : {start: start, end: end, text: parts.join('')};
  }
  document.addEventListener('selectionchange', function () {
    var s = span();
    if (s) { chosen = s; say('Selected: characters ' + s.start + '–' + s.end + ' (' + (s.end - s.start) + ' characters).'); }
  });
  document.getElementById('pick-use').addEventListener('click', function () {
    var s = span() || chosen;
    if (!s) { say('Select the words that answer in the text below first.', 'error'); return; }
    say('Sending…');
    fetch(bar.getAttribute('data-route'), {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({reply: bar.getAttribute('data-reply'), doc: bar.getAttribute('data-doc'), start: s.start, end: s.end, text: s.text})})
      .then(function (r) { return r.json().then(function (j) { say(j.message, r.ok ? 'ok' : 'error'); }); })
      .catch(function () { say('Could not reach the server; try again.', 'error'); });
  });
})();
"""


def pick_bar(reply_id: str, question: str, document: str, documents: Iterable[str]) -> str:
    """The bar above the text: the question, the button, the status line, and links to the same
    reply's pick mode in the other documents (the answer may be in one the reply did not quote)."""
    others = [d for d in dict.fromkeys(documents) if d != document]
    links = "".join(f'<li><a href="{html.escape(view_url(d, 0, 0, reply_id))}">{html.escape(d)}</a></li>'
                    for d in others[:MAX_LISTED])
    more = f"<p>…and {len(others) - MAX_LISTED} more (ask with a filter to see their quotes)</p>" if len(others) > MAX_LISTED else ""
    other = (f'<details id="pick-other"><summary>The answer is in another document</summary><ul>{links}</ul>{more}</details>'
             if others else "")
    return (f"<style>{STYLE}</style>"
            f'<section id="pick" aria-label="Where is the answer?" data-reply="{html.escape(reply_id)}" '
            f'data-doc="{html.escape(document)}" data-route="{PICK_ROUTE}">'
            f'<p id="pick-question">Where is the answer to “{html.escape(shown(question, 200))}”? '
            f"Select it in the text below, then press the button.</p>"
            f'<button type="button" id="pick-use">{USE_LABEL}</button>'
            f'<p id="pick-status" role="status" aria-live="polite"></p>{other}</section>')


def same_origin(request: Any) -> bool:
    """A browser names the page's origin on a POST: it must be this server (no cross-site posts).
    A request without one (a script, not a browser page) is judged by the login alone."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def add_pick_route(app: Any, recorder: Recorder, logged_in: Callable[[Any], bool], user_of: Callable[[Any], str]) -> None:
    """Register POST /feedback/pick on the viewer's FastAPI app."""
    from fastapi import Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

    def answer(status: int, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"ok": status == 200, "message": message, **extra}, status_code=status, headers=headers)

    @app.post(PICK_ROUTE, include_in_schema=False)
    async def pick(request: Request):
        if not logged_in(request):
            return answer(401, "log in to the chat first, then pick the passage again")
        if not same_origin(request):
            return answer(403, "feedback is taken only from this server's own pages")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return answer(415, "send the picked passage as JSON")
        body = await request.body()
        if len(body) > MAX_BODY:
            return answer(413, "the selection is too long; select the passage that answers")
        try:
            data = json.loads(body)
            reply, document, start, end, text = (data[k] for k in ("reply", "doc", "start", "end", "text"))
        except (ValueError, TypeError, KeyError):
            return answer(400, "a pick names the reply, the document, start, end and the selected text")
        try:
            recorded = await run_in_threadpool(recorder.picked, reply, document, start, end, text, user_of(request) or "")
        except FeedbackError as err:
            return answer(404 if recorder.replies.get(reply) is None else 400, str(err))
        return answer(200, recorded.message, id=recorded.id)
