"""The loop closed (issue 28's target): 20 questions judged in the chat in Chromium, with every kind
of click, then `quoteback feedback export` and `quoteback eval --feedback` on the same index: the
set holds exactly those judgments, and Success@1 is what the replies the chat showed give by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from quoteback.feedback.store import FeedbackStore, feedback_db
from quoteback.index.backends import open_backend
from quoteback.settings import Settings
from tests.app.helpers import app_page
from tests.app.test_chat import _ask, browser  # noqa: F401  (the Chromium fixture)
from tests.app.test_feedback_ui import _select, new_rows, shown_quotes, status_says
from tests.conftest import REPO, SEED, chat_server

TEXT = SEED.read_text(encoding="utf-8")
THUMBS_UP = ["What is the Wagner Group?", "Who are Wagner?", "Is Wagner linked to the Kremlin?", "What services does the Wagner Group offer?",
             "Why is the UN withdrawing its troops from Mali?", "Why are the peacekeepers leaving Mali?", "What is MINUSMA?",
             "When was the UN mission in Mali set up?"]
LAST_QUOTE = ["What role will the Wagner Group play in Mali?", "What will Wagner do in Mali?",
              "Is the Wagner Group replacing the UN in Mali?", "Are the mercenaries taking over from the United Nations?"]
# 👎, then the answer picked in the document: in the first quote, or a phrase elsewhere
PICKED = {"What are the implications of private military contractors in Mali?": None,
          "What are the risks of using private military contractors?": None,
          "Are there human rights concerns about Wagner?": "potential human rights abuses",
          "How long has Wagner been in Mali?": "operating in Mali since 2018"}
DECLINED_UP = ["What is the capital of France?", "How do I bake sourdough bread?"]  # 👍 on "the documents don't say"
NONE = ["Who won the 2018 FIFA World Cup?", "What is the boiling point of water at sea level?"]  # 👎, then "none"


def _judge(page, question: str) -> list[tuple[str, int, int]]:
    """Ask `question` in a fresh conversation and judge the reply as its group says; returns the quotes shown."""
    declined = question in DECLINED_UP + NONE
    _ask(page, question, 1, expect="documents" if declined else "FAQ")
    quotes = shown_quotes(page)
    assert bool(quotes) != declined, (question, quotes)
    if question in THUMBS_UP or question in DECLINED_UP:
        page.get_by_role("button", name="Like", exact=True).first.click()
        status_says(page, "Recorded")
    elif question in LAST_QUOTE:
        page.locator("button.qb-answers").last.click()
        status_says(page, "answers it")
    else:
        page.get_by_role("button", name="Dislike", exact=True).first.click()
        status_says(page, "don't answer it")
        if question in NONE:
            page.get_by_role("button", name="None of the documents answer this").click()
            status_says(page, "none of the documents")
        else:
            with page.expect_popup() as popup:
                page.get_by_role("link", name="Where is the answer? Pick it in a document").click()
            view = popup.value
            view.wait_for_load_state("load")
            _select(view, PICKED[question] or TEXT[quotes[0][1] : quotes[0][2]].split(". ")[0])
            view.get_by_role("button", name="Use the selected text as the answer").click()
            view.wait_for_selector("#pick-status.ok", timeout=30_000)
            view.close()
    return quotes


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "quoteback", *args], env=env, capture_output=True, text=True, timeout=600)


def test_twenty_judged_questions_become_the_feedback_set(browser, tmp_path):
    root = tmp_path
    shutil.copytree(REPO / "corpus", root / "corpus")
    settings = Settings(corpus=root / "corpus", index=root / "index")
    store = FeedbackStore(feedback_db(settings))
    questions = THUMBS_UP + LAST_QUOTE + list(PICKED) + DECLINED_UP + NONE
    assert len(questions) == 20
    first_quote = {}
    with chat_server(root, root / "corpus", "--no-watch") as url:
        for question in questions:
            with app_page(browser, url + "/", 1280) as page:
                quotes = _judge(page, question)
            first_quote[question] = quotes[0] if quotes else None
    rows = new_rows(store, 0, 2 * len(PICKED) + 2 * len(NONE) + len(THUMBS_UP) + len(LAST_QUOTE) + len(DECLINED_UP))
    assert {r.question for r in rows} == set(questions)

    # by hand: the first passage shown is the passage holding the first quote; a hit when it shares a
    # character with a passage judged to answer (👍's first quote, "This answers it", a picked one)
    passages = open_backend(settings).load().passages
    hits = 0
    answerable = THUMBS_UP + LAST_QUOTE + list(PICKED)
    for question in answerable:
        doc, start, _ = first_quote[question]
        top = next(p for p in passages if p.document == doc and p.start <= start < p.end)
        spans = [r.span for r in rows if r.question == question and r.judgment == "answers"]
        hits += any(s.document == top.document and s.start < top.end and top.start < s.end for s in spans)
    assert hits >= len(THUMBS_UP)  # the 👍 ones at least

    exported = _cli("feedback", "export", str(root / "set"), "--corpus", str(root / "corpus"), "--index", str(root / "index"))
    assert exported.returncode == 0, exported.stderr
    queries = [json.loads(line) for line in (root / "set" / "queries.jsonl").read_text().splitlines()]
    unanswerable = [json.loads(line) for line in (root / "set" / "queries-unanswerable.jsonl").read_text().splitlines()]
    assert sorted(q["question"] for q in queries) == sorted(answerable)
    assert sorted(q["question"] for q in unanswerable) == sorted(DECLINED_UP + NONE)
    for q in queries:  # each judged span, exactly as stored
        stored = {(r.span.document, r.span.start, r.span.end, int(r.judgment == "answers"))
                  for r in rows if r.question == q["question"] and r.span is not None}
        assert {(s["document"], s["start"], s["end"], s["gain"]) for s in q["spans"]} <= stored
        assert {s[:3] for s in stored} == {(s["document"], s["start"], s["end"]) for s in q["spans"]}

    evaluated = _cli("eval", "--feedback", "--json", "--corpus", str(root / "corpus"), "--index", str(root / "index"))
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    assert result["queries"] == len(answerable)
    assert abs(result["metrics"]["Success@1"] - hits / len(answerable)) < 1e-4, (result["metrics"], hits)
    assert f"{len(answerable)} answerable questions" in evaluated.stderr and f"{len(DECLINED_UP + NONE)} unanswerable" in evaluated.stderr
    (run,) = store.runs()
    assert run.queries == len(answerable) and abs(run.metrics["Success@1"] - hits / len(answerable)) < 1e-4
