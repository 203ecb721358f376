"""Users' judgments of replies and the evaluation set they become.

- `schema.py`   the numbered migrations of its schema
- `store.py`    the SQLite store: judgments (what the chat's buttons and `quoteback feedback add`
                write) and evaluation runs (the trend)
- `records.py`  a judgment from a document and offsets, checked against the index; the index's build id
- `export.py`   the judgments as an evaluation set of exact spans, mapped to the current documents
"""

from .store import (
    JUDGMENTS, MAX_COMMENT, EvalRun, FeedbackStore, Judgment, QuoteRef, StoredJudgment, feedback_db, quote_ref,
)

__all__ = ["JUDGMENTS", "MAX_COMMENT", "EvalRun", "FeedbackStore", "Judgment", "QuoteRef", "StoredJudgment",
           "feedback_db", "quote_ref"]
