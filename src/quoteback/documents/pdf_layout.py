"""PDF text cleanup: from positioned lines (per page, per block) to text that reads like the page.

Input is what a PDF text extractor (poppler's `pdftotext -bbox-layout`) or OCR (Tesseract TSV)
gives: pages of blocks of lines with their boxes. Output is an `Extracted` whose text has

- running headers, footers and page numbers removed (lines repeated at the top or bottom of
  many pages, digits ignored when comparing, so `NIST SP 800-63B ... 68` matches `... 69`);
- ligatures expanded (ﬁ → fi ...), odd spaces normalised, soft hyphens dropped, symbol-font
  bullets turned into `•`;
- two-column pages in reading order (left column, then right, between full-width blocks);
- line-end hyphenation between lowercase letters joined (`incre-` + `menting`);
- paragraphs rebuilt (lines joined with single spaces), separated by a blank line; a paragraph
  that goes on in the next column or on the next page is continued, not split;
- headings in their own block and recorded (`2.3.4 Title` → level 3, `Abstract`, all-caps and
  larger-type lines → level 1 or 2);
- figure residue (axis numbers, short label fragments) and the labels of captioned vector figures
  dropped; footnotes read after the paragraph they interrupt, which goes on over the page.

Every offset in `pages` and `headings` indexes the returned text.

Here: `assemble`, the pipeline. The passes: `pdf_lines` (the data, character cleanup),
`pdf_pages` (running lines, figure residue, reading order), `pdf_figures` (figure labels,
footnotes), `pdf_contents` (contents pages), `pdf_tables` (section numbers, tables), `pdf_statements` (numeric
tables, rows with their column headers), `pdf_headings`, `pdf_paragraphs`.
"""

from __future__ import annotations

import re
from collections import Counter

from .model import Extracted
from .pdf_figures import drop_figure_labels, is_footnote
from .pdf_headings import CONTENTS_LEVEL, CONTENTS_TITLES, front_matter, heading_level, mark_subheadings, numbering, running_title
from .pdf_lines import BULLET_RE, LEADERS, SENTENCE_END, Page, Para, clean_chars, join_lines
from .pdf_pages import is_figure_residue, reading_order, remove_running_lines
from .pdf_paragraphs import build_text, is_caption, split_paragraphs
from .pdf_statements import find_statements
from .pdf_contents import attach_page_numbers, is_toc_page
from .pdf_tables import find_tables, join_heading_words, join_section_numbers


def _body_size(pages: list[Page]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for block in page.blocks:
            for line in block.lines:
                sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def assemble(pages: list[Page], title: str | None = None, date: str | None = None) -> Extracted:
    """Clean positioned lines into an `Extracted` (see the module doc)."""
    for page in pages:
        for block in page.blocks:
            for line in block.lines:
                line.text = " ".join(LEADERS.sub(" ... ", clean_chars(line.text)).split())
            block.lines = [line for line in block.lines if line.text]
        page.blocks = [block for block in page.blocks if block.lines]
    running = remove_running_lines(pages)
    body = _body_size(pages)
    for page in pages:
        join_section_numbers(page)
        join_heading_words(page, body)
        drop_figure_labels(page, body)
        mark_subheadings(page, body)
        page.toc = is_toc_page(page)
        if page.toc:
            attach_page_numbers(page)
        else:
            find_statements(page)  # numeric tables first: their rows rebuilt across the figure columns
            find_tables(page, body)

    paras: list[Para] = []
    open_para: Para | None = None  # an unfinished paragraph that may go on in the next column or page
    deferred: list[Para] = []  # captions and footnotes met while a paragraph was unfinished, put after it
    for index, page in enumerate(pages):
        if any(is_caption(p.pieces[0][0]) for p in deferred):  # a caption stays on its page: its paragraph ends here
            paras.extend(deferred)
            deferred = []
            open_para = None
        for block in reading_order(page):
            if block.rows:
                paras.extend(deferred)
                deferred = []
                open_para = None
                paras.append(Para([(row, index, "\n") for row in block.rows], "table"))
                continue
            if page.toc:  # contents lines are no headings: one line each, under the page's title
                open_para = None
                for kind, lines, level in split_paragraphs(block, body):
                    for line in lines:
                        if line.text.strip().casefold().rstrip(": ") in CONTENTS_TITLES:  # (not `title`: the document's)
                            paras.append(Para([(line.text.strip(), index, "")], "heading", CONTENTS_LEVEL, line.size))
                        elif paras and paras[-1].kind == "lines" and paras[-1].pieces[-1][1] == index:
                            paras[-1].pieces.append((line.text.strip(), index, "\n"))
                        else:
                            paras.append(Para([(line.text.strip(), index, "")], "lines"))
                continue
            if is_figure_residue(block, body) and not any(heading_level(l, body, 1) for l in block.lines[:1]):
                continue
            note = open_para is not None and is_footnote(block, page, body)
            for kind, lines, level in split_paragraphs(block, body):
                if note:  # read after the paragraph it interrupts, which goes on over the page
                    deferred.append(Para([(t, index, j) for t, j in join_lines(lines)]))
                    continue
                if kind == "heading":
                    open_para = None
                    paras.extend(deferred)
                    deferred = []
                    paras.append(Para([(" ".join(t for t, _ in join_lines(lines)).replace("\n", " "), index, "")], "heading", level,
                                       max(line.size for line in lines)))
                    continue
                joined = join_lines(lines)
                first = joined[0][0]
                if open_para is not None and (first[:1].islower() or (first[:1].isdigit() and not is_caption(first))) \
                        and not BULLET_RE.match(first):
                    prev = open_para.last
                    hyphen = re.search(r"[a-z]-$", prev) and first[:1].islower()
                    if hyphen:
                        text, page_i, join = open_para.pieces[-1]
                        open_para.pieces[-1] = (text[:-1], page_i, join)
                    open_para.pieces.append((joined[0][0], index, "" if hyphen else " "))
                    open_para.pieces.extend((t, index, j) for t, j in joined[1:])
                    para = open_para
                    paras.extend(deferred)
                    deferred = []
                else:
                    para = Para([(t, index, j) for t, j in joined])
                    if open_para is not None and is_caption(first):
                        deferred.append(para)
                        continue
                    paras.extend(deferred)
                    deferred = []
                    paras.append(para)
                open_para = None if para.last.endswith(SENTENCE_END) or para.last.endswith(":") else para
    paras.extend(deferred)
    front_matter(paras)
    numbering(paras, body)
    return build_text(paras, len(pages), title or running_title(paras, running), date)
