"""Filters inside Milvus: the passage fields `--where` reads, and a `Filter` as a Milvus boolean
expression (the `filter` of a dense or BM25 full-text search), so a filtered search draws its top
hits from the matching passages only and k come back whenever k match. `filters.py` says what
each key means; this says the same in Milvus's words (a property test holds the two equal).

Milvus expressions cannot fold case, so the fields hold what the filter compares, casefolded:
the document's path, name and stem (`doc=` globs become `like` patterns), its type (the
suffix), date ("" when unknown), tags (an ARRAY), the passage's section path, and the first and
last page it touches (-1 without pages).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Mapping

from ..filters import TYPE_ALIASES, Condition, Filter

FIELDS = ("doc_path", "doc_name", "doc_stem", "doc_type", "doc_date", "doc_tags", "section_key", "first_page", "last_page")
TEXT_LIMIT = 65535  # bytes, VARCHAR's most
MAX_TAGS = 4096  # Milvus's largest array capacity
TAG_BYTES = 1024  # a tag is at most 64 characters (sidecar.py), casefolded at most 3 times longer
ANY, ONE = object(), object()  # a glob's * and ?, as tokens beside its characters


def quoted(text: str) -> str:
    """A string literal for a Milvus filter expression."""
    for a, b in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = text.replace(a, b)
    return f'"{text}"'


def among(field: str, values: list[Any]) -> str:
    """`field in [...]` for strings or integers."""
    return f"{field} in [{', '.join(quoted(v) if isinstance(v, str) else str(int(v)) for v in values)}]"


def add_fields(schema: Any, DataType: Any) -> None:
    """The filter fields of the passage collection (`milvus_schema.create`)."""
    for name in ("doc_path", "doc_name", "doc_stem", "doc_type", "doc_date", "section_key"):
        schema.add_field(name, DataType.VARCHAR, max_length=TEXT_LIMIT)
    schema.add_field("doc_tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_TAGS, max_length=TAG_BYTES)
    schema.add_field("first_page", DataType.INT64)
    schema.add_field("last_page", DataType.INT64)


def has_fields(client: Any, collection: str) -> bool:
    """The passage collection was written with the filter fields (one written before them was not)."""
    return set(FIELDS) <= {f["name"] for f in client.describe_collection(collection)["fields"]}


def values(passage: Any, document: Any, section: str) -> dict[str, Any]:
    """A passage's filter fields; `section`: its section label ("" before the first heading)."""
    if len(document.tags) > MAX_TAGS:
        raise ValueError(f"{document.path} has {len(document.tags)} tags; Milvus stores at most {MAX_TAGS}")
    path = PurePosixPath(document.path)
    pages = document.pages_of(passage.start, passage.end) or [-1]
    return {"doc_path": document.path.casefold(), "doc_name": path.name.casefold(), "doc_stem": path.stem.casefold(),
            "doc_type": path.suffix.lower().lstrip("."), "doc_date": document.date or "",
            "doc_tags": [t.casefold() for t in document.tags], "section_key": _clip(section.casefold()),
            "first_page": pages[0], "last_page": pages[-1]}


def _clip(text: str) -> str:
    """A heading path VARCHAR can hold: all of it, or (past 64 kB) its start."""
    data = text.encode("utf-8", "surrogatepass")
    return text if len(data) <= TEXT_LIMIT else data[:TEXT_LIMIT].decode("utf-8", "ignore")


def expression(where: Filter, documents: Mapping[str, Any]) -> str:
    """`where` as a Milvus boolean expression over the filter fields ("" for no filter): the `=`
    conditions on one key are alternatives and everything else must hold, as in `Filter.allows`.
    `documents`: the loaded index's, for a `doc` glob with a [character class], which `like`
    cannot say: the documents it matches are then named."""
    parts = []
    for conditions in where.by_key().values():
        equal = [_condition(c, documents) for c in conditions if c.op == "="]
        if equal:
            parts.append(" or ".join(f"({e})" for e in equal) if len(equal) > 1 else equal[0])
        parts += [_condition(c, documents) for c in conditions if c.op != "="]
    return " and ".join(f"({p})" for p in parts)


def _condition(c: Condition, documents: Mapping[str, Any]) -> str:
    value = c.value
    if c.key == "doc":
        tokens = _glob(value.casefold())
        if tokens is None or any(t in ("\\", "%", "_") for t in tokens):  # milvus-lite 3.2 misreads escapes in `like`
            return among("document", [d.path for d in documents.values() if Filter((c,)).allows(None, d, ("doc",))])
        return " or ".join(f"({_like(field, tokens)})" for field in ("doc_path", "doc_name", "doc_stem"))
    if c.key == "type":
        return among("doc_type", sorted({value} | {suffix for suffix, other in TYPE_ALIASES if other == value}))
    if c.key == "tag":
        return f"array_contains(doc_tags, {quoted(value.casefold())})"
    if c.key == "section":
        return _prefix("section_key", value.casefold())
    if c.key == "date":  # compared at the value's precision: the date's start equal, or the whole date beyond
        start = _like("doc_date", [*value, ANY])
        if c.op == "=":
            return start
        if c.op == ">=":
            return f"doc_date >= {quoted(value)}"
        return f'doc_date != "" and (doc_date <= {quoted(value)} or {start})'
    n = int(value)  # page: some page the passage touches is n, at least n, at most n
    return {"=": f"first_page <= {n} and last_page >= {n}", ">=": f"last_page >= {n}",
            "<=": f"first_page >= 0 and first_page <= {n}"}[c.op]


def _glob(pattern: str) -> list[Any] | None:
    """A glob as `fnmatch` reads it: characters, ANY (a run of *) and ONE (?); None when it holds
    a [character class] (a `[` with a `]` after it, as fnmatch finds them)."""
    out: list[Any] = []
    i, n = 0, len(pattern)
    while i < n:
        c, i = pattern[i], i + 1
        if c == "*":
            if not out or out[-1] is not ANY:
                out.append(ANY)
        elif c == "?":
            out.append(ONE)
        elif c == "[":
            j = i + 1 if i < n and pattern[i] == "!" else i
            j = j + 1 if j < n and pattern[j] == "]" else j
            if pattern.find("]", j) >= 0:
                return None
            out.append(c)
        else:
            out.append(c)
    return out


def _like(field: str, tokens: list[Any]) -> str:
    """`field` matches the tokens (no literal backslash, % or _ among them: `_condition` names the
    documents instead, since milvus-lite 3.2 misreads escapes in `like`)."""
    if ANY not in tokens and ONE not in tokens:
        return f"{field} == {quoted(''.join(tokens))}"
    return f"{field} like {_pattern(tokens)}"


def _prefix(field: str, prefix: str) -> str:
    """`field` starts with `prefix`: the range of strings from it to the prefix with its last
    character's successor (VARCHAR compares bytewise, and UTF-8's byte order is the code points'),
    so any character of a section path is said without `like`'s escapes."""
    upper = prefix.rstrip(chr(0x10FFFF))  # trailing highest code points cannot be exceeded: the bound moves left
    if not upper:
        return f"{field} >= {quoted(prefix)}"
    last = ord(upper[-1]) + 1
    upper = upper[:-1] + chr(last if not 0xD800 <= last < 0xE000 else 0xE000)  # never a surrogate
    return f"{field} >= {quoted(prefix)} and {field} < {quoted(upper)}"


def _pattern(tokens: list[Any]) -> str:
    """A `like` pattern as a string literal: % and _ for the wildcards, \\ before a literal \\, % or _."""
    return quoted("".join("%" if t is ANY else "_" if t is ONE else "\\" + t if t in ("\\", "%", "_") else t for t in tokens))
