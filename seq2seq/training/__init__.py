"""Training: the parts a run is made of (parts.py: device, data, model, optimiser and schedule, batch streams), the
loop that trains them (trainer.py: validation and selection, checkpoints, signals), transfer and freezing, data
parallelism, and run_train (checkpoints themselves are written and read by seq2seq.runs.checkpoint)."""
