"""The model's parts: padding is masked everywhere, source reversal, fused and step-wise decoders agree."""

from __future__ import annotations

import pytest
import torch

from seq2seq.data.batching import pad
from seq2seq.model.encoder import reverse_padded
from seq2seq.text import PAD

from helpers import GNMT, fused_and_stepped, tiny_model

ATTENTIONS = ["luong_general", "luong_dot", "bahdanau"]


def _src():
    src = pad([[4, 5, 6, 5, 4], [6, 4], [5, 5, 6]])
    return src, (src != PAD).sum(1)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_attention_gives_zero_weight_to_padding(attention):
    dims = {"hidden_size": 12} if attention != "luong_dot" else {"hidden_size": 12}
    model = tiny_model(attention=attention, **dims)
    src, lengths = _src()
    memory, state = model.first_state("t", model.encode("t", src, lengths))
    _, _, weights = model.step("t", torch.tensor([2, 2, 2]), state, memory)
    assert weights is not None
    for row, length in enumerate(lengths.tolist()):
        assert torch.all(weights[row, length:] == 0)
        assert torch.isclose(weights[row, :length].sum(), torch.tensor(1.0))


@pytest.mark.parametrize("attention", ["none", *ATTENTIONS, "gnmt"])
def test_extra_padding_does_not_change_the_output(attention):
    model = tiny_model(**GNMT) if attention == "gnmt" else tiny_model(attention=attention,
                                                                       feed_context=attention == "none")
    short = pad([[4, 5, 6]])
    padded = torch.cat([short, torch.full((1, 4), PAD)], dim=1)
    lengths = torch.tensor([3])
    out = []
    for src in (short, padded):
        memory, state = model.first_state("t", model.encode("t", src, lengths))
        log_probs, _, _ = model.step("t", torch.tensor([2]), state, memory)
        out.append(log_probs)
    assert torch.allclose(out[0], out[1], atol=1e-6)


def test_reverse_padded_keeps_padding_in_place():
    src = torch.tensor([[4, 5, 6, PAD], [7, 8, PAD, PAD]])
    assert reverse_padded(src, torch.tensor([3, 2])).tolist() == [[6, 5, 4, PAD], [8, 7, PAD, PAD]]


@pytest.mark.parametrize("decoder", [
    {"attention": "none", "feed_context": True},
    {"attention": "none"},
    {"attention": "luong_general"},
    {"attention": "luong_general", "input_feeding": True},
    {"attention": "bahdanau"},
    {"attention": "luong_dot", "cell": "gru"},
    {"attention": "none", "cell": "rnn", "layers": 2, "feed_context": True},
    GNMT,
    {**GNMT, "attention": "bahdanau", "cell": "gru", "encoder": {**GNMT["encoder"], "cell": "gru"}},
])
def test_teacher_forcing_equals_step_by_step_decoding(decoder):
    """The fused (or step-wise) teacher-forced decoder gives the same scores as feeding one token at a time."""
    total, stepped = fused_and_stepped(tiny_model(**decoder))
    assert stepped == pytest.approx(total, rel=1e-5)


def test_source_reversal_changes_what_the_encoder_reads():
    model = tiny_model(attention="none")
    src, lengths = _src()
    forward = model.first_state("t", model.encode("t", src, lengths))[0].context
    model.encoders["x"].cfg.reverse_source = True
    backward = model.first_state("t", model.encode("t", src, lengths))[0].context
    assert not torch.allclose(forward, backward)
    # reading the reversed source backwards is the same as reading the source forwards
    again = model.first_state("t", model.encode("t", reverse_padded(src, lengths), lengths))[0].context
    assert torch.allclose(again, forward, atol=1e-6)


def test_tied_embeddings_share_one_tensor():
    model = tiny_model(attention="luong_general", tie_embeddings=True, embedding_dim=12)
    decoder = model.decoders["y"]
    assert decoder.output.weight is decoder.embed.weight


def test_parameter_counts_per_encoder_and_decoder():
    model = tiny_model(attention="luong_general")
    counts = model.parameter_counts()
    assert set(counts["encoders"]) == {"x"} and set(counts["decoders"]) == {"y"}
    assert counts["encoders"]["x"] + counts["decoders"]["y"] == counts["total"]


def test_weights_packed_into_one_buffer_save_and_load_exactly(tmp_path):
    """cuDNN packs an RNN's GPU weights into one buffer, and safetensors' save_model refuses such views: a model
    whose encoder parameters are views of one flat tensor, with a tied output layer, must save and load back
    exactly; a file written by safetensors' save_model (checkpoints of earlier versions) must load too."""
    from safetensors.torch import save_model

    from seq2seq.runs.checkpoint import MODEL_FILE, load_weights, save_weights

    model = tiny_model(attention="luong_general", tie_embeddings=True, embedding_dim=12)
    (tmp_path / "plain").mkdir()
    save_model(model, str(tmp_path / "plain" / MODEL_FILE))
    rnn = model.encoders["x"].rnn
    flat = torch.cat([p.detach().reshape(-1) for p in rnn.parameters()])
    offset = 0
    for p in rnn.parameters():
        p.data = flat[offset:offset + p.numel()].view_as(p)
        offset += p.numel()
    (tmp_path / "packed").mkdir()
    save_weights(model, tmp_path / "packed" / MODEL_FILE)
    for folder in ("packed", "plain"):
        fresh = tiny_model(seed=1, attention="luong_general", tie_embeddings=True, embedding_dim=12)
        load_weights(fresh, tmp_path / folder)
        assert fresh.state_dict().keys() == model.state_dict().keys()
        for name, tensor in model.state_dict().items():
            assert torch.equal(fresh.state_dict()[name], tensor), (folder, name)
        assert fresh.decoders["y"].output.weight is fresh.decoders["y"].embed.weight
