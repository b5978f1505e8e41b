"""Command-line entry points: the only modules that import Hydra. Each is a thin main over a pure run_* function."""
