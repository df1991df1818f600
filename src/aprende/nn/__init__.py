"""Neural networks: modules, layers, activations, losses, initialisation, as ``torch.nn``.

``aprende.nn.functional`` (as ``F``) holds the stateless functions, ``aprende.nn.init`` the
initialisers, ``aprende.nn.utils`` gradient clipping and the L1 penalty, ``aprende.nn.utils.rnn``
padding and packing batches of sequences.
"""

from aprende.nn import functional, init, utils
from aprende.nn.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    Sign,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from aprende.nn.container import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from aprende.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from aprende.nn.dropout import Dropout, Dropout2d
from aprende.nn.embedding import Embedding
from aprende.nn.flatten import Flatten, Unflatten
from aprende.nn.linear import Linear
from aprende.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from aprende.nn.mlp import MLP
from aprende.nn.module import Module, Parameter
from aprende.nn.noise import GaussianNoise
from aprende.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from aprende.nn.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool2d,
)
from aprende.nn.recurrent import GRU, LSTM, RNN, RNNBase
from aprende.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from aprende.nn.upsampling import Upsample

__all__ = [
    "MLP",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GaussianNoise",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "MaxUnpool2d",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Sign",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "utils",
    "BatchNorm2d",
    "Dropout2d",
    "Unflatten",
    "Upsample",
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LogSigmoid",
    "Mish",
    "ReLU6",
    "SELU",
    "SiLU",
    "Softmin",
    "Softplus",
    "Softsign",
    "Embedding",
    "LayerNorm",
    "ModuleDict",
    "ParameterDict",
    "ParameterList",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
]
