"""Training: the fit loop, evaluation, checkpoints, callbacks and the LR range test."""

from aprende.training.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    load_weights,
    save_weights,
)
from aprende.training.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    load_state,
    save_checkpoint,
)
from aprende.training.history import History
from aprende.training.loop import (
    NonFiniteLossError,
    evaluate,
    fit,
    loader_on_device,
    predict,
    train_model,
)
from aprende.training.lr_finder import LRFinderResult, lr_find
