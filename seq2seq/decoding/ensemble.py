"""An ensemble of models behind the search contract: every step averages the models' log-probabilities (and
renormalises), so greedy, beam and sampling decode an ensemble exactly as they decode one model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Sequence, Tuple

import torch

from seq2seq.decoding.contract import SearchModel


@dataclass
class EnsembleState:
    """One search state (or encoder memory) per model, reordered together."""

    parts: List[Any]

    def reorder(self, index: torch.Tensor) -> EnsembleState:
        return EnsembleState([part.reorder(index) for part in self.parts])


class Ensemble:
    """Models that share the source and target vocabularies, each with the name of its task (a multi-task run
    and a single-task run may call the same pair differently); the `task` the search passes is not used."""

    def __init__(self, members: Sequence[Tuple[SearchModel, str]]):
        self.members = list(members)

    def encode(self, task: str, src: torch.Tensor, src_lengths: torch.Tensor) -> List[Any]:
        return [model.encode(name, src, src_lengths) for model, name in self.members]

    def first_state(self, task: str, encoded: List[Any]) -> Tuple[EnsembleState, EnsembleState]:
        firsts = [model.first_state(name, enc) for (model, name), enc in zip(self.members, encoded)]
        return EnsembleState([m for m, _ in firsts]), EnsembleState([s for _, s in firsts])

    def step(self, task: str, tokens: torch.Tensor, state: EnsembleState,
             memory: EnsembleState) -> Tuple[torch.Tensor, EnsembleState, torch.Tensor | None]:
        outputs = [model.step(name, tokens, s, m)
                   for (model, name), s, m in zip(self.members, state.parts, memory.parts)]
        mean = torch.stack([log_probs for log_probs, _, _ in outputs]).mean(dim=0)  # [N, V]
        return torch.log_softmax(mean, dim=-1), EnsembleState([s for _, s, _ in outputs]), outputs[0][2]
