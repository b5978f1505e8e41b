"""What a search needs from a model: encode a batch, the decoder's first state, one decoding step.

`Seq2Seq` satisfies it, and so can anything else that speaks it (an ensemble of models, a quantized copy): greedy,
sampling and beam search are written against this contract only.
"""

from __future__ import annotations

from typing import Any, Protocol, Tuple, TypeVar

import torch

S = TypeVar("S", bound="Reorderable")


class Reorderable(Protocol):
    """Per-row search state (decoder state, encoder memory): rows are selected, repeated or reordered together."""

    def reorder(self: S, index: torch.Tensor) -> S:
        """The rows `index` [N] of every tensor held, in that order."""
        ...


class SearchModel(Protocol):
    def encode(self, task: str, src: torch.Tensor, src_lengths: torch.Tensor) -> Any:
        """src [B, S] padded source ids, src_lengths [B] -> the encoded batch (passed on to `first_state`)."""
        ...

    def first_state(self, task: str, encoded: Any) -> Tuple[Reorderable, Reorderable]:
        """(memory the decoder reads at every step, decoder state before the first target token)."""
        ...

    def step(self, task: str, tokens: torch.Tensor, state: Any,
             memory: Any) -> Tuple[torch.Tensor, Reorderable, torch.Tensor | None]:
        """tokens [N] -> log-probabilities [N, V], the next state, attention weights [N, S] (or None)."""
        ...
