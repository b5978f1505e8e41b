"""Multi-task training: shared modules, mixing, the one-task case, presets, task choice at translation time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from seq2seq.commands.train import run_train
from seq2seq.data.files import find_file, read_lines
from seq2seq.errors import ConfigError, UserError
from seq2seq.runs.checkpoint import load_weights
from seq2seq.runs.trained import load_trained
from seq2seq.training.trainer import Trainer

from conftest import ROOT, TINY_GNMT, TINY_TOY, train_config

DATA = Path(os.environ.get("SEQ2SEQ_DATA", ROOT.parent / "shared" / "data"))


@pytest.mark.parametrize("model", [[], TINY_GNMT], ids=["reference", "gnmt"])
def test_a_shared_encoder_is_one_module_trained_by_every_task(tmp_path, model):
    cfg = train_config([*TINY_TOY, "experiment=toy_shared_encoder", *model, "trainer.max_steps=1"])
    trainer = Trainer(cfg, tmp_path)
    model = trainer.model
    assert list(model.encoders) == ["in"] and sorted(model.decoders) == ["copy", "reverse"]
    assert model.modules_of("in-reverse")[0] is model.modules_of("in-copy")[0]
    for task, used, unused in (("in-reverse", "reverse", "copy"), ("in-copy", "copy", "reverse")):
        model.zero_grad(set_to_none=True)
        model.loss(task, next(trainer.iterators[task])).backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoders["in"].parameters()
                   if p.requires_grad and p.dim() > 1)
        assert all(p.grad is not None for p in model.decoders[used].parameters())
        assert all(p.grad is None for p in model.decoders[unused].parameters())


def test_a_shared_decoder_serves_two_encoders(tmp_path):
    cfg = train_config([*TINY_TOY, "experiment=toy_shared_decoder", "trainer.max_steps=1"])
    model = Trainer(cfg, tmp_path).model
    assert sorted(model.encoders) == ["alt", "in"] and list(model.decoders) == ["reverse"]
    assert model.modules_of("in-reverse")[1] is model.modules_of("alt-reverse")[1]
    counts = model.parameter_counts()
    assert counts["total"] == sum(counts["encoders"].values()) + sum(counts["decoders"].values())


def test_a_one_task_list_is_exactly_the_single_pair_run(tmp_path):
    single = train_config([*TINY_TOY, "trainer.max_steps=20", "trainer.validate_every=20"])
    explicit = train_config([*TINY_TOY, "trainer.max_steps=20", "trainer.validate_every=20",
                             "tasks=[{name: in-reverse, src: in, tgt: reverse, encoder: in, decoder: reverse}]"])
    a = run_train(single, tmp_path / "a")
    b = run_train(explicit, tmp_path / "b")
    assert a["tasks"] == b["tasks"]
    weights = [Trainer(c, tmp_path / n).model for c, n in ((single, "a"), (explicit, "b"))]
    for run, model in zip(("a", "b"), weights):
        load_weights(model, tmp_path / run / "checkpoints" / "best")
    for (name, p), (_, q) in zip(weights[0].named_parameters(), weights[1].named_parameters()):
        assert torch.equal(p, q), name


def test_trained_task_frequencies_follow_the_mixing_ratios(tmp_path):
    cfg = train_config([*TINY_TOY, "experiment=toy_shared_encoder", "trainer.max_steps=1",
                        "tasks.0.mixing_ratio=3.0"])
    trainer = Trainer(cfg, tmp_path)
    picks = [trainer.sampler.task_at(step) for step in range(1, 8001)]
    assert abs(picks.count("in-reverse") / len(picks) - 0.75) < 0.02


def test_shared_modules_need_one_vocabulary(tmp_path):
    cfg = train_config([*TINY_TOY, "experiment=toy_shared_decoder", "data.spm.joint=false"])
    cfg.tasks[1].decoder = "reverse"
    cfg.tasks[1].encoder = "in"  # in and alt read by one encoder with separate SentencePiece models
    with pytest.raises(ConfigError, match="encoder 'in' is shared by languages"):
        Trainer(cfg, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["toy_shared_encoder", "toy_shared_decoder"])
def test_toy_multitask_presets_reach_bleu_90_on_every_task(tmp_path, experiment):
    results = run_train(train_config([f"experiment={experiment}", "trainer.progress=false"]), tmp_path)
    assert len(results["tasks"]) == 2
    for task, scores in results["tasks"].items():
        assert scores["bleu"] >= 90, (task, scores)
    trained = load_trained(tmp_path, torch.device("cpu"))
    with pytest.raises(UserError, match=r"choose one with pair=NAME"):
        trained.task(None)
    with pytest.raises(UserError, match=r"'nope' is not in this checkpoint; available tasks"):
        trained.task("nope")
    assert trained.task("in-reverse").name == "in-reverse"
    for task in trained.tasks:  # a task can also be named by its language pair
        assert trained.task(f"{task.src}-{task.tgt}") is task


REAL_DATA = pytest.mark.skipif(not (DATA / "multi30k").is_dir() or not (DATA / "tatoeba-fra-eng").is_dir(),
                               reason="Multi30k and tatoeba-fra-eng not under SEQ2SEQ_DATA")
# a preset on its real corpora, made small: the first 1,000 pairs of each corpus, a tiny model, 4 steps
SLICE = [f"data.root={DATA}", "data.spm.vocab_size=300", "data.train_lines=0:1000", "data.valid_max_sentences=8",
         "model.encoder.hidden_size=16", "model.decoder.hidden_size=32", "model.encoder.embedding_dim=16",
         "model.decoder.embedding_dim=16", "trainer.batch_tokens=400", "trainer.max_steps=4",
         "trainer.validate_every=4", "trainer.progress=false"]


@REAL_DATA
@pytest.mark.parametrize("experiment, overrides", [
    ("multi30k_one_to_many", []),
    ("multi30k_many_to_one", []),
    ("multi30k_many_to_many", []),
    ("multi30k_lowres_many_to_one", ["tasks.0.data.train_lines=0:500", "tasks.1.data.train_lines=5000:5500"]),
    ("multi30k_lowres_one_to_many", ["tasks.0.data.train_lines=0:500", "tasks.1.data.train_lines=5000:5500"]),
    ("multi30k_lowres_en_de_copy", ["tasks.0.data.train_lines=0:500", "tasks.1.data.train_lines=5000:5500"]),
    ("multi30k_tatoeba_many_to_one", ["+tasks.1.data.train_lines=0:500"]),
    ("multi30k_tatoeba_autoencoder", ["+tasks.1.data.train_lines=0:500"]),
])
def test_multi30k_presets_train_a_few_steps(tmp_path, experiment, overrides):
    """Every multi-task preset on its real corpora (a slice of each: the first 1,000 or the given lines)."""
    cfg = train_config([f"experiment={experiment}", *SLICE, *overrides])
    trainer = Trainer(cfg, tmp_path)
    trainer.train()
    assert trainer.step == 4 and trainer.best_score is not None
    assert len(trainer.model.tasks) == len(cfg.tasks) >= 2
    for task in cfg.tasks:  # the valid_max_sentences of a task's own data block wins over the run's
        wanted = 0 if task.data.get("valid") == "" else task.data.get("valid_max_sentences", 8)
        assert len(trainer.data[task.name].valid_src) == wanted, task.name


@REAL_DATA
def test_the_tatoeba_back_translation_preset_trains_on_an_en_de_model_s_translations(tmp_path):
    """multi30k_tatoeba_backtranslation on its real corpora: a (tiny) multi30k_en_de run writes the German sources
    of the third task from Tatoeba's English, a corpus without German."""
    run_train(train_config(["experiment=multi30k_en_de", *SLICE]), tmp_path / "en-de")
    cfg = train_config(["experiment=multi30k_tatoeba_backtranslation", *SLICE, "+tasks.1.data.train_lines=0:500",
                        "+tasks.2.data.train_lines=0:60", f"tasks.2.data.back_translation={tmp_path / 'en-de'}"])
    trainer = Trainer(cfg, tmp_path / "run")
    trainer.train()
    assert trainer.step == 4 and set(trainer.model.encoders) == {"de", "fr"}
    made = read_lines(tmp_path / "run" / "data" / "backtranslated.de-en-bt.de")
    english = read_lines(find_file(DATA / "tatoeba-fra-eng", "train", "en"))[:60]
    de, en, limit = trainer.vocabs["de"], trainer.vocabs["en"], cfg.data.max_length
    # each synthetic source beside its own English target; empty ones and over-long pairs (a barely trained model
    # can repeat itself past data.max_length) are dropped like any training pair's
    kept = [t for s, t in zip(made, english)
            if s and len(de.encode([s])[0]) <= limit and len(en.encode([t])[0]) + 1 <= limit]
    assert len(made) == 60 and len(trainer.data["de-en-bt"].train) == len(kept) >= 30, made
    assert trainer.vocabs["en"].decode(trainer.data["de-en-bt"].train.ids("tgt")) == kept
    assert len(trainer.data["de-en-bt"].valid_src) == 0
