"""The title of an SEC filing, read from its cover page.

A 10-K's first heading is "FORM 10-K" or "UNITED STATES SECURITIES AND EXCHANGE COMMISSION", and
its PDF metadata rarely names the company, so every filing in a folder would share a title that
says nothing. The cover page always names the registrant (the line above "(Exact name of
registrant as specified in its charter)"), the form and the period; the title made of them
("ADOBE INC. — Form 10-K, for the fiscal year ended December 2, 2022") is the context every
passage of the filing is read under, so a question naming the company and year reaches its
statements, whose rows never say whose they are.

The cover page is no section either: its large type ("UNITED STATES SECURITIES AND EXCHANGE
COMMISSION", "FORM 10-K", "DOCUMENTS INCORPORATED BY REFERENCE") read as headings put the whole of
Parts I and II under one of them, so a quote was cited as "UNITED STATES SECURITIES AND EXCHANGE
COMMISSION › FINANCIAL CONDITION AND LIQUIDITY" and every passage was embedded under it.
"""

from __future__ import annotations

import re

COVER = 20_000  # the cover page lies within the first characters of the text
_REGISTRANT = re.compile(r"\(\s*exact name of (?:the )?registrant", re.IGNORECASE)
_FORM = re.compile(r"\bFORM\s+(10-K|10-Q|8-K|20-F|40-F|6-K|10-KT|10-QT)\b", re.IGNORECASE)
_PERIOD = re.compile(r"\bfor the (fiscal year|quarterly period|transition period|year) ended\s+([A-Z][a-z]+\.?\s+\d{1,2},\s*\d{4})",
                     re.IGNORECASE)
_COMMISSION = re.compile(r"SECURITIES\s+AND\s+EXCHANGE\s+COMMISSION", re.IGNORECASE)
_OPENING = 500  # characters: the Commission's name opens a filing (after a stray page header at most)
_PART_ONE = re.compile(r"^[ \t]*PART\s+I\b", re.MULTILINE)  # the contents' or the body's first part
_EVENT = re.compile(r"date of report \(date of earliest event reported\):?\s*([A-Z][a-z]+\.?\s+\d{1,2},\s*\d{4})", re.IGNORECASE)


def filing_title(text: str) -> str | None:
    """"REGISTRANT — Form 10-K, for the fiscal year ended DATE" from an SEC cover page; None if the
    text has none."""
    cover = text[:COVER]
    mark = _REGISTRANT.search(cover)
    if mark is None:
        return None
    before = cover[: mark.start()].rstrip()
    company = " ".join(re.split(r"\n\s*\n|\n", before)[-1].split())
    if not company or len(company) > 120 or not any(ch.isalpha() for ch in company):
        return None
    form = _FORM.search(cover)
    period = _PERIOD.search(cover)
    event = _EVENT.search(cover)
    when = (f"for the {period.group(1).lower()} ended {' '.join(period.group(2).split())}" if period
            else f"dated {' '.join(event.group(1).split())}" if event else "")
    detail = ", ".join(x for x in (f"Form {form.group(1).upper()}" if form else "", when) if x)
    return f"{company} — {detail}" if detail else company


def cover_end(text: str, pages: list[int]) -> int:
    """Where an SEC filing's cover ends: at its first "PART I" (the contents or the body), or,
    in a form without parts (8-K), at the end of the first page; 0 for any other document. A
    filing opens with the Commission and the form: a press release names them too, pages in."""
    if not (_COMMISSION.search(text, 0, _OPENING) and _FORM.search(text, 0, 2 * _OPENING)):
        return 0
    part = _PART_ONE.search(text, 0, 2 * COVER)
    if part:
        return part.start()
    return pages[1] if len(pages) > 1 else 0
