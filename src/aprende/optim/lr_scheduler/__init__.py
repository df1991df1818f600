"""Learning-rate schedules (``torch.optim.lr_scheduler``): change η as training goes on.

The course's "decaying learning rate": divide it by 2-10 when the validation loss stops
improving (``ReduceLROnPlateau``), decay it exponentially down to a minimum (``ExponentialLR``
with ``min_lr``), in steps (``StepLR``, ``MultiStepLR``), along a cosine
(``CosineAnnealingLR``, with warm restarts ``CosineAnnealingWarmRestarts``), by any rule
(``LambdaLR``), by a factor each epoch (``MultiplicativeLR``), along a polynomial
(``PolynomialLR``), with a constant or linear warm-up (``ConstantLR``, ``LinearLR``), up and
down between two bounds (``CyclicLR``), the 1cycle policy (``OneCycleLR``), one schedule after
another (``SequentialLR``), or several at once (``ChainedScheduler``).

As in PyTorch: call ``scheduler.step()`` after ``optimizer.step()``, once per epoch (or per
batch); constructing a scheduler performs an initial step that leaves the rate unchanged and
stores each group's starting rate in ``param_group["initial_lr"]``; the chainable schedules
update the current rate step by step, so several schedulers can act on one optimizer.
"""

from aprende.optim.lr_scheduler.cyclic import CyclicLR
from aprende.optim.lr_scheduler.decay import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    ReduceLROnPlateau,
    StepLR,
)
from aprende.optim.lr_scheduler.warmup import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingWarmRestarts,
    LinearLR,
    OneCycleLR,
    SequentialLR,
)

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
