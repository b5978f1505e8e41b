"""Every file under conf/ composes and validates; wrong keys and values fail with a message naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from seq2seq.cli.common import describe_composition_error
from seq2seq.config import (
    DecoderConfig,
    EvaluateConfig,
    InitConfig,
    Selection,
    SelectOn,
    TrainConfig,
    TranslateConfig,
    WordVectorsConfig,
    config_dict,
    task_data,
    to_typed,
)
from seq2seq.config.changes import config_changes, trained_keys
from seq2seq.errors import ConfigError

from conftest import ROOT, compose_config, train_config

CONF = ROOT / "conf"


def options(group: str):
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def given_required(overrides: list) -> TrainConfig:
    """The config, with every key the preset leaves to its user (`${required:...}`) given, as its message says."""
    try:
        return train_config(overrides)
    except ConfigError as err:
        needed = re.fullmatch(r"(\S+): this preset needs .+ \(give \1=\.\.\.\)", str(err))
        assert needed, err
        return given_required([*overrides, f"{needed.group(1)}=runs/elsewhere"])


def test_presets_that_need_a_model_are_refused_without_it():
    needing = {}
    for name in options("experiment"):
        try:
            train_config([f"experiment={name}"])
        except ConfigError as err:
            needing[name] = str(err).split(":")[0]
    assert needing == {"multi30k_lowres_many_to_one_finetune": "trainer.finetune_from",
                       "multi30k_lowres_many_to_one_backtranslation": "tasks.2.data.back_translation",
                       "multi30k_lowres_de_en_backtranslation": "tasks.1.data.back_translation",
                       "multi30k_tatoeba_backtranslation": "tasks.2.data.back_translation",
                       "multi30k_lowres_many_to_one_mix": "tasks.2.data.back_translation",
                       "multi30k_lowres_one_to_many_mix": "tasks.3.data.back_translation",
                       "multi30k_lowres_de_en_backtranslation_copy": "tasks.1.data.back_translation",
                       "multi30k_lowres_en_de_backtranslation_copy": "tasks.2.data.back_translation"}
    given = given_required(["experiment=multi30k_lowres_de_en_backtranslation"])
    assert task_data(given.data, given.tasks[1]).back_translation == "runs/elsewhere"


@pytest.mark.parametrize("group", ["data", "model", "task", "trainer", "decoding", "experiment"])
def test_every_option_of_every_group_composes_and_validates(group):
    assert options(group), f"conf/{group} is empty"
    for option in options(group):
        extra = ["data.train=a", "data.valid=b", "data.test=c", "data.src=x", "data.tgt=y"] \
            if (group, option) == ("data", "files") else []
        cfg = given_required([f"{group}={option}", *extra])
        assert isinstance(cfg, TrainConfig)
        assert cfg.tasks, option


def test_translate_and_evaluate_configs_compose():
    for decoding in options("decoding"):
        cfg = to_typed(compose_config("translate", ["checkpoint=run", f"decoding={decoding}"]), TranslateConfig)
        assert cfg.decoding.strategy.value == decoding
    cfg = to_typed(compose_config("evaluate", ["ref=r.txt", "hyps=[a.txt,b.txt]"]), EvaluateConfig)
    assert cfg.hyps == ["a.txt", "b.txt"]


def test_experiments_hold_only_deltas_and_name_their_run():
    for name in options("experiment"):
        text = (CONF / "experiment" / f"{name}.yaml").read_text()
        assert text.startswith("# @package _global_"), name
        assert given_required([f"experiment={name}"]).name == name


def test_reference_model_matches_the_issue():
    cfg = train_config(["experiment=multi30k_reference"])
    enc, dec = cfg.model.encoder, cfg.model.decoder
    assert (enc.cell.value, enc.layers, enc.bidirectional, enc.hidden_size) == ("lstm", 1, True, 128)
    assert (dec.hidden_size, dec.attention.value, dec.input_feeding) == (256, "luong_general", True)
    assert (enc.embedding_dim, dec.embedding_dim, enc.dropout, dec.dropout) == (256, 256, 0.2, 0.2)
    assert (cfg.data.spm.joint, cfg.data.spm.vocab_size, cfg.data.spm.model_type.value) == (True, 8000, "unigram")
    assert (cfg.trainer.batch_tokens, cfg.trainer.lr, cfg.trainer.clip_norm) == (4096, 1e-3, 1.0)
    assert (cfg.trainer.schedule.value, cfg.trainer.label_smoothing, dec.tie_embeddings) == ("constant", 0.0, False)
    # multi30k_attention: the same layers and data, another recipe
    fast = train_config(["experiment=multi30k_attention"])
    assert (fast.model.encoder, fast.data) == (cfg.model.encoder, cfg.data)
    assert fast.model.decoder.hidden_size == dec.hidden_size and fast.model.decoder.tie_embeddings
    assert (fast.trainer.schedule.value, fast.trainer.batch_tokens) == ("linear", 2048)
    # multi30k_quickstart: that recipe on 10 minutes with a 4k vocabulary, nothing else changed
    quick = train_config(["experiment=multi30k_quickstart"])
    assert (quick.data.spm.vocab_size, quick.trainer.max_minutes, fast.trainer.max_minutes) == (4000, 10, 60)
    assert (quick.model, quick.trainer.lr, quick.trainer.schedule, quick.trainer.batch_tokens) == (
        fast.model, fast.trainer.lr, fast.trainer.schedule, fast.trainer.batch_tokens)
    context = train_config(["experiment=multi30k_context"]).model.decoder
    assert context.attention.value == "none"


@pytest.mark.parametrize("override, key", [
    ("model.encoder.dropout=1.5", "model.encoder.dropout"),
    ("decoding.beam_size=0", "decoding.beam_size"),
    ("data.spm.vocab_size=-5", "data.spm.vocab_size"),
    ("trainer.lr=-1", "trainer.lr"),
    ("trainer.select_on=nope", "trainer.select_on"),
    ("model.decoder.input_feeding=true", "model.decoder.input_feeding"),  # on lstm_context: needs attention
])
def test_out_of_range_values_name_the_key(override, key):
    base = ["model=lstm_context"] if "input_feeding" in override else []
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        train_config([*base, override])


def test_select_on_is_parsed_once_into_a_selection():
    shared = ["experiment=toy_shared_decoder"]
    names = [t.name for t in train_config(shared).tasks]
    assert train_config(shared).selection == Selection(SelectOn.mean)  # the preset's select_on: mean
    main = train_config([*shared, "trainer.select_on=main", f"trainer.main_task={names[1]}"])
    assert (main.selection, main.scored_tasks) == (Selection(SelectOn.main), [names[1]])
    one = train_config([*shared, f"trainer.select_on={names[1]}"])
    assert (one.selection, one.scored_tasks, str(one.selection)) == (Selection(SelectOn.task, names[1]),
                                                                     [names[1]], names[1])


def test_wrong_enum_value_lists_allowed_values():
    with pytest.raises(Exception) as info:
        train_config(["model.encoder.cell=transformer"])
    message = describe_composition_error(info.value)
    assert message.startswith("model.encoder.cell:") and "lstm, gru, rnn" in message


def test_tied_embeddings_need_equal_sizes():
    with pytest.raises(ConfigError, match="tie_embeddings"):
        to_typed(OmegaConf.create({"tie_embeddings": True, "embedding_dim": 64, "hidden_size": 128}),
                 DecoderConfig)


def test_conf_tree_has_the_documented_groups():
    for path in ["train.yaml", "translate.yaml", "evaluate.yaml", "data/multi30k.yaml", "data/files.yaml",
                 "data/toy_reverse.yaml", "model/lstm_context.yaml", "model/lstm_attention.yaml",
                 "decoding/greedy.yaml", "decoding/beam.yaml", "decoding/sample.yaml", "task/single.yaml",
                 "experiment/toy_reverse.yaml", "experiment/multi30k_context.yaml",
                 "experiment/multi30k_attention.yaml", "experiment/multi30k_reference.yaml",
                 "experiment/multi30k_quickstart.yaml"]:
        assert Path(CONF / path).is_file(), path


def test_slurm_launcher_preset_composes():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    cfg = compose_config("train", ["hydra/launcher=slurm"], return_hydra_config=True)
    assert cfg.hydra.launcher._target_.endswith("SlurmLauncher")
    assert cfg.hydra.launcher.gpus_per_node == 1


@pytest.mark.parametrize("overrides, key", [
    (["model=gnmt", "model.encoder.bidirectional=false"], "model.encoder.layout"),
    (["model=gnmt", "model.encoder.layers=1"], "model.encoder.layout"),
    (["model=gnmt", "model.decoder.attention=none"], "model.decoder.layout"),
    (["model=gnmt", "model.decoder.input_feeding=true"], "model.decoder.layout"),
])
def test_the_gnmt_layout_refuses_what_it_cannot_be_with_the_key_named(overrides, key):
    with pytest.raises(ConfigError) as info:
        train_config(overrides)
    assert str(info.value).startswith(f"{key}:")


@pytest.mark.parametrize("text", ["decoder:", "embeddings:x:en", "en", "a:b:c:d", "encoder:en:extra"])
def test_a_module_name_is_read_by_one_parser_with_one_message(text):
    with pytest.raises(ConfigError, match=r"^trainer\.init\.module: must be encoder:NAME, decoder:NAME or "):
        train_config([f"trainer.init=[{{module: '{text}', checkpoint: run}}]"])
    assert str(InitConfig(module="embeddings:decoder:de", checkpoint="run").target) == "embeddings:decoder:de"
    with pytest.raises(ConfigError, match=r"^trainer\.word_vectors\.module: must be encoder:NAME, decoder:NAME, got"):
        WordVectorsConfig(module="embeddings:encoder:en", path="vectors.txt")


def test_a_record_older_than_a_config_key_counts_it_at_its_default():
    """What the experiment tools check before reusing a run or a record (seq2seq.config.changes)."""
    def trained(*overrides):
        return trained_keys(config_dict(train_config(["experiment=toy_reverse", *overrides])))

    wanted = trained()
    assert "trainer.lr" in wanted and "trainer.progress" not in wanted and "data.root" not in wanted
    older = {key: value for key, value in wanted.items() if key != "trainer.interval_unit"}
    assert config_changes(older, wanted) == []  # made before the key existed, with the behaviour of its default
    assert config_changes(older, trained("trainer.interval_unit=main_update")) == [
        "trainer.interval_unit: step -> main_update"]
    assert config_changes({**older, "trainer.lr": 0.5}, wanted) == [f"trainer.lr: 0.5 -> {wanted['trainer.lr']}"]
    assert config_changes(wanted, {**wanted, "trainer.new_key": 1}) == ["trainer.new_key: (none) -> 1"]
    assert config_changes(wanted, trained("trainer.progress=false", "trainer.threads=1")) == []  # not trained keys
