"""The reader as a torch module: MiniLM's transformer reading a question and a passage together,
its tokens mean-pooled (how MiniLM was trained to pool) into one relevance logit."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

FROZEN = ("embeddings.word_embeddings.weight",)  # the vocabulary stays MiniLM's: faster steps, smaller checkpoints


class CrossEncoder(torch.nn.Module):
    def __init__(self, model_dir: Path, layers: int = 6) -> None:
        super().__init__()
        from transformers import AutoModel

        self.encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
        self.encoder.encoder.layer = self.encoder.encoder.layer[:layers]
        self.encoder.config.num_hidden_layers = layers
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)
        torch.nn.init.normal_(self.head.weight, std=0.02)
        torch.nn.init.zeros_(self.head.bias)
        for name, weight in self.encoder.named_parameters():
            weight.requires_grad = name not in FROZEN

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    def trained_state(self) -> dict[str, torch.Tensor]:
        """The weights training changes (everything but the frozen vocabulary)."""
        return {k: v for k, v in self.state_dict().items() if k.removeprefix("encoder.") not in FROZEN}

    def load_trained(self, state: dict[str, torch.Tensor]) -> None:
        missing, unexpected = self.load_state_dict(state, strict=False)
        if unexpected or any(k.removeprefix("encoder.") not in FROZEN for k in missing):
            raise ValueError(f"checkpoint does not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}")


def encode_pairs(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded ids, attention mask and token types of (question, passage) pairs, for a batch."""
    encoded = tokenizer.encode_batch(list(pairs))
    width = max(len(e.ids) for e in encoded)
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    mask, types = np.zeros_like(ids), np.zeros_like(ids)
    for i, e in enumerate(encoded):
        ids[i, : len(e.ids)], mask[i, : len(e.ids)], types[i, : len(e.ids)] = e.ids, 1, e.type_ids
    return ids, mask, types
