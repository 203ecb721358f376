"""Heading -> section rows: weak supervision from document structure (training/headings.py)."""

import gzip
import json

from quoteback.training.data import questions, write_corpus
from quoteback.training.headings import rows, sections

DOC = """---
title: Storage
---
# Ignored second title

## How local storage works on disk

Prometheus keeps two hours of samples in memory and writes them into blocks on disk, each with its
own index and chunk files, compacted into larger blocks in the background over time, so that
queries over long ranges read few files.

```yaml
## not a heading: inside a code block
retention: 15d
```

## Notes

Too short.

### Operational aspects of retention settings

Retention can be set by time or by size; the oldest block is removed first when either limit is
reached, and a block is only removed as a whole, never part of it, so disk use falls in steps
rather than smoothly.
"""


def test_headings_become_questions_and_the_prose_their_context(tmp_path):
    title, found = sections(DOC)
    assert title == "Storage"
    headings = [h for h, _ in found]
    assert headings == ["Ignored second title", "How local storage works on disk", "Notes",
                        "Operational aspects of retention settings"]
    prose = dict(found)["How local storage works on disk"]
    assert "retention: 15d" not in prose and "not a heading" not in prose  # code left out
    assert "##" not in prose and "How local storage" not in prose  # the heading is not in its own context
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "storage.md").write_text(DOC)
    made = rows(tmp_path / "docs", "prom")
    assert [r["question"] for r in made] == ["How local storage works on disk", "Operational aspects of retention settings"]
    assert all(r["topical"] and r["answers"] == [] and r["doc"] == "prom:storage.md" and r["title"] == "Storage" for r in made)


def test_a_topical_row_is_a_question_whose_whole_context_is_relevant(tmp_path):
    rows_ = [{"question": "Retention settings", "context": "Retention is set by time or by size.", "title": "T",
              "answers": [], "topical": True, "doc": "d:1"},
             {"question": "What is kept?", "context": "Two hours of samples are kept in memory.", "title": "T",
              "answers": ["Two hours"], "doc": "d:1"},
             {"question": "No span here", "context": "Nothing answers.", "title": "T", "answers": [], "doc": "d:1"}]
    offsets = write_corpus(rows_, tmp_path)
    found = {q[1]: q for q in questions(rows_, offsets, seed=1)}
    assert set(found) == {"Retention settings", "What is kept?"}  # a row with neither a span nor topical is not used
    text = next(tmp_path.iterdir()).read_text()
    _, _, _, start, answers, end = found["Retention settings"]
    assert text[start:end] == rows_[0]["context"] and answers == []
    _, _, _, at, answers, end = found["What is kept?"]
    assert text[at:].startswith("Two hours") and end == -1
