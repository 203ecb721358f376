"""The browser chat (Gradio): Chat, Documents and Evaluate tabs, and the `/ask` API endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .render import escape, to_markdown
from .service import ChatService
from .settings import Settings, offline_environment

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # no font fetched from a CDN
CSS = "mark { background: #fde68a; color: inherit; padding: 0 1px; } details summary { font-size: 0.85em; color: #555; }"


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

    def documents_view():
        status = service.status()
        state = "stale — " + "; ".join(status["reasons"]) if status["stale"] else "up to date"
        info = (
            f"**Model:** {escape(status['model'])} · **Built at:** {escape(str(status['built_at']))} · "
            f"**Passages:** {status['passages']} · **Index:** {escape(state)}"
        )
        return info, status["documents"], status["skipped"] or [["", ""]]

    def upload(files: list[str] | None):
        if not files:
            return "No files chosen."
        lines = []
        for path in files:
            saved = service.save_upload(Path(path), Path(path).name)
            lines.append(f"- {escape(saved.name)}: {escape(saved.message)}")
        return "\n".join(lines)

    def rebuild(progress=gr.Progress()):
        def update(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=stage)

        try:
            report = service.rebuild(progress=update)
        except Exception as err:
            return (f"Rebuild failed: {escape(str(err))}", *documents_view()[1:], documents_view()[0])
        info, docs, skipped = documents_view()
        return escape("Rebuilt: " + report.summary()), docs, skipped, info

    with gr.Blocks(title="quoteback") as demo:
        gr.Markdown("# quoteback\nAnswers only in the documents' own words: every reply is quoted verbatim, with its source.")
        with gr.Tab("Chat"):
            gr.ChatInterface(
                respond,
                examples=service.example_questions() or None,
                api_name="chat",
                chatbot=gr.Chatbot(height=520, sanitize_html=True, label="quoteback"),
                textbox=gr.Textbox(placeholder="Ask about the documents…", elem_id="question"),
            )
        with gr.Tab("Documents"):
            info = gr.Markdown()
            docs = gr.Dataframe(headers=["file", "title", "date", "passages"], interactive=False, label="Indexed documents")
            skipped = gr.Dataframe(headers=["file", "reason"], interactive=False, label="Skipped documents")
            files = gr.File(file_count="multiple", file_types=[".txt", ".md", ".html", ".htm", ".pdf", ".docx"], label="Add documents", elem_id="upload")
            upload_btn = gr.Button("Save to corpus")
            rebuild_btn = gr.Button("Rebuild index", variant="primary")
            result = gr.Markdown(elem_id="rebuild-result")
            upload_btn.click(upload, files, result, api_visibility="private")
            rebuild_btn.click(rebuild, None, [result, docs, skipped, info], api_visibility="private", concurrency_id="rebuild")
        if eval_sets is not None:
            from .app_eval import evaluate_tab

            evaluate_tab(service, eval_sets)
        gr.api(ask, api_name="ask", concurrency_limit=4)
        demo.load(documents_view, None, [info, docs, skipped], api_visibility="private")
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
    demo.launch(
        server_name=host,
        server_port=port,
        auth=credentials,
        theme=gr.themes.Default(font=SYSTEM_FONTS, font_mono=["ui-monospace", "monospace"]),
        css=CSS,
        max_file_size="20mb",
        footer_links=["api"],
        ssr_mode=False,
        share=False,
        quiet=True,  # no "set share=True" hint for CLI users; the URL is announced below
        prevent_thread_lock=True,
    )
    shown = "localhost" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    (announce or print)(f"http://{shown}:{port}/")
    demo.block_thread()
