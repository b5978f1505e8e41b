"""Training: the toy task converges, a killed run resumes exactly, bad losses and checkpoints fail clearly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seq2seq.commands.train import run_train
from seq2seq.errors import CheckpointError, ConfigError
from seq2seq.runs.device import machine
from seq2seq.runs.trained import load_trained
from seq2seq.training import parts
from seq2seq.training.trainer import Trainer, TrainingStopped

from conftest import ROOT, TINY_GNMT, TINY_TOY, run_cli, train_config


@pytest.mark.slow
def test_toy_reversal_converges(tmp_path):
    """The shipped toy_reverse experiment must reach test BLEU >= 95."""
    cfg = train_config(["experiment=toy_reverse", "trainer.progress=false"])
    results = run_train(cfg, tmp_path)
    assert results["tasks"]["in-reverse"]["bleu"] >= 95, results
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["tasks"]["in-reverse"]["signature"].startswith("nrefs:1|case:mixed")
    assert set(saved["parameters"]["encoders"]) == {"in"} and set(saved["parameters"]["decoders"]) == {"reverse"}
    assert saved["stopped"] == "reached trainer.max_steps=400" and saved["epochs"] > 1, saved  # why and when it ended


def _weights(run: Path):
    latest = (run / "checkpoints" / "latest").read_text().strip()
    return load_file(str(run / "checkpoints" / latest / "model.safetensors")), latest


@pytest.mark.slow
def test_the_deep_gnmt_layout_learns_the_toy_task(tmp_path):
    """model=gnmt (bidirectional first layer, attention from the first decoder layer into the layers above,
    residual connections) at toy sizes reaches test BLEU >= 90 on reversal, and translates with every strategy."""
    cfg = train_config(["experiment=toy_reverse", "model=gnmt", "model.encoder.layers=3", "model.decoder.layers=3",
                        "trainer.progress=false"])
    results = run_train(cfg, tmp_path)
    assert results["tasks"]["in-reverse"]["bleu"] >= 90, results
    source = "a b c d e\nf g h\n"
    expected = ["e d c b a", "h g f"]
    for strategy in ("greedy", "beam", "sample"):
        cold = ["decoding.temperature=0.05"] if strategy == "sample" else []  # sampling close to greedy
        out = run_cli(["seq2seq-translate", f"checkpoint={tmp_path}", f"decoding={strategy}", *cold], cwd=tmp_path,
                      stdin=source)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == expected, strategy


@pytest.mark.slow
@pytest.mark.parametrize("model", [[], TINY_GNMT], ids=["reference", "gnmt"])
def test_a_killed_run_resumes_to_exactly_the_same_weights(tmp_path, model):
    args = ["seq2seq-train", *TINY_TOY, *model, "trainer.max_steps=60", "trainer.checkpoint_every=10",
            "trainer.validate_every=30", "model.encoder.dropout=0.3", "model.decoder.dropout=0.3",
            "trainer.schedule=linear", "trainer.warmup_steps=15"]  # the schedule resumes at its place too
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    done = run_cli([*args, f"hydra.run.dir={straight}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    module = [sys.executable, "-m", "seq2seq.cli.train", *args[1:], f"hydra.run.dir={killed}"]
    process = subprocess.Popen(module, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer = killed / "checkpoints" / "latest"
    deadline = time.time() + 120
    while time.time() < deadline and not (pointer.is_file() and pointer.read_text().strip() >= "step_0000020"):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted_at = pointer.read_text().strip()
    assert "step_0000020" <= interrupted_at < "step_0000060"
    resumed = run_cli([*args, f"hydra.run.dir={killed}"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr

    (a, name_a), (b, name_b) = _weights(straight), _weights(killed)
    assert name_a == name_b == "step_0000060"
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # the optimiser moments and RNG state too
    ta = load_file(str(straight / "checkpoints" / name_a / "training.safetensors"))
    tb = load_file(str(killed / "checkpoints" / name_b / "training.safetensors"))
    for key in ta:
        assert torch.equal(ta[key], tb[key]), key
    # seeded sampling from both runs gives the same translations
    source = "a b c d\ne f g\n"
    outputs = [run_cli(["seq2seq-translate", f"checkpoint={run}", "decoding=sample"], cwd=tmp_path, stdin=source)
               for run in (straight, killed)]
    assert outputs[0].returncode == 0, outputs[0].stderr
    assert outputs[0].stdout == outputs[1].stdout


def test_a_trainer_takes_parts_made_alone_and_trains_as_one_that_made_its_own(tmp_path):
    """The parts of a run can be made one by one (a benchmark builds only what it times); handed to a Trainer,
    they train exactly as the parts a Trainer makes itself."""
    cfg = train_config([*TINY_TOY, "trainer.max_steps=3"])
    own = Trainer(cfg, tmp_path / "own")
    first = {name: value.clone() for name, value in own.model.state_dict().items()}
    steps = [own.train_step(own.main) for _ in range(3)]  # dropout draws from the global RNG: one run at a time
    where = parts.placement(cfg)
    torch.manual_seed(cfg.trainer.seed)
    data, vocabs = parts.training_data(cfg, tmp_path / "made", where.device)
    model = parts.training_model(cfg, vocabs, where.device, fresh=True)
    for (name, a), b in zip(first.items(), model.state_dict().values()):
        assert torch.equal(a, b), name  # the same initial weights, made alone
    optimizer, schedule = parts.optimisation(cfg, model)
    iterators, sampler = parts.batch_streams(cfg, data, where)
    given = Trainer(cfg, tmp_path / "made", parts.TrainingParts(where, data, vocabs, model, optimizer, schedule,
                                                                 iterators, sampler))
    assert given.model is model and given.optimizer is optimizer
    assert [given.train_step(own.main) for _ in range(3)] == steps


def test_data_seed_draws_the_batches_and_seed_alone_the_initial_weights(tmp_path):
    """trainer.data_seed tells the two sources of seed variance apart: the same seed with another data_seed starts
    from the same weights and sees other batches; another seed with the first one's data_seed, the reverse."""
    def made(name, *overrides):
        trainer = Trainer(train_config([*TINY_TOY, *overrides]), tmp_path / name)
        return [w.clone() for w in trainer.model.state_dict().values()], [next(trainer.iterators[trainer.main]).src
                                                                           for _ in range(3)]

    def same(a, b):
        return len(a) == len(b) and all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(a, b))

    weights, batches = made("default", "trainer.seed=1")
    other_order = made("order", "trainer.seed=1", "trainer.data_seed=2")
    other_init = made("init", "trainer.seed=2", "trainer.data_seed=1")
    assert same(other_order[0], weights) and not same(other_order[1], batches)
    assert same(other_init[1], batches) and not same(other_init[0], weights)
    assert same(made("explicit", "trainer.seed=1", "trainer.data_seed=1")[1], batches)  # default: trainer.seed


def test_non_finite_loss_stops_with_a_message_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    cfg = train_config([*TINY_TOY, "trainer.max_steps=30", "trainer.checkpoint_every=5",
                        "trainer.validate_every=100"])
    trainer = Trainer(cfg, tmp_path)
    real_loss = trainer.model.loss

    def poisoned(task, batch, label_smoothing=0.0):
        loss = real_loss(task, batch, label_smoothing)
        return loss * float("nan") if trainer.step >= 12 else loss

    monkeypatch.setattr(trainer.model, "loss", poisoned)
    with pytest.raises(TrainingStopped, match=r"non-finite loss at step 13 .* last good checkpoint is step_0000010"):
        trainer.train()
    assert (tmp_path / "checkpoints" / "step_0000010" / "model.safetensors").is_file()


def test_resume_refuses_a_different_architecture(tmp_path):
    cfg = train_config([*TINY_TOY, "trainer.max_steps=5", "trainer.checkpoint_every=5"])
    run_train(cfg, tmp_path)
    other = train_config([*TINY_TOY, "trainer.max_steps=10", "model.decoder.hidden_size=48"])
    with pytest.raises(CheckpointError, match="different 'model' config"):
        Trainer(other, tmp_path).resume()


def test_results_name_every_machine_a_run_trained_on(tmp_path, caplog):
    """A seed trains bit for bit alike only on one machine, so results.json names the machines that trained the run,
    in order: one for a run trained (and resumed) on this machine, and one more for a checkpoint from elsewhere."""
    here = machine(torch.device("cpu"))
    assert here.startswith("cpu (") and f"torch {torch.__version__}" in here
    first = run_train(train_config([*TINY_TOY, "trainer.max_steps=4", "trainer.checkpoint_every=2"]), tmp_path)
    assert first["machines"] == [here]
    assert run_train(train_config([*TINY_TOY, "trainer.max_steps=6", "trainer.checkpoint_every=2"]),
                     tmp_path)["machines"] == [here]  # resumed here: the same machine, named once

    state = tmp_path / "checkpoints" / (tmp_path / "checkpoints" / "latest").read_text().strip() / "state.json"
    other = "cpu (64 threads, Other CPU), torch 1.0"
    for earlier, named in ([], ["an unrecorded machine"]), ([other], [other]):
        saved = json.loads(state.read_text())
        state.write_text(json.dumps({**saved, "machines": earlier}))
        with caplog.at_level("INFO"):
            trainer = Trainer(train_config([*TINY_TOY, "trainer.max_steps=8"]), tmp_path)
            assert trainer.resume()
        assert trainer.machines == [*named, here]
    assert f"trained on {other} and resumes on {here}" in caplog.text


@pytest.mark.parametrize("damage, message", [
    (lambda best: (best / "model.safetensors").write_bytes(b"\x00" * 100), "corrupt or truncated"),
    (lambda best: (best / "model.safetensors").write_bytes(
        (best / "model.safetensors").read_bytes()[:5000]), "corrupt or truncated"),
    (lambda best: (best / "state.json").write_text('{"format": 99, "version": "9.0"}'), "format 99"),
    (lambda best: (best / "state.json").write_text("not json"), "corrupt checkpoint state"),
])
def test_damaged_checkpoints_give_one_clear_error(tmp_path, damage, message):
    cfg = train_config([*TINY_TOY, "trainer.max_steps=5", "trainer.checkpoint_every=5"])
    run_train(cfg, tmp_path)
    damage(tmp_path / "checkpoints" / "best")
    with pytest.raises(CheckpointError, match=message):
        load_trained(tmp_path, torch.device("cpu"))


def test_a_folder_without_checkpoint_is_a_clear_cli_error(tmp_path):
    result = run_cli(["seq2seq-translate", f"checkpoint={tmp_path}"], cwd=ROOT, stdin="a b\n")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no checkpoint found" in result.stderr
    assert "Traceback" not in result.stderr


def test_bf16_autocast_is_refused_on_the_cpu_with_a_message(tmp_path):
    cfg = train_config([*TINY_TOY, "trainer.max_steps=3", "trainer.precision=bf16", "trainer.device=cpu"])
    with pytest.raises(ConfigError, match="trainer.precision: bf16 autocast is for CUDA GPUs"):
        Trainer(cfg, tmp_path)


def test_progress_is_reported_against_the_budget(tmp_path):
    cfg = train_config([*TINY_TOY, "trainer.max_steps=0", "trainer.max_minutes=0.05", "trainer.log_every=5",
                        "trainer.validate_every=1000"])
    trainer = Trainer(cfg, tmp_path / "minutes")
    assert trainer._bar_budget() == (0.05, "min")
    trainer.train()
    assert trainer.elapsed >= 3.0 and "/0.05 min" in trainer.budget_text()
    by_epochs = Trainer(train_config([*TINY_TOY, "trainer.max_steps=0", "trainer.max_epochs=2"]), tmp_path / "ep")
    assert by_epochs._bar_budget() == (2, "epoch") and by_epochs.budget_text().startswith("epoch 0.00/2 |")
    result = run_cli(["seq2seq-train", *TINY_TOY, "trainer.max_steps=0", "trainer.max_epochs=2",
                      "trainer.log_every=5", f"hydra.run.dir={tmp_path / 'cli'}"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    logged = [line for line in (tmp_path / "cli" / "train.log").read_text().splitlines() if "| epoch " in line]
    assert logged and all("/2 |" in line and " min" in line for line in logged)


def test_tensorboard_scalars_are_written_when_asked(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_train(train_config([*TINY_TOY, "trainer.max_steps=20", "trainer.log_every=10", "trainer.validate_every=10",
                            "trainer.tensorboard=true"]), tmp_path / "tb")
    events = EventAccumulator(str(tmp_path / "tb" / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss/in-reverse", "train/lr", "valid/bleu/in-reverse", "valid/ppl/in-reverse"} <= tags
    assert [e.step for e in events.Scalars("train/loss/in-reverse")] == [10, 20]
    assert not (tmp_path / "plain").exists()
    run_train(train_config([*TINY_TOY, "trainer.max_steps=5", "trainer.validate_every=5"]), tmp_path / "plain")
    assert not (tmp_path / "plain" / "tensorboard").exists()
