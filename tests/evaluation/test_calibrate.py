"""The shipped answerability coefficients are what `calibrate` fits on the development sets."""

import json

import pytest

from quoteback.answerability import coefficients
from quoteback.evaluation.calibrate import DEV_SETS, calibrate, default_sets
from quoteback.settings import Settings


def test_the_shipped_coefficients_refit_from_the_dev_sets(tmp_path, monkeypatch):
    sets = default_sets()
    if len(sets) < 1 + len(DEV_SETS):
        pytest.skip("the development sets (../shared) are not beside this checkout")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "answerability.json"
    reader = Settings().reader  # the default mode: what users get
    calibrate(sets, out, reader)  # real model, real indexes of the shipped set, squad2-dev and realdocs-dev
    shipped, refit = json.loads(coefficients(reader).read_text()), json.loads(out.read_text())
    assert refit["signals"] == shipped["signals"] and refit["fitted_on"] == shipped["fitted_on"]
    # the same up to the small differences int8 inference may show on another CPU
    pairs = list(zip(refit["weights"] + [refit["bias"]], shipped["weights"] + [shipped["bias"]]))
    assert max(abs(a - b) for a, b in pairs) < 0.1, pairs
