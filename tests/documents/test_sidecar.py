"""Sidecars `NAME.meta.json`: title, date and tags for a document, never a document themselves."""

import json

import pytest

from quoteback.documents import corpus_files, file_hash, load_corpus, load_document, source_hash

NOTE = "date 2021-06-01\nGlaciers\n\nGlaciers retreat in warm summers."


def test_a_sidecar_sets_title_date_and_tags(tmp_path):
    (tmp_path / "note.txt").write_text(NOTE)
    plain = load_document(tmp_path / "note.txt")
    assert (plain.title, plain.date, plain.tags) == ("Glaciers", "2021-06-01", [])
    (tmp_path / "note.txt.meta.json").write_text(json.dumps({"title": "  Ice  report ", "date": "2023-05-30",
                                                              "tags": ["climate", " ice ", "climate"]}))
    doc = load_document(tmp_path / "note.txt")
    assert (doc.title, doc.date, doc.tags) == ("Ice report", "2023-05-30", ["climate", "ice"])
    assert doc.text == plain.text and doc.content_hash == plain.content_hash  # the file itself, as read
    (tmp_path / "note.txt.meta.json").write_text('{"tags": ["ice"]}')  # what it leaves out comes from the file
    doc = load_document(tmp_path / "note.txt")
    assert (doc.title, doc.date, doc.tags) == ("Glaciers", "2021-06-01", ["ice"])


@pytest.mark.parametrize("content, why", [
    ("{not json", "not JSON"), ('["ice"]', "not a JSON object"), ('{"tag": ["ice"]}', "unknown key 'tag'"),
    ('{"tags": "ice"}', "tags must be a list of short strings"), ('{"tags": ["' + "x" * 65 + '"]}', "tags must be a list"),
    ('{"title": 3}', "title must be a non-empty string"), ('{"date": "2023-02-30"}', "is not a date written YYYY-MM-DD"),
    ('{"date": "May 2023"}', "is not a date written YYYY-MM-DD"), (b"\xff\xfe{}", "not JSON"),
])
def test_a_bad_sidecar_keeps_the_document_and_warns_naming_it(tmp_path, content, why):
    (tmp_path / "note.txt").write_text(NOTE)
    side = tmp_path / "note.txt.meta.json"
    side.write_bytes(content) if isinstance(content, bytes) else side.write_text(content)
    corpus = load_corpus(tmp_path)
    assert [d.path for d in corpus.documents] == ["note.txt"] and not corpus.skipped
    assert (corpus.documents[0].title, corpus.documents[0].date, corpus.documents[0].tags) == ("Glaciers", "2021-06-01", [])
    [notice] = corpus.notices
    assert notice.path == "note.txt" and notice.message.startswith("sidecar note.txt.meta.json ignored: ")
    assert why in notice.message and "\n" not in notice.message


def test_sidecars_are_not_listed_or_skipped_but_one_without_its_document_is_named(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("report.pdf.meta.json", "sub/note.txt", "sub/note.txt.meta.json", "sub/report.meta.json"):
        (tmp_path / name).write_text('{"tags": ["x"]}' if name.endswith(".json") else NOTE)
    assert [p.relative_to(tmp_path).as_posix() for p in corpus_files(tmp_path)] == [
        "report.pdf.meta.json", "sub/note.txt", "sub/report.meta.json"]
    corpus = load_corpus(tmp_path)
    assert [d.tags for d in corpus.documents] == [["x"]] and not corpus.notices
    assert {s.path: s.reason for s in corpus.skipped} == {
        "report.pdf.meta.json": "a sidecar of report.pdf, which is not in this folder (a sidecar is named after the full "
                                "file name: report.pdf.meta.json)",
        "sub/report.meta.json": "a sidecar of report, which is not in this folder (a sidecar is named after the full "
                                "file name: report.pdf.meta.json)"}


def test_the_source_hash_is_the_file_hash_until_a_sidecar_is_added(tmp_path):
    """Indexes built before sidecars keep their hashes; a sidecar's every byte counts."""
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    assert source_hash(note) == file_hash(note)
    (tmp_path / "note.txt.meta.json").write_text('{"tags": ["a"]}')
    first = source_hash(note)
    (tmp_path / "note.txt.meta.json").write_text('{"tags": ["b"]}')
    assert len({file_hash(note), first, source_hash(note)}) == 3
