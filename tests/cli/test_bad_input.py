"""Bad input at the command line: each case ends in one clear line (no traceback) and loses nothing."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors import SafetensorError

from seq2seq.errors import CheckpointError
from seq2seq.runs import checkpoint as checkpoint_module
from seq2seq.training.trainer import Trainer

from conftest import ROOT, TINY_TOY, run_cli, train_config


def one_clear_line(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    message = result.stderr.strip()
    assert "Traceback" not in message and message.count("\n") == 0, message
    assert message.startswith("error: ") and needle in message, message


def write_corpus(folder: Path, pairs: int = 300, seed: int = 0) -> None:
    rng = random.Random(seed)
    for split, size in (("train", pairs), ("dev", 20), ("test", 20)):
        src = [" ".join(rng.choice("abcdefgh") for _ in range(rng.randint(2, 6))) for _ in range(size)]
        (folder / f"{split}.en").write_text("".join(s + "\n" for s in src), encoding="utf-8")
        (folder / f"{split}.de").write_text("".join(" ".join(s.split()[::-1]) + "\n" for s in src),
                                            encoding="utf-8")


def files_run(folder: Path, *extra: str) -> list:
    return ["seq2seq-train", "data=files", f"data.root={folder}", "data.train=train", "data.valid=dev",
            "data.test=test", "data.src=en", "data.tgt=de", "data.spm.vocab_size=20", "data.spm.model_type=word",
            "model.encoder.hidden_size=16", "model.decoder.hidden_size=32", "model.encoder.embedding_dim=16",
            "model.decoder.embedding_dim=16", "trainer.max_steps=6", "trainer.validate_every=6",
            "trainer.batch_tokens=200", "decoding=greedy", f"hydra.run.dir={folder / 'run'}", *extra]


# -- training data ---------------------------------------------------------------------------------------------

def test_missing_training_file(tmp_path):
    one_clear_line(run_cli(files_run(tmp_path), cwd=tmp_path), "train.en: file not found")


def test_empty_training_file(tmp_path):
    write_corpus(tmp_path)
    (tmp_path / "train.en").write_text("", encoding="utf-8")
    (tmp_path / "train.de").write_text("", encoding="utf-8")
    one_clear_line(run_cli(files_run(tmp_path), cwd=tmp_path), "no training pairs left")


def test_unequal_line_counts_name_files_and_counts(tmp_path):
    write_corpus(tmp_path)
    (tmp_path / "train.de").write_text("x\n", encoding="utf-8")
    one_clear_line(run_cli(files_run(tmp_path), cwd=tmp_path), "train.en has 300 lines but")


def test_invalid_utf8_names_file_and_line(tmp_path):
    write_corpus(tmp_path)
    lines = (tmp_path / "train.de").read_bytes().split(b"\n")
    lines[41] = b"caf\xe9"  # Latin-1, not UTF-8
    (tmp_path / "train.de").write_bytes(b"\n".join(lines))
    one_clear_line(run_cli(files_run(tmp_path), cwd=tmp_path), "train.de:42: invalid UTF-8")


def test_blank_lines_tabs_zero_width_and_long_lines_are_counted_not_fatal(tmp_path):
    write_corpus(tmp_path)
    src = (tmp_path / "train.en").read_text(encoding="utf-8").splitlines()
    tgt = (tmp_path / "train.de").read_text(encoding="utf-8").splitlines()
    src[3], src[4], tgt[5] = "", "   \t ", ""  # three pairs with a blank side
    src[6], tgt[6] = "a\tb\u200bc d", "d\tc\u200bb a"  # tab and zero-width space inside a sentence
    src[7] = " ".join(["a"] * 500)  # longer than data.max_length
    (tmp_path / "train.en").write_text("\n".join(src) + "\n", encoding="utf-8")
    (tmp_path / "train.de").write_text("\n".join(tgt) + "\n", encoding="utf-8")
    result = run_cli(files_run(tmp_path, "data.max_length=64"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "run" / "train.log").read_text()
    assert "skipped 3 pairs with an empty or whitespace-only side" in log
    assert "filtered 1 of 297 training pairs longer than data.max_length=64" in log


# -- config ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("override, needle", [
    ("trainer.no_such_key=1", "trainer.no_such_key"),
    ("trainer.max_steps=ten", "trainer.max_steps"),
    ("model.decoder.dropout=1.5", "model.decoder.dropout: must be in [0, 1)"),
    ("decoding.beam_size=0", "decoding.beam_size: must be in [1,"),
    ("data.spm.vocab_size=-8", "data.spm.vocab_size: must be >= 8"),
    ("model.decoder.attention=transformer", "expected one of [none, bahdanau, luong_dot, luong_general]"),
    ("trainer.device=tpu", "trainer.device: must be auto, cpu, cuda or cuda:N"),
])
def test_config_values(tmp_path, override, needle):
    one_clear_line(run_cli(["seq2seq-train", override, f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path),
                   needle)
    assert not (tmp_path / "run").exists()


# -- checkpoints and translation -------------------------------------------------------------------------------

def test_unknown_task_lists_the_available_ones(trained):
    one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={trained}", "pair=en-xx"], cwd=ROOT, stdin="a\n"),
                   "'en-xx' is not in this checkpoint; available tasks: ['in-reverse']")


def test_folder_without_checkpoint(tmp_path):
    one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={tmp_path}"], cwd=ROOT, stdin="a\n"),
                   "no checkpoint found")


def test_the_latest_pointer_names_the_newest_step_checkpoint(trained):
    """checkpoint=RUN/checkpoints/latest loads the step folder the pointer names (not an error, not `best`)."""
    from seq2seq.runs.checkpoint import find_checkpoint

    pointer = trained / "checkpoints" / "latest"
    assert find_checkpoint(pointer) == trained / "checkpoints" / pointer.read_text().strip()
    result = run_cli(["seq2seq-translate", f"checkpoint={pointer}"], cwd=ROOT, stdin="a b c\n")
    assert result.returncode == 0 and result.stdout.strip(), result.stderr


def test_foreign_file_as_checkpoint(tmp_path, trained):
    fake = tmp_path / "fake"
    (fake / "checkpoints" / "best").mkdir(parents=True)
    (fake / "checkpoints" / "best" / "state.json").write_text('{"hello": 1}')
    one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={fake}"], cwd=ROOT, stdin="a\n"),
                   "not a seq2seq checkpoint")


def test_invalid_utf8_on_stdin_names_the_line(trained):
    result = subprocess.run([sys.executable, "-m", "seq2seq.cli.translate", f"checkpoint={trained}"],
                            input=b"a b\n\xff\xfe\n", capture_output=True, cwd=ROOT)
    assert result.returncode == 2 and b"<stdin>:2: invalid UTF-8" in result.stderr


def test_long_and_odd_lines_are_translated_in_full(trained):
    long_line = " ".join("abcdefgh"[i % 8] for i in range(300))
    result = run_cli(["seq2seq-translate", f"checkpoint={trained}"], cwd=ROOT,
                     stdin=f"a b c\n{long_line}\n\n\ta\tb\u200b c\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert len(lines) == 5 and lines[2] == "" and lines[1]
    # (that long outputs are not cut short is checked in test_search: outputs may run to 2 x source + 10)


def test_ctrl_c_during_translation_leaves_complete_lines(trained, tmp_path):
    source = tmp_path / "big.txt"
    rng = random.Random(1)
    source.write_text("".join(" ".join(rng.choice("abcdefgh") for _ in range(6)) + "\n" for _ in range(40000)))
    output = tmp_path / "out.txt"
    # Ctrl-C as a terminal delivers it: a suite started in the background of a script inherits SIGINT ignored
    process = subprocess.Popen([sys.executable, "-m", "seq2seq.cli.translate", f"checkpoint={trained}",
                                f"input={source}", f"output={output}"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and (not output.exists() or output.stat().st_size == 0):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2 and "interrupted: the first" in stderr and "Traceback" not in stderr
    written = int(stderr.split("the first ")[1].split()[0])
    text = output.read_text(encoding="utf-8")
    assert 0 < written < 40000 and text.endswith("\n") and text.count("\n") == written


def test_sigterm_during_training_saves_a_checkpoint(tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "seq2seq.cli.train", *TINY_TOY, "trainer.max_steps=100000",
            "trainer.checkpoint_every=100000", "trainer.validate_every=100000", "trainer.log_every=5",
            f"hydra.run.dir={run}"]
    process = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    metrics = run / "metrics.jsonl"  # written once training steps are under way
    deadline = time.time() + 120
    while time.time() < deadline and not metrics.exists():
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2 and "SIGTERM at step" in stderr and "run the same command again" in stderr
    saved = (run / "checkpoints" / "latest").read_text().strip()
    assert saved in stderr


# what a full disk raises: from Python's own writes, and from safetensors (its Rust error, not an OSError)
FULL_DISK = [OSError(28, "No space left on device"), SafetensorError(
    'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left on device" })')]


@pytest.mark.parametrize("error", FULL_DISK, ids=["oserror", "safetensors"])
def test_disk_full_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch, error):
    cfg = train_config([*TINY_TOY, "trainer.max_steps=10", "trainer.checkpoint_every=5",
                        "trainer.validate_every=100"])
    trainer = Trainer(cfg, tmp_path)
    real_save = checkpoint_module.save_file
    calls = {"n": 0}

    def full_disk(tensors, path, metadata=None):  # the first checkpoint's two files are written, then the disk is full
        calls["n"] += 1
        if calls["n"] >= 3:
            raise error
        return real_save(tensors, path, metadata=metadata)

    monkeypatch.setattr(checkpoint_module, "save_file", full_disk)
    with pytest.raises(CheckpointError, match=r"No space left on device.*previous checkpoint \(step_0000005\)"):
        trainer.train()
    folder = tmp_path / "checkpoints"
    assert (folder / "latest").read_text().strip() == "step_0000005"
    assert sorted(p.name for p in folder.iterdir()) == ["latest", "step_0000005"]  # no half-written folder


# -- config and data mistakes at the command line -----------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["seq2seq-train", "trainer.foo=1"], "trainer.foo"),
    (["seq2seq-train", "model.encoder.cell=transformer"], "expected one of [lstm, gru, rnn]"),
    (["seq2seq-train", "model.encoder.dropout=1.5"], "model.encoder.dropout: must be in [0, 1)"),
    (["seq2seq-train", "trainer.max_steps=many"], "trainer.max_steps"),
    (["seq2seq-train", "model=transformer"], "available options in 'model': gnmt, gru_bahdanau"),
    (["seq2seq-train", "experiment=multi30k_atention"], "experiment=multi30k_atention: no such option; "
     "available options in 'experiment': multi30k_attention,"),  # a typo in a preset name never trains the default
    (["seq2seq-train", "+trainer.patience=3"], "trainer.patience: no such config key"),
    (["seq2seq-train", "+foo=1"], "foo: no such config key"),
    # a key a task takes but the preset's task does not set: Hydra takes it only as an addition, and says so
    (["seq2seq-train", "experiment=multi30k_lowres_de_en_backtranslation", "tasks.1.data.back_translation_tag=true"],
     "tasks.1.data.back_translation_tag: the preset's task does not set this key, so give it as an addition: "
     "+tasks.1.data.back_translation_tag=true"),
    (["seq2seq-train", "experiment=multi30k_lowres_de_en_backtranslation", "tasks.1.data.max_lenth=9"],
     "tasks[1].data.max_lenth: no such config key"),  # a key no task takes is not offered as an addition
    (["seq2seq-train", "model.encoder"], "model.encoder: cannot parse this override (missing EQUAL"),
    (["seq2seq-train", "data=files"], ": a value is required (give data."),
    (["seq2seq-translate", "checkpoint=run", "decoding.beam_size=0"], "decoding.beam_size: must be in [1,"),
    (["seq2seq-translate", "checkpoint=run", "decoding.beam_size=10"],
     "decoding.beam_size: is only read by beam search, not greedy; add decoding=beam"),
    (["seq2seq-translate", "checkpoint=run", "decoding=beam", "decoding.temperature=0.5"],
     "decoding.temperature: is only read by sampling, not beam; add decoding=sample"),
    (["seq2seq-train", "data.spm.vocab_size=-3"], "data.spm.vocab_size"),
    (["seq2seq-evaluate", "hyps=[a.txt]"], "ref: a reference file is needed"),
    (["seq2seq-translate", "checkpoint=[]"], "checkpoint: give a run folder (checkpoint=RUN) or a list of them"),
    (["seq2seq-evaluate", "checkpoint=[run,3]"], "checkpoint: give a run folder (checkpoint=RUN) or a list of them"),
])
def test_config_mistakes_fail_before_work_with_one_line(tmp_path, args, needle):
    result = run_cli([*args, f"hydra.run.dir={tmp_path / 'run'}"] if args[0] == "seq2seq-train" else args,
                     cwd=tmp_path)
    assert result.returncode == 2
    assert needle in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert not (tmp_path / "run").exists()  # no work started


def test_data_mistakes_name_the_file(tmp_path):
    (tmp_path / "train.en").write_text("a b\nc d\n", encoding="utf-8")
    (tmp_path / "train.de").write_text("x y\n", encoding="utf-8")
    base = ["seq2seq-train", "data=files", f"data.root={tmp_path}", "data.train=train", "data.valid=dev",
            "data.test=test", "data.src=en", "data.tgt=de", f"hydra.run.dir={tmp_path / 'run'}"]
    result = run_cli(base, cwd=tmp_path)  # every split file is checked before any file is read
    assert result.returncode == 2 and "dev.en: file not found" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0
    for name in ("dev.en", "dev.de", "test.en", "test.de"):
        (tmp_path / name).write_text("a b\n", encoding="utf-8")
    result = run_cli(base, cwd=tmp_path)
    assert result.returncode == 2 and "train.en has 2 lines but" in result.stderr and "has 1" in result.stderr
    (tmp_path / "train.de").write_bytes(b"x y\n\xc3\x28 broken\n")
    result = run_cli(base, cwd=tmp_path)
    assert result.returncode == 2 and "train.de:2: invalid UTF-8" in result.stderr


def test_unequal_hypothesis_and_reference_is_one_line(tmp_path):
    (tmp_path / "ref.txt").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("a\n", encoding="utf-8")
    result = run_cli(["seq2seq-evaluate", "ref=ref.txt", "hyp=hyp.txt"], cwd=tmp_path)
    assert result.returncode == 2 and "hyp has 1 lines but the reference has 2" in result.stderr


# -- misuse found by trying the commands as a new user ------------------------------------------------------

def test_a_second_training_on_a_run_folder_is_refused_while_the_first_lives(tmp_path):
    run = tmp_path / "run"
    args = ["-m", "seq2seq.cli.train", *TINY_TOY, "trainer.max_steps=400", "trainer.validate_every=400",
            f"hydra.run.dir={run}"]
    first = subprocess.Popen([sys.executable, *args, "trainer.seed=1"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not ((run / ".lock").is_file() and (run / ".lock").read_text().strip()) and time.time() < deadline:
            time.sleep(0.1)
        second = run_cli(["seq2seq-train", *TINY_TOY, "trainer.max_steps=400", "trainer.seed=2",
                          f"hydra.run.dir={run}"], cwd=ROOT)
        one_clear_line(second, f"{run}: in use by seq2seq-train (pid {first.pid} ")
        assert first.poll() is None  # refused while the first one was still training
    finally:
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert (run / "results.json").is_file()
    assert "trainer.seed=1" in (run / ".hydra" / "overrides.yaml").read_text()  # the first run's config kept


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").write_text("seq2seq-train (pid 999999 on elsewhere, since yesterday)\n")
    result = run_cli(["seq2seq-train", *TINY_TOY, "trainer.max_steps=5", "trainer.validate_every=5",
                      f"hydra.run.dir={run}"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert f"pid {os.getpid()}" not in (run / ".lock").read_text()


@pytest.mark.parametrize("args, needle", [
    (["seq2seq-train", *TINY_TOY, "hydra.run.dir=/proc/seq2seq-run"],
     "hydra.run.dir: cannot write the run folder /proc/seq2seq-run"),
    (["seq2seq-translate", "checkpoint=RUN", "output=/dev/full"], "output: cannot write /dev/full (No space left"),
    (["seq2seq-translate", "checkpoint=RUN", "output=/proc/seq2seq/out.txt"], "/proc/seq2seq"),
    (["seq2seq-translate", "checkpoint=RUN", "output=RUN/results.json/out.txt"], "results.json: cannot read or write"),
    (["seq2seq-evaluate", "checkpoint=RUN", "decoding=greedy", "json=/proc/scores.json"], "/proc/scores.json: "),
    (["seq2seq-evaluate", "checkpoint=RUN", "decoding=greedy", "json=/dev/full"], "/dev/full: cannot read or write"),
    (["seq2seq-score", "checkpoint=RUN", "input=RUN/data/test.in", "reference=RUN/data/test.reverse",
      "json=/dev/full"], "/dev/full: cannot read or write (No space left on device)"),
])
def test_unwritable_outputs_end_in_one_line(trained, tmp_path, args, needle):
    args = [a.replace("RUN", str(trained)) for a in args]
    one_clear_line(run_cli(args, cwd=tmp_path, stdin="a b c\n"), needle)
    assert Path("/dev/full").is_char_device()  # written in place, never replaced by a renamed file


@pytest.mark.parametrize("key", ["task=in-reverse", "+task=in-reverse"])
def test_task_at_translation_points_to_pair(trained, tmp_path, key):
    one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={trained}", key], cwd=tmp_path, stdin="a\n"),
                   "task: this command picks the task of a multi-task run with pair=NAME")
    translated = run_cli(["seq2seq-translate", f"checkpoint={trained}", "pair=in-reverse"], cwd=tmp_path,
                         stdin="a b\n")
    assert translated.returncode == 0, translated.stderr


def test_a_line_longer_than_any_training_pair_is_reported(trained, tmp_path):
    long = " ".join(["a b c d"] * 40)  # 160 pieces; the toy run filtered training pairs at 64
    result = run_cli(["seq2seq-translate", f"checkpoint={trained}"], cwd=tmp_path, stdin=f"a b\n{long}\n")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2
    assert "note: 1 input line(s) had more than 64 SentencePiece pieces" in result.stderr
    assert "the longest: 160 pieces" in result.stderr


def test_rerunning_a_finished_run_says_it_is_reused(trained, tmp_path):
    result = run_cli(["seq2seq-train", *TINY_TOY, "trainer.max_steps=150", "trainer.validate_every=75",
                      f"hydra.run.dir={trained}"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr  # the training log goes to the console and train.log
    assert "already finished (reached trainer.max_steps=150)" in said and "hydra.run.dir=" in said


def test_a_failed_start_leaves_no_run_folder(tmp_path):
    run = tmp_path / "run"
    result = run_cli(["seq2seq-train", "data=files", f"data.root={tmp_path}", "data.train=train", "data.valid=dev",
                      "data.test=test", "data.src=en", "data.tgt=de", f"hydra.run.dir={run}"], cwd=tmp_path)
    one_clear_line(result, "train.en: file not found")
    assert not run.exists()


def test_evaluating_a_checkpoint_writes_translations_only_when_asked(trained, tmp_path):
    before = sorted(p.name for p in trained.iterdir())
    result = run_cli(["seq2seq-evaluate", f"checkpoint={trained}", "decoding=greedy"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in trained.iterdir()) == before
    result = run_cli(["seq2seq-evaluate", f"checkpoint={trained}", "decoding=greedy", "translations=out"],
                     cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "out" / "test.in-reverse.greedy.reverse").is_file()


# -- nothing lost ----------------------------------------------------------------------------------------------

def test_average_never_replaces_a_folder_it_did_not_make(trained, tmp_path):
    """output= once removed whatever folder it named (a user's folder, the run, its checkpoints) with exit 0."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    mine = tmp_path / "p"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work", encoding="utf-8")
    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    for output, needle in ((mine, "exists and is not an earlier seq2seq-average output"),
                           (run, "a checkpoint being averaged"), (run / "checkpoints", "a checkpoint being averaged"),
                           (latest, "a checkpoint being averaged"),
                           (run / "checkpoints" / "mine", "inside the run's checkpoints folder")):
        one_clear_line(run_cli(["seq2seq-average", f"checkpoint={run}", "last=2", f"output={output}"], cwd=tmp_path),
                       needle)
    assert (mine / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    assert {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    for _ in range(2):  # a new folder, then that earlier average replaced
        result = run_cli(["seq2seq-average", f"checkpoint={run}", "last=2", f"output={tmp_path / 'avg'}"],
                         cwd=tmp_path)
        assert result.returncode == 0, result.stderr


def test_no_command_writes_over_its_input(trained, tmp_path):
    """input=F output=F once emptied F before reading it; a link to the input is the same file; a scores file
    (json=) is refused on an input too."""
    source = tmp_path / "in.txt"
    source.write_text("a b c\nd e\n", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(source)
    for output in (source, tmp_path / "link.txt"):
        one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={trained}", f"input={source}",
                                f"output={output}"], cwd=ROOT), "writing it would destroy what is being read")
    assert source.read_text(encoding="utf-8") == "a b c\nd e\n"
    for command in (["seq2seq-score", f"checkpoint={trained}", f"input={source}", f"reference={source}"],
                    ["seq2seq-evaluate", f"ref={source}", f"hyps=[{source}]"]):  # json= onto an input
        one_clear_line(run_cli([*command, f"json={tmp_path / 'link.txt'}"], cwd=ROOT), "json: ")
    assert source.read_text(encoding="utf-8") == "a b c\nd e\n"


@pytest.mark.parametrize("value", ["inf", "1e300", "nan"])
def test_an_unbounded_length_ratio_is_refused_not_an_empty_translation(trained, value):
    one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={trained}", f"decoding.max_length_ratio={value}"],
                           cwd=ROOT, stdin="a b c\n"), "decoding.max_length_ratio: must be")


def test_scoring_empty_files_is_refused_not_a_perplexity_of_one(trained, tmp_path):
    for name in ("src.txt", "ref.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    one_clear_line(run_cli(["seq2seq-score", f"checkpoint={trained}", f"input={tmp_path / 'src.txt'}",
                            f"reference={tmp_path / 'ref.txt'}"], cwd=ROOT), "no lines to score")


def test_a_folder_as_input_or_an_unknown_device_is_named_as_such(trained, tmp_path):
    one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={trained}", f"input={tmp_path}"], cwd=ROOT),
                   f"{tmp_path}: a folder, not a file")
    one_clear_line(run_cli(["seq2seq-translate", f"checkpoint={trained}", "device=tpu"], cwd=ROOT, stdin="a\n"),
                   "device: 'tpu' is not a device this toolkit runs on")


def test_a_line_of_control_characters_is_an_empty_translation_not_a_crash(trained):
    """SentencePiece normalises control characters away: such a line has no pieces (found by fuzzing the server)."""
    result = run_cli(["seq2seq-translate", f"checkpoint={trained}"], cwd=ROOT, stdin="a b\n\x1b\x07\nc\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[1] == "" and len(result.stdout.split("\n")) == 4


def test_a_report_never_replaces_a_folder_it_did_not_make(tmp_path):
    """out= once removed whatever folder it named; now only an earlier report is replaced."""
    for name, lines in (("ref.de", ["ein hund", "zwei katzen", "ein mann"]), ("a.de", ["ein hund", "katzen", "mann"])):
        (tmp_path / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    mine = tmp_path / "p"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work", encoding="utf-8")
    command = ["seq2seq-evaluate", f"ref={tmp_path / 'ref.de'}", f"hyps=[{tmp_path / 'a.de'}]"]
    one_clear_line(run_cli([*command, f"out={mine}"], cwd=tmp_path), "exists and is not an earlier seq2seq-evaluate")
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]
    for _ in range(2):  # a new folder, then that earlier report replaced
        result = run_cli([*command, f"out={tmp_path / 'report'}"], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "report" / "report.md").is_file()
