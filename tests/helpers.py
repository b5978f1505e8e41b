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


@torch.no_grad()
def fused_and_stepped(model: Seq2Seq, device: str = "cpu") -> tuple:
    """A fixed two-pair batch's summed loss from teacher forcing, and the same sum from feeding one target token
    at a time through `step` (the search's path): equal when the two paths compute the same model."""
    from seq2seq.data.batching import collate
    from seq2seq.text import PAD

    batch = collate([[4, 5, 6, 5], [6, 4]], [[5, 6, 4], [4, 4, 4, 5, 6]]).to(device)
    total = model.loss("t", batch).item()
    memory, state = model.first_state("t", model.encode("t", batch.src, batch.src_lengths))
    stepped = 0.0
    for t in range(batch.tgt_in.size(1)):
        log_probs, state, _ = model.step("t", batch.tgt_in[:, t], state, memory)
        gold = batch.tgt_out[:, t]
        real = gold != PAD
        stepped -= log_probs[real].gather(1, gold[real].unsqueeze(1)).sum().item()
    return total, stepped
