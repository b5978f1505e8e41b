"""Search: beam 1 is greedy, a large beam finds the exhaustive-search optimum, batching changes nothing."""

from __future__ import annotations

import itertools

import pytest
import torch

from seq2seq.data.batching import pad
from seq2seq.decoding.search import beam_search, greedy_or_sample, length_penalty, max_lengths
from seq2seq.text import BOS, EOS, PAD

from helpers import GNMT, tiny_model

# model kwargs by name: the decoder flows (context only, Luong, Bahdanau) and the deep gnmt layout
MODELS = {"none": {"attention": "none", "feed_context": True}, "luong_general": {"attention": "luong_general"},
          "bahdanau": {"attention": "bahdanau"}, "gnmt": GNMT, "gnmt_bahdanau": {**GNMT, "attention": "bahdanau"}}

SOURCES = [[4, 5, 6, 5], [6, 4], [5, 5, 6, 4, 4, 6], [4], [6, 6, 5]]


def _batch(sources):
    src = pad(sources)
    return src, torch.tensor([len(s) for s in sources])


def _score(model, src, length, tokens, max_len):
    """log P(tokens + EOS | src) under the search rules: no PAD/BOS, only EOS at the last allowed step."""
    memory, state = model.first_state("t", model.encode("t", src, length))
    previous, total = BOS, 0.0
    for position, token in enumerate([*tokens, EOS]):
        log_probs, state, _ = model.step("t", torch.tensor([previous]), state, memory)
        log_probs = log_probs[0].clone()
        log_probs[[PAD, BOS]] = float("-inf")
        if position == max_len - 1:
            keep = log_probs[EOS].item()
            log_probs[:] = float("-inf")
            log_probs[EOS] = keep
        total += log_probs[token].item()
        previous = token
    return total


@pytest.mark.parametrize("kind", ["none", "luong_general", "bahdanau", "gnmt"])
def test_beam_of_one_equals_greedy(kind):
    model = tiny_model(**MODELS[kind])
    src, lengths = _batch(SOURCES)
    limit = torch.full((len(SOURCES),), 8)
    greedy = greedy_or_sample(model, "t", src, lengths, limit)
    beam = beam_search(model, "t", src, lengths, limit, beam=1)
    assert [h.tokens for h in greedy] == [b[0].tokens for b in beam]
    for g, b in zip(greedy, beam):
        assert b[0].score == pytest.approx(g.score, abs=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("kind", ["none", "luong_general", "gnmt"])
def test_large_beam_finds_the_exhaustive_search_optimum(alpha, kind):
    vocab, max_len = 7, 4
    model = tiny_model(vocab=vocab, seed=3, **MODELS[kind])
    symbols = [t for t in range(vocab) if t not in (PAD, BOS, EOS)]
    mismatched_greedy = 0
    for source in SOURCES:
        src, length = _batch([source])
        best_score, best = float("-inf"), None
        for n in range(max_len):
            for tokens in itertools.product(symbols, repeat=n):
                score = _score(model, src, length, list(tokens), max_len) / length_penalty(n + 1, alpha)
                if score > best_score:
                    best_score, best = score, list(tokens)
        found = beam_search(model, "t", src, length, torch.tensor([max_len]), beam=500, alpha=alpha, exact=True)[0][0]
        assert found.tokens == best
        assert found.score == pytest.approx(best_score, abs=1e-4)
        greedy = greedy_or_sample(model, "t", src, length, torch.tensor([max_len]))[0]
        mismatched_greedy += greedy.tokens != best
    # the test is only meaningful if search matters on this model: greedy must miss the optimum somewhere
    if alpha == 0.0:
        assert mismatched_greedy > 0


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_usual_stopping_rule_is_the_exact_search_cut_short(alpha):
    """Each sentence follows the same search until the usual rule stops it: never a better score, fewer steps."""
    model = tiny_model(attention="luong_general")
    calls = {"rows": 0}
    step = model.step

    def counted(task, tokens, state, memory):
        calls["rows"] += tokens.numel()
        return step(task, tokens, state, memory)

    model.step = counted
    src, lengths = _batch(SOURCES)
    limit = torch.full((len(SOURCES),), 12)
    found, rows = {}, {}
    for exact in (True, False):
        calls["rows"] = 0
        found[exact] = beam_search(model, "t", src, lengths, limit, beam=3, alpha=alpha, exact=exact)
        rows[exact] = calls["rows"]
    for slow, fast in zip(found[True], found[False]):
        assert fast[0].score <= slow[0].score + 1e-6
    if alpha == 0.0:  # live scores only fall: the usual rule is already exact
        assert rows[False] == rows[True]
        assert [h[0].tokens for h in found[False]] == [h[0].tokens for h in found[True]]
    else:
        assert rows[False] < rows[True]


@pytest.mark.parametrize("kind", ["luong_general", "bahdanau", "gnmt_bahdanau"])
def test_batched_beam_equals_one_sentence_at_a_time(kind):
    model = tiny_model(**MODELS[kind], **({"input_feeding": True} if kind == "luong_general" else {}))
    src, lengths = _batch(SOURCES)
    limit = torch.tensor([9, 7, 12, 5, 8])
    batched = beam_search(model, "t", src, lengths, limit, beam=4, alpha=1.0, n_best=3)
    for i, source in enumerate(SOURCES):
        one_src, one_len = _batch([source])
        alone = beam_search(model, "t", one_src, one_len, limit[i:i + 1], beam=4, alpha=1.0, n_best=3)[0]
        assert [h.tokens for h in alone] == [h.tokens for h in batched[i]]
        assert [h.score for h in alone] == pytest.approx([h.score for h in batched[i]], abs=1e-4)


def test_n_best_is_sorted_distinct_and_within_length():
    model = tiny_model(attention="luong_general")
    src, lengths = _batch(SOURCES)
    limit = torch.full((len(SOURCES),), 6)
    for hyps in beam_search(model, "t", src, lengths, limit, beam=5, alpha=0.6, n_best=5):
        assert len(hyps) == 5
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in hyps}) == 5
        assert all(len(h.tokens) <= 5 and EOS not in h.tokens for h in hyps)


def test_sampling_is_reproducible_with_a_seed_and_varies_without():
    model = tiny_model(attention="luong_general")
    src, lengths = _batch(SOURCES * 4)
    limit = torch.full((len(SOURCES) * 4,), 10)

    def sample(seed):
        generator = torch.Generator().manual_seed(seed)
        return [h.tokens for h in greedy_or_sample(model, "t", src, lengths, limit, 1.0, generator)]

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)
    # a near-zero temperature is greedy
    cold = greedy_or_sample(model, "t", src, lengths, limit, 1e-4, torch.Generator().manual_seed(1))
    assert [h.tokens for h in cold] == [h.tokens for h in greedy_or_sample(model, "t", src, lengths, limit)]


def test_long_sources_are_not_cut_short():
    """A model that never wants to stop writes until ratio * source length + extra, EOS included."""
    model = tiny_model(attention="luong_general")
    with torch.no_grad():
        model.decoders["y"].output.bias[EOS] = -1e4
    source = [4, 5, 6] * 100  # 300 tokens, far longer than anything in training
    src, lengths = _batch([source])
    limit = max_lengths(lengths, 2.0, 10)
    assert limit.item() == 610
    greedy = greedy_or_sample(model, "t", src, lengths, limit)[0]
    beam = beam_search(model, "t", src, lengths, limit, beam=2)[0][0]
    assert len(greedy.tokens) == len(beam.tokens) == 609


@pytest.mark.parametrize("kind", ["luong_general", "gnmt"])
def test_int8_quantized_model_translates_close_to_float(kind):
    from seq2seq.runs.trained import quantized

    model = tiny_model(**MODELS[kind], **({"input_feeding": True} if kind == "luong_general" else {}))
    src, lengths = _batch(SOURCES)
    limit = torch.full((len(SOURCES),), 8)
    exact = greedy_or_sample(model, "t", src, lengths, limit)
    small = greedy_or_sample(quantized(model), "t", src, lengths, limit)
    agree = sum(a.tokens == b.tokens for a, b in zip(exact, small))
    assert agree >= len(SOURCES) - 1
    for a, b in zip(exact, small):
        if a.tokens == b.tokens:
            assert b.score == pytest.approx(a.score, abs=0.1)


def test_the_decoding_options_name_a_search_that_the_translator_calls():
    """decoding.strategy picks a Search through one table (no if/else in the Translator): each one found equals
    calling its search function with the options it was made from."""
    from seq2seq.config import DecodingConfig, Strategy
    from seq2seq.decoding import Beam, Greedy, make_search
    from seq2seq.decoding.search import STRATEGIES

    model = tiny_model(attention="luong_general")
    src, lengths = _batch(SOURCES)
    limit = torch.full((len(SOURCES),), 8)
    generator = torch.Generator().manual_seed(5)
    beam = make_search(DecodingConfig(strategy=Strategy.beam, beam_size=3, length_penalty=0.6, n_best=2), generator)
    assert beam == Beam(3, 0.6, 2, False)
    assert [[h.tokens for h in hyps] for hyps in beam(model, "t", src, lengths, limit)] == \
        [[h.tokens for h in hyps] for hyps in beam_search(model, "t", src, lengths, limit, 3, 0.6, 2)]
    assert make_search(DecodingConfig(strategy=Strategy.greedy), generator) == Greedy()
    sample = make_search(DecodingConfig(strategy=Strategy.sample, temperature=0.7), generator)
    assert sample.temperature == 0.7 and sample.generator is generator
    assert set(STRATEGIES) == set(Strategy)  # every strategy has its search
