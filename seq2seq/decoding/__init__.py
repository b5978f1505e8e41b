"""Search strategies (greedy, beam, sampling) over the model contract, and text-to-text translation."""

from seq2seq.decoding.contract import Reorderable, Search, SearchModel
from seq2seq.decoding.search import Beam, Greedy, Hypothesis, beam_search, greedy_or_sample, make_search, max_lengths
from seq2seq.decoding.translator import Translator

__all__ = ["Beam", "Greedy", "Hypothesis", "Reorderable", "Search", "SearchModel", "Translator", "beam_search",
           "greedy_or_sample", "make_search", "max_lengths"]
