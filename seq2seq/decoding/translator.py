"""Text in, text out: SentencePiece encoding, length-sorted batches, a search strategy, detokenised output."""

from __future__ import annotations

import itertools
from typing import Iterable, Iterator, List, Sequence, TextIO

import torch

from seq2seq.config import DecodingConfig
from seq2seq.data.batching import pad
from seq2seq.data.files import clean_line
from seq2seq.decoding.contract import SearchModel
from seq2seq.decoding.search import Hypothesis, make_search, max_lengths
from seq2seq.text import Vocab


class Translator:
    def __init__(self, model: SearchModel, task: str, src_vocab: Vocab, tgt_vocab: Vocab,
                 cfg: DecodingConfig, device: torch.device):
        self.model, self.task = model, task
        if isinstance(model, torch.nn.Module):
            model.eval()
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.cfg, self.device = cfg, device
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(cfg.seed)
        self.searcher = make_search(cfg, self.generator)  # decoding.strategy's search
        self.written = 0  # input lines whose translations have been written by `stream`
        self.long_limit: int | None = None  # count input lines longer than this many pieces (the training limit)
        self.long_lines, self.longest = 0, 0

    def search(self, src_ids: Sequence[Sequence[int]], keep_attention: bool = False) -> List[List[Hypothesis]]:
        """n-best hypotheses for already-encoded, non-empty sentences, in input order."""
        results: List[List[Hypothesis]] = [[] for _ in src_ids]
        order = sorted(range(len(src_ids)), key=lambda i: -len(src_ids[i]))
        cfg = self.cfg
        for start in range(0, len(order), cfg.batch_size):
            chunk = order[start:start + cfg.batch_size]
            src = pad([src_ids[i] for i in chunk]).to(self.device)
            lengths = torch.tensor([len(src_ids[i]) for i in chunk], device=self.device)
            limit = max_lengths(lengths, cfg.max_length_ratio, cfg.max_length_extra)
            found = self.searcher(self.model, self.task, src, lengths, limit, keep_attention)
            for i, hyps in zip(chunk, found):
                results[i] = hyps
        return results

    def translate(self, lines: Sequence[str]) -> List[List[Hypothesis]]:
        """n-best hypotheses per line; an empty (or blank) line, or one with no pieces at all (only control
        characters, which SentencePiece's normalisation drops), gets one empty hypothesis without a search."""
        cleaned = [clean_line(line) for line in lines]
        todo = [i for i, line in enumerate(cleaned) if line]
        ids = self.src_vocab.encode([cleaned[i] for i in todo])
        todo, ids = [i for i, x in zip(todo, ids) if x], [x for x in ids if x]
        if self.long_limit is not None:
            long = [len(x) for x in ids if len(x) > self.long_limit]
            self.long_lines += len(long)
            self.longest = max([self.longest, *long])
        found = self.search(ids)
        results: List[List[Hypothesis]] = [[Hypothesis([], 0.0)] for _ in lines]
        for i, hyps in zip(todo, found):
            results[i] = hyps
        return results

    def long_line_note(self) -> str | None:
        """What to tell the user about input lines longer than any training pair (None when there were none)."""
        if not self.long_lines:
            return None
        return (f"{self.long_lines} input line(s) had more than {self.long_limit} SentencePiece pieces, the most any "
                f"training pair had (the longest: {self.longest} pieces); an RNN trained on sentences often stops "
                "early on such lines: split them into sentences")

    def detokenize(self, hyps: Sequence[Hypothesis]) -> List[str]:
        return self.tgt_vocab.decode([h.tokens for h in hyps])

    def translate_lines(self, lines: Sequence[str]) -> List[str]:
        """1-best detokenised translations, one per input line."""
        return self.detokenize([hyps[0] for hyps in self.translate(lines)])

    def format(self, lines: Sequence[str], first_index: int) -> Iterator[str]:
        """Output lines: the translation, or with n_best > 1 `INDEX ||| translation ||| score` lines (tab-separated
        with the score appended when `output_scores`)."""
        results = self.translate(lines)
        for offset, hyps in enumerate(results):
            texts = self.detokenize(hyps)
            tab = self.cfg.output_scores
            if self.cfg.n_best == 1:
                yield f"{texts[0]}\t{hyps[0].score:.4f}" if tab else texts[0]
            else:
                for text, hyp in zip(texts, hyps):
                    index = first_index + offset
                    yield f"{index}\t{text}\t{hyp.score:.4f}" if tab else f"{index} ||| {text} ||| {hyp.score:.4f}"

    def stream(self, lines: Iterable[str], out: TextIO, chunk_size: int = 2000) -> int:
        """Translate an input of any length in chunks, writing (and flushing) each chunk in input order."""
        self.written = 0
        iterator = iter(lines)
        while True:
            chunk = list(itertools.islice(iterator, chunk_size))
            if not chunk:
                return self.written
            out.write("".join(line + "\n" for line in self.format(chunk, self.written)))
            out.flush()
            self.written += len(chunk)
