"""Who may call what (issue 12, item 13): with a login, the UI's hidden queue actions (upload,
remove, rebuild, evaluate) refuse anonymous HTTP calls; evaluation reads only offered sets."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from quoteback.app.chat import build_app
from quoteback.evaluation.evaluate import REPO_SET
from quoteback.app.service import ChatService


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo(seed_ready, embedder):
    service = ChatService(seed_ready.answerer.settings, embedder)
    return build_app(service, [str(REPO_SET)])


def _fn(demo, name: str):
    return next(f for f in demo.fns.values() if f.name == name)


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_queue_actions_need_the_login(demo):
    port = _free_port()
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=port, auth=("alice", "s3cret"), prevent_thread_lock=True,
                quiet=True, ssr_mode=False)
    try:
        base = f"http://127.0.0.1:{port}/gradio_api"
        for name in ("rebuild", "upload", "remove", "restore", "run"):
            index = next(i for i, f in demo.fns.items() if f.name == name)
            status = _post(f"{base}/queue/join", {"data": [None, None], "fn_index": index, "session_hash": "anon",
                                                  "event_data": None, "trigger_id": None})
            assert status in (401, 403), (name, status)
        assert _post(f"{base}/call/ask", {"data": ["What is MINUSMA?"]}) in (401, 403)
    finally:
        demo.close()


def test_evaluation_reads_only_offered_sets(demo, tmp_path):
    run = _fn(demo, "run").fn
    for folder in ("/etc", str(tmp_path), str(REPO_SET) + "/../shipped-questions", "@feedback"):  # feedback off here
        summary, rows, plot, trade_off, *_ = run(folder, "test")
        assert "offered evaluation sets" in summary and rows == "" and plot is None and trade_off is None
    summary, *_ = run(str(REPO_SET), "../../etc/passwd")
    assert "a name such as test" in summary
