"""The live folder: `quoteback chat` re-indexes its corpus folder in the background when files are
added, changed or removed, so a document dropped in the folder is answerable without a button.

Two threads: one waits on file events (`watchfiles`, native notifications) and hands each burst,
once the folder has been quiet for a moment, to the other, which runs the Documents tab's own
incremental rebuild (`ChatService.rebuild`): one build at a time; changes seen during a build
make exactly one more build after it. Answers keep coming from the current index until the new
one is swapped in. Hidden files and folders (the trash, editors' `.#x` locks), `~` backups and an
index folder inside the corpus are never events: the index writing itself must not loop."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Callable

from .service import ChatService

QUIET_MS = 1000  # a burst (a folder copied in, an editor's save) becomes one build after this much quiet
STOP_WAIT_S = 5.0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class LiveFolder:
    """Watches the corpus folder and keeps the service's index current; `status()` says how it stands."""

    def __init__(self, service: ChatService, quiet_ms: int = QUIET_MS, log: Callable[[str], None] = _stderr) -> None:
        self.service = service
        self.corpus = Path(service.settings.corpus).resolve()
        self.index = Path(service.settings.index).resolve()
        self.quiet_ms = quiet_ms
        self.log = log
        self.builds = 0
        self.error: str | None = None
        self._pending: set[str] = set()
        self._indexing = 0  # files behind the build now running
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def relevant(self, change: Any, path: str) -> bool:
        """Whether an event can change the index: a visible path of the corpus, outside the index folder."""
        where = Path(path)
        if where == self.index or self.index in where.parents:
            return False
        try:
            parts = where.relative_to(self.corpus).parts
        except ValueError:
            return False
        return not any(part.startswith(".") or part.endswith("~") for part in parts)

    def start(self) -> "LiveFolder":
        for target, name in ((self._watch, "quoteback-watch"), (self._build_loop, "quoteback-live-build")):
            thread = threading.Thread(target=target, name=name, daemon=True)  # never keeps the process alive
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop watching; a build under way gets a few seconds to finish (its swap is atomic either way)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(STOP_WAIT_S)

    def status(self) -> str:
        """One line for the chat: what is being indexed, or that the index matches the folder."""
        with self._wake:
            count = self._indexing or len(self._pending)
        if count:
            return f"⟳ Indexing {count} changed file{'s' if count != 1 else ''}…"
        if self.error:
            return f"Index update failed: {self.error} (answers come from the previous index)"
        return "✓ Index up to date with the corpus folder"

    def _watch(self) -> None:
        from watchfiles import watch

        try:
            for changes in watch(self.corpus, watch_filter=self.relevant, step=self.quiet_ms, debounce=10 * self.quiet_ms,
                                 rust_timeout=self.quiet_ms, stop_event=self._stop, raise_interrupt=False):
                with self._wake:
                    self._pending |= {path for _, path in changes}
                    self._wake.notify_all()
        except Exception as err:  # e.g. the folder removed or too many watches: the chat keeps serving
            self.error = f"the corpus folder is no longer watched ({type(err).__name__}: {err})"
            self.log(f"live folder: {self.error}")

    def _build_loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: bool(self._pending) or self._stop.is_set())
                if self._stop.is_set():
                    return
                batch, self._pending = self._pending, set()
                self._indexing = len(batch)
            try:
                report = self.service.rebuild(wait=True)
                self.error = None
                self.log(f"live folder: {len(batch)} changed path(s) re-indexed: {report.summary()}")
            except Exception as err:  # a bad file or a full disk: said in the chat, the old index keeps answering
                self.error = str(err) or type(err).__name__
                self.log(f"live folder: re-index failed: {self.error}")
            finally:
                with self._wake:
                    self._indexing = 0
                    self.builds += 1
