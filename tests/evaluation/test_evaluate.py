import json
import math
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from quoteback.cli import app
from quoteback.evaluation.evaluate import REPO_SET, ConfigResult, abstention, score_runs
from quoteback.retrieval import _rrf


def test_metrics_against_hand_computed_values():
    qrels = {"q1": {"d1": 1}, "q2": {"a": 2, "b": 1}, "q3": {"x": 1}}
    run = {"q1": {"d2": 0.9, "d1": 0.8}, "q2": {"b": 0.9, "a": 0.5}, "q3": {"y": 1.0}}
    per_query, mean = score_runs(qrels, run)
    assert per_query["q1"]["RR@10"] == pytest.approx(0.5)
    assert per_query["q1"]["Success@1"] == 0 and per_query["q1"]["R@100"] == 1
    assert per_query["q1"]["nDCG@10"] == pytest.approx(1 / math.log2(3))
    # graded: gains 1 (b) then 2 (a) against the ideal 2 then 1 (linear gains, as trec_eval)
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)
    assert per_query["q2"]["nDCG@10"] == pytest.approx(dcg / ideal)
    assert per_query["q2"]["Success@1"] == 1
    assert per_query["q3"] == {"nDCG@10": 0, "RR@10": 0, "R@100": 0, "Success@1": 0}
    assert mean["Success@1"] == pytest.approx(round(1 / 3, 4))


def test_rrf_fusion():
    order = np.array([1, 2, 3])
    fused = _rrf(order, [[1, 2], [2, 3]], c=60)
    assert fused == pytest.approx([1 / 61, 1 / 62 + 1 / 61, 1 / 62])


def test_abstention_shares_and_operating_point():
    result = ConfigResult("x", {}, {}, {}, {}, {"a1": 0.9, "a2": 0.5, "a3": 0.3, "u1": 0.1, "u2": 0.4})
    out = abstention(result, ["a1", "a2", "a3"], ["u1", "u2"], threshold=0.35)
    assert out["answerable_answered"] == pytest.approx(2 / 3, abs=1e-4)
    assert out["unanswerable_declined"] == pytest.approx(0.5)  # u2 (0.4) is above the threshold
    # 95% of answerable answered needs threshold <= 0.3, where only u1 (0.1) is declined
    assert out["at_95_answered"] == {"threshold": 0.3, "unanswerable_declined": 0.5}


@pytest.fixture
def tiny_beir(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = {
        "d1": ("Volcanoes", "Mount Etna is an active volcano on the east coast of Sicily."),
        "d2": ("Rivers", "The Danube flows through ten countries before reaching the Black Sea."),
        "d3": ("Bridges", "The Golden Gate Bridge spans the strait at the entrance to San Francisco Bay."),
    }
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in docs.items()))
    queries = {"q1": "Which volcano is active in Sicily?", "q2": "How many countries does the Danube cross?"}
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items()))
    (folder / "queries-unanswerable.jsonl").write_text(json.dumps({"_id": "u1", "text": "What is the recipe for lemon cake?"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    folder.chmod(0o555)  # read-only: the cache must live elsewhere
    yield folder
    folder.chmod(0o755)


def test_eval_json_on_a_tiny_beir_folder(tiny_beir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    runner = CliRunner()
    result = runner.invoke(app, ["eval", str(tiny_beir), "--json", "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{"):])
    assert data["dataset"] == "tiny" and data["queries"] == 2
    assert set(data["metrics"]) == {"nDCG@10", "RR@10", "R@100", "Success@1"}
    assert data["metrics"]["Success@1"] == 1.0 and set(data["configs"]) >= {"dense", "bm25", "hybrid"}
    assert data["abstention"]["unanswerable_declined"] == 1.0 and data["abstention"]["answerable_answered"] == 1.0
    for name in ("report.md", "per_query.jsonl", "success_at_k.png", "abstention.png"):
        assert (tmp_path / "report" / name).is_file()
    assert list((tmp_path / "cache" / "quoteback" / "eval").glob("tiny-*/index-*"))
    again = runner.invoke(app, ["eval", str(tiny_beir), "--json"])  # cached: the same numbers
    assert json.loads(again.stdout[again.stdout.index("{"):])["metrics"] == data["metrics"]


def test_shipped_question_set(tmp_path, monkeypatch):
    """The team's set: answerable questions quoted right first and answered directly; off-topic ones
    declined; on-topic ones the FAQ does not answer not given as a direct answer."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from quoteback.evaluation.evaluate import Evaluator
    from quoteback.settings import Settings

    result = Evaluator(Settings(), ["hybrid+sentences"]).run(REPO_SET)
    assert result.queries >= 20
    assert result.main.metrics["Success@1"] >= 0.9  # measured 0.905 (19 of 21) at this version; see README
    honesty = result.honesty
    assert honesty["unanswerable_off-topic"]["declined"] == 1.0
    assert honesty["unanswerable_on-topic"]["answer"] <= 0.3  # at least 7 of the 10 declined or related only
    assert honesty["answerable"]["answer"] >= 0.95 and honesty["answerable"]["declined"] == 0.0  # measured 1.0 (21 of 21)
    assert honesty["highlight_accuracy"]["share"] >= 0.8  # measured 0.947 (18 of 19; target 0.9); README
    from quoteback.evaluation.report import honesty_summary

    summary = honesty_summary(result)  # each miss is named with what was highlighted instead
    assert all(f"missed {m['query_id']}: " in summary for m in honesty["highlight_accuracy"]["misses"])


def test_eval_split_picks_the_judgments_and_names_the_ones_there(tiny_beir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "two-splits"
    shutil.copytree(tiny_beir, folder)
    folder.chmod(0o755)
    (folder / "qrels").chmod(0o755)
    (folder / "qrels" / "test.tsv").rename(folder / "qrels" / "dev.tsv")
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td3\t1\n")  # q1 judged against d3
    runner = CliRunner()
    missing = runner.invoke(app, ["eval", str(folder), "--json"])
    assert missing.exit_code != 0 and "no qrels/test.tsv" in missing.output and "dev, train" in missing.output
    dev = runner.invoke(app, ["eval", str(folder), "--json", "--split", "dev"])
    assert dev.exit_code == 0, dev.output
    data = json.loads(dev.stdout[dev.stdout.index("{"):])
    assert data["split"] == "dev" and data["queries"] == 2 and data["metrics"]["Success@1"] == 1.0
    train = runner.invoke(app, ["eval", str(folder), "--json", "--split", "train"])
    data = json.loads(train.stdout[train.stdout.index("{"):])
    assert data["split"] == "train" and data["queries"] == 1 and data["metrics"]["Success@1"] == 0.0  # d1 answers q1, not d3


def test_a_phrase_set_of_real_documents(tmp_path, monkeypatch):
    """Phrases match with whitespace collapsed and case folded; a phrase in no passage is a miss
    listed as not in the extracted text (the eval used to stop with an error)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from quoteback.evaluation.evaluate import Evaluator
    from quoteback.settings import Settings

    folder = tmp_path / "phrases"
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / "birds.md").write_text(
        "# Birds\n\nThe osprey nests on the old\nradio mast above the harbour.\n\n## Feeding\n\nOspreys eat fish, caught feet first.\n")
    (folder / "dataset.json").write_text(json.dumps({"name": "phrases", "corpus_dir": "corpus"}))
    rows = [{"_id": "p1", "text": "Where does the osprey nest?", "expect": ["OLD RADIO MAST above"]},
            {"_id": "p2", "text": "What do ospreys eat?", "expect": ["caught feet first"]},
            {"_id": "p3", "text": "How long do ospreys live?", "expect": ["up to thirty years"]}]
    (folder / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = Evaluator(Settings(), ["hybrid+sentences"]).run(folder)
    assert result.queries == 3 and result.missing == ["p3"]
    assert result.main.per_query["p1"]["Success@1"] == 1.0 and result.main.per_query["p3"]["Success@1"] == 0.0
    data = result.to_json()
    assert data["not_in_extracted_text"] == ["p3"] and data["quote_checks"]["quotes"] >= 3
    assert data["quote_checks"]["no section"] == 0  # every quote from a document with headings has its section
    first = result.honesty["first_quote"]  # the set's own rule, on the quotes as shown
    assert first["questions"] == 3 and "p3" in first["misses"] and "p2" not in first["misses"]


def test_the_report_names_the_off_topic_floor_apart_from_the_outcomes(tiny_beir, tmp_path, monkeypatch):
    """One figure per quantity: the floor's shares are not called 'declined' beside the outcome shares."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["eval", str(tiny_beir), "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## Off-topic floor" in report and "## Abstention" not in report
    assert "off-topic floor" in result.output and "abstention at threshold" not in result.output
