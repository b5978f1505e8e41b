"""The typed config of a training run (every group together, with the checks across groups) and the merge of a
task's own data block over the run's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, MissingMandatoryValue, OmegaConfBaseException

from seq2seq.config.checks import check
from seq2seq.config.data import DataConfig
from seq2seq.config.decoding import DecodingConfig
from seq2seq.config.schema import ModelConfig, Selection, SelectOn, TaskConfig, TrainerConfig
from seq2seq.errors import ConfigError


@dataclass
class TrainConfig:
    name: str = "run"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    tasks: List[TaskConfig] = field(default_factory=list)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)  # for the final test-set translation

    def __post_init__(self) -> None:
        check(len(self.tasks) > 0, "tasks", "at least one task is needed (task=single)")
        names = [t.name for t in self.tasks]
        check(len(set(names)) == len(names), "tasks", f"task names must be unique, got {names}")
        selection = self.selection  # checked here, before any work
        check(not self.trainer.main_task or self.trainer.main_task in names, "trainer.main_task",
              f"must be one of the tasks {names}, got {self.trainer.main_task!r}")
        datas = {task.name: task_data(self.data, task) for task in self.tasks}  # each task's block checked
        single = len(self.tasks) == 1 and not self.tasks[0].data  # the run's data block is the task's
        for name, data in datas.items():
            check(not data.back_translation_tag or bool(data.back_translation),
                  "data.back_translation_tag" if single else f"tasks[{name}].data.back_translation_tag",
                  "marks back-translated sources, but the task has no data.back_translation")
        for name in self.scored_tasks:
            check(bool(datas[name].valid), "data.valid" if single else f"tasks[{name}].data.valid",
                  f"is empty, but task {name}'s validation BLEU selects the best checkpoint (trainer.select_on="
                  f"{self.trainer.select_on}); give it a validation split"
                  + (f" or set tasks[{name}].select=false" if selection.on == SelectOn.mean else ""))

    @property
    def main_task(self) -> str:
        return self.trainer.main_task or self.tasks[0].name

    @property
    def scored_tasks(self) -> List[str]:
        """The tasks whose validation BLEU is the run's score (best checkpoint, early stopping, plateau)."""
        selection = self.selection
        if selection.on == SelectOn.main:
            return [self.main_task]
        if selection.on == SelectOn.mean:
            return [t.name for t in self.tasks if t.select] or [t.name for t in self.tasks]
        return [selection.task]

    @property
    def selection(self) -> Selection:
        return Selection.parse(self.trainer.select_on, [t.name for t in self.tasks])


def task_data(data: DataConfig, task: TaskConfig) -> DataConfig:
    """The data config of one task: its `data` block merged over the run's `data` (checked like the group)."""
    if not task.data:
        return data
    try:
        merged = OmegaConf.merge(OmegaConf.structured(data), task.data)
        obj = OmegaConf.to_object(merged)
    except ConfigError as err:
        raise ConfigError(f"tasks[{task.name}].{err}") from None
    except OmegaConfBaseException as err:
        raise ConfigError(f"tasks[{task.name}].data.{describe_omegaconf_error(err)}") from None
    assert isinstance(obj, DataConfig)
    return obj


def describe_omegaconf_error(err: Exception) -> str:
    """One line: the full key and what went wrong (OmegaConf's messages span several lines)."""
    key = getattr(err, "full_key", None)
    if isinstance(err, MissingMandatoryValue) and key:
        return f"{key}: a value is required (give {key}=...)"
    if isinstance(err, (ConfigAttributeError, ConfigKeyError)) and key:
        return f"{key}: no such config key (see the keys with --cfg job)"
    msg = getattr(err, "msg", None) or str(err)
    first = " ".join(msg.strip().splitlines()[0].split())
    return f"{key}: {first}" if key else first
