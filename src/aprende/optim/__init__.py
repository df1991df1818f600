"""Optimizers (``torch.optim``): gradient descent w ← w − η ∂J/∂w and its refinements.

``SGD`` (with momentum and Nesterov momentum), ``Adagrad``, ``RMSprop``, ``Adam`` and
``AdamW`` share the ``Optimizer`` base class; ``aprende.optim.lr_scheduler`` changes their
learning rate during training.
"""

from aprende.optim import lr_scheduler
from aprende.optim.adagrad import Adagrad
from aprende.optim.adam import Adam, AdamW
from aprende.optim.optimizer import Optimizer
from aprende.optim.rmsprop import RMSprop
from aprende.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
