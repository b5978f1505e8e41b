"""The data of a run: each task's training pairs (selected, cleaned, encoded once into a prepared corpus and read
through memory maps) and its validation/test text."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

from seq2seq.atomic import write_atomic
from seq2seq.config import DataConfig, SentencePieceConfig, TaskConfig, config_dict, task_data
from seq2seq.data.files import TOY_LANGUAGES, find_file, generate_toy, read_lines, read_parallel, write_lines
from seq2seq.data.prepared import PairCorpus, key_of, locked, prepared_corpus
from seq2seq.data.stream import Selection, SentenceSample, file_identity, selected_pairs
from seq2seq.errors import ConfigError, DataError
from seq2seq.layout import RunFolder
from seq2seq.text import BT_TAG, UNK, Vocab, train_sentencepiece

log = logging.getLogger(__name__)

CLEANING = 1  # the version of files.clean_line a prepared corpus was made with
SAMPLE_SEED = 1  # SentencePiece's sample: fixed, so that the runs of a seed sweep share one model and corpus


def data_folder(cfg: DataConfig, run_dir: Path) -> Path:
    """Where the split files are: generated into the run folder for a toy task, else ROOT/DIR."""
    if cfg.toy is not None:
        folder = RunFolder(run_dir).data
        if not (folder / f"test.{TOY_LANGUAGES[-1]}").is_file():
            generate_toy(folder, cfg.toy)
        return folder
    root = Path(cfg.root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: data root not found; set data.root=DIR or the SEQ2SEQ_DATA environment variable")
    return root / cfg.dir


def no_pairs(where: str) -> DataError:
    return DataError(f"{where}: no training pairs left (the files are empty or every line is blank)")


def prepared_root(cfg: DataConfig) -> Path:
    return Path(cfg.prepared).expanduser()


def read_pair(folder: Path, prefix: str, src: str, tgt: str) -> Tuple[List[str], List[str]]:
    """Raw (uncleaned) sentence pairs of an evaluation split; an autoencoder task (src == tgt) reads one file."""
    src_path = find_file(folder, prefix, src)
    if src == tgt:
        lines = read_lines(src_path)
        return lines, lines
    return read_parallel(src_path, find_file(folder, prefix, tgt))


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


def selection(cfg: DataConfig, seed: int) -> Selection:
    """The training pairs a task keeps: `data.train_lines`, then a seeded `max_train_pairs` sample."""
    start, end = cfg.line_range()
    return Selection(start, end, cfg.max_train_pairs, seed)


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
class TrainingText:
    """Where a task's training pairs come from: the files (tgt None: one file is both sides), what identifies
    their content, and the lines kept."""

    src: Path
    tgt: Path | None
    selection: Selection
    lines: int
    identity: Dict[str, Any]  # {"src", "tgt": file identities, "selection"}
    where: str
    parts: Dict[str, str]  # side -> what its text is to SentencePiece (file and selection), for deduplication

    def chunks(self):
        """(sources, targets, pairs dropped for an empty side) a chunk at a time."""
        return selected_pairs(self.src, self.tgt, self.selection, self.lines)


def training_text(task: TaskConfig, cfg: DataConfig, run_dir: Path, seed: int, cache: Path) -> TrainingText:
    """The task's training files, their line counts checked against each other before any encoding."""
    folder = data_folder(cfg, run_dir)
    src = find_file(folder, cfg.train, task.src)
    tgt = None if task.src == task.tgt else find_file(folder, cfg.train, task.tgt)
    where = f"task {task.name} ({folder / cfg.train}.{task.src}/{task.tgt})"
    return _text(src, tgt, selection(cfg, seed), cache, where, cfg.train_lines)


def _text(src: Path, tgt: Path | None, chosen: Selection, cache: Path, where: str, train_lines: str = ""
          ) -> TrainingText:
    src_id = file_identity(src, cache)
    tgt_id = src_id if tgt is None else file_identity(tgt, cache)
    if src_id["lines"] != tgt_id["lines"]:
        raise DataError(f"{src} has {src_id['lines']} lines but {tgt} has {tgt_id['lines']}: parallel files must "
                        "have one line per sentence pair")
    lines = src_id["lines"]
    start, end = chosen.bounds(lines)
    if start >= end and train_lines:
        raise DataError(f"{where}: data.train_lines={train_lines!r} selects none of its {lines} pairs")
    identity = {"src": src_id, "tgt": None if tgt is None else tgt_id, "selection": chosen.describe(lines)}
    parts = {side: key_of({"file": file, "selection": identity["selection"]})
             for side, file in (("src", src_id), ("tgt", tgt_id))}
    return TrainingText(src, tgt, chosen, lines, identity, where, parts)


# (task, its data config, its selected and cleaned target lines, where to keep what it makes) -> one source per line
BackTranslate = Callable[[TaskConfig, DataConfig, List[str], RunFolder], List[str]]


def back_translated_text(task: TaskConfig, cfg: DataConfig, run_dir: Path, seed: int, cache: Path,
                         back_translate: BackTranslate | None) -> TrainingText:
    """A back-translated task's pairs as two files in RUN/data: its selected, cleaned target lines and their
    synthetic sources (made by `back_translate`, seq2seq.runs.backtranslation: the data layer loads no model);
    prepared like any corpus from there."""
    if back_translate is None:
        raise ConfigError(f"task {task.name}: data.back_translation is set, but nothing was given to back-translate "
                          "with")
    target_file = find_file(data_folder(cfg, run_dir), cfg.train, task.tgt)
    text = _text(target_file, None, selection(cfg, seed), cache, f"task {task.name} ({target_file})", cfg.train_lines)
    targets = [line for _, tgt, _ in text.chunks() for line in tgt]
    if not targets:
        raise no_pairs(text.where)
    out = RunFolder(run_dir)
    sources = back_translate(task, cfg, targets, out)
    target_copy = out.backtranslated(task.name, task.tgt)
    if not target_copy.is_file() or read_lines(target_copy) != targets:
        write_lines(target_copy, targets)
    source_file = out.backtranslated(task.name, task.src)
    if len(sources) != len(targets):
        raise DataError(f"{source_file}: {len(sources)} back-translations of {len(targets)} targets; delete it to "
                        "make them again")
    made = _text(source_file, target_copy, Selection(), cache, f"task {task.name} (back-translated, {out.data})")
    made.parts["tgt"] = text.parts["src"]  # to SentencePiece, the same text as the target file's selection
    return made


def load_vocabs(cfg: SentencePieceConfig, tasks: Sequence[TaskConfig], texts: Dict[str, TrainingText],
                run_dir: Path, cache: Path, tagged: Sequence[str] = ()) -> Dict[str, Vocab]:
    """One SentencePiece model per language (the same object for all when joint): the run folder's own, else
    the one `cfg.model` names, else one trained before on the same text with the same options (PREPARED/vocab),
    else trained now on a bounded sample of the text streamed once, kept there for the next run, and copied into
    the run folder. A model of a language in `tagged` (the source of a tagged back-translated task) has the tag
    as one piece."""
    languages = sorted({t.src for t in tasks} | {t.tgt for t in tasks})
    files = RunFolder.vocab_names(languages, cfg.joint)
    check_shared_vocabs(tasks, files)
    # each language's text: its distinct (file, selection) parts in task order, as (task, side) to stream
    parts: Dict[str, Dict[str, Tuple[str, str]]] = {lang: {} for lang in languages}
    for task in tasks:
        text = texts[task.name]
        for side, lang in (("src", task.src), ("tgt", task.tgt)):
            parts[lang].setdefault(text.parts[side], (task.name, side))
    missing = sorted({name for name in files.values() if not (run_dir / name).is_file()})
    options = {key: value for key, value in config_dict(cfg).items() if key != "model"}  # what a trained one is
    for name in missing:
        members = [lang for lang in languages if files[lang] == name]
        symbols = [BT_TAG] if set(members) & set(tagged) else []
        if cfg.model:
            given = given_vocab(cfg.model, symbols)
            write_atomic(run_dir / name, given.path.read_bytes())
            log.info("SentencePiece %s: %s (%d pieces), given by data.spm.model; data.spm's training options are "
                     "not used", name, given.path, len(given))
            continue
        identity = {"format": 1, "cleaning": CLEANING, "spm": options, "sample_seed": SAMPLE_SEED,
                    "text": [[lang, list(parts[lang])] for lang in members]}
        if symbols:  # only then: the identity (and cache) of every untagged model stays what it was
            identity["symbols"] = symbols
        cached = cache / "vocab" / key_of(identity) / name
        with locked(cached.parent):
            if not cached.is_file():
                sample = SentenceSample(cfg.max_sentences, cfg.max_characters, SAMPLE_SEED)
                _stream_sample(sample, members, parts, texts)
                train_sentencepiece(sample.sentences(), cached, cfg, sample.seen, symbols)
        write_atomic(run_dir / name, cached.read_bytes())
    loaded = {name: Vocab.load(run_dir / name) for name in set(files.values())}
    return {lang: loaded[files[lang]] for lang in languages}


def given_vocab(path: str, symbols: Sequence[str]) -> Vocab:
    """The SentencePiece model data.spm.model names, checked before the run folder gets it: a missing or foreign
    file, or one without a piece of `symbols` (each would be read as an unknown piece), is a config error."""
    try:
        vocab = Vocab.load(Path(path).expanduser())
    except DataError as err:
        raise ConfigError(f"data.spm.model: {err}; give a SentencePiece .model file (a run folder's "
                          "spm.*.model)") from None
    for symbol in symbols:
        if vocab.processor.piece_to_id(symbol) == UNK:
            raise ConfigError(f"data.spm.model: {vocab.path} has no piece {symbol}, which data.back_translation_tag "
                              "needs; give the model of a run with tagged back-translation, or leave data.spm.model "
                              "empty so that the run trains one with it")
    return vocab


def _stream_sample(sample: SentenceSample, members: Sequence[str], parts: Dict[str, Dict[str, Tuple[str, str]]],
                   texts: Dict[str, TrainingText]) -> None:
    """Offer the sample every part of the languages in `members`, reading each task's files once; a line's
    place is (its language, its part, its position), the order SentencePiece sees them in."""
    wanted: Dict[str, List[Tuple[str, Tuple[int, int]]]] = {}  # task -> [(side, (language rank, part rank))]
    for rank, lang in enumerate(members):
        for part_rank, (task, side) in enumerate(parts[lang].values()):
            wanted.setdefault(task, []).append((side, (rank, part_rank)))
    for task, sides in wanted.items():
        pairs = 0
        for chunk_no, (src, tgt, _) in enumerate(texts[task].chunks()):
            pairs += len(src)
            for side, place in sides:
                sample.add(src if side == "src" else tgt, (*place, chunk_no))
        if not pairs:
            raise no_pairs(texts[task].where)


@dataclass
class TaskData:
    task: TaskConfig
    data: DataConfig  # the task's own data config (its block merged over the run's)
    train: PairCorpus  # the training pairs within data.max_length
    prepared: Path  # the prepared corpus they are read from
    valid_src: List[str]
    valid_ref: List[str]


def within_length(corpus: PairCorpus, max_length: int, where: str) -> PairCorpus:
    """The prepared pairs whose source and target (with EOS) fit `max_length` tokens."""
    kept = corpus.within(max_length, max_length - 1)
    if not len(kept):
        raise DataError(f"{where}: every training pair is longer than data.max_length={max_length}")
    if len(kept) < len(corpus):
        log.info("%s: filtered %d of %d training pairs longer than data.max_length=%d tokens", where,
                 len(corpus) - len(kept), len(corpus), max_length)
    return kept


def load_task_data(cfg: DataConfig, tasks: Sequence[TaskConfig], run_dir: Path, seed: int,
                   back_translate: BackTranslate | None = None) -> Tuple[Dict[str, TaskData], Dict[str, Vocab]]:
    """Check every task's files, train or load the SentencePiece models on each language's text from every task
    that uses it, then open (or prepare once) each task's encoded corpus. A task with `data.back_translation`
    gets its training sources from `back_translate`."""
    configs = {task.name: task_data(cfg, task) for task in tasks}
    for task in tasks:
        check_task_files(task, configs[task.name], run_dir)
    texts = {}
    for task in tasks:
        data = configs[task.name]
        cache = prepared_root(data)
        texts[task.name] = back_translated_text(task, data, run_dir, seed, cache, back_translate) \
            if data.back_translation else training_text(task, data, run_dir, seed, cache)
    tagged = [task.src for task in tasks if configs[task.name].back_translation_tag]
    vocabs = load_vocabs(cfg.spm, tasks, texts, run_dir, prepared_root(cfg), tagged)
    result = {}
    for task in tasks:
        data, text = configs[task.name], texts[task.name]
        src_vocab, tgt_vocab = vocabs[task.src], vocabs[task.tgt]
        identity = {**text.identity, "cleaning": CLEANING, "vocabs": {"src": src_vocab.digest,
                                                                      "tgt": tgt_vocab.digest}}
        encode_src = src_vocab.encode
        if data.back_translation_tag:  # the tag's id before each synthetic source's pieces (not in the text)
            identity["tag"] = BT_TAG
            encode_src = functools.partial(with_tag, src_vocab.encode, src_vocab.processor.piece_to_id(BT_TAG))
        corpus, manifest, folder = prepared_corpus(prepared_root(data), identity, text.chunks,
                                                   {"src": encode_src, "tgt": tgt_vocab.encode},
                                                   {"src": len(src_vocab), "tgt": len(tgt_vocab)}, text.where)
        if manifest["dropped_empty"]:
            log.info("%s: skipped %d pairs with an empty or whitespace-only side", text.where,
                     manifest["dropped_empty"])
        if not len(corpus):
            raise no_pairs(text.where)
        train = within_length(corpus, data.max_length, f"task {task.name}")
        valid_src, valid_ref = read_split(data, task, data.valid, run_dir, data.valid_max_sentences) \
            if data.valid else ([], [])
        result[task.name] = TaskData(task, data, train, folder, valid_src, valid_ref)
        log.info("task %s: %d training pairs (prepared in %s), %d validation sentences (%s)", task.name, len(train),
                 folder, len(valid_src), data_folder(data, run_dir))
    return result, vocabs


def with_tag(encode: Callable[[Sequence[str]], List[List[int]]], tag: int, lines: Sequence[str]) -> List[List[int]]:
    """`encode`, with the tag's id before every non-empty line's pieces (an empty line stays empty: dropped)."""
    return [[tag, *ids] if ids else ids for ids in encode(lines)]


def read_split(cfg: DataConfig, task: TaskConfig, prefix: str, run_dir: Path,
               limit: int | None = None) -> Tuple[List[str], List[str]]:
    """Source and reference lines of an evaluation split, as released (references are scored raw); `cfg` is
    the task's own data config (`task_data`)."""
    src, ref = read_pair(data_folder(cfg, run_dir), prefix, task.src, task.tgt)
    if limit:
        src, ref = src[:limit], ref[:limit]
    return src, ref
