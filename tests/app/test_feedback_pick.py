"""Who may record feedback, and the document view in pick mode: with a login set, the pick route,
pick mode and the chat's feedback events refuse anyone not logged in; a logged-in user's clicks and
picks carry the login name; a post from another site, a non-JSON body, a forgotten reply and a
server with feedback off are refused in one line. Chromium on a real index of the shipped corpus."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest

from quoteback.app.feedback_pick import PICK_ROUTE
from quoteback.app.view_links import view_url
from quoteback.feedback.store import FeedbackStore, feedback_db
from quoteback.settings import Settings
from tests.app.test_chat import ARTIFACTS, _ask, browser  # noqa: F401  (the Chromium fixture)
from tests.app.test_feedback_ui import _select, last_id, new_rows, status_says
from tests.conftest import REPO, SEED, chat_server

TEXT = SEED.read_text(encoding="utf-8")
USER, PASSWORD = "alice", "s3cret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback-login")
    shutil.copytree(REPO / "corpus", root / "corpus")
    (root / "login").write_text(f"{USER}:{PASSWORD}\n")
    with chat_server(root, root / "corpus", "--no-watch", "--auth-file", str(root / "login")) as url:
        yield {"url": url + "/", "store": FeedbackStore(feedback_db(Settings(index=root / "index")))}


def _post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_without_the_login_the_route_and_pick_mode_refuse(server):
    body = json.dumps({"reply": "0123456789abcdef", "doc": SEED.name, "start": 0, "end": 3, "text": TEXT[:3]}).encode()
    status, answer = _post(server["url"] + PICK_ROUTE.lstrip("/"), body, {"Content-Type": "application/json"})
    assert status == 401 and answer == {"ok": False, "message": "log in to the chat first, then pick the passage again"}
    try:
        urllib.request.urlopen(server["url"] + view_url(SEED.name, 0, 0, "0123456789abcdef").lstrip("/"), timeout=30)
        raise AssertionError("pick mode opened without the login")
    except urllib.error.HTTPError as err:
        assert err.code == 401
    assert server["store"].count() == 0


@pytest.fixture
def logged_in(browser, server):
    """A page of the chat after Gradio's own login (its session cookie in the browser context)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    assert page.request.post(server["url"] + "login", form={"username": USER, "password": PASSWORD}).ok
    page.goto(server["url"], wait_until="load")
    page.wait_for_selector("#question textarea", timeout=120_000)
    yield page
    context.close()


def test_a_logged_in_users_clicks_and_picks_carry_the_login(logged_in, server):
    page, store = logged_in, server["store"]
    before = last_id(store)
    _ask(page, "What is MINUSMA?", 1)
    page.get_by_role("button", name="Like", exact=True).first.click()
    status_says(page, "the first quote answers it")
    page.get_by_role("button", name="Dislike", exact=True).first.click()
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Where is the answer? Pick it in a document").click()
    view = popup.value
    view.wait_for_load_state("load")
    phrase = "Russian private military company"
    _select(view, phrase)
    view.get_by_role("button", name="Use the selected text as the answer").click()
    view.wait_for_selector("#pick-status.ok", timeout=30_000)
    # the same login, posted from another site's page: refused (the browser names that origin)
    reply = view.locator("#pick").get_attribute("data-reply")
    headers = {"Content-Type": "application/json", "Origin": "http://elsewhere.example"}
    pick = {"reply": reply, "doc": SEED.name, "start": 0, "end": 3, "text": TEXT[:3]}
    crossed = view.request.post(server["url"] + PICK_ROUTE.lstrip("/"), data=json.dumps(pick), headers=headers)
    assert crossed.status == 403
    form = view.request.post(server["url"] + PICK_ROUTE.lstrip("/"), form=pick)
    assert form.status == 415
    forgotten = view.request.post(server["url"] + PICK_ROUTE.lstrip("/"), data=json.dumps({**pick, "reply": "0123456789abcdef"}),
                                  headers={"Content-Type": "application/json"})
    assert forgotten.status == 404 and "no longer known" in forgotten.json()["message"]
    gone = view.request.get(server["url"] + view_url(SEED.name, 0, 0, "0123456789abcdef").lstrip("/"))
    assert gone.status == 404 and "no longer known" in gone.text()
    for width in (1280, 390):  # the pick bar at both widths: nothing wider than the window, the button whole
        view.set_viewport_size({"width": width, "height": 800})
        view.evaluate("() => window.scrollTo(0, 0)")
        ARTIFACTS.mkdir(exist_ok=True)
        view.screenshot(path=str(ARTIFACTS / f"feedback-pick-{width}.png"))
        assert view.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert view.evaluate("() => { const b = document.getElementById('pick-use'); return b.scrollWidth <= b.clientWidth + 1 }")
    view.close()
    up, wrong, picked = new_rows(store, before, 3)
    assert [up.judgment, wrong.judgment, picked.judgment] == ["answers", "wrong", "answers"]
    assert {up.user, wrong.user, picked.user} == {USER}
    assert TEXT[picked.span.start : picked.span.end] == phrase


def test_the_feedback_events_need_the_login(seed_ready, embedder, tmp_path):
    """The chat's feedback events, called over HTTP without the login: refused like every queue action."""
    from tests.app.test_security import _post as post_json
    from tests.conftest import free_port

    from quoteback.app.chat import build_app
    from quoteback.app.feedback_ui import recorder_for
    from quoteback.app.service import ChatService

    settings = seed_ready.answerer.settings.replace(feedback_db=str(tmp_path / "feedback.sqlite"))
    service = ChatService(settings, embedder)
    demo = build_app(service, feedback=recorder_for(settings, service))
    names = {"on_like", "on_answers", "on_none", "on_send"}
    indexes = [i for i, f in demo.fns.items() if f.name in names]
    assert len(indexes) == len(names)
    port = free_port()
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=port, auth=(USER, PASSWORD), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        for index in indexes:
            status = post_json(f"http://127.0.0.1:{port}/gradio_api/queue/join",
                               {"data": ["", ""], "fn_index": index, "session_hash": "anon", "event_data": None, "trigger_id": None})
            assert status in (401, 403), (demo.fns[index].name, status)
    finally:
        demo.close()
    assert FeedbackStore(tmp_path / "feedback.sqlite").count() == 0


def test_feedback_off_means_no_buttons_and_no_pick_mode(seed_ready, embedder, browser):
    """`feedback_enabled = false`: no recorder, no 👍 / 👎, no "This answers it", no panel, no pick mode."""
    from fastapi.testclient import TestClient

    from quoteback.app.chat import build_app
    from quoteback.app.feedback_ui import recorder_for
    from quoteback.app.service import ChatService
    from quoteback.app.viewer import create_app
    from tests.conftest import free_port

    settings = seed_ready.answerer.settings.replace(feedback_enabled=False)
    service = ChatService(settings, embedder)
    assert recorder_for(settings, service) is None
    demo = build_app(service, feedback=None)
    assert not {f.name for f in demo.fns.values()} & {"on_like", "on_answers", "on_none", "on_send"}
    app = create_app(demo, service, ssr_mode=False)
    refused = TestClient(app).get(view_url(SEED.name, 0, 0, "0123456789abcdef"))
    assert refused.status_code == 404 and "feedback is turned off" in refused.text
    assert TestClient(app).post(PICK_ROUTE, json={}).status_code in (404, 405)  # no such route
    port = free_port()
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        page.wait_for_selector("#question textarea", timeout=120_000)
        _ask(page, "What is MINUSMA?", 1)
        assert page.get_by_role("button", name="Like", exact=True).count() == 0
        assert page.get_by_role("button", name="Dislike", exact=True).count() == 0
        assert page.locator("button.qb-answers").count() == 0 and page.locator("#feedback-panel").count() == 0
    finally:
        page.close()
        demo.close()
