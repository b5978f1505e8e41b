"""Transfer into a new run: encoders, decoders or embeddings from another run's checkpoint (frozen or not), and
embeddings from word2vec/GloVe text files. Sizes and vocabularies are checked, with a message when they differ."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Dict, Sequence, Tuple

import torch
from torch import nn

from seq2seq.config import InitConfig, ModuleRef, TaskConfig, WordVectorsConfig
from seq2seq.data.files import iter_lines
from seq2seq.errors import CheckpointError, ConfigError, DataError
from seq2seq.model import Seq2Seq
from seq2seq.runs.checkpoint import MODEL_FILE, read_tensors
from seq2seq.runs.folder import read_checkpoint
from seq2seq.text import EOS, Vocab

log = logging.getLogger(__name__)


def _language(tasks: Sequence[TaskConfig], side: str, name: str) -> str:
    """The language a module reads (encoder) or writes (decoder), from the tasks that use it."""
    for task in tasks:
        if getattr(task, side) == name:
            return task.src if side == "encoder" else task.tgt
    raise KeyError(name)


def resolve(model: Seq2Seq, ref: ModuleRef, key: str) -> Tuple[nn.Module, str]:
    """The module a config names, and its state-dict suffix within its encoder or decoder."""
    modules = model.encoders if ref.side == "encoder" else model.decoders
    if ref.name not in modules:
        raise ConfigError(f"{key}: this model has no {ref.side} {ref.name!r}; it has {sorted(modules)}")
    module = modules[ref.name]
    return (module.embed, "embed.") if ref.embeddings else (module, "")


def copy_vocabularies(source: Path, run_dir: Path) -> Path:
    """Before a fine-tuning run reads its data: the source run's SentencePiece models, copied into the new run
    folder (so the vocabularies are the ones its weights were trained with). Returns the source checkpoint."""
    info = read_checkpoint(source)
    run_dir.mkdir(parents=True, exist_ok=True)
    for lang in sorted(info.vocab_files):
        target = run_dir / info.vocab_files[lang]
        if not target.is_file():
            shutil.copyfile(info.vocab_path(lang), target)
    return info.folder


def init_from_checkpoint(model: Seq2Seq, init: InitConfig, tasks: Sequence[TaskConfig],
                         vocabs: Dict[str, Vocab]) -> None:
    ref = init.target
    module, suffix = resolve(model, ref, "trainer.init.module")
    side, name = ref.side, ref.name
    info = read_checkpoint(Path(init.checkpoint))
    folder = info.folder
    source = init.source or name
    theirs = info.tasks
    try:
        their_lang = _language(theirs, side, source)
    except KeyError:
        available = sorted({getattr(t, side) for t in theirs})
        raise CheckpointError(f"{folder}: has no {side} {source!r} (it has {available}); "
                              "set trainer.init.source") from None
    our_lang = _language(tasks, side, name)
    ours_model = vocabs[our_lang].path
    their_model = info.vocab_path(their_lang)
    if not their_model.is_file() or their_model.read_bytes() != ours_model.read_bytes():
        raise CheckpointError(f"{init.module}: the SentencePiece model of {our_lang!r} ({ours_model.name}) differs "
                              f"from the one {folder} was trained with ({their_model}); give the new run "
                              f"data.spm.model={their_model} (a model per language: copy it into the new run "
                              f"folder as {ours_model.name} first) so that both runs share one vocabulary")
    tensors = read_tensors(folder / MODEL_FILE)
    prefix = f"{side}s.{source}.{suffix}"
    weights = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    if f"{side}s.{source}.embed.weight" not in tensors:  # model.share_embeddings: each language's table is
        # stored once, under one of the modules that share it
        twins = [f"{s}s.{n}.embed.weight" for t in theirs
                 for s, n, lang in (("encoder", t.encoder, t.src), ("decoder", t.decoder, t.tgt)) if lang == their_lang]
        twin = next((key for key in twins if key in tensors), None)
        if twin is not None:
            weights["embed.weight"[len(suffix):]] = tensors[twin]
    try:
        missing, unexpected = module.load_state_dict(weights, strict=False)
    except RuntimeError as err:
        detail = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err))
        raise CheckpointError(f"{init.module}: sizes do not match {folder}: {detail}") from None
    loaded = {p.data_ptr() for k, p in module.state_dict().items() if k in weights}
    missing = [k for k in missing if module.state_dict()[k].data_ptr() not in loaded]  # tied weights count
    if missing or unexpected:
        raise CheckpointError(f"{init.module}: architecture differs from {folder} "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    log.info("initialised %s from %s (%s %s)%s", init.module, folder, side, source, ", frozen" if init.freeze else "")


def load_word_vectors(model: Seq2Seq, spec: WordVectorsConfig, tasks: Sequence[TaskConfig],
                      vocabs: Dict[str, Vocab]) -> int:
    """Copy vectors of the words that are pieces of the vocabulary (with or without the leading '▁')."""
    module, _ = resolve(model, spec.target, "trainer.word_vectors.module")
    side, name = spec.target.side, spec.target.name
    embedding: nn.Embedding = module.embed
    vocab = vocabs[_language(tasks, side, name)]
    wanted: Dict[str, list] = {}
    for index in range(EOS + 1, len(vocab)):
        wanted.setdefault(vocab.processor.id_to_piece(index).lstrip("\u2581"), []).append(index)
    path = Path(spec.path)
    found = 0
    with torch.no_grad():
        for number, line in enumerate(iter_lines(path), start=1):
            parts = line.rstrip().split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header: count and dimension
            if len(parts) - 1 != embedding.embedding_dim:
                raise DataError(f"{path}:{number}: a vector of {len(parts) - 1} values, but {spec.module} has "
                                f"embeddings of {embedding.embedding_dim}; set model.*.embedding_dim to match")
            for index in wanted.pop(parts[0], []):
                embedding.weight[index] = torch.tensor([float(v) for v in parts[1:]])
                found += 1
    if found == 0:
        raise DataError(f"{path}: none of its words is a piece of the {spec.module} vocabulary")
    log.info("%s: %d of %d pieces initialised from %s", spec.module, found, len(vocab) - EOS - 1, path)
    return found


def freeze(model: Seq2Seq, inits: Sequence[InitConfig], word_vectors: Sequence[WordVectorsConfig]) -> None:
    for key, specs in (("trainer.init.module", inits), ("trainer.word_vectors.module", word_vectors)):
        for spec in specs:
            if spec.freeze:
                for param in resolve(model, spec.target, key)[0].parameters():
                    param.requires_grad_(False)
