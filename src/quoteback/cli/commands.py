"""The `quoteback` command. Heavy libraries are imported inside commands so `--help` is instant."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from ..settings import Settings, corpus_flags, load_settings, offline_environment
from .running import chosen_collections, fail, open_collections, print_report, progress, run_build

# Plain click help: rich help labels flags `<bool>` as if they took a value and cuts long help lines.
app = typer.Typer(help="Answer questions about your documents, only in their own words.", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None)

CorpusOpt = typer.Option(None, "--corpus", help="Folder of documents (default ./corpus); or NAME=FOLDER, repeatable: "
                         "named collections, each indexed in INDEX/NAME.")
IndexOpt = typer.Option(None, "--index", help="Index folder (default ./index; with collections, one subfolder each).")
ConfigOpt = typer.Option(None, "--config", help="TOML settings file.")
ModelOpt = typer.Option(None, "--model", help="Embedding model: packaged name, local folder or hub name.")
BackendOpt = typer.Option(None, "--backend", help="Embedding runtime: onnx-int8 (default, faster on CPU), torch, or openvino-int8 (fastest on CPU; the [openvino] extra).")
StoreOpt = typer.Option(None, "--store", help="Where the index lives: files (the index folder, default) or milvus.")
UriOpt = typer.Option(None, "--uri", help="The Milvus server, e.g. http://127.0.0.1:19530 (token: QUOTEBACK_TOKEN).")
CollectionOpt = typer.Option(None, "--collection", help="Only this named collection (default: all of them).")
MilvusCollectionOpt = typer.Option(None, "--milvus-collection", help="The Milvus collection (default: one per corpus folder; "
                                   "with named collections, NAME_<collection> each).")
ReaderOpt = typer.Option(None, "--reader/--no-reader", help="Re-score the best passages with the reader (default: the settings).")


def _settings(config: Optional[Path], corpus: Optional[list[str]] = None, **flags) -> Settings:
    """The settings file, QUOTEBACK_* variables, then the flags; `corpus`: the --corpus values."""
    offline_environment()
    try:
        folders = corpus_flags(corpus or [])
    except ValueError as err:
        fail(str(err))
    try:
        return load_settings(config).replace(**flags, **folders)
    except (ValueError, OSError) as err:
        fail(f"bad settings: {err}")


@app.command()
def build(corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, model: Optional[str] = ModelOpt,
          backend: Optional[str] = BackendOpt, store: Optional[str] = StoreOpt, uri: Optional[str] = UriOpt,
          collection: Optional[str] = CollectionOpt, milvus_collection: Optional[str] = MilvusCollectionOpt,
          ray: Optional[str] = typer.Option(None, "--ray", help="Read and embed on Ray: auto (a local cluster) or a cluster ADDRESS."),
          actors: int = typer.Option(2, "--actors", help="With --ray: embedding actors, each holding the model once."),
          force: bool = typer.Option(False, "--force", help="Re-embed everything."), config: Optional[Path] = ConfigOpt) -> None:
    """Build or update the index of the corpus, or of each collection (only changed documents are re-embedded)."""
    settings = _settings(config, corpus=corpus, index=index, model=model, backend=backend, store=store, uri=uri,
                         milvus_collection=milvus_collection)
    for target in chosen_collections(settings, collection):
        print_report(run_build(target.settings, force, ray, actors, label=target.name), target.name)


@app.command()
def ask(question: Optional[str] = typer.Argument(None, help="The question."),
        file: Optional[str] = typer.Option(None, "--file", "-f", help="One question per line; '-' reads stdin."),
        k: Optional[int] = typer.Option(None, "-k", help="Number of quotes."),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per question."),
        follow_up: bool = typer.Option(False, "--conversation", help="With --file: treat lines as one conversation."),
        history: list[str] = typer.Option([], "--history", help="Earlier questions of the conversation (repeatable)."),
        no_build: bool = typer.Option(False, "--no-build", help="Answer from the index as it is, even if stale; never build."),
        where: list[str] = typer.Option([], "--where", help="Only passages where KEY=VALUE, KEY>=VALUE or KEY<=VALUE holds "
                                        "(keys doc, type, date, tag, section, page; repeatable), e.g. --where 'doc=3M_2018*' "
                                        "--where tag=finance (tags come from a sidecar NAME.meta.json)."),
        corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, model: Optional[str] = ModelOpt,
        backend: Optional[str] = BackendOpt, store: Optional[str] = StoreOpt, uri: Optional[str] = UriOpt,
        collection: Optional[str] = CollectionOpt, milvus_collection: Optional[str] = MilvusCollectionOpt,
        reader: Optional[bool] = ReaderOpt, config: Optional[Path] = ConfigOpt) -> None:
    """Answer a question with quotes from the documents (builds the index first if needed); with
    named collections, from all of them ranked together, or from the one --collection names."""
    if (question is None) == (file is None):
        fail("give either a QUESTION or --file FILE")
    settings = _settings(config, corpus=corpus, index=index, model=model, backend=backend, k=k, store=store, uri=uri,
                         milvus_collection=milvus_collection, reader=reader)
    from ..answer import validate_question
    from ..app.render import to_terminal
    from ..collections import allows
    from ..filters import Filter

    if question is not None and (problem := validate_question(question, settings.max_question_chars)):
        fail(problem)
    try:
        scope = Filter.parse(where)
    except ValueError as err:
        fail(str(err))
    questions = [question] if question is not None else _read_questions(file)
    ready = open_collections(settings, collection, build=not no_build)
    if not allows(ready.answerer, scope):
        fail(f"no passage matches --where {scope}; `quoteback info` lists the documents")
    asked: list[str] = list(history)
    for q in questions:
        answer = ready.answerer.ask(q, history=asked, where=scope)
        if follow_up and answer.valid:
            asked.append(q)
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False) if as_json else to_terminal(answer, color=sys.stdout.isatty()))


def _read_questions(file: str) -> list[str]:
    """The non-blank lines of the file (a trailing blank line is not a question)."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        fail(f"cannot read --file {file} ({getattr(err, 'strerror', None) or err})")
    return [line for line in text.splitlines() if line.strip()]


@app.command()
def info(corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, model: Optional[str] = ModelOpt,
         store: Optional[str] = StoreOpt, uri: Optional[str] = UriOpt, collection: Optional[str] = CollectionOpt,
         milvus_collection: Optional[str] = MilvusCollectionOpt, config: Optional[Path] = ConfigOpt,
         as_json: bool = typer.Option(False, "--json", help="Print the status as JSON (a list, one object a collection, "
                                      "when collections are named and no --collection is given).")) -> None:
    """Corpus and index status: documents, passages, model, built at, stale or not, for each
    collection; exit code 2 when the index files are damaged (each listed file is opened and checked)."""
    settings = _settings(config, corpus=corpus, index=index, model=model, store=store, uri=uri,
                         milvus_collection=milvus_collection)
    from .info import collection_reports, print_info

    reports = collection_reports(chosen_collections(settings, collection))
    if as_json:
        shown = reports if settings.collections and not collection else reports[0]
        typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        print_info(reports)
    if any(data["status"] == "damaged" for data in reports):
        raise typer.Exit(2)


@app.command("eval")
def evaluate(dataset: Optional[Path] = typer.Argument(None, help="A BEIR-layout folder (default: the shipped question set)."),
             as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
             report: Optional[Path] = typer.Option(None, "--report", help="Write report.md, per-query results and plots here."),
             configs: Optional[str] = typer.Option(None, "--configs", help="Comma-separated, from: dense, bm25, rrf, hybrid, hybrid+feedback, no-reader, hybrid+sentences (default: all but hybrid+feedback and no-reader)."),
             split: str = typer.Option("test", "--split", help="Which judgments of a BEIR folder: qrels/<split>.tsv."),
             model: Optional[str] = ModelOpt, backend: Optional[str] = BackendOpt,
             store: Optional[str] = StoreOpt, uri: Optional[str] = UriOpt, reader: Optional[bool] = ReaderOpt,
             compare_reader: bool = typer.Option(False, "--compare-reader", help="Also measure the default configuration without the reader."),
             scope_doc: bool = typer.Option(False, "--scope-doc", help="Search each question only in the document it names (page sets): the doc filter."),
             collection: Optional[str] = typer.Option(None, "--collection", help="Ask the set's questions of this named collection "
                                                      "(its folder and index) instead of the set's own documents."),
             feedback: bool = typer.Option(False, "--feedback", help="Evaluate on the users' judgments (`quoteback feedback`), "
                                           "exported against the current index; each run is kept for the trend."),
             feedback_db: Optional[Path] = typer.Option(None, "--feedback-db", help="With --feedback: the feedback database."),
             corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, config: Optional[Path] = ConfigOpt) -> None:
    """Measure retrieval quality (nDCG@10, RR@10, R@100, Success@1, abstention) on an evaluation set."""
    settings = _settings(config, corpus=corpus, index=index, model=model, backend=backend, store=store, uri=uri,
                         reader=True if compare_reader else reader, feedback_db=feedback_db and str(feedback_db))
    target = chosen_collections(settings, collection)[0].settings if collection else None
    if feedback and dataset:
        fail("give a DATASET or --feedback (the users' judgments), not both")
    from ..evaluation.evaluate import DEFAULT_CONFIGS, REPO_SET, Evaluator
    from .checks import check_output_folder

    names = [c.strip() for c in configs.split(",") if c.strip()] if configs else list(DEFAULT_CONFIGS)
    if report:
        try:
            check_output_folder(report, "--report")
        except ValueError as err:
            fail(str(err))
    if compare_reader and "no-reader" not in names:
        names.insert(len(names) - 1, "no-reader")  # the last one is the main configuration
    try:
        evaluator = Evaluator(settings, names, split=split, scope_doc=scope_doc, collection=None if feedback else target)
        bar, update = progress()
        with bar:
            if feedback:
                from .feedback import run_feedback_eval

                result = run_feedback_eval(settings, evaluator, collection, update)
            else:
                result = evaluator.run(dataset or REPO_SET, progress=update)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        fail(str(err))
    if report:
        from ..evaluation.report import write_report

        typer.echo(f"report: {write_report(result, report)}", err=True)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    from ..evaluation.report import honesty_summary, metrics_table, page_summary, phrase_summary, span_summary

    split = "" if result.split == "test" else f" ({result.split} judgments)"
    typer.echo(f"{result.dataset}{split}: {result.queries} queries, {result.seconds:.1f} s\n")
    typer.echo(metrics_table(result))
    for summary in (page_summary(result), phrase_summary(result), span_summary(result), honesty_summary(result)):
        if summary:
            typer.echo("\n" + summary)
    if result.abstention:
        a = result.abstention
        typer.echo(f"\noff-topic floor (best-passage similarity {a['threshold']:.2f}, the outcomes' decline rule): answerable above it "
                   f"{a['answerable_answered']:.1%}, unanswerable below it {a['unanswerable_declined']:.1%}; a floor keeping 95% of "
                   f"answerable above ({a['at_95_answered']['threshold']:.2f}) puts {a['at_95_answered']['unanswerable_declined']:.1%} "
                   "of unanswerable below")


@app.command()
def bench(quick: bool = typer.Option(False, "--quick", help="Smaller sizes; under 10 minutes on 2 cores."),
          as_json: bool = typer.Option(False, "--json"),
          peer: Optional[bool] = typer.Option(None, "--peer/--no-peer", help="Also measure txtai (default: in full runs)."),
          distributed: bool = typer.Option(False, "--distributed", help="Also Ray actors and Milvus (needs the extras)."),
          out: Optional[Path] = typer.Option(None, "--out", help="Also write the JSON result here.")) -> None:
    """Benchmark indexing speed, query latency by corpus size, incremental rebuilds, cold start, memory."""
    offline_environment()
    from ..bench.run import run_bench, table_rows

    result = run_bench(quick=quick, peer=not quick if peer is None else peer, log=lambda m: typer.echo(m, err=True),
                       distributed=distributed)
    text = json.dumps(result, indent=2)
    if out:
        out.write_text(text + "\n")
    if as_json:
        typer.echo(text)
        return
    rows = table_rows(result)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key:<{width}}  {value}")


@app.command()
def chat(corpus: Optional[list[str]] = CorpusOpt, index: Optional[Path] = IndexOpt, model: Optional[str] = ModelOpt,
         host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (loopback by default; beyond it a login is required)."),
         port: int = typer.Option(7860, "--port", help="Port, 1-65535."),
         auth: Optional[str] = typer.Option(None, "--auth", help="USER:PASS login (visible in `ps`: prefer --auth-file or QUOTEBACK_AUTH)."),
         auth_file: Optional[Path] = typer.Option(None, "--auth-file", help="File whose first line is USER:PASS."),
         allow_unauthenticated: bool = typer.Option(False, "--allow-unauthenticated", help="Listen beyond loopback without a login."),
         eval_set: list[Path] = typer.Option([], "--eval-set", help="Also offer this BEIR-layout folder in the Evaluate tab (repeatable)."),
         no_build: bool = typer.Option(False, "--no-build", help="Serve the index as it is, even if stale."),
         no_watch: bool = typer.Option(False, "--no-watch", help="Do not re-index when files in the corpus folders change."),
         backend: Optional[str] = BackendOpt, store: Optional[str] = StoreOpt, uri: Optional[str] = UriOpt,
         milvus_collection: Optional[str] = MilvusCollectionOpt, config: Optional[Path] = ConfigOpt) -> None:
    """Open the chat in the browser (builds the index, or each collection's, first if needed)."""
    settings = _settings(config, corpus=corpus, index=index, model=model, backend=backend, store=store, uri=uri,
                         milvus_collection=milvus_collection)
    from .checks import LOOPBACK, check_eval_sets, check_exposure, check_listen, resolve_auth

    try:
        credentials = resolve_auth(auth, auth_file)
        check_exposure(host, credentials, allow_unauthenticated)
        check_listen(host, port)
        sets = _eval_sets() + [str(p) for p in check_eval_sets(eval_set)]
    except ValueError as err:
        fail(str(err))
    if host not in LOOPBACK and not credentials:
        typer.secho(f"warning: listening on {host} without a login (--allow-unauthenticated): anyone who can reach it "
                    "can read every document, upload, remove and rebuild", fg=typer.colors.YELLOW, err=True)
    ready = open_collections(settings, None, build=not no_build)  # build progress and summary show before the server starts
    from ..app.chat import launch
    from ..index import IndexError_

    try:
        launch(settings, host, port, credentials, eval_sets=list(dict.fromkeys(sets)), embedder=ready.answerer.embedder,
               announce=lambda url: typer.echo(f"Running on {url}", err=True), watch=not no_watch)
    except (IndexError_, FileNotFoundError, RuntimeError, ValueError, OSError) as err:
        fail(str(err))


def _eval_sets() -> list[str]:
    """Evaluation folders offered in the app: the shipped question set and any BEIR sets found
    beside the checkout. The browser can choose only among these and --eval-set folders."""
    from ..evaluation.evaluate import default_sets

    return [str(p) for p in default_sets()]


from .feedback import app as feedback_app  # noqa: E402  (a sub-app: `quoteback feedback add|list|export|prune`)

app.add_typer(feedback_app, name="feedback")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
