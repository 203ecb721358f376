"""Evaluation reports: a markdown summary, per-query results and plots (matplotlib, no display)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from .datasets import doc_file
from .evaluate import MEASURES, MISSING, EvalResult
from .quote_checks import KINDS


def metrics_table(result: EvalResult) -> str:
    lines = ["| configuration | " + " | ".join(MEASURES) + " |", "|---|" + "---|" * len(MEASURES)]
    for c in result.configs:
        lines.append(f"| {c.name} | " + " | ".join(f"{c.metrics[m]:.4f}" for m in MEASURES) + " |")
    return "\n".join(lines)


def page_summary(result: EvalResult) -> str:
    """For page sets: what a user sees, the first quote / one of the first three on an evidence page."""
    p = result.pages
    if not p:
        return ""
    return (f"evidence page in the first quote (page@1): {p['page@1']:.1%}, in the first three (page@3): {p['page@3']:.1%}; "
            f"right file first {p['right_file_first']:.1%}; declined {p['declined']:.1%} of {p['questions']} questions")


def phrase_summary(result: EvalResult) -> str:
    """For sets of real documents: questions whose phrases the extraction lost, and what the
    quotes shown still carry from extraction (ligatures, broken words, headers) or lack (page, section)."""
    lines = []
    if result.missing:
        lines.append(f"not in the extracted text ({len(result.missing)}): "
                     + "; ".join(f"{q} {result.data.queries[q]!r}" for q in result.missing))
    if result.checks:
        c = result.checks
        lines.append(f"quotes checked: {c.quotes}; " + ", ".join(f"{kind}: {c.counts.get(kind, 0)}" for kind in KINDS))
        lines += [f"  e.g. {kind}: {example!r}" for kind, example in c.examples.items()]
    return "\n".join(lines)


def span_summary(result: EvalResult) -> str:
    """For span sets (users' judgments): how often what users judged wrong still comes first."""
    s = result.spans
    if not s or not s["judged_wrong"]:
        return ""
    return (f"judged wrong and still first: {s['wrong_first']} of {s['judged_wrong']} questions with a passage judged wrong"
            + (f" ({', '.join(s['questions'][:10])})" if s["questions"] else ""))


def honesty_summary(result: EvalResult) -> str:
    """Outcome shares (answer / related / declined) per kind of question, the 95%-answered point,
    highlight accuracy and the reliability table (predicted vs observed share of right answers)."""
    h = result.honesty
    if not h:
        return ""

    def row(name: str, shares: dict) -> str:
        return f"  {name:<24} answer {shares['answer']:6.1%}  related {shares['related']:6.1%}  declined {shares['declined']:6.1%}"

    lines = ["outcomes (answer from confidence {answer_from}, related from {related_from}, cosine floor {cosine_floor}):".format(**h["thresholds"]),
             row("answerable", h["answerable"])]
    for key in sorted(k for k in h if k.startswith("unanswerable") and h[k]):
        lines.append(row(key.replace("_", " "), h[key]))
    if "at_95_answered" in h:
        p = h["at_95_answered"]
        lines.append(f"  at >=95% answerable answered directly (answer from {p['threshold']:.3f}, {p['answered']:.1%} answered): "
                     f"{p['unanswerable_not_answered']:.1%} of unanswerable declined or related")
    if h.get("first_quote") and h["first_quote"]["share"] is not None:
        f = h["first_quote"]
        lines.append(f"  first quote holds an expected phrase: {f['share']:.1%} of {f['questions']} answerable questions"
                     + (f" (missed: {', '.join(f['misses'])})" if f["misses"] else ""))
    if h.get("highlight_accuracy") and h["highlight_accuracy"]["share"] is not None:
        a = h["highlight_accuracy"]
        lines.append(f"  highlight accuracy: {a['share']:.1%} of {a['right_first']} right-first answers highlight an expected phrase")
        lines += [f"    missed {m['query_id']}: {m['highlighted'][:100]!r}" for m in a["misses"]]
    lines.append("  reliability: " + "; ".join(f"{r['bin']} predicted {r['predicted']:.2f} observed {r['observed']:.2f} (n={r['questions']})"
                                              for r in h["reliability"]))
    return "\n".join(lines)


def first_relevant_ranks(result: EvalResult) -> dict[str, list[int | None]]:
    """Per configuration, the 1-based rank of the first relevant unit of each query (None: not found)."""
    out = {}
    for c in result.configs:
        ranks = []
        for qid, ranked in c.runs.items():
            relevant = result.qrels.get(qid)
            if not relevant:
                continue
            ranks.append(next((i + 1 for i, (unit, _) in enumerate(ranked) if relevant.get(unit, 0) > 0), None))
        out[c.name] = ranks
    return out


def failures(result: EvalResult, limit: int = 50) -> list[dict]:
    """Queries whose first quote is not relevant, with the quoted and the expected passage."""
    index, data, main = result.index, result.data, result.main
    rows = []
    for qid, scores in main.per_query.items():
        if scores["Success@1"] >= 1:
            continue
        quoted = index.passages[main.top_passage[qid]] if main.top_passage.get(qid, -1) >= 0 else None
        expected_unit = max(result.qrels[qid], key=result.qrels[qid].get)
        rows.append({
            "query_id": qid,
            "query": data.queries[qid],
            "quoted": quoted.text if quoted else None,
            "quoted_from": quoted.document if quoted else None,
            "expected": _unit_text(result, expected_unit),
            "expected_id": expected_unit,
            "first_relevant_rank": next((i + 1 for i, (u, _) in enumerate(main.runs[qid]) if result.qrels[qid].get(u, 0) > 0), None),
        })
    return rows[:limit] if limit else rows


def _unit_text(result: EvalResult, unit: str) -> str:
    index = result.index
    if unit == MISSING:
        return "(no passage: the expected phrases are not in the extracted text)"
    if "#" in unit and (result.data.expect or result.data.spans):
        path, start = unit.rsplit("#", 1)
        return next(p.text for p in index.passages if p.document == path and p.start == int(start))
    doc = index.documents.get(doc_file(unit))
    return doc.text[doc.body_start :] if doc else "(not in the corpus)"


def write_report(result: EvalResult, folder: Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ranks = first_relevant_ranks(result)
    _plot(result, ranks, folder / "success_at_k.png")
    with open(folder / "per_query.jsonl", "w", encoding="utf-8") as out:
        for qid, scores in result.main.per_query.items():
            top = result.main.runs[qid][:3]
            row = {"query_id": qid, "query": result.data.queries[qid], **scores, "top": [u for u, _ in top], "relevant": sorted(u for u, g in result.qrels[qid].items() if g > 0)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    failed = failures(result, limit=0)
    lines = [
        f"# Evaluation: {result.dataset}",
        "",
        f"{result.queries} judged queries; {result.seconds:.0f} s. Main configuration: `{result.main.name}`.",
        "",
        metrics_table(result),
        "",
        "![Success@k](success_at_k.png)",
        "",
    ]
    if result.abstention:
        a = result.abstention
        lines += [
            "## Off-topic floor",
            "",
            "The best passage's similarity alone, the rule that declines a question as off the documents' topic (the "
            "outcomes under \"Honest answers\" add the calibrated confidence). "
            f"At the floor {a['threshold']:.2f}: {a['answerable_answered']:.1%} of answerable questions lie above it, "
            f"{a['unanswerable_declined']:.1%} of unanswerable ones below. A floor keeping 95% of answerable questions above "
            f"({a['at_95_answered']['threshold']:.2f}) puts {a['at_95_answered']['unanswerable_declined']:.1%} of unanswerable ones below.",
            "",
            "![Off-topic floor trade-off](abstention.png)",
            "",
        ]
        _plot_abstention(result, folder / "abstention.png")
    if result.missing or result.checks:
        lines += ["## Real-document checks", "", "```", phrase_summary(result), "```", ""]
    if span_summary(result):
        lines += ["## Judged wrong", "", span_summary(result), ""]
    if result.honesty:
        lines += ["## Honest answers", "", "```", honesty_summary(result), "```", ""]
    lines += [f"## First-quote failures ({len(failed)} of {result.queries})", ""]
    for row in failed[:100]:
        lines += [
            f"- **{row['query']}** (`{row['query_id']}`; first relevant at rank {row['first_relevant_rank']})",
            f"  - quoted ({row['quoted_from']}): {_short(row['quoted'])}",
            f"  - expected (`{row['expected_id']}`): {_short(row['expected'])}",
        ]
    (folder / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "failures.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in failed), encoding="utf-8")
    return folder / "report.md"


def _short(text: str | None, n: int = 240) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


@contextmanager
def plot_figure(path: Path, title: str, xlabel: str, ylabel: str = ""):
    """A matplotlib figure (no display needed), saved to `path` when the block ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    yield ax
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot(result: EvalResult, ranks: dict[str, list[int | None]], path: Path) -> None:
    from matplotlib.ticker import MaxNLocator

    ks = list(range(1, 21))
    with plot_figure(path, f"{result.dataset}: relevant hit in the top k", "k (documents)", "Success@k") as ax:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # k is a count: no 2.5
        for name, found in ranks.items():
            ax.plot(ks, [sum(1 for r in found if r is not None and r <= k) / max(len(found), 1) for k in ks], marker=".", label=name)


def _plot_abstention(result: EvalResult, path: Path) -> None:
    curve = result.abstention["curve"]
    thresholds = [c["threshold"] for c in curve]
    with plot_figure(path, f"{result.dataset}: off-topic floor trade-off", "floor on the best passage's cosine") as ax:
        ax.plot(thresholds, [c["answered"] for c in curve], label="answerable answered")
        ax.plot(thresholds, [c["declined"] for c in curve], label="unanswerable declined")
        ax.axvline(result.abstention["threshold"], color="grey", linestyle="--", label="configured threshold")
