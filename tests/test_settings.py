import pytest

from quoteback.settings import INDEX_TYPES, Settings


def test_every_index_type_is_accepted_and_an_unknown_one_is_refused_by_name():
    for kind in INDEX_TYPES:
        assert Settings(index_type=kind).index_type == kind
    with pytest.raises(ValueError, match="unknown index_type 'ivf-pq'; choose from auto, flat, ivf, ivf-flat, hnsw"):
        Settings(index_type="ivf-pq")
    with pytest.raises(ValueError, match="unknown index_type"):
        Settings().replace(index_type="IVF")


def test_collections_come_from_toml_the_environment_and_the_corpus_flags(tmp_path):
    from pathlib import Path

    from quoteback.settings import Collections, corpus_flags, load_settings

    config = tmp_path / "quoteback.toml"
    config.write_text('k = 2\ncollection = "old_name"\n\n[collections]\npolicies = "./policies"\nfilings = "/data/filings"\n')
    settings = load_settings(config, environ={})
    assert dict(settings.collections) == {"policies": Path("policies"), "filings": Path("/data/filings")}
    assert list(settings.collections) == ["policies", "filings"] and settings.milvus_collection == "old_name"  # the old key still read
    env = load_settings(None, environ={"QUOTEBACK_COLLECTIONS": "a=./x,b-2=./y", "QUOTEBACK_COLLECTION": "m"})
    assert dict(env.collections) == {"a": Path("x"), "b-2": Path("y")} and env.milvus_collection == "m"
    assert corpus_flags([]) == {}
    assert corpus_flags(["./docs"]) == {"corpus": Path("docs"), "collections": Collections()}  # today's meaning
    assert dict(corpus_flags(["policies=./policies", "filings=../f=1"])["collections"]) == {
        "policies": Path("policies"), "filings": Path("../f=1")}
    assert settings.replace(**corpus_flags(["./docs"])).collections == Collections()  # a plain --corpus overrides the file's


@pytest.mark.parametrize("flags, message", [
    (["a=./x", "a=./y"], "collection 'a' is named twice"),
    (["my docs=./x"], "collection name 'my docs' may hold only letters, digits, - and _"),
    (["./x", "./y"], "--corpus names one folder, or several as NAME=FOLDER"),
    (["a=./x", "./y"], "give every folder a name"),
    (["a="], "is not NAME=FOLDER"),
])
def test_a_bad_or_twice_named_collection_is_one_line(flags, message):
    from quoteback.settings import corpus_flags

    with pytest.raises(ValueError, match=message) as err:
        corpus_flags(flags)
    assert "\n" not in str(err.value)


def test_each_collection_has_its_own_index_folder_and_milvus_collection(tmp_path):
    from quoteback.settings import Collections

    settings = Settings(index=tmp_path / "index", collections=Collections.parse({"a": tmp_path / "a", "team-b": tmp_path / "b"}))
    a, b = settings.for_collection("a"), settings.for_collection("team-b")
    assert (a.corpus, a.index, b.index) == (tmp_path / "a", tmp_path / "index" / "a", tmp_path / "index" / "team-b")
    assert a.milvus_collection.startswith("qb_a_") and b.milvus_collection.startswith("qb_team_b_") and "-" not in b.milvus_collection
    assert settings.replace(milvus_collection="base").for_collection("team-b").milvus_collection == "base_team_b"
    with pytest.raises(ValueError, match="unknown collection 'c'; the collections: a, team-b"):
        settings.for_collection("c")
    assert hash(settings) == hash(Settings(index=tmp_path / "index", collections=Collections.parse(
        {"a": tmp_path / "a", "team-b": tmp_path / "b"})))  # still a value
