"""Helpers the browser tests share (fixtures stay in test_chat.py, which the other modules import)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.conftest import SEED, chat_server


@contextmanager
def app_page(browser, url: str, width: int, height: int = 800) -> Iterator:
    """The app in a fresh page of this size, once Gradio has rendered (slow on a busy machine)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(url, wait_until="load")
        page.wait_for_selector("textarea", timeout=120_000)
        yield page
    finally:
        page.close()


def box(page, selector: str) -> dict:
    """An element's box in CSS pixels: top, bottom, height, and the window's height. Waits for it
    first: Gradio renders some components after the question box on a busy machine."""
    page.wait_for_selector(selector, state="attached", timeout=60_000)
    return page.evaluate("(s) => { const r = document.querySelector(s).getBoundingClientRect();"
                         " return {top: r.top, bottom: r.bottom, height: r.height, window: window.innerHeight} }", selector)


@contextmanager
def served(root: Path, files: dict[str, str], *args: str) -> Iterator[dict]:
    """`quoteback chat` on a corpus of the FAQ and `files` (name: text) under `root`, with these
    extra options: the body of the modules' `server` fixtures. Yields the page's URL, the corpus
    folder and `root`."""
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    for name, text in files.items():
        (corpus / name).write_text(text)
    with chat_server(root, corpus, *args) as url:
        yield {"url": url + "/", "corpus": corpus, "root": root}
