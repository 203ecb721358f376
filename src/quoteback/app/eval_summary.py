"""The Evaluate tab's summary: each quantity once, as tables that keep their columns, every
figure explained in one line (a tooltip on its name, and the same lines under the tables for
screens without hover), the plot of the trade-off the outcome shares sit on, and the trend of
the feedback set's runs across index versions and settings."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from .render import escape

if TYPE_CHECKING:
    from ..evaluation.evaluate import EvalResult
    from ..feedback.store import EvalRun

HELP = {
    "nDCG@10": "ranking quality of the first 10 results: 1.0 when the relevant ones come first, less the lower they sit",
    "RR@10": "reciprocal rank: 1 ÷ the rank of the first relevant result in the first 10 (first 1.0, second 0.5, none 0), averaged",
    "R@100": "recall: the share of the relevant results found in the first 100",
    "Success@1": "the share of questions whose first result, the first quote, is a relevant one",
    "configuration": "how passages are ranked; the last row is what the chat uses, and the rest of this summary is about it",
    "answered": "quoted as the answer, with its sentence highlighted",
    "related": "shown as related passages, framed as not answering the question",
    "declined": "“the documents don't say”: nothing quoted",
    "confidence": "the answer's confidence: questions grouped in bins of 0.1",
    "predicted": "the mean confidence of the bin's questions",
    "observed": "the share of the bin's questions whose first quote is right (an unanswerable question's never is); "
                "close to predicted when the confidence can be trusted",
}
OUTCOMES = (("answer", "answered"), ("related", "related"), ("declined", "declined"))


def tip(name: str) -> str:
    """A column name with its one-line explanation as a tooltip."""
    return f'<abbr title="{html.escape(HELP[name])}">{escape(name)}</abbr>' if name in HELP else escape(name)


def table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(tip(h) for h in header) + " |", "|---" * len(header) + "|",
                      *("| " + " | ".join(row) + " |" for row in rows)])


def metrics(result: "EvalResult") -> str:
    from ..evaluation.evaluate import MEASURES

    return table(["configuration", *MEASURES], [[escape(c.name), *(f"{c.metrics[m]:.4f}" for m in MEASURES)] for c in result.configs])


def outcomes(result: "EvalResult") -> str:
    """Answer / related / declined shares per kind of question: the one place these figures appear."""
    h = result.honesty
    t = h["thresholds"]
    counts = {"answerable": result.queries, "unanswerable": len(result.data.unanswerable) if result.data else 0}
    kinds = ["answerable", "unanswerable", *sorted(k for k in h if k.startswith("unanswerable_") and h[k])]
    rows = []
    for key in kinds:
        if not h.get(key):
            continue
        name = key.replace("_", " ") + (f" ({counts[key]})" if counts.get(key) else "")
        rows.append([escape(name), *(f"{h[key][o]:.1%}" for o, _ in OUTCOMES)])
    lines = [f"**Outcomes** of {escape(result.main.name)} (answered from confidence {t['answer_from']:.2f}, "
             f"related from {t['related_from']:.2f}, declined below a best-passage similarity of {t['cosine_floor']:.2f}):",
             table(["questions", *(label for _, label in OUTCOMES)], rows)]
    if p := h.get("at_95_answered"):
        lines.append(f"Answering at least 95% of answerable questions (from confidence {p['threshold']:.3f}: {p['answered']:.1%} "
                     f"answered) leaves {p['unanswerable_not_answered']:.1%} of unanswerable ones related or declined.")
    if (f := h.get("first_quote")) and f["share"] is not None:
        lines.append(f"First quote holds an expected phrase: {f['share']:.1%} of {f['questions']} answerable questions"
                     + (f" (missed: {escape(', '.join(f['misses']))})." if f["misses"] else "."))
    if (a := h.get("highlight_accuracy")) and a["share"] is not None:
        lines.append(f"Highlight accuracy: {a['share']:.1%} of {a['right_first']} right-first answers highlight an expected phrase.")
    return "\n\n".join(lines)


def reliability(result: "EvalResult") -> str:
    rows = [[escape(r["bin"]), str(r["questions"]), f"{r['predicted']:.2f}", f"{r['observed']:.2f}"]
            for r in result.honesty.get("reliability", [])]
    if not rows:
        return ""
    return "**Reliability** of the confidence:\n\n" + table(["confidence", "questions", "predicted", "observed"], rows)


def explanations() -> str:
    """The tooltips' lines, readable on a phone where nothing hovers."""
    return ("<details><summary>What the figures mean</summary>\n\n"
            + "\n".join(f"- **{escape(name)}**: {escape(text)}" for name, text in HELP.items()) + "\n\n</details>")


def summary(result: "EvalResult") -> str:
    parts = [f"**{escape(result.dataset)}**: {result.queries} questions in {result.seconds:.0f} s", metrics(result)]
    if result.honesty:
        parts += [outcomes(result), reliability(result)]
    parts.append(explanations())
    return "\n\n".join(p for p in parts if p)


def plot_threshold(result: "EvalResult", path: Path) -> Path | None:
    """Answerable questions answered vs unanswerable ones not answered, over the answer threshold,
    the configured one marked: where the outcome table's shares come from. None without
    unanswerable questions (there is no trade-off to draw)."""
    from ..evaluation.report import plot_figure  # the report's figure style

    h = result.honesty
    if not h or not h.get("curve"):
        return None
    curve = h["curve"]
    x = [c["threshold"] for c in curve]
    with plot_figure(path, f"{result.dataset}: answering vs declining", "answer from confidence", "share of questions") as ax:
        ax.plot(x, [c["answered"] for c in curve], label="answerable: answered")
        ax.plot(x, [c["not_answered"] for c in curve], label="unanswerable: related or declined")
        ax.axvline(h["thresholds"]["answer_from"], color="grey", linestyle="--", label="configured")
    return path


TREND_MEASURES = ("Success@1", "nDCG@10")


def _changes(runs: list["EvalRun"], shown: int = 3) -> list[str]:
    """What each run changed from the one before: a new index version, the settings that differ
    (the first `shown` of them named, the rest counted)."""
    out, before = [], None
    for run in runs:
        if before is None:
            out.append("first run")
        else:
            changed = sorted(k for k in {**before.settings, **run.settings} if before.settings.get(k) != run.settings.get(k))
            parts = (["new index"] if run.index_version != before.index_version else []) + [
                f"{k}: {before.settings.get(k)} → {run.settings.get(k)}" for k in changed[:shown]]
            if len(changed) > shown:
                parts.append(f"and {len(changed) - shown} more settings")
            out.append("; ".join(parts) or "same index and settings")
        before = run
    return out


def trend(runs: list["EvalRun"]) -> str:
    """The runs kept, newest last, one line each (readable at any width): when, which index, the
    figures, what changed since the run before."""
    if not runs:
        return ""
    lines = []
    for number, (r, change) in enumerate(zip(runs, _changes(runs)), start=1):
        figures = " · ".join(f"{tip(m)} **{r.metrics[m]:.3f}**" for m in TREND_MEASURES if m in r.metrics)
        stale = f" · {r.stale} stale" if r.stale else ""
        lines.append(f"{number}. {escape(r.time[:16].replace('T', ' '))} UTC · index {escape(r.index_version or '?')} · "
                     f"{figures} · {r.queries} questions{stale} · *{escape(change)}*")
    return f"**Your feedback over time** (the last {len(runs)} runs, oldest first):\n\n" + "\n".join(lines)


def plot_trend(runs: list["EvalRun"], path: Path) -> Path | None:
    """The feedback set's figures run after run, a dashed line where the index was rebuilt and a
    dotted one where the settings changed; None before any run."""
    from ..evaluation.report import plot_figure  # the report's figure style

    if not runs:
        return None
    x = list(range(1, len(runs) + 1))
    with plot_figure(path, "Your feedback: run after run", "run (oldest first)", "share / score") as ax:
        for name in TREND_MEASURES:
            ax.plot(x, [r.metrics.get(name, float("nan")) for r in runs], marker="o", label=name)
        for i, (before, run) in enumerate(zip(runs, runs[1:]), start=2):
            if run.index_version != before.index_version:  # side by side when both changed
                ax.axvline(i - 0.55, color="grey", linestyle="--", linewidth=0.8)
            if run.settings != before.settings:
                ax.axvline(i - 0.45, color="tab:red", linestyle=":", linewidth=1.2)
        ax.plot([], [], color="grey", linestyle="--", label="new index")
        ax.plot([], [], color="tab:red", linestyle=":", label="settings changed")
        ax.set_ylim(-0.02, 1.5)  # room above 1.0: the legend sits there, clear of the lines
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_xticks(x)
    return path
