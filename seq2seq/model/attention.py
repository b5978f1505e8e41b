"""Attention over encoder states: Bahdanau (additive) and Luong (dot, general) scores, padding always masked."""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from seq2seq.config import AttentionType


class Attention(nn.Module):
    """score(query, key) -> softmax over real source positions -> weighted sum of values.

    Keys are projected once per batch (`project_keys`), not once per decoder step.
    """

    def __init__(self, kind: AttentionType, query_size: int, key_size: int):
        super().__init__()
        self.kind = kind
        if kind == AttentionType.luong_dot and query_size != key_size:
            raise ValueError(f"luong_dot attention needs equal sizes, got query {query_size} and key {key_size}")
        if kind == AttentionType.luong_general:
            self.key_projection = nn.Linear(key_size, query_size, bias=False)
        elif kind == AttentionType.bahdanau:
            self.key_projection = nn.Linear(key_size, query_size, bias=False)
            self.query_projection = nn.Linear(query_size, query_size, bias=True)
            self.energy = nn.Linear(query_size, 1, bias=False)

    def project_keys(self, states: torch.Tensor) -> torch.Tensor:
        """[B, S, K] encoder states -> [B, S, Q] keys (the states themselves for dot attention)."""
        if self.kind == AttentionType.luong_dot:
            return states
        return self.key_projection(states)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """query [B, T, Q], keys [B, S, Q], values [B, S, K], mask [B, S] (True = real token).

        Returns context [B, T, K] and weights [B, T, S] (exactly zero on padding).
        """
        if self.kind == AttentionType.bahdanau:
            # [B, T, 1, Q] + [B, 1, S, Q] -> [B, T, S]
            energy = torch.tanh(self.query_projection(query).unsqueeze(2) + keys.unsqueeze(1))
            scores = self.energy(energy).squeeze(-1)
        else:
            scores = torch.bmm(query, keys.transpose(1, 2))  # [B, T, S]
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights, values), weights
