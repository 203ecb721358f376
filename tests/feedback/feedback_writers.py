"""Writers started in other processes by the concurrency tests (importable without pytest)."""

from __future__ import annotations

import sys
from pathlib import Path

from quoteback.feedback.store import FeedbackStore, Judgment, quote_ref

TEXT = "The Wagner Group is a Russian private military company."


def judgment(tag: str) -> Judgment:
    return Judgment(question=f"question {tag}", judgment="answers", span=quote_ref("doc.txt", TEXT, 4, 16),
                    comment=f"written by {tag}")


def write_many(path: str, name: str, count: int, barrier=None) -> None:
    """`count` judgments tagged `name-i`, each in its own transaction, after all writers are ready."""
    store = FeedbackStore(Path(path))
    if barrier is not None:
        barrier.wait()
    for i in range(count):
        store.add(judgment(f"{name}-{i}"))


def write_forever(path: str) -> None:
    """Write until killed, printing each row id once `add` has returned (committed)."""
    store = FeedbackStore(Path(path))
    i = 0
    while True:
        row = store.add(judgment(f"loop-{i}"))
        print(row, flush=True)
        i += 1


if __name__ == "__main__":
    write_forever(sys.argv[1])
