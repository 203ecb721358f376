"""The Evaluate tab: run `quoteback eval` from the browser and show its tables, failures and plots;
beside the offered sets, the users' own judgments ("Your feedback: N judged questions", the set
`quoteback eval --feedback` runs) once the feedback database holds some, with their trend."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..evaluation.evaluate import Evaluator
from .render import escape
from ..evaluation.report import failures, write_report
from .eval_summary import plot_threshold, plot_trend, summary, trend
from .service import ChatService

if TYPE_CHECKING:
    from ..feedback.store import FeedbackStore

SPLIT = re.compile(r"[A-Za-z0-9_-]{1,40}")
FEEDBACK = "@feedback"  # the choice of the users' judgments (no offered folder's path starts with @)
TREND_RUNS = 20  # runs drawn in the trend


def judged_questions(store: "FeedbackStore") -> int:
    """How many questions the judgments are about (grouped as the export groups them)."""
    from ..feedback.export import query_text

    return len({query_text(j) for j in store.list()})


def offered(sets: list[str], store: "FeedbackStore | None") -> list[tuple[str, str]]:
    """The sets to choose from: the offered folders, then the feedback set once there is one."""
    choices = [(Path(s).name, s) for s in sets]
    judged = judged_questions(store) if store is not None else 0
    return choices + ([(f"Your feedback: {judged} judged question{'s' if judged != 1 else ''}", FEEDBACK)] if judged else [])


def evaluate_tab(service: ChatService, sets: list[str], store: "FeedbackStore | None" = None) -> None:
    """`store`: the feedback database (None: feedback off, no feedback set and no trend)."""
    import gradio as gr

    def trend_outputs():
        runs = store.runs(TREND_RUNS) if store is not None else []
        path = plot_trend(runs, Path(tempfile.mkdtemp(prefix="quoteback-trend-")) / "trend.png") if runs else None
        return gr.update(value=str(path) if path else None, visible=path is not None), trend(runs)

    def evaluate(folder: str, split: str, report) -> tuple:
        """The result and a line above its summary (the feedback export's), or an error line."""
        if folder == FEEDBACK and store is not None:
            from ..evaluation.feedback_set import evaluate_feedback

            done = evaluate_feedback(service.settings, evaluator=Evaluator(service.settings, embedder=service.embedder),
                                     progress=report)
            return done.result, escape(done.export.describe()).replace("\n", "\n\n")
        return Evaluator(service.settings, embedder=service.embedder, split=split).run(Path(folder), progress=report), ""

    def run(folder: str, split: str, progress=gr.Progress()):
        nothing = ("", None, None, *trend_outputs())
        if folder not in sets and not (folder == FEEDBACK and store is not None):  # never a path typed in the browser
            return "Choose one of the offered evaluation sets (add more with `quoteback chat --eval-set DIR`).", *nothing
        split = (split or "test").strip()
        if not SPLIT.fullmatch(split):
            return "A split is a name such as test, dev or train (qrels/<split>.tsv).", *nothing
        try:
            result, note = evaluate(folder, split, lambda stage, done, total: progress((done, total), desc=stage))
        except (FileNotFoundError, ValueError, RuntimeError) as err:
            return f"Could not evaluate: {escape(str(err))}", *nothing
        out = Path(tempfile.mkdtemp(prefix="quoteback-eval-"))
        write_report(result, out)
        trade_off = plot_threshold(result, out / "answer_threshold.png")
        return ("\n\n".join(p for p in (note, summary(result)) if p), failure_cards(failures(result, 50)),
                str(out / "success_at_k.png"),
                gr.update(value=str(trade_off) if trade_off else None, visible=trade_off is not None), *trend_outputs())

    with gr.Tab("Evaluate") as tab:
        gr.Markdown("Measure how often the right passage is quoted first, on an evaluation set in the BEIR layout"
                    + (" or on your own judgments of the chat's replies." if store is not None else "."))
        with gr.Row():
            folder = gr.Dropdown(choices=offered(sets, store), value=sets[0] if sets else None, allow_custom_value=False,
                                 label="Evaluation set (more with quoteback chat --eval-set DIR)", scale=4)
            split = gr.Dropdown(choices=["test", "dev", "train"], value="test", allow_custom_value=True,
                                label="Judgments (qrels/<split>.tsv)", scale=1)
        button = gr.Button("Run evaluation", variant="primary")
        summary_box = gr.Markdown(elem_id="eval-summary")
        with gr.Row():
            plot = gr.Image(label="Success@k", type="filepath", elem_id="eval-success")
            trade_off = gr.Image(label="Answering vs declining", type="filepath", elem_id="eval-trade-off")
        table = gr.Markdown(elem_id="eval-failures", label="First-quote failures")
        trend_plot = gr.Image(label="Your feedback over time", type="filepath", elem_id="eval-trend", visible=False)
        trend_table = gr.Markdown(elem_id="eval-trend-table")
        button.click(run, [folder, split], [summary_box, table, plot, trade_off, trend_plot, trend_table], api_visibility="private",
                     concurrency_id="evaluate", show_progress_on=summary_box)
        if store is not None:  # judgments come in while the page is open: offered and drawn as of the tab's opening
            tab.select(lambda: (gr.update(choices=offered(sets, store)), *trend_outputs()), None,
                       [folder, trend_plot, trend_table], api_visibility="private", show_progress="hidden")


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
