"""The reader's training loop on a tiny generated set: the loss falls, and a resumed run goes on
from its checkpoint exactly where an uninterrupted one would be."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import numpy as np

from quoteback.embeddings.encoder import resolve_model
from quoteback.reader import Reader, ReaderConfig, pair_tokenizer
from quoteback.training.data import Example, read_examples, write_examples
from quoteback.training.export import export, load_checkpoint
from quoteback.training.model import encode_pairs
from quoteback.training.reader import TrainConfig, batch, train

torch = pytest.importorskip("torch")

FACTS = [("Nara", "deer"), ("Oslo", "fjords"), ("Lima", "ceviche"), ("Kyoto", "temples"), ("Cairo", "pyramids"),
         ("Quito", "volcanoes"), ("Perth", "beaches"), ("Bergen", "rain"), ("Dakar", "music"), ("Hanoi", "lakes")]


def tiny_run(folder: Path) -> Path:
    """Questions "What is X known for?" over one passage per city; the others are the negatives."""
    passages = [f"Travel notes › {city}\n{city} is known for its {thing}. Visitors come all year." for city, thing in FACTS]
    examples = [Example(str(i), f"What is {city} known for?", i, [j for j in range(len(FACTS)) if j != i]) for i, (city, _) in enumerate(FACTS)]
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "passages.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(p) + "\n" for p in passages)
    write_examples(examples, folder / "examples.jsonl.gz")
    return folder


def test_examples_round_trip(tmp_path):
    run = tiny_run(tmp_path)
    assert [e.question for e in read_examples(run / "examples.jsonl.gz")][:2] == ["What is Nara known for?", "What is Oslo known for?"]


def test_batches_depend_on_seed_and_step_only():
    examples = [Example(str(i), f"q{i}", i, [i + 100, i + 200, i + 300]) for i in range(10)]
    first = batch(examples, 7, 2, 2, seed=3)
    assert first == batch(examples, 7, 2, 2, seed=3)
    assert all(set(negs) <= set(e.negatives) and len(negs) == 2 for e, negs in first)
    seen = [e.qid for s in range(5) for e, _ in batch(examples, s, 2, 2, seed=3)]
    assert sorted(seen) == sorted(e.qid for e in examples)  # one pass sees every question once


CONFIG = TrainConfig(steps=24, per_step=2, negatives=3, lr=2e-4, warmup=2, layers=6, seed=5, max_tokens=48)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny run trained to the end of CONFIG."""
    whole = tiny_run(tmp_path_factory.mktemp("whole"))
    train(whole, CONFIG)
    return whole


def test_loss_falls_and_resume_continues(trained, tmp_path):
    config = CONFIG
    state = torch.load(trained / "checkpoint.pt", weights_only=False)
    losses = state["losses"]
    assert len(losses) == 24
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 * 0.7

    parts = tiny_run(tmp_path / "parts")
    train(parts, config, stop_after=10)
    assert torch.load(parts / "checkpoint.pt", weights_only=False)["step"] == 10
    train(parts, config)
    resumed = torch.load(parts / "checkpoint.pt", weights_only=False)
    assert resumed["step"] == 24
    assert resumed["losses"] == pytest.approx(losses, abs=1e-3)


def test_the_int8_export_ranks_as_the_float_model(trained, tmp_path):
    model, _ = load_checkpoint(trained)
    out = export(trained, tmp_path / "reader-int8.onnx")
    assert out.stat().st_size < 25e6
    reader = Reader(ReaderConfig(path=out, max_tokens=48))
    tokenizer = pair_tokenizer(Path(resolve_model("all-MiniLM-L6-v2")), 48)
    passages = [f"Travel notes › {city}\n{city} is known for its {thing}. Visitors come all year." for city, thing in FACTS]
    for city, thing in FACTS[:4]:
        question = f"What is {city} known for?"
        fast = reader.score(question, passages)
        with torch.no_grad():
            exact = model(*(torch.from_numpy(a) for a in encode_pairs(tokenizer, [(question, p) for p in passages]))).numpy()
        assert np.argmax(fast) == np.argmax(exact) == [c for c, _ in FACTS].index(city)  # and the trained model learned it
        assert np.corrcoef(fast, exact)[0, 1] > 0.98


def test_a_warm_start_begins_where_the_earlier_run_ended(trained, tmp_path):
    model, state = load_checkpoint(trained)
    weights = tmp_path / "weights.pt"
    torch.save({k: v.half() for k, v in model.trained_state().items()}, weights)
    warm = tiny_run(tmp_path / "warm")
    train(warm, CONFIG, stop_after=2, init=weights)
    first = torch.load(warm / "checkpoint.pt", weights_only=False)["losses"]
    assert sum(first) / 2 < sum(state["losses"][:2]) / 2 * 0.5  # far below a cold start's first steps
