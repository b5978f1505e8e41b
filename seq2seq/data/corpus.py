"""The data of a run: each task's training pairs (cleaned, encoded, filtered) and its validation/test text."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from seq2seq.config import DataConfig, SentencePieceConfig, TaskConfig, task_data
from seq2seq.data.files import TOY_LANGUAGES, clean_line, find_file, generate_toy, read_lines, read_parallel
from seq2seq.errors import ConfigError, DataError
from seq2seq.text import Vocab, train_sentencepiece, vocab_files

log = logging.getLogger(__name__)


def data_folder(cfg: DataConfig, run_dir: Path) -> Path:
    """Where the split files are: generated into the run folder for a toy task, else ROOT/DIR."""
    if cfg.toy is not None:
        folder = run_dir / "data"
        if not (folder / f"test.{TOY_LANGUAGES[-1]}").is_file():
            generate_toy(folder, cfg.toy)
        return folder
    root = Path(cfg.root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: data root not found; set data.root=DIR or the SEQ2SEQ_DATA environment variable")
    return root / cfg.dir


def read_pair(folder: Path, prefix: str, src: str, tgt: str) -> Tuple[List[str], List[str]]:
    """Raw (uncleaned) sentence pairs of one split; an autoencoder task (src == tgt) reads one file."""
    src_path = find_file(folder, prefix, src)
    if src == tgt:
        lines = read_lines(src_path)
        return lines, lines
    return read_parallel(src_path, find_file(folder, prefix, tgt))


def clean_pairs(src: Sequence[str], tgt: Sequence[str], where: str) -> Tuple[List[str], List[str]]:
    """Cleaned training pairs; pairs with an empty side are dropped and counted."""
    out_src, out_tgt, empty = [], [], 0
    for s, t in zip(src, tgt):
        s, t = clean_line(s), clean_line(t)
        if s and t:
            out_src.append(s)
            out_tgt.append(t)
        else:
            empty += 1
    if empty:
        log.info("%s: skipped %d pairs with an empty or whitespace-only side", where, empty)
    if not out_src:
        raise DataError(f"{where}: no training pairs left (the files are empty or every line is blank)")
    return out_src, out_tgt


def load_vocabs(cfg: SentencePieceConfig, tasks: Sequence[TaskConfig], train_text: Dict[str, List[str]],
                out_dir: Path, seed: int) -> Dict[str, Vocab]:
    """One SentencePiece model per language (the same object for all when joint); trained once, then reused."""
    languages = sorted({t.src for t in tasks} | {t.tgt for t in tasks})
    files = vocab_files(languages, cfg.joint)
    vocabs: Dict[str, Vocab] = {}
    by_file: Dict[str, Vocab] = {}
    for lang in languages:
        name = files[lang]
        if name not in by_file:
            path = out_dir / name
            if path.is_file():
                by_file[name] = Vocab.load(path)
            else:
                text = [line for other in languages if files[other] == name for line in train_text[other]]
                by_file[name] = train_sentencepiece(text, path, cfg, seed)
        vocabs[lang] = by_file[name]
    check_shared_vocabs(tasks, files)
    return vocabs


def check_shared_vocabs(tasks: Sequence[TaskConfig], files: Dict[str, str]) -> None:
    """An encoder (decoder) shared by tasks reads (writes) one vocabulary: its languages must share a model."""
    for side, lang_of in (("encoder", lambda t: t.src), ("decoder", lambda t: t.tgt)):
        models: Dict[str, Dict[str, str]] = {}
        for task in tasks:
            models.setdefault(getattr(task, side), {})[lang_of(task)] = files[lang_of(task)]
        for name, by_lang in models.items():
            if len(set(by_lang.values())) > 1:
                raise ConfigError(f"tasks: {side} '{name}' is shared by languages {sorted(by_lang)} with separate "
                                  "SentencePiece models; set data.spm.joint=true or give each language its own "
                                  f"{side}")


def pair_indices(count: int, cfg: DataConfig, seed: int) -> List[int]:
    """The training pairs a task keeps, in file order: `data.train_lines`, then a seeded `max_train_pairs` sample."""
    start, end = cfg.line_range()
    indices = list(range(start, count if end is None else min(end, count)))
    if 0 < cfg.max_train_pairs < len(indices):
        indices = sorted(random.Random(f"{seed}/train-pairs").sample(indices, cfg.max_train_pairs))
    return indices


def check_task_files(task: TaskConfig, cfg: DataConfig, run_dir: Path) -> None:
    """Every split file of a task exists, before any work: a missing one is named with the task."""
    folder = data_folder(cfg, run_dir)
    for prefix in (p for p in (cfg.train, cfg.valid, cfg.test) if p):  # "" = the task has no such split
        # a back-translated task's training sources are made from its targets
        for lang in (task.tgt,) if prefix == cfg.train and cfg.back_translation else (task.src, task.tgt):
            try:
                find_file(folder, prefix, lang)
            except DataError as err:
                found = sorted({p.name[len(prefix) + 1:].removesuffix(".gz") for p in folder.glob(f"{prefix}.*")})
                sides = f"; this corpus has no '{lang}' side ({prefix}.* has {', '.join(found)})" if found else ""
                raise DataError(f"task {task.name}: {err}{sides}") from None


@dataclass
class TaskData:
    task: TaskConfig
    data: DataConfig  # the task's own data config (its block merged over the run's)
    train_src: List[List[int]]
    train_tgt: List[List[int]]
    valid_src: List[str]
    valid_ref: List[str]


# (task, its data config, its selected and cleaned target lines, where to keep what it makes) -> one source per line
BackTranslate = Callable[[TaskConfig, DataConfig, List[str], Path], List[str]]


def load_task_data(cfg: DataConfig, tasks: Sequence[TaskConfig], run_dir: Path, seed: int,
                   back_translate: BackTranslate | None = None) -> Tuple[Dict[str, TaskData], Dict[str, Vocab]]:
    """Read, select and clean every task's training pairs (checking all files first), train or load the
    SentencePiece models on each language's text from every task that uses it, then encode and filter. A task
    with `data.back_translation` gets its training sources from `back_translate` (seq2seq.runs.backtranslation,
    given by the trainer: the data layer loads no model)."""
    configs = {task.name: task_data(cfg, task) for task in tasks}
    for task in tasks:
        check_task_files(task, configs[task.name], run_dir)
    raw: Dict[str, Tuple[List[str], List[str]]] = {}
    text: Dict[str, Dict[Tuple, List[str]]] = {}  # language -> {which lines of which file: the lines}
    for task in tasks:
        data = configs[task.name]
        folder = data_folder(data, run_dir)
        where = f"task {task.name} ({folder / data.train}.{task.src}/{task.tgt})"
        if data.back_translation:
            tgt = read_lines(find_file(folder, data.train, task.tgt))
            src = tgt  # placeholders: the sources are made below from the selected, cleaned targets
        else:
            src, tgt = read_pair(folder, data.train, task.src, task.tgt)
        indices = pair_indices(len(src), data, seed)
        if not indices and data.train_lines:
            raise DataError(f"{where}: data.train_lines={data.train_lines!r} selects none of its {len(src)} pairs")
        src, tgt = clean_pairs([src[i] for i in indices], [tgt[i] for i in indices], where)
        if data.back_translation:
            if back_translate is None:
                raise ConfigError(f"task {task.name}: data.back_translation is set, but nothing was given to "
                                  "back-translate with")
            src, tgt = clean_pairs(back_translate(task, data, tgt, run_dir / "data"), tgt, where)
        raw[task.name] = (src, tgt)
        # SentencePiece sees each language's lines once per distinct selection, however many tasks share it
        # (synthetic sources are other lines than the file's, whatever selection they share)
        for lang, lines, synthetic in ((task.src, src, bool(data.back_translation)), (task.tgt, tgt, False)):
            text.setdefault(lang, {}).setdefault((str(folder), data.train, tuple(indices), synthetic), lines)
    per_language = {lang: [line for lines in parts.values() for line in lines] for lang, parts in text.items()}
    vocabs = load_vocabs(cfg.spm, tasks, per_language, run_dir, seed)
    result = {}
    for task in tasks:
        data = configs[task.name]
        src_lines, tgt_lines = raw[task.name]
        src_ids = vocabs[task.src].encode(src_lines)
        tgt_ids = vocabs[task.tgt].encode(tgt_lines)
        keep = [i for i in range(len(src_ids))
                if len(src_ids[i]) <= data.max_length and len(tgt_ids[i]) + 1 <= data.max_length]
        if len(keep) < len(src_ids):
            log.info("task %s: filtered %d of %d training pairs longer than data.max_length=%d tokens",
                     task.name, len(src_ids) - len(keep), len(src_ids), data.max_length)
        if not keep:
            raise DataError(f"task {task.name}: every training pair is longer than data.max_length={data.max_length}")
        valid_src, valid_ref = read_split(data, task, data.valid, run_dir, data.valid_max_sentences) \
            if data.valid else ([], [])
        result[task.name] = TaskData(task, data, [src_ids[i] for i in keep], [tgt_ids[i] for i in keep],
                                     valid_src, valid_ref)
        log.info("task %s: %d training pairs, %d validation sentences (%s)", task.name, len(keep), len(valid_src),
                 data_folder(data, run_dir))
    return result, vocabs


def read_split(cfg: DataConfig, task: TaskConfig, prefix: str, run_dir: Path,
               limit: int | None = None) -> Tuple[List[str], List[str]]:
    """Source and reference lines of an evaluation split, as released (references are scored raw); `cfg` is
    the task's own data config (`task_data`)."""
    src, ref = read_pair(data_folder(cfg, run_dir), prefix, task.src, task.tgt)
    if limit:
        src, ref = src[:limit], ref[:limit]
    return src, ref
