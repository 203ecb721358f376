"""A question before it is searched: whether it can be, and what to search for a follow-up."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, Callable, Sequence

import numpy as np

_WORD = re.compile(r"\w+")
_PRONOUNS = {"it", "its", "they", "them", "their", "this", "these", "those", "he", "she", "him", "his", "her"}
_CONTINUATIONS = ("and ", "also ", "what about", "how about", "but ", "so ")


def validate_question(question: str, max_chars: int = 2000) -> str | None:
    """A message saying what is wrong with the question, or None when it can be searched."""
    if not isinstance(question, str) or not question.strip():
        return "Please type a question: the message was empty."
    if len(question) > max_chars:
        return f"That question is {len(question):,} characters long; the limit is {max_chars:,}. Please shorten it."
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in question):
        return "That question contains control characters; please retype it as plain text."
    if not _WORD.search(question):
        return "That question has no words to search for."
    return None


# py3langid's probability above which a question is taken for another language: German, French
# and Spanish questions of 4+ words score 0.7-0.99; English ones of few or rare words
# ("banana bread recipe", "Who is Prigozhin?") score below 0.2 for whatever language wins
FOREIGN_FROM = 0.7
_LANGUAGES = {"de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
              "ru": "Russian", "pl": "Polish", "sv": "Swedish", "tr": "Turkish", "zh": "Chinese", "ja": "Japanese",
              "ar": "Arabic", "uk": "Ukrainian", "ko": "Korean", "da": "Danish", "no": "Norwegian", "fi": "Finnish"}


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_note(question: str) -> str | None:
    """A one-line note when the question looks written in another language than English: the
    embedding model and the keyword stemmer read English, so such a question finds little."""
    if len(_WORD.findall(question)) < 3:
        return None
    code, probability = _identifier().classify(question)
    if code == "en" or probability < FOREIGN_FROM:
        return None
    name = _LANGUAGES.get(code, f"language '{code}'")
    return f"Note: this question looks {name}; questions and documents are read as English, so asking in English finds more."


def is_follow_up(question: str) -> bool:
    """Short and naming nothing ("since when?", "why?"), or referring back to what was asked
    before (see `refers_back`). "What is MINUSMA?" is short but complete: it names its subject."""
    words = _WORD.findall(question)
    names = any(w[:1].isupper() or w.isupper() for w in words[1:])
    return (len(words) <= 3 and not names) or refers_back(question)


def refers_back(question: str) -> bool:
    """Continuing ("and ...", "what about ..."), or leaning on a pronoun with no name to refer to."""
    words = _WORD.findall(question)
    names = any(w[:1].isupper() for w in words[1:])
    leans = bool(_PRONOUNS & {w.lower() for w in words}) and not names
    return leans or question.strip().lower().startswith(_CONTINUATIONS)


def search_query(question: str, history: Sequence[str] = ()) -> str:
    """A follow-up is searched together with the question that set the topic."""
    question = question.strip()
    earlier = [h.strip() for h in history if h and h.strip() and validate_question(h) is None]
    if not earlier or not is_follow_up(question):
        return question
    anchor = next((h for h in reversed(earlier) if not is_follow_up(h)), earlier[0])
    if anchor.casefold() == question.casefold():  # asked again: the same search, not twice its words
        return question
    return f"{anchor} {question}"


def read_question(question: str, history: Sequence[str], encode: Callable[[list[str]], np.ndarray],
                  off_topic: Callable[[str, np.ndarray], bool]) -> tuple[str, np.ndarray, bool]:
    """The search query (a follow-up joined to its history), its vector, and whether a follow-up
    changes the subject: a short message that does not refer back ("banana bread recipe" after a
    question on Mali) whose own words are off the documents' topic (`off_topic`)."""
    query = search_query(question, history)
    follow_up = query != question.strip()
    vectors = encode([query, question.strip()] if follow_up else [query])
    return query, vectors[0], bool(follow_up and not refers_back(question) and off_topic(question, vectors[1]))


def with_language_note(question: str, message: str) -> str:
    """The message, after a note when the question is not in the documents' language."""
    note = language_note(question)
    return f"{note}\n{message}".strip() if note else message
