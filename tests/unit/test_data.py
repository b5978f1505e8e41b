"""Reading files (errors name the file and line), cleaning, bucketed batching, resumable iterators, task mixing."""

from __future__ import annotations

import gzip
import random
from collections import Counter

import pytest

from seq2seq.data import stream
from seq2seq.data.batching import EpochIterator, TaskSampler, collate, seeded, token_batches
from seq2seq.data.files import clean_line, find_file, read_lines, read_parallel
from seq2seq.data.prepared import PairCorpus
from seq2seq.data.stream import Selection, SentenceSample, selected_pairs
from seq2seq.errors import DataError
from seq2seq.text import BOS, EOS, PAD


def test_gz_and_plain_files_read_the_same(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\n", encoding="utf-8")
    with gzip.open(tmp_path / "b.en.gz", "wt", encoding="utf-8") as handle:
        handle.write("one\ntwo\n")
    assert read_lines(find_file(tmp_path, "a", "en")) == read_lines(find_file(tmp_path, "b", "en")) == ["one", "two"]


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(DataError, match=r"train\.de: file not found .*data\.root"):
        find_file(tmp_path, "train", "de")


def test_unequal_line_counts_name_both_files_and_counts(tmp_path):
    (tmp_path / "t.en").write_text("a\nb\nc\n", encoding="utf-8")
    (tmp_path / "t.de").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"t\.en has 3 lines but .*t\.de has 2"):
        read_parallel(tmp_path / "t.en", tmp_path / "t.de")


def test_invalid_utf8_names_file_and_line(tmp_path):
    (tmp_path / "bad.en").write_bytes(b"fine\nalso fine\nbroken \xff\xfe here\n")
    with pytest.raises(DataError, match=r"bad\.en:3: invalid UTF-8"):
        read_lines(tmp_path / "bad.en")


def test_corrupt_gzip_is_a_clear_error(tmp_path):
    (tmp_path / "x.en.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match=r"x\.en\.gz:1: cannot read"):
        read_lines(tmp_path / "x.en.gz")


def test_cleaning_removes_tabs_zero_width_and_outer_space():
    assert clean_line("  a\tb\u200bc \ufeff ") == "a bc"


def test_empty_pairs_are_skipped_and_counted(tmp_path):
    (tmp_path / "t.en").write_text("a\n \nb\nc\n", encoding="utf-8")
    (tmp_path / "t.de").write_text("x\ny\n\nz\n", encoding="utf-8")
    chunks = list(selected_pairs(tmp_path / "t.en", tmp_path / "t.de", Selection(), 4))
    assert [(c[0], c[1]) for c in chunks] == [(["a", "c"], ["x", "z"])] and sum(c[2] for c in chunks) == 2


def test_streamed_blocks_read_as_the_whole_file_does(tmp_path, monkeypatch):
    """Blocks of a few bytes split lines, multi-byte characters and CRLF ends: the stream still gives each line
    as read_lines + clean_line do, for plain and gzip files, a last line without a line end included."""
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7)
    text = "Grüße\taus Köln\r\n\u200bzero width\n  spaced  \n\nß€𝄞 last"
    (tmp_path / "a.de").write_text(text, encoding="utf-8")
    with gzip.open(tmp_path / "b.de.gz", "wt", encoding="utf-8") as handle:
        handle.write(text)
    expected = [clean_line(line) for line in read_lines(tmp_path / "a.de")]
    for path in (tmp_path / "a.de", tmp_path / "b.de.gz"):
        assert [line for block in stream.line_blocks(path) for line in block] == expected
        assert stream.count_lines(path) == len(expected) == 5


def test_streamed_invalid_utf8_names_the_line_in_a_later_block(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_BYTES", 8)
    (tmp_path / "bad.en").write_bytes(b"first line\nsecond\nthird \xff here\n")
    with pytest.raises(DataError, match=r"bad\.en:3: invalid UTF-8 \(byte 6 of the line\)"):
        list(stream.line_blocks(tmp_path / "bad.en"))


def test_selection_draws_the_lines_a_list_sample_draws():
    """The range sample equals random.sample over the list of the range (the selection runs made before)."""
    picked = Selection(10, 90, 25, seed=4).rows(100).tolist()
    assert picked == sorted(random.Random("4/train-pairs").sample(list(range(10, 90)), 25))
    assert Selection(10, 30, 25, seed=4).rows(100) is None  # a sample as large as the range is the range


def test_sentence_sample_keeps_everything_in_order_or_a_bounded_uniform_sample():
    lines = [f"sentence {i}" for i in range(5000)]
    whole = SentenceSample(10_000, 10**9, seed=1)
    whole.add(lines[2500:], (1,))
    whole.add(lines[:2500], (0,))
    assert whole.sentences() == lines
    bounded = SentenceSample(10_000, 20_000, seed=1)
    for start in range(0, 5000, 700):
        bounded.add(lines[start:start + 700], (start,))
    kept = bounded.sentences()
    assert sum(map(len, kept)) <= 20_000 and len(kept) > 1500 and kept == sorted(kept, key=lines.index)
    halves = [sum(lines.index(k) < 2500 for k in kept), sum(lines.index(k) >= 2500 for k in kept)]
    assert abs(halves[0] - halves[1]) < 0.15 * len(kept)  # drawn from the whole stream, not its start
    again = SentenceSample(10_000, 20_000, seed=1)
    for start in range(0, 5000, 700):
        again.add(lines[start:start + 700], (start,))
    assert again.sentences() == kept


def test_token_batches_cover_every_pair_once_within_the_budget():
    rng = random.Random(1)
    src = [rng.randint(1, 40) for _ in range(2000)]
    tgt = [rng.randint(1, 40) for _ in range(2000)]
    batches = [b.tolist() for b in token_batches(src, tgt, 512, seeded(3)).batches()]
    seen = sorted(i for b in batches for i in b)
    assert seen == list(range(2000))
    for b in batches:
        assert len(b) * max(max(src[i], tgt[i] + 1) for i in b) <= 512
    # bucketing keeps padding low: real source tokens fill most of each padded batch
    real = sum(src)
    padded = sum(len(b) * max(src[i] for i in b) for b in batches)
    assert real / padded > 0.9


def test_collate_shapes_and_specials():
    batch = collate([[5, 6, 7], [8]], [[9], [10, 11]])
    assert batch.src.tolist() == [[5, 6, 7], [8, PAD, PAD]]
    assert batch.tgt_in.tolist() == [[BOS, 9, PAD], [BOS, 10, 11]]
    assert batch.tgt_out.tolist() == [[9, EOS, PAD], [10, 11, EOS]]
    assert batch.n_tgt_tokens == 5


def test_epoch_iterator_resumes_mid_epoch_with_the_same_batches():
    rng = random.Random(0)
    src = [[rng.randint(4, 30) for _ in range(rng.randint(1, 9))] for _ in range(300)]
    tgt = [[rng.randint(4, 30) for _ in range(rng.randint(1, 9))] for _ in range(300)]
    corpus = PairCorpus.from_lists(src, tgt)
    straight = EpochIterator(corpus, 60, seed=5, stream=0)
    expected = [next(straight).src.tolist() for _ in range(80)]
    first = EpochIterator(corpus, 60, seed=5, stream=0)
    got = [next(first).src.tolist() for _ in range(33)]
    resumed = EpochIterator(corpus, 60, seed=5, stream=0)
    resumed.load_state_dict(first.state_dict())
    got += [next(resumed).src.tolist() for _ in range(47)]
    assert got == expected
    assert straight.epoch >= 1  # the run crossed an epoch boundary
    other = EpochIterator(corpus, 60, seed=6, stream=0)
    assert [next(other).src.tolist() for _ in range(5)] != expected[:5]


def test_task_frequencies_follow_mixing_ratios():
    sampler = TaskSampler(["a", "b", "c"], [1.0, 2.0, 5.0], seed=3)
    counts = Counter(sampler.task_at(step) for step in range(1, 40001))
    for name, ratio in (("a", 1 / 8), ("b", 2 / 8), ("c", 5 / 8)):
        assert abs(counts[name] / 40000 - ratio) < 0.01, (name, counts)
    assert [sampler.task_at(s) for s in range(50)] == [TaskSampler(["a", "b", "c"], [1, 2, 5], 3).task_at(s)
                                                       for s in range(50)]


def test_length_pools_mix_batches_and_still_cover_everything_once():
    rng = random.Random(2)
    src = [rng.randint(1, 40) for _ in range(3000)]
    tgt = [rng.randint(1, 40) for _ in range(3000)]
    pooled = [b.tolist() for b in token_batches(src, tgt, 512, seeded(3), pool=500).batches()]
    assert sorted(i for b in pooled for i in b) == list(range(3000))
    assert all(len(b) * max(max(src[i], tgt[i] + 1) for i in b) <= 512 for b in pooled)
    whole = token_batches(src, tgt, 512, seeded(3))
    assert len(pooled) > len(whole)  # smaller pools pad a little more: more batches
