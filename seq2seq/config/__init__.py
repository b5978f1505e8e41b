"""Config schemas, their registration with Hydra, and the conversion of a composed config into typed objects."""

from __future__ import annotations

from typing import Type, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from seq2seq.config.schema import (
    AttentionType,
    Bridge,
    Cell,
    DataConfig,
    DecoderConfig,
    DecodingConfig,
    EncoderConfig,
    EvaluateConfig,
    InitConfig,
    ModelConfig,
    Precision,
    Schedule,
    SentencePieceConfig,
    SpmType,
    Strategy,
    TaskConfig,
    ToyConfig,
    TrainConfig,
    TrainerConfig,
    TranslateConfig,
    WordVectorsConfig,
)
from seq2seq.errors import ConfigError

__all__ = [
    "AttentionType", "Bridge", "Cell", "DataConfig", "DecoderConfig", "DecodingConfig", "EncoderConfig",
    "EvaluateConfig", "InitConfig", "ModelConfig", "Precision", "Schedule", "SentencePieceConfig", "SpmType",
    "Strategy", "TaskConfig", "ToyConfig", "TrainConfig", "TrainerConfig", "TranslateConfig", "WordVectorsConfig",
    "register_configs", "to_typed",
]

# Schemas named in the YAML files' defaults lists (`- /schema/model@_here_`); registered once by the CLI.
SCHEMAS = {
    "train": TrainConfig,
    "translate": TranslateConfig,
    "evaluate": EvaluateConfig,
    "data": DataConfig,
    "model": ModelConfig,
    "trainer": TrainerConfig,
    "decoding": DecodingConfig,
}

T = TypeVar("T")


def register_configs() -> None:
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for name, schema in SCHEMAS.items():
        store.store(group="schema", name=name, node=schema)


def to_typed(cfg: DictConfig, schema: Type[T]) -> T:
    """Validate a composed config against `schema` (types, then ranges) and return the dataclass object."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), cfg)
        obj = OmegaConf.to_object(merged)
    except ConfigError:
        raise
    except OmegaConfBaseException as err:
        raise ConfigError(describe_omegaconf_error(err)) from None
    assert isinstance(obj, schema)
    return obj


def describe_omegaconf_error(err: Exception) -> str:
    """One line: the full key and what went wrong (OmegaConf's messages span several lines)."""
    key = getattr(err, "full_key", None)
    msg = getattr(err, "msg", None) or str(err)
    first = " ".join(msg.strip().splitlines()[0].split())
    if "missing mandatory value" in first.lower() and key:
        return f"{key}: a value is required (give {key}=...)"
    return f"{key}: {first}" if key else first

