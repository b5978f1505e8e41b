"""Transfer: modules from another run (frozen or not), word vectors, and clear errors when things do not fit."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from seq2seq.commands.train import run_train
from seq2seq.errors import CheckpointError, DataError
from seq2seq.training.trainer import Trainer

from conftest import TINY_TOY, train_config

BASE = [*TINY_TOY, "trainer.max_steps=10", "trainer.validate_every=10"]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    run = tmp_path_factory.mktemp("pre") / "run"
    run_train(train_config(BASE), run)
    return run


def _init(run, module="encoder:in", freeze=True, **extra):
    fields = ", ".join(f"{k}: {v}" for k, v in {"module": module, "checkpoint": run, "freeze": freeze,
                                                    **extra}.items())
    return f"trainer.init=[{{{fields}}}]"


def test_a_frozen_pretrained_encoder_is_loaded_and_stays_fixed(tmp_path, pretrained):
    source = load_file(str(pretrained / "checkpoints" / "best" / "model.safetensors"))
    cfg = train_config([*BASE, "trainer.seed=9", _init(pretrained)])
    run_train(cfg, tmp_path)
    after = load_file(str(tmp_path / "checkpoints" / "best" / "model.safetensors"))
    encoder = [k for k in source if k.startswith("encoders.in.")]
    assert encoder and all(torch.equal(source[k], after[k]) for k in encoder)
    assert any(not torch.equal(source[k], after[k]) for k in source if k.startswith("decoders."))


def test_an_unfrozen_module_starts_from_the_checkpoint_and_trains(tmp_path, pretrained):
    source = load_file(str(pretrained / "checkpoints" / "best" / "model.safetensors"))
    trainer = Trainer(train_config([*BASE, "trainer.seed=9", _init(pretrained, "decoder:reverse", False)]), tmp_path)
    state = trainer.model.decoders["reverse"].state_dict()
    assert all(torch.equal(state[k[len("decoders.reverse."):]], v) for k, v in source.items()
               if k.startswith("decoders.reverse."))
    assert all(p.requires_grad for p in trainer.model.parameters())


def test_size_and_vocabulary_mismatches_are_clear(tmp_path, pretrained):
    with pytest.raises(CheckpointError, match="sizes do not match"):
        Trainer(train_config([*BASE, "model.encoder.hidden_size=24", _init(pretrained)]), tmp_path / "a")
    other_data = [*BASE, "data.toy.seed=99", "data.spm.vocab_size=30", _init(pretrained)]
    with pytest.raises(CheckpointError, match=r"SentencePiece model of 'in' .*; give the new run data\.spm\.model="):
        Trainer(train_config(other_data), tmp_path / "b")
    # the fix the message names: the other run's model given, the encoder transfers onto the other data
    given = next(pretrained.glob("spm.*.model"))
    trainer = Trainer(train_config([*other_data, f"data.spm.model={given}"]), tmp_path / "b2")
    source = load_file(str(pretrained / "checkpoints" / "best" / "model.safetensors"))
    state = trainer.model.encoders["in"].state_dict()
    encoder = {k[len("encoders.in."):]: v for k, v in source.items() if k.startswith("encoders.in.")}
    assert encoder and all(torch.equal(state[k], v) for k, v in encoder.items())
    with pytest.raises(CheckpointError, match="has no encoder 'zz'"):
        Trainer(train_config([*BASE, _init(pretrained, source="zz")]), tmp_path / "c")


def test_a_language_table_shared_by_several_modules_transfers_to_each_of_them(tmp_path):
    """With model.share_embeddings a checkpoint stores each language's table once (under one module's name);
    initialising another module of that language must still find it."""
    tasks = ("tasks=[{name: in-reverse, src: in, tgt: reverse, encoder: in, decoder: reverse}, "
             "{name: reverse-in, src: reverse, tgt: in, encoder: reverse, decoder: in}]")
    shared = tmp_path / "shared"
    run_train(train_config([*BASE, tasks, "model.share_embeddings=true"]), shared)
    stored = load_file(str(shared / "checkpoints" / "best" / "model.safetensors"))
    kept = [k for k in stored if k.endswith(".in.embed.weight")]
    assert len(kept) == 1  # the encoder's and the decoder's 'in' table: one tensor, one name
    for module in ("encoder:in", "decoder:in"):
        trainer = Trainer(train_config([*BASE, tasks, "trainer.seed=9", _init(shared, module, False)]),
                          tmp_path / module.replace(":", "_"))
        side, name = module.split(":")
        loaded = getattr(trainer.model, f"{side}s")[name].embed.weight.detach()
        assert torch.equal(loaded, stored[kept[0]]), module


def test_word_vectors_fill_the_embeddings_of_matching_pieces(tmp_path):
    vectors = tmp_path / "vec.txt"
    lines = ["3 16"] + [f"{w} " + " ".join(str(0.01 * (i + 1) * (j + 1)) for j in range(16))
                        for i, w in enumerate(["a", "b", "zebra"])]
    vectors.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = f"trainer.word_vectors=[{{module: 'encoder:in', path: '{vectors}', freeze: true}}]"
    trainer = Trainer(train_config([*BASE, spec]), tmp_path / "run")
    vocab, embed = trainer.vocabs["in"], trainer.model.encoders["in"].embed
    row = embed.weight[vocab.processor.piece_to_id("\u2581b")]
    assert torch.allclose(row, torch.tensor([0.02 * (j + 1) for j in range(16)]))
    assert not embed.weight.requires_grad
    bad = tmp_path / "bad.txt"
    bad.write_text("a 0.1 0.2 0.3\n", encoding="utf-8")
    spec = f"trainer.word_vectors=[{{module: 'encoder:in', path: '{bad}'}}]"
    with pytest.raises(DataError, match=r"bad\.txt:1: a vector of 3 values, but encoder:in has embeddings of 16"):
        Trainer(train_config([*BASE, spec]), tmp_path / "run2")
