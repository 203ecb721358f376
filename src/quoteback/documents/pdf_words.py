"""PDF words into line text: where poppler's word boxes mean a space and where they do not.

poppler splits a word wherever the glyphs are placed apart, so a line's boxes are not its words:
kerning in bold headings sets a last letter off (`Balance Shee` + `t`, `Busines` + `s.`) by nearly
a word space, and footnote marks sit against the word they annotate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

Word = tuple[float, float, float, float, str]  # xMin, yMin, xMax, yMax, text

_MARK = re.compile(r"[0-9]{1,3}|[*†‡§]")
# a piece: one lowercase letter ("a" is a word of its own, never a piece) or, in capitals, one or
# two letters ("LIQUIDI TY"), with punctuation; the word it ends, in the same case
_PIECE = {False: (re.compile(r"([b-z])([.,:;)]?)"), re.compile(r"[A-Za-z]*[a-z]$")),
          True: (re.compile(r"([A-Z]{1,2})([.,:;)]?)"), re.compile(r"[A-Z]{3,}$"))}
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")  # "3M’s" is one word, not "M" and a stray "s"
_ALONE = re.compile(r"([A-Za-z]{1,2})[.,:;)]?")  # a box that could be a piece
_RARE = 3  # the joined word at least this many times as often as the letter alone
_WIDE = 0.35  # a gap of more than this share of the type size is a real space ("Yes  x" in a form's tick boxes)


def vocabulary(lines: Iterable[list[Word]]) -> Counter[str]:
    """The document's own words, lower-cased, as poppler found them whole: a piece glued back must
    make a word the document spells out elsewhere ("Business" in the text for "Busines s." in a
    heading), which no stretch of gap sizes can tell apart from "Davis v." set at the same spacing;
    and the letter alone must be rare beside it, as it is where a font sets it off: a paper whose
    "n" is a variable keeps "the n nodes" apart, though "then" is a word of it."""
    counts: Counter[str] = Counter()
    for words in lines:
        for w in words:
            counts.update(t.lower() for t in _TOKEN.findall(w[4]))
            alone = _ALONE.fullmatch(w[4])
            if alone:  # a box of its own, as set: the "s" of "employee(s)" or the "S" of "U.S." is no stray "s"
                counts[" " + alone.group(1)] += 1
    return counts


def without_note_marks(words: list[Word]) -> list[Word]:
    """A line's words without footnote marks: a number (or *, †) in smaller type, raised, set against
    the word before it (`violation¹ of` would read `violation 1 of`; `Systems⁵, March` keeps its
    comma against `Systems`). An exponent after a number (`10⁶`) or a short unit (`km²`) is kept."""
    if len(words) < 2:
        return words
    height = sorted(w[3] - w[1] for w in words)[len(words) // 2]
    bottom = sorted(w[3] for w in words)[len(words) // 2]
    kept = [words[0]]
    glue = False  # the word before was a dropped mark, set against this one
    for prev, word in zip(words, words[1:]):
        if glue and word[4][:1] in ",.;:)”’\"":
            last = kept[-1]
            kept[-1] = (last[0], last[1], word[2], last[3], last[4] + word[4])
            glue = False
            continue
        glue = False
        gap = word[0] - prev[2]
        mark = (_MARK.fullmatch(word[4]) and word[3] - word[1] < 0.8 * height and bottom - word[3] > 0.2 * height
                and gap < 0.2 * height and (len(prev[4]) >= 4 or not prev[4][-1:].isalnum()) and not prev[4][-1:].isdigit())
        if mark:
            glue = True
        else:
            kept.append(word)
    return kept


def join_words(words: list[Word], known: Counter[str] | None = None) -> str:
    """A line's words with spaces, except where the page shows none: inside a word some PDFs set as
    two boxes with almost no gap (`Manageme` + `nt`: a letter, a gap under an eighth of the type
    size, a lowercase letter), and at a change of font with the glyphs touching (poppler splits
    words there): punctuation (`LOW` + `)` + `,`, `EXAMPLE 2` + `:`) and small capitals (`C` +
    `ONFIDENTIALITY`, the capitals after the first set smaller); and a last letter (or two capitals)
    kerned off a word when the two make a word of the document (`known`, see `vocabulary`)."""
    out = words[0][4]
    for prev, word in zip(words, words[1:]):
        gap = word[0] - prev[2]
        high, prev_high = word[3] - word[1], prev[3] - prev[1]
        tight = 0 <= gap < 0.12 * prev_high and abs(high - prev_high) < 0.5
        touching = -0.15 * max(high, prev_high) < gap < 0.08 * max(high, prev_high)  # kerning may overlap them
        small_caps = prev[4].isalpha() and prev[4].isupper() and word[4][:1].isupper() and word[4].upper() == word[4] \
            and high < prev_high - 0.5
        glued = touching and (word[4][:1] in ")]},.;:!?%" or prev[4][-1:] in "([{" or small_caps)
        split = tight and prev[4][-1:].isalpha() and word[4][:1].islower() or _piece(prev, word, known)
        out += ("" if glued or split else " ") + word[4]
    return out


def _piece(prev: Word, word: Word, known: Counter[str] | None) -> bool:
    """`word` is the end of `prev`, kerned off: a piece (see _PIECE) not set a wide space apart
    that with the letters before it makes a word of the document."""
    piece, ending = _PIECE[word[4][:1].isupper()]
    letter, tail = piece.fullmatch(word[4]), ending.search(prev[4])
    if not (known and letter and tail) or word[0] - prev[2] > _WIDE * (prev[3] - prev[1]):
        return False
    return known[(tail.group() + letter.group(1)).lower()] > _RARE * known[" " + letter.group(1)]
