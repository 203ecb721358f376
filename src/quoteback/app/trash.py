"""Removed documents are moved, not deleted: into `.quoteback-trash/` inside the corpus folder
(hidden, so never indexed), from where the Documents tab lists them and puts one back.

Each removal is its own entry folder, named by when it happened plus a short id, holding the
file at its original path: two removals of `notes.md` never collide, and the name to restore
to is the file's own path inside the entry. A document's sidecar (`notes.md.meta.json`, its
title, date and tags) goes with it into the same entry and comes back with it."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..documents.sidecar import document_of, sidecar_path

TRASH = ".quoteback-trash"
_STAMP = "%Y%m%d-%H%M%S"


class TrashError(ValueError):
    """A restore that cannot be done as asked; the message says why in one line."""


@dataclass(frozen=True)
class Trashed:
    key: str  # the entry folder's name: what the browser sends back to restore it
    name: str  # the file's path in the corpus folder before it was removed
    removed_at: str  # local time, for people

    @property
    def label(self) -> str:
        return f"{self.name} · removed {self.removed_at}"


class Trash:
    def __init__(self, corpus: Path) -> None:
        self.corpus = Path(corpus)
        self.folder = self.corpus / TRASH

    def put(self, name: str) -> Trashed:
        """Move corpus/`name` into a new entry; the caller has checked that it is a corpus file."""
        key = f"{time.strftime(_STAMP)}-{uuid.uuid4().hex[:6]}"
        target = self.folder / key / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.corpus / name, target)  # same file system: a rename, never a half-copied file
        if (side := sidecar_path(self.corpus / name)).is_file():
            os.replace(side, sidecar_path(target))
        return self._entry(self.folder / key)  # type: ignore[return-value]

    def entries(self) -> list[Trashed]:
        """Every restorable file, the most recently removed first."""
        if not self.folder.is_dir():
            return []
        found = (self._entry(p) for p in sorted(self.folder.iterdir(), reverse=True) if p.is_dir())
        return [e for e in found if e is not None]

    def restore(self, key: str) -> Trashed:
        """Put an entry's file back under its original name; never over a file that is there now."""
        entry = next((e for e in self.entries() if e.key == key), None)
        if entry is None:
            raise TrashError("not in the trash (already restored?)")
        target, kept = self.corpus / entry.name, self.folder / key / entry.name
        moves = [(kept, target)] + [(sidecar_path(kept), sidecar_path(target))] * sidecar_path(kept).is_file()
        for _, there in moves:
            if there.exists():
                name = there.relative_to(self.corpus).as_posix()
                raise TrashError(f"refused: a file named {name} is in the corpus folder now; remove or rename it first")
        target.parent.mkdir(parents=True, exist_ok=True)
        for here, there in reversed(moves):  # the sidecar first: the document never appears without its metadata
            os.replace(here, there)
        shutil.rmtree(self.folder / key, ignore_errors=True)  # only empty folders were left in it
        return entry

    def _entry(self, folder: Path) -> Trashed | None:
        found = sorted(p for p in folder.rglob("*") if p.is_file())
        files = [p for p in found if document_of(p) not in found] or found  # the document, not its sidecar
        if not files:
            return None
        try:
            when = time.strftime("%Y-%m-%d %H:%M", time.strptime(folder.name[:15], _STAMP))
        except ValueError:  # a folder someone made by hand: still listed, by its name
            when = folder.name
        return Trashed(folder.name, files[0].relative_to(folder).as_posix(), when)
