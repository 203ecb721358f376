"""Fit the answerability calibrator on the development sets and write `data/answerability.json`.

    python -m quoteback.evaluation.calibrate [SET ...] [--out FILE]

Each set is evaluated with the default pipeline (`quoteback eval`, cached indexes); every
question gives one row: its signals (see answerability.py) and whether the first quote was
right (answerable and relevant first; an unanswerable question is never right). A logistic
regression over the rows is the confidence. With no SET, the shipped question set, the
squad2-dev split and realdocs-dev are used when present beside the checkout.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..answerability import NAMES, Calibrator, coefficients, fit, reliability
from .evaluate import REPO_SET, Evaluator
from ..settings import load_settings, offline_environment

DEV_SETS = ("eval/squad2-dev", "realdocs-dev")


def default_sets() -> list[Path]:
    shared = Path(__file__).resolve().parents[4] / "shared"
    if not shared.is_dir():
        shared = Path.cwd().parent / "shared"
    return [REPO_SET] + [shared / name for name in DEV_SETS if (shared / name / "queries.jsonl").is_file()]


def rows(folder: Path, evaluator: Evaluator) -> tuple[np.ndarray, np.ndarray]:
    """Signals and right-first labels of every question of one set."""
    result = evaluator.run(folder)
    main = result.main
    ids = [q for q in main.signals if q in main.per_query or q in result.data.unanswerable]
    x = np.array([main.signals[q].vector() for q in ids])
    y = np.array([q in main.per_query and main.per_query[q]["Success@1"] >= 1 for q in ids], dtype=float)
    return x, y


def calibrate(sets: list[Path], out: Path | None = None, reader: bool | None = None) -> Calibrator:
    """Fit on `sets` with the reader on or off (default: as the settings say), written to `out`
    (default: the shipped file for that mode)."""
    offline_environment()
    settings = load_settings().replace(reader=reader)
    out = out or coefficients(settings.reader)
    # the signals do not depend on the calibrator; a neutral one also works when the shipped file predates new signals
    evaluator = Evaluator(settings, ["hybrid+sentences"], calibrator=Calibrator(tuple(0.0 for _ in NAMES), 0.0))
    xs, ys = zip(*(rows(folder, evaluator) for folder in sets))
    # every set weighs the same, whatever its size: squad2-dev's 950 questions must not drown the others
    weights = np.concatenate([np.full(len(y), len(np.concatenate(ys)) / (len(sets) * len(y))) for y in ys])
    x, y = np.concatenate(xs), np.concatenate(ys)
    w, b = fit(x, y, sample_weight=weights)
    calibrator = Calibrator(tuple(round(float(v), 6) for v in w), round(b, 6), tuple(Path(s).name for s in sets))
    calibrator.save(out)
    for name, value in zip(NAMES, w):
        print(f"{name:>13}: {value:+.3f}")
    print(f"{'bias':>13}: {b:+.3f}")
    for row in reliability([calibrator.confidence_of(v) for v in x], y):
        print(row)
    return calibrator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", type=Path, help="evaluation folders (default: the development sets)")
    parser.add_argument("--out", type=Path, default=None, help="default: the shipped file for the reader's mode")
    parser.add_argument("--reader", action=argparse.BooleanOptionalAction, default=None, help="fit with the reader on / off (default: the settings)")
    args = parser.parse_args()
    calibrate(args.sets or default_sets(), args.out, args.reader)


if __name__ == "__main__":
    main()
