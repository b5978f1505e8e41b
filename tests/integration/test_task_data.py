"""Per-task corpora, line ranges and samples, the main task, temperature sampling and shared language embeddings."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import List

import pytest
import torch

from seq2seq import load
from seq2seq.commands.evaluate import from_checkpoint
from seq2seq.commands.train import run_train
from seq2seq.config import DecodingConfig, EvaluateConfig, Strategy, ToyConfig, task_data
from seq2seq.data import corpus as data_corpus
from seq2seq.data.corpus import selection
from seq2seq.data.files import generate_toy, read_lines, write_lines
from seq2seq.errors import ConfigError, DataError, UserError
from seq2seq.runs import backtranslation
from seq2seq.runs.trained import load_trained
from seq2seq.text import Vocab
from seq2seq.training.trainer import Trainer

from conftest import TINY_TOY, train_config

TINY_MODEL = [o for o in TINY_TOY if o.startswith(("model.", "trainer."))]


def two_corpora(root: Path) -> None:
    """Two generated corpora in their own folders, with different sizes and different sentences."""
    generate_toy(root / "small", ToyConfig(train_size=150, valid_size=12, test_size=10, max_length=6, seed=1))
    generate_toy(root / "large", ToyConfig(train_size=600, valid_size=17, test_size=10, max_length=6, seed=2))


def two_task_config(root: Path, *overrides: str):
    """in->reverse from the small corpus (the main task) and in->copy from the large one, one shared encoder."""
    return train_config([
        *TINY_MODEL, "data=files", f"data.root={root}", "data.train=train", "data.valid=val", "data.test=test",
        "data.src=in", "data.tgt=reverse", "data.spm.model_type=word", "data.spm.vocab_size=64",
        "tasks=[{name: rev, src: in, tgt: reverse, encoder: in, decoder: reverse, data: {dir: small}},"
        "{name: cp, src: in, tgt: copy, encoder: in, decoder: copy, data: {dir: large}}]",
        "trainer.max_epochs=0", *overrides])


def test_a_task_data_block_is_merged_over_the_run_data(tmp_path):
    cfg = two_task_config(tmp_path, "+tasks.1.data.max_length=9", "+tasks.1.data.train_lines=5:50")
    small, large = (task_data(cfg.data, t) for t in cfg.tasks)
    assert (small.dir, small.max_length, small.train_lines) == ("small", cfg.data.max_length, "")
    assert (large.dir, large.max_length, large.train_lines, large.valid) == ("large", 9, "5:50", "val")
    assert large.root == cfg.data.root


@pytest.mark.parametrize("override, message", [
    ("+tasks.1.data.max_lenth=9", r"tasks\[cp\]\.data\.max_lenth: no such config key"),
    ("+tasks.1.data.max_length=0", r"tasks\[cp\]\.data\.max_length: must be >= 1"),
    ("+tasks.1.data.train_lines=9:3", r"tasks\[cp\]\.data\.train_lines: must have START < END"),
    ("+tasks.1.data.train_lines=first", r"tasks\[cp\]\.data\.train_lines: must be START:END"),
    ("+tasks.1.data.spm.vocab_size=9", r"tasks\[cp\]\.data\.spm: is set for the whole run"),
])
def test_a_bad_task_data_block_is_refused_naming_the_task_and_key(tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        two_task_config(tmp_path, override)


@pytest.mark.parametrize("override, message", [
    ("tasks.1.data.dir=nowhere", r"task cp: .*nowhere/train\.in: file not found"),
    ("tasks.1.tgt=sort", r"task cp: .*large/train\.sort: file not found .*; this corpus has no 'sort' side "
                          r"\(train\.\* has alt, copy, in, reverse\)"),
    ("+tasks.1.data.train_lines=600:700", r"task cp \(.*large/train\.in/copy\): data\.train_lines='600:700' "
                                          r"selects none of its 600 pairs"),
])
def test_a_bad_task_corpus_is_refused_before_training(tmp_path, override, message):
    two_corpora(tmp_path)
    (tmp_path / "large" / "train.sort").unlink()
    cfg = two_task_config(tmp_path, override)
    with pytest.raises(DataError, match=message):
        Trainer(cfg, tmp_path / "run")
    assert not list((tmp_path / "run").glob("spm.*"))  # refused before SentencePiece was trained


def test_a_missing_test_file_is_refused_before_training(tmp_path):
    two_corpora(tmp_path)
    (tmp_path / "large" / "test.copy").unlink()
    with pytest.raises(DataError, match=r"task cp: .*large/test\.copy: file not found"):
        Trainer(two_task_config(tmp_path), tmp_path / "run")


ONE_TASK = "tasks=[{name: rev, src: in, tgt: reverse, encoder: in, decoder: reverse, data: {dir: small}}]"


def test_a_given_sentencepiece_model_is_every_language_s_and_none_is_trained(tmp_path, monkeypatch):
    """data.spm.model: the run folder gets that file as its model whatever its name and data.spm's options, and
    its data is encoded with it (runs on different data compared on one vocabulary)."""
    two_corpora(tmp_path)
    Trainer(two_task_config(tmp_path), tmp_path / "both")
    given = tmp_path / "both" / "spm.copy-in-reverse.model"
    monkeypatch.setattr(data_corpus, "train_sentencepiece", lambda *a, **k: pytest.fail("a model was trained"))
    one = Trainer(two_task_config(tmp_path, ONE_TASK, f"data.spm.model={given}", "data.spm.vocab_size=16",
                                  f"data.prepared={tmp_path / 'fresh'}"), tmp_path / "one")
    assert (tmp_path / "one" / "spm.in-reverse.model").read_bytes() == given.read_bytes()
    assert len(one.vocabs["in"]) == len(Vocab.load(given)) > 16
    sources = one.vocabs["in"].decode(one.data["rev"].train.ids("src"))
    assert len(sources) == 150 and set(sources) == set(read_lines(tmp_path / "small" / "train.in"))


@pytest.mark.parametrize("override, message", [
    ("data.spm.model={run}/nowhere.model", r"data\.spm\.model: .*nowhere\.model: SentencePiece model not found; "
                                           r"give a SentencePiece \.model file"),
    ("data.spm.model={root}/small/train.in", r"data\.spm\.model: .*train\.in: not a SentencePiece model"),
])
def test_a_missing_or_foreign_given_sentencepiece_model_is_refused(tmp_path, override, message):
    two_corpora(tmp_path)
    cfg = two_task_config(tmp_path, override.format(run=tmp_path / "run", root=tmp_path))
    with pytest.raises(ConfigError, match=message):
        Trainer(cfg, tmp_path / "run")
    assert not list((tmp_path / "run").glob("spm.*"))
    with pytest.raises(ConfigError, match=r"data\.spm\.model: is one model for every language: set "
                                          r"data\.spm\.joint=true"):
        two_task_config(tmp_path, "data.spm.model=x.model", "data.spm.joint=false")


def pair_indices(count, data, seed):
    """The line numbers a task of data config `data` keeps of a file of `count` lines."""
    chosen = selection(data, seed)
    rows = chosen.rows(count)
    return list(range(*chosen.bounds(count))) if rows is None else rows.tolist()


def test_train_lines_and_max_train_pairs_pick_the_exact_pairs_reproducibly():
    cfg = train_config([*TINY_TOY, "data.train_lines=10:30"])
    assert pair_indices(100, cfg.data, seed=1) == list(range(10, 30))
    assert pair_indices(25, cfg.data, seed=1) == list(range(10, 25))  # a range past the end stops at the end
    assert pair_indices(100, train_config([*TINY_TOY, "data.train_lines=:5"]).data, 1) == [0, 1, 2, 3, 4]
    assert pair_indices(100, train_config([*TINY_TOY, "data.train_lines=95:"]).data, 1) == [95, 96, 97, 98, 99]
    sampled = train_config([*TINY_TOY, "data.train_lines=10:30", "data.max_train_pairs=6"]).data
    first = pair_indices(100, sampled, seed=1)
    assert len(first) == 6 and first == sorted(first) and set(first) <= set(range(10, 30))
    assert pair_indices(100, sampled, seed=1) == first
    assert any(pair_indices(100, sampled, seed=s) != first for s in (2, 3, 4))


def test_the_selected_pairs_are_what_the_task_trains_on(tmp_path):
    folder = tmp_path / "numbered"
    write_lines(folder / "train.in", [f"w{i}" for i in range(40)])
    write_lines(folder / "train.reverse", [f"r{i}" for i in range(40)])
    for split in ("val", "test"):
        for lang in ("in", "reverse"):
            write_lines(folder / f"{split}.{lang}", ["w1"])
    cfg = train_config([*TINY_MODEL, "data=files", f"data.root={tmp_path}", "data.dir=numbered", "data.train=train",
                        "data.valid=val", "data.test=test", "data.src=in", "data.tgt=reverse",
                        "data.spm.model_type=word", "data.spm.vocab_size=90", "data.train_lines=7:19",
                        "data.max_train_pairs=5", "trainer.seed=3"])
    trainer = Trainer(cfg, tmp_path / "run")
    data = trainer.data["in-reverse"]
    vocab_in, vocab_out = trainer.vocabs["in"], trainer.vocabs["reverse"]
    expected = pair_indices(40, cfg.data, seed=3)
    assert vocab_in.decode(data.train.ids("src")) == [f"w{i}" for i in expected]
    assert vocab_out.decode(data.train.ids("tgt")) == [f"r{i}" for i in expected]


def test_each_task_reads_its_own_corpus_and_validation_set(tmp_path):
    two_corpora(tmp_path)
    cfg = two_task_config(tmp_path, "trainer.max_steps=30", "trainer.validate_every=30")
    results = run_train(cfg, tmp_path / "run")
    trainer = Trainer(cfg, tmp_path / "run")
    for name, corpus in (("rev", "small"), ("cp", "large")):
        assert trainer.data[name].valid_src == read_lines(tmp_path / corpus / "val.in")
        assert len(trainer.data[name].train) == len(read_lines(tmp_path / corpus / "train.in"))
        assert results["tasks"][name]["train_pairs"] == len(trainer.data[name].train)
        assert results["tasks"][name]["test_sentences"] == 10
        hyps = read_lines(tmp_path / "run" / f"test.{name}.hyp.{cfg.tasks[0 if name == 'rev' else 1].tgt}")
        assert len(hyps) == 10
    # SentencePiece saw the `in` text of both corpora: a word model knows every symbol of either
    known = {trainer.vocabs["in"].processor.id_to_piece(i) for i in range(len(trainer.vocabs["in"]))}
    words = {w for corpus in ("small", "large") for line in read_lines(tmp_path / corpus / "train.in")
             for w in line.split()}
    assert {f"▁{w}" for w in words} <= known


MONOLINGUAL = ("tasks=[{name: rev, src: in, tgt: reverse, encoder: in, decoder: reverse, data: {dir: small}},"
               "{name: ae, src: reverse, tgt: reverse, encoder: mono, decoder: reverse,"
               " data: {dir: mono, valid: '', test: ''}}]")


def test_a_task_without_validation_and_test_splits_trains_only(tmp_path):
    """Monolingual copies (an autoencoder task) come as one file: the task trains the shared decoder, and is
    neither validated nor tested."""
    two_corpora(tmp_path)
    write_lines(tmp_path / "mono" / "train.reverse", read_lines(tmp_path / "large" / "train.reverse"))
    cfg = train_config([*TINY_MODEL, "data=files", f"data.root={tmp_path}", "data.train=train", "data.valid=val",
                        "data.test=test", "data.src=in", "data.tgt=reverse", "data.spm.model_type=word",
                        "data.spm.vocab_size=64", MONOLINGUAL, "trainer.max_steps=30", "trainer.log_every=5",
                        "trainer.validate_every=10"])
    results = run_train(cfg, tmp_path / "run")
    assert results["tasks"]["ae"] == {"train_pairs": 600, "test_sentences": 0}
    assert results["tasks"]["rev"]["test_sentences"] == 10 and "bleu" in results["tasks"]["rev"]
    entries = [json.loads(line) for line in read_lines(tmp_path / "run" / "metrics.jsonl")]
    assert {e["task"] for e in entries if e["kind"] == "valid"} == {"rev"}
    assert sum(e["tokens"].get("ae", 0) for e in entries if e["kind"] == "train") > 0  # it did train
    assert not list((tmp_path / "run").glob("test.ae.*"))
    evaluate = EvaluateConfig(checkpoint=str(tmp_path / "run"), attention_plots=0,
                              decoding=DecodingConfig(strategy=Strategy.greedy))
    assert list(from_checkpoint(evaluate)) == ["rev"]  # every task that has a test split
    with pytest.raises(DataError, match=r"task ae has no test split \(its data\.test is empty\); name the files "
                                        r"to translate with split=PREFIX"):
        from_checkpoint(EvaluateConfig(checkpoint=str(tmp_path / "run"), pair="ae", attention_plots=0))


@pytest.mark.parametrize("overrides, key, fix", [
    ([MONOLINGUAL, "trainer.main_task=ae"], r"tasks\[ae\]\.data\.valid", "give it a validation split$"),
    ([MONOLINGUAL, "trainer.select_on=mean"], r"tasks\[ae\]\.data\.valid", r"or set tasks\[ae\]\.select=false"),
    (["data.valid=''"], r"data\.valid", "give it a validation split$"),
])
def test_the_task_that_selects_checkpoints_must_have_a_validation_split(tmp_path, overrides, key, fix):
    with pytest.raises(ConfigError, match=key + r": is empty, but task \S+ validation BLEU selects the best "
                                            r"checkpoint .*" + fix):
        train_config([*TINY_MODEL, "data=files", f"data.root={tmp_path}", "data.src=in", "data.tgt=reverse",
                      *overrides])
    assert train_config([*TINY_MODEL, "data=files", f"data.root={tmp_path}", "data.src=in", "data.tgt=reverse",
                         MONOLINGUAL, "trainer.select_on=mean", "tasks.1.select=false"])


def test_temperature_sampling_realises_its_probabilities(tmp_path):
    two_corpora(tmp_path)
    cfg = two_task_config(tmp_path, "trainer.task_sampling=temperature", "trainer.sampling_temperature=2")
    trainer = Trainer(cfg, tmp_path / "run")
    sizes = {name: len(d.train) for name, d in trainer.data.items()}
    weights = {name: n ** 0.5 for name, n in sizes.items()}
    expected = {name: w / sum(weights.values()) for name, w in weights.items()}
    counts = Counter(trainer.sampler.task_at(step) for step in range(1, 20001))
    for name, p in expected.items():
        assert abs(counts[name] / 20000 - p) < 0.015, (name, counts, expected)
    assert abs(expected["rev"] - 1 / 3) < 0.01  # sqrt(150) : sqrt(600) = 1 : 2
    ratio = Trainer(two_task_config(tmp_path, "tasks.1.mixing_ratio=3"), tmp_path / "run2")
    assert ratio.sampler.probabilities == pytest.approx([0.25, 0.75])


def test_max_epochs_count_the_main_task(tmp_path):
    two_corpora(tmp_path)
    # the small task is the main one: one epoch of it takes far fewer batches than one of the large task
    cfg = two_task_config(tmp_path, "trainer.max_epochs=2", "trainer.validate_every=100000")
    trainer = Trainer(cfg, tmp_path / "run")
    trainer.train()
    assert trainer.iterators["rev"].epochs_done() == 2  # stopped at the end of its second epoch, not later
    assert trainer.iterators["cp"].epochs_done() < 2
    cfg = two_task_config(tmp_path, "trainer.max_epochs=1", "trainer.main_task=cp", "trainer.validate_every=100000")
    trainer = Trainer(cfg, tmp_path / "run_cp")
    trainer.train()
    assert trainer.iterators["cp"].epochs_done() == 1 and trainer.iterators["rev"].epochs_done() > 2
    assert trainer.task_updates["cp"] + trainer.task_updates["rev"] == trainer.step


@pytest.mark.parametrize("select_on, stops_at", [("main", 3), ("mean", None)])
def test_early_stopping_follows_the_main_task(tmp_path, monkeypatch, select_on, stops_at):
    two_corpora(tmp_path)
    cfg = two_task_config(tmp_path, "trainer.max_steps=6", "trainer.validate_every=1", "trainer.early_stopping=2",
                          f"trainer.select_on={select_on}")
    trainer = Trainer(cfg, tmp_path / "run")
    calls = Counter()

    def fake_validation(name, data):  # the main task never improves, the other one always does
        calls[name] += 1
        return {"loss": 1.0, "ppl": 2.7, "bleu": 10.0 if name == "rev" else float(calls[name])}

    monkeypatch.setattr(trainer, "validate_task", fake_validation)
    trainer.train()
    assert trainer.step == (stops_at or 6)
    assert trainer.best_step == 1 if select_on == "main" else trainer.best_step == 6


@pytest.mark.parametrize("unit", ["step", "main_update"])
def test_validation_counts_steps_or_main_task_updates(tmp_path, monkeypatch, unit):
    two_corpora(tmp_path)
    # one main-task batch for every three of the other: counted in main-task updates, validation keeps its cadence
    cfg = two_task_config(tmp_path, "trainer.max_steps=60", "trainer.validate_every=5", "tasks.1.mixing_ratio=3",
                          "trainer.checkpoint_every=1000", f"trainer.interval_unit={unit}")
    trainer = Trainer(cfg, tmp_path / "run")
    seen, validate = [], trainer.validate_and_select

    def recording():
        seen.append((trainer.step, trainer.task_updates["rev"]))
        return validate()

    monkeypatch.setattr(trainer, "validate_and_select", recording)
    trainer.train()
    main_updates = trainer.task_updates["rev"]
    assert 5 <= main_updates < 30  # about a quarter of the 60 steps
    if unit == "step":
        assert [step for step, _ in seen] == list(range(5, 61, 5))
        return
    # every 5th main-task update, right after the step that made it; then the run's closing validation at step 60
    # (unless that step was one already)
    interval = [(step, updates) for step, updates in seen if step < 60 or updates % 5 == 0]
    assert [updates for _, updates in interval] == list(range(5, main_updates + 1, 5))
    assert all(trainer.sampler.task_at(step) == "rev" for step, _ in interval)
    assert seen[-1][0] == 60


def test_main_task_and_select_on_are_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"trainer\.main_task: must be one of the tasks \['rev', 'cp'\]"):
        two_task_config(tmp_path, "trainer.main_task=nope")
    with pytest.raises(ConfigError, match=r"trainer\.select_on: must be 'main', 'mean' or one of the tasks"):
        two_task_config(tmp_path, "trainer.select_on=best")


def test_shared_language_embeddings_are_one_tensor(tmp_path):
    # many-to-many on generated data: in->reverse, reverse->reverse (an autoencoder) and in->in
    cfg = train_config([*TINY_TOY, "model.share_embeddings=true", "data.spm.joint=false",
                        "model.encoder.embedding_dim=16", "model.decoder.embedding_dim=16",
                        "tasks=[{name: t, src: in, tgt: reverse, encoder: in, decoder: reverse},"
                        "{name: ae, src: reverse, tgt: reverse, encoder: rev, decoder: reverse},"
                        "{name: copy, src: in, tgt: in, encoder: in, decoder: in}]",
                        "trainer.max_steps=6", "trainer.validate_every=6"])
    run_train(cfg, tmp_path)
    model = load_trained(tmp_path, torch.device("cpu")).model
    for m in (Trainer(cfg, tmp_path / "fresh").model, model):
        assert m.encoders["rev"].embed is m.decoders["reverse"].embed
        assert m.encoders["in"].embed is m.decoders["in"].embed
        assert m.encoders["in"].embed is not m.decoders["reverse"].embed
    params = list(model.parameters())
    assert len(params) == len({id(p) for p in params})
    # every task's gradient reaches the one table: the autoencoder's encoder side trains the decoder's embeddings
    model.train()
    trainer = Trainer(cfg, tmp_path / "fresh2")
    trainer.model.zero_grad()
    trainer.model.loss("ae", next(trainer.iterators["ae"])).backward()
    assert trainer.model.decoders["reverse"].embed.weight.grad is not None


def test_sharing_embeddings_needs_one_language_per_module(tmp_path):
    cfg = train_config([*TINY_TOY, "experiment=toy_shared_decoder", "model.share_embeddings=true",
                        "model.encoder.embedding_dim=16", "model.decoder.embedding_dim=16"])
    cfg.tasks[1].encoder = "in"  # one encoder reading `in` and `alt`
    with pytest.raises(ConfigError, match=r"model\.share_embeddings: encoder 'in' reads languages in and alt"):
        Trainer(cfg, tmp_path)
    with pytest.raises(ConfigError, match=r"model\.share_embeddings: needs model\.encoder\.embedding_dim \(16\) =="):
        train_config([*TINY_TOY, "model.share_embeddings=true", "model.encoder.embedding_dim=16",
                      "model.decoder.embedding_dim=32"])


def test_finetuning_starts_from_a_run_and_trains_the_main_task_alone(tmp_path):
    two_corpora(tmp_path)
    run_train(two_task_config(tmp_path, "trainer.max_steps=10", "trainer.validate_every=10"), tmp_path / "multi")
    source = load_trained(tmp_path / "multi", torch.device("cpu")).model
    cfg = two_task_config(tmp_path, "trainer.max_steps=8", "trainer.validate_every=8",
                          f"trainer.finetune_from={tmp_path / 'multi'}")
    fresh = Trainer(cfg, tmp_path / "tuned")
    for (name, p), q in zip(fresh.model.named_parameters(), source.parameters()):
        assert torch.equal(p, q), name  # every weight starts from the source run's best checkpoint
    assert sorted(p.name for p in (tmp_path / "tuned").glob("spm.*")) == \
        sorted(p.name for p in (tmp_path / "multi").glob("spm.*"))
    fresh.train()
    assert fresh.task_updates == {"rev": 8, "cp": 0}
    tuned = fresh.model
    assert all(torch.equal(p, q) for p, q in zip(tuned.decoders["copy"].parameters(),
                                                 source.decoders["copy"].parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(tuned.decoders["reverse"].parameters(),
                                                     source.decoders["reverse"].parameters()))


def back_translation_config(root: Path, model: Path, *overrides: str, target: str = "in"):
    """reverse->in on the small corpus, plus reverse->TARGET on the `mono` corpus's TARGET side alone (pairs
    10-70), its `reverse` sources made by `model` (a TARGET->reverse run)."""
    return train_config([
        *TINY_MODEL, "data=files", f"data.root={root}", "data.train=train", "data.valid=val", "data.test=test",
        "data.src=reverse", "data.tgt=in", "data.spm.model_type=word", "data.spm.vocab_size=64",
        "tasks=[{name: inv, src: reverse, tgt: in, encoder: reverse, decoder: in, data: {dir: small}},"
        f"{{name: bt, src: reverse, tgt: {target}, encoder: reverse, decoder: {target},"
        f" data: {{dir: mono, train_lines: '10:70', back_translation: '{model}', valid: '', test: ''}}}}]",
        "trainer.max_epochs=0", *overrides])


def mono_targets(root: Path) -> List[str]:
    """The two corpora, plus `mono` with the `in` side of the large one alone (no source file: a model writes the
    sources); returns those target lines."""
    two_corpora(root)
    targets = read_lines(root / "large" / "train.in")
    write_lines(root / "mono" / "train.in", targets)
    return targets


def test_a_tag_without_back_translation_is_refused():
    with pytest.raises(ConfigError, match=r"tasks\[inv\]\.data\.back_translation_tag: marks back-translated"):
        back_translation_config(Path("/nowhere"), Path("/nowhere"), "+tasks.0.data.back_translation_tag=true")


def test_back_translated_sources_are_the_model_s_translations_of_the_targets(trained, tmp_path):
    """`trained` (in->reverse) writes the sources of a reverse->in task from its `in` file alone."""
    targets = mono_targets(tmp_path)
    trainer = Trainer(back_translation_config(tmp_path, trained), tmp_path / "run")
    expected = load(trained).translate(targets[10:70], strategy="beam")
    kept = [(s, t) for s, t in zip(expected, targets[10:70]) if s]  # an empty translation drops its pair
    assert len(kept) > 50
    data, vocabs = trainer.data["bt"], trainer.vocabs
    pairs = zip(vocabs["reverse"].decode(data.train.ids("src")), vocabs["in"].decode(data.train.ids("tgt")))
    assert list(pairs) == kept
    # made once: a second start (a resumed run) reads them from the run folder; another decoding makes them anew
    made = tmp_path / "run" / "data" / "backtranslated.bt.reverse"
    assert read_lines(made) == expected
    write_lines(made, [kept[0][0]] * 60)
    again = Trainer(back_translation_config(tmp_path, trained), tmp_path / "run")
    assert set(again.vocabs["reverse"].decode(again.data["bt"].train.ids("src"))) == {kept[0][0]}
    # loading and running the model drew nothing from the run's random state: both starts init the same weights
    for mine, theirs in zip(trainer.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(mine, theirs)
    greedy = Trainer(back_translation_config(tmp_path, trained, "+tasks.1.data.back_translation_decoding=greedy"),
                     tmp_path / "run")
    assert read_lines(made) == load(trained).translate(targets[10:70])
    assert len(greedy.data["bt"].train) == sum(1 for s in read_lines(made) if s)


def test_back_translations_are_made_once_for_every_run_that_needs_them(trained, tmp_path, monkeypatch):
    """Another run (a seed, a variant, a data-parallel rank) back-translating the same lines with the same model
    reads them from data.prepared; other lines or another decoding translate anew."""
    targets = mono_targets(tmp_path)
    prepared = f"data.prepared={tmp_path / 'prepared'}"
    Trainer(back_translation_config(tmp_path, trained, prepared), tmp_path / "first")
    made = read_lines(tmp_path / "first" / "data" / "backtranslated.bt.reverse")
    assert made == load(trained).translate(targets[10:70], strategy="beam")
    calls = []
    real = backtranslation.translate
    monkeypatch.setattr(backtranslation, "translate", lambda *a: calls.append(a[4]) or real(*a))
    Trainer(back_translation_config(tmp_path, trained, prepared, "trainer.seed=2"), tmp_path / "second")
    assert read_lines(tmp_path / "second" / "data" / "backtranslated.bt.reverse") == made and calls == []
    Trainer(back_translation_config(tmp_path, trained, prepared, "tasks.1.data.train_lines=10:40"),
            tmp_path / "fewer")
    assert calls == [targets[10:40]]
    Trainer(back_translation_config(tmp_path, trained, prepared, "+tasks.1.data.back_translation_decoding=greedy"),
            tmp_path / "greedy")
    assert calls == [targets[10:40], targets[10:70]]


def test_tagged_back_translation_starts_every_synthetic_source_with_one_tag_piece(trained, tmp_path):
    """data.back_translation_tag (Caswell et al. 2019): the synthetic sources start with <bt>, one piece of the
    source language's model put before their pieces, and the real task's sources never contain it."""
    mono_targets(tmp_path)
    plain = Trainer(back_translation_config(tmp_path, trained), tmp_path / "plain")
    tagged = Trainer(back_translation_config(tmp_path, trained, "+tasks.1.data.back_translation_tag=true"),
                     tmp_path / "tagged")
    made = [read_lines(tmp_path / run / "data" / "backtranslated.bt.reverse") for run in ("plain", "tagged")]
    assert made[0] == made[1]  # the same translations: the tag is in the ids, not the text
    vocab = tagged.vocabs["reverse"]
    tag = vocab.processor.piece_to_id("<bt>")
    assert tag > 3 and vocab.pieces([tag]) == ["<bt>"] and plain.vocabs["reverse"].processor.piece_to_id("<bt>") == 0
    synthetic = tagged.data["bt"].train.ids("src")
    assert len(synthetic) == len(plain.data["bt"].train) and all(list(ids[:1]) == [tag] for ids in synthetic)
    assert all(tag not in list(ids) for ids in tagged.data["inv"].train.ids("src"))
    # the rest of each source is what the untagged run encodes (the tag is a piece of its own)
    assert vocab.decode([list(ids[1:]) for ids in synthetic]) == \
        plain.vocabs["reverse"].decode(plain.data["bt"].train.ids("src"))
    # given, a model must have the tag (else each would be read as an unknown piece): the plain run's has none
    tagging = ["+tasks.1.data.back_translation_tag=true", "data.spm.model={}"]
    with pytest.raises(ConfigError, match=r"data\.spm\.model: .*plain/spm\.in-reverse\.model has no piece <bt>"):
        Trainer(back_translation_config(tmp_path, trained, tagging[0], tagging[1].format(plain.vocabs["in"].path)),
                tmp_path / "given")
    assert not list((tmp_path / "given").glob("spm.*"))
    given = Trainer(back_translation_config(tmp_path, trained, tagging[0], tagging[1].format(vocab.path)),
                    tmp_path / "given")
    assert given.data["bt"].train.ids("src") == synthetic


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU")])])
def test_back_translation_leaves_the_device_s_random_state_and_trains(trained, tmp_path, device):
    """On DEVICE the model writes the sources (on a GPU nearly all as on the CPU: float sums in another order may
    flip a near-tie), even sampling draws nothing from the device's random state, and the run trains on them."""
    targets = mono_targets(tmp_path)
    made = tmp_path / "run" / "data" / "backtranslated.bt.reverse"
    rng = torch.cuda.get_rng_state if device == "cuda" else torch.get_rng_state
    on = [f"trainer.device={device}", "trainer.max_steps=12", f"data.prepared={tmp_path / 'prepared'}"]
    first = Trainer(back_translation_config(tmp_path, trained, *on), tmp_path / "run")
    assert next(first.model.parameters()).device.type == device
    on_cpu = load(trained).translate(targets[10:70], strategy="beam")
    assert sum(a == b for a, b in zip(read_lines(made), on_cpu)) >= 54, (read_lines(made), on_cpu)
    reading = Trainer(back_translation_config(tmp_path, trained, *on), tmp_path / "run")
    after_reading = rng()
    sampling = Trainer(back_translation_config(tmp_path, trained, *on,
                                               "+tasks.1.data.back_translation_decoding=sample"), tmp_path / "run")
    assert read_lines(made) != on_cpu  # made again, by sampling
    assert torch.equal(rng(), after_reading)
    for mine, theirs in zip(reading.model.state_dict().values(), sampling.model.state_dict().values()):
        assert torch.equal(mine, theirs)
    sampling.train()
    assert sampling.task_updates["bt"] > 0


@pytest.mark.parametrize("model, target, message", [
    ("nowhere", "in", r"task bt: data\.back_translation: \S*nowhere: no such run or checkpoint folder; "
                      r"train that model first or give its folder$"),
    ("run", "copy", r"task bt: data\.back_translation=\S*run: the model translates \S+ \(in->reverse\), "
                    r"not copy->reverse; give a run trained from copy into reverse"),
])
def test_a_bad_back_translation_model_is_refused_before_training(trained, tmp_path, model, target, message):
    two_corpora(tmp_path)
    write_lines(tmp_path / "mono" / f"train.{target}", ["a b"] * 80)
    with pytest.raises(UserError, match=message):
        Trainer(back_translation_config(tmp_path, trained.parent / model, target=target), tmp_path / "run")
    assert not list((tmp_path / "run").glob("spm.*"))
