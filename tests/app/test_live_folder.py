"""The live folder: `quoteback chat` re-indexes its corpus folder on real file events, with the real
model and index; `--no-watch` turns it off. Waits are bounded polls, never timing assertions."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import pytest

from quoteback.app.view_links import view_url
from quoteback.app.watch import LiveFolder
from quoteback.settings import Settings
from tests.app.helpers import app_page, served
from tests.app.test_chat import browser  # noqa: F401  (fixture)

KESTREL = "# Kestrel notes\n\nThe kestrel hovers above the motorway verge while it hunts for voles.\n"
KESTREL_Q = "What does the kestrel hover above?"


def _until(check: Callable[[], object], seconds: float, what: str) -> object:
    """Poll `check` until it returns something true, for at most `seconds`."""
    deadline = time.time() + seconds
    while True:
        if result := check():
            return result
        if time.time() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.25)


def _cited(client, question: str) -> set[str]:
    """The documents the answer to `question` quotes."""
    return {q["document"] for q in client.predict(question, api_name="/ask")["quotes"]}


def _builds(server: dict) -> int:
    return (server["root"] / "server.log").read_text().count("live folder:")


def _settled(live: dict) -> None:
    """Wait (bounded) until no build has been logged for longer than the quiet period."""
    log = live["root"] / "server.log"

    def quiet() -> bool:
        text = log.read_text()
        time.sleep(2.5)
        return text == log.read_text()

    _until(quiet, 60, "the earlier builds finished")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with served(tmp_path_factory.mktemp("live"), {}) as running:
        yield running


@pytest.fixture(scope="module")
def client(live):
    from gradio_client import Client

    return Client(live["url"], verbose=False)


def test_a_dropped_file_becomes_answerable(live, client):
    (live["corpus"] / "kestrel.md").write_text(KESTREL)
    _until(lambda: "kestrel.md" in _cited(client, KESTREL_Q), 10, "kestrel.md quoted")


def test_a_changed_file_is_quoted_in_its_new_words(live, client):
    note = live["corpus"] / "ferry.md"
    note.write_text("# Ferry\n\nThe ferry to the island leaves at seven in the morning.\n")
    question = "When does the ferry to the island leave?"
    _until(lambda: "ferry.md" in _cited(client, question), 10, "ferry.md quoted")
    note.write_text("# Ferry\n\nThe ferry to the island leaves at half past nine in the evening.\n")

    def new_words() -> bool:
        quotes = client.predict(question, api_name="/ask")["quotes"]
        return any(q["document"] == "ferry.md" and "half past nine" in q["text"] for q in quotes)

    _until(new_words, 10, "the new text quoted")


def test_a_deleted_file_is_not_quoted_after_its_rebuild(live, client):
    note = live["corpus"] / "otter.md"
    note.write_text("# Otters\n\nThe otter holt lies under the roots of the old alder by the mill race.\n")
    question = "Where does the otter holt lie?"
    _until(lambda: "otter.md" in _cited(client, question), 10, "otter.md quoted")
    quote = next(q for q in client.predict(question, api_name="/ask")["quotes"] if q["document"] == "otter.md")
    link = live["url"].rstrip("/") + view_url("otter.md", quote["start"], quote["end"])
    assert _status(link)[0] == 200  # the quote's "open at the quote" link, while the file is there
    before = _builds(live)
    note.unlink()
    _until(lambda: _builds(live) > before, 10, "a rebuild after the removal")
    for _ in range(3):
        assert "otter.md" not in _cited(client, question)
    status, page = _status(link)  # the same link, from a reply shown before the removal
    assert status == 404 and "removed from the collection" in page


def _status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


BIRDS = ["wren", "robin", "finch", "thrush", "linnet", "siskin", "bunting", "warbler", "swift", "martin",
         "plover", "curlew", "dunlin", "avocet", "bittern", "egret", "shrike", "nuthatch", "treecreeper", "dipper",
         "goldcrest", "chiffchaff", "blackcap", "whitethroat", "redstart", "wheatear", "stonechat", "whinchat",
         "pipit", "wagtail", "skylark", "woodlark", "yellowhammer", "chaffinch", "brambling", "greenfinch",
         "goldfinch", "redpoll", "crossbill", "bullfinch", "hawfinch", "starling", "jackdaw", "rook", "raven",
         "magpie", "jay", "kingfisher", "woodpecker", "cuckoo"]


def test_a_burst_of_files_makes_few_builds(live, client):
    """The issue's burst: 50 files written at once are all indexed, in far fewer than 50 builds."""
    _settled(live)
    before = _builds(live)
    for i, bird in enumerate(BIRDS):
        (live["corpus"] / f"bird-{bird}.md").write_text(f"# The {bird}\n\nThe {bird} was counted {i + 3} times at Marsh Lane.\n")
    for bird in BIRDS[::7] + BIRDS[-1:]:  # a sample, the last written included
        _until(lambda: f"bird-{bird}.md" in _cited(client, f"How many times was the {bird} counted?"), 60, bird)
    _settled(live)
    assert _builds(live) - before < len(BIRDS) // 5


def test_a_renamed_file_is_quoted_under_its_new_name(live, client):
    question = "Which lighthouse keeper logged the fog horn repairs?"
    (live["corpus"] / "keeper.md").write_text("# Keeper's log\n\nMargit Olsen, the lighthouse keeper, logged the fog horn repairs.\n")
    _until(lambda: "keeper.md" in _cited(client, question), 10, "keeper.md quoted")
    (live["corpus"] / "keeper.md").rename(live["corpus"] / "keeper-1998.md")
    _until(lambda: _cited(client, question) >= {"keeper-1998.md"} and "keeper.md" not in _cited(client, question), 10,
           "quoted under the new name only")


def test_answers_keep_coming_during_a_rebuild(live, client):
    """20 asks spread over a re-index are all answered (the old index serves until the swap)."""
    before = _builds(live)
    (live["corpus"] / "heathland.md").write_text("# Heathland\n\n" + "".join(
        f"Plot {i} of the heath was burned in rotation to keep the heather young and the gorse in check.\n\n" for i in range(60)))

    def ask(delay: float) -> dict:
        time.sleep(delay)
        return client.predict("What is MINUSMA?", api_name="/ask")

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(ask, [0.9 + 0.2 * i for i in range(20)]))
    assert len(answers) == 20 and all(a["answered"] and a["quotes"] for a in answers), answers
    _until(lambda: _builds(live) > before, 30, "the rebuild finished")


def test_no_watch_leaves_a_dropped_file_out(tmp_path):
    from gradio_client import Client

    with served(tmp_path, {}, "--no-watch") as running:
        (running["corpus"] / "kestrel.md").write_text(KESTREL)
        time.sleep(4)  # four times the quiet period a watching server waits before building
        assert "kestrel.md" not in _cited(Client(running["url"], verbose=False), KESTREL_Q)
        assert "live folder:" not in (tmp_path / "server.log").read_text()


class FakeService:
    """Counts rebuilds: the watcher's own filtering and stopping, without a model."""

    def __init__(self, corpus: Path, index: Path, **collections: Path) -> None:
        self.settings = Settings(corpus=corpus, index=index).replace(collections=collections or None)
        self.builds = 0
        self.built: list[str | None] = []

    def rebuild(self, wait: bool = False, collection: str | None = None) -> SimpleNamespace:
        self.builds += 1
        self.built.append(collection)
        return SimpleNamespace(summary=lambda: "done")


def test_hidden_files_backups_and_the_index_folder_trigger_no_build(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "corpus" / "index"
    (corpus / ".quoteback-trash" / "k1").mkdir(parents=True)
    index.mkdir()
    service = FakeService(corpus, index)
    live = LiveFolder(service, quiet_ms=200, log=lambda line: None).start()
    try:
        time.sleep(0.5)  # the watch is in place
        (corpus / ".quoteback-trash" / "k1" / "old.md").write_text("gone")
        (corpus / ".#notes.md").write_text("lock")
        (corpus / "notes.md~").write_text("backup")
        (index / "v-1.tmp").write_text("vectors")
        time.sleep(1.5)
        assert service.builds == 0 and "up to date" in live.status()
        (corpus / "notes.md").write_text("# Notes\n\nA real document.\n")
        _until(lambda: service.builds == 1, 10, "one build for a visible file")
    finally:
        started = time.time()
        live.stop()
    assert time.time() - started < 5 and not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("quoteback-"))


@pytest.mark.browser
def test_the_chat_shows_the_live_line(browser, live):
    with app_page(browser, live["url"], 1280) as page:
        line = page.locator("#live-status")
        line.wait_for(state="visible", timeout=10_000)
        page.wait_for_function("() => document.querySelector('#live-status').innerText.includes('Index up to date')",
                               timeout=60_000)


def test_a_change_re_indexes_only_the_collection_whose_folder_holds_it(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "sub").mkdir(parents=True)
    service = FakeService(tmp_path / "unused", tmp_path / "index", a=tmp_path / "a", b=tmp_path / "b")
    live = LiveFolder(service, quiet_ms=200, log=lambda line: None).start()
    try:
        time.sleep(0.5)
        assert service.watched and live.owners(str(tmp_path / "b" / "sub" / "x.md")) == ["b"]
        assert live.owners(str(tmp_path / "index" / "b" / "v.tmp")) == [] and live.owners(str(tmp_path / "c.md")) == []
        (tmp_path / "b" / "sub" / "notes.md").write_text("# Notes\n\nIn b.\n")
        _until(lambda: service.built == ["b"], 10, "one build of b")
        (tmp_path / "a" / "notes.md").write_text("# Notes\n\nIn a.\n")
        _until(lambda: service.built == ["b", "a"], 10, "then one build of a")
    finally:
        live.stop()
