"""Training: the loop, optimiser and schedule, validation and selection, transfer and freezing, data parallelism, and
run_train (checkpoints themselves are written and read by seq2seq.runs.checkpoint)."""
