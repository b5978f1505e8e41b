"""seq2seq: RNN encoder-decoder machine translation (Sutskever 2014, Cho 2014, Bahdanau/Luong attention, multi-task)."""

__version__ = "0.1.0"
# Checkpoints record this; a checkpoint whose major format differs is refused with a message.
CHECKPOINT_FORMAT = 1


def __getattr__(name: str):
    # `from seq2seq import load` without importing torch for `from seq2seq import __version__`
    if name == "load":
        from seq2seq.api import load

        return load
    raise AttributeError(f"module 'seq2seq' has no attribute {name!r}")
