"""Scores from sacrebleu on detokenised text, always with their signatures."""
