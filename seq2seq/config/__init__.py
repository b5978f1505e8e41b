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
    TaskSampling,
    ToyConfig,
    TrainConfig,
    TrainerConfig,
    TranslateConfig,
    WordVectorsConfig,
    describe_omegaconf_error,
    task_data,
)
from seq2seq.errors import ConfigError

__all__ = [
    "AttentionType", "Bridge", "Cell", "DataConfig", "DecoderConfig", "DecodingConfig", "EncoderConfig",
    "EvaluateConfig", "InitConfig", "ModelConfig", "Precision", "Schedule", "SentencePieceConfig", "SpmType",
    "Strategy", "TaskConfig", "TaskSampling", "ToyConfig", "TrainConfig", "TrainerConfig", "TranslateConfig",
    "WordVectorsConfig", "describe_omegaconf_error", "register_configs", "task_data", "to_typed",
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
