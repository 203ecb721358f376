"""The Documents tab: what is indexed or skipped, whether the index is current, uploads (a
second copy of a file's content refused), removal to a trash it can be restored from, and the
rebuild with one stage-by-stage progress display. With named collections, a selector at the top
chooses the collection all of these show and act on."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

from .render import escape
from .service import MAX_UPLOAD_BYTES, ChatService, Saved
from .trash import TRASH

UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]
NO_SKIPPED = [["none", "every file read so far was indexed"]]
# the keyboard moves to the question's answer button once the server shows it: Enter confirms, Tab reaches Cancel
FOCUS_CONFIRM = "() => setTimeout(() => document.querySelector('#confirm-remove')?.focus(), 100)"


def status_line(service: ChatService, collection: str | None = None) -> str:
    """Model, build time, passages and whether the corpus folder still matches the index (of one collection)."""
    status = service.status(collection)
    again = "" if service.watched else " (press Rebuild index)"
    state = "stale — " + "; ".join(status["reasons"]) + again if status["stale"] else "up to date"
    named = f"**Collection:** {escape(service.name_of(collection))} · " if service.names else ""
    return (f"{named}**Model:** {escape(status['model'])} · **Built at:** {escape(str(status['built_at']))} · "
            f"**Passages:** {status['passages']} · **Index:** {escape(state)}")


def said(saved: Saved) -> str:
    """One result line: the file, then what happened to it."""
    return f"{escape(saved.name)}: {escape(saved.message)}" if saved.name else escape(saved.message)


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

    def view(collection: str | None = None):
        """Everything the tab shows of one collection (None: the selector's default, the first)."""
        collection = service.name_of(collection) or None
        status = service.status(collection)
        names = service.corpus_names(collection)
        trashed = [(e.label, e.key) for e in service.trashed(collection)]
        return (status_line(service, collection), status["documents"], status["skipped"] or NO_SKIPPED,
                gr.update(choices=names, value=None), gr.update(choices=trashed, value=None))

    def upload(files: list[str] | None, collection: str | None):
        if not files:
            return ("No files chosen.", *view(collection), gr.skip())
        lines = []
        for path in files:
            saved = service.save_upload(Path(path), Path(path).name, collection or None)
            lines.append(f"- {said(saved)}")
        return ("\n".join(lines), *view(collection), None)  # the box empties: a second Save must not write the same files again

    def confirm(name: str | None, collection: str | None):
        if not name:
            return "Choose a file to remove.", gr.update(visible=False), "", None
        where = f"the folder of {escape(collection)}" if collection else "the corpus folder"
        prompt = f"Move **{escape(name)}** to the trash ({escape(TRASH)} in {where})? It can be restored below."
        return gr.skip(), gr.update(visible=True), prompt, [collection or "", name]

    def remove(pending: list[str] | None):
        collection, name = pending or ("", "")
        saved = service.remove_document(name or "", collection or None)
        return (said(saved), *view(collection), gr.update(visible=False))

    def restore(key: str | None, collection: str | None):
        saved = service.restore_document(key or "", collection or None)
        return (said(saved), *view(collection))

    def rebuild(collection: str | None) -> Iterator[tuple]:
        stages: dict[str, tuple[int, int]] = {}
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["report"] = service.rebuild(progress=lambda stage, done, total: stages.__setitem__(stage, (done, total)),
                                                    collection=collection or None)
            except Exception as err:  # shown to the user; the live index keeps answering
                outcome["error"] = err

        worker = threading.Thread(target=work, name="quoteback-rebuild", daemon=True)
        worker.start()
        shown = None
        while worker.is_alive():
            text = progress_text(dict(stages))
            if text != shown:
                shown = text
                yield text, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            worker.join(0.3)
        if "error" in outcome:
            yield (f"Rebuild failed: {escape(str(outcome['error']))}", *view(collection))
        else:
            yield (escape("Rebuilt: " + outcome["report"].summary()), *view(collection))

    chooser = gr.Dropdown(choices=service.names, value=service.names[0] if service.names else None, label="Collection",
                          visible=bool(service.names), elem_id="documents-collection")
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
    with gr.Column(visible=False, elem_id="confirm-box", variant="panel") as confirm_box:
        prompt = gr.Markdown()
        with gr.Row():
            confirm_btn = gr.Button("Move to trash", variant="stop", elem_id="confirm-remove")
            cancel_btn = gr.Button("Cancel", elem_id="cancel-remove")
    pending = gr.State(None)  # the file the prompt names, whatever the list shows by the time it is confirmed
    with gr.Row():
        trash = gr.Dropdown(choices=[], label=f"Removed files (kept in {TRASH} in the corpus folder)", scale=4,
                            elem_id="trash-choice")
        restore_btn = gr.Button("Restore", scale=1, elem_id="restore")
    rebuild_btn = gr.Button("Rebuild index", variant="primary")
    result = gr.Markdown(elem_id="rebuild-result")
    outputs = [result, info, docs, skipped, chosen, trash]
    upload_btn.click(upload, [files, chooser], [*outputs, files], api_visibility="private", show_progress_on=result)
    remove_btn.click(confirm, [chosen, chooser], [result, confirm_box, prompt, pending], api_visibility="private",
                     queue=False).then(None, js=FOCUS_CONFIRM)
    confirm_btn.click(remove, pending, [*outputs, confirm_box], api_visibility="private", show_progress_on=result)
    chosen.input(lambda: gr.update(visible=False), None, confirm_box, api_visibility="private", queue=False)  # a new choice: ask again
    cancel_btn.click(lambda: ("Nothing removed.", gr.update(visible=False)), None, [result, confirm_box],
                     api_visibility="private", queue=False)
    restore_btn.click(restore, [trash, chooser], outputs, api_visibility="private", show_progress_on=result)
    rebuild_btn.click(rebuild, chooser, outputs, api_visibility="private", concurrency_id="rebuild", show_progress="hidden")
    chooser.change(lambda c: ("", *view(c), gr.update(visible=False)), chooser, [*outputs, confirm_box], api_visibility="private")

    def pick(collection: str | None, event: gr.SelectData):
        row = event.row_value or []
        return gr.update(value=row[0]) if row and row[0] in service.corpus_names(collection or None) else gr.skip()

    pick.__annotations__["event"] = gr.SelectData  # a real class: Gradio passes select data by annotation
    docs.select(pick, chooser, chosen, api_visibility="private", queue=False)
    skipped.select(pick, chooser, chosen, api_visibility="private", queue=False)
    return view, [info, docs, skipped, chosen, trash]
