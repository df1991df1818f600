"""Optimizers (``torch.optim``): gradient descent w ← w − η ∂J/∂w and its refinements.

``SGD`` (with momentum and Nesterov momentum), ``ASGD``, ``Rprop``, ``Adagrad``,
``Adadelta``, ``RMSprop``, ``Adam``, ``AdamW``, ``Adamax``, ``NAdam`` and ``RAdam`` share the
``Optimizer`` base class; ``aprende.optim.lr_scheduler`` changes their
learning rate during training.
"""

from aprende.optim import lr_scheduler
from aprende.optim.adadelta import Adadelta
from aprende.optim.adagrad import Adagrad
from aprende.optim.adam import Adam, AdamW
from aprende.optim.adamax import Adamax
from aprende.optim.asgd import ASGD
from aprende.optim.nadam import NAdam
from aprende.optim.optimizer import Optimizer
from aprende.optim.radam import RAdam
from aprende.optim.rmsprop import RMSprop
from aprende.optim.rprop import Rprop
from aprende.optim.sgd import SGD

__all__ = [
    "ASGD",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "lr_scheduler",
]
