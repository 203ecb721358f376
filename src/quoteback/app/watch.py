"""The live folder: `quoteback chat` re-indexes its corpus folder (each collection's folder) in the
background when files are added, changed or removed, so a document dropped in the folder is
answerable without a button. A change re-indexes only the collection whose folder holds it.

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

from ..collections import collections_of
from .service import ChatService

QUIET_MS = 1000  # a burst (a folder copied in, an editor's save) becomes one build after this much quiet
STOP_WAIT_S = 5.0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class LiveFolder:
    """Watches the corpus folders and keeps the service's indexes current; `status()` says how it stands."""

    def __init__(self, service: ChatService, quiet_ms: int = QUIET_MS, log: Callable[[str], None] = _stderr) -> None:
        self.service = service
        collections = collections_of(service.settings)
        self.folders = {c.name: Path(c.settings.corpus).resolve() for c in collections}  # "" the unnamed corpus
        self.indexes = [Path(c.settings.index).resolve() for c in collections]
        self.quiet_ms = quiet_ms
        self.log = log
        self.builds = 0
        self.error: str | None = None
        self._pending: dict[str, set[str]] = {}  # collection -> changed paths
        self._indexing = 0  # files behind the build now running
        self._name = ""  # ... and its collection
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def relevant(self, change: Any, path: str) -> bool:
        """Whether an event can change an index: a visible path of a corpus folder, outside the index folders."""
        return bool(self.owners(path))

    def owners(self, path: str) -> list[str]:
        """The collections whose index a change at `path` concerns (a folder inside another's: both)."""
        where = Path(path)
        if any(where == index or index in where.parents for index in self.indexes):
            return []
        found = []
        for name, folder in self.folders.items():
            try:
                parts = where.relative_to(folder).parts
            except ValueError:
                continue
            if not any(part.startswith(".") or part.endswith("~") for part in parts):
                found.append(name)
        return found

    def start(self) -> "LiveFolder":
        self.service.watched = True  # uploads and removals say the folder is indexed without a button
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
            count = self._indexing or sum(len(paths) for paths in self._pending.values())
            where = f" in {self._name}" if self._indexing and self._name else ""
        if count:
            return f"⟳ Indexing {count} changed file{'s' if count != 1 else ''}{where}…"
        if self.error:
            return f"Index update failed: {self.error} (answers come from the previous index)"
        if len(self.folders) > 1 or "" not in self.folders:
            return "✓ Indexes up to date with the collections' folders"
        return "✓ Index up to date with the corpus folder"

    def _watch(self) -> None:
        from watchfiles import watch

        try:
            for changes in watch(*self.folders.values(), watch_filter=self.relevant, step=self.quiet_ms, debounce=10 * self.quiet_ms,
                                 rust_timeout=self.quiet_ms, stop_event=self._stop, raise_interrupt=False):
                with self._wake:
                    for _, path in changes:
                        for name in self.owners(path):
                            self._pending.setdefault(name, set()).add(path)
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
                name = next(iter(self._pending))  # one collection a build; the others wait their turn
                batch = self._pending.pop(name)
                self._indexing, self._name = len(batch), name
            where = f" in {name}" if name else ""
            try:
                report = self.service.rebuild(wait=True, collection=name or None)
                self.error = None
                self.log(f"live folder: {len(batch)} changed path(s){where} re-indexed: {report.summary()}")
            except Exception as err:  # a bad file or a full disk: said in the chat, the old index keeps answering
                self.error = (f"collection {name}: " if name else "") + (str(err) or type(err).__name__)
                self.log(f"live folder: re-index failed: {self.error}")
            finally:
                with self._wake:
                    self._indexing = 0
                    self.builds += 1
