"""Greedy, sampling and beam search over the model contract (`contract.SearchModel`: encode, first state, step).

Every search is batched; sentences that finish leave the batch (their rows are dropped from the state), and the
last step allowed for a sentence (ratio * source length + extra) admits only EOS, so each output ends in EOS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List

import torch

from seq2seq.config import DecodingConfig, Strategy
from seq2seq.decoding.contract import Search, SearchModel
from seq2seq.text import BOS, EOS, PAD


@dataclass
class Hypothesis:
    tokens: List[int]  # without BOS and EOS
    score: float  # log-probability, divided by the length penalty for beam search
    attention: torch.Tensor | None = None  # [len + 1, S] weights per output step (greedy, when asked)


def max_lengths(src_lengths: torch.Tensor, ratio: float, extra: int) -> torch.Tensor:
    """Most output tokens (EOS included) per sentence, [B]."""
    return (src_lengths.float() * ratio).long() + extra


def _allowed(log_probs: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """Never PAD or BOS; on rows at their last allowed step (mask [N] bool) nothing but EOS.

    Works in place on the fresh [N, V] tensor a model step returns (a copy of it per step cost as much as the
    log-softmax in beam search) and returns it.
    """
    log_probs[:, [PAD, BOS]] = float("-inf")
    if last.any():
        rows = last.nonzero().squeeze(1)
        eos = log_probs[rows, EOS]
        log_probs[rows] = float("-inf")
        log_probs[rows, EOS] = eos
    return log_probs


@torch.no_grad()
def greedy_or_sample(model: SearchModel, task: str, src: torch.Tensor, src_lengths: torch.Tensor, max_len: torch.Tensor,
                     temperature: float | None = None, generator: torch.Generator | None = None,
                     keep_attention: bool = False) -> List[Hypothesis]:
    """Argmax decoding, or ancestral sampling when `temperature` is given."""
    batch = src.size(0)
    memory, state = model.first_state(task, model.encode(task, src, src_lengths))
    tokens = torch.full((batch,), BOS, dtype=torch.long, device=src.device)
    alive = torch.arange(batch, device=src.device)  # original row of each active row
    outputs: List[List[int]] = [[] for _ in range(batch)]
    scores = [0.0] * batch
    attention: List[List[torch.Tensor]] = [[] for _ in range(batch)]
    step = 0
    while alive.numel() > 0:
        log_probs, state, weights = model.step(task, tokens, state, memory)
        log_probs = _allowed(log_probs, max_len[alive] - 1 <= step)
        if temperature is None:
            chosen = log_probs.argmax(dim=-1)
        else:
            probs = torch.softmax(log_probs / temperature, dim=-1)
            chosen = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        chosen_scores = log_probs.gather(1, chosen.unsqueeze(1)).squeeze(1)
        for row, (orig, tok, sc) in enumerate(zip(alive.tolist(), chosen.tolist(), chosen_scores.tolist())):
            outputs[orig].append(tok)
            scores[orig] += sc
            if keep_attention and weights is not None:
                attention[orig].append(weights[row])
        keep = chosen != EOS
        step += 1
        if not bool(keep.all()):
            index = keep.nonzero().squeeze(1)
            alive, chosen = alive[index], chosen[index]
            memory, state = memory.reorder(index), state.reorder(index)
        tokens = chosen
    return [Hypothesis(out[:-1], sc, torch.stack(att) if att else None)
            for out, sc, att in zip(outputs, scores, attention)]


def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ((5 + |Y|) / 6) ** alpha (Wu et al. 2016); |Y| counts EOS."""
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def beam_search(model: SearchModel, task: str, src: torch.Tensor, src_lengths: torch.Tensor, max_len: torch.Tensor,
                beam: int, alpha: float = 0.0, n_best: int = 1, exact: bool = False) -> List[List[Hypothesis]]:
    """Batched beam search; returns the `n_best` hypotheses per sentence, best first.

    A sentence stops once it has `n_best` finished hypotheses and its best live one cannot beat the `n_best`-th.
    Live scores only fall, so without a length penalty (alpha = 0) that test is exact. With one, a longer
    hypothesis is divided by a larger penalty, so its normalised score can still rise: `exact` bounds it by the
    largest penalty a sentence allows (with a beam as large as the candidates per step the result is then the
    exhaustive-search optimum), otherwise by the penalty of ending at the next step, the usual rule (as in
    Hugging Face's default).
    The encoder memory is the same for every beam of a sentence, so it is reordered only when sentences leave
    the batch, never when beams swap.
    """
    batch, device = src.size(0), src.device
    memory, state = model.first_state(task, model.encode(task, src, src_lengths))
    expand = torch.arange(batch, device=device).repeat_interleave(beam)
    memory, state = memory.reorder(expand), state.reorder(expand)
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # all beams start identical: keep one
    seqs = torch.full((batch * beam, 1), BOS, dtype=torch.long, device=device)
    alive = torch.arange(batch, device=device)  # original sentence of each active sentence
    finished: List[List[Hypothesis]] = [[] for _ in range(batch)]
    # the n_best-th best finished score per sentence (-inf until it has n_best), for the stopping test
    nth_best = torch.full((batch,), float("-inf"), device=device)
    limit = max_len.to(device)
    # what the best live hypothesis can still reach: at most its score / the largest length penalty (exact)
    widest = torch.tensor([length_penalty(int(n), alpha) for n in limit.tolist()], device=device) if exact else None
    in_beam = torch.arange(2 * beam, device=device).unsqueeze(0) < beam
    step = 0
    while alive.numel() > 0:
        active = alive.numel()
        log_probs, state, _ = model.step(task, seqs[:, -1], state, memory)  # [active * beam, V]
        vocab = log_probs.size(-1)
        last_step = (limit[alive] - 1 <= step).repeat_interleave(beam)
        log_probs = _allowed(log_probs, last_step)
        candidates = log_probs.view(active, beam, vocab).add_(scores.unsqueeze(2)).view(active, -1)
        top_scores, top_index = candidates.topk(2 * beam, dim=1)  # at most `beam` of them end in EOS
        origin, token = top_index // vocab, top_index % vocab  # [active, 2 * beam]
        ends = token == EOS
        # a hypothesis ends only when its EOS is among the best `beam` candidates (so beam 1 is greedy search)
        ending = (ends & in_beam & torch.isfinite(top_scores)).nonzero().tolist()
        if ending:
            origins, raws, sentences = origin.tolist(), top_scores.tolist(), alive.tolist()
            for a, c in ending:
                tokens = seqs[a * beam + origins[a][c], 1:].tolist()
                done_list = finished[sentences[a]]
                done_list.append(Hypothesis(tokens, raws[a][c] / length_penalty(len(tokens) + 1, alpha)))
                if len(done_list) >= n_best:
                    nth_best[sentences[a]] = sorted(h.score for h in done_list)[-n_best]
        # the best `beam` candidates that do not end in EOS continue
        rank = torch.where(ends, torch.full_like(top_scores, float("inf")),
                           torch.arange(2 * beam, device=device, dtype=top_scores.dtype).expand(active, -1))
        pick = rank.argsort(dim=1, stable=True)[:, :beam]
        scores = top_scores.gather(1, pick).masked_fill(ends.gather(1, pick), float("-inf"))
        rows = (torch.arange(active, device=device).unsqueeze(1) * beam + origin.gather(1, pick)).view(-1)
        seqs = torch.cat([seqs.index_select(0, rows), token.gather(1, pick).view(-1, 1)], dim=1)
        state = state.reorder(rows)
        step += 1
        # which sentences are done: no live hypothesis left, or none that can still beat the n_best-th finished
        best_live = scores.max(dim=1).values
        divisor = widest[alive] if exact else length_penalty(step + 1, alpha)
        bound = torch.where(best_live < 0, best_live / divisor, best_live)
        done = torch.isneginf(best_live) | (nth_best[alive] >= bound)
        if bool(done.any()):
            index = (~done).nonzero().squeeze(1)
            rows = (index.unsqueeze(1) * beam + torch.arange(beam, device=device)).view(-1)
            alive, scores, seqs = alive[index], scores[index], seqs[rows]
            memory, state = memory.reorder(rows), state.reorder(rows)
    return [sorted(hyps, key=lambda h: -h.score)[:n_best] for hyps in finished]


@dataclass(frozen=True)
class Greedy:
    """Greedy search, or sampling at `temperature` from `generator` (a Search)."""

    temperature: float | None = None
    generator: torch.Generator | None = None

    def __call__(self, model: SearchModel, task: str, src: torch.Tensor, src_lengths: torch.Tensor,
                 max_len: torch.Tensor, keep_attention: bool = False) -> List[List[Hypothesis]]:
        return [[h] for h in greedy_or_sample(model, task, src, src_lengths, max_len, self.temperature,
                                              self.generator, keep_attention)]


@dataclass(frozen=True)
class Beam:
    """Beam search (a Search); it keeps no attention weights."""

    beam_size: int = 5
    alpha: float = 1.0
    n_best: int = 1
    exact: bool = False

    def __call__(self, model: SearchModel, task: str, src: torch.Tensor, src_lengths: torch.Tensor,
                 max_len: torch.Tensor, keep_attention: bool = False) -> List[List[Hypothesis]]:
        return beam_search(model, task, src, src_lengths, max_len, self.beam_size, self.alpha, self.n_best,
                           self.exact)


# decoding.strategy -> the search it means, made from the decoding options (and the sampling generator)
STRATEGIES: Dict[Strategy, Callable[[DecodingConfig, torch.Generator], Search]] = {
    Strategy.greedy: lambda cfg, generator: Greedy(),
    Strategy.sample: lambda cfg, generator: Greedy(cfg.temperature, generator),
    Strategy.beam: lambda cfg, generator: Beam(cfg.beam_size, cfg.length_penalty, cfg.n_best, cfg.exact_stop),
}


def make_search(cfg: DecodingConfig, generator: torch.Generator) -> Search:
    return STRATEGIES[cfg.strategy](cfg, generator)
