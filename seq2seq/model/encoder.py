"""The encoder: embeddings and a (bidirectional, stacked) RNN whose final states form the context vector.

Layouts: `stacked`, one RNN module of `layers` layers (each bidirectional when asked); `gnmt` (Wu et al. 2016), a
bidirectional first layer, unidirectional layers above it and residual connections from the third layer on, every
layer one fused call over the packed batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seq2seq.config import Cell, EncoderConfig, Layout
from seq2seq.text import PAD

CELLS = {Cell.lstm: nn.LSTM, Cell.gru: nn.GRU, Cell.rnn: nn.RNN}


@dataclass
class EncoderOutput:
    states: torch.Tensor  # [B, S, D*H] top-layer states, both directions concatenated
    mask: torch.Tensor  # [B, S] True on real tokens
    final_h: torch.Tensor  # [L, B, D*H] final hidden state of every layer (gnmt: of the top layer, [1, B, H])
    final_c: torch.Tensor | None  # final LSTM cell states likewise, None for GRU/RNN

    @property
    def context(self) -> torch.Tensor:
        """The context vector: the top layer's final state, [B, D*H]."""
        return self.final_h[-1]


def reverse_padded(tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first `length` tokens, leaving padding at the end. [B, S] -> [B, S]."""
    positions = torch.arange(tokens.size(1), device=tokens.device).unsqueeze(0)  # [1, S]
    flipped = lengths.unsqueeze(1) - 1 - positions
    index = torch.where(flipped >= 0, flipped, positions)
    return tokens.gather(1, index)


class Encoder(nn.Module):
    def __init__(self, cfg: EncoderConfig, vocab_size: int):
        super().__init__()
        self.cfg = cfg
        self.directions = 2 if cfg.bidirectional else 1
        self.embed = nn.Embedding(vocab_size, cfg.embedding_dim, padding_idx=PAD)
        self.dropout = nn.Dropout(cfg.dropout)
        cell, hidden = CELLS[cfg.cell], cfg.hidden_size
        if cfg.layout == Layout.gnmt:
            self.output_size = hidden
            self.layers = nn.ModuleList(
                [cell(cfg.embedding_dim, hidden, batch_first=True, bidirectional=True),
                 *(cell(2 * hidden if i == 1 else hidden, hidden, batch_first=True) for i in range(1, cfg.layers))])
        else:
            self.output_size = hidden * self.directions
            self.rnn = cell(cfg.embedding_dim, hidden, num_layers=cfg.layers, batch_first=True,
                            bidirectional=cfg.bidirectional, dropout=cfg.dropout if cfg.layers > 1 else 0.0)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        """src [B, S] token ids, lengths [B] -> EncoderOutput."""
        if self.cfg.reverse_source:
            src = reverse_padded(src, lengths)
        mask = src != PAD
        embedded = self.dropout(self.embed(src))  # [B, S, E]
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        if self.cfg.layout == Layout.gnmt:
            outputs, (h, c) = self._gnmt(packed)
        else:
            outputs, hidden = self.rnn(packed)
            h, c = hidden if isinstance(hidden, tuple) else (hidden, None)
            h, c = self._join_directions(h), None if c is None else self._join_directions(c)
        states, _ = pad_packed_sequence(outputs, batch_first=True, total_length=src.size(1))
        return EncoderOutput(self.dropout(states), mask, h, c)

    def _gnmt(self, packed: PackedSequence) -> Tuple[PackedSequence, Tuple[torch.Tensor, torch.Tensor | None]]:
        """The gnmt layers over a packed batch -> top-layer outputs and final states ([1, B, H] each)."""
        outputs, hidden = self.layers[0](packed)
        for i, layer in enumerate(self.layers[1:], start=2):
            inputs = outputs._replace(data=self.dropout(outputs.data))
            new, hidden = layer(inputs)
            outputs = new._replace(data=new.data + outputs.data) if i >= 3 else new  # residual from layer 3 on
        h, c = hidden if isinstance(hidden, tuple) else (hidden, None)
        return outputs, (h, c)

    def _join_directions(self, state: torch.Tensor) -> torch.Tensor:
        """[L*D, B, H] -> [L, B, D*H]."""
        layers, batch = self.cfg.layers, state.size(1)
        state = state.view(layers, self.directions, batch, self.cfg.hidden_size)
        return state.permute(0, 2, 1, 3).reshape(layers, batch, self.output_size)
