"""The Python API, forced-decoding scores, checkpoint averaging and ensembles, on a tiny trained toy run."""

from __future__ import annotations

import json
import re

import pytest
import torch
from safetensors.torch import load_file

import seq2seq
from seq2seq.errors import CheckpointError, ConfigError, DataError
from seq2seq.runs.checkpoint import MODEL_FILE
from seq2seq.runs.trained import load_trained, search_model
from seq2seq.text import BOS, EOS

from conftest import ROOT, run_cli

LINES = ["a b c", "", "d e f g h", "b a"]


@pytest.mark.parametrize("options, args", [
    ({}, []),
    ({"strategy": "beam", "beam_size": 4}, ["decoding=beam", "decoding.beam_size=4"]),
    ({"strategy": "beam", "beam_size": 3, "n_best": 2}, ["decoding=beam", "decoding.beam_size=3", "decoding.n_best=2"]),
    ({"strategy": "sample", "temperature": 0.7, "seed": 4},
     ["decoding=sample", "decoding.temperature=0.7", "decoding.seed=4"]),
])
def test_the_api_translates_as_the_command_prints(trained, options, args):
    model = seq2seq.load(trained)
    cli = run_cli(["seq2seq-translate", f"checkpoint={trained}", *args], cwd=ROOT, stdin="\n".join(LINES) + "\n")
    assert cli.returncode == 0, cli.stderr
    assert model.translate(LINES, **options) == cli.stdout.splitlines()


def test_api_mistakes_are_one_line_errors(trained):
    model = seq2seq.load(trained)
    with pytest.raises(ConfigError, match=r"decoding\.beam_sise: no such decoding option"):
        model.translate(LINES, strategy="beam", beam_sise=3)
    with pytest.raises(ConfigError, match=r"decoding\.strategy: 'viterbi' is not one of"):
        model.translate(LINES, strategy="viterbi")
    with pytest.raises(ConfigError, match=r"decoding\.beam_size: is only read by beam search"):
        model.translate(LINES, beam_size=3)
    with pytest.raises(DataError, match=r"score: 2 sources but 1 targets"):
        model.score(["a", "b"], ["a"])
    with pytest.raises(CheckpointError, match=r"no such run or checkpoint folder"):
        seq2seq.load(trained / "nope")


@pytest.mark.parametrize("call, message", [
    # values of the wrong type were guessed at ("no" quantized, "false" printed scores) or crashed deep inside
    (lambda m: m.translate(LINES, quantize="no"), r"decoding\.quantize: must be true or false, got 'no'"),
    (lambda m: m.translate(LINES, output_scores="false"), r"decoding\.output_scores: must be true or false"),
    (lambda m: m.translate(LINES, strategy="beam", beam_size="5"), r"decoding\.beam_size: must be an integer"),
    (lambda m: m.translate(LINES, strategy="beam", beam_size=2.5), r"decoding\.beam_size: must be an integer"),
    (lambda m: m.translate(LINES, strategy="beam", beam_size=True), r"decoding\.beam_size: must be an integer"),
    (lambda m: m.translate(LINES, strategy="beam", beam_size=10**30), r"decoding\.beam_size: must be in \[1, "),
    (lambda m: m.translate(LINES, strategy="sample", temperature="hot"), r"decoding\.temperature: must be a finite"),
    (lambda m: m.translate(LINES, max_length_ratio=float("inf")), r"decoding\.max_length_ratio: must be a finite"),
    (lambda m: m.translate(LINES, max_length_ratio=1e300), r"decoding\.max_length_ratio: must be > 0 and <= 100"),
    (lambda m: m.translate(LINES, seed="x"), r"decoding\.seed: must be an integer, got 'x'"),
    # one string would be translated a character a line; None or a number in the list crashed in SentencePiece
    (lambda m: m.translate("A dog runs."), r"lines: must be a list of strings, got str \(one sentence: wrap it"),
    (lambda m: m.translate(["a b", None]), r"lines\[1\]: must be a string, got None"),
    (lambda m: m.translate([3]), r"lines\[0\]: must be a string, got 3"),
    (lambda m: m.score("a b", ["a b"]), r"sources: must be a list of strings"),
])
def test_api_options_of_the_wrong_type_or_range_are_refused_in_one_line(trained, call, message):
    with pytest.raises(ConfigError, match=message):
        call(seq2seq.load(trained))


def test_loading_without_a_folder_or_on_an_unknown_device_is_one_line(trained):
    with pytest.raises(ConfigError, match=r"load: give a run or checkpoint folder \(a path\), got None"):
        seq2seq.load(None)
    with pytest.raises(ConfigError, match=r"device: 'tpu' is not a device this toolkit runs on"):
        seq2seq.load(trained, device="tpu")


def test_scores_match_the_command_and_a_step_by_step_computation(trained, tmp_path):
    model = seq2seq.load(trained)
    sources, targets = ["a b c", "d e f g h", "c"], ["c b a", "h g f e d", "a b"]
    scores = model.score(sources, targets)
    # by hand: feed the target one piece at a time through the search contract and add up log P(piece)
    net, task = model.trained.model, model.task.name
    for source, target, score in zip(sources, targets, scores):
        src = torch.tensor([model.src_vocab.encode([source])[0]])
        memory, state = net.first_state(task, net.encode(task, src, torch.tensor([src.size(1)])))
        total, previous = 0.0, BOS
        for piece in [*model.tgt_vocab.encode([target])[0], EOS]:
            log_probs, state, _ = net.step(task, torch.tensor([previous]), state, memory)
            total += log_probs[0, piece].item()
            previous = piece
        assert score == pytest.approx(total, abs=1e-4)
    (tmp_path / "src.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("\n".join(targets) + "\n", encoding="utf-8")
    cli = run_cli(["seq2seq-score", f"checkpoint={trained}", "input=src.txt", "reference=ref.txt",
                   "json=scores.json"], cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    assert [float(x) for x in cli.stdout.split()] == pytest.approx(scores, abs=1e-4)
    totals = json.loads((tmp_path / "scores.json").read_text(encoding="utf-8"))
    tokens = model.target_tokens(targets)
    assert totals["sentences"] == 3 and totals["tokens"] == tokens
    assert totals["log_prob"] == pytest.approx(sum(scores), abs=1e-3)
    assert totals["perplexity"] == pytest.approx(float(torch.exp(torch.tensor(-sum(scores) / tokens))), rel=1e-4)


def test_an_average_of_identical_checkpoints_is_the_checkpoint(trained, tmp_path):
    best = trained / "checkpoints" / "best"
    cli = run_cli(["seq2seq-average", f"checkpoints=[{best},{best}]", f"output={tmp_path / 'avg'}"], cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    original = load_trained(trained, torch.device("cpu")).model.state_dict()
    averaged = load_trained(tmp_path / "avg", torch.device("cpu")).model.state_dict()
    assert original.keys() == averaged.keys()
    assert all(torch.equal(original[k], averaged[k]) for k in original)
    assert seq2seq.load(tmp_path / "avg").translate(LINES) == seq2seq.load(trained).translate(LINES)


def test_averaging_the_last_checkpoints_of_a_run(trained, tmp_path):
    steps = sorted((trained / "checkpoints").glob("step_*"))
    cli = run_cli(["seq2seq-average", f"checkpoint={trained}", f"last={len(steps)}", "output=avg"], cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    tensors = [load_file(str(s / MODEL_FILE)) for s in steps]
    averaged = load_file(str(tmp_path / "avg" / MODEL_FILE))
    for name, value in averaged.items():
        assert torch.allclose(value, sum(t[name] for t in tensors) / len(tensors), atol=1e-6), name
    too_many = run_cli(["seq2seq-average", f"checkpoint={trained}", f"last={len(steps) + 1}", "output=x"],
                       cwd=tmp_path)
    assert too_many.returncode == 2 and f"keeps only {len(steps)} step checkpoints" in too_many.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_an_ensemble_of_a_model_with_itself_is_the_model(trained, tmp_path):
    for args in ([], ["decoding=beam", "decoding.beam_size=3"]):
        single = run_cli(["seq2seq-translate", f"checkpoint={trained}", *args], cwd=ROOT, stdin="\n".join(LINES))
        double = run_cli(["seq2seq-translate", f"checkpoint=[{trained},{trained}]", *args], cwd=ROOT,
                         stdin="\n".join(LINES))
        assert single.returncode == double.returncode == 0, double.stderr
        assert single.stdout == double.stdout
    evaluated = run_cli(["seq2seq-evaluate", f"checkpoint=[{trained},{trained}]", "decoding=greedy"], cwd=ROOT)
    assert evaluated.returncode == 0, evaluated.stderr
    alone = run_cli(["seq2seq-evaluate", f"checkpoint={trained}", "decoding=greedy"], cwd=ROOT)
    assert evaluated.stdout == alone.stdout
    # int8: the ensemble's members are quantized (once) and still decode what the float model does, near enough
    quantized = run_cli(["seq2seq-evaluate", f"checkpoint=[{trained},{trained}]", "decoding=greedy",
                         "decoding.quantize=true"], cwd=ROOT)
    assert quantized.returncode == 0, quantized.stderr
    bleu = [float(re.search(r"BLEU ([\d.]+)", out.stdout).group(1)) for out in (alone, quantized)]
    assert abs(bleu[0] - bleu[1]) <= 10, bleu


def test_an_ensemble_of_runs_with_different_vocabularies_is_refused(trained, tmp_path):
    spm = tmp_path / "spm.other.model"
    spm.write_bytes(next(trained.glob("spm.*.model")).read_bytes() + b"\n")  # a model file whose bytes differ
    runs = [load_trained(trained, torch.device("cpu")), load_trained(trained, torch.device("cpu"))]
    runs[1].vocabs = {lang: type(v)(v.processor, spm) for lang, v in runs[1].vocabs.items()}
    with pytest.raises(CheckpointError, match=r"SentencePiece model for 'in' differs .* one vocabulary"):
        search_model(runs, None)


def test_the_api_warns_of_lines_longer_than_any_training_pair_as_the_command_notes(trained):
    model = seq2seq.load(trained)
    note = r"1 input line\(s\) had more than \d+ SentencePiece pieces, the most any training pair had"
    with pytest.warns(UserWarning, match=note):
        model.translate(["a b c", " ".join(["a b c d"] * 40)])
