"""Learning-rate schedules (``torch.optim.lr_scheduler``): change η as training goes on.

The course's "decaying learning rate": divide it by 2-10 when the validation loss stops
improving (``ReduceLROnPlateau``), decay it exponentially down to a minimum (``ExponentialLR``
with ``min_lr``), in steps (``StepLR``, ``MultiStepLR``), along a cosine
(``CosineAnnealingLR``, with warm restarts ``CosineAnnealingWarmRestarts``), by any rule
(``LambdaLR``), with a linear warm-up (``LinearLR``), the 1cycle policy (``OneCycleLR``), or one
schedule after another (``SequentialLR``).

As in PyTorch: call ``scheduler.step()`` after ``optimizer.step()``, once per epoch (or per
batch); constructing a scheduler performs an initial step that leaves the rate unchanged and
stores each group's starting rate in ``param_group["initial_lr"]``; the chainable schedules
update the current rate step by step, so several schedulers can act on one optimizer.
"""

from aprende.optim.lr_scheduler.decay import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)
from aprende.optim.lr_scheduler.warmup import (
    CosineAnnealingWarmRestarts,
    LinearLR,
    OneCycleLR,
    SequentialLR,
)

__all__ = [
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
