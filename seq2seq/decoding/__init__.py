"""Search strategies (greedy, beam, sampling) over the model contract, and text-to-text translation."""

from seq2seq.decoding.contract import Reorderable, SearchModel
from seq2seq.decoding.search import Hypothesis, beam_search, greedy_or_sample, max_lengths
from seq2seq.decoding.translator import Translator

__all__ = ["Hypothesis", "Reorderable", "SearchModel", "Translator", "beam_search", "greedy_or_sample", "max_lengths"]
