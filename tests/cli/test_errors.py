"""Every user error is one line `error: ...` naming the fix, exit code 2, never a traceback;
`info` checks the files it lists; `ask` answers while another process rebuilds (issue 12)."""

from __future__ import annotations

import errno
import json
import shutil
import socket

import pytest
from typer.testing import CliRunner

from quoteback.cli import app

runner = CliRunner()


def _one_line_error(result, *needles: str) -> str:
    """The result is a clean exit 2 with a single `error:` line containing every needle."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def built(tmp_path, seed_ready):
    """A private copy of the indexed shipped corpus (tests damage it or make it stale)."""
    source = seed_ready.answerer.settings
    shutil.copytree(source.corpus, tmp_path / "corpus")
    shutil.copytree(source.index, tmp_path / "index", symlinks=True)
    return tmp_path, ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")]


def test_empty_corpus_is_a_message_for_build_and_ask(tmp_path):
    (tmp_path / "empty").mkdir()
    paths = ["--corpus", str(tmp_path / "empty"), "--index", str(tmp_path / "i")]
    _one_line_error(runner.invoke(app, ["build", *paths]), "has no documents to index", ".txt")
    _one_line_error(runner.invoke(app, ["ask", "What?", *paths]), "has no documents to index")
    (tmp_path / "empty" / "tool.exe").write_bytes(b"MZ")
    _one_line_error(runner.invoke(app, ["build", *paths]), "1 skipped: tool.exe")


def test_index_path_that_is_a_file(seed_corpus, tmp_path):
    (tmp_path / "afile").write_text("x")
    _one_line_error(runner.invoke(app, ["build", "--corpus", str(seed_corpus), "--index", str(tmp_path / "afile")]),
                    "is a file, not a folder", "--index")


def test_index_folder_not_writable(seed_corpus, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("quoteback.status.open", read_only, raising=False)  # build_lock's open of .lock
    _one_line_error(runner.invoke(app, ["build", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")]),
                    "cannot write to the index folder", "Read-only file system", "writable folder with --index")


def test_missing_corpus_creates_no_index_folder(tmp_path):
    result = runner.invoke(app, ["build", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i")])
    _one_line_error(result, "does not exist")
    assert not (tmp_path / "i").exists()
    (tmp_path / "file.txt").write_text("x")
    _one_line_error(runner.invoke(app, ["info", "--corpus", str(tmp_path / "file.txt"), "--index", str(tmp_path / "i")]),
                    "is a file, not a folder")


@pytest.mark.parametrize("k", ["0", "-3"])
def test_k_below_one_is_an_input_error(seed_corpus, tmp_path, k):
    _one_line_error(runner.invoke(app, ["ask", "What is MINUSMA?", "-k", k, "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")]),
                    "must be 1 or more")


def test_split_on_a_set_without_judgments_is_refused():
    _one_line_error(runner.invoke(app, ["eval", "--split", "foo"]), "has no splits", "--split")


@pytest.mark.parametrize("line, needle", [("garbage", "line 2 is not JSON"), ('{"_id": "q2"}', "line 2 has no 'text'"),
                                          ('["q2"]', "line 2 has no '_id' or 'text'")])
def test_a_bad_line_of_an_evaluation_set_is_named(tmp_path, line, needle):
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "queries.jsonl").write_text('{"_id": "q1", "text": "What?"}\n' + line + "\n")
    _one_line_error(runner.invoke(app, ["eval", str(tmp_path / "set")]), "queries.jsonl", needle)


def test_an_unwritable_report_folder_fails_before_the_evaluation(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    ran = []
    monkeypatch.setattr("quoteback.evaluation.evaluate.Evaluator.run", lambda *a, **k: ran.append(1))
    _one_line_error(runner.invoke(app, ["eval", "--report", str(tmp_path / "afile")]), "--report", "is a file, not a folder")
    _one_line_error(runner.invoke(app, ["eval", "--report", str(tmp_path / "afile" / "sub")]), "cannot write to --report")
    assert ran == []


def test_missing_question_file(seed_corpus, tmp_path):
    _one_line_error(runner.invoke(app, ["ask", "--file", str(tmp_path / "nope.txt"), "--corpus", str(seed_corpus)]),
                    "cannot read --file", "No such file")


@pytest.mark.parametrize("flags, needles", [
    (["--port", "99999"], ["--port 99999", "1 to 65535"]),
    (["--port", "0"], ["--port 0"]),
    (["--host", "0.0.0.0"], ["--auth-file", "--allow-unauthenticated"]),
    (["--auth", "nocolon"], ["USER:PASS"]),
    (["--auth", "a:b", "--auth-file", "x"], ["not both"]),
    (["--eval-set", "/nonexistent-set"], ["not an evaluation set"]),
])
def test_chat_flags_fail_before_the_model_loads(seed_corpus, tmp_path, flags, needles):
    result = runner.invoke(app, ["chat", *flags, "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")])
    _one_line_error(result, *needles)
    assert not (tmp_path / "i").exists()  # nothing was built: the check came first


def test_chat_port_in_use(seed_corpus, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["chat", "--port", str(port), "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")])
    _one_line_error(result, f"port {port}", "already in use", "--port")
    assert not (tmp_path / "i").exists()


def test_auth_file(tmp_path):
    from quoteback.cli.checks import read_auth_file, resolve_auth

    secret = tmp_path / "login"
    secret.write_text("\nalice:s3cret:with:colons\n")
    assert read_auth_file(secret) == ("alice", "s3cret:with:colons")
    assert resolve_auth(None, secret) == ("alice", "s3cret:with:colons")
    secret.write_text("alice\n")
    with pytest.raises(ValueError, match="USER:PASS"):
        read_auth_file(secret)
    with pytest.raises(ValueError, match="cannot read"):
        read_auth_file(tmp_path / "missing")


def test_manifest_missing_keys(built):
    root, paths = built
    manifest_file = root / "index" / "current" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    del manifest["model"]
    manifest_file.write_text(json.dumps(manifest))
    info = runner.invoke(app, ["info", *paths])
    assert info.exit_code == 2 and "Traceback" not in info.output
    assert "status: damaged — " in info.output and "(missing model)" in info.output and "quoteback build --force" in info.output
    _one_line_error(runner.invoke(app, ["ask", "What is MINUSMA?", "--no-build", *paths]), "missing model", "build --force")
    result = runner.invoke(app, ["ask", "What is MINUSMA?", "--json", *paths])  # allowed to build: it rebuilds
    assert result.exit_code == 0 and json.loads(result.stdout.strip().splitlines()[-1])["answered"]
    assert "full rebuild" in result.stderr


@pytest.mark.parametrize("damage", ["truncate dense.faiss", "delete passages.jsonl", "garbage bm25", "truncate sentences.npy"])
def test_info_checks_the_files_it_lists(built, damage):
    root, paths = built
    assert runner.invoke(app, ["info", *paths]).exit_code == 0
    folder = (root / "index" / "current").resolve()
    if damage == "truncate dense.faiss":
        data = (folder / "dense.faiss").read_bytes()
        (folder / "dense.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "delete passages.jsonl":
        (folder / "passages.jsonl").unlink()
    elif damage == "garbage bm25":
        for f in (folder / "bm25").iterdir():
            f.write_bytes(b"\x00garbage\xff" * 10)
    else:
        data = (folder / "sentences.npy").read_bytes()
        (folder / "sentences.npy").write_bytes(data[: len(data) - 4096])
    result = runner.invoke(app, ["info", *paths])
    assert result.exit_code == 2 and "up to date" not in result.output
    assert "status: damaged — " in result.output and "quoteback build --force" in result.output
    as_json = runner.invoke(app, ["info", "--json", *paths])
    data = json.loads(as_json.stdout)
    assert as_json.exit_code == 2 and data["status"] == "damaged" and "build --force" in data["error"]


def test_info_shows_the_model_readably(built):
    _, paths = built
    result = runner.invoke(app, ["info", *paths])
    assert result.exit_code == 0
    assert "model: all-MiniLM-L6-v2 (384 dimensions, onnx-int8)" in result.output and "{" not in result.output
    assert "status: up to date" in result.output


def test_ask_answers_while_another_process_builds(built):
    from quoteback.status import build_lock

    root, paths = built
    (root / "corpus" / "okapi.md").write_text("The okapi is a giraffid native to the Congo.\n")
    with build_lock(root / "index"):  # as a concurrent `quoteback build` holds it
        result = runner.invoke(app, ["ask", "What is MINUSMA?", "--json", *paths])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["answered"]
    assert "being rebuilt by another process" in result.stderr


def test_no_build_answers_from_the_index_as_it_is(built, tmp_path):
    root, paths = built
    (root / "corpus" / "okapi.md").write_text("The okapi is a giraffid native to the Congo.\n")
    result = runner.invoke(app, ["ask", "What is MINUSMA?", "--no-build", "--json", *paths])
    assert result.exit_code == 0 and json.loads(result.stdout.strip().splitlines()[-1])["answered"]
    assert "stale" in result.stderr and "okapi.md" in result.stderr
    assert json.loads(runner.invoke(app, ["info", "--json", *paths]).stdout)["stale"] is True  # nothing was built
    _one_line_error(runner.invoke(app, ["ask", "x?", "--no-build", "--corpus", str(root / "corpus"), "--index", str(tmp_path / "none")]),
                    "no index", "quoteback build")


def test_help_shows_flags_as_flags_and_whole_lines():
    info = runner.invoke(app, ["info", "--help"], terminal_width=80).output
    assert "--json" in info and "<bool>" not in info
    build = runner.invoke(app, ["build", "--help"], terminal_width=80).output
    assert "--force" in build and "<bool>" not in build
    evaluate = runner.invoke(app, ["eval", "--help"], terminal_width=80).output
    assert "…" not in evaluate and "hybrid+sentences" in evaluate and "and no-reader)" in evaluate


@pytest.mark.parametrize("command", [["build"], ["ask", "What is MINUSMA?"], ["info"]])
def test_an_unreachable_or_unnamed_milvus_is_one_line(seed_corpus, tmp_path, command):
    pytest.importorskip("pymilvus")
    paths = ["--corpus", str(seed_corpus), "--index", str(tmp_path / "index"), "--store", "milvus"]
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = runner.invoke(app, [*command, *paths, "--uri", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 2 and "error: cannot reach Milvus" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, [*command, *paths])
    assert result.exit_code == 2 and "needs --uri" in result.output


def _make_unwritable(folder) -> bool:
    """No new files in `folder`: immutable (chattr +i, which holds for root too) or, for a
    non-root user, read-only. False when neither can be arranged here."""
    import os
    import subprocess

    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        return True
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return True
    return False


def _make_writable(folder) -> None:
    import subprocess

    subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_a_stale_index_that_cannot_be_rebuilt_still_answers(built):
    """`ask` answers from the intact old index with a note; `build` is one error line, exit 2."""
    root, paths = built
    (root / "corpus" / "lighthouse.md").write_text("# Lighthouses\n\nA lighthouse keeper trims the lamp's wick nightly.\n")
    index = root / "index"
    if not _make_unwritable(index):
        pytest.skip("cannot make a folder unwritable here (no chattr, running as root)")
    try:
        asked = runner.invoke(app, ["ask", "What is the Wagner Group?", *paths])
        assert asked.exit_code == 0, asked.output
        assert "Traceback" not in asked.output and "private military company" in asked.output
        notes = [line for line in asked.output.splitlines() if line.startswith("note: ")]
        assert len(notes) == 1 and "stale" in notes[0] and "can't be rebuilt" in notes[0], asked.output
        _one_line_error(runner.invoke(app, ["build", *paths]), "cannot write to the index folder", "unchanged")
    finally:
        _make_writable(index)
    assert runner.invoke(app, ["build", *paths]).exit_code == 0  # the old index was intact, and is updated now


def test_a_piped_build_prints_progress_lines(tmp_path, seed_corpus):
    """Not on a terminal (CliRunner's streams are not), each stage shows as plain lines."""
    result = runner.invoke(app, ["build", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("reading documents: ") for line in lines), result.output
    assert any(line.startswith("embedding passages: ") and line.endswith("/" + line.split("/")[-1]) for line in lines)


def test_plain_progress_is_throttled_per_stage(capsys):
    from quoteback.cli.running import PlainProgress

    now = [0.0]
    update = PlainProgress(every_s=5.0, clock=lambda: now[0])
    for done in range(0, 101):
        now[0] = done * 0.5  # a step every half second: 50 s in all
        update("embedding passages", done, 100)
    update("writing index", 1, 1)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "embedding passages: 0/100" and lines[-2] == "embedding passages: 100/100"
    assert 10 <= len(lines) - 1 <= 12 and lines[-1] == "writing index: 1/1"


def test_a_bad_or_empty_filter_is_one_line(built):
    root, paths = built
    _one_line_error(runner.invoke(app, ["ask", "What is MINUSMA?", "--where", "colour=red", *paths]), "unknown key 'colour'")
    _one_line_error(runner.invoke(app, ["ask", "What is MINUSMA?", "--where", "doc=nothing-like-this*", *paths]),
                    "no passage matches --where doc=nothing-like-this*")


@pytest.mark.parametrize("command", [["build"], ["ask", "What is MINUSMA?"], ["info"], ["chat", "--port", "0"], ["eval"]])
@pytest.mark.parametrize("problem", ["missing folder", "a file for a folder", "bad settings file", "unreadable settings file"])
def test_every_command_answers_bad_input_with_one_line(tmp_path, command, problem):
    """The inputs every command shares, each a clear `error:` line and exit 2 from each command
    (for `eval` the folder is the evaluation set; for the others the corpus and the index)."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("A lighthouse keeper trims the wick every night.")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "bad.toml").write_text('k = "three"\n')
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00k = 3")
    folders = {"missing folder": ["--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i")],
               "a file for a folder": ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "afile")]}
    if command == ["eval"]:
        folders = {"missing folder": [str(tmp_path / "nope")], "a file for a folder": [str(tmp_path / "afile")]}
    flags = {**folders, "bad settings file": ["--config", str(tmp_path / "bad.toml")],
             "unreadable settings file": ["--config", str(tmp_path / "binary.toml")]}[problem]
    _one_line_error(runner.invoke(app, [*command, *flags]))
