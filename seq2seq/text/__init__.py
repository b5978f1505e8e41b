"""SentencePiece models trained inside the toolkit, and the special token ids every model shares."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import sentencepiece as spm

from seq2seq.atomic import write_atomic
from seq2seq.config import SentencePieceConfig
from seq2seq.errors import DataError

log = logging.getLogger(__name__)

UNK, PAD, BOS, EOS = 0, 1, 2, 3
BT_TAG = "<bt>"  # starts a tagged back-translated source (data.back_translation_tag): one piece of its model
THREADS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass
class Vocab:
    """A SentencePiece model: raw text in, ids out, and back to detokenised text."""

    processor: spm.SentencePieceProcessor
    path: Path

    @classmethod
    def load(cls, path: Path) -> Vocab:
        if not path.is_file():
            raise DataError(f"{path}: SentencePiece model not found")
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(path.read_bytes())
        except Exception:
            raise DataError(f"{path}: not a SentencePiece model (corrupt or foreign file)") from None
        if (processor.pad_id(), processor.bos_id(), processor.eos_id()) != (PAD, BOS, EOS):
            raise DataError(f"{path}: SentencePiece model has special ids other than pad=1 bos=2 eos=3")
        return cls(processor, path)

    @functools.cached_property
    def digest(self) -> str:
        """sha256 of the model file: what a prepared corpus was encoded with, what an ensemble must share."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def __len__(self) -> int:
        return self.processor.get_piece_size()

    def encode(self, lines: Sequence[str]) -> List[List[int]]:
        return self.processor.encode(list(lines), num_threads=THREADS)

    def decode(self, ids: Sequence[Sequence[int]]) -> List[str]:
        return self.processor.decode([[i for i in seq if i > EOS] for seq in ids])

    def pieces(self, ids: Sequence[int]) -> List[str]:
        return [self.processor.id_to_piece(int(i)) for i in ids]


def train_sentencepiece(lines: List[str], path: Path, cfg: SentencePieceConfig, seen: int,
                        symbols: Sequence[str] = ()) -> Vocab:
    """Train a model on `lines` (a sample of `seen` sentences) and write it to `path` (atomically); each of
    `symbols` is always one piece."""
    extra = {"user_defined_symbols": list(symbols)} if symbols else {}
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_writer=model,
            vocab_size=cfg.vocab_size,
            model_type=cfg.model_type.value,
            character_coverage=cfg.character_coverage,
            unk_id=UNK,
            pad_id=PAD,
            bos_id=BOS,
            eos_id=EOS,
            hard_vocab_limit=False,  # small corpora (toy tasks) get fewer pieces instead of an error
            num_threads=THREADS,
            minloglevel=2,
            **extra,
        )
    except RuntimeError as err:
        raise DataError(f"{path}: SentencePiece training failed: {str(err).splitlines()[0]}") from None
    write_atomic(path, model.getvalue())
    vocab = Vocab.load(path)
    log.info("SentencePiece %s: %d pieces (%s) from %s sentences (%s characters)%s", path.name, len(vocab),
             cfg.model_type.value, f"{len(lines):,}", f"{sum(map(len, lines)):,}",
             f", a sample of {seen:,}" if seen > len(lines) else "")
    return vocab
