"""Export a trained reader checkpoint as the int8 ONNX file the package ships.

    python -m quoteback.training.export [--run DIR] [--out FILE]

torch's TorchScript exporter (opset 17, batch and length dynamic), then onnxruntime's dynamic
int8 quantisation per channel, as the embedding backend does; writes beside it a record of the
file (sha256, size, steps and settings trained with) and prints its size and sha256.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import warnings
from pathlib import Path

from ..embeddings.encoder import resolve_model
from ..reader import READER_FILE, file_sha256
from ..settings import DEFAULT_MODEL, offline_environment
from .mine import default_run


def load_checkpoint(run: Path):  # noqa: ANN201 - a torch module
    import torch

    from .model import CrossEncoder

    state = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = CrossEncoder(Path(resolve_model(DEFAULT_MODEL)), state["settings"]["layers"])
    model.load_trained(state["model"])
    return model.eval(), state


def export(run: Path, out: Path) -> Path:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model, state = load_checkpoint(run)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.tensor([[101, 2054, 102, 7592, 2088, 102], [101, 2054, 102, 7592, 102, 0]])
    inputs = (example, (example > 0).long(), torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0]]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "reader.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, inputs, str(plain), input_names=names, output_names=["logit"], opset_version=17, dynamo=False,
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "logit": {0: "batch"}})
        logging.disable(logging.WARNING)
        try:
            quantize_dynamic(str(plain), str(Path(tmp) / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
        (Path(tmp) / "int8.onnx").replace(out)
    record = {"file": out.name, "sha256": file_sha256(out), "bytes": out.stat().st_size, "base": DEFAULT_MODEL,
              "steps": state["step"], "settings": state["settings"],
              "mean_loss_last_100": round(sum(state["losses"][-100:]) / max(1, len(state["losses"][-100:])), 4)}
    out.with_suffix("").with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    return out


def main() -> None:
    offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=default_run())
    parser.add_argument("--out", type=Path, default=READER_FILE)
    parser.add_argument("--weights", type=Path, help="also save the trained weights alone (float16) here, for --init")
    args = parser.parse_args()
    if args.weights:
        import torch

        model, _ = load_checkpoint(args.run)
        torch.save({k: v.half() for k, v in model.trained_state().items()}, args.weights)
    path = export(args.run, args.out)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, sha256 {file_sha256(path)}")


if __name__ == "__main__":
    main()
