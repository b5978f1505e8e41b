"""Config schemas, their registration with Hydra, and the conversion of a composed config into typed objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, Type, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from seq2seq.config.commands import AverageConfig, EvaluateConfig, ScoreConfig, ServeConfig, TranslateConfig
from seq2seq.config.data import DataConfig, SentencePieceConfig, SpmType, ToyConfig
from seq2seq.config.decoding import DecodingConfig, Strategy
from seq2seq.config.schema import (
    AttentionType,
    Bridge,
    Cell,
    DecoderConfig,
    EncoderConfig,
    InitConfig,
    IntervalUnit,
    Layout,
    ModelConfig,
    ModuleRef,
    Precision,
    Schedule,
    Selection,
    SelectOn,
    TaskConfig,
    TaskSampling,
    TrainerConfig,
    WordVectorsConfig,
)
from seq2seq.config.train import TrainConfig, describe_omegaconf_error, task_data
from seq2seq.errors import ConfigError

__all__ = [
    "AttentionType", "AverageConfig", "Bridge", "Cell", "DataConfig", "DecoderConfig", "DecodingConfig",
    "EncoderConfig", "EvaluateConfig", "InitConfig", "IntervalUnit", "Layout", "ModelConfig", "ModuleRef",
    "Precision", "Schedule", "SelectOn", "Selection",
    "ScoreConfig", "SentencePieceConfig", "ServeConfig", "SpmType", "Strategy", "TaskConfig", "TaskSampling",
    "ToyConfig", "TrainConfig", "TrainerConfig", "TranslateConfig", "WordVectorsConfig", "CONF_DIR", "compose",
    "config_dict", "describe_omegaconf_error", "register_configs", "task_data", "to_typed",
]

# Schemas named in the YAML files' defaults lists (`- /schema/model@_here_`); registered once by the CLI.
SCHEMAS = {
    "train": TrainConfig,
    "translate": TranslateConfig,
    "evaluate": EvaluateConfig,
    "score": ScoreConfig,
    "average": AverageConfig,
    "serve": ServeConfig,
    "data": DataConfig,
    "model": ModelConfig,
    "trainer": TrainerConfig,
    "decoding": DecodingConfig,
}

T = TypeVar("T")

# the configs ship inside the package (seq2seq/conf: in a checkout a link to the repository's conf/, in a wheel a
# copy), so a checkout, an editable install and a wheel find them the same way
CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")


def required(what: str, _node_: Any) -> Any:
    """`${required:WHAT}`: a value a preset cannot choose for its user (a run to fine-tune, a back-translation
    model). Hydra drops `???` where the schema has a default, so a preset names such a key this way; typing the
    config without it set fails in one line that says how to give it."""
    key = _node_._get_full_key(None).replace("[", ".").replace("]", "")
    raise ConfigError(f"{key}: this preset needs {what} (give {key}=...)")


OmegaConf.register_new_resolver("required", required, replace=True)


def _ours(err: BaseException | None) -> ConfigError | None:
    """Our own error (`${required:...}`'s) inside OmegaConf's wrapping of a failed interpolation, if any."""
    while err is not None and not isinstance(err, ConfigError):
        err = err.__cause__ or err.__context__
    return err


def register_configs() -> None:
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for name, schema in SCHEMAS.items():
        store.store(group="schema", name=name, node=schema)


def compose(name: str, overrides: Sequence[str] = (), return_hydra_config: bool = False) -> DictConfig:
    """Compose conf/NAME.yaml with command-line style overrides, as the commands do (for tools and tests)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=CONF_DIR, version_base=None):
        return hydra_compose(config_name=name, overrides=list(overrides), return_hydra_config=return_hydra_config)


def config_dict(obj: Any) -> Any:
    """A typed config as JSON-able dicts and lists (enums as their names), as checkpoints record it."""
    return OmegaConf.to_container(OmegaConf.structured(obj), enum_to_str=True)


def to_typed(cfg: DictConfig, schema: Type[T]) -> T:
    """Validate a composed config against `schema` (types, then ranges) and return the dataclass object."""
    try:
        # merged as plain values (interpolations kept): a key the schema lacks (`+foo=1`) is then refused, where
        # a composed node that already carries the schema's type would take it in silently
        plain = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False)) if isinstance(cfg, DictConfig) else cfg
        merged = OmegaConf.merge(OmegaConf.structured(schema), plain)
        obj = OmegaConf.to_object(merged)
    except ConfigError:
        raise
    except OmegaConfBaseException as err:
        raise (_ours(err) or ConfigError(describe_omegaconf_error(err))) from None
    assert isinstance(obj, schema)
    return obj
