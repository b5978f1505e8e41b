"""What a search needs from a model (encode a batch, the decoder's first state, one decoding step), and what a
search is to its caller (a batch of sources in, n-best hypotheses out).

`Seq2Seq` satisfies the model side, and so can anything else that speaks it (an ensemble of models, a quantized
copy): greedy, sampling and beam search are written against this contract only, and the Translator calls whichever
`Search` the decoding options name.
"""

from __future__ import annotations

from typing import Any, List, Protocol, Tuple, TypeVar

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


class Search(Protocol):
    def __call__(self, model: SearchModel, task: str, src: torch.Tensor, src_lengths: torch.Tensor,
                 max_len: torch.Tensor, keep_attention: bool = False) -> List[List[Any]]:
        """src [B, S] padded source ids, src_lengths [B], max_len [B] output tokens allowed (EOS included) -> the
        n-best hypotheses (decoding.search.Hypothesis) of each sentence, best first; `keep_attention` asks for
        each hypothesis's attention weights where the search keeps them."""
        ...
