import pytest

from quoteback.settings import INDEX_TYPES, Settings


def test_every_index_type_is_accepted_and_an_unknown_one_is_refused_by_name():
    for kind in INDEX_TYPES:
        assert Settings(index_type=kind).index_type == kind
    with pytest.raises(ValueError, match="unknown index_type 'ivf-pq'; choose from auto, flat, ivf, ivf-flat, hnsw"):
        Settings(index_type="ivf-pq")
    with pytest.raises(ValueError, match="unknown index_type"):
        Settings().replace(index_type="IVF")
