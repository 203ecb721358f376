"""The baseline a user would otherwise pick for a page set, measured the same way (page@1, page@3).

    python -m quoteback.evaluation.page_baseline ../shared/financebench-dev

LangChain's usual recipe: pypdf text per page (PyPDFLoader), chunks of at most 1,000 characters
with 200 of overlap, cut at paragraph, line, then word boundaries (RecursiveCharacterTextSplitter),
all-MiniLM-L6-v2 vectors (the same model folder), exact inner-product search (FAISS flat), the
three best chunks shown. A chunk's page is the page it was cut from.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from ..embeddings import Embedder
from ..settings import offline_environment
from .datasets import load_dataset

SIZE, OVERLAP = 1000, 200


def split(text: str, size: int = SIZE, overlap: int = OVERLAP) -> list[str]:
    """Pieces of at most `size` characters, cut at the coarsest boundary that fits, consecutive
    pieces sharing up to `overlap` characters (whole words)."""
    words = re.findall(r"\S+\s*", text)
    chunks, current = [], []
    for word in words:
        if current and len("".join(current)) + len(word) > size:
            chunks.append("".join(current).strip())
            kept: list[str] = []
            for w in reversed(current):  # the tail of the last chunk, up to `overlap` characters
                if len("".join(kept)) + len(w) > overlap:
                    break
                kept.insert(0, w)
            current = kept
        current.append(word[:size])
    if current and "".join(current).strip():
        chunks.append("".join(current).strip())
    return chunks


def run(folder: Path) -> dict:
    from pypdf import PdfReader
    import faiss

    dataset = load_dataset(folder)
    chunks: list[tuple[str, int, str]] = []  # (file stem, 1-based page, text)
    from pypdf.errors import DependencyError

    for pdf in sorted(dataset.corpus_dir.glob("*.pdf")):
        try:
            for page, content in enumerate(PdfReader(str(pdf)).pages, start=1):
                chunks += [(pdf.stem, page, c) for c in split(content.extract_text() or "")]
        except DependencyError as err:  # an AES-encrypted filing: pypdf needs the cryptography package
            raise SystemExit(f"error: {pdf.name}: {err} (pip install cryptography)") from None
    embedder = Embedder(backend="torch")
    vectors = embedder.encode([c[2] for c in chunks]).astype(np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    ids = list(dataset.evidence)
    _, found = index.search(embedder.encode([dataset.queries[q] for q in ids]).astype(np.float32), 3)
    on_page = [[chunks[i][0] == dataset.evidence[q][0] and chunks[i][1] in dataset.evidence[q][1] for i in row]
               for q, row in zip(ids, found)]
    return {"questions": len(ids), "chunks": len(chunks), "page@1": round(float(np.mean([r[0] for r in on_page])), 4),
            "page@3": round(float(np.mean([any(r) for r in on_page])), 4),
            "right_file_first": round(float(np.mean([chunks[row[0]][0] == dataset.evidence[q][0] for q, row in zip(ids, found)])), 4)}


def main() -> None:
    offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    print(json.dumps(run(parser.parse_args().dataset), indent=1))


if __name__ == "__main__":
    main()
