"""Stage 3: passages and questions as normalised vectors.

- `encoder.py`  the `Encoder` protocol and `Embedder` (sentence-transformers, or the same model as int8 ONNX)
- `onnx.py`     the int8 ONNX export and runtime
- `openvino.py` the same graph as OpenVINO int8 with calibrated ranges (optional extra)
- `mpnet.py`    the optional all-mpnet-base-v2 model, assembled from its PyPI parts
"""

from .encoder import Embedder, Encoder, resolve_model

__all__ = ["Embedder", "Encoder", "resolve_model"]
