"""Which keys of a training config change what a run learns, and how two such configs differ: what a tool checks
before it reuses a finished run or a committed record under a preset's name (a run made with another recipe must
never stand for the new one)."""

from __future__ import annotations

from typing import Any, Dict, List

from omegaconf import OmegaConf

from seq2seq.config.train import TrainConfig

# keys that do not change what a run learns: its label, where the data root and the prepared corpora are (any key
# `*.root` or `*.prepared`: the tools check the test set's hash), how it reports, the fine-tuning parent's path (the
# row names the parent), test-time decoding
UNTRAINED = ("name", "trainer.progress", "trainer.tensorboard", "trainer.log_every", "trainer.threads",
             "trainer.device", "trainer.keep_checkpoints", "trainer.finetune_from", "decoding.")


def trained_keys(tree: Any) -> Dict[str, Any]:
    """A training config tree (a typed config's dict) as {dotted key: value}, lists of values kept as values, the
    UNTRAINED keys left out."""
    flat: Dict[str, Any] = {}

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, f"{key}.{name}" if key else str(name))
        elif isinstance(node, list) and any(isinstance(v, (dict, list)) for v in node):
            for index, value in enumerate(node):
                walk(value, f"{key}.{index}")
        elif not key.endswith((".root", ".prepared")) and not any(key == u or (u.endswith(".") and key.startswith(u))
                                                                   for u in UNTRAINED):
            flat[key] = node

    walk(tree, "")
    return flat


def config_changes(made: Dict[str, Any], wanted: Dict[str, Any]) -> List[str]:
    """`key: made -> wanted` for every trained key on which a run (or its record) differs from the composition.
    A key the record lacks was added to the schema after it was made, with a default that keeps the old
    behaviour: it counts at that default."""
    defaults = trained_keys(OmegaConf.to_container(OmegaConf.structured(TrainConfig), enum_to_str=True))
    made = {**{key: defaults[key] for key in wanted if key not in made and key in defaults}, **made}
    return [f"{key}: {made.get(key, '(none)')} -> {wanted.get(key, '(none)')}"
            for key in sorted(set(made) | set(wanted)) if made.get(key) != wanted.get(key)]
