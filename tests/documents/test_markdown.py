"""Markdown reader: the rendered text, headings as exact spans."""

import re

from hypothesis import given, settings, strategies as st

from quoteback.documents import load_document
from quoteback.documents.markdown import read_markdown

SOURCE = """---
title: "Review Guide"
date: 2023-12-12
---
Setext Title
============

Some **bold** and __strong__ and *em* text with `code` and a [link](https://example.com/x).
<!-- a hidden comment -->

## Explain Why {#why}

A <span class="x">raw tag</span> here. ![diagram of flow](img.png)

Sub heading
-----------

-   First item
-   Second *item*
    1. nested one

| Name | Value |
|------|-------|
| a    | **1** |

```python
print("hi")
```
"""


def test_clean_text_and_metadata():
    doc = read_markdown(SOURCE.encode())
    text = doc.text
    assert doc.title == "Review Guide" and doc.date == "2023-12-12"
    assert "title:" not in text and "---" not in text
    assert "Some bold and strong and em text with code and a link." in text
    for junk in ("**", "__", "`", "{#", "<!--", "hidden comment", "<span", "https://", "diagram of flow"):
        assert junk not in text, junk
    assert "A raw tag here." in text
    assert "- First item\n- Second item\n  1. nested one" in text
    assert "Name | Value\na | 1" in text
    assert 'print("hi")' in text


def test_headings_setext_and_atx():
    doc = read_markdown(SOURCE.encode())
    assert [(doc.text[a:b], level) for a, b, level in doc.headings] == [
        ("Setext Title", 1), ("Explain Why", 2), ("Sub heading", 2)]


def test_date_first_line():
    doc = read_markdown(b"date 2023-12-12\n\n# Title\n\nBody.\n")
    assert doc.date == "2023-12-12" and not doc.text.startswith("date") and doc.text.startswith("Title")


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
PHRASE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), PHRASE, PHRASE, st.booleans()), min_size=1, max_size=6))
def test_property_heading_spans_match_words(sections):
    lines = []
    for level, heading, body, strong in sections:
        lines.append("#" * level + " " + heading + " {#anchor}")
        lines.append("")
        lines.append(f"**{body}**" if strong else body)
        lines.append("")
    doc = read_markdown("\n".join(lines).encode())
    assert [doc.text[a:b] for a, b, _ in doc.headings] == [h for _, h, _, _ in sections]
    assert [level for _, _, level in doc.headings] == [level for level, _, _, _ in sections]
    assert "**" not in doc.text and not re.search(r"\{#", doc.text)


def test_figures_in_a_table_carry_their_column_header(tmp_path):
    """A bare number means nothing without its column; words speak for themselves."""
    (tmp_path / "t.md").write_text(
        "# Results\n\n| Segment | Revenue | Margin | Note |\n|---|---|---|---|\n"
        "| Safety | 1,200 | 12% | steady |\n| Health | (45) | — | new plant |\n\n"
        "| Term | Meaning |\n|---|---|\n| quorum | a majority of replicas |\n| lease | a time-bound lock |\n")
    text = load_document(tmp_path / "t.md").text
    assert "Safety | Revenue: 1,200 | Margin: 12% | steady" in text
    assert "Health | Revenue: (45) | Margin: — | new plant" in text
    assert "Segment | Revenue | Margin | Note" in text  # the header row itself stays as it is
    assert "quorum | a majority of replicas" in text  # no figures: no header names


def test_a_ragged_table_keeps_every_row(tmp_path):
    """Rows longer or shorter than the header (colspans, merged cells) are written as they are."""
    from quoteback.documents.model import TextBuilder

    out = TextBuilder()
    out.table([["Name", "Score"], ["a", "1", "extra", "2"], ["b"], ["c", "3"]])
    text = out.build().text
    assert text.splitlines() == ["Name | Score", "a | 1 | extra | 2", "b", "c | Score: 3"]
