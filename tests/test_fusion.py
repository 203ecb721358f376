"""Fusion values and the evaluation's named configurations."""

import pytest

from quoteback.fusion import Fusion, configurations
from quoteback.settings import Settings


def test_from_settings_and_the_lexical_share():
    fusion = Fusion.from_settings(Settings())
    assert (fusion.mode, fusion.dense_weight, fusion.sentence_weight, fusion.coverage_weight) == ("hybrid", 0.4, 0.3, 0.15)
    assert fusion.lexical_weight == pytest.approx(0.15)


@pytest.mark.parametrize("changes", [{"mode": "magic"}, {"dense_weight": 0.8, "sentence_weight": 0.5}, {"coverage_weight": -0.1}])
def test_bad_values_are_refused(changes):
    with pytest.raises(ValueError):
        Fusion(**changes)


def test_configurations_are_named_fusions_with_the_settings_last():
    base = Fusion.from_settings(Settings())
    named = configurations(base)
    assert named["hybrid+sentences"] == base and named["hybrid+feedback"].feedback == 2
    assert named["dense"].mode == "dense" and named["bm25"].lexical_weight == 1.0
    assert all(f.candidates == base.candidates for f in named.values())
