"""The Evaluate tab's summary on a real evaluation of the shipped question set (real model and index):
one figure per quantity, tables that keep their columns, every figure explained, the trade-off plot."""

from __future__ import annotations

import dataclasses
import re

import pytest

from quoteback.evaluation.evaluate import MEASURES, REPO_SET, Evaluator
from quoteback.settings import Settings


@pytest.fixture(scope="module")
def result(embedder):
    return Evaluator(Settings(), embedder=embedder).run(REPO_SET)


@pytest.fixture(scope="module")
def summary(result) -> str:
    from quoteback.app.eval_summary import summary

    return summary(result)


def _tables(markdown: str) -> list[list[list[str]]]:
    """Each markdown table as rows of cells (a `\\|` inside a cell is part of it)."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif current:
            tables.append(current)
            current = []
    return tables


def _row(summary: str, name: str) -> list[str]:
    return next(r for t in _tables(summary) for r in t if re.sub(r"\\(.)", r"\1", r[0]).startswith(name))


def test_each_outcome_share_is_shown_once_from_one_source(result, summary):
    """'Abstention: 50% declined' (the similarity floor alone) sat beside 'declined 75%' (what the
    app replies): now only the replies' shares, in one table."""
    assert "Abstention" not in summary
    h = result.honesty
    for key, name in [("answerable", "answerable ("), ("unanswerable", "unanswerable ("),
                      ("unanswerable_on-topic", "unanswerable on-topic"), ("unanswerable_off-topic", "unanswerable off-topic")]:
        assert _row(summary, name)[1:] == [f"{h[key][o]:.1%}" for o in ("answer", "related", "declined")]
    assert sum(1 for t in _tables(summary) for r in t if r[0].startswith("unanswerable \\(")) == 1


def test_tables_keep_their_columns(summary):
    tables = _tables(summary)
    assert len(tables) == 3  # metrics, outcomes, reliability
    for table in tables:
        assert table[1] == ["---"] * len(table[0])
        assert {len(row) for row in table} == {len(table[0])}


def test_every_figure_has_a_one_line_explanation(summary):
    from quoteback.app.eval_summary import HELP

    for name in [*MEASURES, "answered", "related", "declined", "confidence", "predicted", "observed"]:
        title = re.search(rf'<abbr title="([^"]+)">{re.escape(name)}</abbr>', summary)
        assert title and len(title.group(1)) > 20 and "\n" not in title.group(1), name
        assert f"- **{name}**: " in summary  # the same line under the tables, for screens without hover
    assert set(HELP) >= {*MEASURES, "configuration"}


def test_the_trade_off_plot_matches_the_outcome_table(result, tmp_path):
    from quoteback.app.eval_summary import plot_threshold

    path = plot_threshold(result, tmp_path / "trade-off.png")
    assert path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    h = result.honesty
    at = next(c for c in h["curve"] if abs(c["threshold"] - h["thresholds"]["answer_from"]) < 1e-9)
    assert at["answered"] == pytest.approx(h["answerable"]["answer"])
    assert at["not_answered"] == pytest.approx(1 - h["unanswerable"]["answer"])
    no_unanswerable = dataclasses.replace(result, honesty={k: v for k, v in h.items() if k != "curve"})
    assert plot_threshold(no_unanswerable, tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()
