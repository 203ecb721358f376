"""`quoteback feedback`: record, list, export and prune users' judgments of replies.

`add` writes exactly the record the chat's buttons write (for scripts and tests); `export` writes
the evaluation set `quoteback eval DIR` reads; `eval --feedback` (commands.py) runs it through
`run_feedback_eval` here. Every command refuses with one line when feedback is off.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

import typer

from ..settings import Settings, corpus_flags, load_settings, offline_environment
from .running import fail

app = typer.Typer(help="Users' judgments of replies: record, list, export as an evaluation set, prune.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)

CorpusOpt = typer.Option(None, "--corpus", help="Folder of documents (default ./corpus), or NAME=FOLDER (repeatable).")
IndexOpt = typer.Option(None, "--index", help="Index folder (default ./index).")
ConfigOpt = typer.Option(None, "--config", help="TOML settings file.")
DbOpt = typer.Option(None, "--feedback-db", help="The feedback database (default: feedback.sqlite in the index folder).")
CollectionOpt = typer.Option("", "--collection", help="The named collection the question was asked in (default: the single corpus).")


def feedback_settings(config: Optional[Path], corpus: Optional[list[str]], index: Optional[Path],
                      feedback_db: Optional[Path], **flags) -> Settings:
    """The settings, refusing in one line when feedback is turned off."""
    offline_environment()
    try:
        settings = load_settings(config).replace(index=index, feedback_db=feedback_db and str(feedback_db), **flags,
                                                 **corpus_flags(corpus or []))
    except (ValueError, OSError) as err:
        fail(f"bad settings: {err}")
    if not settings.feedback_enabled:
        fail("feedback is off (feedback_enabled = false in the settings); turn it on to record, list or evaluate judgments")
    return settings


def open_store(settings: Settings, create: bool = False):
    """The feedback database; without `create`, a missing one ends the command with a note
    (listing, exporting or pruning nothing creates no file)."""
    from ..feedback.store import FeedbackStore, feedback_db

    path = feedback_db(settings)
    if not create and not path.exists():
        typer.echo(f"no feedback recorded yet ({path})", err=True)
        raise typer.Exit(0)
    try:
        return FeedbackStore(path)
    except (ValueError, OSError) as err:
        fail(f"cannot open the feedback database: {err}")


@app.command()
def add(question: str = typer.Option(..., "--question", help="The question judged."),
        judgment: str = typer.Option(..., "--judgment", help="answers (the passage answers it), wrong (the passage shown "
                                     "does not), none (no document answers it)."),
        document: Optional[str] = typer.Option(None, "--document", help="The judged passage's document, as `quoteback info` names it."),
        start: Optional[int] = typer.Option(None, "--start", help="Its first character in the document's text."),
        end: Optional[int] = typer.Option(None, "--end", help="The character after its last one."),
        comment: str = typer.Option("", "--comment", help="A short note (at most 500 characters)."),
        history: list[str] = typer.Option([], "--history", help="Earlier questions of the conversation (repeatable)."),
        where: list[str] = typer.Option([], "--where", help="The --where conditions the question was asked with (repeatable)."),
        user: str = typer.Option("", "--user", help="Who judged (the chat records the login name)."),
        collection: str = CollectionOpt, corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt,
        feedback_db: Optional[Path] = DbOpt, config: Optional[Path] = ConfigOpt) -> None:
    """Record one judgment: the record the chat's buttons write."""
    settings = feedback_settings(config, corpus, index, feedback_db)
    from ..feedback.records import index_version, judgment_from, scoped
    from ..filters import Filter
    from ..index import IndexError_
    from ..index.backends import open_backend

    try:
        Filter.parse(where)
        local = scoped(settings, collection)
        loaded = open_backend(local).load()
        item = judgment_from(loaded, question, judgment, document, start, end, comment=comment, history=tuple(history),
                             where=tuple(where), collection=collection, user=user, index_version=index_version(local))
    except (IndexError_, ValueError, ConnectionError) as err:
        fail(str(err))
    row = open_store(settings, create=True).add(item)
    span = f" {item.span.document} {item.span.start}:{item.span.end}" if item.span else ""
    typer.echo(f"recorded judgment {row}: {item.judgment}{span}")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="One JSON object per judgment."),
          limit: Optional[int] = typer.Option(None, "--limit", help="Only the latest N."),
          corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, feedback_db: Optional[Path] = DbOpt,
          config: Optional[Path] = ConfigOpt) -> None:
    """The judgments recorded, oldest first."""
    from dataclasses import asdict

    if limit is not None and limit < 1:
        fail(f"--limit takes a number of judgments, 1 or more, not {limit}")
    for j in open_store(feedback_settings(config, corpus, index, feedback_db)).list(limit):
        if as_json:
            typer.echo(json.dumps(asdict(j), ensure_ascii=False))
            continue
        span = f"  [{j.span.document} {j.span.start}:{j.span.end}]" if j.span else ""
        where = f"  ({j.collection})" if j.collection else ""
        note = f"  — {' '.join(j.comment.split())}" if j.comment else ""
        typer.echo(f"{j.id:>5}  {j.time[:19]}  {j.judgment:<7}  {j.question}{where}{span}{note}")


@app.command()
def export(folder: Path = typer.Argument(..., help="Where to write the evaluation set (`quoteback eval FOLDER` reads it)."),
           collection: str = CollectionOpt, as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
           corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, feedback_db: Optional[Path] = DbOpt,
           config: Optional[Path] = ConfigOpt) -> None:
    """Write the judgments as an evaluation set, each span mapped to the current index (spans whose
    text the documents no longer hold are listed as stale, in FOLDER/stale.jsonl)."""
    settings = feedback_settings(config, corpus, index, feedback_db)
    from ..feedback.export import export_set
    from ..index import IndexError_
    from .checks import check_output_folder

    store = open_store(settings)
    try:
        check_output_folder(folder, "FOLDER")
        summary = export_set(settings, store, folder, collection)
    except (IndexError_, ValueError, ConnectionError) as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write the evaluation set to {folder} ({err.strerror or err})")
    typer.echo(json.dumps(summary.to_json(), indent=2) if as_json else f"{folder}: {summary.describe()}")


@app.command()
def prune(before: str = typer.Option(..., "--before", help="Remove the judgments written before this ISO date (e.g. 2024-05-01)."),
          corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, feedback_db: Optional[Path] = DbOpt,
          config: Optional[Path] = ConfigOpt) -> None:
    """Remove the judgments written before a date: a retention period."""
    store = open_store(feedback_settings(config, corpus, index, feedback_db))
    try:
        removed = store.prune(before)
    except ValueError as err:
        fail(str(err))
    typer.echo(f"removed {removed} judgments written before {before}; {store.count()} kept")


def run_feedback_eval(settings: Settings, evaluator, collection: str | None, progress: Callable[[str, int, int], None]):
    """`eval --feedback`: the judgments exported on the fly and evaluated, the run stored; the
    export's summary on stderr. Returns the EvalResult; what the user can fix is a ValueError
    (the caller's one error line)."""
    if not settings.feedback_enabled:
        raise ValueError("feedback is off (feedback_enabled = false in the settings); turn it on to evaluate judgments")
    from ..evaluation.feedback_set import evaluate_feedback
    from ..feedback.store import feedback_db
    from ..index import IndexError_

    try:
        done = evaluate_feedback(settings, collection=collection or "", evaluator=evaluator, progress=progress)
    except (IndexError_, ConnectionError) as err:
        raise ValueError(str(err)) from None
    typer.echo(f"feedback set: {done.export.describe()}\nrun {done.run.id} stored in {feedback_db(settings)}", err=True)
    return done.result
