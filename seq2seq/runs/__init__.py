"""Storage and loading: run folders' checkpoints (atomic, safe to load), the device a command uses, a trained run
loaded for use (ensembles, int8), checkpoint averaging and back-translation with a trained run."""
