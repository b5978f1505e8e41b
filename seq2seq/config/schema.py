"""Typed schemas of the training config groups (model, task, trainer; data's are in data.py, decoding's in
decoding.py); Hydra checks keys and types against them at composition.

Range and cross-field checks live in `__post_init__` and run when `to_object` turns a composed config into these
dataclasses, before any work starts. Model code receives these typed objects, never a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List

from omegaconf import MISSING

from seq2seq.config.checks import check, check_positive, check_probability


class Cell(Enum):
    lstm = "lstm"
    gru = "gru"
    rnn = "rnn"


class AttentionType(Enum):
    none = "none"
    bahdanau = "bahdanau"
    luong_dot = "luong_dot"
    luong_general = "luong_general"


class Layout(Enum):
    stacked = "stacked"  # one (bidirectional) RNN of `layers` layers; the decoder attends from its top layer
    # Wu et al. 2016 (GNMT), as NVIDIA's GNMT v2: encoder with a bidirectional first layer and unidirectional
    # layers above; decoder attends from its first layer, the context enters every layer above; residual
    # connections from the third layer on; no input feeding, so teacher forcing runs each layer as one fused call
    gnmt = "gnmt"


class Bridge(Enum):
    dense = "dense"  # tanh(W [final states]) initialises the decoder
    zero = "zero"  # decoder starts from zeros (only sensible with attention)


class Schedule(Enum):
    constant = "constant"
    plateau = "plateau"  # multiplied by plateau_factor after plateau_patience validations without BLEU gain
    linear = "linear"  # decays linearly from lr to min_lr at the end of the budget (steps, minutes or epochs)


class Precision(Enum):
    fp32 = "fp32"
    bf16 = "bf16"  # autocast matrix products to bfloat16 (GPUs with bf16 units; slow on CPUs without AVX512-BF16)


class TaskSampling(Enum):
    ratio = "ratio"  # each task by its mixing_ratio (per batch of the main task)
    temperature = "temperature"  # p(task) proportional to (training pairs) ** (1 / trainer.sampling_temperature)


class IntervalUnit(Enum):
    step = "step"  # every optimizer step, whichever task it trained
    main_update = "main_update"  # updates of the main task only: the same cadence at any mixing ratio


@dataclass
class EncoderConfig:
    cell: Cell = Cell.lstm
    embedding_dim: int = 256
    hidden_size: int = 256  # per direction
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.2
    reverse_source: bool = False  # Sutskever et al. 2014: read the source backwards
    layout: Layout = Layout.stacked

    def __post_init__(self) -> None:
        for name in ("embedding_dim", "hidden_size", "layers"):
            check_positive(getattr(self, name), f"model.encoder.{name}")
        check_probability(self.dropout, "model.encoder.dropout")
        check(self.layout != Layout.gnmt or (self.bidirectional and self.layers >= 2), "model.encoder.layout",
              f"gnmt needs model.encoder.bidirectional=true (its first layer) and layers >= 2, got bidirectional="
              f"{str(self.bidirectional).lower()} and layers={self.layers}")


@dataclass
class DecoderConfig:
    cell: Cell = Cell.lstm
    embedding_dim: int = 256
    hidden_size: int = 256
    layers: int = 1
    dropout: float = 0.2
    attention: AttentionType = AttentionType.none
    input_feeding: bool = False  # Luong 2015: feed the attentional vector to the next step
    feed_context: bool = False  # Cho et al. 2014: the context vector enters every step and the output layer
    bridge: Bridge = Bridge.dense
    tie_embeddings: bool = False  # target embeddings shared with the output layer
    layout: Layout = Layout.stacked

    def __post_init__(self) -> None:
        for name in ("embedding_dim", "hidden_size", "layers"):
            check_positive(getattr(self, name), f"model.decoder.{name}")
        check_probability(self.dropout, "model.decoder.dropout")
        if self.layout == Layout.gnmt:
            check(self.attention != AttentionType.none and self.layers >= 2, "model.decoder.layout",
                  f"gnmt attends from the first layer into the layers above: it needs model.decoder.attention "
                  f"(got {self.attention.value}) and layers >= 2 (got {self.layers})")
            check(not self.input_feeding and not self.feed_context, "model.decoder.layout",
                  "gnmt feeds the attention context to the upper layers instead: set model.decoder.input_feeding="
                  "false and feed_context=false")
        check(not (self.input_feeding and self.attention == AttentionType.none), "model.decoder.input_feeding",
              "needs attention (model.decoder.attention is none)")
        check(not (self.bridge == Bridge.zero and self.attention == AttentionType.none and not self.feed_context),
              "model.decoder.bridge", "zero leaves the decoder blind to the source without attention: use dense")
        check(not (self.tie_embeddings and self.embedding_dim != self.hidden_size),
              "model.decoder.tie_embeddings",
              f"needs model.decoder.embedding_dim ({self.embedding_dim}) == hidden_size ({self.hidden_size})")


@dataclass
class ModelConfig:
    name: str = MISSING
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    # 0: xavier-uniform matrices, N(0, 1/dim) embeddings, LSTM forget-gate bias 1; > 0: uniform(-s, s) (Sutskever 2014)
    init_scale: float = 0.0
    # one embedding table per language, shared by every encoder that reads it and every decoder that writes it
    share_embeddings: bool = False

    def __post_init__(self) -> None:
        check(self.init_scale >= 0, "model.init_scale", f"must be >= 0, got {self.init_scale}")
        check(not self.share_embeddings or self.encoder.embedding_dim == self.decoder.embedding_dim,
              "model.share_embeddings", f"needs model.encoder.embedding_dim ({self.encoder.embedding_dim}) == "
              f"model.decoder.embedding_dim ({self.decoder.embedding_dim})")


@dataclass
class TaskConfig:
    """One task: a source and target language, the encoder and decoder it uses (by name), its mixing ratio."""

    name: str = MISSING
    src: str = MISSING
    tgt: str = MISSING
    encoder: str = MISSING
    decoder: str = MISSING
    mixing_ratio: float = 1.0  # batches of this task per batch of the main task (trainer.task_sampling=ratio)
    select: bool = True  # counts towards best-checkpoint selection with trainer.select_on=mean
    # keys of the data group that differ for this task (its own corpus, line range, ...), merged over `data`
    data: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check(self.mixing_ratio > 0, f"tasks[{self.name}].mixing_ratio", f"must be > 0, got {self.mixing_ratio}")
        for key in ("spm", "toy", "name", "src", "tgt"):
            check(key not in self.data, f"tasks[{self.name}].data.{key}",
                  "is set for the whole run (data." + key + ")" if key in ("spm", "toy", "name")
                  else f"the task's own {key} names the files' language; set tasks[{self.name}].{key}")


class SelectOn(Enum):
    main = "main"  # the main task's validation BLEU
    mean = "mean"  # the mean over the tasks with select: true (all of them if none is marked)
    task = "task"  # one named task's


@dataclass(frozen=True)
class Selection:
    """What trainer.select_on names, parsed once: main, mean or a task's name."""

    on: SelectOn
    task: str = ""  # on=task: the task

    @staticmethod
    def parse(text: str, tasks: List[str]) -> Selection:
        if text in (SelectOn.main.value, SelectOn.mean.value):
            return Selection(SelectOn(text))
        check(text in tasks, "trainer.select_on", f"must be 'main', 'mean' or one of the tasks {tasks}, got {text!r}")
        return Selection(SelectOn.task, text)

    def __str__(self) -> str:
        return self.task if self.on == SelectOn.task else self.on.value


@dataclass(frozen=True)
class ModuleRef:
    """A module of the model as a config names it: encoder:NAME, decoder:NAME, embeddings:encoder|decoder:NAME."""

    side: str  # encoder | decoder
    name: str
    embeddings: bool = False  # the module's embedding table only

    @staticmethod
    def parse(text: str, key: str, embeddings: bool = True) -> ModuleRef:
        """The one reader of that syntax; a clear error naming `key` for anything else."""
        kind = text.split(":")
        forms = "encoder:NAME, decoder:NAME" + (" or embeddings:encoder|decoder:NAME" if embeddings else "")
        check(len(kind) in (2, 3) and all(kind) and kind[-2] in ("encoder", "decoder")
              and (len(kind) == 2 or (embeddings and kind[0] == "embeddings")), key,
              f"must be {forms}, got {text!r}")
        return ModuleRef(kind[-2], kind[-1], len(kind) == 3)

    def __str__(self) -> str:
        return ("embeddings:" if self.embeddings else "") + f"{self.side}:{self.name}"


@dataclass
class InitConfig:
    """Start a module from another run: `module` is encoder:NAME, decoder:NAME or embeddings:encoder:NAME
    (embeddings:decoder:NAME); `source` names the module in that run (default: the same)."""

    module: str = MISSING
    checkpoint: str = MISSING  # a run folder or a checkpoint folder
    source: str | None = None
    freeze: bool = False

    def __post_init__(self) -> None:
        _ = self.target  # the module's name is checked now, before any work

    @property
    def target(self) -> ModuleRef:
        return ModuleRef.parse(self.module, "trainer.init.module")


@dataclass
class WordVectorsConfig:
    """Initialise a module's embeddings from a word2vec/GloVe text file (pieces looked up without the '▁')."""

    module: str = MISSING  # encoder:NAME or decoder:NAME
    path: str = MISSING
    freeze: bool = False

    def __post_init__(self) -> None:
        _ = self.target  # the module's name is checked now, before any work

    @property
    def target(self) -> ModuleRef:
        return ModuleRef.parse(self.module, "trainer.word_vectors.module", embeddings=False)


@dataclass
class TrainerConfig:
    seed: int = 1
    # the order of the training batches and of the sampled tasks; None: `seed`, which then seeds only the initial
    # weights and dropout (two runs that differ in one of them tell the two sources of seed variance apart)
    data_seed: int | None = None
    max_steps: int = 0  # 0 = no limit
    max_epochs: int = 30  # epochs of the main task; 0 = no limit (presets with a time budget)
    max_minutes: float = 0.0  # budget of training time (validation not counted); 0 = no limit
    max_wall_minutes: float = 0.0  # budget of wall-clock time, validation and checkpoints counted; 0 = no limit
    # wall-clock minutes at which the weights are kept in RUN/snapshots/min_M (curves of quality against time)
    snapshot_minutes: List[float] = field(default_factory=list)
    batch_tokens: int = 4096  # padded tokens per batch: sentences * max(src_len, tgt_len + 1)
    length_pool: int = 0  # sort by length within shuffled pools of this many pairs; 0 = the whole corpus
    lr: float = 1e-3
    schedule: Schedule = Schedule.constant
    warmup_steps: int = 0  # the rate rises linearly from 0 to lr over these first steps (any schedule)
    plateau_factor: float = 0.5
    plateau_patience: int = 2
    min_lr: float = 1e-5
    clip_norm: float = 1.0  # 0 = no clipping
    label_smoothing: float = 0.0
    log_every: int = 50
    validate_every: int = 500
    checkpoint_every: int = 500
    interval_unit: IntervalUnit = IntervalUnit.step  # what validate_every and checkpoint_every count
    keep_checkpoints: int = 3
    early_stopping: int = 0  # validations without BLEU gain before stopping; 0 = off
    main_task: str = ""  # the task whose epochs and validation BLEU drive the run; "" = the first task
    # validation BLEU for selection, early stopping and the plateau schedule: "main" (the main task), "mean" (of
    # the tasks with select: true) or a task name; read through TrainConfig.selection
    select_on: str = "main"
    task_sampling: TaskSampling = TaskSampling.ratio
    sampling_temperature: float = 5.0  # task_sampling=temperature: 1 = by corpus size, large = uniform
    device: str = "auto"  # auto, cpu, cuda, cuda:N
    precision: Precision = Precision.fp32
    threads: int = 0  # torch intra-op threads; 0 = torch's default
    progress: bool = True
    tensorboard: bool = False  # also write the logged scalars to RUN/tensorboard (pip install 'seq2seq[tensorboard]')
    init: List[InitConfig] = field(default_factory=list)  # transfer from other runs (fresh runs only)
    # fine-tune: start from this run's best weights and SentencePiece models (same model and tasks) and train
    # the main task alone; "" = off
    finetune_from: str = ""
    word_vectors: List[WordVectorsConfig] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("max_steps", "max_epochs", "keep_checkpoints", "early_stopping", "threads", "length_pool",
                     "warmup_steps"):
            check(getattr(self, name) >= 0, f"trainer.{name}", f"must be >= 0, got {getattr(self, name)}")
        for name in ("batch_tokens", "lr", "log_every", "validate_every", "checkpoint_every"):
            check_positive(getattr(self, name), f"trainer.{name}")
        check(self.data_seed is None or self.data_seed >= 0, "trainer.data_seed",
              f"must be >= 0 (or null: trainer.seed), got {self.data_seed}")
        check(self.max_minutes >= 0, "trainer.max_minutes", "must be >= 0")
        check(self.max_wall_minutes >= 0, "trainer.max_wall_minutes", "must be >= 0")
        check(all(m > 0 for m in self.snapshot_minutes), "trainer.snapshot_minutes",
              f"must be minutes > 0, got {self.snapshot_minutes}")
        check_positive(self.sampling_temperature, "trainer.sampling_temperature")
        check(self.schedule != Schedule.linear
              or bool(self.max_steps or self.max_minutes or self.max_wall_minutes or self.max_epochs),
              "trainer.schedule", "linear decays to the end of the budget: set trainer.max_steps, max_minutes, "
              "max_wall_minutes or max_epochs")
        check(self.min_lr <= self.lr, "trainer.min_lr", f"must be <= trainer.lr ({self.lr:g}), got {self.min_lr:g}")
        check(self.clip_norm >= 0, "trainer.clip_norm", "must be >= 0")
        check_probability(self.label_smoothing, "trainer.label_smoothing")
        check(0 < self.plateau_factor < 1, "trainer.plateau_factor", "must be in (0, 1)")
        check(self.keep_checkpoints >= 1, "trainer.keep_checkpoints", "must be >= 1")
        check(self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda"),
              "trainer.device", f"must be auto, cpu, cuda or cuda:N, got {self.device!r}")
