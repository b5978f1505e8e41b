"""seq2seq: RNN encoder-decoder machine translation (Sutskever 2014, Cho 2014, Bahdanau/Luong attention, multi-task)."""

__version__ = "0.1.0"
# Checkpoints record this; a checkpoint whose major format differs is refused with a message.
CHECKPOINT_FORMAT = 1
