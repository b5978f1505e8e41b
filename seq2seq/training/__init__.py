"""Training loop, optimiser and schedule, validation, and checkpoints."""
