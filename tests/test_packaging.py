"""A non-editable install carries everything `quoteback eval` and `quoteback ask` need (issue 12:
the wheel lacked the shipped question set, whose dataset.json pointed outside the package)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, SEED

SHIPPED = REPO / "src" / "quoteback" / "data" / "shipped-questions"


def test_shipped_set_points_inside_the_package_at_the_repo_corpus():
    meta = json.loads((SHIPPED / "dataset.json").read_text())
    corpus = (SHIPPED / meta["corpus_dir"]).resolve()
    assert corpus.is_relative_to(SHIPPED.resolve())
    assert [p.name for p in corpus.iterdir()] == [SEED.name]
    assert (corpus / SEED.name).read_bytes() == SEED.read_bytes()  # the packaged copy is the repo's file


def test_wheel_contains_the_shipped_set(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
                   check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("quoteback-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("dataset.json", "queries.jsonl", "queries-unanswerable.jsonl", f"corpus/{SEED.name}"):
        assert f"quoteback/data/shipped-questions/{rel}" in names


@pytest.mark.slow
def test_clean_venv_install_runs_eval_and_ask(tmp_path):
    """pip install . into a fresh venv (torch first: a bare torch pulls a multi-GB CUDA build),
    then eval and ask from an unrelated folder, with an empty cache."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, os.environ.get("TORCH_SPEC", "torch==2.13.0")], check=True, timeout=1800)
    build = tmp_path / "src"  # install from a copy: pip writes build/ and egg-info next to the sources
    anywhere = shutil.ignore_patterns("*.egg-info", "__pycache__")
    shutil.copytree(REPO, build, ignore=lambda folder, names: set(anywhere(folder, names)) | (  # the package's own index/ stays
        {".venv", "build", "index", "tests", ".git"} & set(names) if Path(folder) == REPO else set()))
    subprocess.run([*pip, str(build)], check=True, timeout=1800)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "docs").mkdir(parents=True)
    (elsewhere / "docs" / "okapi.md").write_text("# Okapi\n\nThe okapi is a giraffid native to the Democratic Republic of the Congo.\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "QUOTEBACK_CONFIG")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    quoteback = str(venv / "bin" / "quoteback")
    result = subprocess.run([quoteback, "eval", "--json"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dataset"] == "shipped-questions" and data["queries"] >= 20
    assert data["configs"]["hybrid+sentences"]["Success@1"] > 0.8
    result = subprocess.run([quoteback, "ask", "Where is the okapi native to?", "--json", "--corpus", "docs", "--index", "idx"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["answered"] and "Democratic Republic of the Congo" in answer["quotes"][0]["text"]
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import quoteback; print(quoteback.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(venv)  # the installed copy answered, not the checkout
