"""`quoteback feedback` and `quoteback eval --feedback` on a real index of the shipped corpus."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from quoteback.cli import app
from quoteback.evaluation.feedback_set import feedback_folder
from quoteback.feedback.store import FeedbackStore
from quoteback.index import live_folder, load_index
from tests.conftest import REPO

runner = CliRunner()
DOC = "wagner-group-in-mali-faq.txt"

# 20 judged questions: (question, [(judgment, phrase of the document or None)])
JUDGED = [
    ("What is the Wagner Group?", [("answers", "a Russian private military company believed to have ties to the Russian government")]),
    ("When was MINUSMA established?", [("answers", "was established in 2013")]),
    ("Since when has Wagner been in Mali?", [("answers", "has reportedly been operating in Mali since 2018")]),
    ("Why is the UN withdrawing its troops from Mali?", [("answers", "the situation has remained volatile")]),
    ("Is Wagner officially replacing the UN?", [("answers", "they are not officially replacing the UN")]),
    ("What concerns do private contractors raise?", [("answers", "concerns have been raised about accountability, transparency")]),
    ("What should accompany private military contractors?", [("answers", "robust oversight mechanisms")]),
    ("Where else has the Wagner Group fought?", [("answers", "including Syria and Ukraine")]),
    ("What does Wagner provide to the Malian army?", [("answers", "providing security services and training to the Malian armed forces")]),
    ("What does the stability of Mali require?", [("answers", "requires a comprehensive and sustainable approach")]),
    ("Who is filling the security vacuum?", [("answers", "filling the security vacuum left by the UN withdrawal")]),
    ("What is MINUSMA?", [("answers", "The UN peacekeeping mission in Mali, known as MINUSMA")]),
    ("What kind of force is Wagner?", [("wrong", "One of the key actors filling this void"), ("answers", "It operates as a paramilitary force")]),
    ("What was Mali grappling with?", [("wrong", "undergoing a significant transformation"), ("answers", "grappling with a complex security situation")]),
    ("How many soldiers does Wagner have in Mali?", [("none", None)]),
    ("Who won the 2022 football world cup?", [("none", None)]),
    ("What is the capital of Mali?", [("none", None)]),
    ("Who leads the Wagner Group?", [("wrong", "The Wagner Group is a Russian private military company")]),
    ("How much does Mali pay Wagner?", [("wrong", "offering security services and military training")]),
    ("What does Wagner do in Mali?", [("wrong", "we address some commonly asked questions")]),
]


@pytest.fixture
def shipped(tmp_path):
    """The shipped corpus, built; returns the --corpus/--index flags. The set `eval --feedback`
    exports to the cache is removed after the test (the cache itself keeps the exported model)."""
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    paths = ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")]
    assert runner.invoke(app, ["build", *paths]).exit_code == 0
    yield paths
    shutil.rmtree(feedback_folder(tmp_path / "index" / "feedback.sqlite"), ignore_errors=True)


def _add(paths, question, judgment, text=None, phrase=None, *more):
    span = []
    if phrase is not None:
        start = text.index(phrase)
        span = ["--document", DOC, "--start", str(start), "--end", str(start + len(phrase))]
    return runner.invoke(app, ["feedback", "add", "--question", question, "--judgment", judgment, *span, *more, *paths])


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_add_list_prune_and_bad_input(shipped, tmp_path):
    for args in (["list"], ["export", str(tmp_path / "set")], ["prune", "--before", "2024-01-01"]):
        nothing = runner.invoke(app, ["feedback", *args, *shipped])
        assert nothing.exit_code == 0 and nothing.output.startswith("no feedback recorded yet")
    assert not (tmp_path / "index" / "feedback.sqlite").exists() and not (tmp_path / "set").exists()
    text = load_index(tmp_path / "index").documents[DOC].text
    done = _add(shipped, "What is MINUSMA?", "answers", text, "known as MINUSMA", "--comment", "<script>x</script>", "--user", "ana")
    assert done.exit_code == 0 and re.fullmatch(rf"recorded judgment 1: answers {DOC} \d+:\d+\n", done.output)
    assert _add(shipped, "Capital of Mali?", "none").exit_code == 0
    for args, message in [
        (["--judgment", "great"], "judgment must be one of answers, wrong, none"),
        (["--judgment", "answers"], "names the passage"),
        (["--judgment", "none", "--document", DOC, "--start", "0", "--end", "5"], "names no passage"),
        (["--judgment", "answers", "--document", "nope.txt", "--start", "0", "--end", "5"], "not an indexed document"),
        (["--judgment", "answers", "--document", DOC, "--start", "5", "--end", str(len(text) + 1)], "is not a passage of"),
        (["--judgment", "answers", "--document", DOC, "--start", "5"], "all of --document, --start and --end"),
        (["--judgment", "wrong", "--comment", "x" * 501], "at most 500 characters"),
        (["--judgment", "wrong", "--where", "colour=red"], "colour"),
    ]:
        result = runner.invoke(app, ["feedback", "add", "--question", "Q?", *args, *shipped])
        assert message in _one_error_line(result)
    listed = [json.loads(line) for line in runner.invoke(app, ["feedback", "list", "--json", *shipped]).output.splitlines()]
    assert [(j["question"], j["judgment"]) for j in listed] == [("What is MINUSMA?", "answers"), ("Capital of Mali?", "none")]
    first = listed[0]
    assert text[first["span"]["start"] : first["span"]["end"]] == "known as MINUSMA"
    assert first["comment"] == "<script>x</script>" and first["user"] == "ana"
    assert first["index_version"] == live_folder(tmp_path / "index").name
    plain = runner.invoke(app, ["feedback", "list", "--limit", "1", *shipped]).output
    assert "Capital of Mali?" in plain and "MINUSMA" not in plain

    assert "ISO date" in _one_error_line(runner.invoke(app, ["feedback", "prune", "--before", "soon", *shipped]))
    assert runner.invoke(app, ["feedback", "prune", "--before", "2000-01-01", *shipped]).output.startswith("removed 0 judgments")
    assert runner.invoke(app, ["feedback", "prune", "--before", "2999-01-01", *shipped]).output == (
        "removed 2 judgments written before 2999-01-01; 0 kept\n")


def test_feedback_off_is_one_line(shipped, tmp_path):
    off = {"QUOTEBACK_FEEDBACK_ENABLED": "false"}
    for args in (["feedback", "add", "--question", "Q?", "--judgment", "none"], ["feedback", "list"],
                 ["feedback", "export", str(tmp_path / "set")], ["feedback", "prune", "--before", "2024-01-01"],
                 ["eval", "--feedback"]):
        assert "feedback is off" in _one_error_line(runner.invoke(app, [*args, *shipped], env=off))
    assert not (tmp_path / "index" / "feedback.sqlite").exists() and not (tmp_path / "set").exists()


def test_a_forced_rebuild_keeps_every_judgment(shipped, tmp_path):
    text = load_index(tmp_path / "index").documents[DOC].text
    for question, judged in JUDGED[:5]:
        assert _add(shipped, question, *judged[0][:1], text, judged[0][1]).exit_code == 0
    before = runner.invoke(app, ["feedback", "list", "--json", *shipped]).output
    old = live_folder(tmp_path / "index")
    assert runner.invoke(app, ["build", "--force", *shipped]).exit_code == 0
    assert live_folder(tmp_path / "index") != old and not old.exists()  # a new version swapped in, the old one removed
    assert runner.invoke(app, ["feedback", "list", "--json", *shipped]).output == before
    assert len(before.splitlines()) == 5


def test_eval_feedback_needs_judgments_and_refuses_a_dataset_too(shipped, tmp_path):
    assert "no judged question" in _one_error_line(runner.invoke(app, ["eval", "--feedback", *shipped]))
    assert "not both" in _one_error_line(runner.invoke(app, ["eval", str(tmp_path), "--feedback", *shipped]))


def _overlaps(passage, document, start, end) -> bool:
    return passage.document == document and passage.start < end and start < passage.end


def test_twenty_judged_questions_round_trip_to_eval_feedback(shipped, tmp_path):
    """20 judged questions → export → eval --feedback reports exactly those judgments: Success@1
    and the judged-wrong-first count computed here from the judgments and the ranking match."""
    index = load_index(tmp_path / "index")
    text = index.documents[DOC].text
    spans: dict[str, dict[str, list[tuple[int, int]]]] = {}
    for question, judged in JUDGED:
        for judgment, phrase in judged:
            assert _add(shipped, question, judgment, text, phrase).exit_code == 0
            if phrase:
                start = text.index(phrase)
                spans.setdefault(question, {}).setdefault(judgment, []).append((start, start + len(phrase)))

    exported = runner.invoke(app, ["feedback", "export", str(tmp_path / "set"), "--json", *shipped])
    summary = json.loads(exported.output)
    assert (summary["questions"], summary["unanswerable"], summary["wrong_only"], summary["stale"]) == (14, 3, 3, 0)

    result = runner.invoke(app, ["eval", "--feedback", "--json", "--configs", "hybrid,hybrid+sentences",
                                 "--report", str(tmp_path / "report"), *shipped])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{"):])
    per_query = {json.loads(line)["query"]: json.loads(line)
                 for line in (tmp_path / "report" / "per_query.jsonl").read_text().splitlines()}
    answerable = [q for q, _ in JUDGED if "answers" in spans.get(q, {})]
    assert data["queries"] == len(answerable) == 14 and set(per_query) == set(answerable)

    def passage_at(unit: str):
        document, start = unit.rsplit("#", 1)
        return next(p for p in index.passages if p.document == document and p.start == int(start))

    # by hand: the first passage ranked is right when it overlaps a span judged to answer
    right = {q for q in answerable
             if any(_overlaps(passage_at(per_query[q]["top"][0]), DOC, *s) for s in spans[q]["answers"])}
    assert data["metrics"]["Success@1"] == round(len(right) / len(answerable), 4)
    assert {q for q in answerable if per_query[q]["Success@1"] == 1.0} == right
    assert 0 < len(right)  # the judgments are about this corpus: some must come first

    # judged-wrong questions: the first passage overlaps a span judged wrong and none judged to answer
    ids = {json.loads(line)["_id"]: json.loads(line)["question"]
           for line in (feedback_folder(tmp_path / "index" / "feedback.sqlite") / "_" / "queries.jsonl").read_text().splitlines()}
    first = {ids[qid]: unit for qid, unit in data["spans"]["first"].items()}
    judged_wrong = [q for q, _ in JUDGED if "wrong" in spans.get(q, {})]
    assert set(first) == set(judged_wrong) and data["spans"]["judged_wrong"] == 5
    again = {q for q in judged_wrong
             if any(_overlaps(passage_at(first[q]), DOC, *s) for s in spans[q]["wrong"])
             and not any(_overlaps(passage_at(first[q]), DOC, *s) for s in spans[q].get("answers", []))}
    assert {ids[q] for q in data["spans"]["questions"]} == again and data["spans"]["wrong_first"] == len(again)

    unanswerable = (feedback_folder(tmp_path / "index" / "feedback.sqlite") / "_" / "queries-unanswerable.jsonl").read_text()
    assert sorted(json.loads(line)["text"] for line in unanswerable.splitlines()) == sorted(q for q, j in JUDGED if j[0][0] == "none")
    assert set(data["honesty"]["unanswerable"]) == {"answer", "related", "declined"}

    [run] = FeedbackStore(tmp_path / "index" / "feedback.sqlite").runs()  # kept for the trend
    assert run.metrics == data["metrics"] and run.queries == 14 and run.stale == 0
    assert run.index_version == live_folder(tmp_path / "index").name and run.settings["model"] == "all-MiniLM-L6-v2"


def test_judgments_of_a_named_collection_map_to_its_index(tmp_path):
    shutil.copytree(REPO / "corpus", tmp_path / "news")
    paths = ["--corpus", f"news={tmp_path / 'news'}", "--index", str(tmp_path / "index")]
    assert runner.invoke(app, ["build", *paths]).exit_code == 0
    text = load_index(tmp_path / "index" / "news").documents[DOC].text
    assert "choose one with --collection (news)" in _one_error_line(_add(paths, "What is MINUSMA?", "none"))
    assert _add(paths, "What is MINUSMA?", "answers", text, "known as MINUSMA", "--collection", "news").exit_code == 0
    assert not (tmp_path / "index" / "news" / "feedback.sqlite").exists()  # one database for all collections
    summary = json.loads(runner.invoke(app, ["feedback", "export", str(tmp_path / "set"), "--json", "--collection", "news",
                                             *paths]).output)
    assert summary["questions"] == 1 and summary["index_version"] == live_folder(tmp_path / "index" / "news").name
