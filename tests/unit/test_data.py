"""Reading files (errors name the file and line), cleaning, bucketed batching, resumable iterators, task mixing."""

from __future__ import annotations

import gzip
import random
from collections import Counter

import pytest

from seq2seq.data.batching import EpochIterator, TaskSampler, collate, token_batches
from seq2seq.data.corpus import clean_pairs
from seq2seq.data.files import clean_line, find_file, read_lines, read_parallel
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


def test_empty_pairs_are_skipped_and_all_empty_is_an_error():
    src, tgt = clean_pairs(["a", " ", "b", "c"], ["x", "y", "", "z"], "t")
    assert (src, tgt) == (["a", "c"], ["x", "z"])
    with pytest.raises(DataError, match="no training pairs left"):
        clean_pairs(["", " "], ["x", "y"], "t")


def test_token_batches_cover_every_pair_once_within_the_budget():
    rng = random.Random(1)
    src = [rng.randint(1, 40) for _ in range(2000)]
    tgt = [rng.randint(1, 40) for _ in range(2000)]
    batches = token_batches(src, tgt, 512, random.Random(3))
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
    straight = EpochIterator(src, tgt, 60, seed=5, stream=0)
    expected = [next(straight).src.tolist() for _ in range(80)]
    first = EpochIterator(src, tgt, 60, seed=5, stream=0)
    got = [next(first).src.tolist() for _ in range(33)]
    resumed = EpochIterator(src, tgt, 60, seed=5, stream=0)
    resumed.load_state_dict(first.state_dict())
    got += [next(resumed).src.tolist() for _ in range(47)]
    assert got == expected
    assert straight.epoch >= 1  # the run crossed an epoch boundary
    other = EpochIterator(src, tgt, 60, seed=6, stream=0)
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
    pooled = token_batches(src, tgt, 512, random.Random(3), pool=500)
    assert sorted(i for b in pooled for i in b) == list(range(3000))
    assert all(len(b) * max(max(src[i], tgt[i] + 1) for i in b) <= 512 for b in pooled)
    whole = token_batches(src, tgt, 512, random.Random(3))
    assert len(pooled) > len(whole)  # smaller pools pad a little more: more batches
