"""One model holding named encoders and decoders; a task is a (encoder, decoder) pair. One task = plain seq2seq."""

from __future__ import annotations

from typing import Dict, Mapping, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from seq2seq.config import ModelConfig, TaskConfig
from seq2seq.data.batching import Batch
from seq2seq.errors import ConfigError
from seq2seq.model.decoder import Decoder, DecoderState, Memory
from seq2seq.model.encoder import Encoder, EncoderOutput
from seq2seq.text import PAD


class Seq2Seq(nn.Module):
    def __init__(self, cfg: ModelConfig, tasks: Sequence[TaskConfig], vocab_sizes: Mapping[str, int]):
        super().__init__()
        self.cfg = cfg
        self.tasks: Dict[str, TaskConfig] = {}
        encoders: Dict[str, Encoder] = {}
        decoders: Dict[str, Decoder] = {}
        for task in tasks:
            self.tasks[task.name] = task
            if task.encoder not in encoders:
                encoders[task.encoder] = Encoder(cfg.encoder, vocab_sizes[task.src])
            if task.decoder not in decoders:
                decoders[task.decoder] = Decoder(cfg.decoder, vocab_sizes[task.tgt],
                                                 encoders[task.encoder].output_size, cfg.encoder.cell)
        self.encoders = nn.ModuleDict(encoders)
        self.decoders = nn.ModuleDict(decoders)
        if cfg.share_embeddings:
            self._share_embeddings()
        self.reset_parameters()

    def _share_embeddings(self) -> None:
        """One table per language: every encoder reading it and every decoder writing it hold the same module."""
        tables: Dict[str, nn.Embedding] = {}
        owner: Dict[Tuple[str, str], str] = {}  # (encoders|decoders, module name) -> its language
        for spec in self.tasks.values():
            for side, name, lang in (("encoders", spec.encoder, spec.src), ("decoders", spec.decoder, spec.tgt)):
                if owner.setdefault((side, name), lang) != lang:
                    raise ConfigError(f"model.share_embeddings: {side[:-1]} '{name}' reads languages "
                                      f"{owner[(side, name)]} and {lang}; give each language its own {side[:-1]}")
                module = getattr(self, side)[name]
                module.embed = tables.setdefault(lang, module.embed)
                if side == "decoders" and module.cfg.tie_embeddings:
                    module.output.weight = module.embed.weight

    def reset_parameters(self) -> None:
        for param in self.parameters():
            if self.cfg.init_scale > 0:
                nn.init.uniform_(param, -self.cfg.init_scale, self.cfg.init_scale)
            elif param.dim() > 1:
                nn.init.xavier_uniform_(param)
            else:
                nn.init.zeros_(param)
        default = self.cfg.init_scale == 0
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, nn.Embedding):
                    if default:
                        nn.init.normal_(module.weight, std=module.embedding_dim ** -0.5)
                    if module.padding_idx is not None:
                        module.weight[module.padding_idx].zero_()
                elif isinstance(module, nn.LSTM) and default:  # forget gate (i, f, g, o order) opens at the start
                    for name, param in module.named_parameters():
                        if name.startswith("bias_ih"):
                            param[module.hidden_size:2 * module.hidden_size].fill_(1.0)

    def modules_of(self, task: str) -> Tuple[Encoder, Decoder]:
        """The encoder and decoder a task uses."""
        spec = self.tasks[task]
        return self.encoders[spec.encoder], self.decoders[spec.decoder]

    def encode(self, task: str, src: torch.Tensor, src_lengths: torch.Tensor) -> EncoderOutput:
        """src [B, S] (padded), src_lengths [B] -> the task's encoder states and context vector."""
        return self.modules_of(task)[0](src, src_lengths)

    def first_state(self, task: str, encoded: EncoderOutput) -> Tuple[Memory, DecoderState]:
        """What the decoder reads (attention memory, context) and its state before the first target token."""
        return self.modules_of(task)[1].prepare(encoded)

    def step(self, task: str, tokens: torch.Tensor, state: DecoderState,
             memory: Memory) -> Tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        """tokens [B] -> log-probabilities [B, V], next state, attention weights [B, S] or None."""
        logits, state, weights = self.decoders[self.tasks[task].decoder].step(tokens, state, memory)
        return torch.log_softmax(logits.float(), dim=-1), state, weights

    def forward(self, task: str, batch: Batch, label_smoothing: float = 0.0) -> torch.Tensor:
        """The training loss (so that DistributedDataParallel, which hooks `forward`, can wrap the model)."""
        return self.loss(task, batch, label_smoothing)

    def loss(self, task: str, batch: Batch, label_smoothing: float = 0.0) -> torch.Tensor:
        """Summed cross-entropy over the batch's real target tokens (divide by `batch.n_tgt_tokens`)."""
        _, decoder = self.modules_of(task)
        memory, state = self.first_state(task, self.encode(task, batch.src, batch.src_lengths))
        hidden = decoder(batch.tgt_in, memory, state)  # [B, T, H]
        real = batch.tgt_out != PAD
        logits = decoder.output(hidden[real])  # [N, V]: the softmax only where a token is predicted
        return F.cross_entropy(logits.float(), batch.tgt_out[real], reduction="sum",
                               label_smoothing=label_smoothing)

    def sentence_log_probs(self, task: str, batch: Batch) -> torch.Tensor:
        """[B] natural-log probability of each target sentence (its pieces and EOS) given its source."""
        _, decoder = self.modules_of(task)
        memory, state = self.first_state(task, self.encode(task, batch.src, batch.src_lengths))
        logits = decoder.output(decoder(batch.tgt_in, memory, state))  # [B, T, V]
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        picked = log_probs.gather(2, batch.tgt_out.unsqueeze(2)).squeeze(2)  # [B, T]
        return picked.masked_fill(batch.tgt_out == PAD, 0.0).sum(dim=1)

    def parameter_counts(self) -> Dict[str, Dict[str, int]]:
        def count(module: nn.Module) -> int:
            return sum(p.numel() for p in module.parameters())

        return {"encoders": {name: count(m) for name, m in self.encoders.items()},
                "decoders": {name: count(m) for name, m in self.decoders.items()},
                "total": count(self)}

