"""Open a document at a quote: an HTML page with the quote highlighted in the document's text
and, for PDFs, the rendered page image(s) with the quoted lines marked.

    GET /view?doc=<path>&start=<int>&end=<int>[&from=<int>]
    GET /view/page.png?doc=<path>&page=<n>&start=<int>&end=<int>
    GET /view?doc=<path>[&start=<int>&end=<int>]&pick=<reply id>   (feedback on: "where is the answer?")
    POST /feedback/pick   (the passage picked there; feedback_pick.py)

The routes live beside the Gradio Blocks in one FastAPI app (`create_app`, `serve`): the Blocks
is mounted at "/" with `gr.mount_gradio_app`, Gradio's supported way to share a server with
other routes. With a login (`auth`), the view honours Gradio's own session cookie: a request
without a valid login gets 401 and a link to the login page.

Only documents of the live index can be opened: `doc` is looked up in `index.documents`, never
joined to a path before that; the PDF file read for a page image is the indexed document's own
path inside the corpus folder, checked to stay inside it and to still have the indexed hash.
Document text is always HTML-escaped; the page allows no script but its own (CSP nonce).

Here: the routes and the server. The rest: `view_links` (URLs, parameters, errors), `view_page`
(the HTML page), `view_images` (PDF page images with the quote marked).
"""

# no `from __future__ import annotations`: FastAPI reads the route signatures at runtime

import os
import secrets
import threading
from typing import Any, Callable

from .feedback_pick import SCRIPT as PICK_SCRIPT, add_pick_route, pick_bar
from .feedback_replies import FORGOTTEN
from .view_images import page_png
from .view_links import ViewError, int_param, lookup, view_url
from .view_page import error_html, view_html

__all__ = ["add_routes", "create_app", "gradio_login_check", "gradio_user", "serve", "view_url"]  # view_url: render.py's links


def add_routes(app: Any, service: Any, logged_in: Callable[[Any], bool], feedback: Any = None,
               user_of: Callable[[Any], str] = lambda request: "") -> None:
    """Register GET /view and GET /view/page.png on a FastAPI app; with `feedback` (a
    feedback_replies.Recorder), pick mode and POST /feedback/pick as well."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, Response

    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

    def refuse(err: ViewError) -> HTMLResponse:
        return HTMLResponse(error_html(err.status, err.message), status_code=err.status, headers=headers)

    @app.get("/view", include_in_schema=False)
    def view(request: Request):
        if not logged_in(request):
            return refuse(ViewError(401, "log in to the chat first, then open this link again"))
        pick = request.query_params.get("pick")
        try:
            documents = service.answerer.index.documents
            document, start, end = lookup(documents, request.query_params, pick=pick is not None)
            at = int_param(request.query_params, "from", required=False)
            if at is not None and not 0 <= at < len(document.text):
                raise ViewError(400, f"'from' must be 0–{len(document.text) - 1}, not {at}")
            nonce = secrets.token_urlsafe(16)
            extra = _pick_mode(feedback, pick, document.path, documents) if pick is not None else {}
            page = view_html(document, start, end, at, nonce, **extra)
        except ViewError as err:
            return refuse(err)
        connect = " connect-src 'self';" if pick is not None else ""  # pick mode posts the selection
        csp = f"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}';{connect} base-uri 'none'; form-action 'none'"
        return HTMLResponse(page, headers={**headers, "Content-Security-Policy": csp})

    @app.get("/view/page.png", include_in_schema=False)
    def page_image(request: Request):
        if not logged_in(request):
            return refuse(ViewError(401, "log in to the chat first"))
        try:
            document, start, end = lookup(service.answerer.index.documents, request.query_params)
            number = int_param(request.query_params, "page")
            data = page_png(*service.page_source(document), number, start, end)  # the collection's folder
        except ViewError as err:
            return refuse(err)
        except Exception as err:  # a PDF pdfium cannot render: say so, never a traceback
            return refuse(ViewError(500, f"the page could not be rendered ({type(err).__name__})"))
        return Response(data, media_type="image/png", headers={**headers, "Cache-Control": "private, max-age=300"})

    if feedback is not None:
        add_pick_route(app, feedback, logged_in, user_of)


def _pick_mode(feedback: Any, reply_id: str, document: str, documents: Any) -> dict:
    """view_html's pick-mode arguments, or a ViewError when feedback is off or the reply unknown."""
    if feedback is None:
        raise ViewError(404, "feedback is turned off on this server")
    reply = feedback.replies.get(reply_id)
    if reply is None:
        raise ViewError(404, FORGOTTEN)
    quoted = [q.document for q in reply.answer.quotes]
    return {"pick": reply_id, "top": pick_bar(reply_id, reply.answer.question, document, [*quoted, *sorted(documents)]),
            "script": PICK_SCRIPT}


def gradio_login_check(gradio_app: Any) -> Callable[[Any], bool]:
    """Whether a request carries the login of the mounted Gradio app: the same session cookie
    (`access-token[-unsecure]-<cookie_id>`) and token table Gradio's own /login_check reads.
    Fails closed if this Gradio version keeps them elsewhere."""

    def check(request: Any) -> bool:
        if getattr(gradio_app, "auth", None) is None and getattr(gradio_app, "auth_dependency", None) is None:
            return True
        return gradio_user(gradio_app)(request) is not None

    return check


def gradio_user(gradio_app: Any) -> Callable[[Any], str | None]:
    """The login name a request's session cookie belongs to (None: not logged in); what
    `gr.Request.username` is in the chat's own events."""

    def user(request: Any) -> str | None:
        cookie_id, tokens = getattr(gradio_app, "cookie_id", None), getattr(gradio_app, "tokens", None)
        if cookie_id is None or tokens is None:
            return None
        token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(f"access-token-unsecure-{cookie_id}")
        return tokens.get(token) if token is not None else None

    return user


def create_app(demo: Any, service: Any, *, server_name: str = "127.0.0.1", server_port: int = 7860, auth: Any = None,
               show_error: bool = False, feedback: Any = None, **mount_kwargs: Any):
    """One FastAPI app: the view routes, then the Blocks mounted at "/" (with its theme, css, auth,
    ssr and file-size settings passed through to `gr.mount_gradio_app`). `feedback`: the chat's
    feedback_replies.Recorder (pick mode and its route), None when feedback is off."""
    import gradio as gr
    from fastapi import FastAPI
    from starlette.routing import Mount

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    holder: dict[str, Callable[[Any], bool]] = {}
    add_routes(app, service, lambda request: holder["check"](request), feedback,
               lambda request: holder["user"](request) or "")
    gr.mount_gradio_app(app, demo, path="/", server_name=server_name, server_port=server_port, auth=auth, show_error=show_error, **mount_kwargs)
    gradio_app = [route.app for route in app.routes if isinstance(route, Mount)][-1]
    holder["check"] = gradio_login_check(gradio_app) if auth is not None else (lambda request: True)
    holder["user"] = gradio_user(gradio_app)
    if auth is not None and getattr(gradio_app, "auth", None) is None:
        raise RuntimeError("the login was not applied to the chat")
    return app


def serve(demo: Any, service: Any, *, server_name: str = "127.0.0.1", server_port: int = 7860,
          announce: Callable[[str], None] | None = None, **settings: Any) -> None:
    """Run the chat and the document view on one server (in place of `demo.launch`); the URL is
    announced once the server listens."""
    import time

    import uvicorn

    app = create_app(demo, service, server_name=server_name, server_port=server_port, **settings)
    shown = "localhost" if server_name in ("0.0.0.0", "::") else f"[{server_name}]" if ":" in server_name else server_name
    server = uvicorn.Server(uvicorn.Config(app, host=server_name, port=server_port, timeout_graceful_shutdown=5,
                                           log_level=os.environ.get("QUOTEBACK_LOG_LEVEL", "warning")))

    def announce_when_listening() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            (announce or (lambda url: print(f"Running on {url}", flush=True)))(f"http://{shown}:{server_port}/")

    threading.Thread(target=announce_when_listening, daemon=True).start()
    server.run()
