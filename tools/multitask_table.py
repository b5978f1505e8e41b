#!/usr/bin/env python
r"""Multi-task presets against their single-task baselines on the main task, over several seeds.

Each row is a multi-task preset and the single-task preset trained on exactly its main task's data (same model,
recipe and stopping rule: both stop on the main task's validation BLEU). For every seed the tool trains what is
missing, one run after the other (a finished run, one with results.json, is reused; a killed one resumes from its
last checkpoint), translates the main task's test set (test_2016_flickr) with beam 5 from each best checkpoint and
writes `docs/results/multitask.json` and the table between the multitask-table markers of docs/multitask.md (after
each row, so a list of presets is a queue that a killed invocation leaves half done, never lost), with a table
of ablations below it (ABLATIONS: a row against the same row without one auxiliary task) and one of the choices
among a preset's variants, made on validation BLEU (choices_of). p is
the project's paired significance test (approximate randomisation, seq2seq.evaluation.significance) on the
median pair: the seed whose difference is the median (the ablations' p alike). A fine-tuning row starts from the
same seed's run of its parent preset; a row with a back-translated task first trains the same seed's
back-translation model (BACK_TRANSLATORS) and gives it to the preset's back-translation keys. Either row's
minutes count that other training too.

    SEQ2SEQ_DATA=../shared/data python tools/multitask_table.py --presets multi30k_lowres_many_to_one --seeds 1 2 3

A table grows over several invocations, and sessions: runs live in --out (default runs/multitask/PRESET/seedN),
and every measured run leaves a record (its test translations and numbers, docs/results/multitask/PRESET/
seedN.json.gz, committed) from which a later invocation builds the row without the run folder. A run or record made
with another training config than the preset and overrides compose to now (say, after a preset's patience changed)
is refused with the keys that differ, never reused: delete the record and the run folder to measure it again. A
run that other rows read (a back-translation model) must give its record's test translations word for word (checked
once per run folder: one trained again after its folder was lost may not), and a remade vocabulary its record's
sha256, or the tool stops. A run trained again on another machine (its seeds train bit for bit alike only on one)
becomes its record with --retrained PRESET, which deletes the records of the rows that read it so that they are
measured again with it, and --rebuild (last) makes every row of the table again from the records alone, so that the
rows whose baseline it is move with it:

    SEQ2SEQ_DATA=../shared/data python tools/multitask_table.py --retrained multi30k_lowres_de_en \
        --presets multi30k_lowres_one_to_many_mix --seeds 1 2 3 --rebuild

A variant (say, another mixing ratio, chosen on validation) is a row of its own, PRESET@NAME, whose multi-task runs
take --variant-overrides and whose baseline is the preset's:

    SEQ2SEQ_DATA=../shared/data python tools/multitask_table.py --presets multi30k_lowres_many_to_one_mix \
        --seeds 1 --variant aux0.5 --variant-overrides tasks.1.mixing_ratio=0.5 tasks.2.mixing_ratio=0.5

A variant may also take its back-translation model from another preset's run of the same seed (--back-translator,
trained first if missing, its minutes counted): a multi-task model that translates better than the single-task
baseline writes better synthetic sources (iterative back-translation, Hoang et al. 2018):

    SEQ2SEQ_DATA=../shared/data python tools/multitask_table.py --presets multi30k_lowres_many_to_one_mix \
        --seeds 1 --variant bt_o2m --back-translator multi30k_lowres_one_to_many

(a model that trained on the German of the lines it would back-translate, as the copy and mix presets do, is
refused: Multi30k is multi-way parallel, so that German is the answer, seen_answers)

or its SentencePiece model from another preset's run of the same seed (--vocab-from): a row without an auxiliary
language on the vocabulary of the row with it, so that their ablation compares the task, not two vocabularies (a
4,000-piece model shared with French keeps fewer German and English pieces). Only that model is needed: where the
run folder is gone it is made as the run's training makes it, without training (ensure_vocabulary):

    SEQ2SEQ_DATA=../shared/data python tools/multitask_table.py --presets multi30k_lowres_de_en_backtranslation \
        --seeds 1 --variant one_vocab --vocab-from multi30k_lowres_many_to_one_backtranslation
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import statistics
import sys
from functools import cache
from pathlib import Path
from typing import Any, Dict, List, Sequence

import torch
from omegaconf import DictConfig, OmegaConf

from seq2seq.atomic import write_atomic
from seq2seq.config import TrainConfig, compose, task_data, to_typed
from seq2seq.data.corpus import read_split
from seq2seq.data.download import sha256_of_file
from seq2seq.evaluation.significance import paired_p_value
from seq2seq.layout import RunFolder
from seq2seq.runs.folder import read_checkpoint
from seq2seq.training.parts import training_data

from trainings import (
    ROOT,
    command_config,
    comparable,
    config_problem,
    refuse_stale,
    test_scores,
    train_once,
    trained_config,
)

# preset -> (its single-task baseline preset, the main task, the preset it fine-tunes or None)
ROWS = {
    "multi30k_lowres_many_to_one": ("multi30k_lowres_de_en", "de-en", None),
    "multi30k_lowres_many_to_one_autoencoder": ("multi30k_lowres_de_en", "de-en", None),
    "multi30k_lowres_many_to_one_separate": ("multi30k_lowres_de_en", "de-en", None),
    "multi30k_lowres_many_to_one_finetune": ("multi30k_lowres_de_en", "de-en", "multi30k_lowres_many_to_one"),
    "multi30k_lowres_many_to_one_backtranslation": ("multi30k_lowres_de_en", "de-en", None),
    "multi30k_lowres_de_en_backtranslation": ("multi30k_lowres_de_en", "de-en", None),
    "multi30k_lowres_many_to_one_mix": ("multi30k_lowres_de_en", "de-en", None),
    "multi30k_lowres_de_en_backtranslation_copy": ("multi30k_lowres_de_en", "de-en", None),
    "multi30k_lowres_one_to_many": ("multi30k_lowres_en_de", "en-de", None),
    "multi30k_lowres_one_to_many_copy": ("multi30k_lowres_en_de", "en-de", None),
    "multi30k_lowres_en_de_copy": ("multi30k_lowres_en_de", "en-de", None),
    "multi30k_lowres_one_to_many_mix": ("multi30k_lowres_en_de", "en-de", None),
    "multi30k_lowres_en_de_backtranslation_copy": ("multi30k_lowres_en_de", "en-de", None),
    "multi30k_tatoeba_many_to_one": ("multi30k_de_en", "de-en", None),
    "multi30k_tatoeba_autoencoder": ("multi30k_de_en", "de-en", None),
    "multi30k_tatoeba_backtranslation": ("multi30k_de_en", "de-en", None),
}
# preset -> the preset of the model its back-translated task uses (trained first, same seed, in --out, and given
# to the preset's back-translation keys; its minutes count in the row)
BACK_TRANSLATORS = {
    "multi30k_lowres_many_to_one_backtranslation": ("multi30k_lowres_en_de", "en-de"),
    "multi30k_lowres_de_en_backtranslation": ("multi30k_lowres_en_de", "en-de"),
    "multi30k_lowres_many_to_one_mix": ("multi30k_lowres_en_de", "en-de"),
    "multi30k_lowres_one_to_many_mix": ("multi30k_lowres_de_en", "de-en"),
    "multi30k_lowres_de_en_backtranslation_copy": ("multi30k_lowres_en_de", "en-de"),
    "multi30k_lowres_en_de_backtranslation_copy": ("multi30k_lowres_de_en", "de-en"),
    "multi30k_tatoeba_backtranslation": ("multi30k_en_de", "en-de"),
}
# (a row with an auxiliary task, the row without it, what their difference measures): how much of a row's gain
# each auxiliary task gives on top of the others, on the seeds both rows have
ABLATIONS = [
    ("multi30k_lowres_many_to_one_backtranslation", "multi30k_lowres_de_en_backtranslation",
     "fr->en, on top of back-translation"),
    ("multi30k_lowres_many_to_one_backtranslation", "multi30k_lowres_de_en_backtranslation@one_vocab",
     "fr->en, on top of back-translation, on one vocabulary"),
    ("multi30k_lowres_many_to_one_backtranslation", "multi30k_lowres_many_to_one",
     "back-translation, on top of fr->en"),
    ("multi30k_lowres_many_to_one_mix", "multi30k_lowres_many_to_one_backtranslation",
     "the en->en copy, on top of fr->en and back-translation"),
    ("multi30k_lowres_many_to_one_mix", "multi30k_lowres_de_en_backtranslation_copy@one_vocab",
     "fr->en, on top of back-translation and the en->en copy, on one vocabulary"),
    ("multi30k_lowres_one_to_many_copy", "multi30k_lowres_en_de_copy", "en->fr, on top of the copied German"),
    ("multi30k_lowres_one_to_many_copy", "multi30k_lowres_en_de_copy@one_vocab",
     "en->fr, on top of the copied German, on one vocabulary"),
    ("multi30k_lowres_one_to_many_copy", "multi30k_lowres_one_to_many", "the copied German, on top of en->fr"),
    ("multi30k_lowres_one_to_many_mix", "multi30k_lowres_one_to_many_copy",
     "back-translation, on top of en->fr and the copied German"),
    ("multi30k_lowres_one_to_many_mix", "multi30k_lowres_en_de_backtranslation_copy@one_vocab",
     "en->fr, on top of the copied German and back-translation, on one vocabulary"),
]
MIN_SEEDS = 3  # a gain is a claim from this many seeds on (with p < 0.05 and above twice the larger seed sd)
WIDE_SEEDS = 5  # a row whose spread is too wide for its gain is judged from this many seeds on, not from 3
MARKERS = ("<!-- multitask-table -->", "<!-- /multitask-table -->")
ABLATION_MARKERS = ("<!-- multitask-ablations -->", "<!-- /multitask-ablations -->")
CHOICE_MARKERS = ("<!-- multitask-choices -->", "<!-- /multitask-choices -->")


def measure(run: Path, task: str) -> Dict[str, Any]:
    """Beam-5 test translations of the main task by the run's best checkpoint, and what training cost."""
    hyps, refs, scores = test_scores(run, task)
    best = read_checkpoint(run).state
    results = json.loads(RunFolder(run).results.read_text(encoding="utf-8"))
    return {"hyps": hyps, "test_sha256": text_hash(refs), "bleu": scores["bleu"], "chrf": scores["chrf"],
            "updates": best.get("task_updates", {}).get(task, best["step"]), "best_step": best["step"],
            "minutes": round(results["training_seconds"] / 60, 1), "epochs": results["epochs"],
            "valid_bleu": results["best_validation_score"],  # what mixes are chosen on, never the test set
            "stopped": results["stopped"],
            "train_pairs": results["tasks"][task].get("train_pairs"),
            "machines": results.get("machines", []),  # what trained it: a run trained again elsewhere may differ
            "vocab_sha256": {model.name: sha256_of_file(model) for model in sorted(run.glob("spm.*.model"))}}


def text_hash(lines: List[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def record_path(records: Path, preset: str, seed: int) -> Path:
    return records / preset / f"seed{seed}.json.gz"


def run_path(out: Path, label: str, seed: int) -> Path:
    """The run folder of a preset's (or PRESET@VARIANT's) seed under --out."""
    return out / label / f"seed{seed}"


def read_record(path: Path) -> Dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))


def write_record(path: Path, measured: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, gzip.compress(json.dumps(measured).encode("utf-8"), mtime=0))


def record(preset: str, seed: int, task: str, out: Path, records: Path, overrides: List[str],
           label: str = "") -> Dict[str, Any]:
    """One run's test translations and numbers: from its committed record (so a table grows over sessions whose
    run folders are gone), else trained if need be, measured and recorded. `label` (default: the preset) names
    the record and run folders: PRESET@VARIANT for a variant's overrides."""
    label = label or preset
    path = record_path(records, label, seed)
    wanted = trained_config(preset, seed, overrides)
    if path.is_file():
        kept = read_record(path)
        refuse_stale(path, kept["config"], preset, wanted, "delete it (and its run folder) to measure "
                     "the preset as it is")
        return kept
    run = run_path(out, label, seed)
    train_once(preset, seed, run, overrides)
    measured = {**measure(run, task), "config": wanted}
    write_record(path, measured)
    return measured


@cache
def composed(preset: str) -> DictConfig:
    """A preset's training config as composed from conf/, untyped (once per invocation; callers never change it)."""
    return compose("train", [f"experiment={preset}"])


def back_translation_keys(preset: str) -> List[str]:
    """The keys of the preset's tasks whose back-translation model it leaves to its user (`${required:...}`)."""
    tasks = OmegaConf.to_container(composed(preset).tasks, resolve=False)
    return [f"tasks.{i}.data.back_translation" for i, spec in enumerate(tasks)
            if "${required:" in str((spec.get("data") or {}).get("back_translation", ""))]


def back_translated(preset: str, seed: int, task: str, out: Path, records: Path, extra: List[str],
                    label: str, own: List[str], model_preset: str = "") -> Dict[str, Any]:
    """The record of a preset with a back-translated task: the same seed's run of its back-translation model
    (BACK_TRANSLATORS, or `model_preset`: a variant's, say a multi-task model that translates better, i.e.
    iterative back-translation) is trained first unless the preset's record exists, given to the preset's
    back-translation keys, and its minutes are counted. `own`: overrides of the preset's run alone (a variant's)."""
    model_preset = model_preset or BACK_TRANSLATORS[preset][0]
    if not record_path(records, label, seed).is_file():  # to back-translate, the model's run folder is needed
        ensure_run(model_preset, seed, out, records, extra)
    model = model_record(model_preset, seed, out, records, extra)
    mine = record(preset, seed, task, out, records, [*extra, *given_model(preset, model_preset, seed, out), *own],
                  label)
    return {**mine, "minutes": round(model["minutes"] + mine["minutes"], 1)}


def row_config_problem(preset: str, seed: int, out: Path, extra: List[str], own: Sequence[str] = (),
                       back_translator: str = "") -> str | None:
    """The first run of a row whose config the training command would refuse (its baseline, the preset it tunes,
    its back-translation model, the multi-task run with a variant's overrides `own`), named with the command's
    reason; None if every one composes and validates. Checked for every row asked for before the first training,
    so that a mistyped override stops a queue at its start, not hours into it."""
    baseline, _, parent = ROWS[preset]
    model = back_translator or BACK_TRANSLATORS.get(preset, ("",))[0]
    given = given_model(preset, model, seed, out) if preset in BACK_TRANSLATORS else []
    runs = [(name, extra) for name in (baseline, parent, model) if name] + [(preset, [*extra, *given, *own])]
    for name, overrides in runs:
        if why := config_problem(name, seed, overrides):
            return f"{name}: {why}"
    return None


def given_model(preset: str, model_preset: str, seed: int, out: Path) -> List[str]:
    """The overrides that give the preset's back-translation keys the same seed's run of `model_preset`."""
    return [f"{key}={named(run_path(out, model_preset, seed))}" for key in back_translation_keys(preset)]


def given_vocabulary(vocab_preset: str, seed: int, out: Path) -> List[str]:
    """The override that gives a run the (joint) SentencePiece model of the same seed's run of `vocab_preset`."""
    return [f"data.spm.model={named(run_path(out, vocab_preset, seed)) / vocabulary_name(vocab_preset)}"]


def vocabulary_name(preset: str) -> str:
    """The file name of a preset's joint SentencePiece model in its run folder."""
    tasks = composed(preset).tasks  # untyped: a back-translation key is unset
    return RunFolder.vocab_names([lang for t in tasks for lang in (t.src, t.tgt)], joint=True)[tasks[0].src]


def ensure_vocabulary(preset: str, seed: int, out: Path, records: Path, extra: List[str]) -> None:
    """The SentencePiece model of the seed's run of `preset` in its run folder, made as that run's training makes
    it (the same data stage: its back-translation model trained first, the synthetic sources made, the text
    sampled) but without training it: a variant needs the run's vocabulary, not its weights, so a lost run folder
    costs minutes (and its back-translation model), not the whole training again. A model that differs from the
    one the preset's record was measured with stops the tool."""
    run = run_path(out, preset, seed)
    model = run / vocabulary_name(preset)
    if not model.is_file():
        given = own_back_translator(preset, seed, out, records, extra)
        print(f"making the vocabulary of {preset} seed {seed} in {run} (no training)", flush=True)
        cfg = command_config(preset, seed, [*extra, *given])
        cwd = Path.cwd()
        os.chdir(ROOT)  # where the training command runs: relative paths read the same
        try:
            training_data(cfg, run, torch.device("cpu"))
        finally:
            os.chdir(cwd)
    kept = record_path(records, preset, seed)
    made = read_record(kept).get("vocab_sha256", {}) if kept.is_file() else {}
    if model.name in made and made[model.name] != sha256_of_file(model):
        sys.exit(f"{model}: not the SentencePiece model {kept} was measured with (its sha256 differs); delete "
                 f"{run} and train the preset there, or measure the variant on another seed")


def named(run: Path) -> Path:
    """A run folder as a record's config keeps it: relative to the checkout when inside it."""
    return run.relative_to(ROOT) if run.is_relative_to(ROOT) else run


def own_back_translator(preset: str, seed: int, out: Path, records: Path, extra: List[str]) -> List[str]:
    """The overrides that give a back-translating preset the same seed's run of its own back-translation model
    (BACK_TRANSLATORS), trained first if missing; none for another preset."""
    if preset not in BACK_TRANSLATORS:
        return []
    ensure_run(BACK_TRANSLATORS[preset][0], seed, out, records, extra)
    return given_model(preset, BACK_TRANSLATORS[preset][0], seed, out)


def ensure_run(preset: str, seed: int, out: Path, records: Path, extra: List[str]) -> None:
    """The preset's run folder for the seed, trained unless finished (a back-translating preset's model first).
    A run with a record must reproduce it: one trained again because its folder was lost may not, and the rows that
    read it (its back-translations, its vocabulary) were measured with the lost one."""
    run, kept = run_path(out, preset, seed), record_path(records, preset, seed)
    if kept.is_file() and not RunFolder(run).results.is_file():
        print(f"{run}: trained again for the rows that read it; it must reproduce its record, made on "
              f"{trained_on(read_record(kept).get('machines'))}", flush=True)
    train_once(preset, seed, run, [*extra, *own_back_translator(preset, seed, out, records, extra)])
    if kept.is_file():
        check_reproduced(run, main_task(preset), kept)


def check_reproduced(run: Path, task: str, kept: Path) -> None:
    """Stop unless the run's beam-5 test translations are its record's, word for word (compared once: the run
    folder keeps the record's hash when they are, and a run that differs stops every invocation that reads it)."""
    recorded = read_record(kept)
    wanted = recorded["hyps"]
    checked = reproduced_mark(run)
    if checked.is_file() and checked.read_text().strip() == text_hash(wanted):
        return
    hyps = test_scores(run, task)[0]
    differ = sum(a != b for a, b in zip(hyps, wanted)) + abs(len(hyps) - len(wanted))
    if differ:
        results = RunFolder(run).results
        here = json.loads(results.read_text(encoding="utf-8")).get("machines") if results.is_file() else None
        stale = readers(run, run.parent.parent, kept.parent.parent)[0]
        sys.exit(f"{run}: does not reproduce {kept} ({differ} of {len(wanted)} test translations differ: trained "
                 f"again after its folder was lost, on {trained_on(here)}, where the record's run trained on "
                 f"{trained_on(recorded.get('machines'))}, and a seed trains bit for bit alike only on one machine); "
                 f"run again with --retrained {run.parent.name} to make this run the record and measure the rows "
                 f"that read it again ({', '.join(str(path) for path in stale) or 'no record reads it yet'})")
    write_atomic(checked, text_hash(wanted) + "\n")


def reproduced_mark(run: Path) -> Path:
    """Where a run folder keeps the hash of the record whose test translations it was found to give."""
    return run / "reproduces.sha256"


def replace_record(preset: str, seed: int, out: Path, records: Path, extra: List[str]) -> None:
    """--retrained: the seed's finished run of `preset` becomes its record where it does not reproduce the one there
    (trained again on another machine), and the records of the rows that read it (its back-translations, its
    vocabulary, and so on down) are deleted, so that the table measures them again with it. A seed without a
    finished run here is left as it is (nothing is trained: --seeds names a row's seeds, most of them records only).
    Run folders trained with the replaced run stop it before anything changes: they are hours of training, and
    only their user may throw them away."""
    run, kept = run_path(out, preset, seed), record_path(records, preset, seed)
    if not RunFolder(run).results.is_file():
        print(f"--retrained {preset}: no finished run of seed {seed} in {run}; its record is kept", flush=True)
        return
    overrides = [*extra, *own_back_translator(preset, seed, out, records, extra)]
    measured = {**measure(run, main_task(preset)), "config": trained_config(preset, seed, overrides)}
    if kept.is_file() and read_record(kept)["hyps"] == measured["hyps"]:
        return  # it reproduces its record: nothing to replace
    stale, trained = readers(run, out, records)
    if trained:
        sys.exit(f"--retrained {preset}: {', '.join(map(str, trained))} read the run it replaces (its "
                 "back-translations or its vocabulary): delete or move them, then run again")
    for path in stale:
        path.unlink()
        print(f"{path}: deleted, it read the run {kept} replaces; measured again when its row is asked for",
              flush=True)
    write_record(kept, measured)
    write_atomic(reproduced_mark(run), text_hash(measured["hyps"]) + "\n")
    print(f"{kept}: now the record of {run}, trained on {trained_on(measured['machines'])}", flush=True)


def readers(run: Path, out: Path, records: Path) -> tuple[List[Path], List[Path]]:
    """The records, and the run folders in `out`, made with `run`'s back-translations or vocabulary, or made with
    theirs, and so on: what a replaced run leaves stale."""
    made = {path: (read_record(path).get("config", {}),  # with the run folder it was measured from
                   run_path(out, path.parent.name, int(path.name.removeprefix("seed").split(".")[0])).resolve())
            for path in sorted(records.glob("*/seed*.json.gz"))}
    folders = {config.parents[1].resolve(): comparable(to_typed(OmegaConf.load(config), TrainConfig))
               for config in sorted(out.glob("*/seed*/.hydra/config.yaml"))}
    stale, trained, todo = [], [], [run.resolve()]
    while todo:
        source = todo.pop()
        for path, (config, folder) in made.items():
            if path not in stale and reads(config, source):
                stale.append(path)
                todo.append(folder)
                if folder.is_dir() and folder not in trained:
                    trained.append(folder)
        for folder, config in folders.items():
            if folder not in trained and reads(config, source):
                trained.append(folder)
                todo.append(folder)
    return stale, trained


def reads(config: Dict[str, Any], run: Path) -> bool:
    """Whether a flattened training config gives its tasks `run` as back-translation model or takes its
    SentencePiece model from `run` (paths relative to the checkout, where trainings run)."""
    return any(value and ((key.endswith("data.back_translation") and (ROOT / value).resolve() == run)
                          or (key.endswith("data.spm.model") and (ROOT / value).resolve().parent == run))
               for key, value in config.items())


def trained_on(machines: List[str] | None) -> str:
    """The machines of a run's results or record, in order ("cpu (2 threads, AMD EPYC family 25 model 1, AVX2),
    torch 2.13.0+cpu")."""
    return " then ".join(machines or ["a machine it does not name (recorded before runs named theirs)"])


def main_task(preset: str) -> str:
    """The task a preset is measured on: a row's main task, or the direction a back-translation model serves."""
    if preset in ROWS:
        return ROWS[preset][1]
    return next(task for model, task in BACK_TRANSLATORS.values() if model == preset)


def model_record(preset: str, seed: int, out: Path, records: Path, extra: List[str]) -> Dict[str, Any]:
    """The record of a back-translation model's run; one that back-translates itself counts its own model too."""
    if preset in BACK_TRANSLATORS:
        return back_translated(preset, seed, main_task(preset), out, records, extra, preset, [])
    return record(preset, seed, main_task(preset), out, records, extra)


def check_trained_here(preset: str) -> str:
    """Why the table cannot train `preset` on its own, to lend its run to a variant or to make it a record again
    (empty if it can)."""
    if preset not in ROWS and preset not in {m for m, _ in BACK_TRANSLATORS.values()}:
        return f"{preset} is not a preset of the table (ROWS) nor a back-translation model of one"
    if ROWS.get(preset, (None, None, None))[2]:
        return f"{preset} fine-tunes another run; give the preset it fine-tunes or another one"
    return ""


def check_back_translator(preset: str, model_preset: str) -> str:
    """Why `model_preset` cannot back-translate for `preset` (empty if it can): it must be a preset the table
    trains whose tasks include the direction the preset's back-translated task needs."""
    if preset not in BACK_TRANSLATORS:
        return f"{preset} has no back-translated task"
    if why := check_trained_here(model_preset):
        return why
    direction = BACK_TRANSLATORS[preset][1]
    tasks = [name for name, *_ in tasks_data(model_preset)]
    if direction not in tasks:
        return f"{model_preset} has no {direction} task (its tasks: {', '.join(tasks)})"
    return seen_answers(preset, model_preset)


def seen_answers(preset: str, model_preset: str) -> str:
    """Why `model_preset` would back-translate the preset's text knowing the answers (empty if not): it trained on
    the back-translated task's source language on the same lines of the same corpus, and in a multi-way corpus
    (Multi30k) those lines are the translations of the text it would translate (the German of pairs 5,000-29,000
    is their English in German), so its synthetic sources would echo them and the row would measure leaked pairs,
    not back-translation: a real user's monolingual text has no translation on the other side."""
    tasks, model = tasks_data(preset), tasks_data(model_preset)
    for key in back_translation_keys(preset):  # tasks.I.data.back_translation
        name, src, _, corpus, (start, end) = tasks[int(key.split(".")[1])]
        for seen, lang_a, lang_b, where, (a, b) in model:
            if src in (lang_a, lang_b) and where == corpus and a < (end or a + 1) and start < (b or start + 1):
                return (f"{model_preset}'s task {seen} trains on the {src} of pairs {a}:{b or ''} of {corpus[0]}, "
                        f"the translations (a multi-way corpus) of the text {preset}'s task {name} back-translates "
                        f"(pairs {start}:{end or ''}): its synthetic {src} would echo them; give a model that never "
                        f"saw that {src}")
    return ""


def tasks_data(preset: str) -> List[tuple]:
    """(name, source, target, (corpus dir, train file), training line range) of each of the preset's tasks."""
    cfg = command_config(preset, 1, [f"{key}=unset" for key in back_translation_keys(preset)])
    return [(t.name, t.src, t.tgt, (d.dir, d.train), d.line_range()) for t in cfg.tasks
            for d in [task_data(cfg.data, t)]]


def check_vocab_from(preset: str, vocab_preset: str) -> str:
    """Why `preset` cannot take the SentencePiece model of `vocab_preset`'s runs (empty if it can): the table must
    train that preset, and both must have one model for all their languages (data.spm.joint)."""
    if why := check_trained_here(vocab_preset):
        return why
    for name in (preset, vocab_preset):
        if not composed(name).data.spm.joint:
            return f"{name} has one SentencePiece model per language (data.spm.joint=false), not one to share"
    return ""


@cache
def references(preset: str, task: str) -> List[str]:
    """The main task's test references, read from the data root as the preset names them (once per invocation:
    every row and ablation of a task scores against them; callers never change the list)."""
    cfg = to_typed(composed(preset), TrainConfig)
    spec = next(t for t in cfg.tasks if t.name == task)
    data = task_data(cfg.data, spec)
    return read_split(data, spec, data.test, ROOT)[1]


def row_of(preset: str, seeds: List[int], out: Path, records: Path, extra: List[str], variant: str = "",
           own: List[str] = (), back_translator: str = "", vocab_from: str = "") -> Dict[str, Any]:
    """The row of a preset (or of its variant: `own` overrides for its multi-task runs alone, perhaps another
    `back_translator` preset and the SentencePiece model of the same seed's run of `vocab_from`, under the name
    PRESET@VARIANT) against its baseline, over `seeds`."""
    baseline, task, parent = ROWS[preset]
    label = label_of(preset, variant)
    multi, single = [], []
    for seed in seeds:
        seed_own = [*own, *(given_vocabulary(vocab_from, seed, out) if vocab_from else [])]
        if vocab_from and not record_path(records, label, seed).is_file():  # its model is read from its folder
            ensure_vocabulary(vocab_from, seed, out, records, extra)
        single.append(record(baseline, seed, task, out, records, extra))
        if preset in BACK_TRANSLATORS:
            multi.append(back_translated(preset, seed, task, out, records, extra, label, seed_own, back_translator))
            continue
        if parent is None:
            multi.append(record(preset, seed, task, out, records, [*extra, *seed_own], label))
            continue
        # a fine-tuning row starts from the same seed's run of the preset it tunes, and costs both trainings
        tuned, parent_run = record(parent, seed, task, out, records, extra), run_path(out, parent, seed)
        if not record_path(records, label, seed).is_file():  # to fine-tune, the parent's run folder is needed
            train_once(parent, seed, parent_run, extra)
        mine = record(preset, seed, task, out, records, [*extra, f"trainer.finetune_from={parent_run}", *seed_own],
                      label)
        multi.append({**mine, "updates": tuned["updates"] + mine["updates"],
                      "minutes": round(tuned["minutes"] + mine["minutes"], 1)})
    refs = references(baseline, task)
    if {r["test_sha256"] for r in multi + single} != {text_hash(refs)}:
        sys.exit(f"{preset}: its runs were not all scored on the test set under this data root")
    median = median_index([m["bleu"] - s["bleu"] for m, s in zip(multi, single)])  # the typical seed's gain
    p = paired_p_value(multi[median]["hyps"], single[median]["hyps"], refs)

    row = {"preset": preset, "variant": variant, "variant_overrides": list(own), "back_translator": back_translator,
           "vocab_from": vocab_from,
           "baseline": baseline, "task": task,
           "seeds": seeds,
           "bleu": [m["bleu"] for m in multi], "baseline_bleu": [s["bleu"] for s in single],
           "chrf": [m["chrf"] for m in multi], "baseline_chrf": [s["chrf"] for s in single],
           "p_value": round(p, 4), "p_seed": seeds[median],
           "main_task_updates": [m["updates"] for m in multi], "baseline_updates": [s["updates"] for s in single],
           "minutes": [m["minutes"] for m in multi], "baseline_minutes": [s["minutes"] for s in single],
           "train_pairs": multi[0]["train_pairs"], "baseline_train_pairs": single[0]["train_pairs"],
           "stopped": [m.get("stopped") for m in multi], "baseline_stopped": [s.get("stopped") for s in single],
           "epochs": [m.get("epochs") for m in multi], "baseline_epochs": [s.get("epochs") for s in single],
           "valid_bleu": [m.get("valid_bleu") for m in multi],
           "baseline_valid_bleu": [s.get("valid_bleu") for s in single]}
    row["bleu_mean"] = round(statistics.mean(row["bleu"]), 2)
    row["baseline_bleu_mean"] = round(statistics.mean(row["baseline_bleu"]), 2)
    row["bleu_std"], row["baseline_bleu_std"] = spread(row["bleu"]), spread(row["baseline_bleu"])
    row["gain"] = round(row["bleu_mean"] - row["baseline_bleu_mean"], 2)
    return row


def row_holds(row: Dict[str, Any]) -> str:
    """The row's `holds`, derived from its numbers when it is published (old rows too: by the bar as it is now)."""
    return holds(row["gain"], [row["bleu_std"], row["baseline_bleu_std"]], row["p_value"], len(row["seeds"]))


def holds(gain: float, sds: List[float], p: float, seeds: int) -> str:
    """Whether a gain is a claim by the study's bar: at least MIN_SEEDS seeds, p < 0.05 on the median pair, and a
    gain above twice the larger of the two sides' seed standard deviations; else what it lacks. A significant gain
    within that spread is not refused before WIDE_SEEDS seeds: a wide spread asks for more seeds, not a verdict."""
    if seeds < MIN_SEEDS:
        return f"not yet: {seeds} of {MIN_SEEDS} seeds"
    if p >= 0.05:
        return f"no: p = {p:.3f}"
    if gain <= 2 * max(sds):
        if gain > 0 and seeds < WIDE_SEEDS:
            return f"not yet: spread wide (sd {max(sds):.2f}), {seeds} of {WIDE_SEEDS} seeds"
        return f"no: {gain:+.2f} is not above 2 × sd {max(sds):.2f}"
    return "yes"


def spread(values: List[float]) -> float:
    """The seeds' standard deviation (0 for one seed)."""
    return round(statistics.stdev(values), 2) if len(values) > 1 else 0.0


def median_index(values: List[float]) -> int:
    """The index of the median value (of two, the larger): whose pair of runs the paired test is run on."""
    return sorted(range(len(values)), key=lambda i: values[i])[len(values) // 2]


def on_seeds(row: Dict[str, Any], key: str, seeds: List[int]) -> List[Any]:
    """A row's per-seed values of `key` (listed in the order of its own seeds) for `seeds`, in that order."""
    return [row[key][row["seeds"].index(s)] for s in seeds]


def ablation_of(rows: List[Dict[str, Any]], records: Path, with_: str, without: str, adds: str
                ) -> Dict[str, Any] | None:
    """Row `with_` against row `without` on the seeds both have: BLEU difference per seed and p on the median
    difference's seed pair (their test translations read from the records). None while either row is missing."""
    named = {row_name(r): r for r in rows}
    if with_ not in named or without not in named:
        return None
    a, b = named[with_], named[without]
    seeds = [s for s in a["seeds"] if s in b["seeds"]]
    if not seeds:
        return None
    bleu_a, bleu_b = on_seeds(a, "bleu", seeds), on_seeds(b, "bleu", seeds)
    delta = [round(x - y, 2) for x, y in zip(bleu_a, bleu_b)]
    seed = seeds[median_index(delta)]
    hyps = [read_record(record_path(records, name, seed))["hyps"] for name in (with_, without)]
    x = {"with": with_, "without": without, "adds": adds, "seeds": seeds, "bleu": bleu_a, "without_bleu": bleu_b,
         "delta": delta, "delta_mean": round(statistics.mean(delta), 2),
         "p_value": round(paired_p_value(*hyps, references(a["baseline"], a["task"])), 4), "p_seed": seed}
    x["holds"] = holds(x["delta_mean"], [spread(bleu_a), spread(bleu_b)], x["p_value"], len(seeds))
    return x


def p_cell(x: Dict[str, Any]) -> str:
    """A row's or an ablation's p, and over several seeds the seed whose pair it was computed on."""
    return f"{x['p_value']:.3f}" + (f" (seed {x['p_seed']})" if len(x["seeds"]) > 1 else "")


def ablations_markdown(ablations: List[Dict[str, Any]]) -> str:
    lines = ["What each auxiliary task adds on top of the others: a row against the same row without that task, on "
             "the seeds both have (test BLEU as in the table above; p: the paired test on the seed pair whose "
             "difference is the median; holds: as in the table above).", "",
             "| adds | row with it | row without it | seeds | BLEU with / without | ΔBLEU (per seed) | p | holds |",
             "|---|---|---|---|---:|---:|---:|---|"]
    for x in ablations:
        per_seed = ", ".join(f"{d:+.2f}" for d in x["delta"])
        lines.append(f"| {x['adds']} | {x['with']} | {x['without']} | {', '.join(map(str, x['seeds']))} | "
                     f"{statistics.mean(x['bleu']):.2f} / {statistics.mean(x['without_bleu']):.2f} | "
                     f"{x['delta_mean']:+.2f} ({per_seed}) | {p_cell(x)} | {x['holds']} |")
    if not ablations:
        lines.append("| (no pair of rows measured yet) | | | | | | | |")
    return "\n".join(lines)


def choices_of(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """For every preset measured with variants: the candidates (the preset and its variants; a variant on another
    preset's vocabulary is an ablation's control, not a candidate) on the seeds they all have, and the one with the
    highest mean validation BLEU of the main task: the choice, made without the test set."""
    groups: Dict[str, List[Dict[str, Any]]] = {}
    for r in rows:
        if not r.get("vocab_from"):
            groups.setdefault(r["preset"], []).append(r)
    out = []
    for preset, group in groups.items():
        seeds = sorted(set.intersection(*(set(r["seeds"]) for r in group)))
        if len(group) < 2 or not seeds:
            continue
        candidates = []
        for r in group:
            valid = on_seeds(r, "valid_bleu", seeds) if r.get("valid_bleu") else [None]  # None: an older record
            candidates.append({"row": row_name(r), "valid_bleu": None if None in valid
                               else round(statistics.mean(valid), 2),
                               "bleu": round(statistics.mean(on_seeds(r, "bleu", seeds)), 2)})
        scored = [c for c in candidates if c["valid_bleu"] is not None]
        chosen = max(scored, key=lambda c: c["valid_bleu"])["row"] if scored else None
        out.append({"preset": preset, "seeds": seeds, "candidates": candidates, "chosen": chosen})
    return out


def choices_markdown(choices: List[Dict[str, Any]]) -> str:
    lines = ["Chosen on validation: for every preset measured with variants, the candidate with the highest mean "
             "validation BLEU of the main task on the seeds they all have (the test BLEU beside it is reported, "
             "never chosen on; a variant on another preset's vocabulary is an ablation's control, not a candidate).",
             "", "| preset | seeds | candidates: validation BLEU (test BLEU) | chosen on validation |",
             "|---|---|---|---|"]

    def candidate(x: Dict[str, Any]) -> str:
        valid = "?" if x["valid_bleu"] is None else f"{x['valid_bleu']:.2f}"
        return f"{x['row']}: {valid} ({x['bleu']:.2f})"

    for c in choices:
        cells = "; ".join(candidate(x) for x in c["candidates"])
        lines.append(f"| {c['preset']} | {', '.join(map(str, c['seeds']))} | {cells} | {c['chosen'] or '?'} |")
    if not choices:
        lines.append("| (no preset measured with a variant yet) | | | |")
    return "\n".join(lines)


def row_command(row: Dict[str, Any], overrides: List[str]) -> str:
    variant = f" --variant {row['variant']}" if row.get("variant") else ""
    if row.get("variant_overrides"):
        variant += " --variant-overrides " + " ".join(f"'{o}'" for o in row["variant_overrides"])
    if row.get("back_translator"):
        variant += f" --back-translator {row['back_translator']}"
    if row.get("vocab_from"):
        variant += f" --vocab-from {row['vocab_from']}"
    return (f"SEQ2SEQ_DATA=../shared/data python tools/multitask_table.py --presets {row['preset']} --seeds "
            + " ".join(map(str, row["seeds"])) + variant + (" --" if overrides else "")  # then no flag takes them
            + "".join(f" {o}" for o in overrides))


def label_of(preset: str, variant: str = "") -> str:
    """A row's name, and its records' and runs' folder: the preset, or PRESET@VARIANT."""
    return f"{preset}@{variant}" if variant else preset


def row_name(row: Dict[str, Any]) -> str:
    return label_of(row["preset"], row.get("variant", ""))


def mean_of(values: List[float | None] | None) -> str:
    """The mean of a row's per-seed values, or ? where a record predates the value."""
    return "?" if not values or None in values else f"{statistics.mean(values):.2f}"


def capped(stopped: List[str | None]) -> str:
    """How many of a row's runs ended at a cap (epochs, steps, minutes) instead of stopping on validation."""
    if None in stopped:  # records made before results.json said why a run stopped
        return "?"
    return f"{sum(reason.startswith('reached') for reason in stopped)} of {len(stopped)}"


def markdown(rows: List[Dict[str, Any]]) -> str:
    def mean_sd(values: List[float]) -> str:
        if len(values) == 1:
            return f"{values[0]:.2f}"
        return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"

    def gain(r: Dict[str, Any]) -> str:  # a mean over seeds hides a seed that lost: each seed's beside it
        if len(r["seeds"]) == 1:
            return f"{r['gain']:+.2f}"
        return f"{r['gain']:+.2f} (" + ", ".join(f"{x - y:+.2f}" for x, y in zip(r["bleu"], r["baseline_bleu"])) + ")"

    lines = ["test_2016_flickr, main task, beam 5, best checkpoint by the main task's validation BLEU; mean ± "
             "standard deviation over seeds (one seed: its score). Minutes: training time as the trainer counts it "
             "(validation excluded) on the 2-core machine that trained the run (its record names it, where the run "
             "did; kinds of machine differ several times in speed, so rows compare by updates, not minutes); a "
             "fine-tuning row counts its parent's training too, a back-translation row its back-translation "
             "model's. Validation: the best checkpoint's main-task validation BLEU (greedy), what checkpoints and "
             "mixes are chosen on. Runs at a cap: those that reached "
             "a cap (of epochs) instead of stopping on validation. Holds: whether the gain is a claim by the "
             f"study's bar (at least {MIN_SEEDS} seeds, p < 0.05, ΔBLEU above twice the larger seed standard "
             f"deviation of the two sides; a significant gain within that spread waits for {WIDE_SEEDS} seeds), else "
             "what it lacks. ΔBLEU: the mean difference (each seed's, in seed order); p: the paired test on the "
             "pair of the seed whose difference is the median (that seed). Each row's command is listed below "
             "the table.", "",
             "| preset | main task | seeds | multi-task BLEU | single-task BLEU | ΔBLEU | p | chrF multi / single "
             "| validation BLEU multi / single | main-task updates multi / single | minutes multi / single "
             "| runs at a cap multi / single | holds |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {row_name(r)} | {r['task']} | {', '.join(map(str, r['seeds']))} | {mean_sd(r['bleu'])} | "
            f"{mean_sd(r['baseline_bleu'])} (`{r['baseline']}`) | {gain(r)} | {p_cell(r)} | "
            f"{statistics.mean(r['chrf']):.2f} / {statistics.mean(r['baseline_chrf']):.2f} | "
            f"{mean_of(r.get('valid_bleu'))} / {mean_of(r.get('baseline_valid_bleu'))} | "
            f"{statistics.mean(r['main_task_updates']):,.0f} / {statistics.mean(r['baseline_updates']):,.0f} | "
            f"{statistics.mean(r['minutes']):.0f} / {statistics.mean(r['baseline_minutes']):.0f} | "
            f"{capped(r['stopped'])} / {capped(r['baseline_stopped'])} | {r['holds']} |")
    lines += ["", *(f"- `{r['command']}`" for r in rows)]
    return "\n".join(lines)


def update_readme(path: Path, tables: Dict[tuple, str]) -> None:
    """Each table between its (opening, closing) markers of the page, in one write."""
    text = path.read_text(encoding="utf-8")
    for markers, table in tables.items():
        start, end = text.find(markers[0]), text.find(markers[1])
        if start < 0 or end < start:
            print(f"{path}: no {markers[0]} ... {markers[1]} block; table not written there", file=sys.stderr)
            continue
        text = text[:start + len(markers[0])] + "\n" + table + "\n" + text[end:]
    write_atomic(path, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=None, choices=list(ROWS), metavar="PRESET",
                        help="rows to measure, in order (default: all; none with --retrained or --rebuild): "
                        + ", ".join(ROWS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "multitask")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "multitask.json")
    parser.add_argument("--records", type=Path, default=ROOT / "docs" / "results" / "multitask",
                        help="one record per run (test translations and numbers), committed so that a later "
                             "invocation needs neither the run folder nor to train it again")
    parser.add_argument("--readme", type=Path, default=ROOT / "docs" / "multitask.md",
                        help="the page whose multitask-table markers the table goes between")
    parser.add_argument("--variant", default="", help="a name for --variant-overrides: the rows are PRESET@NAME, "
                        "their runs and records kept apart from the preset's own (e.g. a mixing ratio to choose on "
                        "validation)")
    parser.add_argument("--variant-overrides", nargs="+", default=[], metavar="OVERRIDE",
                        help="config overrides of the multi-task runs alone (the baselines stay as they are)")
    parser.add_argument("--back-translator", default="", metavar="PRESET",
                        help="a variant's back-translation model: the same seed's run of PRESET (trained if missing, "
                        "its minutes counted) instead of the preset's own (BACK_TRANSLATORS); e.g. a multi-task "
                        "model that translates better (iterative back-translation)")
    parser.add_argument("--vocab-from", default="", metavar="PRESET",
                        help="a variant's SentencePiece model: that of the same seed's run of PRESET (made without "
                        "training PRESET if its folder is missing, its back-translation model trained first), e.g. "
                        "the row without an auxiliary task on the vocabulary of the row with it, so that their "
                        "ablation compares one vocabulary")
    parser.add_argument("--retrained", nargs="+", default=[], metavar="PRESET",
                        help="runs trained again on another machine than their records' (a back-translation model "
                        "whose folder was lost, say): for each seed, PRESET's finished run in --out (none is trained) "
                        "becomes its record where it does not reproduce it, and the records of the rows that read it "
                        "are deleted to be measured again; in the order they read each other")
    parser.add_argument("--rebuild", action="store_true",
                        help="last, every row of --json made again from the records alone, on its seeds (after a "
                        "record changed, every row that reads it moves); trains nothing, and a missing record stops "
                        "it; rows made with extra overrides are refused as made with another config")
    parser.add_argument("overrides", nargs="*", help="extra config overrides for every run (e.g. trainer.threads=2)")
    args = parser.parse_args()
    presets = args.presets if args.presets is not None else [] if args.rebuild or args.retrained else list(ROWS)
    if bool(args.variant) != bool(args.variant_overrides or args.back_translator or args.vocab_from):
        parser.error("--variant NAME goes with --variant-overrides, --back-translator or --vocab-from (any of them)")
    for preset in presets if args.back_translator else []:
        if why := check_back_translator(preset, args.back_translator):
            parser.error(f"--back-translator {args.back_translator}: {why}")
    for preset in presets if args.vocab_from else []:
        if why := check_vocab_from(preset, args.vocab_from):
            parser.error(f"--vocab-from {args.vocab_from}: {why}")
    for preset in args.retrained:
        if why := check_trained_here(preset):
            parser.error(f"--retrained {preset}: {why}")
    out, tables = args.out.resolve(), ""
    for preset in presets:
        if why := row_config_problem(preset, args.seeds[0], out, args.overrides, args.variant_overrides,
                                     args.back_translator):
            parser.error(why)
    for preset in args.retrained:
        for seed in args.seeds:
            replace_record(preset, seed, out, args.records.resolve(), args.overrides)
    for preset in presets:  # written after each row: a killed invocation keeps the rows it finished
        row = row_of(preset, args.seeds, out, args.records.resolve(), args.overrides, args.variant,
                     args.variant_overrides, args.back_translator, args.vocab_from)
        tables = publish(row, args.overrides, args.json, args.readme, args.records.resolve())
    if args.rebuild:
        tables = rebuild(args.json, args.readme, args.records.resolve(), out)
    print(tables)


def rebuild(path: Path, readme: Path, records: Path, out: Path) -> str:
    """--rebuild: every row of the JSON made again from the records alone, on its seeds, so that a changed record
    (a baseline trained again with --retrained, a record copied in from another checkout) moves every row that
    reads it; trains nothing: a missing record stops it before any row is written, named with the row's command."""
    rows = [r for r in json.loads(path.read_text(encoding="utf-8"))["rows"] if r["preset"] in ROWS]
    for r in rows:
        if missing := [str(p) for seed in r["seeds"] for p in records_read(r, seed, records) if not p.is_file()]:
            sys.exit(f"--rebuild: row {row_name(r)} reads {', '.join(missing)}, which are missing; measure them "
                     f"with {row_command(r, [])}")
    tables = ""
    for r in rows:
        row = row_of(r["preset"], r["seeds"], out, records, [], r.get("variant", ""), r.get("variant_overrides", []),
                     r.get("back_translator", ""), r.get("vocab_from", ""))
        tables = publish(row, [], path, readme, records)
    return tables


def records_read(row: Dict[str, Any], seed: int, records: Path) -> List[Path]:
    """The records a row's seed is built from: its own, its baseline's, its back-translation model's (and that
    model's own, down the chain) and the run it fine-tunes'."""
    preset = row["preset"]
    read = [record_path(records, row_name(row), seed), record_path(records, row["baseline"], seed)]
    model = row.get("back_translator") or BACK_TRANSLATORS.get(preset, ("",))[0]
    while model:
        read.append(record_path(records, model, seed))
        model = BACK_TRANSLATORS.get(model, ("",))[0]
    if parent := ROWS[preset][2]:
        read.append(record_path(records, parent, seed))
    return read


def publish(row: Dict[str, Any], overrides: List[str], path: Path, readme: Path, records: Path) -> str:
    """Put the row (made with the extra `overrides`) into the JSON among the rows of earlier invocations (those of
    presets gone are dropped), derive the ablations and the choices on validation and write the three tables into
    `readme`; returns them."""
    previous = json.loads(path.read_text(encoding="utf-8"))["rows"] if path.is_file() else []
    # its command first, as in the rows of earlier invocations: a rewrite does not reorder keys
    rows = [{"command": row_command(row, overrides), **row},
            *({"command": row_command(r, []), **r} for r in previous
              if row_name(r) != row_name(row) and r["preset"] in ROWS)]
    rows = [{**r, "holds": row_holds(r)} for r in rows]
    rows.sort(key=lambda r: (list(ROWS).index(r["preset"]), r.get("variant", "")))
    ablations = [x for x in (ablation_of(rows, records, *a) for a in ABLATIONS) if x]
    path.parent.mkdir(parents=True, exist_ok=True)
    choices = choices_of(rows)
    write_atomic(path, json.dumps({"rows": rows, "ablations": ablations, "choices": choices}, indent=2) + "\n")
    table, ablation_table, choice_table = markdown(rows), ablations_markdown(ablations), choices_markdown(choices)
    update_readme(readme, {MARKERS: table, ABLATION_MARKERS: ablation_table, CHOICE_MARKERS: choice_table})
    return f"{table}\n\n{ablation_table}\n\n{choice_table}"


if __name__ == "__main__":
    main()
