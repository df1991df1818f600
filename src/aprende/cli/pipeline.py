"""From a run's settings to the objects that train: the data (loaded, split, preprocessed), the
model, the loss, the optimizer and the learning-rate schedule.

The builders take the resolved ``RunConfig``; a setting that cannot be honoured here (a CSV
file that does not exist, a task that does not fit the data, a GPU that is not there) is a
``UsageError``: one line naming the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aprende import config as settings_module
from aprende import nn
from aprende.cli.csv_data import fit_columns, load_csv_dataset
from aprende.cli.errors import UsageError, one_line
from aprende.cli.scoring import as_columns
from aprende.config import DATASETS, RunConfig
from aprende.datasets.info import (
    ONE_OF_C_TASKS,
    SINGLE_LABEL_TASKS,
    ZERO_ONE_TASKS,
    DataBundle,
    is_regression,
)
from aprende.datasets.spec import DataSpec

if TYPE_CHECKING:
    from aprende.data import DataLoader, TableEncoder
    from aprende.optim import Optimizer
    from aprende.optim.lr_scheduler import LRScheduler

# ---- data: load, split, preprocess -----------------------------------------------------------


@dataclass
class Data:
    """A dataset split three ways, raw (before preprocessing), and what a model needs to know.

    ``spec`` is what a checkpoint keeps to rebuild the model and read its outputs; ``X`` and
    ``y`` map each split ("train", "val", "test") to its arrays; ``columns`` is the CSV's
    imputation and one-hot coding, fitted on the training split (None when not needed).
    """

    spec: DataSpec
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    columns: TableEncoder | None = None


def load_dataset(config: RunConfig) -> DataBundle:
    """``(X, y, info)`` of the configured dataset or CSV file; clear one-line errors."""
    from aprende import datasets

    if config.dataset == "csv":
        return load_csv_dataset(config)
    choice = DATASETS[config.dataset]
    if choice.loader == "load_idx_images":
        return _load_idx(config, choice.options["dataset"])
    options = dict(choice.options)
    if choice.synthetic:
        options["seed"] = config.seed
    try:
        return getattr(datasets, choice.loader)(**options)
    except ImportError as error:
        raise UsageError(f"dataset {config.dataset!r}: {one_line(error)}") from None


def _load_idx(config: RunConfig, name: str) -> DataBundle:
    """MNIST or Fashion-MNIST from the user's IDX files: the official training and test
    files together (70,000 images), split as every dataset is (seeded, stratified)."""
    from aprende import datasets

    if not config.idx_dir:
        raise UsageError(
            f"dataset {name!r}: give --idx-dir FOLDER, the folder of the IDX files you "
            "downloaded (train-images-idx3-ubyte[.gz] and the three others); nothing is "
            "downloaded"
        )
    try:
        parts = [datasets.load_idx_images(config.idx_dir, kind, name) for kind in ("train", "test")]
    except (OSError, ValueError) as error:
        raise UsageError(f"idx_dir: {one_line(error)}") from None
    info = parts[0].info
    X = np.concatenate([p.data for p in parts])
    y = np.concatenate([p.target for p in parts])
    return DataBundle(X, y, info)


def _split_by_source(config: RunConfig):
    """The parts of a dataset whose loader builds train, validation and test examples from
    disjoint sources (``kind=``: the digit canvases), sized by ``val_size``/``test_size``;
    None for the others, which ``train_val_test_split`` splits."""
    import inspect

    from aprende import datasets

    if config.dataset == "csv":
        return None
    choice = DATASETS[config.dataset]
    loader = getattr(datasets, choice.loader)
    if not choice.synthetic or "kind" not in inspect.signature(loader).parameters:
        return None  # (the IDX files' kind= is the official train/test file, not a source)
    total = choice.options.get("n_samples", 1000)
    fractions = {"val": config.val_size, "test": config.test_size}
    fractions["train"] = 1 - config.val_size - config.test_size
    parts = {}
    for kind, fraction in fractions.items():
        options = dict(choice.options, n_samples=max(1, round(total * fraction)), kind=kind)
        parts[kind] = loader(seed=config.seed, **{k: v for k, v in options.items() if k != "seed"})
    info = parts["train"].info
    return parts, info


def load_data(config: RunConfig) -> Data:
    """Load and split the data as ``config`` says (seeded, stratified for class labels)."""
    from aprende.data import train_val_test_split

    by_source = _split_by_source(config)
    if by_source is None:
        X, y, info = load_dataset(config)
    else:
        sources, info = by_source
        X = np.concatenate([sources[k].data for k in ("train", "val", "test")])
        y = np.concatenate([sources[k].target for k in ("train", "val", "test")])
    task = info.task
    if config.task not in ("auto", task):
        raise UsageError(
            f"task: {config.task!r} does not fit dataset {info.name!r}, whose task is {task!r} "
            "(use task = 'auto')"
        )
    # Images: what the loader gives as (C, H, W), or the pixels of a flat dataset (the 8×8
    # digits) when a convolutional model is asked for; auto picks a CNN or U-Net only for
    # the former, so the tabular main job stays an MLP.
    input_shape = info.input_shape
    if input_shape is None and config.model in ("cnn", "unet") and info.image_shape:
        input_shape = (1, *info.image_shape)
    X = X.reshape(len(X), -1)
    if task in ("per_element", "multioutput_regression"):
        y = y.reshape(len(y), -1)
    if by_source is None:
        parts = train_val_test_split(
            X,
            y,
            val_size=config.val_size,
            test_size=config.test_size,
            stratify=y if task in SINGLE_LABEL_TASKS else None,
            seed=config.seed,
        )
    else:  # the loader kept the sources of the parts apart: split where it put them
        bounds = np.cumsum([len(sources[k].data) for k in ("train", "val")])
        parts = [
            piece
            for pair in zip(np.split(X, bounds), np.split(y, bounds), strict=True)
            for piece in pair
        ]
    names = ("train", "val", "test")
    columns = fit_columns(config, info, dict(zip(names, parts[::2], strict=True)))
    n_classes = len(info.target_names)
    outputs = {
        "binary": 1,
        "multiclass": n_classes,
        "multilabel": n_classes,
        "per_element": n_classes * (y.shape[1] if y.ndim > 1 else 1),
        "regression": 1,
        "multioutput_regression": y.shape[1] if y.ndim > 1 else 1,
    }[task]
    spec = DataSpec(
        name=info.name,
        task=task,
        description=info.description,
        feature_names=list(info.feature_names),
        target_names=list(info.target_names),
        n_features=columns.n_features_out_ if columns else X.shape[1],
        n_outputs=outputs,
        positions=y.shape[1] if task == "per_element" else None,
        sizes={"train": len(parts[0]), "val": len(parts[2]), "test": len(parts[4])},
        input_shape=list(input_shape) if input_shape else None,
        pixel_max=_pixel_max(parts[0]) if input_shape else None,
    )
    return Data(
        spec=spec,
        X={name: parts[2 * i] for i, name in enumerate(names)},
        y={name: parts[2 * i + 1] for i, name in enumerate(names)},
        columns=columns,
    )


def _make_scaler(name: str):
    from aprende.data import MinMaxScaler, PCAWhitening, StandardScaler

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "whitening": PCAWhitening}[name]()


class Preprocessing:
    """The input normalisation and (regression) target scaling of a run, fitted on the
    training split only, after a CSV's imputation and one-hot coding (``Data.columns``, kept
    as ``"columns"``); ``objects`` (name -> fitted object) is what ``fit(preprocessing=...)``
    saves in every checkpoint, and ``load`` restores them from one."""

    def __init__(self, config: RunConfig, task: str):
        self.task = task
        self.objects = {}
        if config.normalization != "none":
            self.objects["inputs"] = _make_scaler(config.normalization)
        if is_regression(task) and config.scale_target:
            self.objects["targets"] = _make_scaler("standard")

    def fit(self, data: Data) -> Preprocessing:
        if data.columns is not None:
            self.objects = {"columns": data.columns, **self.objects}
        if "inputs" in self.objects:
            self.objects["inputs"].fit(self._columns(data.X["train"]))
        if "targets" in self.objects:
            self.objects["targets"].fit(as_columns(data.y["train"]))
        return self

    def load(self, saved: dict, source: str, spec: DataSpec | None = None) -> Preprocessing:
        """Restore the fitted statistics from a checkpoint's saved state; with ``spec``, each
        scaler must then take rows of the run's width (a crafted or damaged state that would
        broadcast is refused here)."""
        from aprende.data import TableEncoder
        from aprende.training.checkpoint import CheckpointError
        from aprende.training.checkpoint_restore import restore_preprocessing

        stored = saved["state"].get("preprocessing") or {}
        if "columns" in stored:
            self.objects = {"columns": TableEncoder([]), **self.objects}
        for name in self.objects:
            if name not in stored:
                raise UsageError(
                    f"checkpoint {source} holds no {name!r} preprocessing, which this run's "
                    "settings need: it comes from another run"
                )
        try:
            restore_preprocessing(self.objects, saved)
        except CheckpointError as error:
            raise UsageError(one_line(error)) from None
        if spec is not None:
            widths = {"inputs": spec.n_features, "targets": spec.n_outputs}
            for name, scaler in self.objects.items():
                if name == "columns":
                    continue  # its width is checked on every table it reads
                probe = np.zeros((2, widths[name]), dtype=np.float32)
                try:
                    shape = np.shape(scaler.transform(probe))
                except (ValueError, TypeError, IndexError) as error:
                    shape = one_line(error)
                if shape != probe.shape:
                    raise UsageError(
                        f"checkpoint {source}: the {name!r} scaler does not take rows of "
                        f"{widths[name]} values (got {shape}): the file is damaged"
                    )
        return self

    def _columns(self, X: np.ndarray, rows=None) -> np.ndarray:
        """A CSV table's missing values imputed and text columns one-hot encoded."""
        columns = self.objects.get("columns")
        if columns is None:
            return np.asarray(X, dtype=np.float32)
        try:
            return columns.transform(X, rows=rows)
        except ValueError as error:
            raise UsageError(one_line(error)) from None

    def inputs(self, X: np.ndarray) -> np.ndarray:
        scaler = self.objects.get("inputs")
        X = self._columns(X)
        if scaler is not None:
            expected = scaler.n_features_in_
            if X.shape[1] != expected:
                raise UsageError(
                    f"the inputs have {X.shape[1]} features; the run was trained on {expected}"
                )
            X = scaler.transform(X)
        return np.asarray(X, dtype=np.float32)

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Targets as the loss takes them."""
        if self.task == "binary":
            return np.asarray(y, dtype=np.float32).reshape(-1, 1)
        if self.task == "multilabel":
            return np.asarray(y, dtype=np.float32)
        if is_regression(self.task):
            y = as_columns(y)
            scaler = self.objects.get("targets")
            return np.asarray(scaler.transform(y) if scaler else y, dtype=np.float32)
        return np.asarray(y, dtype=np.int64)

    def outputs(self, outputs: np.ndarray) -> np.ndarray:
        """Model outputs back on the targets' scale (regression); unchanged otherwise."""
        scaler = self.objects.get("targets")
        return scaler.inverse_transform(outputs) if scaler is not None else outputs


def _pixel_max(images: np.ndarray) -> float:
    """Full ink in the training images: 1 for images in [0, 1], else their largest value."""
    top = float(np.max(images)) if images.size else 1.0
    return 1.0 if top <= 1 else top


def make_loader(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    shard: tuple[int, int] | None = None,
) -> DataLoader:
    """A ``DataLoader`` over the preprocessed arrays ``X`` and ``y`` (seeded when shuffled).

    ``shard=(rank, ranks)``: this rank's slice of each global batch of ``batch_size`` (the
    order drawn as one process draws it; see ``distributed.BatchShardSampler``)."""
    from aprende import tensor
    from aprende.data import DataLoader, RandomSampler, SequentialSampler, TensorDataset

    dataset = TensorDataset(tensor(X), tensor(y))
    if shard is None or shard[1] == 1:
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=seed)
    from aprende.distributed import BatchShardSampler

    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=seed)
    order = (
        RandomSampler(dataset, generator=loader.generator)
        if shuffle
        else (SequentialSampler(dataset))
    )
    rank, ranks = shard
    sampler = BatchShardSampler(order, batch_size, num_replicas=ranks, rank=rank)
    return DataLoader(
        dataset, batch_size=batch_size // ranks, sampler=sampler, generator=loader.generator
    )


# ---- the model -------------------------------------------------------------------------------


def build_criterion(task: str) -> nn.Module:
    """The loss of ``task``: cross-entropy (one of C classes), BCE with logits (0/1 targets),
    MSE (regression)."""
    if task in ONE_OF_C_TASKS:
        return nn.CrossEntropyLoss()
    if task in ZERO_ONE_TASKS:
        return nn.BCEWithLogitsLoss()
    return nn.MSELoss()


def model_kind(config: RunConfig, spec: DataSpec) -> str:
    """ "mlp", "cnn" or "unet": the configured one, or for ``auto`` a CNN for images with one
    class (or label set) per example, a U-Net for images with an output per pixel, else an MLP.
    """
    if config.model != "auto":
        return config.model
    if spec.input_shape is None:
        return "mlp"
    pixels = int(np.prod(spec.input_shape[1:]))
    per_pixel = spec.task == "per_element" or (
        spec.task == "multioutput_regression" and spec.n_outputs == pixels
    )
    return "unet" if per_pixel else "cnn"


def build_model(config: RunConfig, spec: DataSpec) -> nn.Module:
    """The configured network for ``spec``'s inputs and outputs: an MLP, a LeNet-style CNN or
    a U-Net (``model_kind``). The inputs arrive as flat rows (N, D), as the preprocessing
    leaves them; a convolutional network reads them as (N, C, H, W). Per-element tasks get
    (N, C, L) outputs, the class dimension second as ``CrossEntropyLoss`` wants."""
    kind = model_kind(config, spec)
    if kind == "mlp":
        body: nn.Module = nn.MLP(
            spec.n_features,
            config.hidden,
            spec.n_outputs,
            activation=config.activation,
            batch_norm=config.batch_norm,
            dropout=config.dropout,
            noise=config.noise,
        )
        if spec.task != "per_element":
            return body
        return FlatOutputs(body, None, (len(spec.target_names), spec.positions))
    if spec.input_shape is None:
        raise UsageError(
            f"model: {kind!r} needs images, and dataset {spec.name!r} is not one (use --model mlp)"
        )
    return FlatOutputs(_conv_body(kind, config, spec), spec.input_shape, _output_shape(kind, spec))


def _conv_body(kind: str, config: RunConfig, spec: DataSpec) -> nn.Module:
    from aprende import models

    channels, height, width = spec.input_shape
    if kind == "cnn":
        if (
            spec.task not in SINGLE_LABEL_TASKS
            and spec.task != "multilabel"
            and not is_regression(spec.task)
        ):
            raise UsageError(f"model: 'cnn' gives one output vector per image, not a {spec.task!r}")
        return models.LeNet(
            channels,
            spec.n_outputs,
            image_size=(height, width),
            channels=(config.channels, 2 * config.channels),
            hidden=tuple(config.hidden),
            kernel_size=3 if min(height, width) < 16 else 5,
            dropout=config.dropout,
        )
    multiple = 2**config.depth
    if height % multiple or width % multiple:
        raise UsageError(
            f"model: a U-Net of depth {config.depth} needs images whose sides are multiples of "
            f"{multiple}, and {spec.name!r} has {height}×{width}; choose --depth so that 2^depth "
            "divides both"
        )
    if spec.task == "per_element":
        out_channels = len(spec.target_names)
    elif spec.task == "multioutput_regression" and spec.n_outputs == height * width:
        out_channels = 1
    else:
        raise UsageError(f"model: 'unet' gives an output per pixel, not a {spec.task!r} output")
    return models.UNet(channels, out_channels, depth=config.depth, width=config.channels)


def _output_shape(kind: str, spec: DataSpec) -> tuple[int, ...]:
    """The shape of one example's output as the loss takes it (flat pixels for a U-Net)."""
    if kind == "cnn":
        return (spec.n_outputs,)
    if spec.task == "per_element":
        return (len(spec.target_names), spec.positions)
    return (spec.n_outputs,)


class FlatOutputs(nn.Module):
    """A network between flat rows and the loss: its input rows (N, D) read as
    ``input_shape`` (C, H, W) when given, its output reshaped to ``output_shape`` per example
    (C class scores at L positions for per-element tasks: (N, C, L))."""

    def __init__(self, body: nn.Module, input_shape, output_shape: tuple[int, ...]):
        super().__init__()
        self.body = body
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.output_shape = tuple(output_shape)

    def forward(self, x):
        if self.input_shape is not None:
            x = x.reshape(x.shape[0], *self.input_shape)
        return self.body(x).reshape(x.shape[0], *self.output_shape)


def build_optimizer(config: RunConfig, parameters: Iterable[nn.Parameter]) -> Optimizer:
    """The configured optimizer, with only the options that apply to it."""
    from aprende import optim

    common = {"lr": config.lr, "weight_decay": config.weight_decay}
    name = config.optimizer
    if name == "sgd":
        return optim.SGD(parameters, momentum=config.momentum, nesterov=config.nesterov, **common)
    if name == "adagrad":
        return optim.Adagrad(parameters, eps=_eps(config, 1e-10), **common)
    if name == "rmsprop":
        return optim.RMSprop(
            parameters, alpha=config.alpha, eps=config.eps, momentum=config.momentum, **common
        )
    adam_family = {
        "adam": optim.Adam,
        "adamw": optim.AdamW,
        "adamax": optim.Adamax,
        "nadam": optim.NAdam,
        "radam": optim.RAdam,
    }
    return adam_family[name](parameters, betas=tuple(config.betas), eps=config.eps, **common)


def _eps(config: RunConfig, default: float) -> float:
    """Adagrad's own default ε (1e-10) unless ``eps`` was changed from the common default."""
    return default if config.eps == settings_module.default_of("eps") else config.eps


def build_scheduler(config: RunConfig, optimizer: Optimizer) -> LRScheduler | None:
    """The configured learning-rate schedule (None for 'none')."""
    from aprende.optim import lr_scheduler

    if config.schedule == "step":
        return lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    if config.schedule == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=config.gamma, min_lr=config.min_lr)
    if config.schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs, eta_min=config.min_lr)
    if config.schedule == "plateau":
        return lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.factor, patience=config.lr_patience, min_lr=config.min_lr
        )
    return None


def check_device(device: str) -> None:
    """A ``UsageError`` when ``device`` is a GPU this machine does not have."""
    if device.startswith("cuda"):
        from aprende import backend

        if not backend.cuda_is_available():
            reason = backend.cuda_unavailable_reason() or "it needs CuPy and an NVIDIA GPU"
            raise UsageError(
                f"device: {device!r} is not available here ({reason}); use --device cpu"
            )


def model_outputs(model: nn.Module, X: np.ndarray, device: str) -> np.ndarray:
    """The model's raw outputs for X (eval mode, no graph), as a NumPy array."""
    from aprende import backend
    from aprende.training import predict

    return backend.to_numpy(predict(model, X, device=device).data)
