"""Encoder, decoder, attention and the multi-task container that holds named encoders and decoders."""

from seq2seq.model.attention import Attention
from seq2seq.model.decoder import Decoder, DecoderState, Memory
from seq2seq.model.encoder import Encoder, EncoderOutput
from seq2seq.model.seq2seq import Seq2Seq

__all__ = ["Attention", "Decoder", "DecoderState", "Encoder", "EncoderOutput", "Memory", "Seq2Seq"]
