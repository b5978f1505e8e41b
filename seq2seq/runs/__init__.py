"""Run folders: checkpoints (atomic, safe to load), the device a command uses, and a trained run loaded for use."""
