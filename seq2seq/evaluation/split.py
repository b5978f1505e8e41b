"""Translate one split of a task's corpus and score it: the one routine behind the end of training,
`seq2seq-evaluate checkpoint=...`, the benchmark and the results tables."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping

import torch

from seq2seq.config import DataConfig, DecodingConfig, TaskConfig
from seq2seq.data.corpus import read_split
from seq2seq.data.files import write_lines
from seq2seq.decoding import SearchModel, Translator
from seq2seq.evaluation.scores import corpus_scores
from seq2seq.text import Vocab


@dataclass
class SplitTranslation:
    sources: List[str]
    references: List[str]
    hypotheses: List[str]
    scores: Dict[str, Any]  # corpus_scores: bleu, chrf, ter, signatures
    seconds: float  # decoding time (encode, search, detokenise), without reading the files

    @property
    def sentences_per_second(self) -> float:
        return len(self.sources) / max(self.seconds, 1e-9)


def translate_split(model: SearchModel, vocabs: Mapping[str, Vocab], task: TaskConfig, data: DataConfig,
                    split: str, decoding: DecodingConfig, device: torch.device, run_dir: Path,
                    output: Path | None = None) -> SplitTranslation:
    """Translate the split file prefix `split` of the task's own corpus (`data` = `task_data(...)`) and score it
    against its references; the translations are also written to `output` when given."""
    sources, references = read_split(data, task, split, run_dir)
    translator = Translator(model, task.name, vocabs[task.src], vocabs[task.tgt], decoding, device)
    start = time.perf_counter()
    hypotheses = translator.translate_lines(sources)
    seconds = time.perf_counter() - start
    if output is not None:
        write_lines(output, hypotheses)
    return SplitTranslation(sources, references, hypotheses, corpus_scores(hypotheses, references), seconds)
