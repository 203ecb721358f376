"""The Documents tab: what is indexed or skipped, whether the index is current, uploads, removal
and the rebuild with one stage-by-stage progress display."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

from .render import escape
from .service import MAX_UPLOAD_BYTES, ChatService

UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]
NO_SKIPPED = [["none", "every file read so far was indexed"]]


def status_line(service: ChatService) -> str:
    """Model, build time, passages and whether the corpus folder still matches the index."""
    status = service.status()
    state = "stale — " + "; ".join(status["reasons"]) + " (press Rebuild index)" if status["stale"] else "up to date"
    return (f"**Model:** {escape(status['model'])} · **Built at:** {escape(str(status['built_at']))} · "
            f"**Passages:** {status['passages']} · **Index:** {escape(state)}")


def progress_text(stages: dict[str, tuple[int, int]]) -> str:
    """One progress display for the whole rebuild: each stage reached, with its counts."""
    lines = ["**Rebuilding the index…**", ""]
    for stage, (done, total) in stages.items():
        if total <= 1:
            lines.append(f"- {escape(stage)}{' ✓' if done >= total else '…'}")
        else:
            lines.append(f"- {escape(stage)}: {done:,} of {total:,}{' ✓' if done >= total else ''}")
    if not stages:
        lines.append("- checking the corpus folder…")
    return "\n".join(lines)


def documents_tab(service: ChatService) -> Any:
    """Build the tab; returns the function that fills it and its outputs (refreshed on page load)."""
    import gradio as gr

    def view():
        status = service.status()
        names = service.corpus_names()
        return (status_line(service), status["documents"], status["skipped"] or NO_SKIPPED,
                gr.update(choices=names, value=None))

    def upload(files: list[str] | None):
        if not files:
            return ("No files chosen.", *view())
        lines = []
        for path in files:
            saved = service.save_upload(Path(path), Path(path).name)
            lines.append(f"- {escape(saved.name)}: {escape(saved.message)}")
        return ("\n".join(lines), *view())

    def remove(name: str | None):
        saved = service.remove_document(name or "")
        return (f"{escape(saved.name)}: {escape(saved.message)}" if name else "Choose a file to remove.", *view())

    def rebuild() -> Iterator[tuple]:
        stages: dict[str, tuple[int, int]] = {}
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["report"] = service.rebuild(progress=lambda stage, done, total: stages.__setitem__(stage, (done, total)))
            except Exception as err:  # shown to the user; the live index keeps answering
                outcome["error"] = err

        worker = threading.Thread(target=work, name="quoteback-rebuild", daemon=True)
        worker.start()
        shown = None
        while worker.is_alive():
            text = progress_text(dict(stages))
            if text != shown:
                shown = text
                yield text, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            worker.join(0.3)
        if "error" in outcome:
            yield (f"Rebuild failed: {escape(str(outcome['error']))}", *view())
        else:
            yield (escape("Rebuilt: " + outcome["report"].summary()), *view())

    info = gr.Markdown(elem_id="index-status")
    docs = gr.Dataframe(headers=["file", "title", "date", "passages"], interactive=False, label="Indexed documents",
                        wrap=True, elem_id="documents")
    skipped = gr.Dataframe(headers=["file", "reason"], interactive=False, label="Skipped files", wrap=True, elem_id="skipped")
    limit = f"{MAX_UPLOAD_BYTES // 2**20} MB"
    files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, elem_id="upload",
                    label=f"Add documents: {', '.join(UPLOAD_TYPES)}; up to {limit} each")
    upload_btn = gr.Button("Save to corpus")
    with gr.Row():
        chosen = gr.Dropdown(choices=[], label="File in the corpus folder", scale=4, elem_id="remove-choice")
        remove_btn = gr.Button("Remove from corpus", variant="stop", scale=1)
    rebuild_btn = gr.Button("Rebuild index", variant="primary")
    result = gr.Markdown(elem_id="rebuild-result")
    outputs = [result, info, docs, skipped, chosen]
    upload_btn.click(upload, files, outputs, api_visibility="private", show_progress_on=result)
    remove_btn.click(remove, chosen, outputs, api_visibility="private", show_progress_on=result)
    rebuild_btn.click(rebuild, None, outputs, api_visibility="private", concurrency_id="rebuild", show_progress="hidden")

    def pick(event: gr.SelectData):
        row = event.row_value or []
        return gr.update(value=row[0]) if row and row[0] in service.corpus_names() else gr.skip()

    pick.__annotations__["event"] = gr.SelectData  # a real class: Gradio passes select data by annotation
    docs.select(pick, None, chosen, api_visibility="private", queue=False)
    skipped.select(pick, None, chosen, api_visibility="private", queue=False)
    return view, [info, docs, skipped, chosen]
