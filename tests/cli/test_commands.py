import json
import subprocess
import sys

from typer.testing import CliRunner

from quoteback.cli import app
from tests.conftest import SEED

runner = CliRunner()
SEED_TEXT = SEED.read_text(encoding="utf-8")


def test_help_is_fast_and_imports_nothing_heavy():
    code = "import sys; from quoteback.cli import app; assert not {'torch','sentence_transformers','gradio','faiss'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "ask" in result.output and "build" in result.output


def test_a_cold_ask_imports_only_what_answering_needs(seed_ready):
    """The default runtime (onnx-int8) answers without torch or sentence-transformers, and the
    optional stores and Ray stay out of the embedded path."""
    root = seed_ready.answerer.settings.corpus.parent
    code = ("import runpy, sys; sys.argv = ['quoteback', 'ask', 'What is MINUSMA?', '--no-build', '--json', "
            f"'--corpus', {str(root / 'corpus')!r}, '--index', {str(root / 'index')!r}]\n"
            "try:\n    runpy.run_module('quoteback', run_name='__main__')\nexcept SystemExit as end:\n    assert not end.code\n"
            "heavy = {'torch', 'sentence_transformers', 'pymilvus', 'ray', 'gradio'} & set(sys.modules)\n"
            "assert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["answered"] is True


def test_build_info_ask_json(seed_corpus, tmp_path):
    paths = ["--corpus", str(seed_corpus), "--index", str(tmp_path / "idx")]
    result = runner.invoke(app, ["info", "--json", *paths])
    assert json.loads(result.output)["stale"] is True
    result = runner.invoke(app, ["build", *paths])
    assert result.exit_code == 0 and "0 unchanged, 0 changed, 1 added, 0 removed" in result.output
    info = json.loads(runner.invoke(app, ["info", "--json", *paths]).output)
    assert info["stale"] is False and info["documents"] == 1 and info["passages"] > 5
    result = runner.invoke(app, ["ask", "What is the Wagner Group?", "--json", "-k", "2", *paths])
    assert result.exit_code == 0
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(answer) >= {"question", "answered", "quotes", "message"}
    assert answer["answered"] and 1 <= len(answer["quotes"]) <= 2
    for quote in answer["quotes"]:
        assert set(quote) >= {"text", "document", "title", "date", "start", "end", "score"}
        assert SEED_TEXT[quote["start"] : quote["end"]] == quote["text"]


def test_ask_builds_first_and_prints_block_quotes(seed_corpus, tmp_path):
    result = runner.invoke(app, ["ask", "Why is the UN withdrawing its troops?", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")])
    assert result.exit_code == 0
    assert "> The UN peacekeeping mission in Mali, known as MINUSMA" in result.stdout
    assert "wagner-group-in-mali-faq.txt, 2023-12-12" in result.stdout


def test_bad_single_question_exits_non_zero(seed_corpus, tmp_path):
    for bad in ["", "   ", "a\x01b", "x" * 5000]:
        result = runner.invoke(app, ["ask", bad, "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")])
        assert result.exit_code != 0 and "error:" in result.output


def test_file_mode_answers_every_line_and_survives_bad_ones(seed_corpus, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("What is the Wagner Group?\n\nWhat is the capital of France?\nbad\x02line\nWhat is MINUSMA?\n  \n\n")
    result = runner.invoke(app, ["ask", "--file", str(questions), "--json", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    # blank lines (in the middle and at the end) are not questions: no "empty question" objects
    assert [r["question"] for r in rows] == ["What is the Wagner Group?", "What is the capital of France?", "bad\x02line", "What is MINUSMA?"]
    assert [r["answered"] for r in rows] == [True, False, False, True]
    assert "control characters" in rows[2]["message"]
    assert rows[1]["message"].startswith("The documents are not about this")
    stdin = runner.invoke(app, ["ask", "--file", "-", "--json", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")], input="What is MINUSMA?\n")
    assert json.loads(stdin.stdout.strip())["answered"] is True


def test_chat_rejects_malformed_auth(seed_corpus, tmp_path):
    result = runner.invoke(app, ["chat", "--auth", "nocolon", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")])
    assert result.exit_code == 2 and "USER:PASS" in result.output


def test_settings_file_and_environment(tmp_path, monkeypatch):
    from quoteback.settings import load_settings

    config = tmp_path / "q.toml"
    config.write_text('k = 5\nmax_chars = 400\nembed_title = false\n')
    monkeypatch.setenv("QUOTEBACK_K", "7")
    settings = load_settings(config)
    assert (settings.k, settings.max_chars, settings.embed_title) == (7, 400, False)
    config.write_text("nonsense = 1\n")
    result = runner.invoke(app, ["info", "--config", str(config)])
    assert result.exit_code == 2 and "unknown settings" in result.output


def test_ask_where_searches_only_the_documents_named(seed_corpus, tmp_path):
    (seed_corpus / "lighthouse.md").write_text("# Lighthouses\n\nA lighthouse keeper trims the lamp's wick every night. "
                                               "The Wagner lighthouse in Mali does not exist.\n")
    paths = ["--corpus", str(seed_corpus), "--index", str(tmp_path / "i")]
    free = runner.invoke(app, ["ask", "What is the Wagner Group?", "--json", *paths])
    scoped = runner.invoke(app, ["ask", "What is the Wagner Group?", "--json", "--where", "doc=lighthouse*", *paths])
    assert free.exit_code == 0 and scoped.exit_code == 0, scoped.output
    free_docs = {q["document"] for q in json.loads(free.stdout.strip().splitlines()[-1])["quotes"]}
    scoped_docs = {q["document"] for q in json.loads(scoped.stdout.strip().splitlines()[-1])["quotes"]}
    assert "wagner-group-in-mali-faq.txt" in free_docs and scoped_docs <= {"lighthouse.md"}


def test_ask_where_tag_searches_only_the_tagged_documents(seed_corpus, tmp_path):
    """Tags come from a sidecar; the sidecar is neither indexed nor reported as skipped."""
    (seed_corpus / "lighthouse.md").write_text("# Lighthouses\n\nA lighthouse keeper trims the lamp's wick every night. "
                                               "The Wagner lighthouse in Mali does not exist.\n")
    (seed_corpus / "lighthouse.md.meta.json").write_text('{"title": "Keepers", "tags": ["coast", "fiction"]}')
    paths = ["--corpus", str(seed_corpus), "--index", str(tmp_path / "i")]
    built = runner.invoke(app, ["build", *paths])
    assert built.exit_code == 0 and "2 added" in built.output and "skipped" not in built.output and "warning" not in built.output
    scoped = runner.invoke(app, ["ask", "What is the Wagner Group?", "--json", "--where", "tag=Fiction", *paths])
    assert scoped.exit_code == 0, scoped.output
    quotes = json.loads(scoped.stdout.strip().splitlines()[-1])["quotes"]
    assert quotes and {q["document"] for q in quotes} == {"lighthouse.md"}
    nothing = runner.invoke(app, ["ask", "What is the Wagner Group?", "--where", "tag=finance", *paths])
    assert nothing.exit_code != 0 and "no passage matches --where tag=finance" in nothing.output


def _collections(tmp_path):
    """Two small collections of markdown files: their --corpus and --index flags."""
    texts = {"policies": {"leave.md": "# Leave policy\n\nEmployees receive twenty-five days of paid annual leave each calendar year.\n"},
             "harbour": {"ferry.md": "# Ferry timetable\n\nThe ferry to the island leaves at seven in the morning from the north quay.\n",
                         "rules.md": "# Harbour rules\n\nVisiting yachts must report to the harbour master on arrival.\n"}}
    flags = []
    for name, files in texts.items():
        (tmp_path / name).mkdir()
        for file, text in files.items():
            (tmp_path / name / file).write_text(text)
        flags += ["--corpus", f"{name}={tmp_path / name}"]
    return flags + ["--index", str(tmp_path / "index")]


def test_collections_build_info_and_ask_through_the_cli(tmp_path):
    paths = _collections(tmp_path)
    built = runner.invoke(app, ["build", *paths])
    assert built.exit_code == 0, built.output
    assert "policies: 0 unchanged, 0 changed, 1 added" in built.output and "harbour: 0 unchanged, 0 changed, 2 added" in built.output
    assert (tmp_path / "index" / "policies" / "current").exists() and (tmp_path / "index" / "harbour" / "current").exists()
    listed = json.loads(runner.invoke(app, ["info", "--json", *paths]).output)
    assert [(i["collection"], i["documents"], i["status"]) for i in listed] == [("policies", 1, "up to date"), ("harbour", 2, "up to date")]
    one = json.loads(runner.invoke(app, ["info", "--json", "--collection", "harbour", *paths]).output)
    assert one["collection"] == "harbour" and one["index"] == str(tmp_path / "index" / "harbour")
    text = runner.invoke(app, ["info", *paths]).output
    assert "collection: policies" in text and "collection: harbour" in text
    asked = runner.invoke(app, ["ask", "When does the ferry to the island leave?", "--json", *paths])
    answer = json.loads(asked.stdout.strip().splitlines()[-1])
    assert answer["answered"] and (answer["quotes"][0]["collection"], answer["quotes"][0]["document"]) == ("harbour", "ferry.md")
    only = runner.invoke(app, ["ask", "How many days of paid annual leave do employees receive?", "--json", "--collection", "harbour", *paths])
    assert {q["collection"] for q in json.loads(only.stdout.strip().splitlines()[-1])["quotes"]} <= {"harbour"}
    shown = runner.invoke(app, ["ask", "How many days of paid annual leave do employees receive?", *paths]).stdout
    assert "(policies: leave.md, undated, score" in shown
    plain = runner.invoke(app, ["ask", "When does the ferry leave?", "--json", "--corpus", str(tmp_path / "harbour"),
                                "--index", str(tmp_path / "plain")])
    assert "collection" not in json.loads(plain.stdout.strip().splitlines()[-1])["quotes"][0]  # an unnamed corpus: as before


def test_build_with_collection_builds_only_that_one(tmp_path):
    paths = _collections(tmp_path)
    built = runner.invoke(app, ["build", "--collection", "policies", *paths])
    assert built.exit_code == 0 and "policies:" in built.output and "harbour:" not in built.output
    assert not (tmp_path / "index" / "harbour").exists()


def test_collection_mistakes_are_one_error_line(tmp_path, seed_corpus):
    paths = _collections(tmp_path)
    for args, message in ((["ask", "What?", "--collection", "boats", *paths], "unknown collection 'boats'; the collections: policies, harbour"),
                          (["info", "--collection", "x", "--corpus", str(seed_corpus)], "no collections are named"),
                          (["build", "--corpus", "a b=./x"], "collection name 'a b' may hold only"),
                          (["build", "--corpus", "a=./x", "--corpus", "a=./y"], "collection 'a' is named twice"),
                          (["ask", "What?", "--corpus", "a=./x", "--corpus", str(seed_corpus)], "give every folder a name"),
                          (["build", "--corpus", f"gone={tmp_path / 'gone'}", "--index", str(tmp_path / "i")], "collection gone: ")):
        result = runner.invoke(app, args)
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert result.exit_code == 2 and len(errors) == 1 and message in errors[0], (args, result.output)
        assert "Traceback" not in result.output


def test_eval_collection_asks_the_sets_questions_of_that_collection(tmp_path):
    paths = _collections(tmp_path)
    questions = tmp_path / "harbour-set"
    (questions / "corpus").mkdir(parents=True)
    (questions / "dataset.json").write_text('{"name": "harbour-set", "corpus_dir": "corpus"}')
    (questions / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "When does the ferry to the island leave?", "expect": "seven in the morning"}\n'
        '{"_id": "q2", "text": "Who must visiting yachts report to?", "expect": "harbour master"}\n')
    scores = {}
    for name in ("harbour", "policies"):
        result = runner.invoke(app, ["eval", str(questions), "--json", "--configs", "hybrid+sentences", "--collection", name, *paths])
        assert result.exit_code == 0, result.output
        scores[name] = json.loads(result.stdout[result.stdout.index("{"):])["metrics"]["Success@1"]
    assert scores == {"harbour": 1.0, "policies": 0.0}
    assert (tmp_path / "index" / "harbour" / "current").exists()  # the collection's own index, built for it
