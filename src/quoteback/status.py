"""How the index relates to the corpus, without loading any model; and the lock one build holds."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .documents import corpus_files, source_hash
from .index import IndexError_, Manifest
from .index.backends import open_backend
from .settings import Settings


@dataclass
class Status:
    exists: bool
    stale: bool
    reasons: list[str]
    manifest: Manifest | None


class BuildBusy(RuntimeError):
    """Another process holds the build lock: the live index is intact and still readable."""


class BuildError(RuntimeError):
    """A build that cannot run as asked; the message names the fix."""


def settings_fingerprint(settings: Settings) -> dict[str, Any]:
    """What must match for stored vectors to be reused (also keys the evaluation's index cache)."""
    return Manifest.fingerprint_of(settings)


def index_status(settings: Settings) -> Status:
    try:
        manifest = open_backend(settings).read_manifest()
    except IndexError_ as err:
        return Status(True, True, [str(err)], None)
    if manifest is None:
        return Status(False, True, ["no index yet"], None)
    reasons = []
    if not manifest.reusable_for(settings):
        reasons.append("settings differ from the index's (model, backend, chunking, title embedding or sentence vectors)")
    elif not manifest.same_bm25(settings):
        reasons.append("BM25 settings differ from the index's (no re-embedding needed)")
    known = manifest.known_files()
    files = {p.relative_to(settings.corpus).as_posix(): p for p in corpus_files(settings.corpus)}
    added = sorted(set(files) - set(known))
    removed = sorted(set(known) - set(files))
    changed = sorted(r for r in set(files) & set(known) if known[r] != source_hash(files[r]))
    for label, paths in (("added", added), ("removed", removed), ("changed", changed)):
        if paths:
            more = f" and {len(paths) - 5} more" if len(paths) > 6 else ""  # never "and 1 more": that name fits
            reasons.append(f"{len(paths)} {label}: {', '.join(paths if not more else paths[:5])}{more}")
    return Status(True, bool(reasons), reasons, manifest)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder (the Milvus store keeps its lock there too)."""
    try:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        handle = open(Path(index_dir) / ".lock", "w")
    except (FileExistsError, NotADirectoryError):
        raise BuildError(f"the index path {index_dir} is a file, not a folder; choose a folder with --index") from None
    except OSError as err:
        raise BuildError(f"cannot write to the index folder {index_dir} ({err.strerror or err}); "
                         "choose a writable folder with --index") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy(f"another build of {index_dir} is running; wait for it to finish") from None
        yield
