"""The decoder: an RNN language model conditioned on the encoder's context vector, with optional attention.

Flows, chosen by config:
- context only (Sutskever 2014): the bridge turns the encoder's final states into the decoder's initial state;
  with `feed_context` (Cho 2014) the context vector also enters every step and the output layer.
- Luong attention: h_t = RNN(y_{t-1} [, feed]); c_t = attend(h_t); out_t = tanh(W [h_t; c_t]); input feeding
  passes out_t into the next step.
- Bahdanau attention: c_t = attend(s_{t-1}); s_t = RNN([y_{t-1}; c_t]); out_t = tanh(W [s_t; c_t]).
- gnmt layout (Wu et al. 2016): x_1 = RNN_1(y_{t-1}); c_t = attend(x_1); x_i = RNN_i([x_{i-1}; c_t]) for the
  layers above, plus x_{i-1} from the third layer on; out_t = x_L. Any attention score; no input feeding.
Without input feeding or Bahdanau attention (stacked) teacher forcing runs the whole target through one fused RNN
call; in the gnmt layout, each layer through one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import torch
from torch import nn

from seq2seq.config import AttentionType, Bridge, Cell, DecoderConfig, Layout
from seq2seq.model.attention import Attention
from seq2seq.model.encoder import CELLS, EncoderOutput
from seq2seq.text import PAD


@dataclass
class Memory:
    """What the decoder reads from the encoder, prepared once per batch."""

    states: torch.Tensor  # [B, S, K] attention values
    keys: torch.Tensor | None  # [B, S, Q] projected keys (None without attention)
    mask: torch.Tensor  # [B, S]
    context: torch.Tensor  # [B, K] context vector

    def reorder(self, index: torch.Tensor) -> Memory:
        return Memory(self.states.index_select(0, index),
                      None if self.keys is None else self.keys.index_select(0, index),
                      self.mask.index_select(0, index), self.context.index_select(0, index))


@dataclass
class DecoderState:
    h: torch.Tensor  # [L, B, H]
    c: torch.Tensor | None  # [L, B, H] for LSTM
    feed: torch.Tensor | None  # [B, H] previous attentional vector (input feeding)

    def reorder(self, index: torch.Tensor) -> DecoderState:
        return DecoderState(self.h.index_select(1, index),
                            None if self.c is None else self.c.index_select(1, index),
                            None if self.feed is None else self.feed.index_select(0, index))

    @property
    def rnn_state(self):
        return self.h if self.c is None else (self.h, self.c)


class Decoder(nn.Module):
    def __init__(self, cfg: DecoderConfig, vocab_size: int, encoder_size: int, encoder_cell: Cell):
        super().__init__()
        self.cfg = cfg
        hidden = cfg.hidden_size
        self.has_attention = cfg.attention != AttentionType.none
        self.gnmt = cfg.layout == Layout.gnmt
        self.bahdanau = cfg.attention == AttentionType.bahdanau and not self.gnmt  # the flow, not only the score
        self.stepwise = cfg.input_feeding or self.bahdanau
        self.embed = nn.Embedding(vocab_size, cfg.embedding_dim, padding_idx=PAD)
        self.dropout = nn.Dropout(cfg.dropout)
        cell = CELLS[cfg.cell]
        if self.gnmt:
            self.layers = nn.ModuleList([cell(cfg.embedding_dim, hidden, batch_first=True),
                                         *(cell(hidden + encoder_size, hidden, batch_first=True)
                                           for _ in range(1, cfg.layers))])
        else:
            rnn_input = cfg.embedding_dim + (hidden if cfg.input_feeding else 0)
            rnn_input += (encoder_size if cfg.feed_context else 0) + (encoder_size if self.bahdanau else 0)
            self.rnn = cell(rnn_input, hidden, num_layers=cfg.layers, batch_first=True,
                            dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.attention = Attention(cfg.attention, hidden, encoder_size) if self.has_attention else None
        combined = hidden + (encoder_size if self.has_attention else 0) + (encoder_size if cfg.feed_context else 0)
        self.combine = nn.Linear(combined, hidden) if combined != hidden and not self.gnmt else None
        self.output = nn.Linear(hidden, vocab_size)
        if cfg.tie_embeddings:
            self.output.weight = self.embed.weight
        self.carry_cell = cfg.cell == Cell.lstm and encoder_cell == Cell.lstm
        if cfg.bridge == Bridge.dense:
            self.bridge_h = nn.Linear(encoder_size, hidden)
            self.bridge_c = nn.Linear(encoder_size, hidden) if self.carry_cell else None

    # -- preparing a batch -------------------------------------------------------------------------------------

    def prepare(self, enc: EncoderOutput) -> Tuple[Memory, DecoderState]:
        keys = self.attention.project_keys(enc.states) if self.attention is not None else None
        memory = Memory(enc.states, keys, enc.mask, enc.context)
        return memory, self.initial_state(enc)

    def initial_state(self, enc: EncoderOutput) -> DecoderState:
        layers, batch, hidden = self.cfg.layers, enc.final_h.size(1), self.cfg.hidden_size
        if self.cfg.bridge == Bridge.zero:
            h = enc.final_h.new_zeros(layers, batch, hidden)
            c = h.clone() if self.cfg.cell == Cell.lstm else None
        else:
            # layer i starts from encoder layer i when depths match, else every layer from the top encoder layer
            source_h = enc.final_h if enc.final_h.size(0) == layers else enc.final_h[-1:].expand(layers, -1, -1)
            h = torch.tanh(self.bridge_h(source_h)).contiguous()
            c = None
            if self.cfg.cell == Cell.lstm:
                if self.bridge_c is not None and enc.final_c is not None:
                    source_c = enc.final_c if enc.final_c.size(0) == layers else enc.final_c[-1:].expand(layers, -1, -1)
                    c = self.bridge_c(source_c).contiguous()
                else:
                    c = torch.zeros_like(h)
        feed = h.new_zeros(batch, hidden) if self.cfg.input_feeding else None
        return DecoderState(h, c, feed)

    # -- teacher forcing ---------------------------------------------------------------------------------------

    def forward(self, tgt_in: torch.Tensor, memory: Memory, state: DecoderState) -> torch.Tensor:
        """tgt_in [B, T] -> attentional vectors [B, T, H] (project with `self.output` to get logits)."""
        embedded = self.dropout(self.embed(tgt_in))  # [B, T, E]
        if self.gnmt:
            return self._gnmt(embedded, memory, state)[0]
        if self.stepwise:
            outputs = []
            for t in range(tgt_in.size(1)):
                out, state, _ = self._step(embedded[:, t], state, memory)
                outputs.append(out)
            return torch.stack(outputs, dim=1)
        steps = tgt_in.size(1)
        inputs = embedded
        if self.cfg.feed_context:
            inputs = torch.cat([inputs, memory.context.unsqueeze(1).expand(-1, steps, -1)], dim=-1)
        rnn_out, _ = self.rnn(inputs, state.rnn_state)  # [B, T, H]
        return self._combine(rnn_out, memory, steps)

    # -- one step (decoding and the step-wise flows) -----------------------------------------------------------

    def step(self, tokens: torch.Tensor, state: DecoderState,
             memory: Memory) -> Tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        """tokens [B] -> logits [B, V], next state, attention weights [B, S] (None without attention)."""
        out, state, weights = self._step(self.dropout(self.embed(tokens)), state, memory)
        return self.output(out), state, weights

    def _step(self, embedded: torch.Tensor, state: DecoderState,
              memory: Memory) -> Tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        if self.gnmt:
            out, state, weights = self._gnmt(embedded.unsqueeze(1), memory, state)
            return out.squeeze(1), state, weights.squeeze(1)
        parts = [embedded]
        if self.cfg.input_feeding:
            parts.append(state.feed)
        if self.cfg.feed_context:
            parts.append(memory.context)
        weights = None
        if self.bahdanau:
            context, weights = self.attention(state.h[-1].unsqueeze(1), memory.keys, memory.states, memory.mask)
            parts.append(context.squeeze(1))
        rnn_out, h, c = self._recur(torch.cat(parts, dim=-1), state)  # [B, 1, H]
        if self.bahdanau:
            pieces = [rnn_out.squeeze(1), context.squeeze(1)]
            if self.cfg.feed_context:
                pieces.append(memory.context)
            out = self.dropout(torch.tanh(self.combine(torch.cat(pieces, dim=-1))))
        else:
            out, weights = self._combine(rnn_out, memory, 1, with_weights=True)
            out, weights = out.squeeze(1), None if weights is None else weights.squeeze(1)
        return out, DecoderState(h, c, out if self.cfg.input_feeding else None), weights

    def _gnmt(self, embedded: torch.Tensor, memory: Memory,
              state: DecoderState) -> Tuple[torch.Tensor, DecoderState, torch.Tensor]:
        """The gnmt layers over embedded [B, T, E] (T = 1 for a step) -> outputs [B, T, H], the final state,
        attention weights [B, T, S]."""
        def start(i: int):
            return state.h[i:i + 1] if state.c is None else (state.h[i:i + 1], state.c[i:i + 1])

        x, first = self.layers[0](embedded, start(0))
        attended, weights = self.attention(x, memory.keys, memory.states, memory.mask)
        finals = [first]
        for i, layer in enumerate(self.layers[1:], start=1):
            y, final = layer(torch.cat([self.dropout(x), attended], dim=-1), start(i))
            x = y + x if i >= 2 else y  # residual connections from the third layer on
            finals.append(final)
        if state.c is None:
            next_state = DecoderState(torch.cat(finals), None, None)
        else:
            next_state = DecoderState(torch.cat([f[0] for f in finals]), torch.cat([f[1] for f in finals]), None)
        return self.dropout(x), next_state, weights

    def _recur(self, inputs: torch.Tensor, state: DecoderState):
        """One RNN step: inputs [B, In] -> output [B, 1, H], h and c [L, B, H].

        A one-layer LSTM step is written out (two matrix products and the gates): per-step calls of the fused
        nn.LSTM cost more on CPU than the arithmetic, most of all in the backward pass.
        """
        if type(self.rnn) is nn.LSTM and self.cfg.layers == 1:  # (not for a quantized LSTM)
            rnn = self.rnn
            gates = torch.addmm(torch.addmm(rnn.bias_ih_l0 + rnn.bias_hh_l0, inputs, rnn.weight_ih_l0.t()),
                                state.h[0], rnn.weight_hh_l0.t())  # [B, 4H] in nn.LSTM's order i, f, g, o
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * state.c[0] + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            return h.unsqueeze(1), h.unsqueeze(0), c.unsqueeze(0)
        rnn_out, hidden = self.rnn(inputs.unsqueeze(1), state.rnn_state)
        h, c = hidden if isinstance(hidden, tuple) else (hidden, None)
        return rnn_out, h, c

    def _combine(self, rnn_out: torch.Tensor, memory: Memory, steps: int, with_weights: bool = False):
        """Luong-style output: tanh(W [h_t; c_t (attention); context (Cho)]) over [B, T, H] RNN outputs."""
        parts = [rnn_out]
        weights = None
        if self.attention is not None:
            attended, weights = self.attention(rnn_out, memory.keys, memory.states, memory.mask)
            parts.append(attended)
        if self.cfg.feed_context:
            parts.append(memory.context.unsqueeze(1).expand(-1, steps, -1))
        out = torch.tanh(self.combine(torch.cat(parts, dim=-1))) if self.combine is not None else rnn_out
        out = self.dropout(out)
        return (out, weights) if with_weights else out
