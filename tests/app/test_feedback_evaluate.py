"""The Evaluate tab and the users' judgments: "Your feedback: N judged questions" offered beside the
shipped set once the database holds some (counted when the tab opens), run from the browser like
`quoteback eval --feedback`, and the trend of the runs kept, across index versions and settings."""

from __future__ import annotations

import shutil

import pytest

from quoteback.app.eval_summary import _changes, plot_trend, trend
from quoteback.app.evaluate_tab import offered
from quoteback.feedback.store import EvalRun, FeedbackStore, Judgment, feedback_db, quote_ref
from quoteback.settings import Settings
from tests.app.helpers import app_page
from tests.app.test_chat import ARTIFACTS, browser  # noqa: F401  (the Chromium fixture)
from tests.conftest import REPO, SEED, chat_server

TEXT = SEED.read_text(encoding="utf-8")
JUDGED = {"What is the Wagner Group?": "Russian private military company", "How long has Wagner been in Mali?": "operating in Mali since 2018",
          "What is MINUSMA?": "known as MINUSMA"}


def _judge(store: FeedbackStore) -> None:
    for question, phrase in JUDGED.items():
        start = TEXT.index(phrase)
        store.add(Judgment(question, "answers", quote_ref(SEED.name, TEXT, start, start + len(phrase))))
    store.add(Judgment("What is MINUSMA?", "answers", quote_ref(SEED.name, TEXT, 0, 10)))  # the same question again: still 3
    store.add(Judgment("Who won the 2018 FIFA World Cup?", "none"))


def _runs(store: FeedbackStore) -> None:
    store.add_run(EvalRun("feedback", {"Success@1": 0.5, "nDCG@10": 0.6}, {"k": 5, "reader": True}, "v-1", 2))
    store.add_run(EvalRun("feedback", {"Success@1": 0.75, "nDCG@10": 0.8}, {"k": 8, "reader": True}, "v-2", 4, stale=1))


def test_the_feedback_set_is_offered_once_there_are_judgments(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    assert offered(["/sets/shipped-questions"], store) == [("shipped-questions", "/sets/shipped-questions")]
    assert offered(["/sets/shipped-questions"], None) == [("shipped-questions", "/sets/shipped-questions")]
    _judge(store)
    assert offered([], store) == [("Your feedback: 4 judged questions", "@feedback")]


def test_the_trend_names_what_changed_run_after_run(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    assert trend([]) == "" and plot_trend([], tmp_path / "none.png") is None
    _runs(store)
    store.add_run(EvalRun("feedback", {"Success@1": 0.75, "nDCG@10": 0.8}, {"k": 8, "reader": True}, "v-2", 4))
    runs = store.runs()
    assert _changes(runs) == ["first run", "new index; k: 5 → 8", "same index and settings"]
    assert _changes(runs[:2], shown=0) == ["first run", "new index; and 1 more settings"]
    lines = trend(runs).splitlines()
    assert "the last 3 runs" in lines[0] and len([x for x in lines if x[:1].isdigit()]) == 3
    assert "index v\\-2" in lines[-1] and "**0.750**" in lines[-1] and "1 stale" in lines[-2] and "stale" not in lines[-1]
    assert plot_trend(runs, tmp_path / "trend.png").stat().st_size > 5000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback-eval")
    shutil.copytree(REPO / "corpus", root / "corpus")
    with chat_server(root, root / "corpus", "--no-watch") as url:
        yield {"url": url + "/", "store": FeedbackStore(feedback_db(Settings(index=root / "index")))}


@pytest.mark.parametrize("width", [1280, 390])
def test_run_the_feedback_set_from_the_evaluate_tab(browser, server, width):
    store = server["store"]
    with app_page(browser, server["url"], width, 900) as page:
        if not store.count():  # judged while the page is open: offered when the tab opens
            _judge(store)
            _runs(store)
        page.get_by_role("tab", name="Evaluate").click()
        choice = "Your feedback: 4 judged questions"
        page.get_by_label("Evaluation set (more with quoteback chat --eval-set DIR)").click()
        page.get_by_role("option", name=choice).click()
        page.get_by_role("button", name="Run evaluation").click()
        page.wait_for_selector("#eval-summary table", timeout=300_000)
        summary = page.locator("#eval-summary").inner_text()
        assert "3 answerable questions" in summary and "1 unanswerable" in summary and "Success@1" in summary
        page.wait_for_selector("#eval-trend img", timeout=30_000)
        rows = page.locator("#eval-trend-table ol li")
        assert rows.count() == len(store.runs()) >= 3
        assert "new index" in page.locator("#eval-trend-table").inner_text()
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.locator("#eval-trend").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"feedback-evaluate-{width}.png"), full_page=True)
    latest = store.runs()[-1]
    assert latest.dataset == "feedback" and latest.queries == 3 and latest.index_version.startswith("v-")
