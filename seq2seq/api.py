"""The Python API: load a trained run and translate or score text with it, no Hydra needed.

    from seq2seq import load
    model = load("runs/attn")                       # a run folder or a checkpoint folder (pair= for multi-task)
    model.translate(["Ein Mann fährt Rad."], strategy="beam", beam_size=5)
    model.score(["Ein Mann fährt Rad."], ["A man rides a bike."])   # natural-log probabilities
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, List, Sequence

import torch

from seq2seq.config import DecodingConfig
from seq2seq.config.options import from_options
from seq2seq.data.batching import collate
from seq2seq.data.files import clean_line
from seq2seq.errors import ConfigError, DataError
from seq2seq.runs.device import pick_device
from seq2seq.runs.trained import Trained, load_trained, make_translator


def text_lines(lines: Any, key: str = "lines") -> List[str]:
    """A list of strings from a list or tuple of strings; one string (which would be read a character a line),
    None or other values are refused in one line."""
    if isinstance(lines, str) or not isinstance(lines, (list, tuple)):
        hint = " (one sentence: wrap it, [text])" if isinstance(lines, str) else ""
        raise ConfigError(f"{key}: must be a list of strings, got {type(lines).__name__}{hint}")
    bad = next((i for i, line in enumerate(lines) if not isinstance(line, str)), None)
    if bad is not None:
        raise ConfigError(f"{key}[{bad}]: must be a string, got {lines[bad]!r}")
    return list(lines)


class Model:
    """One task of a trained run: `translate` as seq2seq-translate prints it, `score` as seq2seq-score."""

    def __init__(self, trained: Trained, pair: str | None, device: torch.device):
        self.trained, self.device = trained, device
        self.task = trained.task(pair)
        self.src_vocab, self.tgt_vocab = trained.vocabs[self.task.src], trained.vocabs[self.task.tgt]

    def decoding(self, strategy: str = "greedy", **options: Any) -> DecodingConfig:
        """A checked DecodingConfig from keyword options (the keys of `decoding.` on the command line), each of
        its field's type: the same checks and one-line errors as the command line's."""
        return from_options(DecodingConfig, {"strategy": strategy, **options}, "decoding")

    def translate(self, lines: Sequence[str], strategy: str = "greedy", **options: Any) -> List[str]:
        """The output lines seq2seq-translate prints for `lines` with `decoding=STRATEGY decoding.KEY=VALUE...`
        (one per input line; `INDEX ||| text ||| score` lines with n_best > 1)."""
        return self.translate_with(lines, self.decoding(strategy, **options))

    def translate_with(self, lines: Sequence[str], decoding: DecodingConfig) -> List[str]:
        """`translate` with a DecodingConfig already made (and checked)."""
        lines = text_lines(lines)
        translator = make_translator(self.trained, self.task, decoding, self.device)
        translator.long_limit = self.trained.info.data.max_length  # longer training pairs were filtered out
        out = list(translator.format(lines, 0))
        note = translator.long_line_note()
        if note:  # what seq2seq-translate prints on stderr, as a warning a program can filter or turn into an error
            warnings.warn(note, UserWarning, stacklevel=3)
        return out

    @torch.no_grad()
    def score(self, sources: Sequence[str], targets: Sequence[str], batch_size: int = 64) -> List[float]:
        """log P(target | source) per pair: natural log, summed over the target's pieces and end of sentence."""
        sources, targets = text_lines(sources, "sources"), text_lines(targets, "targets")
        if len(sources) != len(targets):
            raise DataError(f"score: {len(sources)} sources but {len(targets)} targets; give one target per source")
        cleaned = [clean_line(s) for s in sources]
        empty = next((i for i, s in enumerate(cleaned) if not s), None)
        if empty is not None:
            raise DataError(f"score: source {empty + 1} is empty; a translation probability needs a source sentence")
        src_ids = self.src_vocab.encode(cleaned)
        tgt_ids = self.tgt_vocab.encode([clean_line(t) for t in targets])
        order = sorted(range(len(src_ids)), key=lambda i: -len(src_ids[i]))
        scores = [0.0] * len(src_ids)
        model = self.trained.model.eval()
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = collate([src_ids[i] for i in chunk], [tgt_ids[i] for i in chunk]).to(self.device)
            for i, value in zip(chunk, model.sentence_log_probs(self.task.name, batch).tolist()):
                scores[i] = value
        return scores

    def target_tokens(self, targets: Sequence[str]) -> int:
        """Pieces scored for these targets, end of sentence included (the perplexity's denominator)."""
        return sum(len(ids) + 1 for ids in self.tgt_vocab.encode([clean_line(t) for t in targets]))


def load(path: str | Path, pair: str | None = None, task: str | None = None, device: str = "auto",
         threads: int = 0) -> Model:
    """A trained run (its best checkpoint) or a checkpoint folder; `pair` / `task` picks the task of a
    multi-task run by name or as SRC-TGT."""
    if pair is not None and task is not None and pair != task:
        raise ConfigError(f"pair: give pair= or task=, not both ({pair!r}, {task!r})")
    if not isinstance(path, (str, Path)):
        raise ConfigError(f"load: give a run or checkpoint folder (a path), got {path!r}")
    torch_device = pick_device(device, threads)
    return Model(load_trained(Path(path), torch_device), pair or task, torch_device)
