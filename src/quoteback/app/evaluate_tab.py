"""The Evaluate tab: run `quoteback eval` from the browser and show its tables, failures and plots."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..evaluation.evaluate import Evaluator
from .render import escape
from ..evaluation.report import failures, write_report
from .eval_summary import plot_threshold, summary
from .service import ChatService

SPLIT = re.compile(r"[A-Za-z0-9_-]{1,40}")


def evaluate_tab(service: ChatService, sets: list[str]) -> None:
    import gradio as gr

    def run(folder: str, split: str, progress=gr.Progress()):
        if folder not in sets:  # only sets the server offers: never a path typed in the browser
            return "Choose one of the offered evaluation sets (add more with `quoteback chat --eval-set DIR`).", "", None, None
        split = (split or "test").strip()
        if not SPLIT.fullmatch(split):
            return "A split is a name such as test, dev or train (qrels/<split>.tsv).", "", None, None
        evaluator = Evaluator(service.settings, embedder=service.embedder, split=split)
        try:
            result = evaluator.run(Path(folder), progress=lambda stage, done, total: progress((done, total), desc=stage))
        except (FileNotFoundError, ValueError, RuntimeError) as err:
            return f"Could not evaluate: {escape(str(err))}", "", None, None
        out = Path(tempfile.mkdtemp(prefix="quoteback-eval-"))
        write_report(result, out)
        trade_off = plot_threshold(result, out / "answer_threshold.png")
        return (summary(result), failure_cards(failures(result, 50)), str(out / "success_at_k.png"),
                gr.update(value=str(trade_off) if trade_off else None, visible=trade_off is not None))

    with gr.Tab("Evaluate"):
        gr.Markdown("Measure how often the right passage is quoted first, on an evaluation set in the BEIR layout.")
        choices = [(Path(s).name, s) for s in sets]
        with gr.Row():
            folder = gr.Dropdown(choices=choices, value=sets[0] if sets else None, allow_custom_value=False,
                                 label="Evaluation set (more with quoteback chat --eval-set DIR)", scale=4)
            split = gr.Dropdown(choices=["test", "dev", "train"], value="test", allow_custom_value=True,
                                label="Judgments (qrels/<split>.tsv)", scale=1)
        button = gr.Button("Run evaluation", variant="primary")
        summary_box = gr.Markdown(elem_id="eval-summary")
        with gr.Row():
            plot = gr.Image(label="Success@k", type="filepath", elem_id="eval-success")
            trade_off = gr.Image(label="Answering vs declining", type="filepath", elem_id="eval-trade-off")
        table = gr.Markdown(elem_id="eval-failures", label="First-quote failures")
        button.click(run, [folder, split], [summary_box, table, plot, trade_off], api_visibility="private",
                     concurrency_id="evaluate", show_progress_on=summary_box)


def failure_cards(rows: list[dict]) -> str:
    """The questions whose first quote was wrong, one card each (question, rank, quoted, expected):
    readable at any width, where a four-column table broke words on a phone."""
    if not rows:
        return "**First-quote failures:** none."
    cards = [f"**First-quote failures ({len(rows)} shown):**"]
    for f in rows:
        rank = f["first_relevant_rank"] or "not found"
        cards.append(f"**{escape(f['query'])}** (right passage at rank {rank})\n\n"
                     f"> quoted first: {escape(clip(f['quoted'] or ''))}\n\n> expected: {escape(clip(f['expected']))}")
    return "\n\n---\n\n".join(cards)


def clip(text: str, limit: int = 300) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis (never mid-word)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
