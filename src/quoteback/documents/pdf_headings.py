"""Headings of a PDF: whether a line is a heading and of which level (`2.3.4 Title` → 3, `Abstract`,
all-caps and larger-type lines → 1 or 2, `Tier 1: ...` one below its section), and the passes over
all paragraphs that correct them: numbering that goes back (a list, not sections) and the front
matter (cover and title page: only the title is a heading)."""

from __future__ import annotations

import re

from .pdf_lines import BULLET_RE, Line, Page, Para, count_letters

NUMBERED_RE = re.compile(r"^(?:(?:Appendix|APPENDIX|Annex|Chapter|Section|Part|Note|NOTE)\s+)?(\d{1,2}(?:\.\d{1,2}){0,5}|[A-Z](?:\.\d{1,2}){1,5})\.?\s+(?:[–—-]\s+)?(\S.*)$")
NAMED_HEADINGS = {
    "abstract", "introduction", "background", "conclusion", "conclusions", "references", "bibliography",
    "acknowledgments", "acknowledgements", "acknowledgment", "acknowledgement", "related work", "keywords",
    "executive summary", "table of contents", "contents", "summary", "discussion", "evaluation", "appendix",
    "foreword", "preface", "glossary", "index", "notes", "authority", "abstract.", "categories and subject descriptors",
    "general terms", "list of figures", "list of tables", "errata", "note to readers",
    "notes to consolidated financial statements", "notes to financial statements",
    "notes to condensed consolidated financial statements", "notes to the consolidated financial statements",
}
LABELLED_RE = re.compile(r"^(?:Tier|Level|Step|Phase|Stage|Part|Scenario|Case|Option)\s+\d{1,2}\s*[:.–—-]\s+[A-Z][\w-]*(?:\s+[\w-]+){0,5}$")
SUBLEVEL = 9
CONTENTS_LEVEL = 99  # a list of contents is a section that ends at the next heading of any level
CONTENTS_TITLES = {"contents", "table of contents", "list of figures", "list of tables", "list of appendices",
                   "list of exhibits", "list of illustrations", "table of figures"}
APPENDIX_RE = re.compile(r"^(?:Appendix|APPENDIX|Annex|ANNEX)\s+[A-Z]\b\s*[-—–:.]?\s*\S")


def rotated(line: Line) -> bool:
    """Text set vertically (axis labels): a box far too narrow for its characters."""
    return len(line.text) >= 3 and line.size > 0 and (line.x1 - line.x0) < 0.3 * line.size * len(line.text.strip())


def strong_heading(text: str) -> bool:
    """A heading by its words alone: numbered, `Appendix A ...`, or a usual section name."""
    text = text.strip()
    return bool(NUMBERED_RE.match(text) or APPENDIX_RE.match(text) or text.casefold().rstrip(".: ") in NAMED_HEADINGS)


def heading_level(line: Line, body: float, block_lines: int) -> int | None:
    """The level of a heading line, None for ordinary text."""
    if line.title_level:
        return line.title_level
    text = line.text.strip()
    if not text or len(text) > 110 or line.words > 14 or count_letters(text) < 2 or rotated(line):
        return None
    if text.endswith((",", ";")) or (text.endswith(".") and not re.match(r"^\d+(\.\d+)*\.?\s*$", text[:-1].split(" ")[0] + " ") and line.words > 3):
        return None
    if BULLET_RE.match(text) and not NUMBERED_RE.match(text):
        return None
    low = text.casefold().rstrip(".: ")
    low = re.sub(r"^[\divxlc]+\.?\s+", "", low) if not NAMED_HEADINGS.__contains__(low) else low
    bigger = body and line.size >= body * 1.15
    numbered = NUMBERED_RE.match(text)
    if numbered:
        number, rest = numbered.group(1), numbered.group(2)
        words = rest.split()
        if not (body and line.size >= body * 1.05):  # in body type: a numbered question (FAQ) or list item
            if text.endswith("?") or (re.match(r"^\d+\.\s", text) and sum(w[:1].isupper() for w in words) < len(words) * 0.6):
                return None
        if rest[:1].isupper() and not rest.endswith(".") or (bigger and rest[:1].isalpha()):
            if len(words) <= 12 and count_letters(rest) >= 3 and not re.search(r"\d{3,}|[=<>]", rest):
                first_digit = number.split(".")[0]
                if first_digit.isdigit() and int(first_digit) == 0:
                    return None
                if sum(w[:1].isupper() or w.casefold() in _SMALL for w in words) >= len(words) * 0.6 or bigger or len(words) <= 6:
                    number = re.sub(r"(?<=\d)(?:\.0)+$", "", number)  # `1.0 Introduction` is a chapter
                    return number.count(".") + 1
        return None
    if APPENDIX_RE.match(text) and line.words <= 12 and not text.endswith("."):
        return 1
    if block_lines == 1 and LABELLED_RE.match(text) and line.words <= 8:
        return SUBLEVEL  # `Tier 1: Partial`: one level below the section it is in (see `numbering`)
    if text.rstrip("”\"’'").endswith(".") or (not bigger and re.match(r"^[^:]{2,60}:\s+\S+\s+\S", text)):
        return None  # a sentence, a glossary entry (`Term: definition`)
    if low in NAMED_HEADINGS:  # a contents title ends at the next heading: "PART I" after it is not in it
        return CONTENTS_LEVEL if low in CONTENTS_TITLES else 1
    letters = [ch for ch in text if ch.isalpha()]
    caps = letters and sum(ch.isupper() for ch in letters) >= len(letters) * 0.9 and len(letters) >= 4
    if caps and line.words <= 10 and not text.endswith("."):
        if bigger:
            return 1
        if line.words >= 2 and not re.search(r"\d|[./]", text) and block_lines == 1:
            return 2
    if bigger and line.size >= body * 1.3 and line.words <= 12 and not text.endswith("."):
        return 1
    if bigger and line.words <= 10 and text[:1].isupper() and not text.endswith((".", ":")):
        return 2
    if line.subheading:
        return 2
    return None


def mark_subheadings(page: Page, body: float) -> None:
    """Find the subheadings set only a little larger than the text (`Security Objectives` in FIPS
    199, 10.4 against 9.5): a line alone in its block, a few words in title case, with a block of
    body type right below it starting at the same left edge (a figure's box title, centred over
    smaller type, is none)."""
    for block in page.blocks:
        line = block.lines[0]
        words = line.text.split()
        if len(block.lines) != 1 or not body or not body * 1.08 <= line.size < body * 1.15 or not 2 <= len(words) <= 8:
            continue
        if re.search(r"\d|[.:,;]$", line.text) or not all(w[:1].isupper() or w.casefold() in _SMALL for w in words):
            continue
        below = [b for b in page.blocks if b.y0 > line.y1 - 1 and min(b.x1, line.x1) > max(b.x0, line.x0)]
        nxt = min(below, key=lambda b: b.y0, default=None)
        if nxt is not None and abs(nxt.x0 - line.x0) < 3 and nxt.y0 - line.y1 < 3 * line.size:
            sizes = sorted(l.size for l in nxt.lines)
            line.subheading = sizes[len(sizes) // 2] >= body * 0.95


_SMALL = {"a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "by", "or", "at", "from", "vs", "via", "as", "is"}


JUMP = 9  # a top-level section number this far past the last one (or a first one past it) is no section


def _number(para: Para) -> tuple[int, ...] | None:
    match = NUMBERED_RE.match(para.pieces[0][0])
    if not match or not re.fullmatch(r"[\d.]+", match.group(1)):
        return None
    return tuple(int(n) for n in re.sub(r"(?<=\d)(?:\.0)+$", "", match.group(1)).split(".") if n)


def contents_runs(paras: list[Para]) -> None:
    """Three or more sibling numbered headings in a row with no text between them (`1. Summary of
    Significant Accounting Policies`, `2. Restructuring ...`, `3. ...`: an index of notes) are a list
    of contents, not sections: counted as sections, the real ones after them would go back."""
    i = 0
    while i < len(paras):
        j = i
        while j < len(paras) and paras[j].kind == "heading" and _number(paras[j]) is not None:
            j += 1
        numbers = [_number(p) for p in paras[i:j]]
        k = i
        while k < j:  # the longest runs of consecutive siblings (n, n+1, n+2 at one depth)
            m = k + 1
            while m < j and len(numbers[m - i]) == len(numbers[k - i]) and numbers[m - i][-1] == numbers[m - 1 - i][-1] + 1:
                m += 1
            if m - k >= 3:
                for para in paras[k:m]:
                    para.kind = "para"
            k = m
        i = max(j, i + 1)


def numbering(paras: list[Para], body: float) -> None:
    """Numbered lines that go back in the numbering (`1. Determine ...` after `3.5 ...`: a numbered
    list or checklist, FAQ questions), jump far ahead (`49 Other accrued liabilities`: a figure and
    its row label) or are set smaller than the text (a footnote: `2 Excludes the impact of ...`) are
    no headings unless set clearly larger than the text."""
    contents_runs(paras)
    last: tuple[int, ...] = ()
    outer = 0  # the level of the last heading that is not a labelled one
    for para in paras:
        if para.kind != "heading":
            continue
        if para.level == SUBLEVEL:
            para.level = outer + 1
            continue
        outer = para.level
        number = _number(para)
        if number is None:
            continue
        clearly_larger = body and para.size >= body * 1.1
        smaller = body and para.size < body * 0.95
        if not clearly_larger and ((last and number <= last) or number[0] > (last[0] if last else 0) + JUMP or smaller):
            para.kind = "para"
            continue
        last = number


def front_matter(paras: list[Para]) -> None:
    """Before the first numbered or named heading (on the first pages: cover, title page, authors),
    only the title is a heading: the largest-type heading of the first page with headings, with the
    heading lines of the same size right after it."""
    front = []
    for i, para in enumerate(paras):
        if para.pieces[0][1] > 2:
            break
        if para.kind == "heading":
            if strong_heading(para.pieces[0][0]):
                break
            front.append(i)
    if not front:
        return
    first_page = paras[front[0]].pieces[0][1]
    on_first = [i for i in front if paras[i].pieces[0][1] == first_page]
    largest = max(paras[i].size for i in on_first)
    title = next(i for i in on_first if paras[i].size >= largest - 0.3)
    merged = title
    for i in front:
        if i == title:
            continue
        if i == merged + 1 and abs(paras[i].size - paras[title].size) < 0.5:
            paras[title].pieces.append((paras[i].pieces[0][0], paras[i].pieces[0][1], " "))
            paras[i].kind = "drop"
            merged = i
            continue
        paras[i].kind = "para"
    paras[title].level = 1
    paras[:] = [p for p in paras if p.kind != "drop"]


def running_title(paras: list[Para], running: set[str]) -> str | None:
    """The title as a running header writes it (`End-to-End Arguments in System Design`) where the
    title page sets it in capitals: the first heading, if a removed running line matches it."""
    heading = next((p for p in paras if p.kind == "heading"), None)
    if heading is None or heading.pieces[0][1] > 1:
        return None
    text = " ".join(" ".join(piece[0] for piece in heading.pieces).split())
    if not text.isupper():
        return None
    return next((line for line in sorted(running) if line.casefold() == text.casefold() and not line.isupper()), None)
