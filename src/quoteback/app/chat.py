"""The browser chat (Gradio): Chat, Documents and Evaluate tabs, and the `/ask` API endpoint."""

from __future__ import annotations

from typing import Any, Callable

from .render import escape, to_markdown
from .service import ChatService
from ..settings import Settings, offline_environment

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # no font fetched from a CDN
PLACEHOLDER = "Ask about the documents…"
CSS = """
mark { background: #fde68a; color: inherit; padding: 0 1px; } details summary { font-size: 0.85em; color: #555; }
#eval-summary table { display: block; overflow-x: auto; max-width: 100%; }
#eval-summary th, #eval-summary td { white-space: nowrap; }
#eval-failures td, #eval-failures td *, #eval-failures th * { word-break: normal !important; overflow-wrap: break-word !important; hyphens: auto; }
"""


def _text(content: Any) -> str:
    """Message content as plain text, whichever shape this Gradio version uses."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, (list, tuple)):
        return " ".join(_text(c) for c in content)
    return ""


def build_app(service: ChatService, eval_sets: list[str] | None = None):
    import gradio as gr

    def respond(message: str, history: list[dict]) -> str:
        asked = [_text(m.get("content")) for m in history if m.get("role") == "user"]
        try:
            return to_markdown(service.ask(message, history=asked))
        except Exception as err:  # keep serving whatever happens to one question
            return escape(f"Sorry, that question could not be answered ({type(err).__name__}).")

    def ask(question: str) -> dict:
        """The same JSON object as `quoteback ask --json`."""
        return service.ask(question).to_json()

    with gr.Blocks(title="quoteback") as demo:
        gr.Markdown("# quoteback\nAnswers only in the documents' own words: every reply is quoted verbatim, with its source.")
        with gr.Tab("Chat"):
            textbox = gr.Textbox(placeholder=PLACEHOLDER, elem_id="question", submit_btn="Send")
            chat = gr.ChatInterface(
                respond,
                examples=service.example_questions() or None,
                api_name="chat",
                chatbot=gr.Chatbot(height=520, sanitize_html=True, label="quoteback"),
                textbox=textbox,
            )
            # ChatInterface blanks the placeholder while answering and never restores it
            chat.chatbot.change(lambda: gr.update(placeholder=PLACEHOLDER, submit_btn="Send"), None, textbox,
                                api_visibility="private", queue=False)
        with gr.Tab("Documents"):
            from .documents_tab import documents_tab

            documents_view, document_outputs = documents_tab(service)
        if eval_sets is not None:
            from .evaluate_tab import evaluate_tab

            evaluate_tab(service, eval_sets)
        gr.api(ask, api_name="ask", concurrency_limit=4)
        demo.load(documents_view, None, document_outputs, api_visibility="private")
    return demo


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, credentials: tuple[str, str] | None = None,
           eval_sets: list[str] | None = None, embedder: Any = None, announce: Callable[[str], None] | None = None) -> None:
    """Serve the app; the URL is announced only once the model is loaded and warm (the first
    answer otherwise took 11 s instead of 0.2-0.7 s)."""
    offline_environment()
    import gradio as gr

    service = ChatService(settings, embedder)
    service.warm()
    demo = build_app(service, eval_sets)
    demo.queue(default_concurrency_limit=2)
    from .viewer import serve  # the chat plus /view (the document at a quote) on one server

    serve(
        demo,
        service,
        server_name=host,
        server_port=port,
        announce=announce,
        auth=credentials,
        theme=gr.themes.Default(font=SYSTEM_FONTS, font_mono=["ui-monospace", "monospace"]),
        css=CSS,
        max_file_size="20mb",
        footer_links=["api"],
        ssr_mode=False,
    )
