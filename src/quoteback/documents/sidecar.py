"""Sidecar metadata: `report.pdf.meta.json` beside `report.pdf` sets its title, date and tags.

A sidecar is named after the document's full file name (`report.pdf.meta.json`, never
`report.meta.json`), so `report.pdf` and `report.docx` each have their own and no name is
ambiguous. It holds a JSON object with any of `title` (a string), `date` (YYYY-MM-DD) and `tags`
(a list of short strings); what it gives overrides what the file says. A sidecar is never a
document: the corpus listing leaves out every sidecar whose document is present. Its bytes are
folded into the document's hash (`with_sidecar`), so adding, editing or removing one makes the
document stale, while a document without one keeps the plain file hash indexes always stored.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".meta.json"
KEYS = ("title", "date", "tags")
MAX_TAG = 64  # "short strings": a tag is a label to filter on, not a description
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SidecarError(ValueError):
    """A sidecar that cannot be used; the message says why, for the build report's warning."""


@dataclass(frozen=True)
class Sidecar:
    title: str | None = None
    date: str | None = None
    tags: tuple[str, ...] = ()


def sidecar_path(path: Path) -> Path:
    """Where the sidecar of the document `path` would be."""
    return path.with_name(path.name + SUFFIX)


def document_of(path: Path) -> Path | None:
    """The document a sidecar file describes (present or not); None when `path` is no sidecar."""
    name = path.name
    return path.with_name(name[: -len(SUFFIX)]) if name.endswith(SUFFIX) and len(name) > len(SUFFIX) else None


def with_sidecar(digest: str, path: Path) -> str:
    """The file hash `digest` of `path`, folded with its sidecar's bytes when it has one."""
    side = sidecar_path(path)
    if not side.is_file():
        return digest
    return hashlib.sha256(f"{digest}\n{SUFFIX}\n".encode() + side.read_bytes()).hexdigest()


def read_sidecar(path: Path) -> Sidecar | None:
    """The sidecar of the document `path`, None without one; SidecarError when it is unusable."""
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        data = json.loads(side.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise SidecarError(f"not JSON ({' '.join(str(err).split())})") from None
    if not isinstance(data, dict):
        raise SidecarError('not a JSON object such as {"title": "...", "date": "2023-05-30", "tags": ["finance"]}')
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SidecarError(f"unknown key {unknown[0]!r}; use {', '.join(KEYS)}")
    return Sidecar(_title(data.get("title")), _date(data.get("date")), _tags(data.get("tags")))


def _title(value: object) -> str | None:
    if value is None:
        return None
    title = " ".join(value.split()) if isinstance(value, str) else ""
    if not title:
        raise SidecarError("title must be a non-empty string")
    return title


def _date(value: object) -> str | None:
    if value is None:
        return None
    try:
        if not (isinstance(value, str) and _DATE.match(value)):
            raise ValueError
        datetime.date.fromisoformat(value)
    except ValueError:
        raise SidecarError(f"date {value!r} is not a date written YYYY-MM-DD") from None
    return value


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) and 0 < len(t.strip()) <= MAX_TAG for t in value):
        raise SidecarError(f"tags must be a list of short strings (1 to {MAX_TAG} characters each)")
    return tuple(dict.fromkeys(" ".join(t.split()) for t in value))
