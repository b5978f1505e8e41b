"""Tiny models built straight from typed configs, for tests of the model and of search."""

from __future__ import annotations

import torch
from omegaconf import OmegaConf

from seq2seq.config import ModelConfig, TaskConfig, to_typed
from seq2seq.model import Seq2Seq

# the deep layout in miniature (for parametrized tests: tiny_model(**GNMT))
GNMT = {"encoder": {"layout": "gnmt", "layers": 3}, "layout": "gnmt", "layers": 3, "attention": "luong_general"}


def tiny_model(vocab: int = 7, seed: int = 0, encoder: dict | None = None, **decoder) -> Seq2Seq:
    """A random 1-task model over `vocab` symbols; `encoder` and `decoder` override their fields (attention, ...)."""
    cfg = to_typed(OmegaConf.create({
        "name": "tiny",
        "encoder": {"embedding_dim": 8, "hidden_size": 6, "bidirectional": True, "dropout": 0.0, **(encoder or {})},
        "decoder": {"embedding_dim": 8, "hidden_size": 12, "dropout": 0.0, **decoder},
    }), ModelConfig)
    task = TaskConfig(name="t", src="x", tgt="y", encoder="x", decoder="y")
    torch.manual_seed(seed)
    model = Seq2Seq(cfg, [task], {"x": vocab, "y": vocab})
    with torch.no_grad():  # sharpen the output layer so that searches disagree often
        for decoder_module in model.decoders.values():
            decoder_module.output.weight.mul_(6.0)
    return model.eval()
