"""`quoteback eval --feedback`: the users' judgments, exported on the fly and evaluated, each run
recorded in the feedback database for the trend across index versions and settings.

The Evaluate tab calls `evaluate_feedback` the same way and draws `FeedbackStore.runs()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..build import IndexBuilder
from ..feedback.export import ExportSummary, export_set
from ..feedback.records import scoped, settings_summary
from ..feedback.store import EvalRun, FeedbackStore, feedback_db
from ..settings import Settings, cache_root
from .evaluate import EvalResult, Evaluator


@dataclass
class FeedbackEval:
    result: EvalResult
    export: ExportSummary
    run: EvalRun  # as stored


def feedback_folder(db: Path) -> Path:
    """Where the set exported from database `db` is cached (one folder per database)."""
    key = hashlib.sha256(str(Path(db).resolve()).encode()).hexdigest()[:12]
    return cache_root() / "feedback" / key


def evaluate_feedback(settings: Settings, configs: list[str] | None = None, collection: str = "",
                      evaluator: Evaluator | None = None, progress: Callable[[str, int, int], None] | None = None) -> FeedbackEval:
    """Bring the collection's index up to date, export its judgments against it, evaluate them
    and store the run (its metrics under the main configuration). ValueError when there is
    nothing to evaluate yet."""
    store = FeedbackStore(feedback_db(settings))
    local = scoped(settings, collection)
    evaluator = evaluator or Evaluator(local, configs)
    IndexBuilder(local, evaluator.embedder).build(progress=progress)  # the spans map to the index answers come from
    folder = feedback_folder(store.path) / (collection or "_")
    summary = export_set(settings, store, folder, collection)
    if not summary.questions + summary.unanswerable + summary.wrong_only:
        raise ValueError(f"no judged question to evaluate yet in {store.path} ({summary.judgments} judgments"
                         + (f", {len(summary.stale)} stale" if summary.stale else "")
                         + "); judge replies in the chat or add some with `quoteback feedback add`")
    result = evaluator.run(folder, progress=progress)
    run = EvalRun("feedback" + (f":{collection}" if collection else ""), result.main.metrics, settings_summary(local),
                  summary.index_version, result.queries, len(summary.stale))
    run_id = store.add_run(run)
    return FeedbackEval(result, summary, next((r for r in store.runs() if r.id == run_id), run))
