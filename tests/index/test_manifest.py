"""The typed manifest: the JSON layout indexes have always had, and the checks against settings."""

import json

import pytest

from quoteback.index import DocumentEntry, Manifest, SkippedEntry
from quoteback.settings import Settings


def _manifest(settings: Settings) -> Manifest:
    return Manifest.for_build(settings, 384, index_type="flat", passages=3,
                              documents={"a.txt": DocumentEntry("h1", "A", "2023-12-12", 3)},
                              skipped=[SkippedEntry("b.pdf", "empty file", "h2")])


def test_round_trip_through_json(tmp_path):
    manifest = _manifest(Settings())
    manifest.write(tmp_path)
    raw = json.loads((tmp_path / "manifest.json").read_text())
    assert raw["model"] == {"name": "all-MiniLM-L6-v2", "dimension": 384, "backend": "onnx-int8"}
    assert raw["documents"]["a.txt"] == {"hash": "h1", "title": "A", "date": "2023-12-12", "passages": 3}
    assert raw["skipped"] == [{"path": "b.pdf", "reason": "empty file", "hash": "h2"}]
    assert Manifest.read(tmp_path) == manifest


def test_unknown_keys_are_kept_and_missing_ones_named(tmp_path):
    raw = _manifest(Settings()).to_dict() | {"dense_build_s": 1.5}
    assert Manifest.from_dict(raw).to_dict()["dense_build_s"] == 1.5
    del raw["model"]["dimension"], raw["passages"]
    with pytest.raises(ValueError, match="passages, model.dimension"):
        Manifest.from_dict(raw)


def test_vectors_are_reusable_only_under_the_same_settings():
    settings = Settings()
    manifest = _manifest(settings)
    assert manifest.reusable_for(settings) and manifest.same_bm25(settings)
    assert not manifest.reusable_for(settings.replace(max_chars=500))
    assert not manifest.reusable_for(settings.replace(backend="torch"))
    assert not manifest.reusable_for(settings.replace(sentence_pooling="contextual"))
    assert manifest.reusable_for(settings.replace(bm25_k1=1.5)) and not manifest.same_bm25(settings.replace(bm25_k1=1.5))
    assert manifest.known_files() == {"a.txt": "h1", "b.pdf": "h2"}
