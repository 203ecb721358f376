"""Train the reader: `python -m quoteback.training.reader` (after `python -m quoteback.training.mine`).

Each step reads `--questions` questions, each with its positive passage and `--negatives`
negatives sampled from the mined ones, and minimises a listwise softmax loss (the positive
should win its list: ranking) plus a per-pair logistic loss (a passage that does not answer
should score low in absolute terms: answerability). Fixed seed; the data order and the
negatives of step s depend on the seed and s only, so a run resumed from its checkpoint sees
what an uninterrupted run would have. A checkpoint is written every `--checkpoint-minutes` and on
Ctrl-C / SIGTERM; run it in the background under `nice`, and again to continue.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..embeddings.encoder import resolve_model
from ..reader import MAX_TOKENS, pair_tokenizer
from ..settings import DEFAULT_MODEL, offline_environment
from .data import Example, read_examples
from .mine import default_run


def batch(examples: list[Example], step: int, per_step: int, negatives: int, seed: int) -> list[tuple[Example, list[int]]]:
    """The (question, sampled negatives) lists of step `step`: a fresh shuffle each pass over the data."""
    per_pass = len(examples) // per_step
    order = list(range(len(examples)))
    random.Random(seed * 7919 + step // per_pass).shuffle(order)
    pick = random.Random(seed * 104729 + step)
    start = (step % per_pass) * per_step
    out = []
    for i in order[start : start + per_step]:
        mined = examples[i].negatives
        out.append((examples[i], pick.sample(mined, min(negatives, len(mined)))))
    return out


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 3200
    per_step: int = 4  # questions per step
    negatives: int = 3  # negatives per question, sampled from the mined ones
    lr: float = 5e-5
    warmup: int = 150
    layers: int = 6  # transformer layers kept of MiniLM's six
    seed: int = 13
    max_tokens: int = MAX_TOKENS
    checkpoint_minutes: float = 15.0  # not part of what was trained: may change between sessions

    def trained_with(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if k != "checkpoint_minutes"}


def train(run: Path, config: TrainConfig, stop_after: int | None = None, init: Path | None = None) -> Path:
    """Train from the run's checkpoint (or from MiniLM, or from the weights `init` of an earlier
    run: a warm start with a fresh optimizer) to `config.steps`; `stop_after` steps at most this call."""
    import torch
    from tqdm import tqdm

    from .model import CrossEncoder, encode_pairs

    c = config
    torch.manual_seed(c.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model_dir = Path(resolve_model(DEFAULT_MODEL))
    tokenizer = pair_tokenizer(model_dir, c.max_tokens)
    examples = [e for e in read_examples(run / "examples.jsonl.gz") if not e.held_out and e.negatives]
    with gzip.open(run / "passages.jsonl.gz", "rt", encoding="utf-8") as rows:
        passages = [json.loads(line) for line in rows]
    model = CrossEncoder(model_dir, c.layers)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=c.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / c.warmup) * max(0.1, 1 - s / c.steps))
    checkpoint = run / "checkpoint.pt"
    step, losses = 0, []
    if init is not None and not checkpoint.is_file():
        model.load_trained({k: v.float() for k, v in torch.load(init, map_location="cpu", weights_only=True).items()})
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if state["settings"] != c.trained_with():
            raise SystemExit(f"error: {checkpoint} was trained with other settings {state['settings']}; use another --run")
        model.load_trained(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, losses = state["step"], state["losses"]
        torch.set_rng_state(state["rng"])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))

    def save() -> None:
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"model": model.trained_state(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                    "step": step, "losses": losses, "rng": torch.get_rng_state(), "settings": c.trained_with()}, tmp)
        tmp.replace(checkpoint)

    model.train()
    saved = time.monotonic()
    last = min(c.steps, step + stop_after) if stop_after is not None else c.steps
    bar = tqdm(total=c.steps, initial=step, desc="reader", unit="step", mininterval=10)
    try:
        while step < last and not stop:
            lists = batch(examples, step, c.per_step, c.negatives, c.seed)
            texts, qs, rows = [], [], []
            for example, negs in lists:
                texts += [passages[example.positive]] + [passages[n] for n in negs]
                qs += [example.question] * (1 + len(negs))
                rows.append(1 + len(negs))
            width = max(rows)
            ids, mask, types = encode_pairs(tokenizer, list(zip(qs, texts)))
            logits = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
            labels = torch.zeros_like(logits)
            grid = torch.full((len(rows), width), -1e4)
            at = 0
            for r, size in enumerate(rows):
                labels[at] = 1.0
                grid[r, :size] = logits[at : at + size]
                at += size
            listwise = torch.nn.functional.cross_entropy(grid, torch.zeros(len(rows), dtype=torch.long))
            pointwise = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, pos_weight=torch.tensor(float(c.negatives)))
            loss = listwise + pointwise
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(round(loss.item(), 4))
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-100:]) / len(losses[-100:]):.3f}", refresh=False)
            if time.monotonic() - saved > c.checkpoint_minutes * 60:
                save()
                saved = time.monotonic()
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
        save()
    print(f"step {step}/{c.steps}; mean loss of the last 100 steps {sum(losses[-100:]) / max(1, len(losses[-100:])):.4f}; checkpoint {checkpoint}")
    return checkpoint


def main() -> None:
    offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=default_run(), help="the run folder (mined data, checkpoint)")
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--questions", type=int, default=TrainConfig.per_step, help="questions per step")
    parser.add_argument("--negatives", type=int, default=TrainConfig.negatives, help="negatives per question")
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--warmup", type=int, default=TrainConfig.warmup)
    parser.add_argument("--layers", type=int, default=TrainConfig.layers, help="transformer layers kept of MiniLM's six")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--checkpoint-minutes", type=float, default=TrainConfig.checkpoint_minutes)
    parser.add_argument("--init", type=Path, help="start from these weights (python -m quoteback.training.export --weights)")
    args = parser.parse_args()
    train(args.run, TrainConfig(args.steps, args.questions, args.negatives, args.lr, args.warmup, args.layers, args.seed,
                                args.max_tokens, args.checkpoint_minutes), init=args.init)


if __name__ == "__main__":
    main()
