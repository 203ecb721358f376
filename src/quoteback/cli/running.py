"""What the commands run before they answer: a build with its progress, and the answerer opened
from the index (building first when allowed). Every failure a user can cause or fix ends in one
`error:` line and exit status 2, never a traceback."""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from typing import Any, Callable

import typer

from ..settings import Settings

PLAIN_EVERY_S = 5.0  # without a terminal (piped, logged): one progress line per stage this often


def fail(message: str, code: int = 2):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def progress(terminal: bool | None = None) -> tuple[Any, Callable[[str, int, int], None]]:
    """A context and an update(stage, done, total) callback: a rich bar on a terminal; otherwise
    plain lines on stderr ("embedding: 120/4000"), the first and last of each stage and one every
    PLAIN_EVERY_S in between, so a piped 30 MB build shows it is alive."""
    if terminal is None:
        terminal = sys.stderr.isatty()
    if not terminal:
        return nullcontext(), PlainProgress()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   transient=True, console=Console(stderr=True))
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update


class PlainProgress:
    """Progress as lines of text, throttled per stage."""

    def __init__(self, every_s: float = PLAIN_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self._last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        first = stage not in self._last
        if first or done >= total or now - self._last[stage] >= self.every_s:
            self._last[stage] = now
            typer.echo(f"{stage}: {done}/{total}", err=True)


def print_report(built, label: str = "") -> None:
    """The build's summary line (after `label: `, a collection's name), its skipped files and warnings."""
    typer.echo(f"{label}: {built.summary()}" if label else built.summary(), err=True)
    for skipped in built.skipped:
        typer.secho(f"skipped {skipped.path}: {skipped.reason}", fg=typer.colors.YELLOW, err=True)
    for notice in built.notices:
        typer.secho(f"warning {notice.path}: {notice.message}", fg=typer.colors.YELLOW, err=True)


def unwritable(settings: Settings, err: OSError) -> str:
    return (f"cannot write to the index folder {settings.index} ({err.strerror or err}); the index there is unchanged; "
            "choose a writable folder with --index")


def run_build(settings: Settings, force: bool = False, ray: str | None = None, actors: int = 2, label: str = ""):
    """Build or update the index; one `error:` line for what the user can fix (naming the
    collection `label` when there is one)."""
    from ..build import IndexBuilder

    bar, update = progress()
    fail = _failing(label)
    try:
        if ray is None:
            with bar:
                return IndexBuilder(settings).build(force=force, progress=update)
        from ..ray_build import RayEncoder, connect, read_corpus

        with connect(ray), RayEncoder(settings, actors) as encoder, bar:
            return IndexBuilder(settings, encoder, reader=read_corpus).build(force=force, progress=update)
    except (FileNotFoundError, RuntimeError, ValueError, ConnectionError) as err:
        fail(str(err))
    except OSError as err:  # a folder that can't be written (permissions, read-only, full disk)
        fail(unwritable(settings, err))


def _failing(label: str) -> Callable[[str], Any]:
    """`fail`, its line naming the collection `label` when there is one."""
    return (lambda message: fail(f"collection {label}: {message}")) if label else fail


def open_ready(settings: Settings, build: bool, embedder: Any = None, label: str = ""):
    """The answerer, building first when allowed. While another process builds, or when the stale
    index can't be rebuilt where it is, the existing index answers, with a note on stderr.
    `label`: the collection's name, in its notes, errors and build summary."""
    from ..embeddings import Embedder
    from ..index import IndexError_
    from ..pipeline import open_answerer
    from ..status import BuildBusy, index_status

    fail = _failing(label)

    def note(text: str) -> None:
        typer.secho(f"note: {f'collection {label}: ' if label else ''}{text}", fg=typer.colors.YELLOW, err=True)

    try:
        embedder = embedder or Embedder.from_settings(settings)
        status = index_status(settings)
        if not build and status.exists and status.stale:
            note("answering from the index as it is (--no-build); it is stale: " + "; ".join(status.reasons))
        try:
            bar, update = progress()
            with bar:
                ready = open_answerer(settings, build=build, embedder=embedder, progress=update)
        except BuildBusy:
            note(f"the index in {settings.index} is being rebuilt by another process; answering from the current one")
            ready = open_answerer(settings, build=False, embedder=embedder)
        except OSError as err:
            if isinstance(err, FileNotFoundError) or not status.exists:
                raise
            note(f"the index is stale and can't be rebuilt where it is ({err.strerror or err} in {settings.index}); "
                 "answering from it as it is")
            ready = open_answerer(settings, build=False, embedder=embedder)
    except (IndexError_, FileNotFoundError, RuntimeError, ValueError) as err:
        fail(str(err))
    except OSError as err:
        fail(unwritable(settings, err))
    if ready.report and ready.report.wrote:
        print_report(ready.report, label)
    return ready


def chosen_collections(settings: Settings, name: str | None):
    """The collections `--collection NAME` chooses (all without it); an unknown name is one error line."""
    from ..collections import chosen

    try:
        return chosen(settings, name)
    except ValueError as err:
        fail(str(err))


def open_collections(settings: Settings, name: str | None, build: bool):
    """What `ask` and `chat` answer from: the unnamed corpus's answerer as before, or one over the
    chosen collections (all without `name`), each built first when allowed, one model shared."""
    from ..collections import CollectionsAnswerer
    from ..pipeline import Ready

    targets = chosen_collections(settings, name)
    if not targets[0].name:
        return open_ready(settings, build)
    answerers, embedder = {}, None
    for target in targets:
        answerers[target.name] = open_ready(target.settings, build, embedder, label=target.name).answerer
        embedder = answerers[target.name].embedder
    return Ready(CollectionsAnswerer(answerers), None)
