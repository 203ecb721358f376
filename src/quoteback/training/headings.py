"""Weak supervision from document structure: a section's heading and the text under it.

    python -m quoteback.training.headings FOLDER --source NAME --out training-data/NAME.jsonl.gz

Turns a folder of markdown files into rows of the training layout (data.py) whose "question" is
a heading and whose context is the prose of its section, the heading lines themselves left out
(otherwise the reader would only learn to match a heading with itself in the section path).
Such a pair is relevant without holding an answer span, which is what topical relevance
judgments (Cranfield, SciFact) reward and what answer-span data alone teaches the reader to score
low. Rows are marked `"topical": true`: any passage of the context counts as relevant.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
MIN_WORDS = 3  # a heading of one or two words ("Summary", "Examples") says little about its section
MIN_CHARS = 200  # the section's prose: shorter ones are mostly code between headings
MAX_CHARS = 2000
END = "\x00end"  # the sentinel after the last line: closes the last section


def _prose(lines: list[str]) -> str:
    """Paragraphs of plain text: code blocks, include directives, tables, images and link lists dropped."""
    out, fenced = [], False
    for line in lines:
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or line.lstrip().startswith(("{{#", "<", "|", "![", "[")) or re.match(r"^\s{4,}\S", line):
            out.append("")
            continue
        out.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line).rstrip())  # a link's words, not its address
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    return text[:MAX_CHARS].rsplit("\n\n", 1)[0] if len(text) > MAX_CHARS else text


def sections(markdown: str) -> tuple[str, list[tuple[str, str]]]:
    """(the document's first-level title, [(heading, prose of its section)]) of one markdown text."""
    title, found, heading, body, fenced = "", [], None, [], False
    if front := re.match(r"---\n(.*?)\n---\n", markdown, re.S):  # front matter's title: the page's own
        title = next((m.group(1).strip(" '\"") for m in re.finditer(r"^title:\s*(.+)$", front.group(1), re.M)), "")
        markdown = markdown[front.end():]
    for line in markdown.splitlines() + [END]:
        if line is END:
            if heading is not None:
                found.append((heading, _prose(body)))
            break
        if FENCE.match(line):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if not match:
            body.append(line)
            continue
        if heading is not None:
            found.append((heading, _prose(body)))
        level, text = len(match.group(1)), re.sub(r"[`*_]", "", match.group(2)).strip()
        if level == 1 and not title:
            title, heading = text, None
        else:
            heading = text
        body = []
    return title, found


def rows(folder: Path, source: str) -> list[dict]:
    out = []
    for path in sorted(folder.rglob("*.md")):
        title, parts = sections(path.read_text(encoding="utf-8", errors="replace"))
        doc = f"{source}:{path.relative_to(folder).as_posix()}"
        for heading, prose in parts:
            if len(heading.split()) >= MIN_WORDS and len(prose) >= MIN_CHARS:
                out.append({"question": heading, "context": prose, "title": title, "answers": [], "answerable": True,
                            "topical": True, "doc": doc, "meta": {"path": path.relative_to(folder).as_posix()}})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--source", required=True, help="the rows' source name (the prefix of their doc ids)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    found = rows(args.folder, args.source)
    with gzip.open(args.out, "wt", encoding="utf-8") as out:
        for row in found:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(found)} heading -> section rows from {len({r['doc'] for r in found})} files -> {args.out}")


if __name__ == "__main__":
    main()
