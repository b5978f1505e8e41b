"""tools/multitask_table.py: the ablation rows (a row against the same row without one auxiliary task) and the bar a
gain must pass to be a claim."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import multitask_table  # noqa: E402

DATA = Path(os.environ.get("SEQ2SEQ_DATA", ROOT.parent / "shared" / "data"))
REFS = [f"a man rides a horse number {i} down the road" for i in range(40)]
WORSE = [f"a man sits number {i}" for i in range(40)]


def trained_on_b(preset, seed, folder, overrides):
    """train_once's stand-in: a finished run, trained on machine B."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text('{"machines": ["cpu (2 threads, B), torch 2"]}')


def write(records, name, seed, hyps):
    multitask_table.write_record(multitask_table.record_path(records, name, seed), {"hyps": hyps})


def test_an_ablation_pairs_the_seeds_both_rows_have_and_tests_the_median_difference(tmp_path, monkeypatch):
    monkeypatch.setattr(multitask_table, "references", lambda preset, task: REFS)
    row = {"baseline": "base", "task": "de-en", "variant": ""}
    rows = [{**row, "preset": "full", "seeds": [1, 2, 3], "bleu": [30.0, 31.0, 35.0]},
            {**row, "preset": "ablated", "seeds": [3, 2], "bleu": [29.0, 30.5]}]
    write(tmp_path, "full", 3, REFS)  # the median difference's seed (+6.0 on seed 3, +0.5 on seed 2: median +6.0)
    write(tmp_path, "ablated", 3, WORSE)
    x = multitask_table.ablation_of(rows, tmp_path, "full", "ablated", "an auxiliary task")
    assert x["seeds"] == [2, 3] and x["delta"] == [0.5, 6.0] and x["delta_mean"] == 3.25
    assert x["bleu"] == [31.0, 35.0] and x["without_bleu"] == [30.5, 29.0]
    assert x["p_seed"] == 3 and x["p_value"] < 0.05  # perfect translations against much worse ones
    assert multitask_table.ablation_of(rows, tmp_path, "full", "never trained", "x") is None
    table = multitask_table.ablations_markdown([x])
    assert x["holds"] == "not yet: 2 of 3 seeds"
    assert "| an auxiliary task | full | ablated | 2, 3 | 33.00 / 29.75 | +3.25 (+0.50, +6.00) | " in table
    assert table.rstrip().endswith("| not yet: 2 of 3 seeds |")


def test_a_row_shows_each_seed_s_difference_and_the_seed_its_p_is_on():
    """A mean over seeds hides a seed that lost (+1.84 and +3.13, then -8.59: a mean of -1.20): the table gives each
    seed's difference beside the mean, and the seed of the pair its p was computed on."""
    row = {"preset": "multi", "variant": "", "task": "de-en", "baseline": "single", "seeds": [1, 2, 3],
           "bleu": [30.98, 31.24, 19.76], "baseline_bleu": [29.14, 28.11, 28.35], "gain": -1.2, "p_value": 0.001,
           "p_seed": 1, "chrf": [50.0] * 3, "baseline_chrf": [48.0] * 3, "main_task_updates": [5200] * 3,
           "baseline_updates": [8400] * 3, "minutes": [60.0] * 3, "baseline_minutes": [30.0] * 3,
           "stopped": [None] * 3, "baseline_stopped": [None] * 3, "holds": "no", "command": "python ..."}
    line = multitask_table.markdown([row]).splitlines()[4]
    assert "| -1.20 (+1.84, +3.13, -8.59) | 0.001 (seed 1) |" in line, line
    one = {**row, "seeds": [2], "bleu": [31.24], "baseline_bleu": [28.11], "gain": 3.13, "p_seed": 2}
    assert "| +3.13 | 0.001 |" in multitask_table.markdown([one]).splitlines()[4]


def test_a_gain_holds_from_three_seeds_with_p_below_005_and_above_twice_the_larger_sd_else_waits_for_five():
    holds = multitask_table.holds
    assert holds(4.0, [0.5, 1.2], 0.001, 3) == "yes"
    assert holds(4.0, [0.5, 1.2], 0.001, 2) == "not yet: 2 of 3 seeds"
    assert holds(4.0, [0.5, 1.2], 0.06, 5) == "no: p = 0.060"
    assert holds(2.4, [0.5, 1.2], 0.001, 3) == "not yet: spread wide (sd 1.20), 3 of 5 seeds"  # at the bar
    assert holds(2.4, [0.5, 1.2], 0.001, 5) == "no: +2.40 is not above 2 × sd 1.20"  # five seeds: a verdict
    assert holds(2.5, [0.5, 1.2], 0.001, 4) == "yes"
    assert holds(-1.0, [0.1, 0.2], 0.001, 3).startswith("no: -1.00")


def test_a_variant_back_translates_with_another_preset_s_run_and_counts_its_minutes(tmp_path, monkeypatch):
    """--back-translator: the variant's back-translated task reads the same seed's run of the given preset (trained
    first, its own back-translation model before it), and the row's minutes add every training it needed."""
    records, trained, minutes = [], [], {"multi30k_lowres_de_en": 30.0, "multi30k_lowres_one_to_many_mix": 150.0,
                                         "multi30k_lowres_many_to_one_mix@ibt": 120.0}

    def record(preset, seed, task, out, recs, overrides, label=""):
        records.append((label or preset, task, [o for o in overrides if "back_translation" in o]))
        return {"minutes": minutes[label or preset]}

    monkeypatch.setattr(multitask_table, "record", record)
    monkeypatch.setattr(multitask_table, "train_once", lambda preset, seed, run, overrides: trained.append(
        (preset, run.name, tuple(o for o in overrides if "back_translation" in o))))
    out = tmp_path / "runs"
    row = multitask_table.back_translated("multi30k_lowres_many_to_one_mix", 2, "de-en", out, tmp_path, [],
                                          "multi30k_lowres_many_to_one_mix@ibt", [],
                                          "multi30k_lowres_one_to_many_mix")
    assert row["minutes"] == 300.0
    o2m = f"tasks.3.data.back_translation={out / 'multi30k_lowres_de_en' / 'seed2'}"
    m2o = f"tasks.2.data.back_translation={out / 'multi30k_lowres_one_to_many_mix' / 'seed2'}"
    assert records == [("multi30k_lowres_de_en", "de-en", []), ("multi30k_lowres_one_to_many_mix", "en-de", [o2m]),
                       ("multi30k_lowres_many_to_one_mix@ibt", "de-en", [m2o])]
    # in this order (a finished run is asked again at no cost: train_once returns at once)
    assert list(dict.fromkeys(trained)) == [("multi30k_lowres_de_en", "seed2", ()),
                                            ("multi30k_lowres_one_to_many_mix", "seed2", (o2m,))]


def test_a_back_translator_must_translate_the_direction_the_preset_needs():
    check = multitask_table.check_back_translator
    assert check("multi30k_lowres_many_to_one_mix", "multi30k_lowres_one_to_many") == ""  # saw only English there
    # Multi30k is multi-way parallel: a model that trained on the German of pairs 5,000-29,000 (copied, or as a
    # back-translated task's targets) knows the translations of the English it would back-translate
    assert check("multi30k_lowres_many_to_one_mix", "multi30k_lowres_en_de_copy") == (
        "multi30k_lowres_en_de_copy's task de-de trains on the de of pairs 5000:29000 of multi30k, the translations "
        "(a multi-way corpus) of the text multi30k_lowres_many_to_one_mix's task de-en-bt back-translates (pairs "
        "5000:29000): its synthetic de would echo them; give a model that never saw that de")
    assert "task de-de trains on the de of pairs 5000:29000" in check("multi30k_lowres_many_to_one_mix",
                                                                        "multi30k_lowres_one_to_many_mix")
    assert "task fr-en trains on the en of pairs 5000:29000" in check("multi30k_lowres_one_to_many_mix",
                                                                     "multi30k_lowres_many_to_one")
    assert check("multi30k_lowres_one_to_many_mix", "multi30k_lowres_de_en") == ""  # pairs 0-5,000 only
    for preset, (model, _) in multitask_table.BACK_TRANSLATORS.items():  # every row's own model is clean
        assert multitask_table.seen_answers(preset, model) == "", preset
    assert check("multi30k_lowres_many_to_one_mix", "multi30k_lowres_many_to_one") == \
        "multi30k_lowres_many_to_one has no en-de task (its tasks: de-en, fr-en)"
    assert "fine-tunes another run" in check("multi30k_lowres_one_to_many_mix", "multi30k_lowres_many_to_one_finetune")
    assert check("multi30k_lowres_many_to_one", "multi30k_lowres_en_de") == \
        "multi30k_lowres_many_to_one has no back-translated task"
    assert "not a preset of the table" in check("multi30k_lowres_many_to_one_mix", "toy_reverse")
    row = {"preset": "multi30k_lowres_many_to_one_mix", "seeds": [1], "variant": "ibt", "variant_overrides": [],
           "back_translator": "multi30k_lowres_one_to_many"}
    assert multitask_table.row_command(row, []).endswith(
        "--presets multi30k_lowres_many_to_one_mix --seeds 1 --variant ibt "
        "--back-translator multi30k_lowres_one_to_many")


def test_a_variant_takes_the_vocabulary_of_another_preset_s_run_of_the_same_seed(tmp_path, monkeypatch):
    """--vocab-from: each seed's multi-task run gets data.spm.model = that seed's run of the given preset (its
    vocabulary made first while the variant's record is missing), the baseline keeps its own, and the command says
    so."""
    calls, ensured = [], []
    measured = {"hyps": REFS, "test_sha256": multitask_table.text_hash(REFS), "bleu": 30.0, "chrf": 50.0,
                "updates": 100, "minutes": 10.0, "train_pairs": 5000}

    def record(preset, seed, task, out, recs, overrides, label=""):
        calls.append((label or preset, seed, [o for o in overrides if o.startswith("data.spm.")]))
        return measured

    monkeypatch.setattr(multitask_table, "record", record)
    monkeypatch.setattr(multitask_table, "references", lambda preset, task: REFS)
    monkeypatch.setattr(multitask_table, "ensure_vocabulary",
                        lambda preset, seed, out, recs, extra: ensured.append((preset, seed)))
    monkeypatch.setattr(multitask_table, "back_translated",
                        lambda preset, seed, task, out, recs, extra, label, own, model="": record(
                            preset, seed, task, out, recs, own, label))
    out = tmp_path / "runs"
    multitask_table.write_record(multitask_table.record_path(tmp_path, "multi30k_lowres_de_en_backtranslation@v", 1),
                                 measured)  # seed 1 is recorded: its vocabulary's run is not needed
    row = multitask_table.row_of("multi30k_lowres_de_en_backtranslation", [1, 2], out, tmp_path, [], "v", [],
                                 vocab_from="multi30k_lowres_many_to_one_backtranslation")
    given = [f"data.spm.model={out}/multi30k_lowres_many_to_one_backtranslation/seed{s}/spm.de-en-fr.model"
             for s in (1, 2)]
    assert calls == [("multi30k_lowres_de_en", 1, []), ("multi30k_lowres_de_en_backtranslation@v", 1, [given[0]]),
                     ("multi30k_lowres_de_en", 2, []), ("multi30k_lowres_de_en_backtranslation@v", 2, [given[1]])]
    assert ensured == [("multi30k_lowres_many_to_one_backtranslation", 2)]
    assert row["variant_overrides"] == [] and multitask_table.row_command(row, []).endswith(
        "--seeds 1 2 --variant v --vocab-from multi30k_lowres_many_to_one_backtranslation")


def test_a_vocabulary_comes_from_a_joint_model_of_a_preset_the_table_trains():
    check = multitask_table.check_vocab_from
    assert check("multi30k_lowres_en_de_copy", "multi30k_lowres_one_to_many_copy") == ""
    assert "fine-tunes another run" in check("multi30k_lowres_de_en", "multi30k_lowres_many_to_one_finetune")
    assert "not a preset of the table" in check("multi30k_lowres_de_en", "multi30k_many_to_many")
    assert check("multi30k_many_to_many", "multi30k_lowres_one_to_many_copy") == \
        "multi30k_many_to_many has one SentencePiece model per language (data.spm.joint=false), not one to share"


def test_every_ablation_is_its_row_without_one_task_and_nothing_else():
    """A row against 'the same row without one auxiliary task': the preset of the row without it composes to the
    tasks of the row with it less one (the same tasks, in order, with the same options) and to the same model,
    trainer, data and decoding."""
    def tree(label):
        cfg = multitask_table.compose("train", [f"experiment={label.split('@')[0]}"])
        return multitask_table.OmegaConf.to_container(cfg, resolve=False)

    def shared(tasks):
        """The tasks with their modules named by first use: what they share, whatever the modules are called."""
        first = {side: {} for side in ("encoder", "decoder")}
        return [{**t, **{side: first[side].setdefault(t[side], len(first[side])) for side in first}} for t in tasks]

    for with_, without, _ in multitask_table.ABLATIONS:
        full, ablated = tree(with_), tree(without)
        names = [t["name"] for t in ablated["tasks"]]
        assert shared([t for t in full["tasks"] if t["name"] in names]) == shared(ablated["tasks"]), (with_, without)
        assert len(full["tasks"]) == len(names) + 1, (with_, without)
        for key in ("model", "trainer", "data", "decoding"):
            assert full[key] == ablated[key], (with_, without, key)


def test_a_preset_s_variants_are_chosen_on_validation_on_the_seeds_they_all_have():
    """The choice among a preset's variants reads validation BLEU alone, on the seeds every candidate has; a variant
    on another preset's vocabulary (an ablation's control) is no candidate, and a preset without variants no choice."""
    def row(preset, variant, seeds, valid, bleu, vocab_from=""):
        return {"preset": preset, "variant": variant, "seeds": seeds, "valid_bleu": valid, "bleu": bleu,
                "vocab_from": vocab_from}

    rows = [row("mix", "", [1, 2, 3], [30.0, 31.0, 32.0], [35.0, 35.0, 35.0]),
            row("mix", "aux0.5", [2, 1], [31.5, 30.0], [30.0, 30.0]),  # best on validation, worse on test
            row("mix", "tag", [1], [40.0], [40.0]),  # seed 2 missing: no common seed with the others but 1
            row("bt", "", [1], [20.0], [20.0]),
            row("bt", "one_vocab", [1], [25.0], [25.0], vocab_from="mix")]
    choices = multitask_table.choices_of(rows[:2] + rows[3:])
    assert [c["preset"] for c in choices] == ["mix"]  # bt: its one variant is a control, so no choice
    (mix,) = choices
    assert mix["seeds"] == [1, 2] and mix["chosen"] == "mix@aux0.5"
    assert mix["candidates"] == [{"row": "mix", "valid_bleu": 30.5, "bleu": 35.0},
                                 {"row": "mix@aux0.5", "valid_bleu": 30.75, "bleu": 30.0}]
    (mix,) = multitask_table.choices_of(rows)  # with tag: compared on seed 1 alone, where it is best
    assert mix["seeds"] == [1] and mix["chosen"] == "mix@tag"
    table = multitask_table.choices_markdown(choices)
    assert "| mix | 1, 2 | mix: 30.50 (35.00); mix@aux0.5: 30.75 (30.00) | mix@aux0.5 |" in table


@pytest.mark.skipif(not (DATA / "multi30k").is_dir(), reason="Multi30k not under SEQ2SEQ_DATA")
def test_a_lost_run_s_vocabulary_is_made_as_its_training_makes_it_without_training_it(tmp_path, monkeypatch):
    """--vocab-from after the run folder is gone: the back-translation model first, then the synthetic sources, and
    the SentencePiece model comes out byte for byte as the preset's training makes it, with no training of the
    preset; one that differs from the preset's record stops the tool."""
    from seq2seq.commands.train import run_train
    from seq2seq.layout import RunFolder
    from seq2seq.training.trainer import Trainer

    from conftest import train_config
    from trainings import command_overrides

    tiny = [f"data.root={DATA}", "data.spm.vocab_size=300", "data.valid_max_sentences=4", "data.test=",
            "model.encoder.hidden_size=16", "model.decoder.hidden_size=16", "model.encoder.embedding_dim=8",
            "model.decoder.embedding_dim=8", "trainer.max_steps=2", "trainer.validate_every=2",
            "data.train_lines=0:200"]
    preset, out, records = "multi30k_lowres_many_to_one_backtranslation", tmp_path / "runs", tmp_path / "records"
    extra = [*tiny, "tasks.0.data.train_lines=0:200", "tasks.1.data.train_lines=5000:5200",
             "tasks.2.data.train_lines=5000:5200", "data.back_translation_decoding=greedy"]
    models = []

    def ensure_run(model, seed, runs, recs, overrides):  # the en->de model, trained small
        models.append((model, seed))
        run_train(train_config(command_overrides(model, seed, tiny)), multitask_table.run_path(runs, model, seed))

    monkeypatch.setattr(multitask_table, "ensure_run", ensure_run)
    multitask_table.ensure_vocabulary(preset, 1, out, records, extra)
    run = multitask_table.run_path(out, preset, 1)
    made = run / "spm.de-en-fr.model"
    assert models == [("multi30k_lowres_en_de", 1)]
    assert made.is_file() and not RunFolder(run).checkpoints.exists()  # the vocabulary, and no training
    assert len((run / "data" / "backtranslated.de-en-bt.de").read_text().splitlines()) == 200

    given = multitask_table.given_model(preset, "multi30k_lowres_en_de", 1, out)
    trained = tmp_path / "trained"
    monkeypatch.chdir(ROOT)  # where the training command runs
    Trainer(train_config(command_overrides(preset, 1, [*extra, *given])), trained)  # made: data, vocabularies
    assert made.read_bytes() == (trained / made.name).read_bytes()

    multitask_table.write_record(multitask_table.record_path(records, preset, 1),
                                 {"vocab_sha256": {made.name: "0" * 64}})
    with pytest.raises(SystemExit, match=r"spm.de-en-fr.model: not the SentencePiece model .* was measured with"):
        multitask_table.ensure_vocabulary(preset, 1, out, records, extra)


def test_a_run_trained_again_after_its_folder_was_lost_must_reproduce_its_record(tmp_path, monkeypatch):
    """A back-translation model whose folder is gone is trained again; its test translations must be its record's,
    else the rows that read it would silently get another model than the one they were measured with."""
    import shutil

    hyps, decoded = list(REFS), []
    out, records = tmp_path / "runs", tmp_path / "records"
    run = multitask_table.run_path(out, "multi30k_lowres_en_de", 2)

    monkeypatch.setattr(multitask_table, "train_once", trained_on_b)
    monkeypatch.setattr(multitask_table, "test_scores", lambda folder, task: decoded.append(task) or (hyps, REFS, {}))
    write(records, "multi30k_lowres_en_de", 2, REFS)
    multitask_table.ensure_run("multi30k_lowres_en_de", 2, out, records, [])  # reproduced: goes on
    multitask_table.ensure_run("multi30k_lowres_en_de", 2, out, records, [])  # and is not decoded again
    assert decoded == ["en-de"]
    shutil.rmtree(run)  # lost, and trained again into a model that differs on one sentence
    hyps[3] = "a man rides a horse"
    for _ in range(2):  # every invocation stops, not only the one that trained it
        with pytest.raises(SystemExit, match=r"does not reproduce .*seed2.json.gz \(1 of 40 test translations"):
            multitask_table.ensure_run("multi30k_lowres_en_de", 2, out, records, [])
    multitask_table.write_record(multitask_table.record_path(records, "multi30k_lowres_en_de", 2),
                                 {"hyps": REFS, "machines": ["cpu (2 threads, A), torch 2"]})
    with pytest.raises(SystemExit, match=r"lost, on cpu \(2 threads, B\), torch 2, where the record's run trained "
                                         r"on cpu \(2 threads, A\), torch 2,"):  # why it may differ, named
        multitask_table.ensure_run("multi30k_lowres_en_de", 2, out, records, [])
    write(records, "multi30k_lowres_en_de", 2, hyps)  # its rows measured again with it
    multitask_table.ensure_run("multi30k_lowres_en_de", 2, out, records, [])


def test_a_run_retrained_elsewhere_becomes_the_record_and_the_rows_that_read_it_are_measured_again(tmp_path,
                                                                                                   monkeypatch):
    """--retrained: a back-translation model trained again on another machine replaces its record, and every record
    made with it (its back-translations, then the vocabulary of that row's run, and so on) is deleted, unrelated
    ones kept; a run folder trained with the replaced model stops it before anything changes."""
    from omegaconf import OmegaConf

    from trainings import command_config

    out, records, hyps = tmp_path / "runs", tmp_path / "records", list(REFS)
    run = multitask_table.run_path(out, "multi30k_lowres_de_en", 2)
    mix = multitask_table.run_path(out, "multi30k_lowres_one_to_many_mix", 2)

    monkeypatch.setattr(multitask_table, "test_scores", lambda folder, task: (hyps, REFS, {}))
    monkeypatch.setattr(multitask_table, "measure", lambda folder, task: {"hyps": list(hyps), "machines": ["B"]})
    monkeypatch.setattr(multitask_table, "trained_config", lambda preset, seed, overrides: {"seed": seed})
    paths = {name: multitask_table.record_path(records, name, 2) for name in (
        "multi30k_lowres_de_en", "multi30k_lowres_one_to_many_mix", "multi30k_lowres_en_de_backtranslation_copy@v",
        "multi30k_lowres_en_de")}
    configs = {"multi30k_lowres_de_en": {},
               "multi30k_lowres_one_to_many_mix": {"tasks.3.data.back_translation": str(run)},  # its synthetic text
               "multi30k_lowres_en_de_backtranslation_copy@v": {"data.spm.model": str(mix / "spm.de-en-fr.model")},
               "multi30k_lowres_en_de": {"data.spm.model": ""}}  # reads nothing of it
    for name, path in paths.items():
        multitask_table.write_record(path, {"hyps": REFS, "config": configs[name]})

    monkeypatch.setattr(multitask_table, "train_once", lambda *args: pytest.fail("--retrained trained"))
    multitask_table.replace_record("multi30k_lowres_de_en", 2, out, records, [])  # no run here: nothing changes
    assert all(path.is_file() for path in paths.values()) and not run.exists()
    monkeypatch.setattr(multitask_table, "train_once", trained_on_b)
    multitask_table.ensure_run("multi30k_lowres_de_en", 2, out, records, [])  # trained, reproduces its record
    multitask_table.replace_record("multi30k_lowres_de_en", 2, out, records, [])  # reproduces: nothing changes
    assert all(path.is_file() for path in paths.values())
    assert multitask_table.read_record(paths["multi30k_lowres_de_en"]).get("machines") is None

    hyps[5] = "a horse"  # trained again elsewhere: one sentence differs
    (run / "reproduces.sha256").unlink(missing_ok=True)
    stale = f"{paths['multi30k_lowres_one_to_many_mix']}, {paths['multi30k_lowres_en_de_backtranslation_copy@v']}"
    with pytest.raises(SystemExit, match=rf"run again with --retrained multi30k_lowres_de_en .*\({stale}\)"):
        multitask_table.ensure_run("multi30k_lowres_de_en", 2, out, records, [])

    untracked = multitask_table.run_path(out, "multi30k_lowres_one_to_many_copy", 2) / ".hydra" / "config.yaml"
    untracked.parent.mkdir(parents=True)  # a run with no record yet, trained with the replaced model's text
    OmegaConf.save(OmegaConf.structured(command_config("multi30k_lowres_one_to_many_mix", 2, [
        f"tasks.3.data.back_translation={run}"])), untracked)
    mix.mkdir(parents=True)  # and the mix's own folder
    with pytest.raises(SystemExit, match=rf"--retrained multi30k_lowres_de_en: {mix}, {untracked.parents[1]} read"):
        multitask_table.replace_record("multi30k_lowres_de_en", 2, out, records, [])
    assert all(path.is_file() for path in paths.values())  # nothing changed

    shutil.rmtree(mix)
    shutil.rmtree(untracked.parents[1])
    multitask_table.replace_record("multi30k_lowres_de_en", 2, out, records, [])
    assert sorted(path for path in paths.values() if path.is_file()) == sorted(
        [paths["multi30k_lowres_de_en"], paths["multi30k_lowres_en_de"]])
    assert multitask_table.read_record(paths["multi30k_lowres_de_en"]) == {"hyps": hyps, "machines": ["B"],
                                                                           "config": {"seed": 2}}
    multitask_table.ensure_run("multi30k_lowres_de_en", 2, out, records, [])  # reproduces its new record


def test_rebuild_makes_every_row_again_from_the_records_and_trains_nothing(tmp_path, monkeypatch):
    """--rebuild: a baseline record that changed (trained again) moves the row that reads it, without the row being
    asked for; a missing record stops it before any row is written, naming the record and the row's command."""
    records, page, table = tmp_path / "records", tmp_path / "page.md", tmp_path / "table.json"
    page.write_text("".join(f"{a}\n{b}\n" for a, b in (multitask_table.MARKERS, multitask_table.ABLATION_MARKERS,
                                                       multitask_table.CHOICE_MARKERS)))

    def measured(bleu, hyps):
        return {"hyps": hyps, "test_sha256": multitask_table.text_hash(REFS), "bleu": bleu, "chrf": bleu + 20,
                "updates": 5000, "minutes": 30.0, "train_pairs": 5000, "stopped": "patience", "epochs": 50,
                "valid_bleu": bleu - 2, "config": {}}

    for seed, multi, single in ((1, 31.0, 29.0), (2, 32.0, 28.0)):
        multitask_table.write_record(multitask_table.record_path(records, "multi30k_lowres_many_to_one", seed),
                                     measured(multi, REFS))
        multitask_table.write_record(multitask_table.record_path(records, "multi30k_lowres_de_en", seed),
                                     measured(single, WORSE))
    monkeypatch.setattr(multitask_table, "references", lambda preset, task: REFS)
    monkeypatch.setattr(multitask_table, "trained_config", lambda preset, seed, overrides: {})
    monkeypatch.setattr(multitask_table, "train_once", lambda *args: pytest.fail("--rebuild trained"))

    def tool(*args):
        monkeypatch.setattr(sys, "argv", ["multitask_table.py", "--records", str(records), "--json", str(table),
                                          "--readme", str(page), "--out", str(tmp_path / "runs"), *args])
        multitask_table.main()
        return multitask_table.json.loads(table.read_text())["rows"]

    assert tool("--presets", "multi30k_lowres_many_to_one", "--seeds", "1", "2")[0]["gain"] == 3.0
    multitask_table.write_record(multitask_table.record_path(records, "multi30k_lowres_de_en", 2),
                                 measured(26.0, WORSE))  # the baseline's seed 2, trained again
    [row] = tool("--rebuild")
    assert row["baseline_bleu"] == [29.0, 26.0] and row["gain"] == 4.0 and row["seeds"] == [1, 2]
    assert "| +4.00 (+2.00, +6.00) |" in page.read_text()
    before = table.read_text()
    tool("--retrained", "multi30k_lowres_de_en", "--seeds", "1", "2")  # alone it asks for no row (and has no run)
    assert table.read_text() == before
    multitask_table.record_path(records, "multi30k_lowres_many_to_one", 1).unlink()
    with pytest.raises(SystemExit, match=r"--rebuild: row multi30k_lowres_many_to_one reads .*many_to_one/seed1"
                                         r"\.json\.gz, which are missing; measure them with .*--presets "
                                         r"multi30k_lowres_many_to_one --seeds 1 2$"):
        tool("--rebuild")
    assert table.read_text() == before
    mix = {"preset": "multi30k_lowres_many_to_one_mix", "variant": "ibt", "baseline": "multi30k_lowres_de_en",
           "back_translator": "multi30k_lowres_one_to_many_mix"}  # a chain: the mix's de->en model writes its text
    assert [p.parent.name for p in multitask_table.records_read(mix, 3, records)] == [
        "multi30k_lowres_many_to_one_mix@ibt", "multi30k_lowres_de_en", "multi30k_lowres_one_to_many_mix",
        "multi30k_lowres_de_en"]


def test_a_run_config_the_training_command_would_refuse_stops_the_tool_before_any_training(tmp_path, monkeypatch,
                                                                                              capsys):
    """Every run a row may train is composed and checked first, in the command's own words: a variant's override
    that the preset cannot take, a bad value, a bad extra override of every run (the baseline named)."""
    monkeypatch.setattr(multitask_table, "train_once", lambda *args: pytest.fail("trained before the check"))
    monkeypatch.setattr(sys, "argv", ["multitask_table.py", "--out", str(tmp_path / "runs"), "--records",
                                      str(tmp_path / "records"), "--json", str(tmp_path / "t.json"), "--readme",
                                      str(tmp_path / "page.md"), "--presets", "multi30k_lowres_de_en_backtranslation",
                                      "--seeds", "3", "--variant", "tagged", "--variant-overrides",
                                      "tasks.1.data.back_translation_tag=true"])
    with pytest.raises(SystemExit):
        multitask_table.main()
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "error: multi30k_lowres_de_en_backtranslation: tasks.1.data.back_translation_tag: the preset's task does not "
        "set this key, so give it as an addition: +tasks.1.data.back_translation_tag=true")
    assert not (tmp_path / "runs").exists() and not (tmp_path / "records").exists()
    problem = multitask_table.row_config_problem
    assert problem("multi30k_lowres_de_en_backtranslation", 3, tmp_path, [],
                   ["+tasks.1.data.back_translation_tag=true"]) is None  # the back-translation model given
    assert problem("multi30k_lowres_one_to_many_mix", 1, tmp_path, [], ["tasks.1.mixing_ratio=-1"]) == (
        "multi30k_lowres_one_to_many_mix: tasks[en-fr].mixing_ratio: must be > 0, got -1.0")
    assert problem("multi30k_lowres_many_to_one_finetune", 1, tmp_path, ["model.encoder.dropout=1.5"], []) == (
        "multi30k_lowres_de_en: model.encoder.dropout: must be in [0, 1), got 1.5")


def test_the_tool_refuses_a_seq2seq_from_another_checkout_than_the_one_its_trainings_run(tmp_path):
    # Trainings run `python -m seq2seq.cli.train` from the tool's checkout; a second worktree's editable install on
    # the path would have the tool compose and score with other code than it trains with. (With its own checkout's
    # package the tool imports: this module imported it above.)
    other = tmp_path / "other"
    shutil.copytree(ROOT / "seq2seq", other / "seq2seq", symlinks=True)
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "multitask_table.py"), "--help"], cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(other)}, capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.strip() == (f"multitask_table.py: imports seq2seq from {other / 'seq2seq'}, but its trainings "
                                  f"run this checkout's ({ROOT / 'seq2seq'}); run it with PYTHONPATH={ROOT} "
                                  f"(or pip install -e {ROOT})")
