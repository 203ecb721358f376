"""The Evaluate tab: run `quoteback eval` from the browser and show its table, failures and plot."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .evaluate import Evaluator
from .render import escape
from .report import failures, metrics_table, write_report
from .service import ChatService


def evaluate_tab(service: ChatService, sets: list[str]) -> None:
    import gradio as gr

    def run(folder: str, split: str, progress=gr.Progress()):
        if not folder or not (Path(folder) / "queries.jsonl").is_file():
            return "Choose a folder in the BEIR layout (queries.jsonl, qrels/test.tsv, corpus.jsonl).", [], None
        evaluator = Evaluator(service.settings, embedder=service.embedder, split=(split or "test").strip())
        try:
            result = evaluator.run(Path(folder), progress=lambda stage, done, total: progress((done, total), desc=stage))
        except (FileNotFoundError, ValueError, RuntimeError) as err:
            return f"Could not evaluate: {escape(str(err))}", [], None
        out = Path(tempfile.mkdtemp(prefix="quoteback-eval-"))
        write_report(result, out)
        summary = f"**{escape(result.dataset)}**: {result.queries} questions in {result.seconds:.0f} s\n\n{metrics_table(result)}"
        if result.abstention:
            a = result.abstention
            summary += (f"\n\nAbstention: {a['unanswerable_declined']:.1%} of unanswerable questions declined, "
                        f"{a['answerable_answered']:.1%} of answerable ones answered.")
        rows = [[f["query"], f["first_relevant_rank"] or "not found", (f["quoted"] or "")[:300], f["expected"][:300]] for f in failures(result, 50)]
        return summary, rows, str(out / "success_at_k.png")

    with gr.Tab("Evaluate"):
        gr.Markdown("Measure how often the right passage is quoted first, on an evaluation set in the BEIR layout.")
        choices = [(Path(s).name, s) for s in sets]
        with gr.Row():
            folder = gr.Dropdown(choices=choices, value=sets[0] if sets else None, allow_custom_value=True,
                                 label="Evaluation set (a BEIR-layout folder)", scale=4)
            split = gr.Dropdown(choices=["test", "dev", "train"], value="test", allow_custom_value=True,
                                label="Judgments (qrels/<split>.tsv)", scale=1)
        button = gr.Button("Run evaluation", variant="primary")
        summary = gr.Markdown(elem_id="eval-summary")
        plot = gr.Image(label="Success@k", type="filepath")
        table = gr.Dataframe(headers=["question", "rank", "quoted first", "expected"], label="First-quote failures", wrap=True)
        button.click(run, [folder, split], [summary, table, plot], api_visibility="private", concurrency_id="evaluate")
